/*
 * engine.h - the ringlab engine ABI.
 *
 * An engine (the simulator, AF_XDP, DPDK) is a shared object that exports
 * one symbol, RL_ENGINE_SYMBOL, a function returning a pointer to a static
 * struct rl_engine_ops. The shell checks ops->abi == RL_ENGINE_ABI before
 * using anything else, then calls through the table; an operation an engine
 * lacks is NULL and the shell says "this engine cannot ...". Engines never
 * link Lua: options arrive as key=value strings, results as plain structs.
 *
 * Every engine presents the same model (see region.h, ring.h, ledger.h):
 * one region of frames with an owner each, rings with producer/consumer
 * indices, and a ledger. The calls below move frames between owners:
 *
 *   fill      app -> fill          frames offered for receive
 *   rx        rx -> app            received packets handed to the program
 *   tx        app -> tx            packets queued for transmit
 *   complete  comp -> app          sent frames handed back
 *   kick      let the NIC/kernel work (sendto/poll in AF_XDP)
 *   step      exactly one hardware action (the simulator)
 *
 * A packet is one or more descriptors; every one but the last carries
 * RL_DESC_CONTD. Frames inside the NIC are owned by nic.
 *
 * ABI 2 adds what only some engines can do, at the end of the ops table
 * (NULL where an engine cannot, with the capability bit clear):
 *
 *   tx_x      one packet of extended descriptors (struct rl_xdesc): region
 *             frames and application memory outside the region
 *             (RL_DESC_EXT, RL_CAP_EXTBUF), optionally cut into TCP
 *             segments by the engine (gso_mss, RL_CAP_GSO)
 *   rx_x      one received packet, any kind of segment, optionally merged
 *             with the TCP segments that follow it (RL_RX_GRO, RL_CAP_GRO)
 *   ext_*     application memory: register it, and learn when the engine
 *             has let go of what tx_x sent from it
 *
 * ABI 3 adds caps_of: what one open engine can do, which may be less than
 * ops->caps (a DPDK port without multi-segment TX has no sg, extbuf or
 * gso; an AF_XDP socket bound without XDP_USE_SG has no sg), and why.
 *
 * ABI 4: struct rl_ledger (in struct rl_stats and behind ops->ledger)
 * carries the receive part of every counter, rx[]; engines count with
 * rl_ledger_count(), naming the direction.
 *
 * Offloads (ABI 4, in rl_tx_opts.flags, which were 0 before): RL_TX_TSO
 * asks the NIC itself to cut the packet at gso_mss (RL_CAP_TSO),
 * RL_TX_CSUM asks it to fill the IPv4 and TCP/UDP checksums (RL_CAP_CSUM).
 * The lab sets a flag only for an engine whose caps_of() has the cap, so an
 * engine that knows none of them never sees one.
 *
 * ABI 5 adds queues: an engine opened on several queues of an interface
 * (AF_XDP: one socket per queue over one shared UMEM; DPDK: several RX/TX
 * queues of a port) says which queues it has and lets the program choose
 * the one fill/rx/tx/complete/kick act on, or spread them over all.
 *
 * ABI 6 adds workers: a C loop per queue, each on its own core (DPDK: an
 * lcore each), for a while; the caller's thread waits inside the call.
 */
#ifndef RINGLAB_ENGINE_H
#define RINGLAB_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ledger.h"
#include "region.h"
#include "ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RL_ENGINE_ABI 6
#define RL_ENGINE_SYMBOL "ringlab_engine"

struct rl_engine; /* opaque, one per lab.open() */

/* Capabilities, declared not guessed. */
#define RL_CAP_STEP     (1u << 0) /* step() performs single hardware actions */
#define RL_CAP_ZEROCOPY (1u << 1) /* can bind in zero-copy mode */
#define RL_CAP_SG       (1u << 2) /* multi-descriptor packets (RL_DESC_CONTD) */
#define RL_CAP_TSO      (1u << 3) /* segmentation offload */
#define RL_CAP_PEER     (1u << 4) /* two engines wired back to back */
#define RL_CAP_WIRE     (1u << 5) /* a real interface: needs root/testbed */
#define RL_CAP_EXTBUF   (1u << 6) /* tx_x sends app memory (RL_DESC_EXT) */
#define RL_CAP_GSO      (1u << 7) /* tx_x cuts one TCP packet (gso_mss) */
#define RL_CAP_GRO      (1u << 8) /* rx_x merges TCP segments (RL_RX_GRO) */
#define RL_CAP_CSUM     (1u << 9) /* tx_x: the NIC fills checksums (RL_TX_CSUM) */
/* One descriptor may start anywhere and cross frame boundaries (AF_XDP's
 * XDP_UMEM_UNALIGNED_CHUNK_FLAG). Owners stay per frame: a descriptor moves
 * every frame it touches, and tx() refuses it unless all are held. */
#define RL_CAP_UNALIGNED (1u << 10)
/* One frame may be in several TX descriptors at once (rl_region_ref): a
 * frame already on its way may be sent again, and it is the program's again
 * when the last descriptor completes. Without it tx() refuses a frame that
 * is not held, and lab.segment's sg/born segments that share a frame wait
 * for the previous one's completion. */
#define RL_CAP_SHARED (1u << 11)

/*
 * An extended descriptor (ABI 2): a region address, or memory outside the
 * region.
 *
 * TX  without RL_DESC_EXT: addr and len as in struct rl_desc (a held frame);
 *     with RL_DESC_EXT: va..va+len is application memory registered with
 *     ext_register(), sent without a copy; cookie comes back from
 *     ext_freed() once the engine no longer reads that memory.
 * RX  without RL_DESC_EXT: a frame, now held by the program (addr, and va
 *     its bytes); with RL_DESC_EXT: bytes that are not a frame handed to the
 *     program - another port's memory, the engine's own buffer
 *     (RL_DESC_COPIED: bytes the engine copied there, e.g. GSO headers) or a
 *     reference into a frame that stays with the NIC (addr valid, else
 *     RL_ADDR_NONE) - valid until rx_release().
 */
/* RL_DESC_EXT is in ring.h: the segmenter (segment.h) marks descriptors with it */
#define RL_DESC_COPIED (1u << 2)
#define RL_ADDR_NONE   UINT64_MAX

struct rl_xdesc {
	uint64_t addr;     /* region address, or RL_ADDR_NONE */
	const void *va;    /* where the bytes are (RX always; TX with EXT) */
	uint32_t len;
	uint32_t options;  /* RL_DESC_CONTD | RL_DESC_EXT | RL_DESC_COPIED */
	uint64_t cookie;   /* TX with EXT: handed back by ext_freed() */
};

struct rl_tx_opts {
	uint16_t gso_mss;  /* 0, or cut the TCP/IPv4 packet into segments of at
	                    * most this many payload bytes: in software
	                    * (RL_CAP_GSO), or in the NIC with RL_TX_TSO */
	uint16_t flags;    /* RL_TX_TSO | RL_TX_CSUM, or 0 */
	uint32_t reserved; /* 0 */
};

#define RL_TX_TSO  0x1u /* the NIC cuts at gso_mss, writing every segment's
                         * headers and checksums itself (RL_CAP_TSO) */
#define RL_TX_CSUM 0x2u /* the NIC fills the IPv4 header checksum and the
                         * TCP/UDP checksum (RL_CAP_CSUM) */

#define RL_RX_GRO 0x1u /* rx_x: merge the TCP segments waiting (RL_CAP_GRO) */

struct rl_kv {
	const char *key;
	const char *val; /* booleans "true"/"false", numbers in decimal, lists
	                  * comma-separated */
};

struct rl_open_args {
	const struct rl_kv *kv;
	unsigned nkv;
	/* Another engine to wire back to back with (lab.open("sim", {peer=a})),
	 * with its ops so an engine can check the peer is of its own kind. */
	struct rl_engine *peer;
	const struct rl_engine_ops *peer_ops;
};

/* What e:rings() shows for one ring (an engine on several queues shows
 * each queue's rings, named with the queue's number: fill0, rx0, ...). */
#define RL_RING_VIEWS_MAX 40
struct rl_ring_view {
	char name[16];      /* "fill", "comp", "rx", "tx", or a PMD queue */
	uint32_t size;
	uint32_t prod;
	uint32_t cons;
	uint32_t pending;   /* prod - cons */
	bool need_wakeup;
	char note[96];      /* "" or what this view cannot see */
};

/* A named counter that only some engines have (kernel XDP_STATISTICS,
 * DPDK xstats, simulator wire counters). */
#define RL_STATS_EXTRA_MAX 24
struct rl_counter {
	char name[40];
	uint64_t value;
};

struct rl_stats {
	uint64_t tx_pkts, tx_bytes;
	uint64_t rx_pkts, rx_bytes;
	uint64_t drops;        /* packets lost for any reason, sum of reasons */
	uint64_t kicks;        /* wakeups the program had to make */
	struct rl_ledger ledger;
	char mode[16];         /* "copy", "zerocopy", ... */
	char mode_why[256];    /* why this mode (asked for, or what auto found) */
	unsigned nextra;
	struct rl_counter extra[RL_STATS_EXTRA_MAX];
};

/* Add one engine counter to s->extra (nothing when it is full; names are
 * cut to fit). */
static inline void rl_stats_extra(struct rl_stats *s, const char *name, uint64_t value)
{
	struct rl_counter *c;
	size_t n = 0;

	if (s->nextra >= RL_STATS_EXTRA_MAX)
		return;
	c = &s->extra[s->nextra++];
	while (name[n] && n < sizeof(c->name) - 1) {
		c->name[n] = name[n];
		n++;
	}
	c->name[n] = '\0';
	c->value = value;
}

/* One queue of a multi-queue engine (ABI 5, the queues op). */
#define RL_QUEUES_MAX 16
#define RL_QUEUE_ALL  (-1) /* select: spread over every queue */
#define RL_QUEUE_KEEP (-2) /* select: change nothing, only ask */
struct rl_queue_info {
	uint32_t id;           /* its number on the interface or port */
	uint64_t rx_pkts, rx_bytes;
	uint64_t tx_pkts, tx_bytes;
};

/* ABI 6, the workers op. */
enum rl_worker_loop {
	RL_WORKER_RXDROP = 0, /* receive and let go */
	RL_WORKER_TXONLY,     /* send 64-byte UDP frames from the pool */
	RL_WORKER_FWD,        /* receive and send back out of the same queue */
};
struct rl_workers_args {
	enum rl_worker_loop loop;
	uint32_t queue[RL_QUEUES_MAX]; /* worker i runs on queue[i] */
	double seconds;                /* how long (0: until packets) */
	uint64_t packets;              /* per worker, 0: no limit */
	const volatile int *stop;      /* nonzero: stop now (Ctrl-C), or NULL */
};
struct rl_worker_result {
	uint32_t queue, lcore;         /* the queue, the core it ran on */
	uint64_t packets, bytes;
	double seconds;                /* how long it ran */
	double cpu_seconds;            /* CPU time its thread got meanwhile */
};

/* What one step() did. */
enum rl_step_kind {
	RL_STEP_IDLE = 0,   /* nothing to do */
	RL_STEP_TX,         /* tx ring -> wire */
	RL_STEP_COMPLETE,   /* sent frame -> completion ring */
	RL_STEP_RX,         /* wire -> fill entry -> rx ring */
	RL_STEP_DROP,       /* wire -> dropped (fill ring empty) */
};

struct rl_step {
	enum rl_step_kind kind;
	char from[16];      /* ring the descriptor left, "" if none */
	char to[16];        /* ring it went to, or "wire", "dropped" */
	uint64_t addr;      /* frame address moved (first fragment) */
	uint32_t frame;
	uint32_t len;
	uint32_t frags;
	char what[200];     /* one line: what moved and why it matters */
};

struct rl_engine_ops {
	uint32_t abi;            /* RL_ENGINE_ABI */
	const char *name;        /* "sim", "afxdp", "dpdk" */
	const char *summary;     /* one line for `engines` */
	const char *options;     /* one line per option: "key=value  meaning" */
	uint32_t caps;           /* RL_CAP_* */

	/* Can this engine open here at all? 0, or -errno and why not (no root,
	 * library missing). May be NULL: always available. */
	int (*probe)(struct rl_err *err);

	int (*open)(struct rl_engine **out, const struct rl_open_args *args,
		    struct rl_err *err);
	/* Release everything: sockets, XDP programs, memory. Never fails. */
	void (*close)(struct rl_engine *e);

	/* Create the engine's one region. The engine owns it and its memory;
	 * the returned pointer lives until close. */
	int (*region)(struct rl_engine *e, const struct rl_region_params *p,
		      struct rl_region **out, struct rl_err *err);

	/* Offer n free frames for receive. All or nothing: -ENOSPC when the fill
	 * ring lacks room, -ENOBUFS when the pool lacks frames; returns n. */
	int (*fill)(struct rl_engine *e, uint32_t n, struct rl_err *err);

	/* Receive up to max descriptors (whole packets only; a packet's
	 * fragments are never split across calls). Frames become app-owned,
	 * held. Returns the number of descriptors. */
	int (*rx)(struct rl_engine *e, struct rl_desc *out, uint32_t max,
		  struct rl_err *err);

	/* Queue n descriptors (whole packets) of held app frames. Queues as many
	 * whole packets as fit and returns the number of descriptors queued;
	 * -ENOSPC if not even the first packet fits. */
	int (*tx)(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
		  struct rl_err *err);

	/* Take up to max entries off the completion ring; each frame returns to
	 * app (to the pool, or to its buffer when pinned). addrs may be NULL. */
	int (*complete)(struct rl_engine *e, uint64_t *addrs, uint32_t max,
			struct rl_err *err);

	/* Wake the kernel/NIC to process TX (and RX). */
	int (*kick)(struct rl_engine *e, struct rl_err *err);

	/* One hardware action; may be NULL (not RL_CAP_STEP). */
	int (*step)(struct rl_engine *e, struct rl_step *out, struct rl_err *err);

	/* Fill up to max views; returns how many. */
	int (*rings)(struct rl_engine *e, struct rl_ring_view *v, unsigned max);

	int (*stats)(struct rl_engine *e, struct rl_stats *out);

	/* The engine's ledger, which the lab adds its own copies to. */
	struct rl_ledger *(*ledger)(struct rl_engine *e);

	/* The engine's region, or NULL before region(). */
	struct rl_region *(*get_region)(struct rl_engine *e);

	/* ---- ABI 2: may each be NULL ------------------------------------- */

	/* Queue one packet of n extended descriptors (the last without
	 * RL_DESC_CONTD); o may be NULL. Region frames move app -> tx as with
	 * tx(). Returns the packets it became on the wire (1, or the GSO
	 * segments), -ENOSPC when the engine's queue has no room (nothing
	 * taken), -EOPNOTSUPP for what the engine cannot do. */
	int (*tx_x)(struct rl_engine *e, const struct rl_xdesc *d, uint32_t n,
		    const struct rl_tx_opts *o, struct rl_err *err);

	/* Receive one whole packet (flags: RL_RX_GRO). Returns its descriptors,
	 * 0 when nothing arrived, -ENOSPC when max is too small. */
	int (*rx_x)(struct rl_engine *e, struct rl_xdesc *out, uint32_t max,
		    uint32_t flags, struct rl_err *err);
	/* Let go of every RL_DESC_EXT descriptor rx_x() handed out. */
	void (*rx_release)(struct rl_engine *e);

	/* Application memory va..va+len will be sent from (tx_x, RL_DESC_EXT).
	 * Any va and len: the engine rounds to what its library needs and
	 * counts nested registrations of the same memory; unregister undoes
	 * one register. */
	int (*ext_register)(struct rl_engine *e, void *va, size_t len,
			    struct rl_err *err);
	int (*ext_unregister)(struct rl_engine *e, void *va, size_t len,
			      struct rl_err *err);
	/* Up to max cookies of RL_DESC_EXT descriptors the engine is done with,
	 * oldest first: that memory is the program's again. */
	int (*ext_freed)(struct rl_engine *e, uint64_t *cookies, unsigned max);

	/* ---- ABI 3: may be NULL ------------------------------------------- */

	/* The RL_CAP_* of this open engine: ops->caps less what its port or
	 * socket lacks (RL_CAP_ZEROCOPY: packets move without any copy, as it
	 * is bound now). why (may be NULL) gets one sentence on what it lacks
	 * and what to do, or "". NULL op: ops->caps, always. */
	uint32_t (*caps_of)(struct rl_engine *e, char *why, size_t len);

	/* ---- ABI 5: may be NULL (one queue) ------------------------------ */

	/* The queues this engine works on, and which one fill, rx, tx,
	 * complete and kick act on: select a queue's id, RL_QUEUE_ALL (fill
	 * and tx spread over the queues, rx/complete/kick take every queue in
	 * turn) or RL_QUEUE_KEEP. *was (may be NULL) gets the selection before
	 * (an id or RL_QUEUE_ALL); q[0..max) (may be NULL) each queue's
	 * counts. Returns the number of queues, or -errno when select names a
	 * queue the engine does not have (nothing changed). */
	int (*queues)(struct rl_engine *e, int select, int *was, struct rl_queue_info *q,
		      unsigned max, struct rl_err *err);

	/* ---- ABI 6: may be NULL (no workers) ------------------------------ */

	/* Run one C loop per queue of a[0..n) at once, each on a core of its
	 * own, for seconds (or until packets each, or *stop becomes nonzero),
	 * then join them; out[i] gets worker i's figures. Returns n, or
	 * -errno with one line in err (nothing ran). */
	int (*workers)(struct rl_engine *e, const struct rl_workers_args *a,
		       struct rl_worker_result *out, unsigned n, struct rl_err *err);
};

typedef const struct rl_engine_ops *(*rl_engine_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
