/* test_region.c - frames, owners and the conservation invariant. */
#include <errno.h>
#include <stdlib.h>

#include "ringlab/region.h"
#include "unit.h"

static const struct rl_region_params small = {
    .frames = 64, .frame_size = 2048, .headroom = 256};

static void region_setup(struct rl_region *r, const struct rl_region_params *p)
{
	struct rl_err err;

	rl_err_clear(&err);
	if (rl_region_init(r, p, NULL, &err) != 0)
		fail_msg("rl_region_init: %s", err.msg);
}

static void assert_region_ok(const struct rl_region *r)
{
	struct rl_err err;

	rl_err_clear(&err);
	if (rl_region_check(r, &err) != 0)
		fail_msg("rl_region_check: %s", err.msg);
}

/* Take one free frame; return its number. */
static uint32_t take_frame(struct rl_region *r)
{
	uint64_t addr = UINT64_MAX;

	assert_int_equal(rl_region_take(r, &addr, NULL), 0);
	assert_int_equal(addr % r->frame_size, 0);
	return rl_region_frame(r, addr);
}

static void region_params_rejects_bad_values(void **state)
{
	struct rl_region_params p;
	struct rl_region r;
	struct rl_err err;

	(void)state;
	assert_int_equal(rl_region_params_check(&small, &err), 0);

	p = small;
	p.frames = 0;
	assert_int_equal(rl_region_params_check(&p, &err), -EINVAL);
	assert_contains(err.msg, "frames=0");
	assert_contains(err.msg, "1048576");
	p.frames = RL_REGION_MAX_FRAMES + 1;
	assert_int_equal(rl_region_params_check(&p, &err), -EINVAL);
	assert_contains(err.msg, "frames=1048577");

	p = small;
	p.frame_size = 1000;
	assert_int_equal(rl_region_params_check(&p, &err), -EINVAL);
	assert_contains(err.msg, "frame_size=1000");
	assert_contains(err.msg, "power of two");
	p.frame_size = 256;
	assert_int_equal(rl_region_params_check(&p, &err), -EINVAL);
	assert_contains(err.msg, "frame_size=256");
	p.frame_size = 131072;
	assert_int_equal(rl_region_params_check(&p, &err), -EINVAL);
	assert_contains(err.msg, "65536");

	p = small;
	p.headroom = 2048 - 128;
	assert_int_equal(rl_region_params_check(&p, &err), -EINVAL);
	assert_contains(err.msg, "headroom=1920");
	assert_contains(err.msg, "below 1920");
	p.headroom = 2048 - 129;
	assert_int_equal(rl_region_params_check(&p, &err), 0);

	/* init refuses too, and leaves nothing behind */
	p.frame_size = 3000;
	assert_int_equal(rl_region_init(&r, &p, NULL, &err), -EINVAL);
	assert_null(r.base);
	assert_null(r.owner);
	rl_region_fini(&r); /* harmless */
}

static void region_init_allocates_page_aligned(void **state)
{
	struct rl_region r;

	(void)state;
	region_setup(&r, &small);
	assert_true(r.own_memory);
	assert_non_null(r.base);
	assert_int_equal((uintptr_t)r.base % 4096, 0);
	assert_int_equal(r.size, 64 * 2048);
	assert_int_equal(r.frame_shift, 11);
	assert_int_equal(r.headroom, 256);
	assert_int_equal(r.count[RL_OWN_APP], 64);
	assert_int_equal(r.nfree, 64);
	for (uint32_t f = 0; f < r.frames; f++) {
		assert_int_equal(rl_region_owner(&r, f), RL_OWN_APP);
		assert_true(rl_region_is_free(&r, f));
		assert_int_equal(r.pins[f], 0);
	}
	memset(r.base, 0xab, r.size); /* all of it is ours */
	assert_int_equal(*(uint8_t *)rl_region_ptr(&r, r.size - 1), 0xab);
	assert_int_equal(rl_region_frame(&r, 4096 + 5), 2);
	assert_int_equal(rl_region_frame_addr(&r, 3), 6144);
	assert_region_ok(&r);
	rl_region_fini(&r);
	assert_null(r.base);
}

static void region_init_over_caller_memory(void **state)
{
	struct rl_region_params p = {.frames = 8, .frame_size = 4096, .headroom = 0};
	uint8_t *mem = calloc(8, 4096);
	struct rl_region r;

	(void)state;
	assert_non_null(mem);
	assert_int_equal(rl_region_init(&r, &p, mem, NULL), 0);
	assert_false(r.own_memory);
	assert_ptr_equal(r.base, mem);
	assert_ptr_equal(rl_region_ptr(&r, 4096), mem + 4096);
	assert_int_equal(r.frame_shift, 12);
	assert_region_ok(&r);
	rl_region_fini(&r);
	mem[0] = 1; /* still the caller's */
	free(mem);
}

static void region_take_hands_out_each_frame_once(void **state)
{
	struct rl_region r;
	struct rl_err err;
	bool seen[64] = {false};
	uint64_t addr;

	(void)state;
	region_setup(&r, &small);
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t f = take_frame(&r);

		assert_int_equal(f, i); /* frames come out in order */
		assert_false(seen[f]);
		seen[f] = true;
		assert_false(rl_region_is_free(&r, f));
		assert_int_equal(rl_region_owner(&r, f), RL_OWN_APP);
		assert_int_equal(r.nfree, 63 - i);
	}
	assert_int_equal(rl_region_take(&r, &addr, &err), -ENOBUFS);
	assert_int_equal(err.code, ENOBUFS);
	assert_contains(err.msg, "no free frame");
	assert_int_equal(r.count[RL_OWN_APP], 64);
	assert_region_ok(&r);
	for (uint32_t f = 0; f < 64; f++)
		assert_int_equal(rl_region_release(&r, f, NULL), 0);
	assert_int_equal(r.nfree, 64);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_walks_frame_through_all_owners(void **state)
{
	struct rl_region r;
	uint32_t f;

	(void)state;
	region_setup(&r, &small);
	f = take_frame(&r);
	/* receive: app -> fill -> nic -> rx -> app */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_APP, RL_OWN_FILL, NULL), 0);
	assert_int_equal(r.count[RL_OWN_FILL], 1);
	assert_int_equal(r.count[RL_OWN_APP], 63);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_FILL, RL_OWN_NIC, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_NIC, RL_OWN_RX, NULL), 0);
	assert_int_equal(r.count[RL_OWN_RX], 1);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_RX);
	assert_region_ok(&r);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_RX, RL_OWN_APP, NULL), 0);
	assert_false(rl_region_is_free(&r, f)); /* held, not pooled */
	/* transmit: app -> tx -> nic -> comp -> app -> pool */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_APP, RL_OWN_TX, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_NIC, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_NIC, RL_OWN_COMP, NULL), 0);
	assert_int_equal(r.count[RL_OWN_COMP], 1);
	assert_region_ok(&r);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_COMP, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_release(&r, f, NULL), 0);
	assert_true(rl_region_is_free(&r, f));
	assert_int_equal(r.count[RL_OWN_APP], 64);
	assert_int_equal(r.nfree, 64);
	for (int o = 1; o < RL_OWN_COUNT; o++)
		assert_int_equal(r.count[o], 0);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void snapshot(const struct rl_region *r, uint32_t count[RL_OWN_COUNT],
                     uint32_t *nfree)
{
	memcpy(count, r->count, sizeof(r->count));
	*nfree = r->nfree;
}

static void region_rejects_move_from_wrong_owner(void **state)
{
	struct rl_region r;
	struct rl_err err;
	uint32_t count[RL_OWN_COUNT], nfree;

	(void)state;
	region_setup(&r, &small);
	for (int i = 0; i <= 7; i++)
		take_frame(&r);
	assert_int_equal(rl_region_move(&r, 7, RL_OWN_APP, RL_OWN_TX, NULL), 0);
	snapshot(&r, count, &nfree);

	assert_int_equal(rl_region_move(&r, 7, RL_OWN_APP, RL_OWN_TX, &err), -EPERM);
	assert_int_equal(err.code, EPERM);
	assert_string_equal(err.msg,
	                    "frame 7 is owned by tx, not app - wait for its completion "
	                    "(complete, or e:complete()) before reusing it");
	assert_int_equal(rl_region_move(&r, 7, RL_OWN_COMP, RL_OWN_APP, &err), -EPERM);
	assert_contains(err.msg, "owned by tx, not comp");
	assert_int_equal(rl_region_move(&r, 6, RL_OWN_RX, RL_OWN_APP, &err), -EPERM);
	assert_contains(err.msg, "frame 6 is owned by app, not rx");
	/* nothing changed */
	assert_int_equal(rl_region_owner(&r, 7), RL_OWN_TX);
	assert_int_equal(rl_region_owner(&r, 6), RL_OWN_APP);
	assert_memory_equal(count, r.count, sizeof(count));
	assert_int_equal(nfree, r.nfree);
	/* bad owners and frames are refused too */
	assert_int_equal(rl_region_move(&r, 7, RL_OWN_TX, RL_OWN_COUNT, &err), -EINVAL);
	assert_int_equal(rl_region_move(&r, 7, (enum rl_owner)99, RL_OWN_APP, &err),
	                 -EINVAL);
	assert_int_equal(rl_region_move(&r, 64, RL_OWN_APP, RL_OWN_TX, &err), -ERANGE);
	assert_contains(err.msg, "frame 64 does not exist");
	assert_int_equal(rl_region_owner(&r, 7), RL_OWN_TX);
	assert_memory_equal(count, r.count, sizeof(count));
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_rejects_move_of_free_frame(void **state)
{
	struct rl_region r;
	struct rl_err err;

	(void)state;
	region_setup(&r, &small);
	assert_int_equal(rl_region_move(&r, 7, RL_OWN_APP, RL_OWN_FILL, &err), -EPERM);
	assert_string_equal(err.msg, "frame 7 is free in the pool; take it first");
	assert_true(rl_region_is_free(&r, 7));
	assert_int_equal(r.count[RL_OWN_FILL], 0);
	assert_int_equal(r.nfree, 64);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_release_rejects_double_and_foreign(void **state)
{
	struct rl_region r;
	struct rl_err err;
	uint32_t f, g;

	(void)state;
	region_setup(&r, &small);
	f = take_frame(&r);
	g = take_frame(&r);
	assert_int_equal(rl_region_release(&r, f, &err), 0);
	assert_int_equal(rl_region_release(&r, f, &err), -EPERM);
	assert_contains(err.msg, "already free");
	assert_int_equal(rl_region_move(&r, g, RL_OWN_APP, RL_OWN_FILL, NULL), 0);
	assert_int_equal(rl_region_release(&r, g, &err), -EPERM);
	assert_contains(err.msg, "owned by fill, not app");
	assert_int_equal(rl_region_release(&r, 1000, &err), -ERANGE);
	assert_int_equal(r.nfree, 63);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_alloc_spans_contiguous_frames(void **state)
{
	struct rl_region r;
	uint64_t addr, addr2;
	uint32_t first, n;

	(void)state;
	region_setup(&r, &small);
	/* 5000 bytes after 256 of headroom: 5256 bytes, 3 frames of 2048 */
	assert_int_equal(rl_region_alloc(&r, 5000, &addr, NULL), 0);
	assert_int_equal(addr % 2048, 256);
	rl_region_span_frames(&r, addr, 5000, &first, &n);
	assert_int_equal(first, rl_region_frame(&r, addr));
	assert_int_equal(n, 3);
	for (uint32_t f = first; f < first + n; f++) {
		assert_int_equal(rl_region_owner(&r, f), RL_OWN_APP);
		assert_false(rl_region_is_free(&r, f));
		assert_int_equal(r.pins[f], 1);
	}
	assert_int_equal(r.nfree, 61);
	memset(rl_region_ptr(&r, addr), 0x5a, 5000); /* contiguous memory */
	assert_int_equal(rl_region_check_span(&r, addr, 5000, NULL), 0);
	assert_region_ok(&r);

	/* exactly the rest of the first frame: one frame */
	assert_int_equal(rl_region_alloc(&r, 2048 - 256, &addr2, NULL), 0);
	rl_region_span_frames(&r, addr2, 2048 - 256, &first, &n);
	assert_int_equal(n, 1);
	/* one byte more: two */
	assert_int_equal(rl_region_alloc(&r, 2048 - 255, &addr2, NULL), 0);
	rl_region_span_frames(&r, addr2, 2048 - 255, &first, &n);
	assert_int_equal(n, 2);
	/* zero bytes still get a frame */
	assert_int_equal(rl_region_alloc(&r, 0, &addr2, NULL), 0);
	rl_region_span_frames(&r, addr2, 0, &first, &n);
	assert_int_equal(n, 1);
	assert_false(rl_region_is_free(&r, first));
	assert_int_equal(r.nfree, 64 - 3 - 1 - 2 - 1);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_alloc_skips_fragmented_pool(void **state)
{
	struct rl_region r;
	struct rl_err err;
	uint64_t addr;

	(void)state;
	region_setup(&r, &small);
	/* hold every even frame: no two free frames are adjacent */
	for (uint32_t f = 0; f < 64; f++)
		take_frame(&r);
	for (uint32_t f = 1; f < 64; f += 2)
		assert_int_equal(rl_region_release(&r, f, NULL), 0);
	assert_int_equal(rl_region_alloc(&r, 2000, &addr, &err), -ENOBUFS);
	assert_contains(err.msg, "no run of 2 contiguous free frames");
	assert_int_equal(r.nfree, 32);
	/* one frame is fine */
	assert_int_equal(rl_region_alloc(&r, 100, &addr, NULL), 0);
	assert_int_equal(rl_region_frame(&r, addr) % 2, 1);
	/* releasing 40 and 42 joins the odd frames around them: 39..43 is
	 * the first run of 5 free frames */
	assert_int_equal(rl_region_release(&r, 40, NULL), 0);
	assert_int_equal(rl_region_release(&r, 42, NULL), 0);
	assert_int_equal(rl_region_alloc(&r, 4 * 2048, &addr, NULL), 0);
	assert_int_equal(rl_region_frame(&r, addr), 39); /* 5 frames: 39..43 */
	assert_int_equal(addr, 39 * 2048 + 256);
	/* the whole region cannot be had in one piece now, nor more than it */
	assert_int_equal(rl_region_alloc(&r, 64 * 2048, &addr, &err), -ENOBUFS);
	assert_contains(err.msg, "region has 64");
	assert_int_equal(rl_region_alloc(&r, UINT64_MAX, &addr, &err), -ENOBUFS);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_unpin_returns_frames_to_pool(void **state)
{
	struct rl_region r;
	uint64_t addr;
	uint32_t first, n;

	(void)state;
	region_setup(&r, &small);
	assert_int_equal(rl_region_alloc(&r, 3000, &addr, NULL), 0);
	rl_region_span_frames(&r, addr, 3000, &first, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r.nfree, 62);
	/* a pinned frame released by someone stays held by its buffer */
	assert_int_equal(rl_region_release(&r, first, NULL), 0);
	assert_false(rl_region_is_free(&r, first));
	rl_region_unpin(&r, addr, 3000);
	assert_int_equal(r.nfree, 64);
	for (uint32_t f = first; f < first + n; f++) {
		assert_true(rl_region_is_free(&r, f));
		assert_int_equal(r.pins[f], 0);
	}
	/* unpinning again, or outside the region, does nothing */
	rl_region_unpin(&r, addr, 3000);
	rl_region_unpin(&r, r.size + 10, 5);
	rl_region_unpin(&r, r.size - 1, UINT64_MAX);
	assert_int_equal(r.nfree, 64);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_pinned_frame_stays_held_after_completion(void **state)
{
	struct rl_region r;
	uint64_t addr;
	uint32_t f;

	(void)state;
	region_setup(&r, &small);
	assert_int_equal(rl_region_alloc(&r, 1000, &addr, NULL), 0);
	f = rl_region_frame(&r, addr);
	/* sent, completed and released: still the buffer's */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_APP, RL_OWN_TX, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_COMP, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_COMP, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_release(&r, f, NULL), 0);
	assert_false(rl_region_is_free(&r, f));
	assert_int_equal(r.pins[f], 1);
	/* sent again, and the buffer is dropped while it is in flight */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_APP, RL_OWN_TX, NULL), 0);
	rl_region_unpin(&r, addr, 1000);
	assert_int_equal(r.pins[f], 0);
	assert_false(rl_region_is_free(&r, f)); /* in flight: not in the pool */
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_TX);
	assert_region_ok(&r);
	/* its completion brings it back to the pool */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_COMP, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_COMP, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_release(&r, f, NULL), 0);
	assert_true(rl_region_is_free(&r, f));
	assert_int_equal(r.nfree, 64);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

/* ---- a frame in several descriptors ---------------------------------------- */

static void assert_refs(const struct rl_region *r, uint32_t f, unsigned tx, unsigned nic,
                        unsigned comp)
{
	const struct rl_frame_refs *x = &r->refs[f];

	assert_int_equal(x->tx, tx);
	assert_int_equal(x->nic, nic);
	assert_int_equal(x->comp, comp);
	assert_int_equal(x->sum, tx + nic + comp);
}

/* Three descriptors in one frame, each walking tx -> nic -> comp -> app at
 * its own pace: the owner is always where the least advanced one is, the
 * frame is counted once, conservation and rl_region_check hold after every
 * step, and the frame goes back to the pool only with the last completion. */
static void region_shared_frame_counts_each_descriptor(void **state)
{
	struct rl_region r;
	uint32_t f;

	(void)state;
	region_setup(&r, &small);
	f = take_frame(&r);
	assert_int_equal(rl_region_ref(&r, f, NULL), 0); /* first: app -> tx */
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_TX);
	assert_int_equal(rl_region_refs(&r, f), 1);
	assert_refs(&r, f, 0, 0, 0); /* one reference needs no count */
	assert_int_equal(r.nshared, 0);
	assert_region_ok(&r);
	/* the first goes into the NIC, a second joins on the tx ring */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_NIC, NULL), 0);
	assert_int_equal(rl_region_ref(&r, f, NULL), 0);
	assert_refs(&r, f, 1, 1, 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_TX);
	assert_int_equal(r.count[RL_OWN_TX], 1);
	assert_int_equal(r.count[RL_OWN_NIC], 0);
	assert_int_equal(r.nshared, 1);
	assert_int_equal(r.shared_refs, 2);
	assert_region_ok(&r);
	assert_int_equal(rl_region_ref(&r, f, NULL), 0); /* a third */
	assert_refs(&r, f, 2, 1, 0);
	assert_int_equal(rl_region_refs(&r, f), 3);
	assert_region_ok(&r);
	/* the NIC's one completes: still tx (two wait there) */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_NIC, RL_OWN_COMP, NULL), 0);
	assert_refs(&r, f, 2, 0, 1);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_TX);
	assert_region_ok(&r);
	/* the program reaps it: one descriptor fewer, the frame stays out */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_COMP, RL_OWN_APP, NULL), 0);
	assert_refs(&r, f, 2, 0, 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_TX);
	assert_int_equal(rl_region_release(&r, f, NULL), -EPERM); /* not yet */
	assert_false(rl_region_is_free(&r, f));
	assert_region_ok(&r);
	/* both go into the NIC: owner nic */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_NIC, NULL), 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_TX);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_NIC, NULL), 0);
	assert_refs(&r, f, 0, 2, 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_NIC);
	assert_int_equal(r.count[RL_OWN_NIC], 1);
	assert_region_ok(&r);
	/* one completes: nic while the other is inside */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_NIC, RL_OWN_COMP, NULL), 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_NIC);
	assert_region_ok(&r);
	/* the other completes too: comp */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_NIC, RL_OWN_COMP, NULL), 0);
	assert_refs(&r, f, 0, 0, 2);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_COMP);
	assert_region_ok(&r);
	/* one reaped: one left, the count goes, owner comp as a plain frame */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_COMP, RL_OWN_APP, NULL), 0);
	assert_refs(&r, f, 0, 0, 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_COMP);
	assert_int_equal(r.nshared, 0);
	assert_int_equal(r.shared_refs, 0);
	assert_region_ok(&r);
	/* the last: back to the program, and to the pool */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_COMP, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_APP);
	assert_int_equal(rl_region_release(&r, f, NULL), 0);
	assert_true(rl_region_is_free(&r, f));
	assert_int_equal(r.count[RL_OWN_APP], 64);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

/* What may not get a reference, and moves a shared frame cannot make. */
static void region_ref_refusals(void **state)
{
	struct rl_region r;
	struct rl_err err;
	uint32_t f, g;

	(void)state;
	region_setup(&r, &small);
	assert_int_equal(rl_region_ref(&r, 5, &err), -EPERM);
	assert_contains(err.msg, "free in the pool");
	assert_int_equal(rl_region_ref(&r, 64, &err), -ERANGE);
	g = take_frame(&r);
	assert_int_equal(rl_region_move(&r, g, RL_OWN_APP, RL_OWN_FILL, NULL), 0);
	assert_int_equal(rl_region_ref(&r, g, &err), -EPERM);
	assert_contains(err.msg, "owned by fill");
	assert_int_equal(rl_region_move(&r, g, RL_OWN_FILL, RL_OWN_NIC, NULL), 0);
	assert_int_equal(rl_region_move(&r, g, RL_OWN_NIC, RL_OWN_RX, NULL), 0);
	assert_int_equal(rl_region_ref(&r, g, &err), -EPERM);
	assert_contains(err.msg, "receive it first");
	/* a plain move never shares: a frame on its way is not app's */
	f = take_frame(&r);
	assert_int_equal(rl_region_ref(&r, f, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_APP, RL_OWN_TX, &err), -EPERM);
	assert_contains(err.msg, "owned by tx, not app");
	assert_int_equal(rl_region_ref(&r, f, NULL), 0);
	/* a reference never goes back a stage, nor from where none is */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_NIC, RL_OWN_COMP, &err), -EPERM);
	assert_contains(err.msg, "none is nic");
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_RX, &err), -EPERM);
	assert_contains(err.msg, "cannot go tx -> rx");
	assert_refs(&r, f, 2, 0, 0);
	/* past the limit */
	r.refs[f].tx = r.refs[f].sum = RL_REFS_MAX;
	r.shared_refs = RL_REFS_MAX;
	assert_int_equal(rl_region_ref(&r, f, &err), -EMLINK);
	assert_contains(err.msg, "already in 65535 descriptors");
	r.refs[f].tx = r.refs[f].sum = 2;
	r.shared_refs = 2;
	/* a tx that failed takes its references back: app, held */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_owner(&r, f), RL_OWN_APP);
	assert_false(rl_region_is_free(&r, f));
	assert_region_ok(&r);
	rl_region_fini(&r);
}

/* rl_region_check catches every kind of wrong count. */
static void region_check_catches_wrong_ref_count(void **state)
{
	struct rl_region r;
	struct rl_err err;
	uint32_t f, g;

	(void)state;
	region_setup(&r, &small);
	f = take_frame(&r);
	g = take_frame(&r);
	assert_int_equal(rl_region_ref(&r, f, NULL), 0);
	assert_int_equal(rl_region_ref(&r, f, NULL), 0);
	assert_region_ok(&r);

	r.refs[f].tx++; /* a part that does not add up */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "counts 2 descriptors but tx 3");
	r.refs[f].sum++; /* adds up, but the region's total does not */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "shared by 3 descriptors but the region says 1 by 2");
	r.refs[f].tx--;
	r.refs[f].sum--;
	assert_region_ok(&r);

	r.refs[g] = (struct rl_frame_refs){.tx = 1, .nic = 1, .sum = 2}; /* a held frame */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "owned by app but counts 2 descriptors");
	r.refs[g] = (struct rl_frame_refs){0};

	r.refs[f] = (struct rl_frame_refs){.nic = 2, .sum = 2}; /* owner tx */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "owned by tx but its least advanced descriptor is in nic");
	r.refs[f] = (struct rl_frame_refs){.tx = 1, .sum = 1};
	r.shared_refs = 1;
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "counts 1 descriptor - a count is kept from two on");
	r.refs[f] = (struct rl_frame_refs){.tx = 2, .sum = 2};
	r.shared_refs = 2;
	assert_region_ok(&r);
	rl_region_fini(&r);
}

/* Random references and moves against a model of every frame's
 * descriptors by stage: each result as the model says, the owner where the
 * least advanced descriptor is, rl_region_check after every operation. */
static void region_shared_conservation_after_random_steps(void **state)
{
	struct rl_region r;
	unsigned st[64][3] = {{0}}; /* descriptors on tx, nic, comp */
	bool held[64] = {false};
	static const enum rl_owner stage_owner[4] = {RL_OWN_TX, RL_OWN_NIC, RL_OWN_COMP,
	                                             RL_OWN_APP};
	uint64_t seed = 7;
	unsigned shared_seen = 0;

	(void)state;
	region_setup(&r, &small);
	for (int i = 0; i < 20000; i++) {
		uint32_t f = (uint32_t)(rl_unit_rand(&seed) % 64);
		unsigned op = (unsigned)(rl_unit_rand(&seed) % 4), total;
		unsigned a = (unsigned)(rl_unit_rand(&seed) % 3), b = a + 1;
		enum rl_owner want;
		uint64_t addr;
		int rc;

		total = st[f][0] + st[f][1] + st[f][2];
		if (op == 0) { /* take a frame */
			if (rl_region_take(&r, &addr, NULL) == 0)
				held[rl_region_frame(&r, addr)] = true;
		} else if (op == 1) { /* one more descriptor */
			rc = rl_region_ref(&r, f, NULL);
			assert_int_equal(rc, held[f] || total ? 0 : -EPERM);
			if (!rc)
				st[f][0]++;
		} else if (op == 2) { /* a descriptor one stage on, or done */
			rc = rl_region_move(&r, f, stage_owner[a], stage_owner[b], NULL);
			assert_int_equal(rc, st[f][a] ? 0 : -EPERM);
			if (!rc) {
				st[f][a]--;
				if (b < 3)
					st[f][b]++;
			}
		} else if (total == 0 && held[f]) { /* give it back */
			assert_int_equal(rl_region_release(&r, f, NULL), 0);
			held[f] = false;
		}
		total = st[f][0] + st[f][1] + st[f][2];
		want = st[f][0] ? RL_OWN_TX : st[f][1] ? RL_OWN_NIC
		     : st[f][2] ? RL_OWN_COMP : RL_OWN_APP;
		assert_int_equal(rl_region_owner(&r, f), want);
		assert_int_equal(rl_region_refs(&r, f), total);
		shared_seen += total > 1;
		if (i % 16 == 0 || total > 1)
			assert_region_ok(&r);
	}
	assert_true(shared_seen > 1000);
	assert_region_ok(&r);
	rl_region_fini(&r);
}

static void region_check_span_and_desc(void **state)
{
	struct rl_region r;
	struct rl_err err;

	(void)state;
	region_setup(&r, &small);
	assert_int_equal(rl_region_check_span(&r, 0, r.size, NULL), 0);
	assert_int_equal(rl_region_check_span(&r, r.size, 0, NULL), 0);
	assert_int_equal(rl_region_check_span(&r, r.size - 1, 2, &err), -ERANGE);
	assert_contains(err.msg, "past the end");
	assert_int_equal(rl_region_check_span(&r, 8, UINT64_MAX, &err), -ERANGE);
	assert_int_equal(rl_region_check_span(&r, UINT64_MAX, 1, &err), -ERANGE);

	assert_int_equal(rl_region_check_desc(&r, 2048, 2048, NULL), 0);
	assert_int_equal(rl_region_check_desc(&r, 2048 + 256, 1792, NULL), 0);
	assert_int_equal(rl_region_check_desc(&r, 2048 + 256, 0, NULL), 0);
	assert_int_equal(rl_region_check_desc(&r, 2048 + 256, 1793, &err), -EINVAL);
	assert_contains(err.msg, "crosses from frame 1 into frame 2");
	assert_contains(err.msg, "RL_DESC_CONTD");
	assert_int_equal(rl_region_check_desc(&r, r.size, 0, &err), -ERANGE);
	assert_int_equal(rl_region_check_desc(&r, r.size - 10, 11, &err), -ERANGE);
	assert_int_equal(rl_region_check_desc(&r, UINT64_MAX - 4, 8, &err), -ERANGE);
	rl_region_fini(&r);
}

static void region_check_detects_corruption(void **state)
{
	struct rl_region r;
	struct rl_err err;
	uint32_t f;

	(void)state;
	region_setup(&r, &small);
	f = take_frame(&r);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_APP, RL_OWN_TX, NULL), 0);
	assert_region_ok(&r);

	r.count[RL_OWN_TX]++; /* a frame appears from nowhere */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "sum to 65");
	r.count[RL_OWN_TX]--;

	r.owner[f] = RL_OWN_RX; /* owner changed behind the counts' back */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "owned by rx but the count says 0");
	r.owner[f] = 77;
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "no valid owner");
	r.owner[f] = RL_OWN_TX;
	assert_region_ok(&r);

	r.free_pos[f] = 0; /* claims to be free */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	r.free_pos[f] = RL_NOT_FREE;
	r.pins[r.free_stack[0]] = 1; /* a pinned frame in the pool */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	assert_contains(err.msg, "pinned");
	r.pins[r.free_stack[0]] = 0;
	r.nfree--; /* a free frame lost from the pool */
	assert_int_equal(rl_region_check(&r, &err), -EFAULT);
	r.nfree++;
	assert_region_ok(&r);
	rl_region_fini(&r);
}

/* A model of where each frame is, kept beside the region. */
enum { M_FREE = RL_OWN_COUNT, M_HELD };

static void region_conservation_after_random_moves(void **state)
{
	struct rl_region_params p = {.frames = 256, .frame_size = 2048, .headroom = 256};
	struct rl_region r;
	struct rl_err err;
	uint8_t model[256];
	uint64_t seed = 42;
	unsigned legal = 0, refused = 0;

	(void)state;
	region_setup(&r, &p);
	memset(model, M_FREE, sizeof(model));
	for (int batch = 0; batch < 200; batch++) {
		for (int i = 0; i < 100; i++) {
			uint32_t f = (uint32_t)(rl_unit_rand(&seed) % 256);
			enum rl_owner from =
			    (enum rl_owner)(rl_unit_rand(&seed) % RL_OWN_COUNT);
			enum rl_owner to =
			    (enum rl_owner)(rl_unit_rand(&seed) % RL_OWN_COUNT);
			unsigned op = (unsigned)(rl_unit_rand(&seed) % 4);
			uint32_t count[RL_OWN_COUNT], nfree;
			uint64_t addr;
			int rc;

			snapshot(&r, count, &nfree);
			if (op == 0) { /* take */
				rc = rl_region_take(&r, &addr, &err);
				if (nfree == 0) {
					assert_int_equal(rc, -ENOBUFS);
				} else {
					assert_int_equal(rc, 0);
					f = rl_region_frame(&r, addr);
					assert_int_equal(model[f], M_FREE);
					model[f] = M_HELD;
					legal++;
				}
				continue;
			}
			if (op == 1) { /* release */
				rc = rl_region_release(&r, f, &err);
				if (model[f] == M_HELD) {
					assert_int_equal(rc, 0);
					model[f] = M_FREE;
					legal++;
				} else {
					assert_int_equal(rc, -EPERM);
					refused++;
					assert_memory_equal(count, r.count,
					                    sizeof(count));
					assert_int_equal(nfree, r.nfree);
				}
				continue;
			}
			/* move: half the time from the right owner */
			if (op == 2 && model[f] != M_FREE)
				from = model[f] == M_HELD ? RL_OWN_APP
				                          : (enum rl_owner)model[f];
			rc = rl_region_move(&r, f, from, to, &err);
			{
				enum rl_owner real = model[f] >= M_FREE
				                         ? RL_OWN_APP
				                         : (enum rl_owner)model[f];
				bool ok = model[f] != M_FREE && real == from;

				if (ok) {
					assert_int_equal(rc, 0);
					model[f] =
					    to == RL_OWN_APP ? M_HELD : (uint8_t)to;
					legal++;
				} else {
					assert_int_equal(rc, -EPERM);
					assert_int_equal(err.code, EPERM);
					assert_contains(err.msg, "frame ");
					assert_int_equal(rl_region_owner(&r, f), real);
					assert_memory_equal(count, r.count,
					                    sizeof(count));
					assert_int_equal(nfree, r.nfree);
					refused++;
				}
			}
		}
		assert_region_ok(&r);
		/* the region agrees with the model, frame by frame */
		for (uint32_t f = 0; f < 256; f++) {
			uint8_t m = model[f];

			assert_int_equal(rl_region_owner(&r, f),
			                 m >= M_FREE ? RL_OWN_APP : m);
			assert_int_equal(rl_region_is_free(&r, f), m == M_FREE);
		}
	}
	assert_true(legal > 5000);
	assert_true(refused > 1000);
	rl_region_fini(&r);
}

static void region_owner_names(void **state)
{
	static const char *const names[] = {"app", "fill", "nic", "rx", "tx", "comp"};

	(void)state;
	for (int o = 0; o < RL_OWN_COUNT; o++)
		assert_string_equal(rl_owner_name((enum rl_owner)o), names[o]);
	assert_string_equal(rl_owner_name(RL_OWN_COUNT), "?");
}

static const struct CMUnitTest region_tests[] = {
    cmocka_unit_test(region_params_rejects_bad_values),
    cmocka_unit_test(region_init_allocates_page_aligned),
    cmocka_unit_test(region_init_over_caller_memory),
    cmocka_unit_test(region_take_hands_out_each_frame_once),
    cmocka_unit_test(region_walks_frame_through_all_owners),
    cmocka_unit_test(region_rejects_move_from_wrong_owner),
    cmocka_unit_test(region_rejects_move_of_free_frame),
    cmocka_unit_test(region_release_rejects_double_and_foreign),
    cmocka_unit_test(region_alloc_spans_contiguous_frames),
    cmocka_unit_test(region_alloc_skips_fragmented_pool),
    cmocka_unit_test(region_unpin_returns_frames_to_pool),
    cmocka_unit_test(region_pinned_frame_stays_held_after_completion),
    cmocka_unit_test(region_check_span_and_desc),
    cmocka_unit_test(region_check_detects_corruption),
    cmocka_unit_test(region_shared_frame_counts_each_descriptor),
    cmocka_unit_test(region_ref_refusals),
    cmocka_unit_test(region_check_catches_wrong_ref_count),
    cmocka_unit_test(region_shared_conservation_after_random_steps),
    cmocka_unit_test(region_conservation_after_random_moves),
    cmocka_unit_test(region_owner_names),
};

RL_UNIT_MAIN(region_tests)
