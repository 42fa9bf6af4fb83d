/*
 * dpdk_test.h - what the DPDK engine tests share.
 *
 * The tests load the engine the way the shell does: dlopen the built
 * ringlab-engine-dpdk.so (its path is compiled in as RINGLAB_DPDK_ENGINE),
 * ask it for its ops table and for the ringlab_dpdk_ext table, and drive
 * it through them. Each ctest is its own process, so each starts its own
 * EAL with its own --file-prefix (ringlab-<pid>): the tests run in
 * parallel. Run without arguments the file runs every test in one process;
 * with a test name, only that one.
 */
#ifndef RINGLAB_DPDK_TEST_H
#define RINGLAB_DPDK_TEST_H

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <ringlab/engine.h>

#include "dpdk_ext.h"

struct dt {
	const struct rl_engine_ops *ops;
	const struct ringlab_dpdk_ext *ext;
	struct rl_engine *e;
	struct rl_region *r;
	struct rl_err err;
};

static inline void dt_load(struct dt *t)
{
	static void *h;
	rl_engine_entry_fn fn;
	rl_dpdk_ext_fn xfn;

	memset(t, 0, sizeof(*t));
	if (!h)
		h = dlopen(RINGLAB_DPDK_ENGINE, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fail_msg("cannot load %s: %s", RINGLAB_DPDK_ENGINE, dlerror());
	fn = (rl_engine_entry_fn)dlsym(h, RL_ENGINE_SYMBOL);
	xfn = (rl_dpdk_ext_fn)dlsym(h, RINGLAB_DPDK_EXT_SYMBOL);
	assert_non_null(fn);
	assert_non_null(xfn);
	t->ops = fn();
	t->ext = xfn();
	assert_int_equal(t->ops->abi, RL_ENGINE_ABI);
	assert_int_equal(t->ext->abi, RINGLAB_DPDK_EXT_ABI);
}

/* Open with one vdev (and log=emergency: the tests print their own). */
static inline int dt_open(struct dt *t, const char *vdev)
{
	struct rl_kv kv[] = {{"vdev", vdev}, {"log", "emergency"}};
	struct rl_open_args a = {.kv = kv, .nkv = 2};

	return t->ops->open(&t->e, &a, &t->err);
}

/* Open with vdev= and more options (NULL-terminated key, value pairs). */
static inline int dt_open_with(struct dt *t, const char *vdev, const char *const *kv)
{
	struct rl_kv a[12] = {{"vdev", vdev}, {"log", "emergency"}};
	struct rl_open_args args = {.kv = a, .nkv = 2};

	for (; kv && kv[0] && args.nkv < 12; kv += 2)
		a[args.nkv++] = (struct rl_kv){kv[0], kv[1]};
	return t->ops->open(&t->e, &args, &t->err);
}

/* Open wired back to back with another dpdk engine (peer=). */
static inline int dt_open_peer(struct dt *t, struct dt *peer)
{
	struct rl_kv kv[] = {{"log", "emergency"}};
	struct rl_open_args a = {.kv = kv, .nkv = 1, .peer = peer->e, .peer_ops = peer->ops};

	return t->ops->open(&t->e, &a, &t->err);
}

static inline void dt_region(struct dt *t, uint32_t frames, uint32_t frame_size)
{
	struct rl_region_params p = {frames, frame_size, 256};

	if (t->ops->region(t->e, &p, &t->r, &t->err) < 0)
		fail_msg("region: %s", t->err.msg);
}

/* Owners sum to frames, and the region's own recount agrees. */
static inline void dt_conserved(struct dt *t)
{
	uint32_t sum = 0;

	for (int o = 0; o < RL_OWN_COUNT; o++)
		sum += t->r->count[o];
	assert_int_equal(sum, t->r->frames);
	if (rl_region_check(t->r, &t->err) < 0)
		fail_msg("conservation: %s", t->err.msg);
}

static inline uint32_t dt_owned(struct dt *t, enum rl_owner o)
{
	return t->r->count[o];
}

static inline uint64_t dt_take(struct dt *t)
{
	uint64_t addr;

	if (rl_region_take(t->r, &addr, &t->err) < 0)
		fail_msg("take: %s", t->err.msg);
	return addr;
}

static inline uint64_t dt_extra(struct dt *t, const char *name)
{
	struct rl_stats s;

	t->ops->stats(t->e, &s);
	for (unsigned i = 0; i < s.nextra; i++)
		if (strcmp(s.extra[i].name, name) == 0)
			return s.extra[i].value;
	fail_msg("no counter %s", name);
	return 0;
}

static inline void dt_close(struct dt *t)
{
	if (t->e)
		t->ops->close(t->e);
	t->e = NULL;
}

#define assert_contains(hay, needle)                                                     \
	do {                                                                             \
		if (!strstr((hay), (needle)))                                            \
			fail_msg("'%s' does not contain '%s'", (hay), (needle));         \
	} while (0)

static inline int dt_main(const char *group, const struct CMUnitTest *t, size_t n,
			  int argc, char **argv)
{
	if (argc > 1) {
		size_t i;

		for (i = 0; i < n && strcmp(t[i].name, argv[1]); i++)
			;
		if (i == n) {
			fprintf(stderr, "%s: no test named '%s'\n", group, argv[1]);
			return 2;
		}
		cmocka_set_test_filter(argv[1]);
	}
	return _cmocka_run_group_tests(group, t, n, NULL, NULL);
}

#endif
