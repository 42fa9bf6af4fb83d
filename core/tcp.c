/*
 * tcp.c - TCP headers: build them, parse their options, rewrite them.
 *
 * A TCP header is 20 fixed bytes and up to 40 bytes of options. The builder
 * lays the options out the way Linux does on a SYN (MSS, SACK-permitted and
 * timestamps, window scale behind a NOP), so captures look familiar, and
 * computes the checksum over the pseudo-header, the header and the payload
 * pieces. The payload is read for that - and counted as touched - unless the
 * caller leaves the checksum to the NIC: then the field holds only the folded
 * pseudo-header sum, which is what a NIC with checksum offload (and the
 * kernel's CHECKSUM_PARTIAL) expects to find there.
 *
 * The rewriter is the cheap path of resending: it changes a few 16- and
 * 32-bit header fields of a packet that is already built and patches both
 * checksums with RFC 1624's HC' = ~(~HC + ~m + m'), so the cost of a resend
 * is a handful of header bytes whatever the payload size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ringlab/checksum.h"
#include "ringlab/tcp.h"

#include "bytes.h"

#define OPT_EOL    0
#define OPT_NOP    1
#define OPT_MSS    2
#define OPT_WS     3
#define OPT_SACKOK 4
#define OPT_SACK   5
#define OPT_TS     8

/* ---- options --------------------------------------------------------------- */

/* Write t's options at o; returns their length, a multiple of 4. */
static unsigned write_options(uint8_t *o, const struct rl_tcp *t)
{
	unsigned n = 0;

	if (t->has_mss) {
		o[n++] = OPT_MSS;
		o[n++] = 4;
		put16(o + n, t->mss);
		n += 2;
	}
	if (t->sack_ok && t->has_ts) {
		o[n++] = OPT_SACKOK;
		o[n++] = 2;
	} else if (t->has_ts || t->sack_ok) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		if (t->sack_ok) {
			o[n++] = OPT_SACKOK;
			o[n++] = 2;
		}
	}
	if (t->has_ts) {
		o[n++] = OPT_TS;
		o[n++] = 10;
		put32(o + n, t->ts_val);
		put32(o + n + 4, t->ts_ecr);
		n += 8;
	}
	if (t->has_wscale) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_WS;
		o[n++] = 3;
		o[n++] = t->wscale;
	}
	return n;
}

unsigned rl_tcp_opts_len(const struct rl_tcp *t)
{
	uint8_t scratch[RL_TCP_OPTS_MAX];

	return write_options(scratch, t);
}

static int opt_problem(struct rl_dissect *d, const char *what, unsigned at)
{
	snprintf(d->problem, sizeof(d->problem),
	         "TCP option at byte %u of the options: %s", at, what);
	return -EBADMSG;
}

/* One option of known kind and length at o; false when its length is not
 * the one the kind requires. */
static bool parse_one(const uint8_t *o, uint8_t kind, uint8_t len, struct rl_dissect *d)
{
	switch (kind) {
	case OPT_MSS:
		if (len != 4)
			return false;
		d->tcp_opts |= RL_TCPOPT_MSS;
		d->tcp_mss = get16(o + 2);
		return true;
	case OPT_WS:
		if (len != 3)
			return false;
		d->tcp_opts |= RL_TCPOPT_WSCALE;
		d->tcp_wscale = o[2];
		return true;
	case OPT_SACKOK:
		if (len != 2)
			return false;
		d->tcp_opts |= RL_TCPOPT_SACKOK;
		return true;
	case OPT_TS:
		if (len != 10)
			return false;
		d->tcp_opts |= RL_TCPOPT_TS;
		d->tcp_ts_val = get32(o + 2);
		d->tcp_ts_ecr = get32(o + 6);
		return true;
	case OPT_SACK:
		if (len < 10 || (len - 2) % 8)
			return false;
		d->tcp_opts |= RL_TCPOPT_SACK;
		return true;
	default:
		d->tcp_opts |= RL_TCPOPT_OTHER;
		return true;
	}
}

int rl_tcp_parse_options(const uint8_t *opt, size_t len, struct rl_dissect *d)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = opt[i], olen;

		if (kind == OPT_EOL)
			return 0;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return opt_problem(d, "the kind has no length byte", (unsigned)i);
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return opt_problem(d, "its length runs past the header",
			                   (unsigned)i);
		if (!parse_one(opt + i, kind, olen, d))
			return opt_problem(d, "its length is wrong for its kind",
			                   (unsigned)i);
		i += olen;
	}
	return 0;
}

/* ---- building ---------------------------------------------------------------- */

static int check_payload(const struct rl_iov *payload, unsigned n, size_t hlen,
                         size_t *plen, struct rl_err *err)
{
	uint64_t total = 0,
	         max = 65535u - RL_IP4_HLEN - (hlen - RL_ETH_HLEN - RL_IP4_HLEN);

	if (n && !payload)
		return rl_err_set(
		    err, EINVAL,
		    "%u payload pieces but no list of them - pass the pieces", n);
	for (unsigned i = 0; i < n; i++) {
		if (!payload[i].base && payload[i].len)
			return rl_err_set(
			    err, EINVAL,
			    "payload piece %u has no memory but a length - give "
			    "every piece a base",
			    i);
		total += payload[i].len;
		if (total > max)
			return rl_err_set(
			    err, EMSGSIZE,
			    "TCP payload of more than %llu bytes does not fit one "
			    "IPv4 packet - segment it (lab.segment)",
			    (unsigned long long)max);
	}
	*plen = (size_t)total;
	return 0;
}

/* The TCP header alone at t (hl bytes, options included), checksum 0. */
static void write_tcp(uint8_t *th, unsigned hl, const struct rl_flow *f,
                      const struct rl_tcp *t)
{
	put16(th, f->src_port);
	put16(th + 2, f->dst_port);
	put32(th + 4, t->seq);
	put32(th + 8, t->ack);
	th[12] = (uint8_t)((hl / 4) << 4);
	th[13] = t->flags;
	put16(th + 14, t->window);
	put16(th + 16, 0);
	put16(th + 18, t->urg);
	write_options(th + RL_TCP_HLEN, t);
}

int rl_build_tcp(uint8_t *hdr, size_t cap, const struct rl_flow *f,
                 const struct rl_tcp *t, const struct rl_iov *payload, unsigned npayload,
                 enum rl_csum_mode mode, uint64_t *touched, struct rl_err *err)
{
	unsigned thl = RL_TCP_HLEN + rl_tcp_opts_len(t);
	unsigned hl = RL_ETH_HLEN + RL_IP4_HLEN + thl;
	uint8_t *ip = hdr + RL_ETH_HLEN, *th = ip + RL_IP4_HLEN;
	uint16_t seglen;
	uint32_t s;
	size_t plen = 0;
	int rc;

	if (cap < hl)
		return rl_err_set(
		    err, ENOSPC,
		    "TCP headers need %u bytes, only %zu given - use headroom "
		    "of at least %u",
		    hl, cap, hl);
	if ((rc = check_payload(payload, npayload, hl, &plen, err)))
		return rc;
	seglen = (uint16_t)(thl + plen);
	memcpy(hdr, f->dst_mac, 6);
	memcpy(hdr + 6, f->src_mac, 6);
	put16(hdr + 12, RL_ETHERTYPE_IP4);
	rc = rl_build_ip4(ip, RL_IP4_HLEN, f, RL_IPPROTO_TCP,
	                  (uint16_t)(RL_IP4_HLEN + seglen), err);
	if (rc < 0)
		return rc;
	write_tcp(th, thl, f, t);
	s = rl_csum_pseudo(f->src_ip, f->dst_ip, RL_IPPROTO_TCP, seglen);
	if (mode == RL_CSUM_PARTIAL) {
		put16(th + 16, (uint16_t)~rl_csum_fold(s));
		return (int)hl;
	}
	s = rl_csum_partial(th, thl, s);
	put16(th + 16, rl_csum_fold(rl_csum_iov(payload, npayload, 0, plen, s)));
	if (touched)
		*touched += plen;
	return (int)hl;
}

void rl_tcp_tmpl_init(struct rl_tcp_tmpl *t, const uint8_t *hdr, unsigned hl,
                      size_t plen, enum rl_csum_mode mode)
{
	const uint8_t *ip = hdr + RL_ETH_HLEN, *th = ip + RL_IP4_HLEN;
	unsigned thl = hl - RL_ETH_HLEN - RL_IP4_HLEN;
	uint64_t s = 0;

	memcpy(t->hdr, hdr, hl);
	t->hl = hl;
	t->mode = mode;
	for (unsigned i = 0; i < RL_IP4_HLEN; i += 2)
		if (i != 4 && i != 10) /* the id, the checksum */
			s += get16(ip + i);
	t->ip_sum = rl_tcp__fold(s);
	/* the pseudo-header: the addresses as they lie in the IPv4 header,
	 * the protocol, the TCP length; then the TCP header */
	s = get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18);
	s += RL_IPPROTO_TCP + thl + plen;
	for (unsigned i = 0; i + 1 < thl; i += 2)
		if (i != 4 && i != 6 && i != 16) /* the sequence number, the checksum */
			s += get16(th + i);
	t->tcp_sum = rl_tcp__fold(s);
}

/* ---- rewriting ------------------------------------------------------------------ */

/* Where the L4 header and its checksum field are, after checking that pkt is
 * an unfragmented TCP or UDP IPv4 packet whose headers lie in len bytes. */
static int locate_l4(uint8_t *pkt, size_t len, uint8_t **l4, uint8_t **csum,
                     uint8_t *proto, struct rl_err *err)
{
	uint8_t *ip = pkt + RL_ETH_HLEN;
	unsigned ihl;

	if (len < RL_ETH_HLEN + RL_IP4_HLEN || get16(pkt + 12) != RL_ETHERTYPE_IP4 ||
	    ip[0] >> 4 != 4)
		return rl_err_set(err, EINVAL,
		                  "not an IPv4 packet - rewrite only packets built with "
		                  "lab.packet.tcp/udp or lab.segment");
	ihl = (ip[0] & 0xfu) * 4;
	*proto = ip[9];
	*l4 = ip + ihl;
	if (*proto == RL_IPPROTO_TCP && len >= RL_ETH_HLEN + ihl + RL_TCP_HLEN) {
		*csum = *l4 + 16;
		return 0;
	}
	if (*proto == RL_IPPROTO_UDP && len >= RL_ETH_HLEN + ihl + RL_UDP_HLEN) {
		*csum = *l4 + 6;
		return 0;
	}
	return rl_err_set(err, EINVAL,
	                  "IPv4 protocol %u, or its header is cut short - only TCP and "
	                  "UDP headers can be rewritten",
	                  *proto);
}

/* Store a 16-bit field and patch the checksums at c1 and c2 (either may be
 * NULL). Returns the bytes of the field. */
static int patch16(uint8_t *field, uint16_t v, uint8_t *c1, uint8_t *c2)
{
	if (c1)
		put16(c1, rl_csum_update16(get16(c1), get16(field), v));
	if (c2)
		put16(c2, rl_csum_update16(get16(c2), get16(field), v));
	put16(field, v);
	return 2;
}

static int patch32(uint8_t *field, uint32_t v, uint8_t *c1, uint8_t *c2)
{
	if (c1)
		put16(c1, rl_csum_update32(get16(c1), get32(field), v));
	if (c2)
		put16(c2, rl_csum_update32(get16(c2), get32(field), v));
	put32(field, v);
	return 4;
}

/* Fields of the L4 header (not in the pseudo-header); c: its checksum or
 * NULL when the checksum does not cover them. */
static int rewrite_l4(uint8_t *l4, uint8_t proto, const struct rl_rewrite *rw, uint8_t *c)
{
	int n = 0;

	if (rw->what & RL_RW_PORTS) {
		n += patch16(l4, rw->src_port, c, NULL);
		n += patch16(l4 + 2, rw->dst_port, c, NULL);
	}
	if (proto != RL_IPPROTO_TCP)
		return n;
	if (rw->what & RL_RW_SEQ)
		n += patch32(l4 + 4, rw->seq, c, NULL);
	if (rw->what & RL_RW_ACK)
		n += patch32(l4 + 8, rw->ack, c, NULL);
	if (rw->what & RL_RW_WINDOW)
		n += patch16(l4 + 14, rw->window, c, NULL);
	return n;
}

/* MACs, and IPv4 addresses: in the IPv4 header and in the pseudo-header,
 * so both checksums change (c: the L4 checksum, NULL for UDP without). */
static int rewrite_addrs(uint8_t *pkt, const struct rl_rewrite *rw, uint8_t *c)
{
	uint8_t *ip = pkt + RL_ETH_HLEN;

	memcpy(pkt, rw->dst_mac, 6);
	memcpy(pkt + 6, rw->src_mac, 6);
	return 12 + patch32(ip + 12, rw->src_ip, ip + 10, c) +
	       patch32(ip + 16, rw->dst_ip, ip + 10, c);
}

int rl_hdr_rewrite(uint8_t *pkt, size_t len, const struct rl_rewrite *rw,
                   struct rl_err *err)
{
	uint8_t *l4 = NULL, *csum = NULL, *ip = pkt + RL_ETH_HLEN;
	uint8_t proto = 0;
	bool has_csum;
	int n = 0, l4n, rc;

	if ((rc = locate_l4(pkt, len, &l4, &csum, &proto, err)))
		return rc;
	/* A UDP checksum of 0 means none: nothing to keep up to date. */
	has_csum = !(proto == RL_IPPROTO_UDP && get16(csum) == 0);
	if (rw->what & RL_RW_IP_ID)
		n += patch16(ip + 4, rw->ip_id, ip + 10, NULL);
	if (rw->what & RL_RW_ADDRS)
		n += rewrite_addrs(pkt, rw, has_csum ? csum : NULL);
	if (rw->what & (RL_RW_IP_ID | RL_RW_ADDRS))
		n += 2; /* the IPv4 checksum */
	/* A partial checksum covers only the pseudo-header. */
	l4n = rewrite_l4(l4, proto, rw, has_csum && !rw->partial ? csum : NULL);
	if (has_csum && ((l4n && !rw->partial) || (rw->what & RL_RW_ADDRS)))
		n += 2; /* the L4 checksum */
	if (has_csum && proto == RL_IPPROTO_UDP && get16(csum) == 0)
		put16(csum, 0xffff); /* 0 would mean "no checksum" */
	return n + l4n;
}
