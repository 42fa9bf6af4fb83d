/*
 * packet.c - build and dissect Ethernet, ARP, IPv4, ICMP and UDP.
 *
 * Builders write headers, never payload: the payload stays where it is (in
 * frames, often born there) and is described by a list of pieces. The UDP
 * and ICMP builders read the pieces only to checksum them, and count those
 * bytes as touched. Pieces may have any length; when a piece ends on an odd
 * byte, the next piece's sum is byte-swapped before it is added (the sum of
 * bytes at odd offsets is the swapped sum of the same bytes at even ones),
 * which is how the Linux kernel's csum_block_add() carries an odd byte.
 *
 * The dissector takes the packet as pieces too. Headers are read from the
 * first piece when they are all in it; otherwise the first bytes are
 * gathered into a small bounce buffer. Every length a header claims is
 * checked against what is really there before anything is read, so no input
 * - truncated, lying, or random - makes it read out of bounds; what is wrong
 * is written into d->problem. Checksums are verified over all the pieces.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ringlab/checksum.h"
#include "ringlab/packet.h"
#include "ringlab/tcp.h"

#include "bytes.h"

#define IP4_DF      0x4000
#define IP4_MF      0x2000
#define IP4_OFFMASK 0x1fff
#define IP4_MAX_LEN 65535u

/* ---- text: addresses and MACs ------------------------------------------- */

/* Parse 1-maxdigits decimal digits at *s, at most max; advance *s. */
static bool parse_dec(const char **s, unsigned maxdigits, unsigned long max,
                      unsigned long *out)
{
	unsigned long v = 0;
	unsigned n = 0;

	while (**s >= '0' && **s <= '9' && n < maxdigits) {
		v = v * 10 + (unsigned long)(**s - '0');
		(*s)++;
		n++;
	}
	if (n == 0 || (**s >= '0' && **s <= '9') || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_quad(const char **s, uint32_t *ip)
{
	unsigned long b;

	*ip = 0;
	for (int i = 0; i < 4; i++) {
		if (i > 0 && *(*s)++ != '.')
			return false;
		if (!parse_dec(s, 3, 255, &b))
			return false;
		*ip = *ip << 8 | (uint32_t)b;
	}
	return true;
}

int rl_parse_ip4(const char *s, uint32_t *ip, uint16_t *port, bool need_port,
                 struct rl_err *err)
{
	const char *p = s;
	unsigned long v;
	uint32_t a;

	if (!s)
		return rl_err_set(
		    err, EINVAL,
		    "no IPv4 address given - write four numbers 0-255 like 198.18.0.2");
	if (!parse_quad(&p, &a) || (*p != '\0' && *p != ':'))
		return rl_err_set(err, EINVAL,
		                  "'%s' is not an IPv4 address - write four numbers "
		                  "0-255 like 198.18.0.2%s",
		                  s, need_port ? ":9999" : "");
	if (*p == '\0') {
		if (need_port)
			return rl_err_set(
			    err, EINVAL,
			    "'%s' has no port - write address:port like 198.18.0.2:9999",
			    s);
		if (port)
			*port = 0;
		*ip = a;
		return 0;
	}
	p++;
	if (!port)
		return rl_err_set(err, EINVAL,
		                  "'%s' has a port but only an address is wanted here - "
		                  "write it like 198.18.0.2",
		                  s);
	if (!parse_dec(&p, 5, 65535, &v) || *p != '\0')
		return rl_err_set(err, EINVAL,
		                  "'%s' has a bad port - write a number 0-65535 after "
		                  "the colon, like 198.18.0.2:9999",
		                  s);
	*ip = a;
	*port = (uint16_t)v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rl_parse_mac(const char *s, uint8_t mac[6], struct rl_err *err)
{
	uint8_t m[6];
	const char *p = s;

	if (!s)
		return rl_err_set(
		    err, EINVAL,
		    "no MAC address given - write six hex bytes like 02:00:00:00:00:01");
	for (int i = 0; i < 6; i++, p += 2) {
		int hi, lo;

		if (i > 0 && *p++ != ':')
			goto bad;
		hi = hexval(p[0]);
		lo = hi < 0 ? -1 : hexval(p[1]);
		if (lo < 0)
			goto bad;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (*p != '\0')
		goto bad;
	memcpy(mac, m, 6);
	return 0;
bad:
	return rl_err_set(
	    err, EINVAL,
	    "'%s' is not a MAC address - write six hex bytes like 02:00:00:00:00:01", s);
}

void rl_format_ip4(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
	         ip & 0xff);
}

void rl_format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
	         mac[4], mac[5]);
}

/* ---- checksums over pieces ----------------------------------------------- */

static uint32_t csum_add(uint32_t sum, uint16_t v)
{
	uint64_t s = (uint64_t)sum + v;

	return (uint32_t)((s & 0xffffffff) + (s >> 32));
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/* Add the bytes [off, off+len) of the concatenated pieces to sum. The caller
 * has checked that the pieces hold that many bytes; we clamp anyway. */
static uint32_t csum_range(const struct rl_iov *v, unsigned n, size_t off, size_t len,
                           uint32_t sum)
{
	size_t done = 0; /* bytes summed so far: its parity says how to add */

	for (unsigned i = 0; i < n && len > 0; i++) {
		size_t plen = v[i].len, take;
		uint16_t part;

		if (off >= plen) {
			off -= plen;
			continue;
		}
		take = plen - off < len ? plen - off : len;
		part = (uint16_t)~rl_csum_fold(
		    rl_csum_partial((const uint8_t *)v[i].base + off, take, 0));
		sum = csum_add(sum, (done & 1) ? swap16(part) : part);
		done += take;
		len -= take;
		off = 0;
	}
	return sum;
}

uint32_t rl_csum_iov(const struct rl_iov *v, unsigned n, size_t off, size_t len,
                     uint32_t sum)
{
	return csum_range(v, n, off, len, sum);
}

/* Sum of the lengths of the pieces, or -1 when a piece is unusable or the
 * total does not fit. */
static int64_t iov_total(const struct rl_iov *v, unsigned n, uint64_t limit)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!v[i].base && v[i].len)
			return -1;
		if (v[i].len > limit - total)
			return -1;
		total += v[i].len;
	}
	return (int64_t)total;
}

/* ---- builders ------------------------------------------------------------- */

static void build_eth(uint8_t *h, const uint8_t dst[6], const uint8_t src[6],
                      uint16_t type)
{
	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	put16(h + 12, type);
}

int rl_build_ip4(uint8_t *hdr, size_t cap, const struct rl_flow *f, uint8_t proto,
                 uint16_t total_len, struct rl_err *err)
{
	if (cap < RL_IP4_HLEN)
		return rl_err_set(
		    err, ENOSPC,
		    "an IPv4 header needs %d bytes, only %zu given - leave more headroom",
		    RL_IP4_HLEN, cap);
	if (total_len < RL_IP4_HLEN)
		return rl_err_set(err, EINVAL,
		                  "IPv4 total length %u is shorter than the header - it "
		                  "counts the %d header bytes too",
		                  total_len, RL_IP4_HLEN);
	hdr[0] = 0x45; /* version 4, IHL 5 words */
	hdr[1] = 0;    /* DSCP/ECN */
	put16(hdr + 2, total_len);
	put16(hdr + 4, f->ip_id);
	put16(hdr + 6, IP4_DF);
	hdr[8] = f->ttl ? f->ttl : 64;
	hdr[9] = proto;
	put16(hdr + 10, 0);
	put32(hdr + 12, f->src_ip);
	put32(hdr + 16, f->dst_ip);
	put16(hdr + 10, rl_csum_fold(rl_csum_partial(hdr, RL_IP4_HLEN, 0)));
	return RL_IP4_HLEN;
}

/* Check the room and the payload of an IPv4 packet with an l4hlen header. */
static int check_l4(size_t cap, size_t need, const struct rl_iov *payload,
                    unsigned npayload, size_t l4hlen, const char *what, size_t *plen,
                    struct rl_err *err)
{
	uint64_t maxp = IP4_MAX_LEN - RL_IP4_HLEN - l4hlen;
	int64_t total;

	if (cap < need)
		return rl_err_set(err, ENOSPC,
		                  "%s headers need %zu bytes, only %zu given - use "
		                  "headroom of at least %zu",
		                  what, need, cap, need);
	if (npayload && !payload)
		return rl_err_set(
		    err, EINVAL,
		    "%u payload pieces but no list of them - pass the pieces", npayload);
	total = iov_total(payload, npayload, UINT64_MAX);
	if (total < 0)
		return rl_err_set(err, EINVAL,
		                  "a payload piece has no memory but a length - give "
		                  "every piece a base");
	if ((uint64_t)total > maxp)
		return rl_err_set(err, EMSGSIZE,
		                  "%s payload of %lld bytes does not fit one IPv4 packet "
		                  "(max %llu) - segment it",
		                  what, (long long)total, (unsigned long long)maxp);
	*plen = (size_t)total;
	return 0;
}

int rl_build_udp(uint8_t *hdr, size_t cap, const struct rl_flow *f,
                 const struct rl_iov *payload, unsigned npayload, bool csum,
                 uint64_t *touched, struct rl_err *err)
{
	uint8_t *ip = hdr + RL_ETH_HLEN, *udp = ip + RL_IP4_HLEN;
	size_t plen;
	uint16_t ulen;
	int rc;

	rc =
	    check_l4(cap, RL_UDP_HDRS, payload, npayload, RL_UDP_HLEN, "UDP", &plen, err);
	if (rc)
		return rc;
	ulen = (uint16_t)(RL_UDP_HLEN + plen);
	build_eth(hdr, f->dst_mac, f->src_mac, RL_ETHERTYPE_IP4);
	rc = rl_build_ip4(ip, RL_IP4_HLEN, f, RL_IPPROTO_UDP,
	                  (uint16_t)(RL_IP4_HLEN + ulen), err);
	if (rc < 0)
		return rc;
	put16(udp, f->src_port);
	put16(udp + 2, f->dst_port);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	if (csum) {
		uint32_t s = rl_csum_pseudo(f->src_ip, f->dst_ip, RL_IPPROTO_UDP, ulen);
		uint16_t c;

		s = rl_csum_partial(udp, RL_UDP_HLEN, s);
		c = rl_csum_fold(csum_range(payload, npayload, 0, plen, s));
		put16(udp + 6, c ? c : 0xffff); /* 0 means "no checksum" in UDP */
		if (touched)
			*touched += plen;
	}
	return RL_UDP_HDRS;
}

int rl_build_icmp_echo(uint8_t *hdr, size_t cap, const struct rl_flow *f, uint8_t type,
                       uint16_t id, uint16_t seq, const struct rl_iov *payload,
                       unsigned npayload, uint64_t *touched, struct rl_err *err)
{
	const size_t hl = RL_ETH_HLEN + RL_IP4_HLEN + RL_ICMP_HLEN;
	uint8_t *ip = hdr + RL_ETH_HLEN, *icmp = ip + RL_IP4_HLEN;
	size_t plen;
	uint32_t s;
	int rc;

	if (type != 0 && type != 8)
		return rl_err_set(
		    err, EINVAL,
		    "ICMP type %u is not an echo - use 8 (request) or 0 (reply)", type);
	rc = check_l4(cap, hl, payload, npayload, RL_ICMP_HLEN, "ICMP", &plen, err);
	if (rc)
		return rc;
	build_eth(hdr, f->dst_mac, f->src_mac, RL_ETHERTYPE_IP4);
	rc = rl_build_ip4(ip, RL_IP4_HLEN, f, RL_IPPROTO_ICMP,
	                  (uint16_t)(RL_IP4_HLEN + RL_ICMP_HLEN + plen), err);
	if (rc < 0)
		return rc;
	icmp[0] = type;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	s = rl_csum_partial(icmp, RL_ICMP_HLEN, 0);
	put16(icmp + 2, rl_csum_fold(csum_range(payload, npayload, 0, plen, s)));
	if (touched)
		*touched += plen;
	return (int)hl;
}

int rl_build_arp(uint8_t *buf, size_t cap, uint16_t op, const uint8_t sha[6],
                 uint32_t spa, const uint8_t tha[6], uint32_t tpa, struct rl_err *err)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6];
	uint8_t *a = buf + RL_ETH_HLEN;

	if (op != 1 && op != 2)
		return rl_err_set(err, EINVAL,
		                  "ARP op %u is not known - use 1 (request) or 2 (reply)",
		                  op);
	if (!sha || (op == 2 && !tha))
		return rl_err_set(
		    err, EINVAL, "an ARP %s needs the sender's%s MAC - pass it",
		    op == 1 ? "request" : "reply", op == 2 && sha ? " target" : "");
	if (cap < RL_ETH_HLEN + RL_ARP_LEN)
		return rl_err_set(
		    err, ENOSPC,
		    "an ARP frame needs %d bytes, only %zu given - pass a larger buffer",
		    RL_ETH_HLEN + RL_ARP_LEN, cap);
	if (op == 1)
		tha = zero;
	build_eth(buf, op == 1 ? bcast : tha, sha, RL_ETHERTYPE_ARP);
	put16(a, 1); /* hardware: Ethernet */
	put16(a + 2, RL_ETHERTYPE_IP4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return RL_ETH_HLEN + RL_ARP_LEN;
}

/* ---- the dissector --------------------------------------------------------- */

/* Enough for Ethernet + IPv4 with options + TCP with options. */
#define BOUNCE_MAX (RL_ETH_HLEN + 60 + 60)

struct view {
	const struct rl_iov *v;
	unsigned n;
	const uint8_t *h; /* the first hlen bytes of the packet */
	uint32_t hlen;
	uint32_t total;
};

__attribute__((format(printf, 2, 3))) static int problem(struct rl_dissect *d,
                                                         const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->problem, sizeof(d->problem), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static void gather(const struct rl_iov *v, unsigned n, uint8_t *out, size_t want)
{
	size_t got = 0;

	for (unsigned i = 0; i < n && got < want; i++) {
		size_t take = v[i].len < want - got ? v[i].len : want - got;

		if (take)
			memcpy(out + got, v[i].base, take);
		got += take;
	}
}

static void set_payload(struct rl_dissect *d, uint32_t off, uint32_t end)
{
	d->payload_off = off;
	d->payload_len = end > off ? end - off : 0;
}

static int dissect_arp(const struct view *w, struct rl_dissect *d)
{
	const uint8_t *a = w->h + RL_ETH_HLEN;

	if (w->total < RL_ETH_HLEN + RL_ARP_LEN)
		return problem(d,
		               "ARP truncated: %u bytes after the Ethernet header, an "
		               "ARP packet has %d",
		               w->total - RL_ETH_HLEN, RL_ARP_LEN);
	if (get16(a) != 1 || get16(a + 2) != RL_ETHERTYPE_IP4 || a[4] != 6 || a[5] != 4)
		return problem(d,
		               "ARP for hardware type %u, protocol 0x%04x: only "
		               "Ethernet/IPv4 is understood",
		               get16(a), get16(a + 2));
	d->layers |= RL_L_ARP;
	d->arp_op = get16(a + 6);
	memcpy(d->arp_sha, a + 8, 6);
	d->arp_spa = get32(a + 14);
	memcpy(d->arp_tha, a + 18, 6);
	d->arp_tpa = get32(a + 24);
	set_payload(d, RL_ETH_HLEN + RL_ARP_LEN, w->total);
	return 0;
}

static int dissect_udp(const struct view *w, struct rl_dissect *d, uint32_t off,
                       uint32_t end)
{
	const uint8_t *u = w->h + off;
	uint32_t s;

	if (end - off < RL_UDP_HLEN)
		return problem(d, "UDP truncated: %u bytes, a UDP header has %d",
		               end - off, RL_UDP_HLEN);
	d->layers |= RL_L_UDP;
	d->src_port = get16(u);
	d->dst_port = get16(u + 2);
	d->udp_len = get16(u + 4);
	d->udp_csum = get16(u + 6);
	set_payload(d, off + RL_UDP_HLEN, end);
	if (d->udp_len < RL_UDP_HLEN || d->udp_len > end - off)
		return problem(
		    d, "UDP length %u does not fit: the IPv4 packet has %u bytes for UDP",
		    d->udp_len, end - off);
	set_payload(d, off + RL_UDP_HLEN, off + d->udp_len);
	if (d->udp_csum == 0) {
		d->udp_csum_ok = true;
		return 0;
	}
	s = rl_csum_pseudo(d->src_ip, d->dst_ip, RL_IPPROTO_UDP, d->udp_len);
	d->udp_csum_ok = rl_csum_fold(csum_range(w->v, w->n, off, d->udp_len, s)) == 0;
	return 0;
}

static int dissect_icmp(const struct view *w, struct rl_dissect *d, uint32_t off,
                        uint32_t end)
{
	const uint8_t *c = w->h + off;

	if (end - off < RL_ICMP_HLEN)
		return problem(d, "ICMP truncated: %u bytes, an ICMP header has %d",
		               end - off, RL_ICMP_HLEN);
	d->layers |= RL_L_ICMP;
	d->icmp_type = c[0];
	d->icmp_code = c[1];
	d->icmp_csum = get16(c + 2);
	d->icmp_id = get16(c + 4);
	d->icmp_seq = get16(c + 6);
	d->icmp_csum_ok = rl_csum_fold(csum_range(w->v, w->n, off, end - off, 0)) == 0;
	set_payload(d, off + RL_ICMP_HLEN, end);
	return 0;
}

static int dissect_tcp(const struct view *w, struct rl_dissect *d, uint32_t off,
                       uint32_t end)
{
	const uint8_t *t = w->h + off;
	uint32_t doff, s;

	if (end - off < RL_TCP_HLEN)
		return problem(d, "TCP truncated: %u bytes, a TCP header has at least 20",
		               end - off);
	doff = (uint32_t)(t[12] >> 4) * 4;
	if (doff < RL_TCP_HLEN || doff > end - off)
		return problem(d,
		               "TCP header length %u does not fit in the %u bytes there",
		               doff, end - off);
	d->layers |= RL_L_TCP;
	d->src_port = get16(t);
	d->dst_port = get16(t + 2);
	d->tcp_seq = get32(t + 4);
	d->tcp_ack = get32(t + 8);
	d->tcp_hlen = (uint8_t)doff;
	d->tcp_flags = t[13];
	d->tcp_window = get16(t + 14);
	d->tcp_csum = get16(t + 16);
	d->tcp_urg = get16(t + 18);
	set_payload(d, off + doff, end);
	s = rl_csum_pseudo(d->src_ip, d->dst_ip, RL_IPPROTO_TCP, (uint16_t)(end - off));
	d->tcp_csum_ok = rl_csum_fold(csum_range(w->v, w->n, off, end - off, s)) == 0;
	return rl_tcp_parse_options(t + RL_TCP_HLEN, doff - RL_TCP_HLEN, d);
}

static int dissect_ip4(const struct view *w, struct rl_dissect *d)
{
	const uint8_t *ip = w->h + RL_ETH_HLEN;
	uint32_t avail = w->total - RL_ETH_HLEN, hl, off, end;
	uint16_t frag;

	if (avail < RL_IP4_HLEN)
		return problem(d,
		               "IPv4 truncated: %u bytes after the Ethernet header, the "
		               "header has %d",
		               avail, RL_IP4_HLEN);
	if (ip[0] >> 4 != 4)
		return problem(d, "IP version %u in an IPv4 frame", ip[0] >> 4);
	d->ihl = ip[0] & 0xf;
	hl = d->ihl * 4u;
	if (hl < RL_IP4_HLEN || hl > avail)
		return problem(d,
		               "IPv4 header length %u is impossible here (minimum 20, %u "
		               "bytes there)",
		               hl, avail);
	d->layers |= RL_L_IP4;
	d->ip_len = get16(ip + 2);
	d->ip_id = get16(ip + 4);
	frag = get16(ip + 6);
	d->ttl = ip[8];
	d->proto = ip[9];
	d->ip_csum = get16(ip + 10);
	d->src_ip = get32(ip + 12);
	d->dst_ip = get32(ip + 16);
	d->ip_csum_ok = rl_csum_fold(rl_csum_partial(ip, hl, 0)) == 0;
	off = RL_ETH_HLEN + hl;
	set_payload(d, off, w->total);
	if (d->ip_len < hl)
		return problem(d,
		               "IPv4 total length %u is shorter than its %u-byte header",
		               d->ip_len, hl);
	if (d->ip_len > avail)
		return problem(
		    d, "IPv4 truncated: the header says %u bytes, the frame has %u",
		    d->ip_len, avail);
	end = RL_ETH_HLEN + d->ip_len; /* anything after is Ethernet padding */
	set_payload(d, off, end);
	if (frag & (IP4_MF | IP4_OFFMASK))
		return 0; /* a fragment: its transport header is not ours to read */
	switch (d->proto) {
	case RL_IPPROTO_UDP:
		return dissect_udp(w, d, off, end);
	case RL_IPPROTO_ICMP:
		return dissect_icmp(w, d, off, end);
	case RL_IPPROTO_TCP:
		return dissect_tcp(w, d, off, end);
	default:
		return 0;
	}
}

int rl_dissect(const struct rl_iov *pkt, unsigned npieces, struct rl_dissect *d)
{
	uint8_t bounce[BOUNCE_MAX];
	struct view w = {.v = pkt, .n = npieces};
	int64_t total;

	if (!d)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	if (npieces && !pkt)
		return problem(d, "no pieces given");
	total = iov_total(pkt, npieces, UINT32_MAX);
	if (total < 0)
		return problem(
		    d, "a piece has no memory or the packet is longer than 4 GiB");
	w.total = d->len = (uint32_t)total;
	w.hlen = w.total < BOUNCE_MAX ? w.total : BOUNCE_MAX;
	if (npieces && pkt[0].len >= w.hlen) {
		w.h = pkt[0].base;
	} else {
		gather(pkt, npieces, bounce, w.hlen);
		w.h = bounce;
	}
	if (w.total < RL_ETH_HLEN)
		return problem(
		    d, "frame of %u bytes is shorter than an Ethernet header (%d)",
		    w.total, RL_ETH_HLEN);
	d->layers |= RL_L_ETH;
	memcpy(d->dst_mac, w.h, 6);
	memcpy(d->src_mac, w.h + 6, 6);
	d->ethertype = get16(w.h + 12);
	set_payload(d, RL_ETH_HLEN, w.total);
	if (d->ethertype == RL_ETHERTYPE_ARP)
		return dissect_arp(&w, d);
	if (d->ethertype == RL_ETHERTYPE_IP4)
		return dissect_ip4(&w, d);
	return 0;
}
