/* test_ring.c - the SPSC ring: sizes, all-or-nothing reserve, FIFO order,
 * and free-running indices that wrap past 2^32. */
#include <errno.h>
#include <stdlib.h>

#include "ringlab/ring.h"
#include "unit.h"

static void ring_init_accepts_powers_of_two(void **state)
{
	static const uint32_t sizes[] = {1, 2, 4, 64, 1024, RL_RING_MAX};
	struct rl_ring r;
	struct rl_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		rl_err_clear(&err);
		assert_int_equal(rl_ring_init(&r, sizes[i], &err), 0);
		assert_int_equal(err.code, 0);
		assert_int_equal(r.size, sizes[i]);
		assert_int_equal(r.mask, sizes[i] - 1);
		assert_int_equal(r.prod, 0);
		assert_int_equal(r.cons, 0);
		assert_non_null(r.desc);
		assert_int_equal(rl_ring__pending(&r), 0);
		assert_int_equal(rl_ring__free(&r), sizes[i]);
		/* every slot is usable memory */
		rl_ring__desc(&r, sizes[i] - 1)->addr = 42;
		rl_ring_fini(&r);
		assert_null(r.desc);
		assert_int_equal(r.size, 0);
	}
}

static void ring_rejects_non_power_of_two(void **state)
{
	struct rl_ring r;
	struct rl_err err;

	(void)state;
	assert_int_equal(rl_ring_init(&r, 1000, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "ring size 1000 is not a power of two - try 1024");
	assert_null(r.desc);

	assert_int_equal(rl_ring_init(&r, 3, &err), -EINVAL);
	assert_contains(err.msg, "try 4");
	assert_int_equal(rl_ring_init(&r, 0, &err), -EINVAL);
	assert_contains(err.msg, "ring size 0");
	assert_int_equal(rl_ring_init(&r, RL_RING_MAX + 1, &err), -EINVAL);
	assert_contains(err.msg, "1048577");
	assert_int_equal(rl_ring_init(&r, RL_RING_MAX * 2, &err), -EINVAL);
	assert_contains(err.msg, "maximum");
	/* err may be NULL */
	assert_int_equal(rl_ring_init(&r, 6, NULL), -EINVAL);
}

static void ring_reserve_all_or_nothing(void **state)
{
	struct rl_ring r;
	uint32_t idx = 12345;

	(void)state;
	assert_int_equal(rl_ring_init(&r, 8, NULL), 0);
	assert_int_equal(rl_ring_prod__reserve(&r, 9, &idx), 0);
	assert_int_equal(idx, 12345); /* untouched on failure */
	assert_int_equal(rl_ring_prod__reserve(&r, 5, &idx), 5);
	assert_int_equal(idx, 0);
	rl_ring_prod__submit(&r, 5);
	assert_int_equal(rl_ring__pending(&r), 5);
	assert_int_equal(rl_ring__free(&r), 3);
	assert_int_equal(rl_ring_prod__reserve(&r, 4, &idx), 0);
	assert_int_equal(rl_ring_prod__reserve(&r, 3, &idx), 3);
	assert_int_equal(idx, 5);
	rl_ring_prod__submit(&r, 3);
	assert_int_equal(rl_ring__free(&r), 0);
	assert_int_equal(rl_ring_prod__reserve(&r, 1, &idx), 0);
	/* peek clamps to what is there */
	assert_int_equal(rl_ring_cons__peek(&r, 100, &idx), 8);
	assert_int_equal(idx, 0);
	rl_ring_cons__release(&r, 2);
	assert_int_equal(rl_ring__free(&r), 2);
	assert_int_equal(rl_ring_cons__peek(&r, 1, &idx), 1);
	assert_int_equal(idx, 2);
	rl_ring_fini(&r);
}

static void ring_peek_release_fifo_order(void **state)
{
	struct rl_ring r;
	uint32_t idx, n, next_in = 0, next_out = 0;
	uint64_t seed = 7;

	(void)state;
	assert_int_equal(rl_ring_init(&r, 16, NULL), 0);
	for (int round = 0; round < 2000; round++) {
		uint32_t want = (uint32_t)(rl_unit_rand(&seed) % 17);

		if (rl_ring_prod__reserve(&r, want, &idx) == want) {
			for (uint32_t i = 0; i < want; i++) {
				rl_ring__desc(&r, idx + i)->addr = next_in;
				rl_ring__desc(&r, idx + i)->len = next_in * 3;
				next_in++;
			}
			rl_ring_prod__submit(&r, want);
		}
		n = rl_ring_cons__peek(&r, (uint32_t)(rl_unit_rand(&seed) % 17), &idx);
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(rl_ring__desc(&r, idx + i)->addr, next_out);
			assert_int_equal(rl_ring__desc(&r, idx + i)->len, next_out * 3);
			next_out++;
		}
		rl_ring_cons__release(&r, n);
		assert_int_equal(rl_ring__pending(&r), next_in - next_out);
		assert_true(rl_ring__pending(&r) <= r.size);
	}
	assert_true(next_out > 1000);
	rl_ring_fini(&r);
}

static void ring_wraps_past_2_32(void **state)
{
	struct rl_ring r;
	uint32_t idx, n;
	uint64_t in = 0, out = 0;

	(void)state;
	assert_int_equal(rl_ring_init(&r, 4, NULL), 0);
	r.prod = r.cons = UINT32_MAX - 3;
	assert_int_equal(rl_ring__pending(&r), 0);
	assert_int_equal(rl_ring__free(&r), 4);
	for (int step = 0; step < 12; step++) {
		/* push 3, pop 2: pending grows to the size, then stays */
		if (rl_ring_prod__reserve(&r, 3, &idx) == 3) {
			for (uint32_t i = 0; i < 3; i++)
				rl_ring__desc(&r, idx + i)->addr = in++;
			rl_ring_prod__submit(&r, 3);
		}
		n = rl_ring_cons__peek(&r, 2, &idx);
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(rl_ring__desc(&r, idx + i)->addr, out++);
		rl_ring_cons__release(&r, n);
		assert_int_equal(rl_ring__pending(&r), in - out);
		assert_int_equal(rl_ring__free(&r), 4 - (in - out));
	}
	/* both indices went past 2^32 and wrapped to small numbers */
	assert_true(r.prod < 100);
	assert_true(r.cons < 100);
	assert_int_equal(r.prod, (uint32_t)(UINT32_MAX - 3 + in));
	/* drain across the wrap */
	n = rl_ring_cons__peek(&r, 4, &idx);
	assert_int_equal(n, in - out);
	rl_ring_cons__release(&r, n);
	assert_int_equal(rl_ring__pending(&r), 0);
	assert_int_equal(rl_ring__free(&r), 4);

	/* prod wrapped, cons not yet: the difference is still right */
	r.prod = 2;
	r.cons = UINT32_MAX - 1; /* 4 pending: MAX-1, MAX, 0, 1 */
	assert_int_equal(rl_ring__pending(&r), 4);
	assert_int_equal(rl_ring__free(&r), 0);
	assert_int_equal(rl_ring_prod__reserve(&r, 1, &idx), 0);
	assert_int_equal(rl_ring_cons__peek(&r, 8, &idx), 4);
	assert_int_equal(idx, UINT32_MAX - 1);
	assert_ptr_equal(rl_ring__desc(&r, idx), &r.desc[(UINT32_MAX - 1) & 3]);
	rl_ring_fini(&r);
}

static void ring_need_wakeup_flag(void **state)
{
	struct rl_ring r;

	(void)state;
	assert_int_equal(rl_ring_init(&r, 2, NULL), 0);
	assert_false(rl_ring__needs_wakeup(&r));
	r.flags |= RL_RING_NEED_WAKEUP;
	assert_true(rl_ring__needs_wakeup(&r));
	rl_ring_fini(&r);
}

static const struct CMUnitTest ring_tests[] = {
    cmocka_unit_test(ring_init_accepts_powers_of_two),
    cmocka_unit_test(ring_rejects_non_power_of_two),
    cmocka_unit_test(ring_reserve_all_or_nothing),
    cmocka_unit_test(ring_peek_release_fifo_order),
    cmocka_unit_test(ring_wraps_past_2_32),
    cmocka_unit_test(ring_need_wakeup_flag),
};

RL_UNIT_MAIN(ring_tests)
