/*
 * tcp.h - build TCP/IPv4/Ethernet headers, parse TCP options, and rewrite
 * the headers of a packet that is already built.
 *
 * rl_build_tcp() writes Ethernet + IPv4 + TCP (with options) in front of a
 * payload given as pieces, like rl_build_udp(): the payload is never copied,
 * only read for the checksum (counted in *touched) - or not read at all when
 * the checksum is left to the NIC (RL_CSUM_PARTIAL: the field then holds the
 * folded pseudo-header sum, as Linux expects for CHECKSUM_PARTIAL).
 *
 * rl_hdr_rewrite() changes the sequence/ack numbers, ports, window and IPv4
 * id of a built TCP or UDP packet and fixes both checksums incrementally
 * (RFC 1624): no payload byte is read. This is what resending staged data
 * (the `reuse` strategy) costs. rl_dissect() (packet.h) parses TCP.
 */
#ifndef RINGLAB_TCP_H
#define RINGLAB_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "packet.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RL_TCP_HLEN     20
#define RL_TCP_OPTS_MAX 40
#define RL_TCP_HDRS     (RL_ETH_HLEN + RL_IP4_HLEN + RL_TCP_HLEN) /* 54 */

#define RL_TCP_FIN 0x01
#define RL_TCP_SYN 0x02
#define RL_TCP_RST 0x04
#define RL_TCP_PSH 0x08
#define RL_TCP_ACK 0x10
#define RL_TCP_URG 0x20
#define RL_TCP_ECE 0x40
#define RL_TCP_CWR 0x80

/* One TCP header's fields; an option is sent only when its has_ flag is
 * set (sack_ok is itself the flag). */
struct rl_tcp {
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;   /* RL_TCP_* */
	uint16_t window; /* as sent (unscaled) */
	uint16_t urg;
	bool has_mss;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale;
	bool sack_ok;
	bool has_ts;
	uint32_t ts_val;
	uint32_t ts_ecr;
};

/* How the TCP/UDP checksum is filled in. */
enum rl_csum_mode {
	RL_CSUM_SOFTWARE = 0, /* computed here: reads the payload (touched) */
	RL_CSUM_PARTIAL,      /* pseudo-header sum only, the NIC finishes it */
};

/* Bytes the options of t take, padded to a multiple of 4 (0..20). */
unsigned rl_tcp_opts_len(const struct rl_tcp *t);

/* Header bytes of a TCP/IPv4/Ethernet packet with t's options. */
static inline unsigned rl_tcp_hdrs_len(const struct rl_tcp *t)
{
	return RL_TCP_HDRS + rl_tcp_opts_len(t);
}

/* Write Ethernet + IPv4 + TCP headers into hdr (rl_tcp_hdrs_len(t) bytes)
 * for the payload pieces. Returns the header length or -errno. */
int rl_build_tcp(uint8_t *hdr, size_t cap, const struct rl_flow *f,
                 const struct rl_tcp *t, const struct rl_iov *payload, unsigned npayload,
                 enum rl_csum_mode mode, uint64_t *touched, struct rl_err *err);

/* The headers of a run of segments, made from one template: what
 * rl_segment() writes for all but the first and the last segment.
 * rl_tcp_tmpl_init() takes the headers rl_build_tcp() wrote for a segment
 * of plen payload bytes (hl bytes at hdr) and sums once the words the next
 * segments share: the IPv4 header but its id and checksum, and the
 * pseudo-header and TCP header but the sequence number and checksum.
 * rl_tcp_tmpl_write() then writes the headers of another segment of the
 * same flow, options, flags, payload length and checksum mode: a copy of
 * the template, the IPv4 id and sequence number stored, and both checksums
 * made from those sums in registers - no header byte is read back. With
 * RL_CSUM_SOFTWARE, payload_sum is the payload's rl_csum_partial() (or
 * rl_csum_copy()) sum; with RL_CSUM_PARTIAL it is unused (the pseudo-header
 * sum does not cover the sequence number, so the template's stays). The
 * bytes are those rl_build_tcp() writes for that segment (the checksums
 * are sums of the same words; tests/unit/test_tcp.c compares them). */
struct rl_tcp_tmpl {
	uint8_t hdr[RL_TCP_HDRS + RL_TCP_OPTS_MAX];
	unsigned hl;
	enum rl_csum_mode mode;
	uint16_t ip_sum;  /* folded sums, big-endian words */
	uint16_t tcp_sum;
};

void rl_tcp_tmpl_init(struct rl_tcp_tmpl *t, const uint8_t *hdr, unsigned hl,
                      size_t plen, enum rl_csum_mode mode);

/* Fold a sum of 16-bit words to 16 bits (carries wrapped back in). */
static inline uint16_t rl_tcp__fold(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static inline void rl_tcp__put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Inline: it runs once per segment. */
static inline void rl_tcp_tmpl_write(const struct rl_tcp_tmpl *t, uint8_t *hdr,
                                     uint16_t ip_id, uint32_t seq,
                                     uint32_t payload_sum)
{
	uint8_t *ip = hdr + RL_ETH_HLEN, *th = ip + RL_IP4_HLEN;

	/* the common lengths as constants: the compiler copies them inline */
	if (t->hl == RL_TCP_HDRS)
		memcpy(hdr, t->hdr, RL_TCP_HDRS);
	else if (t->hl == RL_TCP_HDRS + 12) /* timestamps */
		memcpy(hdr, t->hdr, RL_TCP_HDRS + 12);
	else
		memcpy(hdr, t->hdr, t->hl);
	rl_tcp__put16(ip + 4, ip_id);
	rl_tcp__put16(ip + 10, (uint16_t)~rl_tcp__fold((uint64_t)t->ip_sum + ip_id));
	rl_tcp__put16(th + 4, (uint16_t)(seq >> 16));
	rl_tcp__put16(th + 6, (uint16_t)seq);
	if (t->mode == RL_CSUM_SOFTWARE)
		rl_tcp__put16(th + 16, (uint16_t)~rl_tcp__fold((uint64_t)t->tcp_sum +
		                                               (seq >> 16) + (seq & 0xffff) +
		                                               payload_sum));
}

/* Parse the options of a TCP header (opt: the bytes after the fixed 20)
 * into d's tcp_* fields. -EBADMSG with d->problem set when an option is
 * malformed. Used by rl_dissect(). */
int rl_tcp_parse_options(const uint8_t *opt, size_t len, struct rl_dissect *d);

/* The fields rl_hdr_rewrite() may change. The ones not flagged in `what`
 * are left alone. */
#define RL_RW_SEQ    (1u << 0)
#define RL_RW_ACK    (1u << 1)
#define RL_RW_PORTS  (1u << 2)
#define RL_RW_IP_ID  (1u << 3)
#define RL_RW_WINDOW (1u << 4)
#define RL_RW_ADDRS  (1u << 5) /* MACs and IPv4 addresses */

struct rl_rewrite {
	uint32_t what; /* RL_RW_* */
	uint32_t seq, ack;
	uint16_t src_port, dst_port;
	uint16_t ip_id;
	uint16_t window;
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip; /* host order */
	/* The packet's L4 checksum is a CHECKSUM_PARTIAL pseudo-header sum
	 * (ports, seq, ack are not in it, so it is left as is). */
	bool partial;
};

/* Rewrite the headers of the TCP or UDP packet at pkt (its first `len`
 * bytes must hold all headers) in place, fixing the IPv4 and L4 checksums
 * with RFC 1624; reads no payload. Returns the number of header bytes
 * written (fields + checksums), or -errno when pkt is not a TCP/UDP IPv4
 * packet. */
int rl_hdr_rewrite(uint8_t *pkt, size_t len, const struct rl_rewrite *rw,
                   struct rl_err *err);

#ifdef __cplusplus
}
#endif
#endif
