/*
 * sim_internal.h - the simulator's state, shared by its four files:
 *
 *   sim.c       the ops table: open/close, and the program's side of the
 *               rings (fill, tx, complete, rx, kick, step, views)
 *   sim_opts.c  the key=value options
 *   sim_nic.c   the NIC's side: the three hardware actions (complete one
 *               frame, receive one packet, transmit one packet)
 *   sim_wire.c  the cable: a FIFO of packets, one byte copy each
 *   sim_offload.c  offloads: TSO (tso=true), the kernel's GSO, checksums
 *               filled by the NIC (csum=true); tx_x and caps_of
 *   sim_netmap.c   personality=netmap: netmap's rings over a shared pool
 *               (its API for the shell's bindings: sim_netmap.h)
 *
 * Nothing outside engines/sim/ includes this file.
 */
#ifndef RINGLAB_SIM_INTERNAL_H
#define RINGLAB_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <ringlab/engine.h>
#include <ringlab/packet.h>

/* The largest packet the simulated wire carries, in bytes (the IPv4
 * maximum, rounded up): also the size of the kernel stand-in's buffer. */
#define SIM_MAX_PKT 65536u

/* The ops table's caps: what a sim engine can do when its options ask for
 * it (sim_caps_of() says what this one does). */
#define SIM_CAPS                                                                        \
	(RL_CAP_STEP | RL_CAP_ZEROCOPY | RL_CAP_SG | RL_CAP_PEER | RL_CAP_TSO |          \
	 RL_CAP_GSO | RL_CAP_CSUM | RL_CAP_UNALIGNED | RL_CAP_SHARED)

/* The wire keeps room for wire_capacity packets of this many bytes on
 * average (and always for two of the largest). */
#define SIM_WIRE_BYTES_PER_PKT 2048u

/* Packets on the cable towards one engine, oldest first. The bytes live in
 * a preallocated byte ring (a packet may wrap around its end); lens[] holds
 * each packet's length. No allocation per packet. */
struct sim_wire {
	uint8_t *bytes;
	uint64_t cap_bytes;
	uint64_t rd;   /* offset of the oldest packet's first byte */
	uint64_t used; /* bytes held */
	uint32_t *lens;
	uint32_t cap_pkts;
	uint32_t first;   /* slot of the oldest packet in lens[] */
	uint32_t count;   /* packets held */
	uint32_t arrived; /* free-running: packets put on, like a prod index */
	uint32_t left;    /* free-running: packets taken off, like cons */
};

int sim_wire_init(struct sim_wire *w, uint32_t cap_pkts, struct rl_err *err);
void sim_wire_fini(struct sim_wire *w);
bool sim_wire_has_room(const struct sim_wire *w, uint32_t len);
/* Write n bytes at offset off of the packet being put on the wire (after
 * sim_wire_has_room), then sim_wire_commit it with its total length. */
void sim_wire_write(struct sim_wire *w, uint32_t off, const void *src, uint32_t n);
void sim_wire_commit(struct sim_wire *w, uint32_t len);
/* The oldest packet: its length, a piece of its bytes, then drop it. */
static inline bool sim_wire_empty(const struct sim_wire *w)
{
	return w->count == 0;
}
uint32_t sim_wire_front_len(const struct sim_wire *w);
void sim_wire_read(const struct sim_wire *w, uint32_t off, void *dst, uint32_t n);
void sim_wire_pop(struct sim_wire *w);

struct sim_opts {
	bool zerocopy;
	bool autoselect; /* mode=auto was asked for */
	bool need_wakeup;
	bool step;
	uint32_t fill_size, comp_size, rx_size, tx_size;
	uint32_t wire_capacity;
	uint32_t loss;    /* every loss-th packet sent is lost (0: none) */
	uint32_t reorder; /* every reorder-th packet sent arrives late (0: none) */
	bool tso;         /* the NIC cuts TCP packets (tso=true) */
	bool gso;         /* the kernel cuts them in software (gso=, default true) */
	bool csum;        /* the NIC fills checksums (csum=true; tso=true too) */
	bool unaligned;   /* a descriptor may cross frames (unaligned=true) */
	/* personality=netmap (sim_netmap.c): netmap's rings over a pool */
	bool netmap;
	char pool[32];     /* pool=NAME: ports of one name share the buffers */
	uint32_t buffers;  /* buffers= in the pool (0: enough for 4 ports) */
	uint32_t buf_size; /* buf_size= of each buffer (default 2048) */
};

/* Parse args->kv into o (defaults for what is not given); args may be NULL. */
int sim_parse_options(const struct rl_open_args *a, struct sim_opts *o,
                      struct rl_err *err);

struct sim_counters {
	uint64_t tx_pkts, tx_bytes, rx_pkts, rx_bytes, kicks;
	uint64_t rx_dropped, rx_invalid_descs, tx_invalid_descs, tx_invalid_pkts;
	uint64_t rx_ring_full, rx_fill_ring_empty_descs, tx_ring_empty_descs;
	uint64_t wire_pkts, wire_bytes, wire_drops, steps;
	uint64_t wire_lost, wire_reordered; /* loss= and reorder= at work */
	uint64_t tx_ring_full;   /* packets a tx() could not queue: ring full */
	uint64_t comp_ring_full; /* times the NIC stopped: comp ring full */
	uint64_t out_pkts; /* packets headed for the wire (a cut one: each
	                    * segment); loss= and reorder= count these */
	uint64_t tso_pkts, tso_segments, tso_header_bytes; /* the NIC cut */
	uint64_t gso_pkts, gso_segments, gso_header_bytes; /* the kernel cut */
	uint64_t csum_filled; /* packets the NIC filled the checksums of */
};

/* What tx_x asked for one packet on the tx ring, kept beside the slot of
 * its first descriptor (a packet queued with tx() asked nothing). */
enum sim_cut {
	SIM_CUT_NONE = 0, /* send it as it is */
	SIM_CUT_TSO,      /* the NIC cuts it */
	SIM_CUT_GSO,      /* the kernel cut it in software (counted at tx_x) */
};

/* Who completes the checksums of such a packet (or of its segments). */
enum sim_csum {
	SIM_CSUM_AS_IS = 0, /* nobody: they go as the program wrote them */
	SIM_CSUM_NIC,       /* the NIC (csum=true, tso=true): no CPU reads */
	SIM_CSUM_KERNEL,    /* the kernel, in software (GSO without csum
	                     * offload): the payload is read, counted touched */
};

struct sim_txmeta {
	uint8_t cut;      /* enum sim_cut */
	uint8_t csum;     /* enum sim_csum */
	uint16_t mss;
	uint16_t l3;      /* where the IPv4 header starts (14) */
	uint16_t hdr_len; /* Ethernet + IPv4 + TCP/UDP header bytes */
	uint32_t nsegs;   /* packets it becomes on the wire */
};

/* One simulated NIC with its AF_XDP-style socket. */
struct rl_engine {
	struct sim_opts opt;
	struct rl_ring fill, comp, rx, tx;
	/* Frames the NIC has sent but not yet completed (desc.addr only), in
	 * the order they were sent; sized like the tx ring. */
	struct rl_ring sent;
	struct sim_wire inwire; /* packets on the cable towards this engine */
	/* Where TX goes: this engine (loopback), the other engine of a pair,
	 * or NULL once the other engine of a pair has closed. */
	struct rl_engine *peer;
	struct rl_region region;
	bool has_region;
	bool fill_starved; /* the NIC last found the fill ring empty */
	bool comp_blocked; /* the NIC last found the comp ring full */
	uint8_t *bounce;   /* copy mode: the kernel's buffer (an skb) */
	/* tx_x: what each queued packet asked for, by tx ring slot (of its
	 * first descriptor), and where the NIC lays out a packet it cuts or
	 * checksums (allocated by the first tx_x) */
	struct sim_txmeta *txmeta;
	uint8_t *scratch;
	/* reorder=: the packet held back on the wire (it arrives after the
	 * next one, or when the receiver finds the wire otherwise empty). */
	uint8_t *held;
	uint32_t held_len;
	bool has_held;
	struct rl_ledger ledger;
	struct sim_counters c;
	struct sim_nm *nm; /* personality=netmap, else NULL (sim_netmap.c) */
};

/* The frames one descriptor touches: its first, and n of them (1, or more
 * for a descriptor that crosses frames: unaligned=true). */
static inline void sim_desc_frames(const struct rl_engine *s, uint64_t addr,
                                   uint32_t len, uint32_t *first, uint32_t *n)
{
	if (!s->opt.unaligned) { /* the NIC refuses a crossing one: its first */
		*first = rl_region_frame(&s->region, addr);
		*n = 1;
		return;
	}
	rl_region_span_frames(&s->region, addr, len, first, n);
}

/* What one descriptor may say: inside one frame, or (unaligned=true)
 * anywhere inside the region. */
static inline int sim_check_desc(const struct rl_engine *s, uint64_t addr, uint32_t len,
                                 struct rl_err *err)
{
	if (s->opt.unaligned && addr < s->region.size)
		return rl_region_check_span(&s->region, addr, len, err);
	return rl_region_check_desc(&s->region, addr, len, err);
}

/* The NIC's three actions. Each does one whole action and returns true, or
 * returns false when it cannot act now. st, when not NULL, is told what
 * happened in words (step mode); the fast path passes NULL. */
bool sim_nic_complete(struct rl_engine *s, struct rl_step *st);
bool sim_nic_rx(struct rl_engine *s, struct rl_step *st);
bool sim_nic_tx(struct rl_engine *s, struct rl_step *st);
/* reorder=: put the packet sender held back onto its peer's wire. */
void sim_nic_flush_held(struct rl_engine *sender);
/* One packet made of pieces towards the peer's wire (a segment the NIC cut,
 * a packet it checksummed): counted in out_pkts, lost to loss=, held back
 * by reorder=, dropped when the wire is full or unplugged. NULL when it
 * went on the wire (or was held), else why it was lost. */
const char *sim_nic_send(struct rl_engine *s, const struct rl_iov *v, unsigned n,
                         uint32_t total);

/* sim.c: queue the whole packets of d[0..n) on the tx ring, as ops->tx does;
 * m (or NULL: nothing asked) is kept for the first packet's slot. */
int sim_tx_queue(struct rl_engine *s, const struct rl_desc *d, uint32_t n,
                 const struct sim_txmeta *m, struct rl_err *err);

/* sim_offload.c */
uint32_t sim_caps_of(struct rl_engine *s, char *why, size_t len);
int sim_tx_x(struct rl_engine *s, const struct rl_xdesc *d, uint32_t n,
             const struct rl_tx_opts *o, struct rl_err *err);
/* The NIC's transmit of a packet queued with offloads (m): laid out in
 * scratch (the kernel stand-in's copy in copy mode), checksummed, cut.
 * Returns NULL, or why some or all of it was lost; *sent and *lost count
 * the packets that went on the wire and those that did not. */
const char *sim_offload_tx(struct rl_engine *s, uint32_t idx, uint32_t frags,
                           uint32_t total, const struct sim_txmeta *m, uint32_t *sent,
                           uint32_t *lost);
/* The step record's sentence for such a packet. */
void sim_offload_describe(struct rl_step *st, uint32_t idx, uint32_t frags,
                          uint32_t total, const struct sim_txmeta *m, uint32_t sent,
                          uint32_t lost, const char *why);

/* sim_netmap.c: personality=netmap. sim.c hands every op of such an
 * engine (s->nm set) to these. */
int sim_nm_open(struct rl_engine *s, struct rl_err *err);
void sim_nm_close(struct rl_engine *s);
struct rl_region *sim_nm_region(struct rl_engine *s);
int sim_nm_fill(struct rl_engine *s, uint32_t n, struct rl_err *err);
int sim_nm_rx(struct rl_engine *s, struct rl_desc *out, uint32_t max,
              struct rl_err *err);
int sim_nm_tx(struct rl_engine *s, const struct rl_desc *d, uint32_t n,
              struct rl_err *err);
int sim_nm_complete(struct rl_engine *s, struct rl_err *err);
int sim_nm_step(struct rl_engine *s, struct rl_step *st, struct rl_err *err);
int sim_nm_rings(struct rl_engine *s, struct rl_ring_view *v, unsigned max);
void sim_nm_stats(struct rl_engine *s, struct rl_stats *o);
uint32_t sim_nm_caps(struct rl_engine *s, char *why, size_t len);

#endif
