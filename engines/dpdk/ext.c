/*
 * ext.c - the engine ABI 2 ops (tx_x, rx_x, rx_release, ext_*): external
 * buffers, GSO, and receiving packets whose bytes are not all in frames.
 *
 * extbuf  Application memory that is not in the region is sent without a
 *         copy: an mbuf from a small side pool ("aux") is attached to it
 *         with rte_pktmbuf_attach_extbuf and chained behind a header frame.
 *         A shared-info block counts the mbufs pointing at the memory; when
 *         the PMD frees the last one DPDK calls our free callback, which
 *         logs the descriptor's cookie: from then on the memory is the
 *         app's again (ext_freed). The memory must be registered first
 *         (ext_register: rte_extmem_register of the pages around it).
 *
 * gso     rte_gso_segment cuts one large TCP/IPv4 packet into MSS-sized
 *         ones. Each output packet is a fresh aux mbuf holding a *copy* of
 *         the headers, chained to an indirect mbuf that *references* a
 *         slice of the payload frames. DPDK does not compute checksums, so
 *         we do, in software, reading the payload (ledger: touched). The
 *         payload frames stay with the NIC until the last slice of each is
 *         freed; then our mempool driver sees them and they complete.
 *
 * rx_x    Such packets, looped back by net_ring, arrive with segments that
 *         region addresses cannot name; rx_x() describes every segment by
 *         virtual address (RL_DESC_EXT, RL_DESC_COPIED) and keeps the
 *         non-region mbufs until rx_release() frees them (firing the
 *         extbuf callbacks). With RL_RX_GRO it merges first (gro.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_tcp.h>

#include "dpdk.h"

#define AUX_MBUFS 4095
#define EXT_CHUNK 32768 /* bytes per external mbuf: buf_len is 16 bits */

struct extbuf_ctx {
	struct rte_mbuf_ext_shared_info sh;
	struct rl_engine *e;
	const void *va;
	uint64_t cookie;
};

static int aux_pool(struct rl_engine *e, struct rl_err *err)
{
	static unsigned seq;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (e->aux)
		return 0;
	snprintf(name, sizeof(name), "rl_aux%u", seq++);
	e->aux = rte_pktmbuf_pool_create(name, AUX_MBUFS, 0, 0, RTE_PKTMBUF_HEADROOM + 256,
					 (int)rte_socket_id());
	if (!e->aux)
		return rl_err_set(err, rte_errno, "no side pool for header and indirect mbufs "
				  "(%s) - start DPDK with more mem=", rte_strerror(rte_errno));
	return 0;
}

static rte_iova_t iova_of(const void *va)
{
	return rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)va : RTE_BAD_IOVA;
}

/* ---- a frame in several descriptors -------------------------------------- */

/* One further descriptor of a region frame: an aux mbuf over the frame's
 * bytes; DPDK calls shared_done when the PMD frees it. */
struct shared_ref {
	struct rte_mbuf_ext_shared_info sh;
	struct dpdk_pool *p;
	uint32_t frame;
	uint64_t addr;
	bool undo; /* never reached the PMD: take the reference back */
};

bool dpdk_can_share(const struct rl_engine *e)
{
	return e->p && e->p->layout == DPDK_LAYOUT_PINNED && strcmp(e->driver, "net_ring") &&
	       e->p->region.frame_size <= UINT16_MAX;
}

static void shared_done(void *addr, void *opaque)
{
	struct shared_ref *x = opaque;
	struct dpdk_pool *p = x->p;
	uint32_t f = x->frame;

	(void)addr;
	if (p->populating) { /* the engine is closing: no owner moves */
		free(x);
		return;
	}
	if (x->undo) {
		dpdk_pool_move(p, f, RL_OWN_TX, RL_OWN_APP);
	} else if (p->comp_tail - p->comp_head <= p->comp_mask) {
		/* sent: a completion like the frame's own mbuf's */
		dpdk_pool_move(p, f, RL_OWN_TX, RL_OWN_COMP);
		p->tx_addr[f] = x->addr;
		p->comp[p->comp_tail++ & p->comp_mask] = f;
	} else { /* no room in the FIFO: the reference ends here */
		dpdk_pool_move(p, f, RL_OWN_TX, RL_OWN_COMP);
		dpdk_pool_move(p, f, RL_OWN_COMP, RL_OWN_APP);
		if (rl_region_owner(&p->region, f) == RL_OWN_APP)
			rl_region_release(&p->region, f, NULL);
	}
	free(x);
}

int dpdk_shared_mbuf(struct rl_engine *e, const struct rl_desc *d, struct rte_mbuf **out,
		     struct rl_err *err)
{
	struct dpdk_pool *p = e->p;
	uint32_t f = rl_region_frame(&p->region, d->addr);
	struct rte_mbuf *fm = p->mbuf[f], *m;
	struct shared_ref *x;
	int rc;

	if ((rc = aux_pool(e, err)) < 0)
		return rc;
	if (!(x = calloc(1, sizeof(*x))))
		return rl_err_set(err, ENOMEM, "tx: no memory for a shared frame's reference");
	if (!(m = rte_pktmbuf_alloc(e->aux))) {
		free(x);
		return rl_err_set(err, ENOBUFS, "tx: the side pool (%u mbufs) is empty - "
				  "complete what was sent first", AUX_MBUFS);
	}
	if ((rc = rl_region_ref(&p->region, f, err)) < 0) {
		rte_pktmbuf_free(m);
		free(x);
		return rc;
	}
	*x = (struct shared_ref){.p = p, .frame = f, .addr = d->addr};
	x->sh.free_cb = shared_done;
	x->sh.fcb_opaque = x;
	rte_mbuf_ext_refcnt_set(&x->sh, 1);
	rte_pktmbuf_attach_extbuf(m, fm->buf_addr, rte_mbuf_iova_get(fm),
				  (uint16_t)p->region.frame_size, &x->sh);
	m->data_off = (uint16_t)(d->addr - rl_region_frame_addr(&p->region, f));
	m->data_len = (uint16_t)d->len;
	m->pkt_len = d->len;
	*out = m;
	return 0;
}

bool dpdk_shared_undo(struct rl_engine *e, struct rte_mbuf *m)
{
	(void)e;
	if (!RTE_MBUF_HAS_EXTBUF(m) || !m->shinfo || m->shinfo->free_cb != shared_done)
		return false;
	((struct shared_ref *)m->shinfo->fcb_opaque)->undo = true;
	m->next = NULL;
	rte_pktmbuf_free_seg(m);
	return true;
}

/* ---- external memory ------------------------------------------------------ */

/* What ext_register() was given, and the pages it registered with DPDK.
 * DPDK's registrations are process-wide and whole pages, while the
 * program's memory (a Lua string) is any bytes: two strings can share a
 * page. So an area registers only the pages no other area registered
 * already (span may be 0: all of them were), and registering the same
 * area again only counts. */
#define EXTMEM_MAX 64

struct extmem {
	uintptr_t va;
	size_t len;
	uintptr_t start; /* pages this area registered */
	size_t span;
	unsigned refs;
};

static struct extmem extmem[EXTMEM_MAX];

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static bool page_covered(uintptr_t pg)
{
	for (unsigned i = 0; i < EXTMEM_MAX; i++)
		if (extmem[i].refs && extmem[i].span && pg >= extmem[i].start &&
		    pg < extmem[i].start + extmem[i].span)
			return true;
	return false;
}

/* Every page of va..va+len is registered. */
static bool ext_covered(const void *va, size_t len)
{
	size_t pg = page_size();
	uintptr_t a = (uintptr_t)va & ~(pg - 1);

	for (; a < (uintptr_t)va + len; a += pg)
		if (!page_covered(a))
			return false;
	return true;
}

static struct extmem *ext_find(const void *va, size_t len)
{
	for (unsigned i = 0; i < EXTMEM_MAX; i++)
		if (extmem[i].refs && extmem[i].va == (uintptr_t)va && extmem[i].len == len)
			return &extmem[i];
	return NULL;
}

int dpdk_ext_register(struct rl_engine *e, void *va, size_t len, struct rl_err *err)
{
	size_t pg = page_size();
	struct extmem *m = ext_find(va, len);
	uintptr_t s, end;

	(void)e;
	if (!va || !len)
		return rl_err_set(err, EINVAL, "ext_register: no memory given - give an "
				  "address and a length");
	if (m) {
		m->refs++;
		return 0;
	}
	for (m = extmem; m < extmem + EXTMEM_MAX && m->refs; m++)
		;
	if (m == extmem + EXTMEM_MAX)
		return rl_err_set(err, ENOSPC, "ext_register: %u areas of app memory are "
				  "registered already - unregister some (free what was "
				  "segmented)", EXTMEM_MAX);
	s = (uintptr_t)va & ~(pg - 1);
	end = ((uintptr_t)va + len + pg - 1) & ~(pg - 1);
	while (s < end && page_covered(s))
		s += pg;
	while (end > s && page_covered(end - pg))
		end -= pg;
	if (end > s && rte_extmem_register((void *)s, end - s, NULL, 0, pg) < 0)
		return rl_err_set(err, rte_errno, "rte_extmem_register(%p, %zu): %s", (void *)s,
				  (size_t)(end - s), rte_strerror(rte_errno));
	*m = (struct extmem){(uintptr_t)va, len, s, end - s, 1};
	return 0;
}

int dpdk_ext_unregister(struct rl_engine *e, void *va, size_t len, struct rl_err *err)
{
	struct extmem *m = ext_find(va, len);

	(void)e;
	if (!m)
		return rl_err_set(err, ENOENT, "ext_unregister: %p+%zu was not registered - "
				  "unregister exactly what was registered", va, len);
	if (--m->refs)
		return 0;
	if (m->span && rte_extmem_unregister((void *)m->start, m->span) < 0)
		return rl_err_set(err, rte_errno, "rte_extmem_unregister(%p, %zu): %s",
				  (void *)m->start, m->span, rte_strerror(rte_errno));
	return 0;
}

static void ext_free_cb(void *addr, void *opaque)
{
	struct extbuf_ctx *c = opaque;
	struct rl_engine *e = c->e;

	(void)addr;
	if (e->extfree_tail - e->extfree_head == DPDK_EXTFREE_LOG) {
		e->extfree_head++; /* keep the newest */
		e->extfree_lost++;
	}
	e->extfree[e->extfree_tail++ % DPDK_EXTFREE_LOG] = c->cookie;
	free(c);
}

int dpdk_ext_freed(struct rl_engine *e, uint64_t *cookies, unsigned max)
{
	unsigned n = 0;

	while (n < max && e->extfree_head != e->extfree_tail)
		cookies[n++] = e->extfree[e->extfree_head++ % DPDK_EXTFREE_LOG];
	return (int)n;
}

/* Attach the carriers to va..va+len, chunk by chunk, behind head. */
static void attach_chunks(struct rte_mbuf *head, struct rte_mbuf **c, unsigned k,
			  const void *va, size_t len, struct extbuf_ctx *ctx)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(head);

	rte_mbuf_ext_refcnt_set(&ctx->sh, (uint16_t)k);
	for (unsigned i = 0; i < k; i++) {
		size_t off = (size_t)i * EXT_CHUNK;
		uint16_t n = (uint16_t)(len - off < EXT_CHUNK ? len - off : EXT_CHUNK);
		void *p = (uint8_t *)va + off;

		rte_pktmbuf_attach_extbuf(c[i], p, iova_of(p), n, &ctx->sh);
		c[i]->data_len = n;
		last->next = c[i];
		last = c[i];
	}
	head->nb_segs = (uint16_t)(head->nb_segs + k);
	head->pkt_len += (uint32_t)len;
}

/* Room in the tx staging queue for `need` packets, flushing once. */
static int tx_room(struct rl_engine *e, uint32_t need, struct rl_err *err)
{
	if (DPDK_STAGE - (e->txq.tail - e->txq.head) < need)
		dpdk_flush(e);
	if (DPDK_STAGE - (e->txq.tail - e->txq.head) < need) {
		e->tx_ring_full += need; /* they stay with the program */
		return rl_err_set(err, ENOSPC, "tx_x: the tx queue has no room for %u packets "
				  "- kick and complete first", need);
	}
	return 0;
}

/* The header frames (rd, nreg) and then app memory (x, next), one packet:
 * each area of app memory gets its own shared info and so its own free
 * callback, which logs its cookie. */
static int tx_extbuf(struct rl_engine *e, const struct rl_desc *rd, uint32_t nreg,
		     const struct rl_xdesc *x, uint32_t next, struct rl_err *err)
{
	struct rte_mbuf *c[DPDK_MAX_SEGS], *pkt;
	struct extbuf_ctx *ctx[DPDK_MAX_SEGS];
	unsigned per[DPDK_MAX_SEGS], k = 0, at = 0;
	int rc;

	if (!e->multi_seg)
		return rl_err_set(err, ENOTSUP, "tx_x: a header mbuf chained to external "
				  "data needs RTE_ETH_TX_OFFLOAD_MULTI_SEGS, which %s lacks - "
				  "use strategy copy on this port", e->driver);
	for (uint32_t i = 0; i < next; i++) {
		per[i] = (unsigned)((x[i].len + EXT_CHUNK - 1) / EXT_CHUNK);
		k += per[i];
	}
	if (nreg + k > DPDK_MAX_SEGS)
		return rl_err_set(err, EINVAL, "tx_x: %u segments in one packet, at most %u",
				  nreg + k, DPDK_MAX_SEGS);
	if ((rc = tx_room(e, 1, err)) < 0)
		return rc;
	for (uint32_t i = 0; i < next; i++)
		if (!(ctx[i] = calloc(1, sizeof(*ctx[i])))) {
			while (i--)
				free(ctx[i]);
			return rl_err_set(err, ENOMEM, "tx_x: no memory");
		}
	if (rte_pktmbuf_alloc_bulk(e->aux, c, k) < 0) {
		rc = rl_err_set(err, ENOBUFS, "tx_x: the side pool is out of mbufs - "
				"complete and release what was received");
	} else if ((rc = dpdk_chain(e, rd, nreg, &pkt, err)) < 0) {
		rte_pktmbuf_free_bulk(c, k);
	}
	if (rc < 0) {
		for (uint32_t i = 0; i < next; i++)
			free(ctx[i]);
		return rc;
	}
	for (uint32_t i = 0; i < next; i++) {
		*ctx[i] = (struct extbuf_ctx){.e = e, .va = x[i].va, .cookie = x[i].cookie};
		ctx[i]->sh.free_cb = ext_free_cb;
		ctx[i]->sh.fcb_opaque = ctx[i];
		attach_chunks(pkt, c + at, per[i], x[i].va, x[i].len, ctx[i]);
		at += per[i];
	}
	dpdk_q_push(&e->txq, pkt, nreg); /* room checked above */
	dpdk_flush(e);
	return 1;
}

/* Region frames only: one packet, as tx() queues it. */
static int tx_frames(struct rl_engine *e, const struct rl_desc *rd, uint32_t nreg,
		     struct rl_err *err)
{
	struct rte_mbuf *pkt;
	int rc = tx_room(e, 1, err);

	if (!rc)
		rc = dpdk_chain(e, rd, nreg, &pkt, err);
	if (rc < 0)
		return rc;
	dpdk_q_push(&e->txq, pkt, nreg);
	dpdk_flush(e);
	return 1;
}

/* ---- gso -------------------------------------------------------------------- */

static int tcp4_lens(struct rte_mbuf *pkt, struct rl_err *err)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkt, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp;

	if (pkt->data_len < sizeof(*eth) + sizeof(*ip) + sizeof(*tcp) ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->next_proto_id != IPPROTO_TCP)
		return rl_err_set(err, EINVAL, "tx_gso: the first descriptor must hold "
				  "Ethernet, IPv4 and TCP headers (GSO here segments TCP/IPv4)");
	pkt->l2_len = sizeof(*eth);
	pkt->l3_len = rte_ipv4_hdr_len(ip);
	tcp = (struct rte_tcp_hdr *)((uint8_t *)ip + pkt->l3_len);
	pkt->l4_len = (tcp->data_off >> 4) * 4;
	if (pkt->data_len < pkt->l2_len + pkt->l3_len + pkt->l4_len)
		return rl_err_set(err, EINVAL, "tx_gso: the headers run past the first "
				  "descriptor - put all of them in it");
	return 0;
}

/* Tidy what rte_gso_segment made, in 22.11: the header mbuf copies the
 * input's ol_flags, so a pinned (RTE_MBUF_F_EXTERNAL) input makes it look
 * external and freeing it would call a free callback it does not have;
 * and a header-only input mbuf yields a zero-length slice. */
static void seg_tidy(struct rte_mbuf *s)
{
	struct rte_mbuf *m, *gone;

	s->ol_flags &= ~RTE_MBUF_F_EXTERNAL; /* its buffer is its own */
	gone = dpdk_unlink_empty(s);
	while ((m = gone)) {
		gone = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
}

/* DPDK's gso fixes lengths, ids and sequence numbers but not checksums.
 * l2/l3 are the input packet's header lengths. */
static void seg_checksums(struct rl_engine *e, struct rte_mbuf *s, uint16_t l2, uint16_t l3,
			  uint32_t hdrs)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(s, struct rte_ipv4_hdr *, l2);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)((uint8_t *)ip + l3);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = 0;
	tcp->cksum = rte_ipv4_udptcp_cksum_mbuf(s, ip, l2 + l3);
	s->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM);
	/* GSO's copy of the headers, and the payload read for the checksum:
	 * both on the transmit path */
	rl_ledger_count(&e->ledger, RL_LEDGER_HEADERS, hdrs, RL_DIR_TX);
	rl_ledger_count(&e->ledger, RL_LEDGER_TOUCHED, s->pkt_len - hdrs, RL_DIR_TX);
	/* the payload is referenced, not copied: the program that laid it in
	 * the region counts that (the segmenter), not the engine */
}

static int gso_cut(struct rl_engine *e, struct rte_mbuf *pkt, uint16_t mss,
		   struct rte_mbuf **out, uint16_t room, struct rl_err *err)
{
	struct rte_gso_ctx ctx = {
		.direct_pool = e->aux,
		.indirect_pool = e->aux,
		.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO,
		.flag = 0,
	};
	int n;

	ctx.gso_size = (uint16_t)(pkt->l2_len + pkt->l3_len + pkt->l4_len + mss);
	pkt->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4;
	pkt->tso_segsz = mss;
	n = rte_gso_segment(pkt, &ctx, out, room);
	if (n < 0)
		return rl_err_set(err, -n, "tx_gso: rte_gso_segment failed (%s) - %s",
				  rte_strerror(-n), n == -ENOMEM ? "the side pool or the tx "
				  "queue is too small for that many segments: a larger mss" :
				  "check the headers");
	if (n == 0) { /* small enough already: send it as it is */
		out[0] = pkt;
		return 1;
	}
	return n;
}

static int tx_gso(struct rl_engine *e, const struct rl_desc *d, uint32_t n, uint16_t mss,
		  struct rl_err *err)
{
	struct rte_mbuf *out[DPDK_STAGE], *pkt;
	uint32_t frames[DPDK_MAX_SEGS], hdrs, pay = 0;
	uint16_t l2, l3;
	int rc, k;

	if (!e->multi_seg)
		return rl_err_set(err, ENOTSUP, "tx_x: GSO segments are header + payload "
				  "mbuf chains and %s lacks RTE_ETH_TX_OFFLOAD_MULTI_SEGS - use "
				  "strategy copy on this port", e->driver);
	for (uint32_t i = 0; i < n; i++)
		pay += d[i].len;
	if ((rc = tx_room(e, pay / mss + 1, err)) < 0)
		return rc;
	rc = dpdk_chain(e, d, n, &pkt, err);
	if (rc < 0)
		return rc;
	rc = tcp4_lens(pkt, err);
	k = rc < 0 ? rc : gso_cut(e, pkt, mss, out, (uint16_t)(DPDK_STAGE - (e->txq.tail -
									  e->txq.head)), err);
	if (k < 0) {
		dpdk_unchain(e, pkt);
		return k;
	}
	if (out[0] == pkt) { /* not cut: an ordinary packet */
		pkt->ol_flags &= ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4);
		dpdk_q_push(&e->txq, pkt, n);
		dpdk_flush(e);
		return 1;
	}
	for (uint32_t i = 0; i < n; i++)
		frames[i] = rl_region_frame(&e->p->region, d[i].addr);
	/* The input's frames are done once no slice references them: mark
	 * them sent, free the input (header-only frames complete at once),
	 * and the rest are inside the NIC until their slices are freed. */
	dpdk_mark_sent(e, pkt, true);
	l2 = pkt->l2_len;
	l3 = pkt->l3_len;
	hdrs = (uint32_t)(l2 + l3 + pkt->l4_len);
	rte_pktmbuf_free(pkt);
	for (uint32_t i = 0; i < n; i++)
		if (e->p->sent[frames[i]] && rl_region_owner(&e->p->region, frames[i]) == RL_OWN_TX)
			dpdk_move(e, frames[i], RL_OWN_TX, RL_OWN_NIC);
	for (int i = 0; i < k; i++) {
		seg_tidy(out[i]);
		seg_checksums(e, out[i], l2, l3, hdrs);
		dpdk_q_push(&e->txq, out[i], 0);
	}
	dpdk_flush(e);
	return k;
}

/* ---- rx of any segment ------------------------------------------------------ */

static bool in_region(const struct rl_engine *e, const void *p)
{
	const uint8_t *b = p;

	return b >= e->p->region.base && b < e->p->region.base + e->p->region.size;
}

static struct rl_xdesc describe(struct rl_engine *e, struct rte_mbuf *m)
{
	const uint8_t *va = rte_pktmbuf_mtod(m, const uint8_t *);
	struct rl_xdesc x = {.addr = RL_ADDR_NONE, .va = va, .len = m->data_len,
			     .options = RL_DESC_EXT};

	if (dpdk_is_frame(e, m)) { /* a frame: the program's now */
		x.options = 0;
		x.addr = (uint64_t)(va - e->p->region.base);
		dpdk_move(e, dpdk_mbuf_frame(e, m), RL_OWN_RX, RL_OWN_APP);
	} else if (in_region(e, va)) { /* a slice of a frame (gso payload) */
		x.addr = (uint64_t)(va - e->p->region.base);
	} else if (m->buf_addr == (uint8_t *)m + sizeof(*m) + m->priv_size) {
		x.options |= RL_DESC_COPIED; /* the mbuf's own buffer */
	} /* else external memory (extbuf) */
	return x;
}

int dpdk_rx_x(struct rl_engine *e, struct rl_xdesc *out, uint32_t max, uint32_t flags,
	      struct rl_err *err)
{
	struct rte_mbuf *pkt, *m, *next;
	uint32_t k = 0;
	int rc = dpdk_ready(e, err);

	if (rc < 0)
		return rc;
	if (flags & ~RL_RX_GRO)
		return rl_err_set(err, EINVAL, "rx_x: flags 0x%x - give 0 or RL_RX_GRO", flags);
	if (flags & RL_RX_GRO) {
		while (dpdk_poll(e) > 0)
			;
		dpdk_gro_merge(e);
	} else {
		dpdk_poll(e);
	}
	pkt = e->rxq.tail != e->rxq.head ? e->rxq.pkt[e->rxq.head % DPDK_STAGE] : NULL;
	if (!pkt)
		return 0;
	if (pkt->nb_segs > max || e->nheld + pkt->nb_segs > DPDK_STAGE)
		return rl_err_set(err, ENOSPC, "rx_x: the next packet has %u segments, room "
				  "for %u (and %u held) - ask for more, or rx_release()",
				  pkt->nb_segs, max, e->nheld);
	/* delivered where the PMD put it: received, not copied */
	rl_ledger_count(&e->ledger, RL_LEDGER_REFERENCED, pkt->pkt_len, RL_DIR_RX);
	e->rxq.frames -= dpdk_region_segs(e, pkt);
	e->rxq.head++;
	for (m = pkt; m; m = next) {
		next = m->next;
		out[k] = describe(e, m);
		if (next)
			out[k].options |= RL_DESC_CONTD;
		k++;
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (!dpdk_is_frame(e, m))
			e->held[e->nheld++] = m;
	}
	return (int)k;
}

void dpdk_rx_release(struct rl_engine *e)
{
	while (e->nheld > 0)
		rte_pktmbuf_free(e->held[--e->nheld]);
}

/* ---- tx_x: which of the three ---------------------------------------------- */

/* One packet: region descriptors first (the headers, at least one), then
 * app memory (extbuf); gso_mss cuts a region-only TCP packet. */
int dpdk_tx_x(struct rl_engine *e, const struct rl_xdesc *d, uint32_t n,
	      const struct rl_tx_opts *o, struct rl_err *err)
{
	struct rl_desc rd[DPDK_MAX_SEGS];
	uint32_t nreg = 0;
	int rc = dpdk_ready(e, err);

	if (!rc)
		rc = aux_pool(e, err);
	if (!rc)
		rc = dpdk_link_up(e, err);
	if (rc < 0)
		return rc;
	if (!n || n > DPDK_MAX_SEGS)
		return rl_err_set(err, EINVAL, "tx_x: %u descriptors - give one packet of 1 to "
				  "%u", n, DPDK_MAX_SEGS);
	/* RL_TX_TSO, RL_TX_CSUM: offloads the ports made here do not offer
	 * (their caps say so, so the lab never asks) */
	if (o && o->flags)
		return rl_err_set(err, EOPNOTSUPP, "tx_x: flags 0x%x - this port offers "
				  "no TSO or checksum offload here (gso_mss alone cuts in "
				  "software)", o->flags);
	for (uint32_t i = 0; i < n; i++) {
		bool contd = (d[i].options & RL_DESC_CONTD) != 0;

		if (contd != (i + 1 < n))
			return rl_err_set(err, EINVAL, "tx_x: descriptor %u %s RL_DESC_CONTD - "
					  "one packet: every descriptor but the last has it",
					  i, contd ? "has" : "lacks");
		if (d[i].options & RL_DESC_EXT) {
			if (!d[i].va || !d[i].len)
				return rl_err_set(err, EINVAL, "tx_x: descriptor %u (app memory) "
						  "has no address or length", i);
			if (!ext_covered(d[i].va, d[i].len))
				return rl_err_set(err, EINVAL, "tx_x: descriptor %u: %p+%u is not "
						  "registered app memory - ext_register() it "
						  "first", i, d[i].va, d[i].len);
			continue;
		}
		if (i > nreg)
			return rl_err_set(err, EINVAL, "tx_x: descriptor %u is a region frame "
					  "after app memory - put the region frames (the "
					  "headers) first", i);
		rd[nreg++] = (struct rl_desc){d[i].addr, d[i].len, d[i].options & RL_DESC_CONTD};
	}
	if (!nreg)
		return rl_err_set(err, EINVAL, "tx_x: no region frame - the headers go in a "
				  "frame of the region, in front of the app memory");
	if (o && o->gso_mss) {
		if (nreg < n)
			return rl_err_set(err, EOPNOTSUPP, "tx_x: gso here cuts packets whose "
					  "payload is in the region - send app memory with "
					  "extbuf (no gso_mss)");
		return tx_gso(e, rd, nreg, o->gso_mss, err);
	}
	if (nreg == n)
		return tx_frames(e, rd, nreg, err);
	rd[nreg - 1].options |= RL_DESC_CONTD;
	return tx_extbuf(e, rd, nreg, d + nreg, n - nreg, err);
}

void dpdk_ext_close(struct rl_engine *e)
{
	dpdk_rx_release(e);
}

static int ext_port(struct rl_engine *e)
{
	return e->port;
}

static const struct ringlab_dpdk_ext ext = {
	.abi = RINGLAB_DPDK_EXT_ABI,
	.port = ext_port,
};

__attribute__((visibility("default"))) const struct ringlab_dpdk_ext *ringlab_dpdk_ext(void)
{
	return &ext;
}
