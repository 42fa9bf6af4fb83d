/*
 * test_segment.c - 64 KiB segmented with each strategy: exact ledger
 * figures, every segment dissects with correct checksums, the payloads put
 * together equal the source, sequence numbers continue; reuse resends;
 * born and sg segments that share frames; the partial checksum; tso; bad
 * input that changes nothing; and one segmentation sent end to end through
 * two simulators wired back to back and read back with the in-place reader.
 * The region's conservation invariant is checked after every test.
 */
#include <errno.h>
#include <stdlib.h>

#include "ringlab/checksum.h"
#include "ringlab/engine.h"
#include "ringlab/reader.h"
#include "ringlab/segment.h"
#include "sim.h"
#include "unit.h"

#define FRAME    2048u
#define HEADROOM 256u
#define BODY     65536u
#define MSS      1448u

static const struct rl_flow flow = {
    .src_mac = {0x02, 0, 0, 0, 0, 0x01},
    .dst_mac = {0x02, 0, 0, 0, 0, 0x02},
    .src_ip = 0xc6120001,
    .dst_ip = 0xc6120002,
    .src_port = 40000,
    .dst_port = 8080,
    .ip_id = 100,
};

static uint8_t body[BODY];

static void make_body(void)
{
	uint64_t seed = 7;

	for (uint32_t i = 0; i < BODY; i++)
		body[i] = (uint8_t)rl_unit_rand(&seed);
}

static void region_up(struct rl_region *r, uint32_t frames, uint32_t headroom)
{
	struct rl_region_params p = {
	    .frames = frames, .frame_size = FRAME, .headroom = headroom};

	assert_int_equal(rl_region_init(r, &p, NULL, NULL), 0);
}

static void assert_conserved(const struct rl_region *r)
{
	struct rl_err err;

	if (rl_region_check(r, &err))
		fail_msg("conservation broken: %s", err.msg);
}

/* Region down, after checking that every frame came home. */
static void region_down(struct rl_region *r)
{
	assert_conserved(r);
	assert_int_equal(r->nfree, r->frames);
	rl_region_fini(r);
}

static struct rl_seg_params tcp_params(enum rl_seg_strategy st)
{
	return (struct rl_seg_params){.strategy = st,
	                              .proto = RL_IPPROTO_TCP,
	                              .mss = MSS,
	                              .flow = flow,
	                              .tcp = {.seq = 0xffff0000u,
	                                      .ack = 77,
	                                      .window = 1024,
	                                      .has_ts = true,
	                                      .ts_val = 1,
	                                      .ts_ecr = 2}};
}

/* Data born in the region: allocated there and written once by the test,
 * the way a program generates data straight into packet memory. */
static uint8_t *born(struct rl_region *r, uint64_t *addr)
{
	assert_int_equal(rl_region_alloc(r, BODY, addr, NULL), 0);
	memcpy(rl_region_ptr(r, *addr), body, BODY);
	return rl_region_ptr(r, *addr);
}

static void segment_ok(struct rl_segs *s, struct rl_region *r, const void *data,
                       uint64_t len, const struct rl_seg_params *p, struct rl_ledger *l)
{
	struct rl_err err;

	if (rl_segment(s, r, data, len, p, l, &err))
		fail_msg("rl_segment failed: %s", err.msg);
}

/* Every packet dissects with good checksums, seq/ip id continue, the last
 * has PSH, and the payloads put together are the source. */
static void check_packets(const struct rl_segs *s, const uint8_t *src, uint64_t len,
                          bool csum_ok)
{
	struct rl_region *r = s->region;
	uint64_t pos = 0;

	for (uint32_t i = 0; i < s->nsegs; i++) {
		const struct rl_seg *g = &s->segs[i];
		struct rl_iov v[64];
		struct rl_dissect d;
		uint64_t off = 0;

		assert_true(g->ndesc <= 64);
		for (uint32_t k = 0; k < g->ndesc; k++) {
			const struct rl_desc *dd = &s->descs[g->desc + k];

			assert_int_equal(rl_region_check_desc(r, dd->addr, dd->len, NULL),
			                 0);
			assert_int_equal(dd->options,
			                 k + 1 < g->ndesc ? RL_DESC_CONTD : 0);
			v[k] = (struct rl_iov){rl_region_ptr(r, dd->addr), dd->len};
		}
		assert_int_equal(rl_dissect(v, g->ndesc, &d), 0);
		assert_true(d.ip_csum_ok);
		/* tso, gso: a packet's id counts the wire segments cut before it */
		assert_int_equal(d.ip_id,
		                 (uint16_t)(flow.ip_id + (s->params.strategy == RL_SEG_TSO ||
		                                                  s->params.strategy == RL_SEG_GSO
		                                              ? (uint32_t)(g->off / s->params.mss)
		                                              : i)));
		assert_int_equal(d.payload_len, g->len);
		assert_int_equal(g->off, pos);
		if (s->params.proto == RL_IPPROTO_TCP) {
			assert_true(d.layers & RL_L_TCP);
			assert_int_equal(d.tcp_csum_ok, csum_ok);
			assert_int_equal(d.tcp_seq, (uint32_t)(s->params.tcp.seq + pos));
			assert_int_equal(d.tcp_flags & RL_TCP_PSH,
			                 i + 1 == s->nsegs ? RL_TCP_PSH : 0);
		} else {
			assert_true(d.layers & RL_L_UDP);
			assert_int_equal(d.udp_csum_ok, csum_ok);
			assert_int_equal(d.udp_len, RL_UDP_HLEN + g->len);
		}
		/* Walk the pieces to the payload and compare. */
		for (uint32_t k = 0; k < g->ndesc; k++) {
			uint64_t a = off, b = off + v[k].len;
			uint64_t from = a > d.payload_off ? a : d.payload_off;

			if (b > from)
				assert_memory_equal(
				    (const uint8_t *)v[k].base + (from - a),
				    src + pos + (from - d.payload_off), b - from);
			off = b;
		}
		pos += g->len;
	}
	assert_int_equal(pos, len);
}

/* ---- the strategies, 64 KiB each ------------------------------------------- */

static void segment_copy_64k_copies_every_byte_once(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_COPY);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	segment_ok(&s, &r, body, BODY, &p, &l);
	assert_int_equal(s.nsegs, 46); /* 45 * 1448 + 376 */
	assert_int_equal(s.ndescs, 46);
	assert_int_equal(s.hdr_len, 66);
	assert_int_equal(l.copied, BODY);
	assert_int_equal(l.referenced, 0);
	assert_int_equal(l.headers, 46 * 66);
	assert_int_equal(l.touched, BODY);
	assert_int_equal(s.next_seq, 0xffff0000u + BODY);
	assert_int_equal(r.nfree, 128 - 46);
	check_packets(&s, body, BODY, true);
	assert_int_equal(rl_segs_ready(&s, 0), 46); /* no frame shared */
	assert_conserved(&r);
	rl_segs_free(&s);
	region_down(&r);
}

static void segment_born_64k_copies_nothing(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_BORN);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;
	uint64_t addr;
	uint8_t *data;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	data = born(&r, &addr);
	segment_ok(&s, &r, data, BODY, &p, &l);
	assert_int_equal(s.nsegs, 46);
	assert_int_equal(l.copied, 0);
	assert_int_equal(l.referenced, BODY);
	assert_int_equal(l.headers, 46 * 66);
	assert_int_equal(l.touched, BODY);
	/* The first segment's headers sit in the headroom, one descriptor. */
	assert_false(s.segs[0].header_frame);
	assert_int_equal(s.segs[0].ndesc, 1);
	assert_int_equal(s.descs[0].addr, addr - 66);
	assert_true(s.segs[1].header_frame);
	assert_int_equal(s.nheld, 45);
	check_packets(&s, body, BODY, true);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

static void segment_sg_64k_copies_nothing(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_SG);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;
	uint64_t addr;
	uint8_t *data;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	data = born(&r, &addr);
	segment_ok(&s, &r, data, BODY, &p, &l);
	assert_int_equal(s.nsegs, 46);
	assert_int_equal(l.copied, 0);
	assert_int_equal(l.referenced, BODY);
	assert_int_equal(l.headers, 46 * 66);
	assert_int_equal(l.touched, BODY);
	for (uint32_t i = 0; i < s.nsegs; i++) {
		assert_true(s.segs[i].header_frame);
		assert_int_equal(s.descs[s.segs[i].desc].len, 66); /* headers alone */
		assert_true(s.segs[i].ndesc >= 2 && s.segs[i].ndesc <= 3);
	}
	assert_int_equal(s.nheld, 46);
	check_packets(&s, body, BODY, true);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

static void segment_reuse_copies_once_then_references(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_REUSE);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s, fresh;
	struct rl_flow f2 = flow;
	struct rl_tcp t2 = {.seq = 123456789, .ack = 99, .window = 2048};

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	segment_ok(&s, &r, body, BODY, &p, &l);
	assert_int_equal(l.copied, BODY);
	assert_int_equal(l.referenced, 0);
	assert_int_equal(l.headers, 46 * 66);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(rl_segs_resend(&s, &flow, &p.tcp, &l, NULL), 0);
		assert_int_equal(l.copied, BODY);
		assert_int_equal(l.referenced, (uint64_t)BODY * i);
		assert_int_equal(l.touched, BODY); /* only the staging checksum */
	}
	check_packets(&s, body, BODY, true);
	/* To another client: new addresses, ports, seq, ack, window. The
	 * rewritten headers are exactly what a fresh build would write. */
	f2.dst_ip = 0xc6120063;
	f2.dst_mac[5] = 0x63;
	f2.dst_port = 50000;
	f2.ip_id = 9;
	uint64_t hdr_before = l.headers;
	assert_int_equal(rl_segs_resend(&s, &f2, &t2, &l, NULL), 0);
	assert_int_equal(l.copied, BODY);
	assert_int_equal(l.referenced, 4ull * BODY);
	/* per packet: macs 12, ip id 2, ips 8, ip csum 2, ports 4, seq 4, ack 4,
	 * window 2, tcp csum 2 */
	assert_int_equal(l.headers - hdr_before, 46 * 40);
	struct rl_seg_params p2 = p;
	p2.flow = f2;
	p2.tcp.seq = t2.seq;
	p2.tcp.ack = t2.ack;
	p2.tcp.window = t2.window;
	segment_ok(&fresh, &r, body, BODY, &p2, NULL);
	for (uint32_t i = 0; i < s.nsegs; i++) {
		const uint8_t *a = rl_region_ptr(&r, s.descs[i].addr);
		const uint8_t *b = rl_region_ptr(&r, fresh.descs[i].addr);
		struct rl_iov v = {a, s.descs[i].len};
		struct rl_dissect d;

		assert_int_equal(rl_dissect(&v, 1, &d), 0);
		assert_true(d.ip_csum_ok && d.tcp_csum_ok);
		if (memcmp(a, b, 66) != 0) /* only a checksum 0x0000 vs 0xffff */
			assert_memory_equal(a, b, 50);
	}
	assert_int_equal(s.resends, 4);
	rl_segs_free(&fresh);
	rl_segs_free(&s);
	region_down(&r);
}

static void segment_reuse_in_flight_says_wait_for_completion(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_REUSE);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s, c;
	struct rl_err err;
	uint32_t f;

	(void)state;
	make_body();
	region_up(&r, 64, HEADROOM);
	segment_ok(&s, &r, body, BODY, &p, &l);
	/* As an engine's tx() would: the third packet's frame goes in flight. */
	f = rl_region_frame(&r, s.descs[2].addr);
	assert_int_equal(rl_region_move(&r, f, RL_OWN_APP, RL_OWN_TX, NULL), 0);
	assert_int_equal(rl_segs_resend(&s, &flow, &p.tcp, &l, &err), -EBUSY);
	assert_contains(err.msg, "owned by tx");
	assert_contains(err.msg, "wait for its completion");
	assert_int_equal(l.referenced, 0); /* nothing counted, nothing rewritten */
	assert_int_equal(rl_segs_ready(&s, 0), 2);
	/* Completed: the frame comes back held by the staged packets (pinned),
	 * not to the pool, and can be sent again. */
	assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_release(&r, f, NULL), 0);
	assert_false(rl_region_is_free(&r, f));
	assert_int_equal(rl_segs_resend(&s, &flow, &p.tcp, &l, NULL), 0);
	assert_int_equal(l.referenced, BODY);
	/* Only reuse segments can be resent. */
	p.strategy = RL_SEG_COPY;
	segment_ok(&c, &r, body, 1000, &p, NULL);
	assert_int_equal(rl_segs_resend(&c, &flow, &p.tcp, &l, &err), -EINVAL);
	assert_contains(err.msg, "strategy reuse");
	rl_segs_free(&c);
	rl_segs_free(&s);
	region_down(&r);
}

static void segment_udp_is_one_datagram_per_segment(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_COPY);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;
	uint64_t addr;
	uint8_t *data;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	p.proto = RL_IPPROTO_UDP;
	p.mss = 1472;
	segment_ok(&s, &r, body, BODY, &p, &l);
	assert_int_equal(s.nsegs, 45); /* 44 * 1472 + 768 */
	assert_int_equal(s.hdr_len, RL_UDP_HDRS);
	assert_int_equal(l.headers, 45 * 42);
	check_packets(&s, body, BODY, true);
	rl_segs_free(&s);
	p.strategy = RL_SEG_SG;
	data = born(&r, &addr);
	segment_ok(&s, &r, data, BODY, &p, &l);
	assert_int_equal(l.copied, BODY);
	assert_int_equal(l.referenced, BODY);
	check_packets(&s, body, BODY, true);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

/* ---- shared frames ------------------------------------------------------------ */

/* engine_shared (RL_CAP_SHARED): segments that share a frame are ready
 * together, and stay ready while the frames they share are on their way
 * in other descriptors - but not a frame that waits on a receiving rx
 * ring, nor a free one. Every descriptor referenced, the region's counts
 * add up: one reference per descriptor. */
static void segment_sg_shared_frames_ready_together(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_SG);
	struct rl_region r;
	struct rl_segs s;
	struct rl_err err;
	uint64_t addr, refs = 0;
	uint32_t f0;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	p.engine_shared = true;
	segment_ok(&s, &r, born(&r, &addr), BODY, &p, NULL);
	assert_true(s.segs[1].shares_prev);
	assert_int_equal(rl_segs_ready(&s, 0), s.nsegs);
	/* queue them all: every descriptor takes a reference on its frame */
	for (uint32_t i = 0; i < s.ndescs; i++) {
		rl_err_clear(&err);
		if (rl_region_ref(&r, rl_region_frame(&r, s.descs[i].addr), &err) < 0)
			fail_msg("ref of descriptor %u: %s", i, err.msg);
	}
	for (uint32_t f = 0; f < r.frames; f++)
		refs += rl_region_refs(&r, f);
	assert_int_equal(refs, s.ndescs);
	assert_true(r.nshared > 30);
	assert_conserved(&r);
	/* on their way: still ready (they may be sent again) */
	assert_int_equal(rl_segs_ready(&s, 1), s.nsegs - 1);
	/* a frame waiting on a receiving rx ring is not */
	f0 = rl_region_frame(&r, s.descs[s.segs[3].desc + 1].addr);
	{
		uint8_t keep = r.owner[f0];

		r.owner[f0] = RL_OWN_RX; /* as net_ring hands it over */
		assert_true(rl_segs_ready(&s, 0) <= 3);
		r.owner[f0] = keep;
	}
	/* without the engine's word: the old rule, one at a time */
	s.params.engine_shared = false;
	assert_int_equal(rl_segs_ready(&s, 0), 0);
	s.params.engine_shared = true;
	/* every descriptor completes: the frames are the program's again */
	for (uint32_t i = 0; i < s.ndescs; i++) {
		uint32_t f = rl_region_frame(&r, s.descs[i].addr);

		assert_int_equal(rl_region_move(&r, f, RL_OWN_TX, RL_OWN_NIC, NULL), 0);
		assert_int_equal(rl_region_move(&r, f, RL_OWN_NIC, RL_OWN_COMP, NULL), 0);
		assert_int_equal(rl_region_move(&r, f, RL_OWN_COMP, RL_OWN_APP, NULL), 0);
		if (rl_region_owner(&r, f) == RL_OWN_APP)
			rl_region_release(&r, f, NULL);
		assert_conserved(&r);
	}
	assert_int_equal(r.nshared, 0);
	assert_int_equal(r.count[RL_OWN_APP], r.frames);
	assert_int_equal(rl_segs_ready(&s, 0), s.nsegs);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	assert_conserved(&r);
	region_down(&r);
}

static void segment_born_shared_frames_go_one_batch_at_a_time(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_BORN);
	struct rl_region r;
	struct rl_segs s;
	uint64_t addr;
	uint32_t shared = 0;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	segment_ok(&s, &r, born(&r, &addr), BODY, &p, NULL);
	/* 1448-byte segments of 2048-byte frames: consecutive segments meet
	 * inside a frame. Which ones is plain arithmetic. */
	for (uint32_t i = 0; i < s.nsegs; i++) {
		uint64_t a = addr + s.segs[i].off;
		bool want = i > 0 && (a & (FRAME - 1)) != 0;

		assert_int_equal(s.segs[i].shares_prev, want);
		shared += want;
	}
	assert_true(shared > 30);
	assert_false(s.segs[0].shares_prev);
	/* Segment 1 shares frame 0 with segment 0: a batch is segment 0 alone. */
	assert_true(s.segs[1].shares_prev);
	assert_int_equal(rl_segs_ready(&s, 0), 1);
	/* Segment 0 in flight (an engine moved its frame to tx): segment 1
	 * cannot go until that completes. */
	uint32_t f0 = rl_region_frame(&r, s.descs[0].addr);
	assert_int_equal(rl_region_move(&r, f0, RL_OWN_APP, RL_OWN_TX, NULL), 0);
	assert_int_equal(rl_segs_ready(&s, 1), 0);
	assert_int_equal(rl_region_move(&r, f0, RL_OWN_TX, RL_OWN_APP, NULL), 0);
	assert_int_equal(rl_region_release(&r, f0, NULL), 0); /* pinned: stays held */
	assert_true(rl_segs_ready(&s, 1) >= 1);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	assert_conserved(&r);
	rl_region_fini(&r);
	/* Frame-sized segments without headroom share nothing: one batch. */
	region_up(&r, 128, 0);
	p.strategy = RL_SEG_SG;
	p.mss = FRAME;
	segment_ok(&s, &r, born(&r, &addr), BODY, &p, NULL);
	assert_int_equal(s.nsegs, 32);
	assert_int_equal(rl_segs_ready(&s, 0), 32);
	check_packets(&s, body, BODY, true);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

/* ---- checksum offload and tso --------------------------------------------------- */

static void segment_partial_checksum_touches_nothing(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_SG);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;
	uint64_t addr;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	p.csum = RL_CSUM_PARTIAL;
	segment_ok(&s, &r, born(&r, &addr), BODY, &p, &l);
	assert_int_equal(l.touched, 0);
	assert_int_equal(l.referenced, BODY);
	check_packets(&s, body, BODY, false); /* the NIC has not finished them */
	for (uint32_t i = 0; i < s.nsegs; i++) {
		const uint8_t *h = rl_region_ptr(&r, s.descs[s.segs[i].desc].addr);
		uint16_t want = (uint16_t)~rl_csum_fold(
		    rl_csum_pseudo(flow.src_ip, flow.dst_ip, RL_IPPROTO_TCP,
		                   (uint16_t)(32 + s.segs[i].len)));

		assert_int_equal(h[50] << 8 | h[51], want);
	}
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

/* All but the first and the last segment's headers are made from a
 * template (rl_tcp_tmpl_write): each must be byte for byte what
 * rl_build_tcp() writes from scratch for that segment, with either
 * checksum mode, for every strategy that writes headers per segment. */
static void segment_headers_equal_headers_built_from_scratch(void **state)
{
	static const enum rl_seg_strategy sts[] = {RL_SEG_COPY, RL_SEG_BORN, RL_SEG_SG};

	(void)state;
	make_body();
	for (size_t k = 0; k < sizeof(sts) / sizeof(sts[0]); k++)
		for (int c = 0; c < 2; c++) {
			struct rl_seg_params p = tcp_params(sts[k]);
			struct rl_region r;
			struct rl_segs s;
			uint64_t addr;
			const uint8_t *data;

			p.csum = c ? RL_CSUM_PARTIAL : RL_CSUM_SOFTWARE;
			region_up(&r, 128, HEADROOM);
			data = born(&r, &addr);
			segment_ok(&s, &r, data, BODY - 5, &p, NULL);
			assert_true(s.nsegs > 3);
			for (uint32_t i = 0; i < s.nsegs; i++) {
				const struct rl_seg *g = &s.segs[i];
				struct rl_flow f = flow;
				struct rl_tcp t = p.tcp;
				struct rl_iov pay = {(void *)(data + g->off), g->len};
				uint8_t want[128];

				f.ip_id = (uint16_t)(flow.ip_id + i);
				t.seq = p.tcp.seq + (uint32_t)g->off;
				t.flags = RL_TCP_ACK | (i + 1 == s.nsegs ? RL_TCP_PSH : 0);
				assert_int_equal(rl_build_tcp(want, sizeof(want), &f, &t, &pay, 1,
				                              p.csum, NULL, NULL),
				                 s.hdr_len);
				assert_memory_equal(
				    rl_region_ptr(&r, s.descs[g->desc].addr), want, s.hdr_len);
			}
			rl_segs_free(&s);
			rl_region_unpin(&r, addr, BODY);
			region_down(&r);
		}
}

/* The middle segments of copy, reuse, born and sg are made by one loop
 * (build_run in core/segment.c) with headers from a template. Each packet,
 * as its descriptors put it together, must be byte for byte what a plain
 * build makes: rl_build_tcp() of that segment's fields from scratch, then
 * its payload - and its descriptors cut where a straightforward walk cuts
 * them (born's first in the headroom, a header frame for the others, the
 * payload at frame boundaries unless unaligned). Over many MSS, lengths,
 * places of the data in its frame, options and both checksum modes. */
static void reference_packet(const struct rl_segs *s, const uint8_t *data, uint32_t i,
                             uint8_t *pkt, uint32_t *len)
{
	const struct rl_seg *g = &s->segs[i];
	const struct rl_seg_params *p = &s->params;
	struct rl_flow f = p->flow;
	struct rl_tcp t = p->tcp;
	struct rl_iov pay = {(void *)(data + g->off), g->len};
	int hl;

	f.ip_id = (uint16_t)(p->flow.ip_id + i);
	t.seq = p->tcp.seq + (uint32_t)g->off;
	t.flags = RL_TCP_ACK | (i + 1 == s->nsegs ? RL_TCP_PSH : 0);
	hl = rl_build_tcp(pkt, 128, &f, &t, &pay, 1, p->csum, NULL, NULL);
	assert_int_equal(hl, s->hdr_len);
	memcpy(pkt + hl, pay.base, g->len);
	*len = (uint32_t)hl + g->len;
}

static void check_against_reference(const struct rl_segs *s, struct rl_region *r,
                                    const uint8_t *data, uint64_t len, bool unaligned)
{
	static uint8_t want[128 + 8192], got[128 + 8192];
	enum rl_seg_strategy st = s->params.strategy;
	uint64_t addr = (uint64_t)(data - r->base);

	for (uint32_t i = 0; i < s->nsegs; i++) {
		const struct rl_seg *g = &s->segs[i];
		uint32_t wlen, glen = 0, k = 0;

		assert_int_equal(g->off, (uint64_t)i * s->params.mss);
		assert_int_equal(g->len, i + 1 < s->nsegs ? s->params.mss : len - g->off);
		assert_int_equal(g->desc, i ? s->segs[i - 1].desc + s->segs[i - 1].ndesc : 0);
		reference_packet(s, data, i, want, &wlen);
		for (k = 0; k < g->ndesc; k++) {
			const struct rl_desc *d = &s->descs[g->desc + k];

			assert_int_equal(d->options, k + 1 < g->ndesc ? RL_DESC_CONTD : 0);
			assert_true(glen + d->len <= sizeof(got));
			memcpy(got + glen, rl_region_ptr(r, d->addr), d->len);
			glen += d->len;
		}
		assert_int_equal(glen, wlen);
		assert_memory_equal(got, want, wlen);
		if (st == RL_SEG_COPY || st == RL_SEG_REUSE) {
			assert_int_equal(g->ndesc, 1);
			assert_false(g->header_frame || g->shares_prev);
			continue;
		}
		/* born/sg: the walk a reader would write */
		{
			uint64_t a = addr + g->off, left = g->len;
			bool headroom = st == RL_SEG_BORN && i == 0 &&
			                (addr & (FRAME - 1)) == r->headroom &&
			                s->hdr_len <= r->headroom;
			const struct rl_desc *d = &s->descs[g->desc];

			assert_int_equal(g->header_frame, !headroom);
			assert_int_equal(g->shares_prev,
			                 i > 0 && (a & (FRAME - 1)) != 0);
			k = 0;
			if (!headroom) {
				assert_int_equal(d[0].len, s->hdr_len);
				assert_int_equal(d[0].addr & (FRAME - 1), r->headroom);
				k = 1;
			}
			while (left) {
				uint64_t take = FRAME - (a & (FRAME - 1));

				if (take > left || unaligned)
					take = left;
				if (headroom && k == 0) {
					assert_int_equal(d[0].addr, a - s->hdr_len);
					assert_int_equal(d[0].len, s->hdr_len + take);
				} else {
					assert_int_equal(d[k].addr, a);
					assert_int_equal(d[k].len, take);
				}
				k++;
				a += take;
				left -= take;
			}
			assert_int_equal(g->ndesc, k);
		}
	}
}

static void segment_fast_path_equals_reference_build(void **state)
{
	static const enum rl_seg_strategy sts[] = {RL_SEG_COPY, RL_SEG_REUSE, RL_SEG_BORN,
	                                           RL_SEG_SG};
	static const uint32_t msses[] = {1, 7, 536, 1447, 1448, 1460, 1700, 2048, 4001};
	static const uint32_t deltas[] = {0, 1, 3, 1000, 1791};
	uint64_t seed = 99, cases = 0;

	(void)state;
	make_body();
	for (size_t k = 0; k < sizeof(sts) / sizeof(sts[0]); k++)
		for (size_t m = 0; m < sizeof(msses) / sizeof(msses[0]); m++)
			for (size_t o = 0; o < sizeof(deltas) / sizeof(deltas[0]); o++)
				for (int v = 0; v < 4; v++) {
					struct rl_seg_params p = tcp_params(sts[k]);
					bool copies = sts[k] == RL_SEG_COPY || sts[k] == RL_SEG_REUSE;
					struct rl_ledger l = {0};
					struct rl_region r;
					struct rl_segs s;
					uint64_t addr, len;
					const uint8_t *data;

					p.mss = msses[m];
					if (copies && p.mss + 66 + HEADROOM > FRAME)
						continue;
					p.csum = v & 1 ? RL_CSUM_PARTIAL : RL_CSUM_SOFTWARE;
					p.engine_unaligned = (v & 2) && !copies;
					if (v & 2) /* no options: 54-byte headers */
						p.tcp.has_ts = false;
					p.tcp.seq = (uint32_t)rl_unit_rand(&seed);
					p.flow.ip_id = (uint16_t)rl_unit_rand(&seed);
					region_up(&r, 128, HEADROOM);
					data = born(&r, &addr) + deltas[o];
					/* up to 40 segments, never a whole number of them */
					len = (uint64_t)p.mss * 40 + 13;
					if (len > BODY - deltas[o])
						len = BODY - deltas[o] - 5;
					segment_ok(&s, &r, data, len, &p, &l);
					check_against_reference(&s, &r, data, len, p.engine_unaligned);
					assert_int_equal(copies ? l.copied : l.referenced, len);
					assert_int_equal(l.touched, p.csum == RL_CSUM_SOFTWARE ? len : 0);
					assert_int_equal(l.headers, (uint64_t)s.hdr_len * s.nsegs);
					rl_segs_free(&s);
					rl_region_unpin(&r, addr, BODY);
					region_down(&r);
					cases++;
				}
	assert_true(cases > 100);
}

static void segment_tso_needs_the_engine(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_TSO);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;
	struct rl_err err;
	uint64_t addr;
	uint8_t *data;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	data = born(&r, &addr);
	assert_int_equal(rl_segment(&s, &r, data, BODY, &p, &l, &err), -EOPNOTSUPP);
	assert_contains(err.msg, "this engine cannot segment (no TSO)");
	assert_int_equal(r.nfree, 128 - 33);
	p.engine_tso = true;
	segment_ok(&s, &r, data, BODY, &p, &l);
	/* 65535 - 20 - 32 = 65483 bytes fit one IPv4 packet: 45 * 1448 of them. */
	assert_int_equal(s.nsegs, 2);
	assert_int_equal(s.segs[0].len, 45 * 1448);
	assert_int_equal(s.segs[1].len, BODY - 45 * 1448);
	assert_int_equal(l.copied, 0);
	assert_int_equal(l.referenced, BODY);
	assert_int_equal(l.touched, 0); /* the NIC checksums what it cuts */
	check_packets(&s, body, BODY, false);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

static void expect_refusal(struct rl_region *r, const void *data, uint64_t len,
                           const struct rl_seg_params *p, int code, const char *says);

/* extbuf: the body stays where it is (here: a static array, outside the
 * region); each segment is a header frame and a descriptor naming the
 * body's bytes. */
static void segment_extbuf_references_app_memory(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_EXTBUF);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;
	struct rl_err err;
	uint64_t pos = 0, addr;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	assert_int_equal(rl_segment(&s, &r, body, BODY, &p, &l, &err), -EOPNOTSUPP);
	assert_contains(err.msg, "cannot send memory outside its region");
	p.engine_extbuf = true;
	segment_ok(&s, &r, body, BODY, &p, &l);
	assert_int_equal(s.nsegs, 46);
	assert_int_equal(s.ndescs, 92);
	assert_ptr_equal(s.ext, body);
	assert_int_equal(r.nfree, 128 - 46); /* the header frames */
	assert_int_equal(l.copied, 0);
	assert_int_equal(l.referenced, BODY);
	assert_int_equal(rl_segs_ready(&s, 0), 46);
	for (uint32_t i = 0; i < s.nsegs; i++) {
		const struct rl_desc *d = &s.descs[s.segs[i].desc];
		struct rl_iov v[2] = {{rl_region_ptr(&r, d[0].addr), d[0].len},
		                      {(void *)(s.ext + d[1].addr), d[1].len}};
		struct rl_dissect dis;

		assert_int_equal(d[0].options, RL_DESC_CONTD);
		assert_int_equal(d[1].options, RL_DESC_EXT);
		assert_int_equal(d[1].addr, pos);
		assert_int_equal(rl_dissect(v, 2, &dis), 0);
		assert_true(dis.tcp_csum_ok && dis.ip_csum_ok);
		pos += d[1].len;
	}
	assert_int_equal(pos, BODY);
	rl_segs_free(&s);
	/* data in the region is sg's, not extbuf's */
	assert_int_equal(rl_region_alloc(&r, 4096, &addr, NULL), 0);
	expect_refusal(&r, rl_region_ptr(&r, addr), 4096, &p, -EINVAL, "use strategy sg");
	rl_region_unpin(&r, addr, 4096);
	region_down(&r);
}

/* gso: like tso, cut by the engine; max= bounds each packet. */
static void segment_gso_needs_the_engine_and_obeys_max(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_GSO);
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_segs s;
	struct rl_err err;
	uint64_t addr;
	uint8_t *data;

	(void)state;
	make_body();
	region_up(&r, 128, HEADROOM);
	data = born(&r, &addr);
	assert_int_equal(rl_segment(&s, &r, data, BODY, &p, &l, &err), -EOPNOTSUPP);
	assert_contains(err.msg, "cannot segment in software (no GSO");
	p.engine_gso = true;
	p.max = 16 * MSS + 100;
	segment_ok(&s, &r, data, BODY, &p, &l);
	assert_int_equal(s.nsegs, 3); /* 16, 16 and 13.3 segments' worth */
	assert_int_equal(s.segs[0].len, 16 * MSS);
	assert_true(s.segs[0].header_frame);
	assert_int_equal(l.referenced, BODY);
	assert_int_equal(l.touched, 0); /* the engine checksums what it cuts */
	check_packets(&s, body, BODY, false);
	rl_segs_free(&s);
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

/* ---- bad input ----------------------------------------------------------------- */

static void expect_refusal(struct rl_region *r, const void *data, uint64_t len,
                           const struct rl_seg_params *p, int code, const char *says)
{
	struct rl_ledger l = {0};
	uint32_t nfree = r->nfree;
	struct rl_segs s;
	struct rl_err err;

	assert_int_equal(rl_segment(&s, r, data, len, p, &l, &err), code);
	assert_contains(err.msg, says);
	assert_int_equal(l.copied + l.referenced + l.headers + l.touched, 0);
	assert_int_equal(r->nfree, nfree);
	assert_int_equal(s.nheld, 0);
	assert_null(s.descs);
	assert_conserved(r);
}

static void segment_bad_input_is_refused_and_nothing_lost(void **state)
{
	struct rl_seg_params p = tcp_params(RL_SEG_COPY);
	enum rl_seg_strategy st;
	struct rl_region r;
	struct rl_err err;
	uint64_t addr;
	uint8_t *data;

	(void)state;
	make_body();
	region_up(&r, 40, HEADROOM);
	p.mss = 0;
	expect_refusal(&r, body, BODY, &p, -EINVAL, "mss=0");
	p.mss = MSS;
	/* 46 segments, 40 frames. */
	expect_refusal(&r, body, BODY, &p, -ENOBUFS, "more than the region's 40 frames");
	p.strategy = (enum rl_seg_strategy)42;
	expect_refusal(&r, body, 100, &p, -EINVAL, "strategy 42 is not known");
	assert_int_equal(rl_seg_strategy_parse("zerocopy", &st, &err), -EINVAL);
	assert_contains(err.msg, "use copy, reuse, born, sg, extbuf, gso or tso");
	assert_int_equal(rl_seg_strategy_parse("sg", &st, NULL), 0);
	assert_int_equal(st, RL_SEG_SG);
	p.strategy = RL_SEG_COPY;
	p.proto = 1;
	expect_refusal(&r, body, 100, &p, -EINVAL, "protocol 1 cannot be segmented");
	p.proto = RL_IPPROTO_TCP;
	expect_refusal(&r, body, 0, &p, -EINVAL, "no data");
	expect_refusal(&r, NULL, 10, &p, -EINVAL, "no data given");
	p.mss = 1800;
	expect_refusal(&r, body, BODY, &p, -EMSGSIZE, "use mss <= 1726");
	p.mss = 70000;
	expect_refusal(&r, body, BODY, &p, -EMSGSIZE, "does not fit one IPv4 packet");
	p.mss = MSS;
	p.strategy = RL_SEG_SG;
	expect_refusal(&r, body, BODY, &p, -EINVAL, "allocate it with r:alloc()");
	/* Region data the program does not hold: free frames. */
	expect_refusal(&r, rl_region_ptr(&r, 0), 4000, &p, -EPERM, "free in the pool");
	/* Larger than the region. */
	expect_refusal(&r, rl_region_ptr(&r, 0), r.size + 1, &p, -ERANGE,
	               "run past the end of the region");
	p.strategy = RL_SEG_TSO;
	p.engine_tso = true;
	p.proto = RL_IPPROTO_UDP;
	expect_refusal(&r, body, 100, &p, -EOPNOTSUPP, "tso cuts TCP only");
	/* sg needs a header frame per segment: 33 data frames + 46 > 40. */
	rl_region_fini(&r);
	region_up(&r, 60, HEADROOM);
	data = born(&r, &addr);
	p = tcp_params(RL_SEG_SG);
	expect_refusal(&r, data, BODY, &p, -ENOBUFS, "complete() sent frames");
	rl_region_unpin(&r, addr, BODY);
	region_down(&r);
}

/* ---- end to end through the simulator ------------------------------------------ */

static struct rl_engine *open_sim(struct rl_engine *peer)
{
	const struct rl_kv kv[] = {{"mode", "zerocopy"}};
	struct rl_open_args a = {
	    .kv = kv, .nkv = 1, .peer = peer, .peer_ops = peer ? rl_sim_engine() : NULL};
	struct rl_engine *e = NULL;
	struct rl_err err;

	if (rl_sim_engine()->open(&e, &a, &err))
		fail_msg("open: %s", err.msg);
	return e;
}

static struct rl_region *sim_region(struct rl_engine *e, uint32_t frames)
{
	struct rl_region_params p = {
	    .frames = frames, .frame_size = FRAME, .headroom = HEADROOM};
	struct rl_region *r = NULL;

	assert_int_equal(rl_sim_engine()->region(e, &p, &r, NULL), 0);
	return r;
}

/* Queue the segments batch by batch (a batch never holds a frame twice),
 * kicking and completing in between. Returns the number of kicks. */
static uint32_t send_all(struct rl_engine *e, const struct rl_segs *s)
{
	const struct rl_engine_ops *ops = rl_sim_engine();
	uint32_t from = 0, rounds = 0;
	struct rl_err err;

	while (from < s->nsegs) {
		uint32_t n = rl_segs_ready(s, from);
		uint32_t nd = rl_segs_ndescs(s, from, n);

		assert_true(n > 0);
		if (ops->tx(e, &s->descs[s->segs[from].desc], nd, &err) != (int)nd)
			fail_msg("tx: %s", err.msg);
		ops->kick(e, NULL);
		while (ops->complete(e, NULL, 64, NULL) > 0)
			;
		from += n;
		rounds++;
	}
	return rounds;
}

static void segment_sg_64k_end_to_end_through_two_sims(void **state)
{
	const struct rl_engine_ops *ops = rl_sim_engine();
	struct rl_engine *a = open_sim(NULL), *b = open_sim(a);
	struct rl_region *ra = sim_region(a, 256), *rb = sim_region(b, 256);
	struct rl_seg_params p = tcp_params(RL_SEG_SG);
	struct rl_ledger la = {0}, lb = {0};
	struct rl_reader *rd;
	struct rl_desc got[128];
	struct rl_segs s;
	static uint8_t out[BODY];
	uint64_t addr;
	int n;

	(void)state;
	make_body();
	segment_ok(&s, ra, born(ra, &addr), BODY, &p, &la);
	assert_int_equal(la.copied, 0);
	assert_int_equal(la.referenced, BODY);
	assert_int_equal(ops->fill(b, 128, NULL), 128);
	assert_int_equal(send_all(a, &s), 46); /* every segment shares a frame */
	n = ops->rx(b, got, 128, NULL);
	assert_int_equal(n, 46); /* one frame per packet on the receiver */
	assert_int_equal(rl_reader_new(&rd, rb, &lb, NULL), 0);
	for (int i = 0; i < n; i++) {
		struct rl_dissect d;

		assert_int_equal(rl_reader_push_packet(rd, &got[i], 1, &d, NULL), 0);
		assert_true(d.tcp_csum_ok && d.ip_csum_ok);
		assert_int_equal(d.tcp_seq, p.tcp.seq + (uint32_t)(i * MSS));
	}
	assert_int_equal(rl_reader_avail(rd), BODY);
	assert_int_equal(rl_reader_find(rd, body + 40000, 16), 40000);
	assert_int_equal(rl_reader_copy(rd, out, BODY, NULL), 0);
	assert_memory_equal(out, body, BODY);
	assert_int_equal(lb.copied, BODY);
	assert_int_equal(rl_reader_release(rd), 46);
	assert_int_equal(rb->nfree, 256 - 128 + 46);
	rl_reader_free(rd);
	/* The sender's frames all came back; the header frames are the segs'. */
	assert_int_equal(ra->count[RL_OWN_APP], 256);
	rl_segs_free(&s);
	rl_region_unpin(ra, addr, BODY);
	assert_int_equal(ra->nfree, 256);
	assert_conserved(ra);
	assert_conserved(rb);
	ops->close(b);
	ops->close(a);
}

static const struct CMUnitTest segment_tests[] = {
    cmocka_unit_test(segment_copy_64k_copies_every_byte_once),
    cmocka_unit_test(segment_born_64k_copies_nothing),
    cmocka_unit_test(segment_sg_64k_copies_nothing),
    cmocka_unit_test(segment_reuse_copies_once_then_references),
    cmocka_unit_test(segment_reuse_in_flight_says_wait_for_completion),
    cmocka_unit_test(segment_udp_is_one_datagram_per_segment),
    cmocka_unit_test(segment_born_shared_frames_go_one_batch_at_a_time),
    cmocka_unit_test(segment_sg_shared_frames_ready_together),
    cmocka_unit_test(segment_partial_checksum_touches_nothing),
    cmocka_unit_test(segment_headers_equal_headers_built_from_scratch),
    cmocka_unit_test(segment_fast_path_equals_reference_build),
    cmocka_unit_test(segment_tso_needs_the_engine),
    cmocka_unit_test(segment_extbuf_references_app_memory),
    cmocka_unit_test(segment_gso_needs_the_engine_and_obeys_max),
    cmocka_unit_test(segment_bad_input_is_refused_and_nothing_lost),
    cmocka_unit_test(segment_sg_64k_end_to_end_through_two_sims),
};

RL_UNIT_MAIN(segment_tests)
