/* test_packet.c - addresses, header builders and the dissector: round
 * trips, checksums over odd pieces, and inputs that lie about lengths. */
#include <errno.h>
#include <stdlib.h>

#include "ringlab/checksum.h"
#include "ringlab/packet.h"
#include "unit.h"

static const struct rl_flow flow = {
    .src_mac = {0x02, 0, 0, 0, 0, 0x01},
    .dst_mac = {0x02, 0, 0, 0, 0, 0x02},
    .src_ip = 0xc6120001, /* 198.18.0.1 */
    .dst_ip = 0xc6120002, /* 198.18.0.2 */
    .src_port = 9000,
    .dst_port = 9999,
    .ip_id = 0x1234,
};

/* The Internet checksum of a flat buffer, a byte at a time: the reference
 * the pieces must agree with. */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t start)
{
	uint64_t s = start;

	for (size_t i = 0; i < len; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A packet copied into pieces of the given lengths, each in a heap block of
 * exactly its size, so that AddressSanitizer sees any read past one. */
struct pieces {
	struct rl_iov v[64];
	unsigned n;
};

static void pieces_make(struct pieces *p, const uint8_t *pkt, size_t len,
                        const size_t *cuts, unsigned ncuts)
{
	size_t off = 0;

	p->n = 0;
	for (unsigned i = 0; i <= ncuts && p->n < 64; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		uint8_t *b;

		if (end > len)
			end = len;
		if (end < off)
			end = off;
		b = malloc(end - off ? end - off : 1);
		assert_non_null(b);
		memcpy(b, pkt + off, end - off);
		p->v[p->n].base = b;
		p->v[p->n].len = end - off;
		p->n++;
		off = end;
	}
}

static void pieces_free(struct pieces *p)
{
	for (unsigned i = 0; i < p->n; i++)
		free((void *)p->v[i].base);
	p->n = 0;
}

/* ---- addresses ------------------------------------------------------------ */

static void ip4_parse_and_format(void **state)
{
	static const char *const bad[] = {
	    "198.18.0.300", "198.18.0",   "198.18.0.2.1", "",
	    "a.b.c.d",      "198.18..2",  "1.2.3.4 ",     " 1.2.3.4",
	    "1.2.3.-4",     "1234.1.1.1", "1.2.3.4x"};
	struct rl_err err;
	uint32_t ip = 0;
	uint16_t port = 1;
	char s[16];

	(void)state;
	assert_int_equal(rl_parse_ip4("198.18.0.2", &ip, &port, false, &err), 0);
	assert_int_equal(ip, 0xc6120002);
	assert_int_equal(port, 0);
	assert_int_equal(rl_parse_ip4("198.18.0.2:9999", &ip, &port, true, &err), 0);
	assert_int_equal(ip, 0xc6120002);
	assert_int_equal(port, 9999);
	assert_int_equal(rl_parse_ip4("255.255.255.255:65535", &ip, &port, false, &err),
	                 0);
	assert_int_equal(ip, 0xffffffff);
	assert_int_equal(port, 65535);
	assert_int_equal(rl_parse_ip4("0.0.0.0", &ip, NULL, false, &err), 0);
	assert_int_equal(ip, 0);

	assert_int_equal(rl_parse_ip4("198.18.0.300", &ip, &port, false, &err), -EINVAL);
	assert_string_equal(err.msg, "'198.18.0.300' is not an IPv4 address - write four "
	                             "numbers 0-255 like 198.18.0.2");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (rl_parse_ip4(bad[i], &ip, &port, false, &err) != -EINVAL)
			fail_msg("'%s' was accepted as an IPv4 address", bad[i]);
		assert_contains(err.msg, "is not an IPv4 address");
	}
	assert_int_equal(rl_parse_ip4("198.18.0.2", &ip, &port, true, &err), -EINVAL);
	assert_contains(err.msg, "has no port");
	assert_int_equal(rl_parse_ip4("198.18.0.2:70000", &ip, &port, true, &err),
	                 -EINVAL);
	assert_contains(err.msg, "bad port");
	assert_int_equal(rl_parse_ip4("198.18.0.2:", &ip, &port, true, &err), -EINVAL);
	assert_int_equal(rl_parse_ip4("198.18.0.2:99x", &ip, &port, true, &err), -EINVAL);
	assert_int_equal(rl_parse_ip4("198.18.0.2:9", &ip, NULL, false, &err), -EINVAL);
	assert_contains(err.msg, "only an address");
	assert_int_equal(rl_parse_ip4(NULL, &ip, &port, false, &err), -EINVAL);

	rl_format_ip4(0xc6120002, s);
	assert_string_equal(s, "198.18.0.2");
	rl_format_ip4(0xffffffff, s);
	assert_string_equal(s, "255.255.255.255");
	rl_format_ip4(0, s);
	assert_string_equal(s, "0.0.0.0");
}

static void mac_parse_and_format(void **state)
{
	static const char *const bad[] = {"02:00:00:00:00",     "02:00:00:00:00:01:03",
	                                  "02-00-00-00-00-01",  "2:0:0:0:0:1",
	                                  "02:00:00:00:00:0g",  "",
	                                  "02:00:00:00:00:01 ", "0200.0000.0001"};
	uint8_t mac[6] = {0};
	struct rl_err err;
	char s[18];

	(void)state;
	assert_int_equal(rl_parse_mac("02:00:00:00:00:01", mac, &err), 0);
	assert_memory_equal(mac, ((uint8_t[]){2, 0, 0, 0, 0, 1}), 6);
	assert_int_equal(rl_parse_mac("FF:ee:0A:b0:c1:9d", mac, &err), 0);
	assert_memory_equal(mac, ((uint8_t[]){0xff, 0xee, 0x0a, 0xb0, 0xc1, 0x9d}), 6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rl_parse_mac(bad[i], mac, &err) != -EINVAL)
			fail_msg("'%s' was accepted as a MAC", bad[i]);
		assert_contains(err.msg, "is not a MAC address - write six hex bytes");
	}
	/* a failed parse leaves the output alone */
	assert_memory_equal(mac, ((uint8_t[]){0xff, 0xee, 0x0a, 0xb0, 0xc1, 0x9d}), 6);
	rl_format_mac(mac, s);
	assert_string_equal(s, "ff:ee:0a:b0:c1:9d");
}

/* ---- builders --------------------------------------------------------------- */

static void ip4_header_fields_and_checksum(void **state)
{
	/* Rebuild the textbook header 4500 0073 0000 4000 4011 b861 c0a8 0001
	 * c0a8 00c7 from a flow. */
	static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
	                                 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
	                                 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	struct rl_flow f = {.src_ip = 0xc0a80001, .dst_ip = 0xc0a800c7};
	uint8_t h[20];
	struct rl_err err;

	(void)state;
	assert_int_equal(rl_build_ip4(h, sizeof(h), &f, RL_IPPROTO_UDP, 0x73, &err), 20);
	assert_memory_equal(h, want, 20);

	f.ttl = 7;
	f.ip_id = 0xbeef;
	assert_int_equal(rl_build_ip4(h, sizeof(h), &f, RL_IPPROTO_ICMP, 84, &err), 20);
	assert_int_equal(h[8], 7);
	assert_int_equal(be16(h + 4), 0xbeef);
	assert_int_equal(h[9], 1);
	assert_int_equal(be16(h + 6), 0x4000); /* DF */
	assert_int_equal(rl_csum_fold(rl_csum_partial(h, 20, 0)), 0);

	assert_int_equal(rl_build_ip4(h, 19, &f, 17, 84, &err), -ENOSPC);
	assert_contains(err.msg, "needs 20 bytes");
	assert_int_equal(rl_build_ip4(h, 20, &f, 17, 19, &err), -EINVAL);
}

static void check_udp_dissect(const struct rl_dissect *d, size_t plen)
{
	assert_string_equal(d->problem, "");
	assert_int_equal(d->layers, RL_L_ETH | RL_L_IP4 | RL_L_UDP);
	assert_int_equal(d->len, RL_UDP_HDRS + plen);
	assert_memory_equal(d->dst_mac, flow.dst_mac, 6);
	assert_memory_equal(d->src_mac, flow.src_mac, 6);
	assert_int_equal(d->ethertype, RL_ETHERTYPE_IP4);
	assert_int_equal(d->src_ip, flow.src_ip);
	assert_int_equal(d->dst_ip, flow.dst_ip);
	assert_int_equal(d->ttl, 64);
	assert_int_equal(d->proto, RL_IPPROTO_UDP);
	assert_int_equal(d->ihl, 5);
	assert_int_equal(d->ip_len, 28 + plen);
	assert_int_equal(d->ip_id, 0x1234);
	assert_true(d->ip_csum_ok);
	assert_int_equal(d->src_port, 9000);
	assert_int_equal(d->dst_port, 9999);
	assert_int_equal(d->udp_len, 8 + plen);
	assert_true(d->udp_csum_ok);
	assert_int_equal(d->payload_off, RL_UDP_HDRS);
	assert_int_equal(d->payload_len, plen);
}

static void udp_build_dissect_round_trip(void **state)
{
	uint8_t pkt[RL_UDP_HDRS + 1400];
	const char *msg = "hello, ring";
	size_t plen = 1400;
	struct rl_iov pl = {pkt + RL_UDP_HDRS, plen};
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_dissect d;
	uint64_t touched = 5;
	uint16_t stored;

	(void)state;
	for (size_t i = 0; i < plen; i++)
		pkt[RL_UDP_HDRS + i] = (uint8_t)(i * 7 + 3);
	memcpy(pkt + RL_UDP_HDRS, msg, strlen(msg));
	assert_int_equal(
	    rl_build_udp(pkt, RL_UDP_HDRS, &flow, &pl, 1, true, &touched, NULL),
	    RL_UDP_HDRS);
	assert_int_equal(touched, 5 + plen); /* the payload was read once */
	/* the stored checksum is the real one */
	stored = be16(pkt + 40);
	pkt[40] = pkt[41] = 0;
	{
		uint8_t ph[12] = {198, 18, 0, 1, 198, 18, 0, 2, 0, 17};
		uint64_t s = 0;

		ph[10] = (uint8_t)((8 + plen) >> 8);
		ph[11] = (uint8_t)(8 + plen);
		s = (uint16_t)~ref_csum(ph, 12, 0);
		assert_int_equal(stored, ref_csum(pkt + 34, 8 + plen, (uint32_t)s));
	}
	pkt[40] = (uint8_t)(stored >> 8);
	pkt[41] = (uint8_t)stored;

	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	check_udp_dissect(&d, plen);
	assert_int_equal(d.udp_csum, stored);
	assert_memory_equal(pkt + d.payload_off, msg, strlen(msg));

	/* one flipped payload byte: the UDP checksum fails, IPv4's does not */
	pkt[RL_UDP_HDRS + 100] ^= 0x40;
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_false(d.udp_csum_ok);
	assert_true(d.ip_csum_ok);
	pkt[RL_UDP_HDRS + 100] ^= 0x40;
	/* one flipped TTL: IPv4's fails */
	pkt[22] ^= 0x01;
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_false(d.ip_csum_ok);
	assert_true(d.udp_csum_ok); /* the TTL is not in the pseudo-header */
	pkt[22] ^= 0x01;
	/* one flipped source address bit: both fail */
	pkt[29] ^= 0x01;
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_false(d.ip_csum_ok);
	assert_false(d.udp_csum_ok);
	pkt[29] ^= 0x01;
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	check_udp_dissect(&d, plen);

	/* no payload at all */
	assert_int_equal(rl_build_udp(pkt, sizeof(pkt), &flow, NULL, 0, true, NULL, NULL),
	                 RL_UDP_HDRS);
	whole.len = RL_UDP_HDRS;
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	check_udp_dissect(&d, 0);
}

static void udp_checksum_over_odd_pieces(void **state)
{
	uint8_t data[2001], hdr[RL_UDP_HDRS], flat[RL_UDP_HDRS + 2001];
	uint64_t seed = 11, touched = 0;
	struct rl_dissect d;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rl_unit_rand(&seed);
	/* the reference: one flat payload */
	{
		struct rl_iov one = {data, sizeof(data)};

		assert_int_equal(
		    rl_build_udp(flat, sizeof(flat), &flow, &one, 1, true, NULL, NULL),
		    RL_UDP_HDRS);
		memcpy(flat + RL_UDP_HDRS, data, sizeof(data));
	}
	for (int round = 0; round < 300; round++) {
		struct rl_iov v[16];
		unsigned n = 0;
		size_t off = 0;

		/* random piece lengths, many odd, some empty, at odd addresses */
		while (off < sizeof(data) && n < 15) {
			size_t len = rl_unit_rand(&seed) % 300;

			if (round % 3 == 0)
				len |= 1;
			if (len > sizeof(data) - off)
				len = sizeof(data) - off;
			v[n].base = data + off;
			v[n].len = len;
			off += len;
			n++;
		}
		v[n].base = data + off;
		v[n].len = sizeof(data) - off;
		n++;
		touched = 0;
		assert_int_equal(
		    rl_build_udp(hdr, sizeof(hdr), &flow, v, n, true, &touched, NULL),
		    RL_UDP_HDRS);
		assert_int_equal(touched, sizeof(data));
		assert_memory_equal(hdr, flat, RL_UDP_HDRS);
	}
	/* a fixed odd split that carries a byte across three pieces */
	{
		struct rl_iov v[4] = {{data, 1},
		                      {data + 1, 1},
		                      {data + 2, 3},
		                      {data + 5, sizeof(data) - 5}};

		assert_int_equal(
		    rl_build_udp(hdr, sizeof(hdr), &flow, v, 4, true, NULL, NULL),
		    RL_UDP_HDRS);
		assert_memory_equal(hdr + 40, flat + 40, 2);
	}
	/* the dissector verifies across odd pieces too, header split included */
	for (int round = 0; round < 300; round++) {
		size_t cuts[6];
		struct pieces p;

		for (int i = 0; i < 6; i++)
			cuts[i] = rl_unit_rand(&seed) % sizeof(flat);
		for (int i = 1; i < 6; i++) /* sorted, so every cut is a piece */
			for (int j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t t = cuts[j];

				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		if (round % 4 == 0)
			cuts[0] = 13; /* split inside the Ethernet header */
		pieces_make(&p, flat, sizeof(flat), cuts, 6);
		assert_int_equal(rl_dissect(p.v, p.n, &d), 0);
		check_udp_dissect(&d, sizeof(data));
		pieces_free(&p);
	}
}

static void udp_checksum_zero_is_sent_as_ffff(void **state)
{
	uint8_t pkt[RL_UDP_HDRS + 2] = {0};
	struct rl_iov pl = {pkt + RL_UDP_HDRS, 2};
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_dissect d;
	uint16_t c;

	(void)state;
	/* with payload 0000 the checksum is c; payload word c makes the sum
	 * all ones, whose complement is 0 - which UDP must send as ffff */
	assert_int_equal(rl_build_udp(pkt, RL_UDP_HDRS, &flow, &pl, 1, true, NULL, NULL),
	                 RL_UDP_HDRS);
	c = be16(pkt + 40);
	pkt[RL_UDP_HDRS] = (uint8_t)(c >> 8);
	pkt[RL_UDP_HDRS + 1] = (uint8_t)c;
	assert_int_equal(rl_build_udp(pkt, RL_UDP_HDRS, &flow, &pl, 1, true, NULL, NULL),
	                 RL_UDP_HDRS);
	assert_int_equal(be16(pkt + 40), 0xffff);
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_true(d.udp_csum_ok);
	assert_int_equal(d.udp_csum, 0xffff);
}

static void udp_without_checksum_is_zero_and_ok(void **state)
{
	uint8_t pkt[RL_UDP_HDRS + 10] = {0};
	struct rl_iov pl = {pkt + RL_UDP_HDRS, 10};
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_dissect d;
	uint64_t touched = 0;

	(void)state;
	assert_int_equal(
	    rl_build_udp(pkt, RL_UDP_HDRS, &flow, &pl, 1, false, &touched, NULL),
	    RL_UDP_HDRS);
	assert_int_equal(touched, 0); /* nothing read */
	assert_int_equal(be16(pkt + 40), 0);
	assert_int_equal(be16(pkt + 38), 18);
	pkt[RL_UDP_HDRS + 3] = 0x77; /* payload changes cannot be detected */
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_true(d.udp_csum_ok);
	assert_true(d.ip_csum_ok);
	assert_int_equal(d.udp_csum, 0);
}

static void udp_build_rejects_small_buffer_and_huge_payload(void **state)
{
	static uint8_t big[65536];
	uint8_t hdr[RL_UDP_HDRS];
	struct rl_iov pl = {big, 65508};
	struct rl_iov nobase = {NULL, 10};
	struct rl_err err;

	(void)state;
	assert_int_equal(rl_build_udp(hdr, 41, &flow, NULL, 0, true, NULL, &err),
	                 -ENOSPC);
	assert_contains(err.msg, "need 42 bytes");
	assert_int_equal(rl_build_udp(hdr, sizeof(hdr), &flow, &pl, 1, true, NULL, &err),
	                 -EMSGSIZE);
	assert_contains(err.msg, "65508");
	assert_contains(err.msg, "65507");
	pl.len = 65507; /* the largest that fits */
	assert_int_equal(rl_build_udp(hdr, sizeof(hdr), &flow, &pl, 1, true, NULL, &err),
	                 RL_UDP_HDRS);
	assert_int_equal(be16(hdr + 16), 65535);
	assert_int_equal(
	    rl_build_udp(hdr, sizeof(hdr), &flow, &nobase, 1, true, NULL, &err), -EINVAL);
	assert_int_equal(rl_build_udp(hdr, sizeof(hdr), &flow, NULL, 2, true, NULL, &err),
	                 -EINVAL);
}

static void icmp_echo_build_dissect(void **state)
{
	enum { HL = RL_ETH_HLEN + RL_IP4_HLEN + RL_ICMP_HLEN };
	uint8_t pkt[HL + 57];
	struct rl_iov pl[2] = {{pkt + HL, 31}, {pkt + HL + 31, 26}};
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_dissect d;
	uint64_t touched = 0;
	struct rl_err err;

	(void)state;
	for (size_t i = 0; i < 57; i++)
		pkt[HL + i] = (uint8_t)(0x30 + i);
	for (int type = 8; type >= 0; type -= 8) {
		assert_int_equal(rl_build_icmp_echo(pkt, HL, &flow, (uint8_t)type, 0x4242,
		                                    7, pl, 2, &touched, &err),
		                 HL);
		assert_int_equal(rl_dissect(&whole, 1, &d), 0);
		assert_string_equal(d.problem, "");
		assert_int_equal(d.layers, RL_L_ETH | RL_L_IP4 | RL_L_ICMP);
		assert_int_equal(d.proto, RL_IPPROTO_ICMP);
		assert_int_equal(d.ip_len, 20 + 8 + 57);
		assert_true(d.ip_csum_ok);
		assert_int_equal(d.icmp_type, type);
		assert_int_equal(d.icmp_code, 0);
		assert_int_equal(d.icmp_id, 0x4242);
		assert_int_equal(d.icmp_seq, 7);
		assert_true(d.icmp_csum_ok);
		assert_int_equal(d.payload_off, HL);
		assert_int_equal(d.payload_len, 57);
	}
	assert_int_equal(touched, 2 * 57);
	/* the checksum is the real one */
	{
		uint16_t c = be16(pkt + 36);

		pkt[36] = pkt[37] = 0;
		assert_int_equal(c, ref_csum(pkt + 34, 8 + 57, 0));
		pkt[36] = (uint8_t)(c >> 8);
		pkt[37] = (uint8_t)c;
	}
	pkt[HL + 56] ^= 0xff; /* the odd last byte */
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_false(d.icmp_csum_ok);
	assert_true(d.ip_csum_ok);
	assert_int_equal(rl_build_icmp_echo(pkt, HL, &flow, 3, 1, 1, NULL, 0, NULL, &err),
	                 -EINVAL);
	assert_contains(err.msg, "not an echo");
	assert_int_equal(
	    rl_build_icmp_echo(pkt, HL - 1, &flow, 8, 1, 1, NULL, 0, NULL, &err),
	    -ENOSPC);
}

static void arp_build_dissect(void **state)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6];
	uint8_t pkt[RL_ETH_HLEN + RL_ARP_LEN];
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_dissect d;
	struct rl_err err;

	(void)state;
	/* who has 198.18.0.2? tell 198.18.0.1 (a given tha is ignored) */
	assert_int_equal(rl_build_arp(pkt, sizeof(pkt), 1, flow.src_mac, flow.src_ip,
	                              flow.dst_mac, flow.dst_ip, &err),
	                 42);
	assert_memory_equal(pkt, bcast, 6);
	assert_int_equal(be16(pkt + 12), RL_ETHERTYPE_ARP);
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_string_equal(d.problem, "");
	assert_int_equal(d.layers, RL_L_ETH | RL_L_ARP);
	assert_memory_equal(d.dst_mac, bcast, 6);
	assert_memory_equal(d.src_mac, flow.src_mac, 6);
	assert_int_equal(d.arp_op, 1);
	assert_memory_equal(d.arp_sha, flow.src_mac, 6);
	assert_int_equal(d.arp_spa, flow.src_ip);
	assert_memory_equal(d.arp_tha, zero, 6);
	assert_int_equal(d.arp_tpa, flow.dst_ip);
	assert_int_equal(d.payload_off, 42);
	assert_int_equal(d.payload_len, 0);
	/* the reply goes to the asker */
	assert_int_equal(rl_build_arp(pkt, sizeof(pkt), 2, flow.dst_mac, flow.dst_ip,
	                              flow.src_mac, flow.src_ip, &err),
	                 42);
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_memory_equal(d.dst_mac, flow.src_mac, 6);
	assert_memory_equal(d.src_mac, flow.dst_mac, 6);
	assert_int_equal(d.arp_op, 2);
	assert_memory_equal(d.arp_sha, flow.dst_mac, 6);
	assert_int_equal(d.arp_spa, flow.dst_ip);
	assert_memory_equal(d.arp_tha, flow.src_mac, 6);
	assert_int_equal(d.arp_tpa, flow.src_ip);
	/* refusals */
	assert_int_equal(rl_build_arp(pkt, 41, 1, flow.src_mac, 1, NULL, 2, &err),
	                 -ENOSPC);
	assert_int_equal(
	    rl_build_arp(pkt, sizeof(pkt), 3, flow.src_mac, 1, NULL, 2, &err), -EINVAL);
	assert_contains(err.msg, "ARP op 3");
	assert_int_equal(
	    rl_build_arp(pkt, sizeof(pkt), 2, flow.src_mac, 1, NULL, 2, &err), -EINVAL);
	/* a truncated ARP says so */
	whole.len = 30;
	assert_int_equal(rl_dissect(&whole, 1, &d), -EBADMSG);
	assert_contains(d.problem, "ARP truncated");
	assert_int_equal(d.layers, RL_L_ETH);
}

/* ---- the dissector on strange input ---------------------------------------- */

static void dissect_reports_non_ip_frame(void **state)
{
	uint8_t pkt[60] = {0};
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_dissect d;

	(void)state;
	pkt[12] = 0x86;
	pkt[13] = 0xdd; /* IPv6 */
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_string_equal(d.problem, "");
	assert_int_equal(d.layers, RL_L_ETH);
	assert_int_equal(d.ethertype, 0x86dd);
	assert_int_equal(d.payload_off, 14);
	assert_int_equal(d.payload_len, 46);
	/* nothing at all */
	assert_int_equal(rl_dissect(NULL, 0, &d), -EBADMSG);
	assert_contains(d.problem, "shorter than an Ethernet header");
	assert_int_equal(d.layers, 0);
	assert_int_equal(rl_dissect(&whole, 1, NULL), -EINVAL);
}

static void dissect_handles_ethernet_padding(void **state)
{
	uint8_t pkt[60] = {0}; /* 42 + 5 bytes, padded to the minimum frame */
	struct rl_iov pl = {pkt + RL_UDP_HDRS, 5};
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_dissect d;

	(void)state;
	memcpy(pkt + RL_UDP_HDRS, "abcde", 5);
	assert_int_equal(rl_build_udp(pkt, RL_UDP_HDRS, &flow, &pl, 1, true, NULL, NULL),
	                 RL_UDP_HDRS);
	memset(pkt + 47, 0xee, 13); /* the padding is not part of anything */
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_int_equal(d.len, 60);
	assert_int_equal(d.ip_len, 33);
	assert_true(d.udp_csum_ok);
	assert_int_equal(d.payload_off, 42);
	assert_int_equal(d.payload_len, 5);
}

static void dissect_rejects_lying_lengths(void **state)
{
	uint8_t pkt[RL_UDP_HDRS + 20] = {0};
	uint8_t copy[sizeof(pkt)];
	struct rl_iov pl = {pkt + RL_UDP_HDRS, 20};
	struct rl_iov whole = {copy, sizeof(copy)};
	struct rl_dissect d;

	(void)state;
	assert_int_equal(rl_build_udp(pkt, RL_UDP_HDRS, &flow, &pl, 1, true, NULL, NULL),
	                 RL_UDP_HDRS);
#define MUTATE(off, val, what)                                                           \
	do {                                                                             \
		memcpy(copy, pkt, sizeof(pkt));                                          \
		copy[off] = (val);                                                       \
		assert_int_equal(rl_dissect(&whole, 1, &d), -EBADMSG);                   \
		assert_contains(d.problem, what);                                        \
		assert_true(d.payload_off + d.payload_len <= d.len);                     \
	} while (0)
	MUTATE(14, 0x65, "IP version 6");
	MUTATE(14, 0x44, "header length 16");
	MUTATE(14, 0x4f, "header length 60"); /* options past the end */
	MUTATE(16, 0xff, "IPv4 truncated");   /* total length huge */
	MUTATE(17, 10, "shorter than its");   /* total length < header */
	MUTATE(38, 0xff, "UDP length");       /* udp length > packet */
	MUTATE(39, 3, "UDP length 3");        /* udp length < 8 */
#undef MUTATE
	/* total length leaves no room for the UDP header */
	memcpy(copy, pkt, sizeof(pkt));
	copy[17] = 24;
	assert_int_equal(rl_dissect(&whole, 1, &d), -EBADMSG);
	assert_contains(d.problem, "UDP truncated");
	/* a fragment is IPv4 without a transport layer, and that is fine */
	memcpy(copy, pkt, sizeof(pkt));
	copy[20] |= 0x20; /* MF */
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_int_equal(d.layers, RL_L_ETH | RL_L_IP4);
}

static void dissect_never_overreads_truncated(void **state)
{
	uint8_t pkt[RL_UDP_HDRS + 33];
	struct rl_iov pl = {pkt + RL_UDP_HDRS, 33};
	struct rl_dissect d;
	uint64_t seed = 3;

	(void)state;
	for (int i = 0; i < 33; i++)
		pkt[RL_UDP_HDRS + i] = (uint8_t)i;
	assert_int_equal(rl_build_udp(pkt, RL_UDP_HDRS, &flow, &pl, 1, true, NULL, NULL),
	                 RL_UDP_HDRS);
	for (size_t len = 0; len <= sizeof(pkt); len++) {
		/* every truncation, whole and in random pieces, each piece in a
		 * block of exactly its size */
		for (int split = 0; split < 4; split++) {
			size_t cuts[3] = {0, 0, 0};
			unsigned ncuts = split ? 3 : 0;
			struct pieces p;
			int rc;

			for (unsigned i = 0; i < ncuts; i++)
				cuts[i] = len ? rl_unit_rand(&seed) % (len + 1) : 0;
			if (ncuts && cuts[0] > cuts[1]) {
				size_t t = cuts[0];
				cuts[0] = cuts[1];
				cuts[1] = t;
			}
			if (ncuts && cuts[1] > cuts[2]) {
				size_t t = cuts[1];
				cuts[1] = cuts[2];
				cuts[2] = t;
			}
			pieces_make(&p, pkt, len, cuts, ncuts);
			rc = rl_dissect(p.v, p.n, &d);
			assert_int_equal(d.len, len);
			if (len < sizeof(pkt)) {
				assert_int_equal(rc, -EBADMSG);
				assert_true(d.problem[0] != '\0');
			} else {
				assert_int_equal(rc, 0);
				check_udp_dissect(&d, 33);
			}
			assert_true(d.payload_off + d.payload_len <= d.len ||
			            d.payload_len == 0);
			pieces_free(&p);
		}
	}
}

static void dissect_survives_random_bytes(void **state)
{
	uint8_t pkt[300];
	uint64_t seed = 77;
	struct rl_dissect d;
	unsigned parsed_ip = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = rl_unit_rand(&seed) % sizeof(pkt), cuts[4];
		struct pieces p;
		int rc;

		for (size_t i = 0; i < len; i++)
			pkt[i] = (uint8_t)rl_unit_rand(&seed);
		/* mostly plausible headers, so the deep paths run */
		if (len > 14 && round % 4) {
			pkt[12] = 0x08;
			pkt[13] = round % 8 == 1 ? 0x06 : 0x00;
		}
		if (len > 15 && round % 2)
			pkt[14] = (uint8_t)(0x40 | (pkt[14] & 0x0f));
		if (len > 23 && round % 3 == 0)
			pkt[23] = (uint8_t)(round % 9 == 0 ? 1 : round % 9 == 3 ? 6 : 17);
		if (len > 20 && round % 5 == 0)
			pkt[20] = pkt[21] = 0; /* not a fragment */
		for (int i = 0; i < 4; i++)
			cuts[i] = len ? rl_unit_rand(&seed) % (len + 1) : 0;
		for (int i = 1; i < 4; i++)
			for (int j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t t = cuts[j];

				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		pieces_make(&p, pkt, len, cuts, round % 2 ? 4 : 0);
		rc = rl_dissect(p.v, p.n, &d);
		assert_true(rc == 0 || rc == -EBADMSG);
		assert_int_equal(rc == 0, d.problem[0] == '\0');
		assert_int_equal(d.len, len);
		assert_true((uint64_t)d.payload_off + d.payload_len <= d.len);
		if (d.layers & RL_L_IP4)
			parsed_ip++;
		pieces_free(&p);
	}
	assert_true(parsed_ip > 1000);
}

static void dissect_tcp_header_length(void **state)
{
	uint8_t pkt[RL_ETH_HLEN + 20 + 32 + 5] = {0};
	struct rl_iov whole = {pkt, sizeof(pkt)};
	struct rl_flow f = flow;
	struct rl_dissect d;

	(void)state;
	memcpy(pkt, f.dst_mac, 6);
	pkt[12] = 0x08;
	assert_int_equal(
	    rl_build_ip4(pkt + 14, 20, &f, RL_IPPROTO_TCP, 20 + 32 + 5, NULL), 20);
	pkt[34] = 0x1f;
	pkt[35] = 0x90; /* 8080 */
	pkt[36] = 0x04;
	pkt[37] = 0xd2;   /* 1234 */
	pkt[46] = 8 << 4; /* 32-byte header */
	assert_int_equal(rl_dissect(&whole, 1, &d), 0);
	assert_int_equal(d.layers, RL_L_ETH | RL_L_IP4 | RL_L_TCP);
	assert_int_equal(d.src_port, 8080);
	assert_int_equal(d.dst_port, 1234);
	assert_int_equal(d.payload_off, 14 + 20 + 32);
	assert_int_equal(d.payload_len, 5);
	pkt[46] = 15 << 4; /* 60 bytes: more than there is */
	assert_int_equal(rl_dissect(&whole, 1, &d), -EBADMSG);
	assert_contains(d.problem, "TCP header length 60");
}

static const struct CMUnitTest packet_tests[] = {
    cmocka_unit_test(ip4_parse_and_format),
    cmocka_unit_test(mac_parse_and_format),
    cmocka_unit_test(ip4_header_fields_and_checksum),
    cmocka_unit_test(udp_build_dissect_round_trip),
    cmocka_unit_test(udp_checksum_over_odd_pieces),
    cmocka_unit_test(udp_checksum_zero_is_sent_as_ffff),
    cmocka_unit_test(udp_without_checksum_is_zero_and_ok),
    cmocka_unit_test(udp_build_rejects_small_buffer_and_huge_payload),
    cmocka_unit_test(icmp_echo_build_dissect),
    cmocka_unit_test(arp_build_dissect),
    cmocka_unit_test(dissect_reports_non_ip_frame),
    cmocka_unit_test(dissect_handles_ethernet_padding),
    cmocka_unit_test(dissect_rejects_lying_lengths),
    cmocka_unit_test(dissect_never_overreads_truncated),
    cmocka_unit_test(dissect_survives_random_bytes),
    cmocka_unit_test(dissect_tcp_header_length),
};

RL_UNIT_MAIN(packet_tests)
