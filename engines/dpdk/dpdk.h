/*
 * dpdk.h - the DPDK engine's insides, shared by its .c files:
 *
 *   dpdk.c   the ops table: options, open/close, fill/rx/tx/complete/kick
 *   eal.c    starting the EAL once per process, plugging vdevs, probe
 *   pool.c   the region as a mempool of mbufs whose data buffers are the
 *            region's frames, and the owner of every frame as DPDK moves it
 *   port.c   configuring and starting the port; what each PMD copies
 *   view.c   rings() and stats(): what the PMD shows and what is derived
 *   ext.c    ABI 2: external buffers, GSO, rx of any segment (tx_x, rx_x,
 *            ext_*)
 *   gro.c    rx_x(RL_RX_GRO): received TCP segments merged
 */
#ifndef RINGLAB_DPDK_H
#define RINGLAB_DPDK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include <ringlab/engine.h>

#include "dpdk_ext.h"

struct rte_mempool;
struct rte_ring;

#define DPDK_BURST 64         /* packets per rx_burst/tx_burst call */
#define DPDK_STAGE 256        /* packets held in the rx and tx staging queues */
#define DPDK_MAX_SEGS 128     /* segments of one packet the engine handles */
#define DPDK_MAX_VDEVS 4
#define DPDK_EXTFREE_LOG 256
#define DPDK_POOL_OPS "ringlab"

struct dpdk_opts {
	char vdev[512];        /* "net_ring0" or several separated by ';' */
	uint32_t port;         /* which port of those vdevs is this engine */
	uint32_t rx_desc, tx_desc;
	uint32_t mem;          /* EAL -m, megabytes */
	char lcores[64];       /* EAL -l */
	char log[32];          /* EAL --log-level */
	bool log_echo;         /* log= given: DPDK's lines to stderr too (eal.c) */
	char layout[16];       /* auto, pinned, objects (pool.c) */
	uint32_t queues;       /* RX and TX queues of the port (queues=N) */
};

#define DPDK_QUEUES_MAX 8

/* A FIFO of packets (mbuf chains), for the rx and tx staging queues. */
struct dpdk_q {
	struct rte_mbuf *pkt[DPDK_STAGE];
	uint32_t head, tail; /* free-running; tail - head packets waiting */
	uint32_t frames;     /* region frames in those packets */
};

/* What a PMD copies, from its name (port.c). */
struct dpdk_pmd_model {
	const char *driver;
	const char *mode;
	bool driver_tx, driver_rx; /* the PMD copies packet bytes */
	bool kernel_tx, kernel_rx; /* the kernel copies them */
	bool rx_burst_alloc;       /* takes a whole burst of mbufs or none */
	uint32_t rx_prefill;       /* 0, or it holds a frame behind every RX
	                            * descriptor and takes at least this many
	                            * when its RX queue is set up */
	uint8_t how;               /* enum rl_how of driver_copied */
	const char *why;
	bool tx_cache;             /* inside tx_burst it only frees (never takes
	                            * from the pool) when every packet's mbufs
	                            * are the pool's own: then its frees may
	                            * gather in the mempool's cache, flushed to
	                            * our driver in one bulk before tx_burst
	                            * returns */
	bool direct_ok;            /* it never attaches to nor clones a plain
	                            * packet it is sent (no offload asked): in
	                            * the pinned layout such a packet's mbuf
	                            * may go marked direct (pool.c) */
};

/* How the region's frames and the mempool's mbufs are laid out (pool.c). */
enum dpdk_layout {
	DPDK_LAYOUT_PINNED = 0, /* mbuf headers apart, frames are pinned data buffers */
	DPDK_LAYOUT_OBJECTS,    /* frames are the mempool objects, header and all */
};

/* The region and its mempool. One per engine, or shared by two engines
 * wired back to back (peer=): two ports over one region, like two NICs
 * writing into the same host memory. Freed with its last engine. */
struct dpdk_pool {
	unsigned refs;
	enum dpdk_layout layout;
	uint32_t hdr;            /* bytes of a frame before its mbuf's buffer:
	                          * 0 pinned, object header + mbuf for objects */
	bool have_region;
	struct rl_region region;
	struct rte_mempool *mp;
	struct rte_mbuf **mbuf;  /* frame -> its mbuf */
	uint8_t *objhdr;         /* objects layout: each frame's mempool object
	                          * header as DPDK wrote it, put back before the
	                          * mempool walks its objects (when it is freed) */
	uint32_t objhdr_len;
	struct rte_mbuf tmpl;    /* objects layout: an mbuf as rte_pktmbuf_init
	                          * leaves it, but for its buffer's address */
	uint64_t *buf_iova;      /* and each frame's buffer IOVA, as it set it */
	bool extmem;             /* region memory registered with DPDK */
	uint64_t extmem_len;
	bool populating;         /* mempool objects being created or torn down:
	                          * not owner moves */
	uint32_t *fill;          /* frames offered for RX, a stack */
	uint32_t nfill;
	uint32_t tx_cache;       /* the mempool's cache size, its caches inert
	                          * but inside a tx_burst of a tx_cache PMD
	                          * (0: no caches) */
	uint32_t *comp;          /* frames freed by the PMD, a FIFO */
	uint64_t tx_freed;       /* sent frames freed while still owned by tx
	                          * (inside tx_burst), by enqueue()'s fast path */
	uint32_t comp_head, comp_tail, comp_mask;
	uint8_t *sent;           /* frame handed to a PMD for TX, not yet freed */
	uint64_t *tx_addr;       /* the descriptor address each frame was sent with */
	uint64_t fill_puts, fill_gets;  /* frames offered / taken by the PMD */
	bool in_tx;                     /* inside rte_eth_tx_burst */
	uint64_t tx_takes;              /* frames the PMD took from the pool while
	                                 * sending: buffers to copy into */
	uint64_t model_errors;
	char model_error[RL_ERR_MSG_MAX];
	struct rte_ring *wire[2];       /* peer=: the two rings between the ports */
	bool mt;                        /* several workers run (workers.c): every
	                                 * mempool get and put under lock */
	rte_spinlock_t lock;
};

struct rl_engine {
	struct dpdk_opts o;

	/* the port */
	uint16_t port;
	char port_name[64];
	char driver[32];
	char vdev_made[DPDK_MAX_VDEVS][64]; /* vdevs this engine plugged */
	unsigned nvdev_made;
	bool multi_seg;      /* RTE_ETH_TX_OFFLOAD_MULTI_SEGS */
	bool configured, started;
	bool no_cleanup;     /* the PMD has no tx_done_cleanup (since start) */
	bool link_gate;      /* net_memif: a send needs the link up (dpdk_link_up) */
	struct dpdk_pmd_model pmd;
	struct rl_engine *peer;  /* wired back to back with (peer=), or NULL */
	struct rte_ring *wire_rx, *wire_tx; /* peer=: the rings of this port */

	/* the region: frames are the data buffers of the mempool's mbufs */
	struct dpdk_pool *p;

	struct dpdk_q rxq, txq;
	/* queues=N: the port's RX/TX queues. sel: the one the program acts
	 * on, or -1: spread (each TX burst to the next queue, RX from every
	 * queue in turn); rxrr/txrr: the next queue when spreading. */
	int sel;
	uint16_t rxrr, txrr;
	struct rl_queue_info qinfo[DPDK_QUEUES_MAX];
	struct rte_mempool *aux;  /* header and indirect mbufs (gso, extbuf) */

	/* counters */
	struct rl_ledger ledger;
	uint64_t tx_pkts, tx_bytes, rx_pkts, rx_bytes, drops, kicks;
	uint64_t tx_burst_pkts;         /* packets the PMD accepted */
	uint64_t tx_burst_short;        /* packets offered to tx_burst and not
	                                 * taken (staged, offered again) */
	uint64_t tx_ring_full;          /* packets a tx() left with the program:
	                                 * the staging queue was full */
	uint64_t rx_same, rx_fresh;     /* frames received at the address they
	                                 * were sent from / from the fill pool */
	uint64_t gro_in, gro_out;       /* packets into / out of GRO */
	uint64_t tx_direct;             /* packets sent with their mbuf marked
	                                 * direct (dpdk.c: tx_plain) */

	/* ext.c */
	uint64_t extfree[DPDK_EXTFREE_LOG]; /* cookies of freed external data */
	uint32_t extfree_head, extfree_tail;
	uint64_t extfree_lost;              /* cookies the log had no room for */
	struct rte_mbuf *held[DPDK_STAGE]; /* non-region mbufs from rx_x() */
	uint32_t nheld;
};

/* eal.c */
uint64_t dpdk_log_mark(void);
const char *dpdk_log_said(uint64_t mark);
int dpdk_eal_start(const struct dpdk_opts *o, struct rl_err *err);
int dpdk_eal_probe(struct rl_err *err);
int dpdk_vdevs_plug(struct rl_engine *e, struct rl_err *err);
void dpdk_vdevs_unplug(struct rl_engine *e);
int dpdk_port_claim(struct rl_engine *e, uint16_t port, const char *name,
		    struct rl_err *err);

/* pool.c */
int dpdk_pool_create(struct rl_engine *e, const struct rl_region_params *p,
		     struct rl_err *err);
void dpdk_pool_destroy(struct rl_engine *e);
void dpdk_frame_fresh(struct rl_engine *e, uint32_t frame);
void dpdk__frame_fresh_objects(struct dpdk_pool *p, uint32_t frame);
int dpdk_pool_new(struct rl_engine *e, struct rl_err *err);
void dpdk_pool_share(struct rl_engine *e, struct rl_engine *with);
void dpdk_pool_put(struct rl_engine *e, struct rl_engine *other);
void dpdk_mark_sent(struct rl_engine *e, struct rte_mbuf *pkt, bool sent);
void dpdk_after_tx(struct rl_engine *e, struct rte_mbuf *pkt);
/* The slow path of dpdk_pool_move: the model was wrong, say how (view.c) */
void dpdk__move_refused(struct dpdk_pool *p, uint32_t frame, enum rl_owner from,
			enum rl_owner to);

/* The hot path of pool.c, inline (it runs for every frame of every burst):
 * which frame an mbuf is, and the owner moves DPDK makes. */
static inline uint32_t dpdk_pool_frame(const struct dpdk_pool *p, const struct rte_mbuf *m)
{
	return rl_region_frame(&p->region,
			       (uint64_t)((uint8_t *)m->buf_addr - p->region.base));
}

static inline uint32_t dpdk_mbuf_frame(const struct rl_engine *e, const struct rte_mbuf *m)
{
	return dpdk_pool_frame(e->p, m);
}

/* The mbuf is one of the region's frames (not an aux or indirect mbuf). */
static inline bool dpdk_is_frame(const struct rl_engine *e, const struct rte_mbuf *m)
{
	return m->pool == e->p->mp;
}

/* A move the model expects to succeed (rl_region_move); a refusal is a
 * bug, counted and kept for view.c. */
static inline void dpdk_pool_move(struct dpdk_pool *p, uint32_t frame, enum rl_owner from,
				  enum rl_owner to)
{
	struct rl_region *r = &p->region;

	if (__builtin_expect(frame < r->frames && r->owner[frame] == from &&
			     r->free_pos[frame] == RL_NOT_FREE &&
			     !(r->nshared && r->refs[frame].sum), 1)) {
		r->count[from]--;
		r->count[to]++;
		r->owner[frame] = (uint8_t)to;
		return;
	}
	dpdk__move_refused(p, frame, from, to);
}

static inline void dpdk_move(struct rl_engine *e, uint32_t frame, enum rl_owner from,
			     enum rl_owner to)
{
	dpdk_pool_move(e->p, frame, from, to);
}

/* The mbuf of a frame is as DPDK's own free leaves it (one reference, one
 * segment, no next, no offload flags or lengths; pinned: only the external
 * flag): it can go to a PMD again as it is, as DPDK's own forwarding
 * examples send what they received. Not in the objects layout, where the
 * program may have written over the header. */
static inline bool dpdk_pool_clean(const struct dpdk_pool *p, const struct rte_mbuf *m)
{
	return p->layout == DPDK_LAYOUT_PINNED && !m->next && m->nb_segs == 1 &&
	       rte_mbuf_refcnt_read(m) == 1 && m->ol_flags == RTE_MBUF_F_EXTERNAL &&
	       m->tx_offload == 0;
}

/* Nearly the same, for a plain one-frame packet about to be sent from the
 * pinned layout (the caller knows the layout): the mbuf may
 * also be as DPDK frees a direct mbuf (no flag at all), after it went out
 * marked direct (the pmd model's direct_ok) - it can go again as it is. */
static inline bool dpdk_mbuf_clean_tx(const struct rte_mbuf *m)
{
	return !m->next && m->nb_segs == 1 && rte_mbuf_refcnt_read(m) == 1 &&
	       (m->ol_flags & ~RTE_MBUF_F_EXTERNAL) == 0 && m->tx_offload == 0;
}

/* The state DPDK expects of the mbuf of a frame about to go to a PMD (what
 * rte_pktmbuf_reset writes, and both reference counts 1). In the objects
 * layout the program may have written over the header while it held the
 * frame: the whole mbuf (and object header) is written anew. */
static inline void dpdk_pool_fresh(struct dpdk_pool *p, uint32_t frame)
{
	struct rte_mbuf *m = p->mbuf[frame];

	if (p->layout == DPDK_LAYOUT_OBJECTS) {
		dpdk__frame_fresh_objects(p, frame);
		return;
	}
	rte_mbuf_refcnt_set(m, 1);
	rte_mbuf_ext_refcnt_set(m->shinfo, 1);
	rte_pktmbuf_reset(m);
	m->ol_flags = RTE_MBUF_F_EXTERNAL; /* pinned again, if it went direct */
}

/* The mempool cache of the pool (tx_cache): inert - size and flush
 * threshold 0, so every put and get goes straight to our driver - except
 * inside the tx_burst of a tx_cache PMD (dpdk.c). */
static inline void dpdk_cache_off(struct rte_mempool_cache *c)
{
	c->size = 0;
	c->flushthresh = 0;
}

static inline void dpdk_cache_on(struct rte_mempool_cache *c, uint32_t size)
{
	c->size = size;
	c->flushthresh = size * 3 / 2; /* as DPDK sets it */
}

/* port.c */
int dpdk_port_configure(struct rl_engine *e, struct rl_err *err);
int dpdk_port_start(struct rl_engine *e, struct rl_err *err);
void dpdk_port_stop(struct rl_engine *e);
void dpdk_pmd_model(struct rl_engine *e);
void dpdk_ledger_tx(struct rl_engine *e, uint64_t bytes);
void dpdk_ledger_rx(struct rl_engine *e, uint64_t bytes);

/* dpdk.c, used by ext.c */
int dpdk_ready(struct rl_engine *e, struct rl_err *err);
int dpdk_link_up(struct rl_engine *e, struct rl_err *err);
int dpdk_chain(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
	       struct rte_mbuf **out, struct rl_err *err);
void dpdk_unchain(struct rl_engine *e, struct rte_mbuf *pkt);
int dpdk_flush(struct rl_engine *e);
int dpdk_poll(struct rl_engine *e);
int dpdk_q_push(struct dpdk_q *q, struct rte_mbuf *pkt, uint32_t frames);
uint32_t dpdk_region_segs(const struct rl_engine *e, const struct rte_mbuf *pkt);
/* Take the empty segments (data_len 0) after its first out of a packet's
 * chain; returns them, linked by next, for the caller to let go of. */
struct rte_mbuf *dpdk_unlink_empty(struct rte_mbuf *pkt);

/* workers.c: one C loop per queue, an lcore each */
int dpdk_workers(struct rl_engine *e, const struct rl_workers_args *a,
		 struct rl_worker_result *out, unsigned n, struct rl_err *err);
/* dpdk.c: n more free frames offered for receive (e:fill) */
int dpdk_offer(struct rl_engine *e, uint32_t n, struct rl_err *err);

/* peer.c */
int dpdk_peer_wire(struct rl_engine *e, struct rl_engine *a, struct rl_err *err);
void dpdk_peer_unwire(struct rl_engine *e);

/* view.c */
int dpdk_rings(struct rl_engine *e, struct rl_ring_view *v, unsigned max);
int dpdk_queues(struct rl_engine *e, int select, int *was, struct rl_queue_info *q,
		unsigned max, struct rl_err *err);
void dpdk_tx_cleanup(struct rl_engine *e);
int dpdk_stats(struct rl_engine *e, struct rl_stats *out);

/* ext.c: the ABI 2 ops */
void dpdk_ext_close(struct rl_engine *e);

/* A frame in several descriptors (RL_CAP_SHARED, ext.c): on a port whose
 * PMD frees what it sends (not net_ring, which hands the mbufs to its
 * receiver), pinned layout. A frame's own mbuf carries its first
 * descriptor; every further one is an aux mbuf attached to the frame's
 * bytes as an external buffer, whose free (the PMD done with it) ends that
 * reference: tx -> comp onto the completion FIFO (e:complete takes it). */
bool dpdk_can_share(const struct rl_engine *e);
int dpdk_shared_mbuf(struct rl_engine *e, const struct rl_desc *d, struct rte_mbuf **out,
		     struct rl_err *err);
/* An aux mbuf of a packet that never reached the PMD: its reference is
 * taken back (tx -> app) and the mbuf freed. false: not such an mbuf. */
bool dpdk_shared_undo(struct rl_engine *e, struct rte_mbuf *m);
int dpdk_tx_x(struct rl_engine *e, const struct rl_xdesc *d, uint32_t n,
	      const struct rl_tx_opts *o, struct rl_err *err);
int dpdk_rx_x(struct rl_engine *e, struct rl_xdesc *out, uint32_t max, uint32_t flags,
	      struct rl_err *err);
void dpdk_rx_release(struct rl_engine *e);
int dpdk_ext_register(struct rl_engine *e, void *va, size_t len, struct rl_err *err);
int dpdk_ext_unregister(struct rl_engine *e, void *va, size_t len, struct rl_err *err);
int dpdk_ext_freed(struct rl_engine *e, uint64_t *cookies, unsigned max);

/* gro.c: merge the TCP segments staged for receive, in place */
void dpdk_gro_merge(struct rl_engine *e);

#endif
