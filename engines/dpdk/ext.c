/*
 * ext.c - what DPDK can do that the engine ABI cannot say: external
 * buffers, GSO, and receiving packets whose bytes are not all in frames.
 *
 * extbuf  Application memory that is not in the region is sent without a
 *         copy: an mbuf from a small side pool ("aux") is attached to it
 *         with rte_pktmbuf_attach_extbuf and chained behind a header frame.
 *         A shared-info block counts the mbufs pointing at the memory; when
 *         the PMD frees the last one DPDK calls our free callback, which
 *         logs (address, cookie): from then on the memory is the app's.
 *
 * gso     rte_gso_segment cuts one large TCP/IPv4 packet into MSS-sized
 *         ones. Each output packet is a fresh aux mbuf holding a *copy* of
 *         the headers, chained to an indirect mbuf that *references* a
 *         slice of the payload frames. DPDK does not compute checksums, so
 *         we do, in software, reading the payload (ledger: touched). The
 *         payload frames stay with the NIC until the last slice of each is
 *         freed; then our mempool driver sees them and they complete.
 *
 * rx_segs Such packets, looped back by net_ring, arrive with segments that
 *         region addresses cannot name; rx_segs() describes every segment
 *         by virtual address and kind, and keeps the non-region mbufs until
 *         rx_segs_release() frees them (firing the extbuf callbacks).
 */
#include <errno.h>
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

/* ---- external memory ------------------------------------------------------ */

static int ext_register(struct rl_engine *e, void *va, size_t len, struct rl_err *err)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	(void)e;
	if ((uintptr_t)va % pg || !len || len % pg)
		return rl_err_set(err, EINVAL, "extmem_register: %p+%zu is not whole pages - "
				  "use page-aligned memory (mmap) and a multiple of %zu bytes",
				  va, len, pg);
	if (rte_extmem_register(va, len, NULL, 0, pg) < 0)
		return rl_err_set(err, rte_errno, "rte_extmem_register(%p, %zu): %s", va, len,
				  rte_strerror(rte_errno));
	return 0;
}

static int ext_unregister(struct rl_engine *e, void *va, size_t len, struct rl_err *err)
{
	(void)e;
	if (rte_extmem_unregister(va, len) < 0)
		return rl_err_set(err, rte_errno, "rte_extmem_unregister(%p, %zu): %s - "
				  "unregister exactly what was registered", va, len,
				  rte_strerror(rte_errno));
	return 0;
}

static void ext_free_cb(void *addr, void *opaque)
{
	struct extbuf_ctx *c = opaque;
	struct rl_engine *e = c->e;

	(void)addr;
	if (e->extfree_tail - e->extfree_head == DPDK_EXTFREE_LOG)
		e->extfree_head++; /* keep the newest */
	e->extfree[e->extfree_tail++ % DPDK_EXTFREE_LOG] =
		(struct rl_dpdk_extfree){.va = c->va, .cookie = c->cookie};
	free(c);
}

static int ext_freed(struct rl_engine *e, struct rl_dpdk_extfree *out, unsigned max)
{
	unsigned n = 0;

	while (n < max && e->extfree_head != e->extfree_tail)
		out[n++] = e->extfree[e->extfree_head++ % DPDK_EXTFREE_LOG];
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

static int tx_extbuf(struct rl_engine *e, const struct rl_desc *hdr, const void *va,
		     size_t len, uint64_t cookie, struct rl_err *err)
{
	unsigned k = (unsigned)((len + EXT_CHUNK - 1) / EXT_CHUNK);
	struct rte_mbuf *c[DPDK_MAX_SEGS], *pkt;
	struct extbuf_ctx *ctx;
	int rc = dpdk_ready(e, err);

	if (!rc)
		rc = aux_pool(e, err);
	if (rc < 0)
		return rc;
	if (!e->multi_seg)
		return rl_err_set(err, ENOTSUP, "tx_extbuf: a header mbuf chained to external "
				  "data needs RTE_ETH_TX_OFFLOAD_MULTI_SEGS, which %s lacks",
				  e->driver);
	if (!len || k > DPDK_MAX_SEGS - 1)
		return rl_err_set(err, EINVAL, "tx_extbuf: %zu bytes - send 1 to %u", len,
				  (DPDK_MAX_SEGS - 1) * EXT_CHUNK);
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return rl_err_set(err, ENOMEM, "tx_extbuf: no memory");
	if (rte_pktmbuf_alloc_bulk(e->aux, c, k) < 0) {
		free(ctx);
		return rl_err_set(err, ENOBUFS, "tx_extbuf: the side pool is out of mbufs - "
				  "complete and release what was received");
	}
	rc = dpdk_chain(e, hdr, 1, &pkt, err);
	if (rc < 0) {
		rte_pktmbuf_free_bulk(c, k);
		free(ctx);
		return rc;
	}
	*ctx = (struct extbuf_ctx){.e = e, .va = va, .cookie = cookie};
	ctx->sh.free_cb = ext_free_cb;
	ctx->sh.fcb_opaque = ctx;
	attach_chunks(pkt, c, k, va, len, ctx);
	if (dpdk_q_push(&e->txq, pkt, 1) < 0) {
		/* cannot happen after a flush; undo cleanly all the same */
		dpdk_unchain(e, pkt);
		return rl_err_set(err, ENOSPC, "tx_extbuf: the tx queue is full - kick first");
	}
	e->ledger.referenced += len; /* the external bytes; the header is the lab's */
	dpdk_flush(e);
	return 0;
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
	struct rte_mbuf *prev = s, *m;

	s->ol_flags &= ~RTE_MBUF_F_EXTERNAL; /* its buffer is its own */
	while ((m = prev->next)) {
		if (m->data_len) {
			prev = m;
			continue;
		}
		prev->next = m->next;
		m->next = NULL;
		s->nb_segs--;
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
	e->ledger.headers += hdrs;
	e->ledger.touched += s->pkt_len - hdrs;
	e->ledger.referenced += s->pkt_len - hdrs;
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
	uint32_t frames[DPDK_MAX_SEGS], hdrs;
	uint16_t l2, l3;
	int rc = dpdk_ready(e, err), k;

	if (!rc)
		rc = aux_pool(e, err);
	if (rc < 0)
		return rc;
	if (!e->multi_seg)
		return rl_err_set(err, ENOTSUP, "tx_gso: GSO segments are header + payload "
				  "mbuf chains and %s lacks RTE_ETH_TX_OFFLOAD_MULTI_SEGS", e->driver);
	if (mss < 1 || n > DPDK_MAX_SEGS)
		return rl_err_set(err, EINVAL, "tx_gso: mss=%u with %u descriptors - give mss "
				  ">= 1 and at most %u descriptors", mss, n, DPDK_MAX_SEGS);
	dpdk_flush(e);
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

static struct rl_dpdk_seg describe(struct rl_engine *e, struct rte_mbuf *m)
{
	const uint8_t *va = rte_pktmbuf_mtod(m, const uint8_t *);
	struct rl_dpdk_seg s = {.va = va, .addr = UINT64_MAX, .len = m->data_len};

	if (dpdk_is_frame(e, m)) {
		s.kind = RL_DPDK_SEG_REGION;
		s.addr = (uint64_t)(va - e->p->region.base);
		dpdk_move(e, dpdk_mbuf_frame(e, m), RL_OWN_RX, RL_OWN_APP);
	} else if (in_region(e, va)) {
		s.kind = RL_DPDK_SEG_REF;
		s.addr = (uint64_t)(va - e->p->region.base);
	} else if (m->buf_addr == (uint8_t *)m + sizeof(*m) + m->priv_size) {
		s.kind = RL_DPDK_SEG_COPY; /* the mbuf's own buffer */
	} else {
		s.kind = RL_DPDK_SEG_EXTBUF;
	}
	return s;
}

int dpdk_rx_segs(struct rl_engine *e, struct rl_dpdk_seg *segs, uint32_t max,
		 struct rl_err *err)
{
	struct rte_mbuf *pkt, *m, *next;
	uint32_t k = 0;
	int rc = dpdk_ready(e, err);

	if (rc < 0)
		return rc;
	dpdk_poll(e);
	pkt = e->rxq.tail != e->rxq.head ? e->rxq.pkt[e->rxq.head % DPDK_STAGE] : NULL;
	if (!pkt)
		return 0;
	if (pkt->nb_segs > max || e->nheld + pkt->nb_segs > DPDK_STAGE)
		return rl_err_set(err, ENOSPC, "rx_segs: the next packet has %u segments, room "
				  "for %u (and %u held) - ask for more, or rx_segs_release()",
				  pkt->nb_segs, max, e->nheld);
	e->ledger.referenced += pkt->pkt_len;
	e->rxq.frames -= dpdk_region_segs(e, pkt);
	e->rxq.head++;
	for (m = pkt; m; m = next) {
		next = m->next;
		segs[k++] = describe(e, m);
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (!dpdk_is_frame(e, m))
			e->held[e->nheld++] = m;
	}
	return (int)k;
}

static void rx_segs_release(struct rl_engine *e)
{
	while (e->nheld > 0)
		rte_pktmbuf_free(e->held[--e->nheld]);
}

void dpdk_ext_close(struct rl_engine *e)
{
	rx_segs_release(e);
}

static int ext_port(struct rl_engine *e)
{
	return e->port;
}

static const struct ringlab_dpdk_ext ext = {
	.abi = RINGLAB_DPDK_EXT_ABI,
	.extmem_register = ext_register,
	.extmem_unregister = ext_unregister,
	.tx_extbuf = tx_extbuf,
	.extbuf_freed = ext_freed,
	.tx_gso = tx_gso,
	.rx_segs = dpdk_rx_segs,
	.rx_segs_release = rx_segs_release,
	.port = ext_port,
	.rx_gro = dpdk_rx_gro,
};

__attribute__((visibility("default"))) const struct ringlab_dpdk_ext *ringlab_dpdk_ext(void)
{
	return &ext;
}
