/*
 * pool.c - the region as a DPDK mempool, and who owns every frame.
 *
 * DPDK packets live in mbufs taken from a mempool. Normally an mbuf's data
 * buffer sits right behind its 128-byte header inside the mempool object.
 * Here the data buffers are the region's frames instead: the mempool
 * holds only the headers, and mbuf i is permanently attached to frame i
 * ("pinned external buffers", as rte_pktmbuf_pool_create_extbuf does). So:
 *
 *   region address = mbuf->buf_addr + offset - region base
 *   frame i        = bytes [i * frame_size, (i + 1) * frame_size)
 *
 * and a buffer born in the region (r:alloc) may run across frames, since
 * no mbuf header sits between them. The region memory is registered with
 * DPDK (rte_extmem_register) so DPDK knows it as external memory.
 *
 * Owners are exact, because the mempool's driver is ours ("ringlab", the
 * ops below): every mbuf a PMD takes for receive passes through dequeue(),
 * every mbuf it frees after transmit passes through enqueue(); the pool
 * has no per-lcore cache that could hide them. The pool itself holds only
 * the frames the program offered for receive (e:fill): the app's free
 * frames stay in the region's own pool, where lab code takes them.
 *
 *   e:fill          app  -> fill   pushed onto our stack
 *   PMD allocates   fill -> nic    dequeue(): now behind an RX descriptor
 *   rx_burst        nic  -> rx     (dpdk.c)
 *   e:tx            app  -> tx -> nic   (dpdk.c, after rte_eth_tx_burst)
 *   PMD frees       nic  -> comp   enqueue() of a frame that was sent
 *                   nic  -> fill   enqueue() of an RX buffer it gave back
 *   e:complete      comp -> app
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_mempool.h>

#include "dpdk.h"

/* ---- owner moves -------------------------------------------------------- */

uint32_t dpdk_mbuf_frame(const struct rl_engine *e, const struct rte_mbuf *m)
{
	return rl_region_frame(&e->region, (uint64_t)((uint8_t *)m->buf_addr -
						      e->region.base));
}

bool dpdk_is_frame(const struct rl_engine *e, const struct rte_mbuf *m)
{
	return m->pool == e->mp;
}

/* A move the model expects to succeed; a refusal is a bug, kept for view.c. */
void dpdk_move(struct rl_engine *e, uint32_t frame, enum rl_owner from, enum rl_owner to)
{
	struct rl_err err;

	if (rl_region_move(&e->region, frame, from, to, &err) < 0) {
		e->model_errors++;
		snprintf(e->model_error, sizeof(e->model_error), "%s", err.msg);
	}
}

/* The state DPDK expects of an mbuf sitting in a pool. */
void dpdk_mbuf_fresh(struct rte_mbuf *m)
{
	rte_mbuf_refcnt_set(m, 1);
	rte_mbuf_ext_refcnt_set(m->shinfo, 1);
	rte_pktmbuf_reset(m);
}

void dpdk_mark_sent(struct rl_engine *e, struct rte_mbuf *pkt, bool sent)
{
	for (struct rte_mbuf *m = pkt; m; m = m->next)
		if (dpdk_is_frame(e, m))
			e->sent[dpdk_mbuf_frame(e, m)] = sent;
}

/* After tx_burst took pkt: its frames not already freed are inside the NIC. */
void dpdk_after_tx(struct rl_engine *e, struct rte_mbuf *pkt)
{
	for (struct rte_mbuf *m = pkt; m; m = m->next) {
		uint32_t f;

		if (!dpdk_is_frame(e, m))
			continue;
		f = dpdk_mbuf_frame(e, m);
		if (e->sent[f] && rl_region_owner(&e->region, f) == RL_OWN_TX)
			dpdk_move(e, f, RL_OWN_TX, RL_OWN_NIC);
	}
}

/* A PMD (or DPDK's gso/detach code) freed the mbuf of a frame. */
static void frame_back(struct rl_engine *e, struct rte_mbuf *m)
{
	uint32_t f = dpdk_mbuf_frame(e, m);
	enum rl_owner o = rl_region_owner(&e->region, f);

	if (e->sent[f] && (o == RL_OWN_TX || o == RL_OWN_NIC)) {
		e->sent[f] = 0;
		dpdk_move(e, f, o, RL_OWN_COMP);
		e->comp[e->comp_tail++ & e->comp_mask] = f;
	} else if (o == RL_OWN_NIC) {
		dpdk_mbuf_fresh(m);
		dpdk_move(e, f, RL_OWN_NIC, RL_OWN_FILL);
		e->fill[e->nfill++] = f;
	} else {
		e->model_errors++;
		snprintf(e->model_error, sizeof(e->model_error),
			 "frame %u came back to the mempool while owned by %s", f,
			 rl_owner_name(o));
	}
}

/* ---- the mempool driver --------------------------------------------------- */

static int pool_alloc(struct rte_mempool *mp)
{
	mp->pool_data = mp->pool_config;
	return 0;
}

static void pool_free(struct rte_mempool *mp)
{
	mp->pool_data = NULL;
}

static int pool_enqueue(struct rte_mempool *mp, void *const *objs, unsigned int n)
{
	struct rl_engine *e = mp->pool_data;

	if (e->populating)
		return 0; /* objects being created; they become frames in obj_init */
	for (unsigned int i = 0; i < n; i++)
		frame_back(e, objs[i]);
	return 0;
}

static int pool_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	struct rl_engine *e = mp->pool_data;

	if (e->nfill < n)
		return -ENOBUFS; /* all or nothing, as every mempool driver */
	for (unsigned int i = 0; i < n; i++) {
		uint32_t f = e->fill[--e->nfill];

		dpdk_move(e, f, RL_OWN_FILL, RL_OWN_NIC);
		objs[i] = e->mbuf[f];
		e->fill_gets++;
	}
	return 0;
}

static unsigned int pool_count(const struct rte_mempool *mp)
{
	const struct rl_engine *e = mp->pool_data;

	return e ? e->nfill : 0;
}

const struct rte_mempool_ops dpdk_pool_ops = {
	.name = DPDK_POOL_OPS,
	.alloc = pool_alloc,
	.free = pool_free,
	.enqueue = pool_enqueue,
	.dequeue = pool_dequeue,
	.get_count = pool_count,
};

/* ---- creating the pool over the region ------------------------------------ */

/* What DPDK's own (static) rte_pktmbuf_free_pinned_extmem does: the last
 * reference to a pinned buffer is gone, the mbuf goes back to its pool. */
static void pinned_free(void *addr, void *opaque)
{
	struct rte_mbuf *m = opaque;

	(void)addr;
	rte_mbuf_ext_refcnt_set(m->shinfo, 1);
	m->ol_flags = RTE_MBUF_F_EXTERNAL;
	m->next = NULL;
	m->nb_segs = 1;
	rte_mbuf_raw_free(m);
}

/* Mempool object i becomes the mbuf of frame i. */
static void obj_init(struct rte_mempool *mp, void *arg, void *obj, unsigned int i)
{
	struct rl_engine *e = arg;
	struct rte_mbuf *m = obj;
	struct rte_mbuf_ext_shared_info *sh = (void *)((char *)m + sizeof(*m));
	void *buf = e->region.base + rl_region_frame_addr(&e->region, i);

	memset(m, 0, mp->elt_size);
	m->buf_addr = buf;
	rte_mbuf_iova_set(m, rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)buf
								: RTE_BAD_IOVA);
	m->buf_len = (uint16_t)e->region.frame_size;
	m->pool = mp;
	m->port = RTE_MBUF_PORT_INVALID;
	m->ol_flags = RTE_MBUF_F_EXTERNAL;
	m->shinfo = sh;
	sh->free_cb = pinned_free;
	sh->fcb_opaque = m;
	dpdk_mbuf_fresh(m);
	e->mbuf[i] = m;
}

static int book_alloc(struct rl_engine *e, uint32_t frames, struct rl_err *err)
{
	uint32_t comp = 1;

	while (comp < frames)
		comp <<= 1;
	e->comp_mask = comp - 1;
	e->mbuf = calloc(frames, sizeof(*e->mbuf));
	e->fill = calloc(frames, sizeof(*e->fill));
	e->comp = calloc(comp, sizeof(*e->comp));
	e->sent = calloc(frames, sizeof(*e->sent));
	e->tx_addr = calloc(frames, sizeof(*e->tx_addr));
	if (!e->mbuf || !e->fill || !e->comp || !e->sent || !e->tx_addr)
		return rl_err_set(err, ENOMEM, "no memory to track %u frames - use fewer", frames);
	return 0;
}

static int extmem_register(struct rl_engine *e, struct rl_err *err)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t len = (e->region.size + pg - 1) / pg * pg; /* the mapping is whole pages */

	if (rte_extmem_register(e->region.base, len, NULL, 0, pg) < 0)
		return rl_err_set(err, rte_errno, "DPDK refused the region memory "
				  "(rte_extmem_register: %s) - try a smaller region",
				  rte_strerror(rte_errno));
	e->extmem = true;
	e->extmem_len = len;
	return 0;
}

static int mempool_make(struct rl_engine *e, struct rl_err *err)
{
	static unsigned seq;
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = (uint16_t)e->region.frame_size,
		.mbuf_priv_size = 0,
		.flags = RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF,
	};
	uint32_t frames = e->region.frames;
	char name[RTE_MEMPOOL_NAMESIZE];
	int rc;

	snprintf(name, sizeof(name), "rl_region%u", seq++);
	e->mp = rte_mempool_create_empty(name, frames,
					 sizeof(struct rte_mbuf) +
					 sizeof(struct rte_mbuf_ext_shared_info),
					 0, sizeof(priv), (int)rte_socket_id(), 0);
	if (!e->mp)
		return rl_err_set(err, rte_errno ? rte_errno : ENOMEM,
				  "no mempool of %u mbufs (%s) - use fewer frames or start "
				  "DPDK with more memory (mem=, in the first lab.open)",
				  frames, rte_strerror(rte_errno));
	rc = rte_mempool_set_ops_byname(e->mp, DPDK_POOL_OPS, e);
	if (rc < 0)
		return rl_err_set(err, -rc, "the ringlab mempool driver is not registered (%s) "
				  "- a bug: report it", rte_strerror(-rc));
	rte_pktmbuf_pool_init(e->mp, &priv);
	e->populating = true;
	rc = rte_mempool_populate_default(e->mp);
	e->populating = false;
	if (rc < 0 || (uint32_t)rc != frames)
		return rl_err_set(err, ENOMEM, "the mempool got %d of %u mbufs (%s) - use fewer "
				  "frames or more memory (mem=, in the first lab.open)", rc,
				  frames, rte_strerror(rc < 0 ? -rc : ENOMEM));
	rte_mempool_obj_iter(e->mp, obj_init, e);
	return 0;
}

int dpdk_pool_create(struct rl_engine *e, const struct rl_region_params *p,
		     struct rl_err *err)
{
	int rc;

	if (p->frame_size > 32768)
		return rl_err_set(err, EINVAL, "frame_size=%u is more than an mbuf can hold "
				  "(its buf_len is 16 bits) - use frame_size=32768 or less",
				  p->frame_size);
	rc = rl_region_init(&e->region, p, NULL, err);
	if (rc < 0)
		return rc;
	e->have_region = true;
	e->region.ledger = &e->ledger;
	rc = book_alloc(e, p->frames, err);
	if (!rc)
		rc = extmem_register(e, err);
	if (!rc)
		rc = mempool_make(e, err);
	if (rc < 0)
		dpdk_pool_destroy(e);
	return rc;
}

void dpdk_pool_destroy(struct rl_engine *e)
{
	if (e->mp)
		rte_mempool_free(e->mp);
	e->mp = NULL;
	if (e->extmem)
		rte_extmem_unregister(e->region.base, e->extmem_len);
	e->extmem = false;
	if (e->have_region)
		rl_region_fini(&e->region);
	e->have_region = false;
	free(e->mbuf);
	free(e->fill);
	free(e->comp);
	free(e->sent);
	free(e->tx_addr);
	e->mbuf = NULL;
	e->fill = e->comp = NULL;
	e->sent = NULL;
	e->tx_addr = NULL;
	e->nfill = 0;
}
