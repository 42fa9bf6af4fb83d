/*
 * unit.h - what every ringlab unit test file shares.
 *
 * Each test file is one executable holding a cmocka group. Run without
 * arguments it runs every test; with a test name it runs only that test, so
 * ctest can register one test per behaviour. A name that matches nothing is
 * a failure, not a silent pass.
 */
#ifndef RINGLAB_UNIT_H
#define RINGLAB_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static inline int rl_unit_main(const char *group, const struct CMUnitTest *t, size_t n,
                               int argc, char **argv)
{
	if (argc > 1) {
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(t[i].name, argv[1]) == 0)
				break;
		if (i == n) {
			fprintf(stderr, "%s: no test named '%s'\n", group, argv[1]);
			return 2;
		}
		cmocka_set_test_filter(argv[1]);
	}
	return _cmocka_run_group_tests(group, t, n, NULL, NULL);
}

#define RL_UNIT_MAIN(tests)                                                              \
	int main(int argc, char **argv)                                                  \
	{                                                                                \
		return rl_unit_main(#tests, tests, sizeof(tests) / sizeof(tests[0]),     \
		                    argc, argv);                                         \
	}

/* A substring check with a readable failure. */
#define assert_contains(hay, needle)                                                     \
	do {                                                                             \
		if (!strstr((hay), (needle)))                                            \
			fail_msg("'%s' does not contain '%s'", (hay), (needle));         \
	} while (0)

/* Small deterministic PRNG (xorshift64*), so failures reproduce. */
static inline uint64_t rl_unit_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

#endif
