/*
 * pool.c - the region as a DPDK mempool, and who owns every frame.
 *
 * DPDK packets live in mbufs taken from a mempool. The region's frames
 * become mbufs in one of two layouts:
 *
 * pinned (every PMD but net_af_xdp)
 *   Normally an mbuf's data buffer sits right behind its 128-byte header
 *   inside the mempool object. Here the data buffers are the region's
 *   frames instead: the mempool holds only the headers, and mbuf i is
 *   permanently attached to frame i ("pinned external buffers", as
 *   rte_pktmbuf_pool_create_extbuf does). A buffer born in the region
 *   (r:alloc) may run across frames, since no mbuf header sits between
 *   them. The region memory is registered with DPDK (rte_extmem_register).
 *
 * objects (net_af_xdp, or layout=objects)
 *   net_af_xdp lays its UMEM over the mempool's object memory: one UMEM
 *   chunk per object, the mbuf header inside the chunk, the packet behind
 *   it. So the frames are the mempool objects themselves: the pool is
 *   populated over the region memory (page aligned, contiguous), with
 *   objects exactly frame_size bytes apart, and each frame begins with the
 *   mempool's object header and the mbuf (hdr = 192 bytes) before its
 *   buffer. Descriptors must start behind those; the engine rewrites the
 *   mbuf (and object header) whenever a frame goes to DPDK, so whatever
 *   the program wrote there while it held the frame does no harm.
 *
 * In both, region address = buffer byte - region base, and frame i =
 * bytes [i * frame_size, (i + 1) * frame_size).
 *
 * Owners are exact, because the mempool's driver is ours ("ringlab", the
 * ops below): every mbuf a PMD takes for receive passes through dequeue(),
 * every mbuf it frees after transmit passes through enqueue(); the pool
 * has no per-lcore cache that could hide them (the one exception: inside
 * the tx_burst of a PMD that only frees there - net_null, and net_af_xdp
 * when every packet is the pool's own - a cache gathers its frees and is
 * flushed to enqueue() before tx_burst returns). The pool itself holds
 * only the frames the program offered for receive (e:fill): the app's
 * free frames stay in the region's own pool, where lab code takes them.
 *
 *   e:fill          app  -> fill   pushed onto our stack
 *   PMD allocates   fill -> nic    dequeue(): now behind an RX descriptor
 *   rx_burst        nic  -> rx     (dpdk.c)
 *   e:tx            app  -> tx -> nic   (dpdk.c, after rte_eth_tx_burst)
 *   PMD frees       nic  -> comp   enqueue() of a frame that was sent
 *                   nic  -> fill   enqueue() of an RX buffer it gave back
 *   e:complete      comp -> app
 *
 * A PMD that takes a frame from the pool *while sending* (inside
 * rte_eth_tx_burst) wants a buffer to copy the packet into: tx_takes
 * counts those, the evidence for net_af_xdp's "no copy" (port.c).
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
#include <rte_ring.h>

#include "dpdk.h"

/* ---- owner moves -------------------------------------------------------- */

/* The hot path is inline in dpdk.h (dpdk_pool_move); a refusal is a bug in
 * the model: ask rl_region_move why, and keep it for view.c. */
void dpdk__move_refused(struct dpdk_pool *p, uint32_t frame, enum rl_owner from,
			enum rl_owner to)
{
	struct rl_err err;

	if (rl_region_move(&p->region, frame, from, to, &err) < 0) {
		p->model_errors++;
		snprintf(p->model_error, sizeof(p->model_error), "%s", err.msg);
	}
}

/* The mbuf of a frame of the objects layout, which the program may have
 * written over, as rte_pktmbuf_init made it: the template and the frame's
 * own buffer address and IOVA (a copy of 128 bytes, not a call that clears
 * and sets it field by field: it runs for every packet sent). The object
 * header in front stays as the program left it: DPDK reads it only to walk
 * the objects (debug builds check cookies there too; Debian's does not) -
 * objhdrs_restore puts it back before that. */
void dpdk__frame_fresh_objects(struct dpdk_pool *p, uint32_t f)
{
	struct rte_mbuf *m = p->mbuf[f];

	*m = p->tmpl;
	m->buf_addr = (uint8_t *)m + sizeof(*m) + p->tmpl.priv_size;
	rte_mbuf_iova_set(m, p->buf_iova[f]);
}

void dpdk_frame_fresh(struct rl_engine *e, uint32_t f)
{
	dpdk_pool_fresh(e->p, f);
}

void dpdk_mark_sent(struct rl_engine *e, struct rte_mbuf *pkt, bool sent)
{
	for (struct rte_mbuf *m = pkt; m; m = m->next)
		if (dpdk_is_frame(e, m))
			e->p->sent[dpdk_mbuf_frame(e, m)] = sent;
}

/* After tx_burst took pkt: its frames not already freed are inside the NIC. */
void dpdk_after_tx(struct rl_engine *e, struct rte_mbuf *pkt)
{
	for (struct rte_mbuf *m = pkt; m; m = m->next) {
		uint32_t f;

		if (!dpdk_is_frame(e, m))
			continue;
		f = dpdk_mbuf_frame(e, m);
		/* a shared frame is tx while an aux mbuf's descriptor is: its
		 * own mbuf's goes into the NIC unless it already did */
		if (e->p->sent[f] && rl_region_owner(&e->p->region, f) == RL_OWN_TX &&
		    (!e->p->region.refs[f].sum || !e->p->region.refs[f].nic))
			dpdk_move(e, f, RL_OWN_TX, RL_OWN_NIC);
	}
}

/* A PMD (or DPDK's gso/detach code) freed the mbuf of a frame. */
static void frame_back(struct dpdk_pool *p, struct rte_mbuf *m)
{
	uint32_t f = dpdk_pool_frame(p, m);
	enum rl_owner o = rl_region_owner(&p->region, f);

	if (p->sent[f] && (o == RL_OWN_TX || o == RL_OWN_NIC)) {
		/* a shared frame: its own mbuf's descriptor is in the NIC if
		 * any is (aux mbufs' stay tx until freed) */
		const struct rl_frame_refs *x = &p->region.refs[f];

		p->sent[f] = 0;
		dpdk_pool_move(p, f, x->sum ? (x->nic ? RL_OWN_NIC : RL_OWN_TX) : o, RL_OWN_COMP);
		p->comp[p->comp_tail++ & p->comp_mask] = f;
	} else if (o == RL_OWN_NIC) {
		dpdk_pool_fresh(p, f);
		dpdk_pool_move(p, f, RL_OWN_NIC, RL_OWN_FILL);
		p->fill[p->nfill++] = f;
	} else {
		p->model_errors++;
		snprintf(p->model_error, sizeof(p->model_error),
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

/* The common case of pool_enqueue, a sent frame coming back (tx/nic ->
 * comp), in one tight loop with no call in it; the counts once. Returns
 * how many of objs it took; stops at the first other frame. */
static __attribute__((noinline)) unsigned int enqueue_sent(struct dpdk_pool *p,
							   void *const *objs, unsigned int n)
{
	struct rl_region *r = &p->region;
	/* in locals: the byte stores below may alias anything */
	const uint8_t *base = r->base;
	uint8_t *owner = r->owner, *sent = p->sent;
	uint32_t *comp = p->comp;
	uint32_t tail = p->comp_tail, mask = p->comp_mask, shift = r->frame_shift;
	uint32_t from_tx = 0;
	unsigned int i;
	/* no frame in several descriptors (the common case): no count to
	 * look at (only frame_back, outside this loop, changes it) */
	const bool shared = r->nshared != 0;

	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = objs[i];
		uint32_t f = (uint32_t)((uint64_t)((const uint8_t *)m->buf_addr - base) >> shift);
		uint8_t o = owner[f];

		/* a frame owned by tx or nic is never free in the pool (free
		 * frames are app's), so the owner alone proves the move */
		if (__builtin_expect(!sent[f] || (o != RL_OWN_TX && o != RL_OWN_NIC) ||
				     (shared && r->refs[f].sum), 0))
			break; /* shared frames: frame_back */
		from_tx += o == RL_OWN_TX;
		sent[f] = 0;
		owner[f] = RL_OWN_COMP;
		comp[tail++ & mask] = f;
	}
	p->comp_tail = tail;
	p->tx_freed += from_tx;
	r->count[RL_OWN_TX] -= from_tx;
	r->count[RL_OWN_NIC] -= i - from_tx;
	r->count[RL_OWN_COMP] += i;
	return i;
}

/* Frames the PMD frees, in bulk when it frees in bulk (and always in bulk
 * for a PMD that frees inside tx_burst: the tx cache below). Sent frames
 * coming back go through enqueue_sent; anything else through frame_back,
 * which says why. */
static int enqueue(struct dpdk_pool *p, void *const *objs, unsigned int n)
{
	unsigned int i = 0;

	for (;;) {
		i += enqueue_sent(p, objs + i, n - i);
		if (i == n)
			return 0;
		frame_back(p, objs[i++]);
	}
}

static int dequeue(struct dpdk_pool *p, void **objs, unsigned int n);

/* Several workers on several lcores (workers.c): one at a time. */
static int pool_enqueue(struct rte_mempool *mp, void *const *objs, unsigned int n)
{
	struct dpdk_pool *p = mp->pool_data;
	int rc;

	if (p->populating)
		return 0; /* objects being created; they become frames in obj_init */
	if (!p->mt)
		return enqueue(p, objs, n);
	rte_spinlock_lock(&p->lock);
	rc = enqueue(p, objs, n);
	rte_spinlock_unlock(&p->lock);
	return rc;
}

static int pool_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	struct dpdk_pool *p = mp->pool_data;
	int rc;

	if (!p->mt)
		return dequeue(p, objs, n);
	rte_spinlock_lock(&p->lock);
	rc = dequeue(p, objs, n);
	rte_spinlock_unlock(&p->lock);
	return rc;
}

static int dequeue(struct dpdk_pool *p, void **objs, unsigned int n)
{
	struct rl_region *r = &p->region;
	uint8_t *owner = r->owner;
	const uint32_t *fill = p->fill;
	struct rte_mbuf *const *mbuf = p->mbuf;
	uint32_t nfill = p->nfill, moved = 0;

	if (nfill < n)
		return -ENOBUFS; /* all or nothing, as every mempool driver */
	/* fill -> nic frame by frame, the counts once for the burst */
	for (unsigned int i = 0; i < n; i++) {
		uint32_t f = fill[--nfill];

		if (owner[f] == RL_OWN_FILL && r->free_pos[f] == RL_NOT_FREE) {
			owner[f] = RL_OWN_NIC;
			moved++;
		} else {
			dpdk_pool_move(p, f, RL_OWN_FILL, RL_OWN_NIC); /* says why */
		}
		objs[i] = mbuf[f];
	}
	r->count[RL_OWN_FILL] -= moved;
	r->count[RL_OWN_NIC] += moved;
	p->nfill = nfill;
	p->fill_gets += n;
	if (p->in_tx)
		p->tx_takes += n;
	return 0;
}

static unsigned int pool_count(const struct rte_mempool *mp)
{
	const struct dpdk_pool *p = mp->pool_data;

	return p ? p->nfill : 0;
}

const struct rte_mempool_ops dpdk_pool_ops = {
	.name = DPDK_POOL_OPS,
	.alloc = pool_alloc,
	.free = pool_free,
	.enqueue = pool_enqueue,
	.dequeue = pool_dequeue,
	.get_count = pool_count,
};

/* ---- pinned layout: mbuf headers apart, frames are their buffers ---------- */

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
static void obj_init_pinned(struct rte_mempool *mp, void *arg, void *obj, unsigned int i)
{
	struct dpdk_pool *p = arg;
	struct rte_mbuf *m = obj;
	struct rte_mbuf_ext_shared_info *sh = (void *)((char *)m + sizeof(*m));
	void *buf = p->region.base + rl_region_frame_addr(&p->region, i);

	memset(m, 0, mp->elt_size);
	m->buf_addr = buf;
	rte_mbuf_iova_set(m, rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)buf
								: RTE_BAD_IOVA);
	m->buf_len = (uint16_t)p->region.frame_size;
	m->pool = mp;
	m->port = RTE_MBUF_PORT_INVALID;
	m->ol_flags = RTE_MBUF_F_EXTERNAL;
	m->shinfo = sh;
	sh->free_cb = pinned_free;
	sh->fcb_opaque = m;
	p->mbuf[i] = m;
	dpdk_pool_fresh(p, i);
}

static int extmem_register(struct dpdk_pool *p, struct rl_err *err)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t len = (p->region.size + pg - 1) / pg * pg; /* the mapping is whole pages */

	if (rte_extmem_register(p->region.base, len, NULL, 0, pg) < 0)
		return rl_err_set(err, rte_errno, "DPDK refused the region memory "
				  "(rte_extmem_register: %s) - try a smaller region",
				  rte_strerror(rte_errno));
	p->extmem = true;
	p->extmem_len = len;
	return 0;
}

static int mempool_pinned(struct dpdk_pool *p, const char *name, struct rl_err *err)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = (uint16_t)p->region.frame_size,
		.mbuf_priv_size = 0,
		.flags = RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF,
	};
	uint32_t frames = p->region.frames;
	int rc = extmem_register(p, err);

	if (rc < 0)
		return rc;
	p->mp = rte_mempool_create_empty(name, frames,
					 sizeof(struct rte_mbuf) +
					 sizeof(struct rte_mbuf_ext_shared_info),
					 p->tx_cache, sizeof(priv), (int)rte_socket_id(), 0);
	if (!p->mp)
		return rl_err_set(err, rte_errno ? rte_errno : ENOMEM,
				  "no mempool of %u mbufs (%s) - use fewer frames or start "
				  "DPDK with more memory (mem=, in the first lab.open)",
				  frames, rte_strerror(rte_errno));
	rc = rte_mempool_set_ops_byname(p->mp, DPDK_POOL_OPS, p);
	if (rc < 0)
		return rl_err_set(err, -rc, "the ringlab mempool driver is not registered (%s) "
				  "- a bug: report it", rte_strerror(-rc));
	rte_pktmbuf_pool_init(p->mp, &priv);
	p->populating = true;
	rc = rte_mempool_populate_default(p->mp);
	p->populating = false;
	if (rc < 0 || (uint32_t)rc != frames)
		return rl_err_set(err, ENOMEM, "the mempool got %d of %u mbufs (%s) - use fewer "
				  "frames or more memory (mem=, in the first lab.open)", rc,
				  frames, rte_strerror(rc < 0 ? -rc : ENOMEM));
	rte_mempool_obj_iter(p->mp, obj_init_pinned, p);
	/* every lcore's cache inert (size and flush threshold 0: DPDK then
	 * goes straight to our driver) until a tx_burst switches its own on;
	 * mp->cache_size stays, as the pool's private data is found by it */
	for (unsigned i = 0; p->tx_cache && i < RTE_MAX_LCORE; i++)
		dpdk_cache_off(&p->mp->local_cache[i]);
	return 0;
}

/* ---- objects layout: the frames are the mempool objects ------------------- */

static void obj_init_objects(struct rte_mempool *mp, void *arg, void *obj, unsigned int i)
{
	struct dpdk_pool *p = arg;
	struct rte_mbuf *m = obj;
	uint32_t f = rl_region_frame(&p->region, (uint64_t)((uint8_t *)obj - p->region.base));

	(void)i;
	p->mbuf[f] = m;
	memcpy(p->objhdr + (size_t)f * p->objhdr_len, (uint8_t *)m - p->objhdr_len,
	       p->objhdr_len);
	rte_pktmbuf_init(mp, NULL, m, f);
	p->buf_iova[f] = rte_mbuf_iova_get(m);
	p->tmpl = *m; /* any one will do: only the buffer differs */
}

static int mempool_objects(struct dpdk_pool *p, const char *name, struct rl_err *err)
{
	uint32_t frames = p->region.frames, fs = p->region.frame_size;
	struct rte_pktmbuf_pool_private priv = {.mbuf_priv_size = 0};
	uint32_t hdr_size = RTE_ALIGN_CEIL((uint32_t)sizeof(struct rte_mempool_objhdr),
					   RTE_MEMPOOL_ALIGN);
	int rc;

	priv.mbuf_data_room_size = (uint16_t)(fs - hdr_size - sizeof(struct rte_mbuf));
	/* NO_SPREAD: no padding between objects, so they are frame_size apart */
	p->mp = rte_mempool_create_empty(name, frames, sizeof(struct rte_mbuf) +
					 priv.mbuf_data_room_size, p->tx_cache, sizeof(priv),
					 (int)rte_socket_id(), RTE_MEMPOOL_F_NO_SPREAD);
	if (!p->mp)
		return rl_err_set(err, rte_errno ? rte_errno : ENOMEM,
				  "no mempool of %u mbufs (%s) - use fewer frames",
				  frames, rte_strerror(rte_errno));
	if (p->mp->header_size + p->mp->elt_size + p->mp->trailer_size != fs)
		return rl_err_set(err, EINVAL, "mempool objects are %u bytes, not frame_size=%u "
				  "- a bug: report it", p->mp->header_size + p->mp->elt_size +
				  p->mp->trailer_size, fs);
	rc = rte_mempool_set_ops_byname(p->mp, DPDK_POOL_OPS, p);
	if (rc < 0)
		return rl_err_set(err, -rc, "the ringlab mempool driver is not registered (%s) "
				  "- a bug: report it", rte_strerror(-rc));
	rte_pktmbuf_pool_init(p->mp, &priv);
	p->hdr = p->mp->header_size + (uint32_t)sizeof(struct rte_mbuf);
	p->objhdr_len = p->mp->header_size;
	p->objhdr = calloc(frames, p->objhdr_len);
	p->buf_iova = calloc(frames, sizeof(*p->buf_iova));
	if (!p->objhdr || !p->buf_iova)
		return rl_err_set(err, ENOMEM, "no memory to track %u frames - use fewer", frames);
	/* one chunk over the whole region: the UMEM net_af_xdp makes of it is
	 * the region, byte for byte */
	p->populating = true;
	rc = rte_mempool_populate_iova(p->mp, (char *)p->region.base, RTE_BAD_IOVA,
				       p->region.size, NULL, NULL);
	p->populating = false;
	if (rc < 0 || (uint32_t)rc != frames || p->mp->nb_mem_chunks != 1)
		return rl_err_set(err, ENOMEM, "the mempool laid %d of %u objects over the region "
				  "(%s) - a bug: report it", rc, frames,
				  rte_strerror(rc < 0 ? -rc : ENOMEM));
	rte_mempool_obj_iter(p->mp, obj_init_objects, p);
	for (unsigned i = 0; p->tx_cache && i < RTE_MAX_LCORE; i++)
		dpdk_cache_off(&p->mp->local_cache[i]);
	return 0;
}

/* ---- creating and destroying ------------------------------------------------ */

static int book_alloc(struct dpdk_pool *p, uint32_t frames, struct rl_err *err)
{
	uint32_t comp = 1;

	while (comp < frames)
		comp <<= 1;
	p->comp_mask = comp - 1;
	p->mbuf = calloc(frames, sizeof(*p->mbuf));
	p->fill = calloc(frames, sizeof(*p->fill));
	p->comp = calloc(comp, sizeof(*p->comp));
	p->sent = calloc(frames, sizeof(*p->sent));
	p->tx_addr = calloc(frames, sizeof(*p->tx_addr));
	if (!p->mbuf || !p->fill || !p->comp || !p->sent || !p->tx_addr)
		return rl_err_set(err, ENOMEM, "no memory to track %u frames - use fewer", frames);
	return 0;
}

static int params_check(struct rl_engine *e, struct rl_region_params *q, struct rl_err *err)
{
	uint32_t pg = (uint32_t)sysconf(_SC_PAGESIZE), hdr = 64 + sizeof(struct rte_mbuf);

	if (e->p->layout == DPDK_LAYOUT_PINNED) {
		if (q->frame_size > 32768)
			return rl_err_set(err, EINVAL, "frame_size=%u is more than an mbuf can "
					  "hold (its buf_len is 16 bits) - use frame_size=32768 "
					  "or less", q->frame_size);
		return 0;
	}
	if (q->frame_size < 2048 || q->frame_size > pg)
		return rl_err_set(err, EINVAL, "frame_size=%u: with %s each frame is one UMEM "
				  "chunk holding the mbuf too (the objects layout) - use "
				  "frame_size=2048 to %u (4096 carries a 1500-byte MTU)",
				  q->frame_size, e->driver[0] ? e->driver : "layout=objects", pg);
	if (q->headroom < hdr)
		q->headroom = hdr; /* the mbuf header lives there: headers go behind it */
	return 0;
}

int dpdk_pool_create(struct rl_engine *e, const struct rl_region_params *params,
		     struct rl_err *err)
{
	static unsigned seq;
	struct dpdk_pool *p = e->p;
	struct rl_region_params q = *params;
	char name[RTE_MEMPOOL_NAMESIZE];
	int rc = params_check(e, &q, err);

	if (rc < 0)
		return rc;
	rc = rl_region_init(&p->region, &q, NULL, err);
	if (rc < 0)
		return rc;
	p->have_region = true;
	p->region.ledger = &e->ledger;
	snprintf(name, sizeof(name), "rl_region%u", seq++);
	/* A per-lcore mempool cache, switched on only inside the tx_burst of
	 * a PMD that only frees there (dpdk.c: tx_burst) and flushed before it
	 * returns: a burst's frees reach enqueue() as one bulk instead of an
	 * indirect call each. Elsewhere the cache is inert (size 0), so
	 * nothing hides in it. DPDK wants cache_size * 1.5 <= frames. */
	p->tx_cache = q.frames >= DPDK_BURST * 3 / 2 ? DPDK_BURST : 0;
	rc = book_alloc(p, q.frames, err);
	if (!rc)
		rc = p->layout == DPDK_LAYOUT_OBJECTS ? mempool_objects(p, name, err)
						      : mempool_pinned(p, name, err);
	if (rc < 0)
		dpdk_pool_destroy(e);
	return rc;
}

/* Put back every object header the program may have written over, so the
 * mempool can walk its object list while it is freed. */
static void objhdrs_restore(struct dpdk_pool *p)
{
	for (uint32_t f = 0; p->objhdr && f < p->region.frames; f++)
		if (p->mbuf[f])
			memcpy((uint8_t *)p->mbuf[f] - p->objhdr_len,
			       p->objhdr + (size_t)f * p->objhdr_len, p->objhdr_len);
}

void dpdk_pool_destroy(struct rl_engine *e)
{
	struct dpdk_pool *p = e->p;

	p->populating = true;
	objhdrs_restore(p);
	if (p->mp)
		rte_mempool_free(p->mp);
	p->mp = NULL;
	if (p->extmem)
		rte_extmem_unregister(p->region.base, p->extmem_len);
	p->extmem = false;
	if (p->have_region)
		rl_region_fini(&p->region);
	p->have_region = false;
	free(p->mbuf);
	free(p->fill);
	free(p->comp);
	free(p->sent);
	free(p->tx_addr);
	free(p->objhdr);
	free(p->buf_iova);
	p->buf_iova = NULL;
	p->mbuf = NULL;
	p->fill = p->comp = NULL;
	p->sent = p->objhdr = NULL;
	p->tx_addr = NULL;
	p->nfill = 0;
	p->populating = false;
}

/* ---- sharing (peer=) ---------------------------------------------------------- */

int dpdk_pool_new(struct rl_engine *e, struct rl_err *err)
{
	e->p = calloc(1, sizeof(*e->p));
	if (!e->p)
		return rl_err_set(err, ENOMEM, "no memory for a dpdk engine");
	e->p->refs = 1;
	rte_spinlock_init(&e->p->lock);
	return 0;
}

void dpdk_pool_share(struct rl_engine *e, struct rl_engine *with)
{
	e->p = with->p;
	e->p->refs++;
}

/* The engine lets go of its pool; the last one frees it. */
void dpdk_pool_put(struct rl_engine *e, struct rl_engine *other)
{
	struct dpdk_pool *p = e->p;

	if (!p)
		return;
	e->p = NULL;
	if (--p->refs > 0) {
		if (p->have_region && other)
			p->region.ledger = &other->ledger; /* the region lives on */
		return;
	}
	e->p = p;
	dpdk_pool_destroy(e);
	for (int i = 0; i < 2; i++)
		if (p->wire[i])
			rte_ring_free(p->wire[i]);
	e->p = NULL;
	free(p);
}
