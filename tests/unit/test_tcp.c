/*
 * test_tcp.c - TCP headers: a build/dissect round trip with every option,
 * each option alone, the checksum over odd pieces, the partial checksum a
 * NIC finishes, a real captured segment with a known checksum, header
 * rewrites checked against a full recompute, and the segment template
 * (rl_tcp_tmpl_*) against a build from scratch.
 */
#include <errno.h>
#include <stdlib.h>

#include "ringlab/checksum.h"
#include "ringlab/tcp.h"
#include "unit.h"

static const struct rl_flow flow = {
    .src_mac = {0x02, 0, 0, 0, 0, 0x01},
    .dst_mac = {0x02, 0, 0, 0, 0, 0x02},
    .src_ip = 0xc6120001, /* 198.18.0.1 */
    .dst_ip = 0xc6120002,
    .src_port = 40000,
    .dst_port = 8080,
    .ip_id = 7,
};

static struct rl_tcp all_options(void)
{
	return (struct rl_tcp){.seq = 0xfffffff0u,
	                       .ack = 0x01020304,
	                       .flags = RL_TCP_SYN | RL_TCP_ACK,
	                       .window = 64240,
	                       .has_mss = true,
	                       .mss = 1460,
	                       .has_wscale = true,
	                       .wscale = 7,
	                       .sack_ok = true,
	                       .has_ts = true,
	                       .ts_val = 0xdeadbeef,
	                       .ts_ecr = 42};
}

static void fill_bytes(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rl_unit_rand(&seed);
}

static void tcp_build_dissect_round_trip_all_options(void **state)
{
	struct rl_tcp t = all_options();
	uint8_t pkt[128 + 301], *pay = pkt + 128;
	struct rl_iov pieces[3] = {{pay, 101}, {pay + 101, 77}, {pay + 178, 123}};
	uint8_t buf[sizeof(pkt)];
	struct rl_dissect d;
	uint64_t touched = 0;
	int hl;

	(void)state;
	fill_bytes(pay, 301, 1);
	assert_int_equal(rl_tcp_opts_len(&t), 20);
	hl = rl_build_tcp(pkt, 128, &flow, &t, pieces, 3, RL_CSUM_SOFTWARE, &touched,
	                  NULL);
	assert_int_equal(hl, RL_TCP_HDRS + 20);
	assert_int_equal(touched, 301);
	/* Headers then payload, contiguous, as a NIC would see them. */
	memcpy(buf, pkt, (size_t)hl);
	memcpy(buf + hl, pay, 301);
	struct rl_iov whole = {buf, (size_t)hl + 301};
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_int_equal(d.layers, RL_L_ETH | RL_L_IP4 | RL_L_TCP);
	assert_true(d.ip_csum_ok);
	assert_true(d.tcp_csum_ok);
	assert_int_equal(d.src_port, 40000);
	assert_int_equal(d.dst_port, 8080);
	assert_int_equal(d.tcp_seq, 0xfffffff0u);
	assert_int_equal(d.tcp_ack, 0x01020304);
	assert_int_equal(d.tcp_flags, RL_TCP_SYN | RL_TCP_ACK);
	assert_int_equal(d.tcp_window, 64240);
	assert_int_equal(d.tcp_hlen, 40);
	assert_int_equal(d.tcp_opts, RL_TCPOPT_MSS | RL_TCPOPT_WSCALE | RL_TCPOPT_SACKOK |
	                                 RL_TCPOPT_TS);
	assert_int_equal(d.tcp_mss, 1460);
	assert_int_equal(d.tcp_wscale, 7);
	assert_int_equal(d.tcp_ts_val, 0xdeadbeef);
	assert_int_equal(d.tcp_ts_ecr, 42);
	assert_int_equal(d.payload_off, hl);
	assert_int_equal(d.payload_len, 301);
	/* The same packet as header + odd pieces verifies too. */
	struct rl_iov chain[4] = {{pkt, (size_t)hl}, pieces[0], pieces[1], pieces[2]};
	assert_int_equal(rl_dissect(chain, 4, &d), 0);
	assert_true(d.tcp_csum_ok);
	/* One flipped payload bit is caught. */
	buf[hl + 200] ^= 0x10;
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_false(d.tcp_csum_ok);
}

static void tcp_each_option_alone_round_trips(void **state)
{
	struct rl_tcp cases[5] = {{.flags = RL_TCP_ACK},
	                          {.has_mss = true, .mss = 536},
	                          {.has_wscale = true, .wscale = 14},
	                          {.sack_ok = true},
	                          {.has_ts = true, .ts_val = 1, .ts_ecr = 2}};
	uint32_t want[5] = {0, RL_TCPOPT_MSS, RL_TCPOPT_WSCALE, RL_TCPOPT_SACKOK,
	                    RL_TCPOPT_TS};
	unsigned want_len[5] = {0, 4, 4, 4, 12};

	(void)state;
	for (int i = 0; i < 5; i++) {
		uint8_t pkt[128];
		struct rl_dissect d;
		int hl = rl_build_tcp(pkt, sizeof(pkt), &flow, &cases[i], NULL, 0,
		                      RL_CSUM_SOFTWARE, NULL, NULL);
		struct rl_iov v = {pkt, (size_t)hl};

		assert_int_equal(hl, RL_TCP_HDRS + want_len[i]);
		assert_int_equal(rl_dissect(&v, 1, &d), 0);
		assert_true(d.tcp_csum_ok);
		assert_int_equal(d.tcp_opts, want[i]);
		assert_int_equal(d.payload_len, 0);
	}
}

static void tcp_malformed_option_is_a_problem(void **state)
{
	struct rl_tcp t = {.has_mss = true, .mss = 1460};
	uint8_t pkt[128];
	struct rl_dissect d;
	int hl = rl_build_tcp(pkt, sizeof(pkt), &flow, &t, NULL, 0, RL_CSUM_SOFTWARE,
	                      NULL, NULL);
	struct rl_iov v = {pkt, (size_t)hl};

	(void)state;
	pkt[RL_TCP_HDRS + 1] = 9; /* MSS claims 9 bytes: past the header */
	assert_int_equal(rl_dissect(&v, 1, &d), -EBADMSG);
	assert_true(d.layers & RL_L_TCP);
	assert_contains(d.problem, "TCP option");
	pkt[RL_TCP_HDRS + 1] = 3; /* MSS of length 3 */
	assert_int_equal(rl_dissect(&v, 1, &d), -EBADMSG);
	assert_contains(d.problem, "wrong for its kind");
}

/* The NIC finishes a partial checksum by summing from the TCP header on. */
static void tcp_partial_checksum_is_what_the_nic_completes(void **state)
{
	struct rl_tcp t = all_options();
	uint8_t pkt[128 + 999], sw[128];
	struct rl_iov pay = {pkt + 128, 999};
	uint64_t touched = 0;
	int hl;

	(void)state;
	fill_bytes(pkt + 128, 999, 2);
	hl = rl_build_tcp(sw, sizeof(sw), &flow, &t, &pay, 1, RL_CSUM_SOFTWARE, &touched,
	                  NULL);
	assert_int_equal(touched, 999);
	touched = 0;
	assert_int_equal(
	    rl_build_tcp(pkt, 128, &flow, &t, &pay, 1, RL_CSUM_PARTIAL, &touched, NULL),
	    hl);
	assert_int_equal(touched, 0);
	uint16_t partial =
	    (uint16_t)(pkt[RL_ETH_HLEN + 20 + 16] << 8 | pkt[RL_ETH_HLEN + 20 + 17]);
	uint16_t pseudo = (uint16_t)~rl_csum_fold(rl_csum_pseudo(
	    flow.src_ip, flow.dst_ip, RL_IPPROTO_TCP, (uint16_t)(hl - 34 + 999)));
	assert_int_equal(partial, pseudo);
	/* csum_start = TCP header, the field already holds the pseudo sum. */
	uint32_t s = rl_csum_partial(pkt + 34, (size_t)hl - 34, 0);
	uint16_t done = rl_csum_fold(rl_csum_partial(pkt + 128, 999, s));
	assert_int_equal(done, sw[50] << 8 | sw[51]);
}

/* A real segment captured on a LAN (172.22.104.109:44831 -> 74.125.159.103:80,
 * ACK with timestamps; published by Mark Mayfield): IPv4 checksum 0x4eb6,
 * TCP checksum 0x37a6. */
static const uint8_t captured[] = {
    0x45, 0x00, 0x00, 0x34, 0xed, 0xa5, 0x40, 0x00, 0x40, 0x06, 0x4e, 0xb6, 0xac,
    0x16, 0x68, 0x6d, 0x4a, 0x7d, 0x9f, 0x67, 0xaf, 0x1f, 0x00, 0x50, 0xe8, 0x33,
    0x8b, 0x62, 0xfc, 0x13, 0xda, 0x66, 0x80, 0x10, 0x00, 0x5c, 0x37, 0xa6, 0x00,
    0x00, 0x01, 0x01, 0x08, 0x0a, 0x04, 0xb8, 0x66, 0xf7, 0x4a, 0xdd, 0x90, 0x45};

static void tcp_checksum_matches_a_captured_segment(void **state)
{
	uint8_t pkt[RL_ETH_HLEN + sizeof(captured)] = {0}, built[128];
	struct rl_iov v = {pkt, sizeof(pkt)};
	struct rl_dissect d;
	struct rl_flow f = {.src_ip = 0xac16686d,
	                    .dst_ip = 0x4a7d9f67,
	                    .src_port = 44831,
	                    .dst_port = 80,
	                    .ip_id = 0xeda5};
	struct rl_tcp t = {.seq = 0xe8338b62,
	                   .ack = 0xfc13da66,
	                   .flags = RL_TCP_ACK,
	                   .window = 0x5c,
	                   .has_ts = true,
	                   .ts_val = 0x04b866f7,
	                   .ts_ecr = 0x4add9045};

	(void)state;
	pkt[12] = 0x08;
	memcpy(pkt + RL_ETH_HLEN, captured, sizeof(captured));
	assert_int_equal(rl_dissect(&v, 1, &d), 0);
	assert_true(d.ip_csum_ok);
	assert_true(d.tcp_csum_ok);
	assert_int_equal(d.tcp_csum, 0x37a6);
	assert_int_equal(d.tcp_opts, RL_TCPOPT_TS);
	assert_int_equal(d.tcp_ts_val, 0x04b866f7);
	/* Building the same fields gives the captured bytes, checksums included. */
	assert_int_equal(rl_build_tcp(built, sizeof(built), &f, &t, NULL, 0,
	                              RL_CSUM_SOFTWARE, NULL, NULL),
	                 (int)sizeof(pkt));
	assert_memory_equal(built + RL_ETH_HLEN, captured, sizeof(captured));
}

/* Rewriting every field incrementally gives exactly the bytes a fresh
 * build with the new values gives - over many random values. */
static void tcp_rewrite_equals_full_recompute(void **state)
{
	uint8_t pay[777];
	struct rl_iov p = {pay, sizeof(pay)};
	uint64_t seed = 99;

	(void)state;
	fill_bytes(pay, sizeof(pay), 3);
	for (int i = 0; i < 2000; i++) {
		struct rl_tcp t = {.flags = RL_TCP_ACK, .has_ts = true, .window = 500};
		struct rl_flow f = flow, g = flow;
		uint8_t a[128], b[128];
		int hl = rl_build_tcp(a, sizeof(a), &f, &t, &p, 1, RL_CSUM_SOFTWARE, NULL,
		                      NULL);
		struct rl_rewrite rw = {.what = RL_RW_SEQ | RL_RW_ACK | RL_RW_PORTS |
		                                RL_RW_IP_ID | RL_RW_WINDOW | RL_RW_ADDRS};

		g.src_ip = rw.src_ip = (uint32_t)rl_unit_rand(&seed);
		g.dst_ip = rw.dst_ip = (uint32_t)rl_unit_rand(&seed);
		g.src_port = rw.src_port = (uint16_t)rl_unit_rand(&seed);
		g.dst_port = rw.dst_port = (uint16_t)rl_unit_rand(&seed);
		g.ip_id = rw.ip_id = (uint16_t)rl_unit_rand(&seed);
		g.dst_mac[5] = rw.dst_mac[5] = (uint8_t)i;
		memcpy(rw.src_mac, g.src_mac, 6);
		rw.dst_mac[0] = 0x02;
		memcpy(g.dst_mac, rw.dst_mac, 6);
		t.seq = rw.seq = (uint32_t)rl_unit_rand(&seed);
		t.ack = rw.ack = (uint32_t)rl_unit_rand(&seed);
		t.window = rw.window = (uint16_t)rl_unit_rand(&seed);
		/* Only the headers are given: no payload byte can be read. */
		assert_int_equal(rl_hdr_rewrite(a, (size_t)hl, &rw, NULL),
		                 12 + 8 + 2 + 2 + 4 + 4 + 4 + 2 + 2);
		assert_int_equal(rl_build_tcp(b, sizeof(b), &g, &t, &p, 1,
		                              RL_CSUM_SOFTWARE, NULL, NULL),
		                 hl);
		if (memcmp(a, b, (size_t)hl) != 0) {
			/* 0x0000 and 0xffff are the same one's complement value. */
			struct rl_iov v[2] = {{a, (size_t)hl}, p};
			struct rl_dissect d;

			assert_int_equal(rl_dissect(v, 2, &d), 0);
			assert_true(d.ip_csum_ok && d.tcp_csum_ok);
		}
	}
}

static void tcp_rewrite_partial_keeps_pseudo_sum(void **state)
{
	struct rl_tcp t = {.flags = RL_TCP_ACK};
	uint8_t a[128], b[128];
	struct rl_rewrite rw = {.what = RL_RW_SEQ | RL_RW_PORTS | RL_RW_IP_ID,
	                        .seq = 5,
	                        .src_port = 1,
	                        .dst_port = 2,
	                        .ip_id = 3,
	                        .partial = true};
	struct rl_flow g = flow;
	int hl =
	    rl_build_tcp(a, sizeof(a), &flow, &t, NULL, 0, RL_CSUM_PARTIAL, NULL, NULL);

	(void)state;
	assert_int_equal(rl_hdr_rewrite(a, (size_t)hl, &rw, NULL), 2 + 2 + 4 + 4);
	g.src_port = 1;
	g.dst_port = 2;
	g.ip_id = 3;
	t.seq = 5;
	rl_build_tcp(b, sizeof(b), &g, &t, NULL, 0, RL_CSUM_PARTIAL, NULL, NULL);
	assert_memory_equal(a, b, (size_t)hl);
}

static void udp_rewrite_keeps_checksum_right(void **state)
{
	uint8_t pay[33] = {1, 2, 3}, a[64];
	struct rl_iov p = {pay, sizeof(pay)}, v[2] = {{a, RL_UDP_HDRS}, p};
	struct rl_rewrite rw = {.what = RL_RW_PORTS | RL_RW_IP_ID | RL_RW_SEQ,
	                        .src_port = 53,
	                        .dst_port = 5353,
	                        .ip_id = 0xffff};
	struct rl_dissect d;

	(void)state;
	assert_int_equal(rl_build_udp(a, sizeof(a), &flow, &p, 1, true, NULL, NULL),
	                 RL_UDP_HDRS);
	/* seq means nothing to UDP and is ignored. */
	assert_int_equal(rl_hdr_rewrite(a, RL_UDP_HDRS, &rw, NULL), 2 + 2 + 2 + 2 + 2);
	assert_int_equal(rl_dissect(v, 2, &d), 0);
	assert_true(d.udp_csum_ok && d.ip_csum_ok && d.udp_csum != 0);
	assert_int_equal(d.src_port, 53);
	assert_int_equal(d.ip_id, 0xffff);
}

static void rewrite_refuses_what_is_not_tcp_or_udp(void **state)
{
	uint8_t a[64] = {0};
	struct rl_rewrite rw = {.what = RL_RW_SEQ};
	struct rl_err err;

	(void)state;
	assert_int_equal(rl_hdr_rewrite(a, sizeof(a), &rw, &err), -EINVAL);
	assert_contains(err.msg, "not an IPv4 packet");
	assert_int_equal(
	    rl_build_icmp_echo(a, sizeof(a), &flow, 8, 1, 1, NULL, 0, NULL, NULL), 42);
	assert_int_equal(rl_hdr_rewrite(a, sizeof(a), &rw, &err), -EINVAL);
	assert_contains(err.msg, "only TCP and UDP");
	assert_int_equal(rl_hdr_rewrite(a, 20, &rw, &err), -EINVAL);
}

/* rl_tcp_tmpl_write() (what rl_segment writes for its middle segments)
 * against rl_build_tcp() from scratch: a template from one segment's
 * headers, then other ids and sequence numbers - the edges (0, 0xffff,
 * 0xffffffff, the seq that wraps) and random ones - with every option set,
 * payload lengths odd and even, both checksum modes, and the payload's sum
 * taken by rl_csum_partial or by rl_csum_copy. Byte for byte. */
static void tcp_template_equals_build_from_scratch(void **state)
{
	static const uint32_t plens[] = {1, 2, 3, 535, 1447, 1448, 4001};
	static const uint32_t seqs[] = {0, 1, 0xffff, 0x10000, 0xfffffff0u, 0xffffffffu};
	static const uint16_t ids[] = {0, 1, 0xfffe, 0xffff};
	static uint8_t pay[4001], copy[4001];
	uint64_t seed = 5;
	unsigned cases = 0;

	(void)state;
	fill_bytes(pay, sizeof(pay), 3);
	for (int o = 0; o < 5; o++)
		for (size_t n = 0; n < sizeof(plens) / sizeof(plens[0]); n++)
			for (int c = 0; c < 2; c++)
				for (int i = 0; i < 24; i++) {
					enum rl_csum_mode mode = c ? RL_CSUM_PARTIAL : RL_CSUM_SOFTWARE;
					struct rl_tcp t = all_options();
					struct rl_flow f = flow;
					struct rl_iov v = {pay, plens[n]};
					struct rl_tcp_tmpl tm;
					uint8_t first[128], want[128], got[128];
					uint32_t sum;
					int hl;

					t.flags = RL_TCP_ACK;
					t.has_mss = o == 1 || o == 4;
					t.has_wscale = o == 2 || o == 4;
					t.sack_ok = o == 3 || o == 4;
					t.has_ts = o >= 3;
					f.src_ip = (uint32_t)rl_unit_rand(&seed);
					f.dst_port = (uint16_t)rl_unit_rand(&seed);
					t.ack = (uint32_t)rl_unit_rand(&seed);
					hl = rl_build_tcp(first, sizeof(first), &f, &t, &v, 1, mode,
					                  NULL, NULL);
					assert_true(hl >= RL_TCP_HDRS);
					rl_tcp_tmpl_init(&tm, first, (unsigned)hl, plens[n], mode);
					f.ip_id = i < 4 ? ids[i] : (uint16_t)rl_unit_rand(&seed);
					t.seq = i < 6 ? seqs[i] : (uint32_t)rl_unit_rand(&seed);
					assert_int_equal(rl_build_tcp(want, sizeof(want), &f, &t, &v, 1,
					                              mode, NULL, NULL),
					                 hl);
					sum = i & 1 ? rl_csum_copy(copy, pay, plens[n], 0)
					            : rl_csum_partial(pay, plens[n], 0);
					memset(got, 0xa5, sizeof(got));
					rl_tcp_tmpl_write(&tm, got, f.ip_id, t.seq,
					                  mode == RL_CSUM_SOFTWARE ? sum : 0);
					assert_memory_equal(got, want, (size_t)hl);
					assert_int_equal(got[hl], 0xa5); /* not a byte more */
					cases++;
				}
	assert_int_equal(cases, 5 * 7 * 2 * 24);
}

static void tcp_build_refuses_small_buffer_and_huge_payload(void **state)
{
	struct rl_tcp t = all_options();
	uint8_t hdr[128];
	struct rl_iov big = {hdr, 70000};
	struct rl_err err;

	(void)state;
	assert_int_equal(
	    rl_build_tcp(hdr, 60, &flow, &t, NULL, 0, RL_CSUM_SOFTWARE, NULL, &err),
	    -ENOSPC);
	assert_contains(err.msg, "TCP headers need 74 bytes");
	assert_int_equal(
	    rl_build_tcp(hdr, 128, &flow, &t, &big, 1, RL_CSUM_SOFTWARE, NULL, &err),
	    -EMSGSIZE);
	assert_contains(err.msg, "segment it");
}

static const struct CMUnitTest tcp_tests[] = {
    cmocka_unit_test(tcp_build_dissect_round_trip_all_options),
    cmocka_unit_test(tcp_each_option_alone_round_trips),
    cmocka_unit_test(tcp_malformed_option_is_a_problem),
    cmocka_unit_test(tcp_partial_checksum_is_what_the_nic_completes),
    cmocka_unit_test(tcp_checksum_matches_a_captured_segment),
    cmocka_unit_test(tcp_rewrite_equals_full_recompute),
    cmocka_unit_test(tcp_rewrite_partial_keeps_pseudo_sum),
    cmocka_unit_test(udp_rewrite_keeps_checksum_right),
    cmocka_unit_test(rewrite_refuses_what_is_not_tcp_or_udp),
    cmocka_unit_test(tcp_build_refuses_small_buffer_and_huge_payload),
    cmocka_unit_test(tcp_template_equals_build_from_scratch),
};

RL_UNIT_MAIN(tcp_tests)
