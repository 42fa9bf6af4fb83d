/*
 * test_dpdk.c - the DPDK engine, driven through its ops table.
 *
 * Most tests use net_ring0: a port whose TX queue is an rte_ring that its
 * own RX queue reads, so whatever the engine sends comes straight back.
 * That is the purest zero-copy path DPDK has: the receiver gets the very
 * mbufs (and buffer addresses) the sender gave. net_null0 stands for a
 * PMD that frees what it sends and makes up what it receives, and lacks
 * multi-segment TX.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <ringlab/checksum.h>
#include <ringlab/packet.h>

#include "dpdk_test.h"

/* ---- net_ring: chains arrive at the sender's addresses -------------------- */

static void ring_chain_arrives_at_sender_addresses(void **state)
{
	struct rl_desc d[3], in[8];
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 64, 2048);
	for (int i = 0; i < 3; i++) {
		d[i].addr = dt_take(&t) + 256 + (uint64_t)i * 8; /* anywhere in the frame */
		d[i].len = 100 + (uint32_t)i;
		d[i].options = i < 2 ? RL_DESC_CONTD : 0;
		memset(rl_region_ptr(t.r, d[i].addr), 'a' + i, d[i].len);
	}
	if (t.ops->tx(t.e, d, 3, &t.err) != 3)
		fail_msg("tx: %s", t.err.msg);
	assert_int_equal(dt_owned(&t, RL_OWN_NIC), 3); /* inside net_ring's rte_ring */
	dt_conserved(&t);
	if (t.ops->rx(t.e, in, 8, &t.err) != 3)
		fail_msg("rx: %s", t.err.msg);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(in[i].addr, d[i].addr); /* the same buffer: no copy */
		assert_int_equal(in[i].len, d[i].len);
		assert_int_equal(in[i].options, d[i].options);
	}
	assert_int_equal(dt_owned(&t, RL_OWN_NIC), 0);
	assert_int_equal(dt_extra(&t, "rx_same_buffer"), 3);
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	dt_conserved(&t);
	assert_int_equal(t.ops->ledger(t.e)->driver_how, RL_HOW_MEASURED);
	assert_int_equal(t.ops->ledger(t.e)->driver_copied, 0);
	dt_close(&t);
}

static void ring_views_show_the_rte_ring(void **state)
{
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	struct rl_desc d = {0, 60, 0};
	struct dt t;
	int n, ring = -1;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 16, 2048);
	d.addr = dt_take(&t) + 256;
	assert_int_equal(t.ops->tx(t.e, &d, 1, &t.err), 1);
	n = t.ops->rings(t.e, v, RL_RING_VIEWS_MAX);
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].name, "ring"))
			ring = i;
	assert_true(ring >= 0);
	assert_int_equal(v[ring].pending, 1); /* the packet waits in the rte_ring */
	assert_contains(v[ring].note, "exact");
	assert_string_equal(v[0].name, "mempool");
	dt_close(&t);
}

/* ---- net_null ------------------------------------------------------------- */

static void null_txonly_completes_every_frame(void **state)
{
	struct rl_desc d[10];
	uint64_t addrs[16];
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_null0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 32, 2048);
	for (int i = 0; i < 10; i++)
		d[i] = (struct rl_desc){dt_take(&t) + 256, 64, 0};
	assert_int_equal(t.ops->tx(t.e, d, 10, &t.err), 10);
	/* net_null frees at once: our mempool driver saw it, so they are comp */
	assert_int_equal(dt_owned(&t, RL_OWN_COMP), 10);
	/* and it never attaches to what it is sent: each went direct */
	assert_int_equal(dt_extra(&t, "tx_direct_mbufs"), 10);
	dt_conserved(&t);
	assert_int_equal(t.ops->complete(t.e, addrs, 16, &t.err), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(addrs[i], d[i].addr);
	assert_int_equal(t.r->nfree, 32);
	dt_conserved(&t);
	dt_close(&t);
}

/* A region big enough for the mempool's tx cache (pool.c): net_null's frees
 * inside tx_burst gather in it and reach our driver in one bulk, so owners
 * are exact when tx returns; outside tx_burst the cache is inert, so what
 * net_null takes to receive is exact too. */
static void null_bulk_free_keeps_owners_exact(void **state)
{
	static struct rl_desc d[200];
	static uint64_t addrs[256];
	struct rl_desc in[64];
	struct dt t;
	int n;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_null0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 512, 2048);
	for (int i = 0; i < 200; i++)
		d[i] = (struct rl_desc){dt_take(&t) + 256, 64, 0};
	/* 200 packets: bursts of 64, 64, 64 and 8, every frame freed */
	assert_int_equal(t.ops->tx(t.e, d, 200, &t.err), 200);
	assert_int_equal(dt_owned(&t, RL_OWN_COMP), 200);
	assert_int_equal(dt_owned(&t, RL_OWN_TX) + dt_owned(&t, RL_OWN_NIC), 0);
	assert_int_equal(dt_extra(&t, "tx_pmd_took_frames"), 0);
	dt_conserved(&t);
	assert_int_equal(t.ops->fill(t.e, 64, &t.err), 64);
	n = t.ops->rx(t.e, in, 32, &t.err);
	assert_int_equal(n, 32);
	/* exactly the 32 received left the fill pool: none hide in a cache */
	assert_int_equal(dt_owned(&t, RL_OWN_FILL), 32);
	assert_int_equal(dt_owned(&t, RL_OWN_NIC), 0);
	dt_conserved(&t);
	assert_int_equal(t.ops->complete(t.e, addrs, 256, &t.err), 200);
	for (int i = 0; i < 200; i++)
		assert_int_equal(addrs[i], d[i].addr);
	assert_int_equal(dt_owned(&t, RL_OWN_COMP), 0);
	dt_conserved(&t);
	dt_close(&t);
}

static void null_rxonly_receives_into_filled_frames(void **state)
{
	struct rl_desc in[64];
	struct dt t;
	int n;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_null0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 64, 2048);
	assert_int_equal(t.ops->fill(t.e, 16, &t.err), 16);
	assert_int_equal(dt_owned(&t, RL_OWN_FILL), 16);
	n = t.ops->rx(t.e, in, 64, &t.err);
	assert_true(n > 0 && n <= 16); /* at most what was offered */
	for (int i = 0; i < n; i++) {
		assert_int_equal(in[i].len, 64); /* net_null's default size */
		assert_int_equal(rl_region_owner(t.r, rl_region_frame(t.r, in[i].addr)),
				 RL_OWN_APP);
	}
	assert_int_equal(dt_extra(&t, "rx_fresh_buffer"), (uint64_t)n);
	dt_conserved(&t);
	assert_int_equal(t.ops->ledger(t.e)->driver_how, RL_HOW_DERIVED);
	dt_close(&t);
}

static void null_refuses_chain_without_multi_segs(void **state)
{
	struct rl_desc d[2];
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_null0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 8, 2048);
	d[0] = (struct rl_desc){dt_take(&t) + 256, 64, RL_DESC_CONTD};
	d[1] = (struct rl_desc){dt_take(&t) + 256, 64, 0};
	assert_int_equal(t.ops->tx(t.e, d, 2, &t.err), -ENOTSUP);
	assert_contains(t.err.msg, "RTE_ETH_TX_OFFLOAD_MULTI_SEGS");
	assert_int_equal(dt_owned(&t, RL_OWN_APP), 8); /* nothing lost */
	dt_conserved(&t);
	dt_close(&t);
}

/* ---- bursts: owners exact through the one-pass paths ----------------------- */

/* tx sends a burst straight to the PMD and stages only what it does not
 * take; rx hands one-frame packets straight to the program and stages the
 * rest. Chains mixed in, net_ring's rte_ring filled up (so tx_burst takes
 * part of a burst), rx asked for odd amounts: after every call each frame
 * has exactly one owner, and the packets come back in order at the
 * addresses they were sent from. */
static void ring_bursts_keep_owners_exact(void **state)
{
	enum { FRAMES = 2048, BURST = 100, MAXPKT = 1800 };
	static uint64_t sent[FRAMES];
	struct rl_desc d[BURST + 1], in[37];
	uint32_t nsent = 0, nrecv = 0, staged_seen = 0;
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, FRAMES, 2048);
	while (nsent < MAXPKT) {
		uint32_t n = 0;
		int q;

		while (n < BURST) {
			bool chain = (nsent + n) % 7 == 3;

			d[n] = (struct rl_desc){dt_take(&t) + 256, 60, chain ? RL_DESC_CONTD : 0};
			n++;
			if (chain) {
				d[n] = (struct rl_desc){dt_take(&t) + 300, 40, 0};
				n++;
			}
		}
		q = t.ops->tx(t.e, d, n, &t.err);
		dt_conserved(&t);
		if (q <= 0) {
			for (uint32_t i = 0; i < n; i++)
				rl_region_release(t.r, rl_region_frame(t.r, d[i].addr), NULL);
			break; /* rte_ring and staging queue full */
		}
		for (uint32_t i = 0; i < (uint32_t)q; i++)
			sent[nsent + i] = d[i].addr; /* rx gives a descriptor per segment */
		nsent += (uint32_t)q;
		for (uint32_t i = (uint32_t)q; i < n; i++)
			rl_region_release(t.r, rl_region_frame(t.r, d[i].addr), NULL);
		for (int i = 0, nv = t.ops->rings(t.e, v, RL_RING_VIEWS_MAX); i < nv; i++)
			if (!strcmp(v[i].name, "tx") && v[i].pending)
				staged_seen = 1;
		if ((uint32_t)q < n)
			break;
	}
	assert_true(staged_seen); /* the PMD refused part of a burst: staged */
	for (int idle = 0; nrecv < nsent && idle < 1000;) {
		int n = t.ops->rx(t.e, in, 37, &t.err);

		if (n < 0)
			fail_msg("rx: %s", t.err.msg);
		dt_conserved(&t);
		if (n == 0) {
			assert_int_equal(t.ops->kick(t.e, &t.err), 0); /* flush the staged */
			idle++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			uint32_t f = rl_region_frame(t.r, in[i].addr);

			assert_int_equal(in[i].addr, sent[nrecv + i]);
			assert_int_equal(rl_region_owner(t.r, f), RL_OWN_APP);
			rl_region_release(t.r, f, NULL);
		}
		nrecv += (uint32_t)n;
	}
	assert_int_equal(nrecv, nsent);
	assert_int_equal(t.r->nfree, FRAMES);
	assert_int_equal(dt_extra(&t, "rx_same_buffer"), nsent);
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	dt_conserved(&t);
	dt_close(&t);
}

/* A frame in several descriptors at once (RL_CAP_SHARED): four packets in
 * one frame go out, the first in the frame's own mbuf, the others in aux
 * mbufs over its bytes; the frame counts four references, is owned once,
 * and goes back to the pool only with the last completion. Conservation
 * and rl_region_check after every step; a free frame is still refused.
 * On net_ring (it hands the mbufs to its receiver) a frame stays in one
 * descriptor at a time, and says so. */
static void null_frame_in_several_descriptors(void **state)
{
	struct rl_desc d[4];
	uint64_t a;
	uint32_t f;
	struct dt t, u;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_null0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 64, 2048);
	assert_true(t.ops->caps_of(t.e, NULL, 0) & RL_CAP_SHARED);
	a = dt_take(&t);
	f = rl_region_frame(t.r, a);
	for (int i = 0; i < 4; i++)
		d[i] = (struct rl_desc){a + 256 + 300 * (uint64_t)i, 64, 0};
	assert_int_equal(t.ops->tx(t.e, d, 2, &t.err), 2); /* two in one burst */
	dt_conserved(&t);
	assert_int_equal(rl_region_refs(t.r, f), 2);
	assert_int_equal(t.ops->tx(t.e, d + 2, 2, &t.err), 2); /* two more, on its way */
	dt_conserved(&t);
	/* net_null frees what it sends inside tx_burst: all four completed,
	 * none taken back yet - one frame, owned by comp once */
	assert_int_equal(rl_region_refs(t.r, f), 4);
	assert_int_equal(t.r->refs[f].comp, 4);
	assert_int_equal(dt_owned(&t, RL_OWN_COMP), 1);
	assert_int_equal(t.r->nshared, 1);
	assert_false(rl_region_is_free(t.r, f));
	assert_int_equal(t.ops->complete(t.e, NULL, 2, &t.err), 2);
	dt_conserved(&t);
	assert_int_equal(rl_region_refs(t.r, f), 2);
	assert_int_equal(rl_region_owner(t.r, f), RL_OWN_COMP);
	assert_int_equal(t.ops->complete(t.e, NULL, 64, &t.err), 2);
	dt_conserved(&t);
	assert_int_equal(rl_region_owner(t.r, f), RL_OWN_APP);
	assert_true(rl_region_is_free(t.r, f)); /* the last: back to the pool */
	assert_int_equal(t.r->nshared, 0);
	assert_int_equal(t.r->nfree, 64);
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	/* a free frame is not sent */
	assert_true(t.ops->tx(t.e, d, 1, &t.err) < 0);
	assert_contains(t.err.msg, "free in the pool");
	dt_conserved(&t);
	dt_close(&t);

	/* net_ring: one descriptor per frame */
	dt_load(&u);
	if (dt_open(&u, "net_ring0") < 0)
		fail_msg("open: %s", u.err.msg);
	dt_region(&u, 64, 2048);
	assert_false(u.ops->caps_of(u.e, NULL, 0) & RL_CAP_SHARED);
	a = dt_take(&u);
	d[0] = (struct rl_desc){a + 256, 64, 0};
	assert_int_equal(u.ops->tx(u.e, d, 1, &u.err), 1);
	assert_true(u.ops->tx(u.e, d, 1, &u.err) < 0);
	assert_contains(u.err.msg, "one descriptor at a time");
	dt_conserved(&u);
	dt_close(&u);
}

/* A bad descriptor in the middle of a burst: the packets before it are
 * sent, it and the rest stay the program's, the error says which. */
static void null_burst_stops_at_a_bad_descriptor(void **state)
{
	struct rl_desc d[8], in[64];
	uint64_t held;
	struct dt t;
	int n;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_null0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 64, 2048);
	for (int i = 0; i < 8; i++)
		d[i] = (struct rl_desc){dt_take(&t) + 256, 64, 0};
	held = d[5].addr;
	/* a frame free in the pool (the same frame again is allowed here:
	 * null_frame_in_several_descriptors) */
	d[5].addr = rl_region_frame_addr(t.r, t.r->free_stack[t.r->nfree - 1]) + 256;
	assert_int_equal(t.ops->tx(t.e, d, 8, &t.err), 5);
	assert_contains(t.err.msg, "not held by the program");
	assert_contains(t.err.msg, "free in the pool");
	assert_int_equal(dt_owned(&t, RL_OWN_COMP), 5);
	dt_conserved(&t);
	assert_int_equal(t.ops->complete(t.e, NULL, 64, &t.err), 5);
	for (int i = 6; i < 8; i++)
		rl_region_release(t.r, rl_region_frame(t.r, d[i].addr), NULL);
	rl_region_release(t.r, rl_region_frame(t.r, held), NULL);
	assert_int_equal(t.r->nfree, 64);
	/* an address far past the region whose frame number, cut to 32 bits,
	 * would name a frame the program holds (2^32 frames further on) */
	held = dt_take(&t);
	d[0] = (struct rl_desc){((1ull << 32) + rl_region_frame(t.r, held)) * 2048 + 256, 64, 0};
	assert_true(t.ops->tx(t.e, d, 1, &t.err) < 0);
	assert_contains(t.err.msg, "outside");
	assert_int_equal(dt_owned(&t, RL_OWN_TX) + dt_owned(&t, RL_OWN_COMP), 0);
	rl_region_release(t.r, rl_region_frame(t.r, held), NULL);
	assert_int_equal(t.r->nfree, 64);
	dt_conserved(&t);
	/* rx asks for fewer than were offered, then the rest */
	assert_int_equal(t.ops->fill(t.e, 20, &t.err), 20);
	n = t.ops->rx(t.e, in, 3, &t.err);
	assert_int_equal(n, 3);
	dt_conserved(&t);
	assert_int_equal(dt_owned(&t, RL_OWN_FILL) + dt_owned(&t, RL_OWN_NIC), 17);
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	dt_close(&t);
}

/* ---- failures ------------------------------------------------------------- */

static void unknown_vdev_is_a_clear_error(void **state)
{
	struct dt t;

	(void)state;
	dt_load(&t);
	assert_true(dt_open(&t, "net_nosuchthing0") < 0);
	assert_contains(t.err.msg, "net_nosuchthing0");
	assert_contains(t.err.msg, "no driver is called that");
	/* the EAL is fine: the next open works */
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open after a bad vdev: %s", t.err.msg);
	dt_close(&t);
}

static void frame_too_large_for_an_mbuf_is_refused(void **state)
{
	struct rl_region_params p = {4, 65536, 256};
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	assert_int_equal(t.ops->region(t.e, &p, &t.r, &t.err), -EINVAL);
	assert_contains(t.err.msg, "32768");
	dt_close(&t);
}

static void second_open_hotplugs_another_vdev(void **state)
{
	struct dt a, b;

	(void)state;
	dt_load(&a);
	dt_load(&b);
	if (dt_open(&a, "net_ring0") < 0)
		fail_msg("open a: %s", a.err.msg);
	if (dt_open(&b, "net_null1") < 0)
		fail_msg("open b: %s", b.err.msg);
	assert_int_not_equal(a.ext->port(a.e), b.ext->port(b.e));
	assert_true(dt_open(&b, "net_ring0") < 0); /* a drives that port */
	assert_contains(b.err.msg, "already driven");
	dt_close(&a);
	b.e = NULL; /* the failed open left nothing */
	dt_close(&b);
}

/* ---- extbuf --------------------------------------------------------------- */

static void extbuf_arrives_at_app_memory_and_calls_back(void **state)
{
	size_t len = 65536;
	uint8_t *app = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	struct rl_xdesc s[8], x[2];
	uint64_t fr[4];
	struct dt t;

	(void)state;
	assert_true(app != MAP_FAILED);
	memset(app, 0x5a, len);
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 16, 2048);
	x[1] = (struct rl_xdesc){.va = app + 4096, .len = 5000, .options = RL_DESC_EXT,
				 .cookie = 42};
	x[0] = (struct rl_xdesc){.addr = dt_take(&t) + 200, .len = 42, .options = RL_DESC_CONTD};
	assert_int_equal(t.ops->tx_x(t.e, x, 2, NULL, &t.err), -EINVAL); /* not registered */
	assert_contains(t.err.msg, "ext_register");
	if (t.ops->ext_register(t.e, app, len, &t.err) < 0)
		fail_msg("register: %s", t.err.msg);
	if (t.ops->tx_x(t.e, x, 2, NULL, &t.err) != 1)
		fail_msg("tx_x: %s", t.err.msg);
	assert_int_equal(t.ops->ext_freed(t.e, fr, 4), 0); /* in flight */
	assert_int_equal(t.ops->rx_x(t.e, s, 8, 0, &t.err), 2);
	assert_int_equal(s[0].options, RL_DESC_CONTD); /* a frame, the app's */
	assert_int_equal(s[0].addr, x[0].addr);
	assert_int_equal(s[1].options, RL_DESC_EXT); /* external memory */
	assert_true(s[1].addr == RL_ADDR_NONE);
	assert_ptr_equal(s[1].va, app + 4096); /* the app's own memory: no copy */
	assert_int_equal(s[1].len, 5000);
	t.ops->rx_release(t.e);
	assert_int_equal(t.ops->ext_freed(t.e, fr, 4), 1); /* the free callback */
	assert_int_equal(fr[0], 42);
	dt_conserved(&t);
	assert_int_equal(t.ops->ext_register(t.e, app + 100, 200, &t.err), 0); /* inside */
	assert_int_equal(t.ops->ext_unregister(t.e, app + 100, 200, &t.err), 0);
	assert_int_equal(t.ops->ext_unregister(t.e, app, len, &t.err), 0);
	assert_int_equal(t.ops->ext_unregister(t.e, app, len, &t.err), -ENOENT);
	dt_close(&t);
	munmap(app, len);
}

/* ---- gso ------------------------------------------------------------------ */

#define GSO_PAYLOAD 65536
#define GSO_MSS 1448
#define GSO_HDRS (RL_ETH_HLEN + RL_IP4_HLEN + 20)
#define SEQ0 1000u

static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 7 + 3);
}

/* Ethernet + IPv4 + TCP by hand (core builds no TCP yet). The IPv4 length
 * is 0: 64 KiB does not fit in 16 bits; gso writes each segment's. */
static void tcp_headers(uint8_t *h)
{
	static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
	static const uint8_t ip[20] = {0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0,
				       198, 18, 0, 1, 198, 18, 0, 2};
	uint8_t tcp[20] = {0x23, 0x28, 0x1f, 0x90, 0, 0, 0x03, 0xe8, 0, 0, 0, 0,
			   0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0};

	memcpy(h, eth, 14);
	memcpy(h + 14, ip, 20);
	memcpy(h + 34, tcp, 20);
}

/* Descriptors over a born buffer: one per frame it touches. */
static uint32_t span_descs(struct dt *t, uint64_t addr, uint32_t len, struct rl_desc *d)
{
	uint32_t n = 0;

	while (len) {
		uint64_t end = rl_region_frame_addr(t->r, rl_region_frame(t->r, addr) + 1);
		uint32_t take = (uint32_t)(end - addr < len ? end - addr : len);

		d[n++] = (struct rl_desc){addr, take, RL_DESC_CONTD};
		addr += take;
		len -= take;
	}
	d[n - 1].options = 0;
	return n;
}

/* One received segment: copy it out (test only) and check everything. */
static uint32_t check_segment(struct dt *t, const struct rl_xdesc *s, int n,
			      uint64_t pay, uint32_t off)
{
	static uint8_t buf[4096];
	struct rl_iov iov = {buf, 0};
	struct rl_dissect dis;
	uint32_t plen, sum;

	assert_int_equal(s[0].options, RL_DESC_EXT | RL_DESC_COPIED | RL_DESC_CONTD); /* headers:
									       * DPDK's copy */
	for (int i = 0; i < n; i++) {
		if (i > 0) { /* payload: a reference into the born buffer */
			assert_true(s[i].options & RL_DESC_EXT); /* not the app's frame */
			assert_int_equal(s[i].addr, pay + off + (iov.len - GSO_HDRS));
		}
		memcpy(buf + iov.len, s[i].va, s[i].len);
		iov.len += s[i].len;
	}
	plen = (uint32_t)iov.len - GSO_HDRS;
	assert_int_equal(rl_dissect(&iov, 1, &dis), 0);
	assert_true(dis.layers & RL_L_TCP);
	assert_true(dis.ip_csum_ok);
	assert_true(dis.tcp_csum_ok);
	assert_int_equal(dis.ip_len, iov.len - RL_ETH_HLEN);
	assert_int_equal(dis.tcp_seq, SEQ0 + off);
	/* and once more by hand, over the copied-out segment */
	sum = rl_csum_pseudo(dis.src_ip, dis.dst_ip, 6, (uint16_t)(plen + 20));
	sum = rl_csum_partial(buf + 34, plen + 20, sum);
	assert_int_equal(rl_csum_fold(sum), 0);
	for (uint32_t i = 0; i < plen; i++)
		if (buf[GSO_HDRS + i] != pattern(off + i))
			fail_msg("payload byte %u is wrong", off + i);
	(void)t;
	return plen;
}

/* 64 KiB of TCP payload born in the region, cut by GSO on a net_ring port
 * and received: every segment checked, every frame back. The region has
 * 128 frames, all free. */
static void gso_64k_round(struct dt *tp)
{
	struct rl_xdesc x[64], s[8];
	struct rl_tx_opts o = {.gso_mss = GSO_MSS};
	struct rl_desc d[64];
	uint64_t pay, hdr, addrs[64];
	uint32_t n, off = 0, segs = 0;
	uint8_t *p;
	struct dt t = *tp;
	int k, got;

	hdr = dt_take(&t) + 256;
	tcp_headers(rl_region_ptr(t.r, hdr));
	if (rl_region_alloc(t.r, GSO_PAYLOAD, &pay, &t.err) < 0) /* born in the region */
		fail_msg("alloc: %s", t.err.msg);
	p = rl_region_ptr(t.r, pay);
	for (uint32_t i = 0; i < GSO_PAYLOAD; i++)
		p[i] = pattern(i);
	d[0] = (struct rl_desc){hdr, GSO_HDRS, RL_DESC_CONTD};
	n = 1 + span_descs(&t, pay, GSO_PAYLOAD, d + 1);
	for (uint32_t i = 0; i < n; i++)
		x[i] = (struct rl_xdesc){.addr = d[i].addr, .len = d[i].len, .options = d[i].options};
	k = t.ops->tx_x(t.e, x, n, &o, &t.err);
	if (k < 0)
		fail_msg("tx_x gso: %s", t.err.msg);
	assert_int_equal(k, (GSO_PAYLOAD + GSO_MSS - 1) / GSO_MSS);
	dt_conserved(&t);
	while ((got = t.ops->rx_x(t.e, s, 8, 0, &t.err)) > 0) {
		off += check_segment(&t, s, got, pay, off);
		segs++;
	}
	assert_int_equal(got, 0);
	assert_int_equal(segs, (uint32_t)k);
	assert_int_equal(off, GSO_PAYLOAD);
	t.ops->rx_release(t.e); /* the last slices go: payload frames complete */
	assert_int_equal(t.ops->complete(t.e, addrs, 64, &t.err), (int)n);
	assert_int_equal(dt_owned(&t, RL_OWN_NIC), 0);
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	assert_true(t.ops->ledger(t.e)->touched >= GSO_PAYLOAD); /* software checksums */
	/* on its path: GSO's headers and checksum reads were sending; what
	 * rx_x delivered in place (every segment, headers and payload) was
	 * receiving */
	assert_true(rl_ledger_get_dir(t.ops->ledger(t.e), RL_LEDGER_TOUCHED, RL_DIR_TX) >=
		    GSO_PAYLOAD);
	assert_int_equal(rl_ledger_get_dir(t.ops->ledger(t.e), RL_LEDGER_HEADERS, RL_DIR_RX), 0);
	assert_true(rl_ledger_get_dir(t.ops->ledger(t.e), RL_LEDGER_HEADERS, RL_DIR_TX) >=
		    (uint64_t)k * GSO_HDRS);
	assert_int_equal(rl_ledger_get_dir(t.ops->ledger(t.e), RL_LEDGER_REFERENCED, RL_DIR_RX),
			 GSO_PAYLOAD + (uint64_t)k * GSO_HDRS);
	assert_int_equal(rl_ledger_get_dir(t.ops->ledger(t.e), RL_LEDGER_REFERENCED, RL_DIR_TX),
			 0);
	dt_conserved(&t);
	rl_region_unpin(t.r, pay, GSO_PAYLOAD);
	assert_int_equal(t.r->nfree, 128);
}

static void gso_cuts_64k_tcp_into_checksummed_segments(void **state)
{
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 128, 2048);
	gso_64k_round(&t);
	dt_close(&t);
}

/* A plain one-frame packet goes to net_ring with its mbuf marked direct
 * (DPDK's cheaper free path, dpdk.c: tx_plain). Every frame makes that
 * trip first; then GSO attaches indirect mbufs to the same frames, which
 * is only right for pinned (external) mbufs - a direct one would make
 * DPDK count references inside the frame before it and spoil payload.
 * Then the frames are offered for receive and used again. */
static void direct_sent_frames_serve_gso_and_receive_after(void **state)
{
	struct rl_desc d[128], got[128];
	uint64_t addrs[128];
	uint32_t n = 0;
	struct dt t;
	int k;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 128, 2048);
	while (n < 128) {
		d[n] = (struct rl_desc){dt_take(&t) + 256, 60, 0};
		memset(rl_region_ptr(t.r, d[n].addr), (int)n, 60);
		n++;
	}
	for (uint32_t done = 0; done < n; done += (uint32_t)k) {
		k = t.ops->tx(t.e, d + done, n - done, &t.err);
		if (k <= 0)
			fail_msg("tx: %s", t.err.msg);
		/* a net_ring port's TX ring is its RX ring: take them back */
		for (int got_n; (got_n = t.ops->rx(t.e, got, 128, &t.err)) > 0;)
			for (int i = 0; i < got_n; i++) {
				uint8_t *b = rl_region_ptr(t.r, got[i].addr);

				assert_int_equal(got[i].len, 60);
				assert_int_equal(b[0], b[59]); /* its own bytes */
				assert_int_equal(rl_region_release(t.r,
						 rl_region_frame(t.r, got[i].addr), &t.err), 0);
			}
	}
	assert_int_equal(dt_extra(&t, "rx_same_buffer"), 128); /* zero copy, each */
	assert_int_equal(t.r->nfree, 128);
	dt_conserved(&t);
	gso_64k_round(&t);
	/* offered for receive after going direct: net_ring gives them back */
	assert_int_equal(t.ops->fill(t.e, 64, &t.err), 64);
	assert_int_equal(dt_owned(&t, RL_OWN_FILL), 64);
	n = 0;
	while (n < 32) {
		d[n] = (struct rl_desc){dt_take(&t) + 256, 64, 0};
		n++;
	}
	assert_int_equal(t.ops->tx(t.e, d, 32, &t.err), 32);
	assert_int_equal(t.ops->rx(t.e, got, 128, &t.err), 32);
	for (int i = 0; i < 32; i++)
		rl_region_release(t.r, rl_region_frame(t.r, got[i].addr), NULL);
	assert_int_equal(t.ops->complete(t.e, addrs, 128, &t.err), 0); /* ring: received */
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	dt_conserved(&t);
	dt_close(&t);
}

static const struct CMUnitTest dpdk_tests[] = {
	cmocka_unit_test(ring_chain_arrives_at_sender_addresses),
	cmocka_unit_test(ring_views_show_the_rte_ring),
	cmocka_unit_test(null_txonly_completes_every_frame),
	cmocka_unit_test(null_bulk_free_keeps_owners_exact),
	cmocka_unit_test(null_rxonly_receives_into_filled_frames),
	cmocka_unit_test(null_refuses_chain_without_multi_segs),
	cmocka_unit_test(ring_bursts_keep_owners_exact),
	cmocka_unit_test(null_burst_stops_at_a_bad_descriptor),
	cmocka_unit_test(null_frame_in_several_descriptors),
	cmocka_unit_test(unknown_vdev_is_a_clear_error),
	cmocka_unit_test(frame_too_large_for_an_mbuf_is_refused),
	cmocka_unit_test(second_open_hotplugs_another_vdev),
	cmocka_unit_test(extbuf_arrives_at_app_memory_and_calls_back),
	cmocka_unit_test(gso_cuts_64k_tcp_into_checksummed_segments),
	cmocka_unit_test(direct_sent_frames_serve_gso_and_receive_after),
};

int main(int argc, char **argv)
{
	return dt_main("dpdk_tests", dpdk_tests, sizeof(dpdk_tests) / sizeof(dpdk_tests[0]),
		       argc, argv);
}
