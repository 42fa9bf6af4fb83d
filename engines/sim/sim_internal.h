/*
 * sim_internal.h - the simulator's state, shared by its four files:
 *
 *   sim.c       the ops table: open/close, and the program's side of the
 *               rings (fill, tx, complete, rx, kick, step, views)
 *   sim_opts.c  the key=value options
 *   sim_nic.c   the NIC's side: the three hardware actions (complete one
 *               frame, receive one packet, transmit one packet)
 *   sim_wire.c  the cable: a FIFO of packets, one byte copy each
 *
 * Nothing outside engines/sim/ includes this file.
 */
#ifndef RINGLAB_SIM_INTERNAL_H
#define RINGLAB_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <ringlab/engine.h>

/* The largest packet the simulated wire carries, in bytes (the IPv4
 * maximum, rounded up): also the size of the kernel stand-in's buffer. */
#define SIM_MAX_PKT 65536u

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
	/* reorder=: the packet held back on the wire (it arrives after the
	 * next one, or when the receiver finds the wire otherwise empty). */
	uint8_t *held;
	uint32_t held_len;
	bool has_held;
	struct rl_ledger ledger;
	struct sim_counters c;
};

/* The NIC's three actions. Each does one whole action and returns true, or
 * returns false when it cannot act now. st, when not NULL, is told what
 * happened in words (step mode); the fast path passes NULL. */
bool sim_nic_complete(struct rl_engine *s, struct rl_step *st);
bool sim_nic_rx(struct rl_engine *s, struct rl_step *st);
bool sim_nic_tx(struct rl_engine *s, struct rl_step *st);
/* reorder=: put the packet sender held back onto its peer's wire. */
void sim_nic_flush_held(struct rl_engine *sender);

#endif
