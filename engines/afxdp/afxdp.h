/*
 * afxdp.h - the AF_XDP engine's insides, shared by its four .c files:
 *
 *   afxdp.c     the ops table, options, open/close, stats
 *   umem.c      the region as a UMEM, and the AF_XDP socket bound to it
 *   xdp_prog.c  our XDP program (xdp_steer.bpf.c): attach, steer, detach
 *   rings.c     fill/rx/tx/complete/kick over the kernel's four rings, and
 *               the owner of every frame as the kernel moves it
 */
#ifndef RINGLAB_AFXDP_H
#define RINGLAB_AFXDP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <ringlab/engine.h>

#include "xdp_steer.h"

/* Newer than some installed headers (Linux 6.6). */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

/* In copy mode the kernel builds one skb per packet: the first descriptor
 * in its linear part, each further one in a page fragment. */
#define AFXDP_MAX_FRAGS 18 /* MAX_SKB_FRAGS (17) + 1 */

enum afxdp_mode { AFXDP_COPY, AFXDP_ZEROCOPY, AFXDP_AUTO };
enum afxdp_xdp_mode { AFXDP_XDP_AUTO, AFXDP_XDP_NATIVE, AFXDP_XDP_SKB };

/* Queues one engine may bind: one AF_XDP socket each. */
#define AFXDP_QUEUES_MAX 8

struct afxdp_opts {
	char ifname[IF_NAMESIZE];
	uint32_t queue;                     /* the first of qids */
	uint32_t qids[AFXDP_QUEUES_MAX];    /* queue=0,1 or queues=2: 0 1 */
	unsigned nq;
	enum afxdp_mode mode;
	enum afxdp_xdp_mode xdp;
	bool sg;
	bool unaligned; /* XDP_UMEM_UNALIGNED_CHUNK_FLAG: descriptors cross frames */
	bool need_wakeup;
	bool steer_all;
	uint16_t ports[64];
	unsigned nports;
	uint32_t fill_size, comp_size, rx_size, tx_size;
	uint32_t tx_budget; /* descriptors per sendto in copy mode; 0: tx_size */
};

/* What we produced into a ring the kernel consumes (fill, tx), in order, so
 * that when the kernel's consumer index passes an entry we know which frame
 * went into the kernel. seen..head are still on the ring as far as we know. */
struct afxdp_shadow {
	struct rl_desc *d;
	uint32_t mask;
	uint32_t seen;  /* entries before this one are owned by nic (or later) */
	uint32_t head;  /* next entry we produce */
};

/* One AF_XDP socket of an engine on several queues, while another is in
 * use: its rings and bookkeeping, parked (see afxdp_use in rings.c). */
struct afxdp_sock {
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	struct afxdp_shadow fillq, txq;
	uint32_t rx_seen, comp_seen;
};

struct rl_engine {
	struct afxdp_opts o;
	int ifindex;

	/* The region is the UMEM: mem is page-aligned mmap'd memory. */
	struct rl_region region;
	bool have_region;
	void *mem;
	size_t mem_len;

	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	struct afxdp_shadow fillq, txq;
	uint32_t rx_seen;   /* RX entries up to here are owned by rx */
	uint32_t comp_seen; /* completion entries up to here are owned by comp */
	/* unaligned=true: frames the in-flight TX descriptor that starts in
	 * frame f touches (0: none in flight). The completion ring gives back
	 * the address only; with unaligned=true a frame is in one descriptor
	 * at a time (no RL_CAP_SHARED). */
	uint16_t *span;
	/* Aligned chunks: frames with a TX descriptor on their way (set at
	 * tx, cleared when the last completes), so a frame owned by nic is
	 * told apart from a receive buffer: only a sent one may be sent again
	 * (a chunk in several TX descriptors, RL_CAP_SHARED). */
	uint8_t *txside;

	/* Our XDP program and its maps. prog_obj is the loaded program;
	 * xdp_link the BPF link attaching it to ifindex (-1: not attached): the
	 * kernel detaches it when the last descriptor on the link closes, so a
	 * ringlab that dies of anything (SIGKILL, a second signal, a crash)
	 * leaves no program behind. */
	struct bpf_object *prog_obj;
	int xdp_link;
	enum xdp_attach_mode prog_mode;
	int xsks_fd, cfg_fd, ports_fd, counts_fd;
	char xdp_why[128];

	bool zerocopy;
	char mode_why[128];

	struct rl_ledger ledger;
	uint64_t tx_pkts, tx_bytes, rx_pkts, rx_bytes, kicks;
	uint64_t tx_ring_full;   /* packets a tx() left with the program: no room */
	uint64_t owner_mismatch; /* kernel handed back a frame we did not expect */

	uint64_t link_ok_until; /* CLOCK_MONOTONIC ns: the link was there */
	int link_fd;            /* a datagram socket kept for SIOCGIFINDEX */

	/* Copy mode: how many descriptors one sendto may send (the kernel's
	 * XDP_MAX_TX_SKB_BUDGET, Linux >= 6.17; 32 before). */
	uint32_t tx_budget;

	/* queues=N: one socket per queue, all on the one UMEM (XDP_SHARED_UMEM),
	 * each with its own fill and completion rings. The fields above
	 * (xsk .. comp_seen) are the socket of queue index `cur`; the others
	 * wait in socks[] (socks[cur] is stale while cur is in use). */
	struct afxdp_sock socks[AFXDP_QUEUES_MAX];
	unsigned nsocks;   /* sockets bound (0 before the region) */
	unsigned cur;      /* index (into o.qids) of the socket in the fields */
	int sel;           /* the index fill/rx/tx/... act on, or -1: spread */
	unsigned rr;       /* spread rx: the queue index to read first */
	struct rl_queue_info qinfo[AFXDP_QUEUES_MAX]; /* counts per queue */

	struct rl_engine *next_open; /* the list the exit-time cleanup walks */
	bool closing;
};

/* afxdp.c */
bool afxdp_link_gone(struct rl_engine *e, struct rl_err *err);

/* umem.c */
void afxdp_set_tx_budget(struct rl_engine *e);
int afxdp_region(struct rl_engine *e, const struct rl_region_params *p,
		 struct rl_region **out, struct rl_err *err);
void afxdp_socket_close(struct rl_engine *e);

/* xdp_prog.c */
int afxdp_prog_attach(struct rl_engine *e, struct rl_err *err);
int afxdp_prog_bind(struct rl_engine *e, struct rl_err *err);
void afxdp_prog_detach(struct rl_engine *e);
int afxdp_prog_path(bool frags, char *out, size_t cap, struct rl_err *err);
int afxdp_prog_clear_stale(struct rl_engine *e, struct rl_err *err);
unsigned afxdp_prog_counts(struct rl_engine *e, struct rl_counter *c, unsigned max);
void afxdp_quiet_libs(void);
const char *afxdp_lib_msg(void);

/* rings.c */
void afxdp_use(struct rl_engine *e, unsigned k);
struct xsk_socket *afxdp_xsk_of(struct rl_engine *e, unsigned k);
int afxdp_queues(struct rl_engine *e, int select, int *was, struct rl_queue_info *q,
		 unsigned max, struct rl_err *err);
void afxdp_sync(struct rl_engine *e);
int afxdp_fill(struct rl_engine *e, uint32_t n, struct rl_err *err);
int afxdp_rx(struct rl_engine *e, struct rl_desc *out, uint32_t max,
	     struct rl_err *err);
int afxdp_tx(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
	     struct rl_err *err);
int afxdp_complete(struct rl_engine *e, uint64_t *addrs, uint32_t max,
		   struct rl_err *err);
int afxdp_kick(struct rl_engine *e, struct rl_err *err);
int afxdp_rings(struct rl_engine *e, struct rl_ring_view *v, unsigned max);

#endif
