/*
 * fuzz_tcp.c - the TCP option parser, the header builder and rewriter, and
 * the address parsers (core/tcp.c, core/packet.c).
 *
 * The first byte picks a target:
 *   0  rl_tcp_parse_options over the rest (at most 40 bytes, exact heap
 *      copy): 0 or -EBADMSG with a problem line; the option bits set are
 *      only known ones.
 *   1  rl_build_tcp with fuzzed fields and options, then rl_dissect: the
 *      header parses, checksums hold, every option sent comes back with its
 *      value; then rl_hdr_rewrite with fuzzed fields: still parses,
 *      checksums still hold, the new fields read back.
 *   2  rl_parse_ip4 and rl_parse_mac over the rest as a C string: 0 or a
 *      negative errno with a message; what parses formats back to text that
 *      parses to the same value.
 */
#include <errno.h>

#include "fuzz_common.h"
#include "ringlab/err.h"
#include "ringlab/packet.h"
#include "ringlab/tcp.h"

static void options(struct fz *f)
{
	size_t len = f->n > RL_TCP_OPTS_MAX ? RL_TCP_OPTS_MAX : f->n;
	uint8_t *o = malloc(len ? len : 1);
	struct rl_dissect d;
	int rc;

	memcpy(o, f->p, len);
	memset(&d, 0, sizeof d);
	rc = rl_tcp_parse_options(o, len, &d);
	FZ_CHECK(rc == 0 || rc == -EBADMSG, "rc %d", rc);
	FZ_CHECK(rc == 0 || d.problem[0], "refused without a problem line");
	FZ_CHECK(memchr(d.problem, 0, sizeof d.problem), "problem unterminated");
	FZ_CHECK((d.tcp_opts & ~0x3fu) == 0, "unknown option bits %x", d.tcp_opts);
	free(o);
}

static void build(struct fz *f)
{
	struct rl_flow fl = {.src_ip = fz_u32(f), .dst_ip = fz_u32(f),
	                     .src_port = fz_u16(f), .dst_port = fz_u16(f),
	                     .ttl = fz_u8(f), .ip_id = fz_u16(f)};
	uint8_t sel = fz_u8(f);
	struct rl_tcp t = {.seq = fz_u32(f), .ack = fz_u32(f), .flags = fz_u8(f),
	                   .window = fz_u16(f), .urg = fz_u16(f),
	                   .has_mss = sel & 1, .mss = fz_u16(f),
	                   .has_wscale = sel & 2, .wscale = fz_u8(f),
	                   .sack_ok = sel & 4, .has_ts = sel & 8,
	                   .ts_val = fz_u32(f), .ts_ecr = fz_u32(f)};
	enum rl_csum_mode mode = (sel & 16) ? RL_CSUM_PARTIAL : RL_CSUM_SOFTWARE;
	size_t plen;
	uint8_t *pkt;
	struct rl_iov pay, whole;
	struct rl_dissect d;
	struct rl_err err;
	uint64_t touched = 0;
	int hl, rc;

	for (int i = 0; i < 6; i++) {
		fl.src_mac[i] = fz_u8(f);
		fl.dst_mac[i] = fz_u8(f);
	}
	/* The rest is the payload (the rewrite's fields are read from it). */
	plen = f->n > 1400 ? 1400 : f->n;
	pkt = malloc(RL_TCP_HDRS + RL_TCP_OPTS_MAX + plen);
	pay = (struct rl_iov){f->p, plen};
	hl = rl_build_tcp(pkt, RL_TCP_HDRS + RL_TCP_OPTS_MAX, &fl, &t, &pay, 1, mode,
	                  &touched, &err);
	FZ_CHECK(hl > 0, "build refused: %s", err.msg);
	FZ_CHECK((unsigned)hl == rl_tcp_hdrs_len(&t), "hl %d", hl);
	FZ_CHECK(touched == (mode == RL_CSUM_SOFTWARE ? plen : 0), "touched %llu",
	         (unsigned long long)touched);
	memcpy(pkt + hl, f->p, plen);
	whole = (struct rl_iov){pkt, hl + plen};
	rc = rl_dissect(&whole, 1, &d);
	FZ_CHECK(rc == 0 && (d.layers & RL_L_TCP), "built packet: %s", d.problem);
	FZ_CHECK(d.ip_csum_ok, "ip checksum");
	FZ_CHECK(mode == RL_CSUM_PARTIAL || d.tcp_csum_ok, "tcp checksum");
	FZ_CHECK(d.tcp_seq == t.seq && d.tcp_ack == t.ack && d.tcp_window == t.window,
	         "fields");
	FZ_CHECK(d.payload_len == plen && d.payload_off == (uint32_t)hl, "payload %u@%u",
	         d.payload_len, d.payload_off);
	FZ_CHECK(!t.has_mss || ((d.tcp_opts & RL_TCPOPT_MSS) && d.tcp_mss == t.mss), "mss");
	FZ_CHECK(!t.has_wscale || ((d.tcp_opts & RL_TCPOPT_WSCALE) && d.tcp_wscale == t.wscale),
	         "wscale");
	FZ_CHECK(!t.sack_ok || (d.tcp_opts & RL_TCPOPT_SACKOK), "sackok");
	FZ_CHECK(!t.has_ts || ((d.tcp_opts & RL_TCPOPT_TS) && d.tcp_ts_val == t.ts_val &&
	                       d.tcp_ts_ecr == t.ts_ecr),
	         "timestamps");

	if (mode == RL_CSUM_SOFTWARE) {
		struct rl_rewrite rw = {.what = fz_u8(f) & 0x3f, .seq = fz_u32(f),
		                        .ack = fz_u32(f), .src_port = fz_u16(f),
		                        .dst_port = fz_u16(f), .ip_id = fz_u16(f),
		                        .window = fz_u16(f), .src_ip = fz_u32(f),
		                        .dst_ip = fz_u32(f)};

		rc = rl_hdr_rewrite(pkt, hl, &rw, &err);
		FZ_CHECK(rc >= 0, "rewrite refused: %s", err.msg);
		rc = rl_dissect(&whole, 1, &d);
		FZ_CHECK(rc == 0 && d.ip_csum_ok && d.tcp_csum_ok,
		         "rewritten packet: rc %d ip %d tcp %d %s", rc, d.ip_csum_ok,
		         d.tcp_csum_ok, d.problem);
		FZ_CHECK(!(rw.what & RL_RW_SEQ) || d.tcp_seq == rw.seq, "seq");
		FZ_CHECK(!(rw.what & RL_RW_ACK) || d.tcp_ack == rw.ack, "ack");
		FZ_CHECK(!(rw.what & RL_RW_PORTS) ||
		             (d.src_port == rw.src_port && d.dst_port == rw.dst_port),
		         "ports");
		FZ_CHECK(!(rw.what & RL_RW_IP_ID) || d.ip_id == rw.ip_id, "ip id");
		FZ_CHECK(!(rw.what & RL_RW_ADDRS) ||
		             (d.src_ip == rw.src_ip && d.dst_ip == rw.dst_ip),
		         "addresses");
	}
	free(pkt);
}

static void addresses(struct fz *f)
{
	char *s = malloc(f->n + 1);
	struct rl_err err;
	uint32_t ip, ip2;
	uint16_t port = 0, port2 = 0;
	uint8_t mac[6], mac2[6];
	char text[40], ipt[16], mact[18];
	int rc;

	memcpy(s, f->p, f->n);
	s[f->n] = 0;
	for (int need = 0; need < 2; need++) {
		err.msg[0] = 0;
		rc = rl_parse_ip4(s, &ip, &port, need, &err);
		FZ_CHECK(rc <= 0, "rc %d", rc);
		FZ_CHECK(rc == 0 || err.msg[0], "refused without a message");
		if (rc == 0) {
			rl_format_ip4(ip, ipt);
			snprintf(text, sizeof text, "%s:%u", ipt, port);
			FZ_CHECK(rl_parse_ip4(text, &ip2, &port2, false, &err) == 0 &&
			             ip2 == ip && port2 == port,
			         "%s does not parse back (%s)", text, err.msg);
		}
	}
	err.msg[0] = 0;
	rc = rl_parse_mac(s, mac, &err);
	FZ_CHECK(rc <= 0 && (rc == 0 || err.msg[0]), "mac rc %d", rc);
	if (rc == 0) {
		rl_format_mac(mac, mact);
		FZ_CHECK(rl_parse_mac(mact, mac2, &err) == 0 && !memcmp(mac, mac2, 6),
		         "%s does not parse back", mact);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};

	switch (fz_u8(&f) % 3) {
	case 0:
		options(&f);
		break;
	case 1:
		build(&f);
		break;
	default:
		addresses(&f);
	}
	return 0;
}
