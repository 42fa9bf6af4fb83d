/*
 * test_sim.c - the simulator engine, driven only through its ops table, the
 * way the shell drives it: one packet walking the four rings step by step,
 * two engines exchanging 10 000 packets, exact ledger figures in copy and
 * zerocopy mode, drops, bad options, refused sends, full rings, loopback,
 * scatter-gather, and an unplugged peer. After every change the region's
 * conservation invariant is rechecked.
 */
#include <errno.h>
#include <stdlib.h>

#include "ringlab/engine.h"
#include "ringlab/reader.h"
#include "ringlab/region.h"
#include "ringlab/segment.h"
#include "sim.h"
#include "unit.h"

#define FRAME    2048u
#define HEADROOM 256u
#define ROOM     (FRAME - HEADROOM)

/* ---- helpers ----------------------------------------------------------- */

static const struct rl_engine_ops *sim(void)
{
	return rl_sim_engine();
}

static int try_open(struct rl_engine **e, const struct rl_kv *kv, unsigned nkv,
                    struct rl_engine *peer, struct rl_err *err)
{
	struct rl_open_args a = {
	    .kv = kv, .nkv = nkv, .peer = peer, .peer_ops = peer ? sim() : NULL};

	return sim()->open(e, &a, err);
}

static struct rl_engine *open_sim(const struct rl_kv *kv, unsigned nkv,
                                  struct rl_engine *peer)
{
	struct rl_engine *e = NULL;
	struct rl_err err;

	if (try_open(&e, kv, nkv, peer, &err))
		fail_msg("open failed: %s", err.msg);
	return e;
}

static struct rl_region *make_region(struct rl_engine *e, uint32_t frames)
{
	struct rl_region_params p = {
	    .frames = frames, .frame_size = FRAME, .headroom = HEADROOM};
	struct rl_region *r = NULL;
	struct rl_err err;

	if (sim()->region(e, &p, &r, &err))
		fail_msg("region failed: %s", err.msg);
	assert_ptr_equal(sim()->get_region(e), r);
	return r;
}

static void assert_conserved(struct rl_engine *e)
{
	struct rl_err err;

	if (rl_region_check(sim()->get_region(e), &err))
		fail_msg("conservation broken: %s", err.msg);
}

static struct rl_ring_view ring_of(struct rl_engine *e, const char *name)
{
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	int n = sim()->rings(e, v, RL_RING_VIEWS_MAX);

	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return v[i];
	fail_msg("no ring named %s", name);
	return v[0];
}

#define assert_ring(e, name, p, c)                                                       \
	do {                                                                             \
		struct rl_ring_view v_ = ring_of((e), (name));                           \
		assert_int_equal(v_.prod, (p));                                          \
		assert_int_equal(v_.cons, (c));                                          \
		assert_int_equal(v_.pending, (p) - (c));                                 \
	} while (0)

static void assert_owners(const struct rl_region *r, uint32_t app, uint32_t fill,
                          uint32_t nic, uint32_t rx, uint32_t tx, uint32_t comp)
{
	assert_int_equal(r->count[RL_OWN_APP], app);
	assert_int_equal(r->count[RL_OWN_FILL], fill);
	assert_int_equal(r->count[RL_OWN_NIC], nic);
	assert_int_equal(r->count[RL_OWN_RX], rx);
	assert_int_equal(r->count[RL_OWN_TX], tx);
	assert_int_equal(r->count[RL_OWN_COMP], comp);
}

static uint64_t extra(struct rl_engine *e, const char *name)
{
	struct rl_stats st;

	sim()->stats(e, &st);
	for (unsigned i = 0; i < st.nextra; i++)
		if (strcmp(st.extra[i].name, name) == 0)
			return st.extra[i].value;
	fail_msg("no counter named %s", name);
	return 0;
}

static struct rl_stats stats(struct rl_engine *e)
{
	struct rl_stats st;

	assert_int_equal(sim()->stats(e, &st), 0);
	return st;
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

static void write_pattern(uint8_t *p, uint32_t len, uint32_t seed, uint32_t from)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = pattern(seed, from + i);
}

static void check_pattern(const uint8_t *p, uint32_t len, uint32_t seed, uint32_t from)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != pattern(seed, from + i))
			fail_msg("packet %u byte %u is %u, expected %u", seed, from + i,
			         p[i], pattern(seed, from + i));
}

/* Take a free frame and write a len-byte packet (pattern seed) behind its
 * headroom: the way a program builds a packet in place. */
static struct rl_desc build(struct rl_region *r, uint32_t len, uint32_t seed)
{
	uint64_t addr;

	assert_int_equal(rl_region_take(r, &addr, NULL), 0);
	addr += HEADROOM;
	write_pattern(rl_region_ptr(r, addr), len, seed, 0);
	return (struct rl_desc){.addr = addr, .len = len};
}

static void release_frames(struct rl_region *r, const struct rl_desc *d, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(
		    rl_region_release(r, rl_region_frame(r, d[i].addr), NULL), 0);
}

static int tx(struct rl_engine *e, const struct rl_desc *d, uint32_t n)
{
	struct rl_err err;
	int rc = sim()->tx(e, d, n, &err);

	if (rc < 0)
		fail_msg("tx failed: %s", err.msg);
	return rc;
}

static int fill(struct rl_engine *e, uint32_t n)
{
	struct rl_err err;
	int rc = sim()->fill(e, n, &err);

	if (rc < 0)
		fail_msg("fill failed: %s", err.msg);
	return rc;
}

static struct rl_step step(struct rl_engine *e)
{
	struct rl_step st;
	struct rl_err err;

	assert_int_equal(sim()->step(e, &st, &err), 0);
	return st;
}

/* ---- the tests --------------------------------------------------------- */

static void sim_walks_one_packet_through_four_rings(void **state)
{
	const struct rl_kv kv[] = {{"step", "true"}, {"ring_size", "4"}};
	struct rl_engine *e = open_sim(kv, 2, NULL);
	struct rl_region *r = make_region(e, 8);
	struct rl_desc d, out[4];
	struct rl_step st;
	uint64_t done[4];
	uint32_t tx_frame, rx_frame;

	(void)state;
	assert_int_equal(fill(e, 1), 1);
	assert_ring(e, "fill", 1, 0);
	assert_owners(r, 7, 1, 0, 0, 0, 0);
	rx_frame = UINT32_MAX;
	for (uint32_t f = 0; f < 8; f++)
		if (rl_region_owner(r, f) == RL_OWN_FILL)
			rx_frame = f;
	assert_conserved(e);

	d = build(r, 60, 1);
	tx_frame = rl_region_frame(r, d.addr);
	assert_int_equal(tx(e, &d, 1), 1);
	assert_ring(e, "tx", 1, 0);
	assert_owners(r, 6, 1, 0, 0, 1, 0);
	assert_int_equal(rl_region_owner(r, tx_frame), RL_OWN_TX);
	assert_conserved(e);

	/* step mode: a kick is counted but does not move the NIC */
	assert_int_equal(sim()->kick(e, NULL), 0);
	assert_ring(e, "tx", 1, 0);
	assert_int_equal(stats(e).kicks, 1);

	st = step(e);
	assert_int_equal(st.kind, RL_STEP_TX);
	assert_string_equal(st.from, "tx");
	assert_string_equal(st.to, "wire");
	assert_int_equal(st.frame, tx_frame);
	assert_int_equal(st.len, 60);
	assert_int_equal(st.frags, 1);
	assert_contains(st.what, "TX: the NIC took descriptor tx[0]");
	assert_contains(st.what, "owned by nic");
	assert_ring(e, "tx", 1, 1);
	assert_ring(e, "wire", 1, 0);
	assert_owners(r, 6, 1, 1, 0, 0, 0);
	assert_conserved(e);

	st = step(e);
	assert_int_equal(st.kind, RL_STEP_COMPLETE);
	assert_string_equal(st.to, "comp");
	assert_int_equal(st.frame, tx_frame);
	assert_contains(st.what, "COMPLETE");
	assert_ring(e, "comp", 1, 0);
	assert_owners(r, 6, 1, 0, 0, 0, 1);
	assert_conserved(e);

	st = step(e);
	assert_int_equal(st.kind, RL_STEP_RX);
	assert_string_equal(st.from, "fill");
	assert_string_equal(st.to, "rx");
	assert_int_equal(st.frame, rx_frame);
	assert_int_equal(st.len, 60);
	assert_contains(st.what, "RX: a 60-byte packet arrived");
	assert_ring(e, "fill", 1, 1);
	assert_ring(e, "rx", 1, 0);
	assert_ring(e, "wire", 1, 1);
	assert_owners(r, 6, 0, 0, 1, 0, 1);
	assert_conserved(e);

	st = step(e);
	assert_int_equal(st.kind, RL_STEP_IDLE);
	assert_contains(st.what, "IDLE");
	assert_int_equal(extra(e, "steps"), 3);

	assert_int_equal(sim()->complete(e, done, 4, NULL), 1);
	assert_int_equal(done[0], d.addr);
	assert_ring(e, "comp", 1, 1);
	assert_owners(r, 7, 0, 0, 1, 0, 0);
	assert_true(rl_region_is_free(r, tx_frame));
	assert_conserved(e);

	assert_int_equal(sim()->rx(e, out, 4, NULL), 1);
	assert_int_equal(rl_region_frame(r, out[0].addr), rx_frame);
	assert_int_equal(out[0].addr, rl_region_frame_addr(r, rx_frame) + HEADROOM);
	assert_int_equal(out[0].len, 60);
	assert_int_equal(out[0].options, 0);
	check_pattern(rl_region_ptr(r, out[0].addr), 60, 1, 0);
	assert_ring(e, "rx", 1, 1);
	assert_owners(r, 8, 0, 0, 0, 0, 0);
	assert_false(rl_region_is_free(r, rx_frame)); /* held by the program */
	release_frames(r, out, 1);
	assert_int_equal(r->nfree, 8);
	assert_conserved(e);
	sim()->close(e);
}

/* Both directions at once, many batches, payloads and lengths checked. */
static void exchange(const char *mode, uint32_t npkts)
{
	const struct rl_kv kv[] = {{"mode", mode}, {"ring_size", "256"}};
	struct rl_engine *e[2];
	struct rl_region *r[2];
	uint32_t sent[2] = {0, 0}, got[2] = {0, 0};
	uint64_t bytes[2] = {0, 0};
	struct rl_desc d[64], out[256];

	e[0] = open_sim(kv, 2, NULL);
	e[1] = open_sim(kv, 2, e[0]);
	r[0] = make_region(e[0], 1024);
	r[1] = make_region(e[1], 1024);
	while (got[0] < npkts || got[1] < npkts) {
		for (int a = 0; a < 2; a++) {
			int b = 1 - a, n = 0, q, k;
			uint32_t room =
			    ring_of(e[b], "fill").size - ring_of(e[b], "fill").pending;

			if (room && r[b]->nfree)
				fill(e[b], room < r[b]->nfree ? room : r[b]->nfree);
			while (n < 64 && sent[a] + n < npkts && r[a]->nfree > 0) {
				uint32_t seq = sent[a] + n, len = 60 + seq % 1441;

				d[n++] = build(r[a], len, seq);
				bytes[a] += len;
			}
			q = n ? tx(e[a], d, n) : 0;
			release_frames(r[a], d + q,
			               n - q); /* not queued: back to the pool */
			for (int i = q; i < n; i++)
				bytes[a] -= d[i].len;
			sent[a] += q;
			assert_int_equal(sim()->kick(e[a], NULL), 0);
			sim()->complete(e[a], NULL, 256, NULL);
			k = sim()->rx(e[b], out, 256, NULL);
			assert_true(k >= 0);
			for (int i = 0; i < k; i++, got[a]++) {
				assert_int_equal(out[i].len, 60 + got[a] % 1441);
				check_pattern(rl_region_ptr(r[b], out[i].addr),
				              out[i].len, got[a], 0);
			}
			release_frames(r[b], out, k);
			assert_conserved(e[a]);
			assert_conserved(e[b]);
		}
	}
	for (int a = 0; a < 2; a++) {
		struct rl_stats st = stats(e[a]);

		assert_int_equal(st.tx_pkts, npkts);
		assert_int_equal(st.tx_bytes, bytes[a]);
		assert_int_equal(st.rx_pkts, npkts);
		assert_int_equal(st.rx_bytes, bytes[1 - a]);
		assert_int_equal(st.drops, 0);
		assert_int_equal(extra(e[a], "wire_pkts"), npkts);
		assert_int_equal(extra(e[a], "wire_bytes"), bytes[a]);
	}
	sim()->close(e[0]);
	sim()->close(e[1]);
}

static void sim_exchanges_10000_packets_back_to_back(void **state)
{
	(void)state;
	exchange("copy", 10000);
	exchange("zerocopy", 10000);
}

/* A sends three packets to B; returns the engines for ledger checks. */
static void send_three(const char *mode, struct rl_engine **a, struct rl_engine **b)
{
	const struct rl_kv kv[] = {{"mode", mode}};
	struct rl_desc d[3], out[3];
	struct rl_region *ra, *rb;

	*a = open_sim(kv, 1, NULL);
	*b = open_sim(kv, 1, *a);
	ra = make_region(*a, 16);
	rb = make_region(*b, 16);
	fill(*b, 3);
	d[0] = build(ra, 100, 0);
	d[1] = build(ra, 200, 1);
	d[2] = build(ra, 1000, 2);
	assert_int_equal(tx(*a, d, 3), 3);
	sim()->kick(*a, NULL);
	assert_int_equal(sim()->complete(*a, NULL, 3, NULL), 3);
	assert_int_equal(sim()->rx(*b, out, 3, NULL), 3);
	release_frames(rb, out, 3);
}

static void sim_copy_mode_ledger_counts_kernel_copies(void **state)
{
	struct rl_engine *a, *b;
	struct rl_stats sa, sb;

	(void)state;
	send_three("copy", &a, &b);
	sa = stats(a);
	sb = stats(b);
	assert_string_equal(sa.mode, "copy");
	assert_int_equal(sa.ledger.kernel_copied, 1300); /* frame -> kernel on TX */
	assert_int_equal(sb.ledger.kernel_copied, 1300); /* kernel -> frame on RX */
	assert_int_equal(sa.ledger.kernel_how, RL_HOW_MEASURED);
	assert_int_equal(sa.ledger.driver_how, RL_HOW_NONE);
	assert_contains(sa.ledger.kernel_why, "copy mode");
	assert_contains(sa.ledger.kernel_why, "counted at each memcpy");
	assert_int_equal(
	    sa.ledger.copied + sa.ledger.referenced + sa.ledger.driver_copied, 0);
	assert_int_equal(
	    sb.ledger.copied + sb.ledger.referenced + sb.ledger.driver_copied, 0);
	assert_int_equal(extra(a, "wire_bytes"), 1300);
	assert_int_equal(extra(b, "wire_bytes"), 0);
	assert_int_equal(sim()->ledger(b)->kernel_copied, 1300);
	assert_ptr_equal(sim()->get_region(a)->ledger, sim()->ledger(a));
	sim()->close(a);
	sim()->close(b);
}

/* The part of field f of e's ledger on path dir. */
static uint64_t part(struct rl_engine *e, enum rl_ledger_field f, enum rl_dir dir)
{
	struct rl_stats st = stats(e);

	return rl_ledger_get_dir(&st.ledger, f, dir);
}

/* A pair in copy mode: B's kernel copies are all receive, A's all send. */
static void sim_copy_mode_ledger_knows_the_direction(void **state)
{
	struct rl_engine *a, *b;

	(void)state;
	send_three("copy", &a, &b);
	assert_int_equal(part(a, RL_LEDGER_KERNEL_COPIED, RL_DIR_TX), 1300);
	assert_int_equal(part(a, RL_LEDGER_KERNEL_COPIED, RL_DIR_RX), 0);
	assert_int_equal(part(b, RL_LEDGER_KERNEL_COPIED, RL_DIR_TX), 0);
	assert_int_equal(part(b, RL_LEDGER_KERNEL_COPIED, RL_DIR_RX), 1300);
	assert_int_equal(sim()->ledger(b)->rx[RL_LEDGER_KERNEL_COPIED], 1300);
	sim()->close(a);
	sim()->close(b);
}

/* One UDP packet of 100 payload bytes, segmented with strategy copy on a
 * copy-mode loopback, sent, received and read out with a reader: every
 * byte on its path. */
static void sim_loopback_ledger_parts_are_exact(void **state)
{
	static const uint8_t data[100] = "the ledger knows where each byte went";
	struct rl_engine *e = open_sim(NULL, 0, NULL);
	struct rl_region *r = make_region(e, 32);
	struct rl_seg_params p = {.strategy = RL_SEG_COPY, .proto = RL_IPPROTO_UDP,
	                          .mss = 1400,
	                          .flow = {.src_mac = {2, 0, 0, 0, 0, 1},
	                                   .dst_mac = {2, 0, 0, 0, 0, 2},
	                                   .src_ip = 0xc6120001, /* 198.18.0.1 */
	                                   .dst_ip = 0xc6120002,
	                                   .src_port = 9000,
	                                   .dst_port = 9999}};
	struct rl_segs s;
	struct rl_desc out[4];
	struct rl_reader *rd;
	struct rl_err err;
	uint8_t back[100];
	uint32_t plen;
	uint64_t touched_tx;
	const struct rl_ledger *l = sim()->ledger(e);

	(void)state;
	fill(e, 8);
	if (rl_segment(&s, r, data, sizeof(data), &p, NULL, &err))
		fail_msg("segment failed: %s", err.msg);
	assert_int_equal(s.nsegs, 1);
	plen = s.hdr_len + (uint32_t)sizeof(data);
	assert_int_equal(s.hdr_len, 42);
	/* segmenting: the payload copied in, the headers written - sent */
	assert_int_equal(part(e, RL_LEDGER_COPIED, RL_DIR_TX), 100);
	assert_int_equal(part(e, RL_LEDGER_HEADERS, RL_DIR_TX), 42);
	touched_tx = part(e, RL_LEDGER_TOUCHED, RL_DIR_TX); /* the UDP checksum */
	assert_int_equal(touched_tx, 100);
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		assert_int_equal(l->rx[f], 0);

	assert_int_equal(tx(e, s.descs, s.ndescs), 1);
	sim()->kick(e, NULL);
	assert_int_equal(sim()->complete(e, NULL, 4, NULL), 1);
	rl_segs_free(&s);
	assert_int_equal(sim()->rx(e, out, 4, NULL), 1);
	assert_int_equal(out[0].len, plen);
	/* the kernel stand-in copied the frame out on send and in on receive */
	assert_int_equal(part(e, RL_LEDGER_KERNEL_COPIED, RL_DIR_TX), plen);
	assert_int_equal(part(e, RL_LEDGER_KERNEL_COPIED, RL_DIR_RX), plen);
	assert_int_equal(l->kernel_copied, 2 * plen);
	/* headers only on the send path */
	assert_int_equal(part(e, RL_LEDGER_HEADERS, RL_DIR_RX), 0);

	/* the received payload read out: its checksum check touched it and
	 * the copy out is a copy on the receive path */
	assert_int_equal(rl_reader_new(&rd, r, NULL, NULL), 0);
	assert_int_equal(rl_reader_push_packet(rd, out, 1, NULL, &err), 0);
	assert_int_equal(part(e, RL_LEDGER_TOUCHED, RL_DIR_RX), 100);
	assert_int_equal(rl_reader_copy(rd, back, sizeof(back), &err), 0);
	assert_memory_equal(back, data, sizeof(data));
	assert_int_equal(part(e, RL_LEDGER_COPIED, RL_DIR_RX), 100);
	assert_int_equal(part(e, RL_LEDGER_COPIED, RL_DIR_TX), 100);
	assert_int_equal(l->copied, 200);
	/* nothing else moved on either path */
	assert_int_equal(part(e, RL_LEDGER_TOUCHED, RL_DIR_TX), touched_tx);
	assert_int_equal(part(e, RL_LEDGER_HEADERS, RL_DIR_TX), 42);
	for (int dir = RL_DIR_TX; dir <= RL_DIR_RX; dir++) {
		assert_int_equal(part(e, RL_LEDGER_REFERENCED, (enum rl_dir)dir), 0);
		assert_int_equal(part(e, RL_LEDGER_DRIVER_COPIED, (enum rl_dir)dir), 0);
	}
	rl_reader_free(rd);
	assert_conserved(e);
	sim()->close(e);
}

static void sim_zerocopy_ledger_counts_no_kernel_copy(void **state)
{
	struct rl_engine *a, *b;
	struct rl_stats sa, sb;

	(void)state;
	send_three("zerocopy", &a, &b);
	sa = stats(a);
	sb = stats(b);
	assert_string_equal(sa.mode, "zerocopy");
	assert_contains(sa.mode_why, "zerocopy");
	assert_int_equal(sa.ledger.kernel_copied, 0);
	assert_int_equal(sb.ledger.kernel_copied, 0);
	assert_int_equal(sa.ledger.kernel_how, RL_HOW_MEASURED);
	assert_contains(sa.ledger.kernel_why, "DMA");
	assert_contains(sa.ledger.kernel_why, "wire_bytes");
	assert_int_equal(extra(a, "wire_bytes"), 1300);
	assert_int_equal(extra(a, "wire_pkts"), 3);
	assert_int_equal(sb.rx_bytes, 1300);
	sim()->close(a);
	sim()->close(b);
}

static void sim_drops_when_fill_ring_empty(void **state)
{
	struct rl_engine *e = open_sim(NULL, 0, NULL);
	struct rl_region *r = make_region(e, 16);
	struct rl_desc d[3], out[4];
	struct rl_stats st;

	(void)state;
	assert_false(ring_of(e, "fill").need_wakeup);
	for (int i = 0; i < 3; i++)
		d[i] = build(r, 64, i);
	assert_int_equal(tx(e, d, 3), 3);
	sim()->kick(e, NULL);
	assert_int_equal(sim()->rx(e, out, 4, NULL), 0);
	st = stats(e);
	assert_int_equal(st.drops, 3);
	assert_int_equal(st.rx_pkts, 0);
	assert_int_equal(extra(e, "rx_dropped"), 3);
	assert_int_equal(extra(e, "rx_fill_ring_empty_descs"), 3);
	assert_int_equal(extra(e, "rx_ring_full"), 0);
	assert_true(ring_of(e, "fill").need_wakeup);            /* the NIC starved */
	assert_int_equal(sim()->complete(e, NULL, 4, NULL), 3); /* sent all the same */
	assert_int_equal(r->nfree, 16);
	assert_conserved(e);

	/* with a frame on the fill ring the next one arrives */
	fill(e, 1);
	d[0] = build(r, 64, 9);
	tx(e, d, 1);
	sim()->kick(e, NULL);
	assert_int_equal(sim()->rx(e, out, 4, NULL), 1);
	check_pattern(rl_region_ptr(r, out[0].addr), 64, 9, 0);
	assert_false(ring_of(e, "fill").need_wakeup);
	assert_int_equal(stats(e).drops, 3);
	sim()->close(e);
}

static void sim_drop_step_says_why(void **state)
{
	const struct rl_kv kv[] = {{"step", "true"}};
	struct rl_engine *e = open_sim(kv, 1, NULL);
	struct rl_region *r = make_region(e, 4);
	struct rl_desc d = build(r, 64, 0);
	struct rl_step st;

	(void)state;
	tx(e, &d, 1);
	assert_int_equal(step(e).kind, RL_STEP_TX);
	assert_int_equal(step(e).kind, RL_STEP_COMPLETE);
	st = step(e);
	assert_int_equal(st.kind, RL_STEP_DROP);
	assert_string_equal(st.from, "wire");
	assert_string_equal(st.to, "dropped");
	assert_contains(st.what, "fill ring");
	assert_int_equal(extra(e, "rx_fill_ring_empty_descs"), 1);
	assert_conserved(e);
	sim()->close(e);
}

static void expect_bad_option(const char *key, const char *val, const char *says)
{
	const struct rl_kv kv[] = {{key, val}};
	struct rl_engine *e = NULL;
	struct rl_err err;

	assert_int_equal(try_open(&e, kv, 1, NULL, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_null(e);
	assert_contains(err.msg, says);
}

static void sim_rejects_bad_options(void **state)
{
	(void)state;
	expect_bad_option("colour", "blue", "unknown option 'colour'");
	expect_bad_option("colour", "blue", "mode=copy|zerocopy");
	expect_bad_option("colour", "blue", "wire_capacity=N");
	expect_bad_option("mode", "fast", "use mode=copy, mode=zerocopy");
	expect_bad_option("need_wakeup", "yes", "need_wakeup=true or need_wakeup=false");
	expect_bad_option("step", "1", "step=true or step=false");
	expect_bad_option("ring_size", "1000", "power of two");
	expect_bad_option("ring_size", "0", "ring_size=0");
	expect_bad_option("tx_size", "-4", "tx_size=-4");
	expect_bad_option("fill_size", "abc", "fill_size=abc");
	expect_bad_option("rx_size", "4194304", "1048576");
	expect_bad_option("wire_capacity", "0", "wire_capacity=0");
	expect_bad_option("mode", NULL, "mode=");
	expect_bad_option("peer", "a", "peer must be another engine");
}

static void sim_option_sizes_apply(void **state)
{
	const struct rl_kv kv[] = {{"fill_size", "8"}, {"ring_size", "64"},
	                           {"tx_size", "16"},  {"need_wakeup", "false"},
	                           {"mode", "auto"},   {"wire_capacity", "10"}};
	struct rl_engine *e = open_sim(kv, 6, NULL);
	struct rl_stats st;

	(void)state;
	assert_int_equal(ring_of(e, "fill").size, 8);
	assert_int_equal(ring_of(e, "comp").size, 64);
	assert_int_equal(ring_of(e, "rx").size, 64);
	assert_int_equal(ring_of(e, "tx").size, 16);
	assert_int_equal(ring_of(e, "wire").size, 10);
	assert_false(ring_of(e, "tx").need_wakeup);
	st = stats(e);
	assert_string_equal(st.mode, "zerocopy");
	assert_contains(st.mode_why, "auto");
	sim()->close(e);

	e = open_sim(NULL, 0, NULL);
	assert_int_equal(ring_of(e, "fill").size, 2048);
	assert_int_equal(ring_of(e, "tx").size, 2048);
	assert_int_equal(ring_of(e, "wire").size, 4096);
	assert_true(ring_of(e, "tx").need_wakeup);
	assert_string_equal(stats(e).mode, "copy");
	assert_null(sim()->get_region(e));
	assert_int_equal(sim()->caps, RL_CAP_STEP | RL_CAP_ZEROCOPY | RL_CAP_SG |
	                                  RL_CAP_PEER | RL_CAP_TSO | RL_CAP_GSO |
	                                  RL_CAP_CSUM | RL_CAP_UNALIGNED | RL_CAP_SHARED);
	/* as opened: the kernel's gso, no tso, no checksum offload */
	assert_int_equal(sim()->caps_of(e, NULL, 0), RL_CAP_STEP | RL_CAP_ZEROCOPY |
	                                                 RL_CAP_SG | RL_CAP_PEER |
	                                                 RL_CAP_GSO | RL_CAP_SHARED);
	assert_int_equal(sim()->abi, RL_ENGINE_ABI);
	assert_contains(sim()->options, "wire_capacity=N");
	sim()->close(e);
}

static void sim_refuses_tx_of_frames_not_held(void **state)
{
	struct rl_engine *e = open_sim(NULL, 0, NULL);
	struct rl_region *r = make_region(e, 8);
	struct rl_desc good, bad[2];
	struct rl_err err;
	uint32_t fill_frame = 0;

	(void)state;
	fill(e, 1);
	for (uint32_t f = 0; f < 8; f++)
		if (rl_region_owner(r, f) == RL_OWN_FILL)
			fill_frame = f;
	good = build(r, 60, 0);

	/* a frame that is free in the pool */
	bad[0] = good;
	bad[1] = (struct rl_desc){.addr = rl_region_frame_addr(r, r->free_stack[0]),
	                          .len = 60};
	assert_int_equal(sim()->tx(e, bad, 2, &err), -EPERM);
	assert_contains(err.msg, "free in the pool");
	assert_ring(e, "tx", 0, 0);
	assert_owners(r, 7, 1, 0, 0, 0, 0);
	assert_false(rl_region_is_free(r, rl_region_frame(r, good.addr)));
	assert_conserved(e);

	/* a frame on the fill ring */
	bad[1] = (struct rl_desc){.addr = rl_region_frame_addr(r, fill_frame), .len = 60};
	assert_int_equal(sim()->tx(e, bad, 2, &err), -EPERM);
	assert_contains(err.msg, "is owned by fill");
	assert_ring(e, "tx", 0, 0);
	assert_owners(r, 7, 1, 0, 0, 0, 0);
	assert_conserved(e);

	/* the same frame twice, then a descriptor the sim refuses: the
	 * frame's two references are taken back, no count is left */
	{
		struct rl_desc three[3] = {good, good, {.addr = r->size + 4096, .len = 60}};

		assert_int_equal(sim()->tx(e, three, 3, &err), -EINVAL);
		assert_ring(e, "tx", 0, 0);
		assert_owners(r, 7, 1, 0, 0, 0, 0);
		assert_int_equal(r->nshared, 0);
		assert_int_equal(rl_region_refs(r, rl_region_frame(r, good.addr)), 0);
		assert_conserved(e);
	}

	/* outside the region */
	bad[1] = (struct rl_desc){.addr = r->size + 4096, .len = 60};
	assert_int_equal(sim()->tx(e, bad, 2, &err), -EINVAL);
	assert_contains(err.msg, "outside the region");

	/* a packet that does not end */
	bad[1] = good;
	bad[0].options = RL_DESC_CONTD;
	bad[1].options = RL_DESC_CONTD;
	assert_int_equal(sim()->tx(e, &bad[1], 1, &err), -EINVAL);
	assert_contains(err.msg, "RL_DESC_CONTD");
	assert_ring(e, "tx", 0, 0);
	assert_owners(r, 7, 1, 0, 0, 0, 0);
	assert_conserved(e);

	/* and the good one still goes - twice at once: one frame in two
	 * descriptors (RL_CAP_SHARED), owned by tx once */
	bad[0] = bad[1] = good;
	bad[0].options = bad[1].options = 0;
	assert_int_equal(tx(e, bad, 2), 2);
	assert_owners(r, 6, 1, 0, 0, 1, 0);
	assert_int_equal(r->nshared, 1);
	assert_int_equal(rl_region_refs(r, rl_region_frame(r, good.addr)), 2);
	assert_conserved(e);
	sim()->close(e);
}

/* unaligned=true: one descriptor across two frames moves both owners,
 * all or nothing, through tx, the NIC and completion; a descriptor into a
 * frame the program does not hold is refused and moves nothing. */
static void sim_unaligned_descriptor_moves_every_frame(void **state)
{
	const struct rl_kv kv[] = {{"unaligned", "true"}, {"step", "true"}};
	struct rl_engine *e = open_sim(kv, 2, NULL);
	struct rl_region *r = make_region(e, 8);
	struct rl_desc d, bad;
	struct rl_step st;
	struct rl_err err;
	uint64_t a, b, addrs[4];

	(void)state;
	assert_true(sim()->caps_of(e, NULL, 0) & RL_CAP_UNALIGNED);
	assert_int_equal(rl_region_take(r, &a, NULL), 0); /* frame 0 */
	assert_int_equal(rl_region_take(r, &b, NULL), 0); /* frame 1 */
	assert_int_equal(b, a + FRAME);
	/* 1500 bytes from 1000 bytes before the end of frame 0 */
	d = (struct rl_desc){.addr = b - 1000, .len = 1500};
	write_pattern(rl_region_ptr(r, d.addr), d.len, 7, 0);

	/* from held frame 1 into frame 2, free in the pool: refused, and
	 * frame 1 is not left moved */
	bad = (struct rl_desc){.addr = b + FRAME - 100, .len = 200};
	assert_int_equal(sim()->tx(e, &bad, 1, &err), -EPERM);
	assert_contains(err.msg, "frame 2 is free in the pool");
	assert_owners(r, 8, 0, 0, 0, 0, 0);
	assert_int_equal(rl_region_owner(r, 1), RL_OWN_APP);
	assert_conserved(e);

	assert_int_equal(tx(e, &d, 1), 1);
	assert_owners(r, 6, 0, 0, 0, 2, 0);
	assert_int_equal(rl_region_owner(r, 0), RL_OWN_TX);
	assert_int_equal(rl_region_owner(r, 1), RL_OWN_TX);
	/* frame 1 is in flight, frame 2 free: a descriptor from one into the
	 * other is refused, and the reference it took on frame 1 (which may
	 * be in several descriptors) is given back */
	bad = (struct rl_desc){.addr = b + FRAME - 100, .len = 200};
	assert_int_equal(sim()->tx(e, &bad, 1, &err), -EPERM);
	assert_contains(err.msg, "frame 2 is free in the pool");
	assert_owners(r, 6, 0, 0, 0, 2, 0);
	assert_int_equal(r->nshared, 0);
	assert_int_equal(rl_region_refs(r, 1), 1);
	assert_conserved(e);

	st = step(e);
	assert_int_equal(st.kind, RL_STEP_TX);
	assert_int_equal(st.len, 1500);
	assert_owners(r, 6, 0, 2, 0, 0, 0);
	assert_conserved(e);
	st = step(e);
	assert_int_equal(st.kind, RL_STEP_COMPLETE);
	assert_owners(r, 6, 0, 0, 0, 0, 2);
	assert_conserved(e);
	assert_int_equal(sim()->complete(e, addrs, 4, &err), 1);
	assert_int_equal(addrs[0], d.addr);
	assert_owners(r, 8, 0, 0, 0, 0, 0);
	assert_int_equal(r->nfree, 8); /* both frames back in the pool */
	assert_conserved(e);
	/* it went on the wire whole: loopback, it arrives in one frame */
	assert_int_equal(fill(e, 1), 1);
	st = step(e);
	assert_int_equal(st.kind, RL_STEP_RX);
	assert_int_equal(st.len, 1500);
	sim()->close(e);
}

static void sim_full_tx_ring_returns_enospc(void **state)
{
	const struct rl_kv kv[] = {{"tx_size", "4"}};
	struct rl_engine *e = open_sim(kv, 1, NULL);
	struct rl_region *r = make_region(e, 16);
	struct rl_desc d[6], more;
	struct rl_err err;

	(void)state;
	for (int i = 0; i < 6; i++)
		d[i] = build(r, 60, i);
	assert_int_equal(tx(e, d, 6), 4); /* as many whole packets as fit */
	assert_ring(e, "tx", 4, 0);
	assert_int_equal(rl_region_owner(r, rl_region_frame(r, d[4].addr)), RL_OWN_APP);
	assert_int_equal(sim()->tx(e, &d[4], 2, &err), -ENOSPC);
	assert_int_equal(err.code, ENOSPC);
	assert_string_equal(err.msg,
	                    "the tx ring is full (4 entries pending) - kick the NIC "
	                    "(e:kick()) and collect completions (complete, or e:complete())");
	assert_owners(r, 12, 0, 0, 0, 4, 0);
	assert_conserved(e);

	/* a two-fragment packet needs two slots: with one free it waits */
	sim()->kick(e, NULL);
	sim()->complete(e, NULL, 16, NULL);
	assert_int_equal(tx(e, &d[4], 1), 1);
	assert_int_equal(tx(e, &d[5], 1), 1);
	more = build(r, 60, 7);
	assert_int_equal(tx(e, &more, 1), 1); /* 3 of 4 used */
	d[0] = build(r, 60, 8);
	d[0].options = RL_DESC_CONTD;
	d[1] = build(r, 60, 9);
	assert_int_equal(sim()->tx(e, d, 2, &err), -ENOSPC);
	assert_ring(e, "tx", 7, 4);
	assert_int_equal(rl_region_owner(r, rl_region_frame(r, d[0].addr)), RL_OWN_APP);

	/* and a packet longer than the ring can never fit */
	struct rl_desc big[5];
	for (int i = 0; i < 5; i++) {
		big[i] = d[i % 2];
		big[i].options = i < 4 ? RL_DESC_CONTD : 0;
	}
	assert_int_equal(sim()->tx(e, big, 5, &err), -EINVAL);
	assert_contains(err.msg, "larger tx_size");
	assert_conserved(e);
	sim()->close(e);
}

static void sim_fill_is_all_or_nothing(void **state)
{
	const struct rl_kv kv[] = {{"fill_size", "16"}};
	struct rl_engine *e = open_sim(kv, 1, NULL);
	struct rl_region *r;
	struct rl_err err;

	(void)state;
	assert_int_equal(sim()->fill(e, 1, &err), -EINVAL);
	assert_contains(err.msg, "no region yet");
	r = make_region(e, 8);
	assert_int_equal(fill(e, 4), 4);
	assert_int_equal(sim()->fill(e, 100, &err), -ENOSPC);
	assert_string_equal(err.msg, "the fill ring has room for 12 entries, not 100 - "
	                             "receive (recv, or e:rx()) or fill fewer");
	assert_int_equal(sim()->fill(e, 5, &err), -ENOBUFS);
	assert_string_equal(err.msg,
	                    "only 4 frames are free in the region, not 5 - release "
	                    "received packets or complete sent ones first");
	assert_ring(e, "fill", 4, 0);
	assert_owners(r, 4, 4, 0, 0, 0, 0);
	assert_int_equal(r->nfree, 4);
	assert_int_equal(fill(e, 0), 0);
	assert_conserved(e);
	sim()->close(e);
}

static void sim_region_only_once(void **state)
{
	struct rl_engine *e = open_sim(NULL, 0, NULL);
	struct rl_region_params p = {.frames = 4, .frame_size = FRAME, .headroom = 0};
	struct rl_region *r = make_region(e, 8), *again = NULL;
	struct rl_err err;

	(void)state;
	assert_int_equal(sim()->region(e, &p, &again, &err), -EBUSY);
	assert_contains(err.msg, "this engine already has a region");
	assert_null(again);
	assert_ptr_equal(sim()->get_region(e), r);
	assert_int_equal(r->frames, 8);
	sim()->close(e);

	/* bad region parameters come back from the core, engine unchanged */
	e = open_sim(NULL, 0, NULL);
	p.frame_size = 1000;
	assert_true(sim()->region(e, &p, &again, &err) < 0);
	assert_null(sim()->get_region(e));
	make_region(e, 4);
	sim()->close(e);
}

static void sim_loopback_receives_what_it_sends(void **state)
{
	struct rl_engine *e = open_sim(NULL, 0, NULL);
	struct rl_region *r = make_region(e, 32);
	struct rl_desc d[5], out[8];
	uint64_t addrs[8];

	(void)state;
	assert_contains(ring_of(e, "wire").note, "loopback");
	fill(e, 8);
	for (int i = 0; i < 5; i++)
		d[i] = build(r, 100 + i, 40 + i);
	assert_int_equal(tx(e, d, 5), 5);
	assert_ring(e, "tx", 5, 0);
	/* no kick, no transmit: rx finds nothing */
	assert_int_equal(sim()->rx(e, out, 8, NULL), 0);
	assert_int_equal(sim()->kick(e, NULL), 0);
	assert_ring(e, "tx", 5, 5);
	assert_ring(e, "comp", 5, 0);
	assert_int_equal(sim()->complete(e, addrs, 8, NULL), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(addrs[i], d[i].addr);
	assert_int_equal(sim()->rx(e, out, 8, NULL), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(out[i].len, 100 + i);
		check_pattern(rl_region_ptr(r, out[i].addr), out[i].len, 40 + i, 0);
	}
	release_frames(r, out, 5);
	assert_owners(r, 29, 3, 0, 0, 0, 0);
	assert_int_equal(stats(e).kicks, 1);
	assert_conserved(e);
	sim()->close(e);
}

static void sim_chains_fragments_with_contd(void **state)
{
	const struct rl_kv kv[] = {{"mode", "zerocopy"}};
	struct rl_engine *a = open_sim(kv, 1, NULL);
	struct rl_engine *b = open_sim(kv, 1, a);
	struct rl_region *ra = make_region(a, 16), *rb = make_region(b, 16);
	struct rl_desc d[2], out[4];
	struct rl_err err;
	uint8_t *p;

	(void)state;
	/* one packet of 3000 bytes in two frames of 1500 */
	d[0] = build(ra, 1500, 5);
	d[0].options = RL_DESC_CONTD;
	d[1] = build(ra, 1500, 5);
	write_pattern(rl_region_ptr(ra, d[1].addr), 1500, 5, 1500);
	fill(b, 4);
	assert_int_equal(tx(a, d, 2), 2);
	sim()->kick(a, NULL);
	assert_int_equal(sim()->complete(a, NULL, 4, NULL), 2);
	assert_int_equal(stats(a).tx_pkts, 1);
	/* the receiver needs two frames of ROOM bytes */
	assert_int_equal(sim()->rx(b, out, 1, &err), -EMSGSIZE);
	assert_contains(err.msg, "ask for at least 2");
	assert_ring(b, "rx", 2, 0);
	assert_int_equal(sim()->rx(b, out, 4, NULL), 2);
	assert_int_equal(out[0].options, RL_DESC_CONTD);
	assert_int_equal(out[0].len, ROOM);
	assert_int_equal(out[1].options, 0);
	assert_int_equal(out[1].len, 3000 - ROOM);
	p = rl_region_ptr(rb, out[0].addr);
	check_pattern(p, ROOM, 5, 0);
	check_pattern(rl_region_ptr(rb, out[1].addr), 3000 - ROOM, 5, ROOM);
	assert_int_equal(stats(b).rx_pkts, 1);
	assert_int_equal(stats(b).rx_bytes, 3000);
	release_frames(rb, out, 2);
	assert_conserved(a);
	assert_conserved(b);
	sim()->close(b);
	sim()->close(a);
}

static void sim_counts_invalid_tx_descriptors(void **state)
{
	const struct rl_kv kv[] = {{"step", "true"}};
	struct rl_engine *e = open_sim(kv, 1, NULL);
	struct rl_region *r = make_region(e, 8);
	struct rl_desc d = build(r, 60, 0);
	struct rl_step st;

	(void)state;
	d.len = FRAME; /* from the headroom on, this runs into the next frame */
	assert_int_equal(tx(e, &d, 1), 1);
	st = step(e);
	assert_int_equal(st.kind, RL_STEP_TX);
	assert_string_equal(st.to, "dropped");
	assert_contains(st.what, "failed the kernel's check");
	assert_int_equal(extra(e, "tx_invalid_descs"), 1);
	assert_int_equal(stats(e).drops, 1);
	assert_int_equal(stats(e).tx_pkts, 0);
	assert_ring(e, "wire", 0, 0);
	assert_int_equal(step(e).kind, RL_STEP_COMPLETE); /* completed anyway */
	assert_int_equal(step(e).kind, RL_STEP_IDLE);
	assert_int_equal(sim()->complete(e, NULL, 4, NULL), 1);
	assert_int_equal(r->nfree, 8);
	assert_conserved(e);
	sim()->close(e);
}

static void sim_wire_overflow_is_counted(void **state)
{
	const struct rl_kv small[] = {{"wire_capacity", "2"}};
	struct rl_engine *a = open_sim(NULL, 0, NULL);
	struct rl_engine *b = open_sim(small, 1, a);
	struct rl_region *ra = make_region(a, 8), *rb = make_region(b, 8);
	struct rl_desc d[5], out[8];

	(void)state;
	for (int i = 0; i < 5; i++)
		d[i] = build(ra, 60, i);
	tx(a, d, 5);
	sim()->kick(a, NULL);
	assert_int_equal(sim()->complete(a, NULL, 8, NULL), 5);
	assert_int_equal(extra(a, "wire_drops"), 3);
	assert_int_equal(extra(a, "wire_pkts"), 2);
	assert_int_equal(stats(a).drops, 3);
	assert_int_equal(ring_of(b, "wire").pending, 2);
	fill(b, 8);
	assert_int_equal(sim()->rx(b, out, 8, NULL), 2);
	check_pattern(rl_region_ptr(rb, out[1].addr), 60, 1, 0);
	release_frames(rb, out, 2);
	assert_conserved(a);
	assert_conserved(b);
	sim()->close(a);
	sim()->close(b);
}

static void sim_closing_one_of_a_pair_unplugs_the_other(void **state)
{
	struct rl_engine *a = open_sim(NULL, 0, NULL);
	struct rl_engine *b = open_sim(NULL, 0, a);
	struct rl_engine *c = NULL;
	struct rl_region *ra = make_region(a, 8);
	struct rl_desc d;
	struct rl_err err;

	(void)state;
	make_region(b, 8);
	fill(b, 2);
	assert_contains(ring_of(a, "wire").note, "wired to a peer");
	/* a is taken: a third engine cannot join */
	assert_int_equal(try_open(&c, NULL, 0, a, &err), -EBUSY);
	assert_contains(err.msg, "already wired");
	sim()->close(b);
	assert_contains(ring_of(a, "wire").note, "peer closed");
	d = build(ra, 60, 0);
	tx(a, &d, 1);
	assert_int_equal(sim()->kick(a, NULL), 0);
	assert_int_equal(extra(a, "wire_drops"), 1);
	assert_int_equal(stats(a).drops, 1);
	assert_int_equal(sim()->complete(a, NULL, 4, NULL), 1);
	assert_int_equal(ra->nfree, 8);
	assert_conserved(a);
	/* an unplugged engine can be wired again */
	c = open_sim(NULL, 0, a);
	sim()->close(a); /* closing in the other order is clean too */
	sim()->close(c);
}

static void sim_peer_must_be_a_sim(void **state)
{
	struct rl_engine_ops other = {.abi = RL_ENGINE_ABI, .name = "afxdp"};
	struct rl_engine *a = open_sim(NULL, 0, NULL), *b = NULL;
	struct rl_open_args args = {.peer = a, .peer_ops = &other};
	struct rl_err err;

	(void)state;
	assert_int_equal(sim()->open(&b, &args, &err), -EINVAL);
	assert_contains(err.msg, "'afxdp'");
	assert_contains(err.msg, "another sim engine");
	assert_null(b);
	assert_contains(ring_of(a, "wire").note, "loopback");
	sim()->close(a);
}

static void sim_completions_wait_when_comp_ring_full(void **state)
{
	const struct rl_kv kv[] = {
	    {"comp_size", "2"}, {"tx_size", "4"}, {"step", "true"}};
	struct rl_engine *e = open_sim(kv, 3, NULL);
	struct rl_region *r = make_region(e, 16);
	struct rl_desc d[4];
	struct rl_step st;
	int kinds[16], n = 0;

	(void)state;
	fill(e, 8);
	for (int i = 0; i < 4; i++)
		d[i] = build(r, 60, i);
	assert_int_equal(tx(e, d, 4), 4);
	do {
		st = step(e);
		kinds[n++] = st.kind;
	} while (st.kind != RL_STEP_IDLE && n < 16);
	/* priority complete > rx > tx; after two completions the comp ring is
	 * full and the last two sent frames stay with the NIC */
	assert_int_equal(n, 11);
	assert_int_equal(kinds[0], RL_STEP_TX);
	assert_int_equal(kinds[1], RL_STEP_COMPLETE);
	assert_int_equal(kinds[2], RL_STEP_RX);
	assert_owners(r, 4, 4, 2, 4, 0, 2);
	assert_contains(st.what, "comp ring is full");
	assert_ring(e, "comp", 2, 0);
	assert_conserved(e);
	assert_int_equal(sim()->complete(e, NULL, 8, NULL), 2); /* step mode: no poll */
	assert_int_equal(step(e).kind, RL_STEP_COMPLETE);
	assert_int_equal(step(e).kind, RL_STEP_COMPLETE);
	assert_int_equal(sim()->complete(e, NULL, 8, NULL), 2);
	assert_owners(r, 8, 4, 0, 4, 0, 0);
	assert_conserved(e);
	sim()->close(e);
}

static void sim_rx_ring_full_drops_and_counts(void **state)
{
	const struct rl_kv kv[] = {{"rx_size", "2"}};
	struct rl_engine *e = open_sim(kv, 1, NULL);
	struct rl_region *r = make_region(e, 16);
	struct rl_desc d[4], out[4];

	(void)state;
	fill(e, 4);
	for (int i = 0; i < 4; i++)
		d[i] = build(r, 60, i);
	tx(e, d, 4);
	sim()->kick(e, NULL);
	assert_int_equal(sim()->rx(e, out, 4, NULL), 2);
	assert_int_equal(extra(e, "rx_ring_full"), 2);
	assert_int_equal(extra(e, "rx_dropped"), 2);
	assert_int_equal(stats(e).drops, 2);
	check_pattern(rl_region_ptr(r, out[1].addr), 60, 1, 0);
	release_frames(r, out, 2);
	assert_conserved(e);
	sim()->close(e);
}

static void sim_stats_name_every_counter(void **state)
{
	static const char *const names[] = {
	    "rx_dropped",
	    "rx_invalid_descs",
	    "tx_invalid_descs",
	    "rx_ring_full",
	    "rx_fill_ring_empty_descs",
	    "tx_ring_empty_descs",
	    "wire_pkts",
	    "wire_bytes",
	    "wire_drops",
	    "wire_lost",
	    "wire_reordered",
	    "steps",
	    "tx_ring_full",
	    "comp_ring_full",
	};
	struct rl_engine *e = open_sim(NULL, 0, NULL);
	struct rl_stats st;

	(void)state;
	st = stats(e);
	assert_int_equal(st.nextra, sizeof(names) / sizeof(names[0]));
	for (unsigned i = 0; i < st.nextra; i++)
		assert_string_equal(st.extra[i].name, names[i]);
	assert_int_equal(st.ledger.driver_how, RL_HOW_NONE);
	sim()->kick(e, NULL); /* no region: counted, nothing else */
	assert_int_equal(stats(e).kicks, 1);
	sim()->close(e);
	sim()->close(NULL);
}

/* tx_x (offloads): what this sim was not opened for, what is not a TCP/UDP
 * over IPv4 packet, memory outside the region, a broken chain - each one
 * error naming what to do, nothing queued, owners conserved; with nothing
 * asked, an ordinary send. */
static void sim_tx_x_refuses_what_it_cannot(void **state)
{
	struct rl_kv nogso = {"gso", "false"};
	struct rl_engine *e = open_sim(NULL, 0, NULL), *g = open_sim(&nogso, 1, NULL);
	struct rl_region *r = make_region(e, 16), *rg = make_region(g, 16);
	struct rl_desc d = build(r, 200, 1), dg = build(rg, 200, 2); /* not IPv4 */
	struct rl_xdesc x = {.addr = d.addr, .len = d.len};
	struct rl_xdesc xg = {.addr = dg.addr, .len = dg.len};
	static const uint8_t app[64];
	struct {
		struct rl_tx_opts o;
		struct rl_xdesc x;
		int rc;
		const char *says;
	} cases[] = {
	    {{.gso_mss = 1000, .flags = RL_TX_TSO}, x, -EOPNOTSUPP, "open sim tso=true"},
	    {{.flags = RL_TX_CSUM}, x, -EOPNOTSUPP, "open sim csum=true"},
	    {{.flags = 0x80}, x, -EINVAL, "flags 0x80"},
	    {{.gso_mss = 1000}, x, -EINVAL, "not IPv4 over Ethernet"},
	    {{0}, {.addr = RL_ADDR_NONE, .va = app, .len = 64, .options = RL_DESC_EXT},
	     -EOPNOTSUPP, "region frames only"},
	    {{0}, {.addr = d.addr, .len = d.len, .options = RL_DESC_CONTD}, -EINVAL,
	     "RL_DESC_CONTD"},
	    {{0}, {.addr = 16u * FRAME, .len = 10}, -ERANGE, "outside"},
	};
	struct rl_tx_opts gso = {.gso_mss = 1000};
	struct rl_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sim()->tx_x(e, &cases[i].x, 1, &cases[i].o, &err),
		                 cases[i].rc);
		assert_contains(err.msg, cases[i].says);
		assert_ring(e, "tx", 0, 0);
		assert_conserved(e);
	}
	assert_int_equal(sim()->tx_x(g, &xg, 1, &gso, &err), -EOPNOTSUPP);
	assert_contains(err.msg, "gso=false");
	assert_ring(g, "tx", 0, 0);
	/* nothing asked: the packet goes as tx() would send it */
	assert_int_equal(sim()->tx_x(e, &x, 1, NULL, &err), 1);
	assert_ring(e, "tx", 1, 0);
	assert_int_equal(sim()->kick(e, &err), 0);
	assert_int_equal(sim()->complete(e, NULL, 16, &err), 1);
	assert_conserved(e);
	assert_int_equal(stats(e).tx_pkts, 1);
	release_frames(rg, &dg, 1);
	sim()->close(g);
	sim()->close(e);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(sim_walks_one_packet_through_four_rings),
    cmocka_unit_test(sim_exchanges_10000_packets_back_to_back),
    cmocka_unit_test(sim_copy_mode_ledger_counts_kernel_copies),
    cmocka_unit_test(sim_zerocopy_ledger_counts_no_kernel_copy),
    cmocka_unit_test(sim_copy_mode_ledger_knows_the_direction),
    cmocka_unit_test(sim_loopback_ledger_parts_are_exact),
    cmocka_unit_test(sim_drops_when_fill_ring_empty),
    cmocka_unit_test(sim_drop_step_says_why),
    cmocka_unit_test(sim_rejects_bad_options),
    cmocka_unit_test(sim_option_sizes_apply),
    cmocka_unit_test(sim_refuses_tx_of_frames_not_held),
    cmocka_unit_test(sim_unaligned_descriptor_moves_every_frame),
    cmocka_unit_test(sim_full_tx_ring_returns_enospc),
    cmocka_unit_test(sim_fill_is_all_or_nothing),
    cmocka_unit_test(sim_region_only_once),
    cmocka_unit_test(sim_loopback_receives_what_it_sends),
    cmocka_unit_test(sim_chains_fragments_with_contd),
    cmocka_unit_test(sim_counts_invalid_tx_descriptors),
    cmocka_unit_test(sim_wire_overflow_is_counted),
    cmocka_unit_test(sim_closing_one_of_a_pair_unplugs_the_other),
    cmocka_unit_test(sim_peer_must_be_a_sim),
    cmocka_unit_test(sim_completions_wait_when_comp_ring_full),
    cmocka_unit_test(sim_rx_ring_full_drops_and_counts),
    cmocka_unit_test(sim_stats_name_every_counter),
    cmocka_unit_test(sim_tx_x_refuses_what_it_cannot),
};

RL_UNIT_MAIN(tests)
