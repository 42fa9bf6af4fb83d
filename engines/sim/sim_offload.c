/*
 * sim_offload.c - what the simulated NIC and its kernel do for a packet
 * handed over with offloads (ops->tx_x): cut one large TCP packet into
 * MSS-sized segments, and fill in checksums.
 *
 *   tso=true   TCP segmentation offload: the NIC takes one large TCP packet
 *              (a chain of descriptors: headers, then the payload where it
 *              lies) and puts MSS-sized segments on the wire, writing each
 *              segment's headers itself: IPv4 total length, id (+1 each)
 *              and header checksum; TCP sequence number, flags (PSH and FIN
 *              only on the last, CWR only on the first) and checksum. No
 *              CPU reads or copies anything: the header bytes the NIC
 *              writes are counted as `headers` when it writes them (and as
 *              tso_header_bytes, so that they can be told from the lab's).
 *   gso        generic segmentation offload, in software (on unless
 *              gso=false): the kernel cuts the same large packet before the
 *              NIC sees it, as DPDK's rte_gso_segment does - a copy of the
 *              headers for every segment (`headers`, gso_header_bytes) and,
 *              unless the NIC fills checksums, a software checksum reading
 *              the payload (`touched`). Counted when the packet is handed
 *              over (tx_x), which is where the kernel does it; the payload
 *              is referenced, never copied.
 *   csum=true  checksum offload: the NIC fills the IPv4 header checksum and
 *              the TCP/UDP checksum of a packet sent with RL_TX_CSUM
 *              (lab.segment's csum="offload"), so the program reads no
 *              payload (csum_filled counts the packets). tso=true sets it.
 *
 * tx_x checks the packet (region frames only: the simulator has no memory
 * outside its region; IPv4 with TCP, or UDP for checksums alone), notes
 * what was asked beside the tx ring slot of its first descriptor, and
 * queues it like tx(). When the NIC transmits it (sim_nic_tx), the bytes
 * are laid out in s->scratch - in copy mode that is the kernel stand-in's
 * copy into its skb, counted as kernel_copied like every copy-mode send;
 * in zerocopy mode the NIC's DMA reads, not counted - then checksummed and
 * cut, and every segment goes on the wire as a packet of its own
 * (sim_nic_send: loss= and reorder= apply to each).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringlab/checksum.h>

#include "sim_internal.h"

/* Descriptors of one tx_x packet, at most. */
#define SIM_X_MAX 256u
/* Ethernet + the largest IPv4 packet: what s->scratch holds. */
#define SIM_X_BYTES (RL_ETH_HLEN + 65535u)
/* Ethernet + IPv4 with options + TCP with options, at most. */
#define SIM_HDR_MAX (RL_ETH_HLEN + 60u + 60u)

#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

/* ---- caps -------------------------------------------------------------- */

static void why_add(char *why, size_t len, size_t *at, const char *part)
{
	int n;

	if (!why || !len || *at >= len)
		return;
	n = snprintf(why + *at, len - *at, "%s%s", *at ? "; " : "", part);
	if (n > 0)
		*at += (size_t)n;
}

uint32_t sim_caps_of(struct rl_engine *s, char *why, size_t len)
{
	uint32_t caps = SIM_CAPS;
	size_t at = 0;

	if (s->nm)
		return sim_nm_caps(s, why, len);
	if (why && len)
		why[0] = '\0';
	/* each part names its cap in lower case: the prompt picks the part
	 * about the strategy it refuses (cmd_send.lua) */
	if (!s->opt.tso) {
		caps &= ~RL_CAP_TSO;
		why_add(why, len, &at,
		        "no tso here - open sim tso=true for a NIC that cuts TCP");
	}
	if (!s->opt.gso) {
		caps &= ~RL_CAP_GSO;
		why_add(why, len, &at,
		        "no gso here (gso=false) - open sim without it for the kernel's "
		        "software cut");
	}
	if (!s->opt.unaligned) /* the row in show caps says it; no why */
		caps &= ~RL_CAP_UNALIGNED;
	if (!s->opt.csum) {
		caps &= ~RL_CAP_CSUM;
		why_add(why, len, &at,
		        "no csum offload here - open sim csum=true for a NIC that fills "
		        "checksums");
	}
	return caps;
}

/* ---- tx_x: checking and queueing ----------------------------------------- */

struct hdrs {
	uint16_t l3;  /* the IPv4 header's offset */
	uint16_t len; /* all header bytes */
	uint8_t proto;
};

/* The headers of the packet whose first `have` bytes are at p. */
static int parse_hdrs(const uint8_t *p, uint32_t have, uint32_t total, bool need_tcp,
                      struct hdrs *h, struct rl_err *err)
{
	uint32_t ihl, l4;

	if (have < RL_ETH_HLEN + RL_IP4_HLEN || p[12] != 0x08 || p[13] != 0x00 ||
	    (p[RL_ETH_HLEN] >> 4) != 4)
		return rl_err_set(err, EINVAL,
		                  "tx_x: the packet is not IPv4 over Ethernet - the "
		                  "simulator cuts and checksums TCP (and UDP) over IPv4");
	ihl = (p[RL_ETH_HLEN] & 0x0fu) * 4u;
	h->l3 = RL_ETH_HLEN;
	h->proto = p[RL_ETH_HLEN + 9];
	if (ihl < RL_IP4_HLEN)
		return rl_err_set(err, EINVAL,
		                  "tx_x: an IPv4 header length of %u bytes - at least 20",
		                  ihl);
	l4 = RL_ETH_HLEN + ihl;
	if (h->proto == RL_IPPROTO_TCP && have >= l4 + 20)
		h->len = (uint16_t)(l4 + (p[l4 + 12] >> 4) * 4u);
	else if (h->proto == RL_IPPROTO_UDP && !need_tcp)
		h->len = (uint16_t)(l4 + RL_UDP_HLEN);
	else
		return rl_err_set(err, EINVAL,
		                  "tx_x: IP protocol %u - the simulator cuts TCP only, "
		                  "and fills checksums of TCP and UDP",
		                  h->proto);
	if (h->len < l4 + (h->proto == RL_IPPROTO_TCP ? 20u : RL_UDP_HLEN) ||
	    h->len > have || h->len > total)
		return rl_err_set(err, EINVAL,
		                  "tx_x: the headers (%u bytes) run past the packet - give "
		                  "whole Ethernet, IPv4 and TCP headers",
		                  h->len);
	return 0;
}

/* What tx_x is asked, checked against what this engine was opened with. */
static int check_asked(const struct rl_engine *s, uint16_t flags, uint16_t mss,
                       struct rl_err *err)
{
	if (flags & ~(RL_TX_TSO | RL_TX_CSUM))
		return rl_err_set(err, EINVAL,
		                  "tx_x: flags 0x%x - give RL_TX_TSO, RL_TX_CSUM or 0",
		                  flags);
	if ((flags & RL_TX_TSO) && !s->opt.tso)
		return rl_err_set(err, EOPNOTSUPP,
		                  "tx_x: this simulated NIC has no TSO - open sim tso=true");
	if ((flags & RL_TX_TSO) && !mss)
		return rl_err_set(err, EINVAL,
		                  "tx_x: RL_TX_TSO needs gso_mss, the segments' size");
	if (mss && !(flags & RL_TX_TSO) && !s->opt.gso)
		return rl_err_set(err, EOPNOTSUPP,
		                  "tx_x: this sim was opened with gso=false - open sim "
		                  "without it for the kernel's software cut");
	if ((flags & RL_TX_CSUM) && !s->opt.csum)
		return rl_err_set(err, EOPNOTSUPP,
		                  "tx_x: this simulated NIC does not fill checksums - open "
		                  "sim csum=true");
	return 0;
}

/* d[0..n) as the tx ring's descriptors, each inside the region; the first
 * header bytes gathered into head. */
static int take_descs(struct rl_engine *s, const struct rl_xdesc *d, uint32_t n,
                      struct rl_desc *rd, uint8_t *head, uint32_t *have,
                      uint64_t *total, struct rl_err *err)
{
	*have = 0;
	*total = 0;
	for (uint32_t i = 0; i < n; i++) {
		bool contd = (d[i].options & RL_DESC_CONTD) != 0;
		int rc;

		if (d[i].options & RL_DESC_EXT)
			return rl_err_set(err, EOPNOTSUPP,
			                  "tx_x: descriptor %u is app memory outside the "
			                  "region - the simulator sends region frames only "
			                  "(r:alloc, strategy sg or born)",
			                  i);
		if (contd != (i + 1 < n))
			return rl_err_set(err, EINVAL,
			                  "tx_x: descriptor %u %s RL_DESC_CONTD - one packet: "
			                  "every descriptor but the last has it",
			                  i, contd ? "has" : "lacks");
		if ((rc = sim_check_desc(s, d[i].addr, d[i].len, err)))
			return rc;
		rd[i] = (struct rl_desc){d[i].addr, d[i].len, d[i].options & RL_DESC_CONTD};
		if (*have < SIM_HDR_MAX) {
			uint32_t k = SIM_HDR_MAX - *have < d[i].len ? SIM_HDR_MAX - *have
			                                            : d[i].len;

			memcpy(head + *have, rl_region_ptr(&s->region, d[i].addr), k);
			*have += k;
		}
		*total += d[i].len;
	}
	return 0;
}

/* The kernel's GSO, at the moment the packet is handed over: a copy of the
 * headers per segment and, without the NIC's checksums, a software one. */
static void count_gso(struct rl_engine *s, const struct sim_txmeta *m, uint64_t total)
{
	uint64_t hdrs = (uint64_t)m->hdr_len * m->nsegs;

	if (m->cut == SIM_CUT_GSO) {
		rl_ledger_count(&s->ledger, RL_LEDGER_HEADERS, hdrs, RL_DIR_TX);
		s->c.gso_pkts++;
		s->c.gso_segments += m->nsegs;
		s->c.gso_header_bytes += hdrs;
	}
	if (m->csum == SIM_CSUM_KERNEL)
		rl_ledger_count(&s->ledger, RL_LEDGER_TOUCHED, total - m->hdr_len,
		                RL_DIR_TX);
}

int sim_tx_x(struct rl_engine *s, const struct rl_xdesc *d, uint32_t n,
             const struct rl_tx_opts *o, struct rl_err *err)
{
	struct rl_desc rd[SIM_X_MAX];
	uint8_t head[SIM_HDR_MAX];
	uint16_t flags = o ? o->flags : 0, mss = o ? o->gso_mss : 0;
	struct sim_txmeta m = {0};
	struct hdrs h = {0};
	uint32_t have, pay;
	uint64_t total;
	int rc;

	rl_err_clear(err);
	if (s->nm)
		return rl_err_set(err, EOPNOTSUPP,
		                  "netmap's model has no offloads - send whole packets "
		                  "(e:tx, or fill tx slots and txsync)");
	if (!s->has_region)
		return rl_err_set(err, EINVAL,
		                  "this engine has no region yet - create one with "
		                  "e:region{frames=4096, frame_size=2048}");
	if (!d || n == 0 || n > SIM_X_MAX)
		return rl_err_set(err, EINVAL,
		                  "tx_x: %u descriptors - give one packet of 1 to %u", n,
		                  SIM_X_MAX);
	if ((rc = check_asked(s, flags, mss, err)) ||
	    (rc = take_descs(s, d, n, rd, head, &have, &total, err)))
		return rc;
	if (!mss && !(flags & RL_TX_CSUM)) { /* nothing asked: an ordinary send */
		rc = sim_tx_queue(s, rd, n, NULL, err);
		return rc < 0 ? rc : 1;
	}
	if ((rc = parse_hdrs(head, have, (uint32_t)(total < UINT32_MAX ? total : UINT32_MAX),
	                     mss != 0, &h, err)))
		return rc;
	if (total > SIM_X_BYTES)
		return rl_err_set(err, EMSGSIZE,
		                  "tx_x: a packet of %llu bytes - one IPv4 packet holds "
		                  "at most 65535 (and 14 of Ethernet)",
		                  (unsigned long long)total);
	if (!s->scratch && !(s->scratch = malloc(SIM_X_BYTES)))
		return rl_err_set(err, ENOMEM, "tx_x: out of memory for the NIC's buffer");
	pay = (uint32_t)total - h.len;
	m.mss = mss;
	m.l3 = h.l3;
	m.hdr_len = h.len;
	m.nsegs = mss && pay > mss ? (pay + mss - 1) / mss : 1;
	if (m.nsegs > 1)
		m.cut = flags & RL_TX_TSO ? SIM_CUT_TSO : SIM_CUT_GSO;
	/* the NIC fills checksums when asked, and always when it cuts; the
	 * segmenter left them partial for gso: the kernel completes them */
	m.csum = flags & (RL_TX_TSO | RL_TX_CSUM) ? SIM_CSUM_NIC : SIM_CSUM_KERNEL;
	if ((rc = sim_tx_queue(s, rd, n, &m, err)) < 0)
		return rc;
	count_gso(s, &m, total);
	return (int)m.nsegs;
}

/* ---- the NIC: checksums and the cut -------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The IPv4 header at ip: total length, then its checksum. */
static void ip_finish(uint8_t *ip, uint16_t total_len)
{
	uint32_t ihl = (ip[0] & 0x0fu) * 4u;

	put16(ip + 2, total_len);
	put16(ip + 10, 0);
	put16(ip + 10, rl_csum_fold(rl_csum_partial(ip, ihl, 0)));
}

/* The TCP or UDP checksum of the header at l4 (hlen bytes) and its payload. */
static void l4_finish(const uint8_t *ip, uint8_t *l4, uint32_t hlen, const uint8_t *pay,
                      uint32_t n)
{
	uint8_t proto = ip[9];
	uint16_t at = proto == RL_IPPROTO_TCP ? 16 : 6, c;
	uint32_t sum;

	put16(l4 + at, 0);
	sum = rl_csum_pseudo(get32(ip + 12), get32(ip + 16), proto, (uint16_t)(hlen + n));
	sum = rl_csum_partial(l4, hlen, sum);
	sum = rl_csum_partial(pay, n, sum);
	c = rl_csum_fold(sum);
	if (proto == RL_IPPROTO_UDP && c == 0)
		c = 0xffff; /* 0 would mean "no checksum" */
	put16(l4 + at, c);
}

/* The packet's bytes, laid out in s->scratch: in copy mode the kernel
 * stand-in copies them into its skb (counted, as every copy-mode send). */
static void gather(struct rl_engine *s, uint32_t idx, uint32_t frags, uint32_t total)
{
	uint32_t off = 0;

	for (uint32_t i = 0; i < frags; i++) {
		const struct rl_desc *d = rl_ring__desc(&s->tx, idx + i);

		memcpy(s->scratch + off, rl_region_ptr(&s->region, d->addr), d->len);
		off += d->len;
	}
	if (!s->opt.zerocopy)
		rl_ledger_count(&s->ledger, RL_LEDGER_KERNEL_COPIED, total, RL_DIR_TX);
}

/* Not cut: the checksums completed, the packet sent as one. */
static const char *send_whole(struct rl_engine *s, const struct sim_txmeta *m,
                              uint32_t total, uint32_t *sent, uint32_t *lost)
{
	uint8_t *p = s->scratch, *ip = p + m->l3;
	uint32_t l4 = m->l3 + (ip[0] & 0x0fu) * 4u;
	struct rl_iov v = {p, total};
	const char *why;

	ip_finish(ip, (uint16_t)(total - m->l3));
	if (ip[9] == RL_IPPROTO_UDP)
		put16(p + l4 + 4, (uint16_t)(total - l4)); /* the UDP length, too */
	l4_finish(ip, p + l4, m->hdr_len - l4, p + m->hdr_len, total - m->hdr_len);
	if (m->csum == SIM_CSUM_NIC)
		s->c.csum_filled++;
	why = sim_nic_send(s, &v, 1, total);
	*sent += !why;
	*lost += !!why;
	return why;
}

/* Segment k of the cut: the headers of the large packet, rewritten for
 * the n payload bytes at offset off. */
static void segment_headers(uint8_t *hdr, const struct sim_txmeta *m, uint32_t k,
                            uint32_t off, uint32_t n, bool last, const uint8_t *pay)
{
	uint8_t *ip = hdr + m->l3;
	uint32_t l4 = m->l3 + (ip[0] & 0x0fu) * 4u;
	uint8_t *tcp = hdr + l4;

	put16(ip + 4, (uint16_t)(get16(ip + 4) + k));
	ip_finish(ip, (uint16_t)(m->hdr_len - m->l3 + n));
	put32(tcp + 4, get32(tcp + 4) + off);
	if (!last)
		tcp[13] &= (uint8_t)~(TCP_PSH | TCP_FIN);
	if (k > 0)
		tcp[13] &= (uint8_t)~TCP_CWR;
	l4_finish(ip, tcp, m->hdr_len - l4, pay, n);
}

const char *sim_offload_tx(struct rl_engine *s, uint32_t idx, uint32_t frags,
                           uint32_t total, const struct sim_txmeta *m, uint32_t *sent,
                           uint32_t *lost)
{
	uint8_t hdr[SIM_HDR_MAX];
	uint32_t pay, off = 0, k = 0;
	const char *why = NULL;

	*sent = *lost = 0;
	gather(s, idx, frags, total);
	if (m->cut == SIM_CUT_NONE)
		return send_whole(s, m, total, sent, lost);
	pay = total - m->hdr_len;
	for (; off < pay; k++) {
		uint32_t n = pay - off < m->mss ? pay - off : m->mss;
		const uint8_t *p = s->scratch + m->hdr_len + off;
		struct rl_iov v[2] = {{hdr, m->hdr_len}, {p, n}};
		const char *w;

		memcpy(hdr, s->scratch, m->hdr_len);
		segment_headers(hdr, m, k, off, n, off + n == pay, p);
		w = sim_nic_send(s, v, 2, m->hdr_len + n);
		if (w)
			why = w;
		*sent += !w;
		*lost += !!w;
		off += n;
	}
	if (m->csum == SIM_CSUM_NIC)
		s->c.csum_filled += k;
	if (m->cut == SIM_CUT_TSO) { /* the NIC wrote every segment's headers */
		uint64_t hdrs = (uint64_t)m->hdr_len * k;

		rl_ledger_count(&s->ledger, RL_LEDGER_HEADERS, hdrs, RL_DIR_TX);
		s->c.tso_pkts++;
		s->c.tso_segments += k;
		s->c.tso_header_bytes += hdrs;
	}
	return why;
}

void sim_offload_describe(struct rl_step *st, uint32_t idx, uint32_t frags,
                          uint32_t total, const struct sim_txmeta *m, uint32_t sent,
                          uint32_t lost, const char *why)
{
	char descs[40], tail[96] = "";

	if (frags == 1)
		snprintf(descs, sizeof(descs), "tx[%u]", idx);
	else
		snprintf(descs, sizeof(descs), "tx[%u..%u]", idx, idx + frags - 1);
	if (lost)
		snprintf(tail, sizeof(tail), "; %u of them lost: %s", lost,
		         why ? why : "");
	if (m->cut == SIM_CUT_TSO)
		snprintf(st->what, sizeof(st->what),
		         "TX (TSO): the NIC took %s, one %u-byte TCP packet, and cut it "
		         "into %u segments of MSS %u, writing each one's headers%s",
		         descs, total, sent + lost, m->mss, tail);
	else if (m->cut == SIM_CUT_GSO)
		snprintf(st->what, sizeof(st->what),
		         "TX (GSO): the kernel cut %s, one %u-byte TCP packet, into %u "
		         "segments of MSS %u (headers copied for each); the NIC sent them%s",
		         descs, total, sent + lost, m->mss, tail);
	else
		snprintf(st->what, sizeof(st->what),
		         "TX: the NIC took %s (%u bytes), %s its checksums and %s",
		         descs, total, m->csum == SIM_CSUM_NIC ? "filled in" : "the kernel completed",
		         lost ? why : "put it on the wire");
}
