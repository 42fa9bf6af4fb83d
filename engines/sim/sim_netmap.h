/*
 * sim_netmap.h - netmap's ring model as a personality of the simulator
 * (open sim personality=netmap). netmap itself needs its kernel module,
 * which this machine cannot load; this is its model, simulated.
 *
 * A netmap port has one TX ring and one RX ring of num_slots slots. Every
 * slot always holds a buffer (buf_idx, a frame of the pool's region), a
 * length and flags. The program and the kernel share each ring through
 * three indices: the program owns slots head..tail-1, moves head (and cur)
 * forward to hand slots to the kernel, and calls TXSYNC / RXSYNC; the
 * kernel moves tail.
 *
 *   TX  the program fills slots from head, advances head; TXSYNC hands
 *       slots hwcur..head-1 to the NIC and moves tail over the slots the
 *       NIC has finished sending (one slot stays the kernel's, so tail
 *       never catches head).
 *   RX  slots head..tail-1 hold received packets; the program advances
 *       head to give them back; RXSYNC takes them back for receiving and
 *       moves tail over what the NIC received since.
 *
 * Every port opened with the same pool=NAME shares one buffer pool (one
 * region), so a program forwards without a copy by swapping buf_idx
 * between an RX slot and a TX slot (NS_BUF_CHANGED on both).
 *
 * Owners (the region's conservation invariant holds after every call):
 *   TX  slots hwcur..tail-1 (the program's, also the ones it moved head
 *       over but has not synced)            app (held by the ring)
 *       handed to the NIC, not yet sent     tx
 *       sent, tail not yet moved over them  comp (always at least one: the
 *                                           slot at tail)
 *   RX  slots hwcur..tail-1 (received, the program's)        rx
 *       received by the NIC, tail not yet moved over them    nic
 *       empty, waiting for a packet                          fill
 *   buffers of the pool in no slot          app (free in the pool, or held
 *                                           by the program's packets)
 *
 * The shell's bindings (shell/lab/netmap.c) call these directly: the
 * simulator is built into the ringlab program.
 */
#ifndef RINGLAB_SIM_NETMAP_H
#define RINGLAB_SIM_NETMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ringlab/engine.h>

/* netmap's own values (net/netmap.h) */
#define SIM_NS_BUF_CHANGED 0x0001u
#define SIM_NS_MOREFRAG    0x0020u

struct sim_nm_slot {
	uint32_t buf_idx; /* the buffer: a frame of the pool's region */
	uint16_t len;
	uint16_t flags;   /* SIM_NS_BUF_CHANGED | SIM_NS_MOREFRAG */
};

struct sim_nm_ring {
	bool tx;
	uint32_t num_slots;
	/* the program's view, as in struct netmap_ring (0 .. num_slots-1):
	 * head and cur are the program's to write, tail the kernel's */
	uint32_t head, cur, tail;
	/* the kernel's, free-running (slot = index % num_slots):
	 *   hwcur  slots before it were handed to the kernel at the last sync
	 *   nic    TX: next slot the NIC sends; RX: next slot it fills
	 *   done   TX: slots before it have been given back (tail = done-1)
	 *          RX: slots before it were reported to the program (tail) */
	uint32_t hwcur, nic, done;
	struct sim_nm_slot *slot;
};

/* What one sync did. */
struct sim_nm_sync {
	uint32_t taken;     /* TX: slots handed to the NIC; RX: slots given back */
	uint32_t packets;   /* TX: packets sent; RX: packets received */
	uint32_t reported;  /* slots tail moved over */
	uint32_t dropped;   /* RX: packets lost for want of free slots */
	uint32_t lost;      /* TX: packets lost on the wire (loss=, unplugged) */
};

struct sim_nm_info {
	char pool[32];      /* pool=NAME, or "" for a pool of its own */
	uint32_t buffers, buf_size, free, ports;
	uint64_t txsyncs, rxsyncs, swaps, swapped_bytes;
};

/* The ring of a netmap port (tx or rx), or NULL when e is not a sim engine
 * opened with personality=netmap. Check with ops == rl_sim_engine() first. */
struct sim_nm_ring *sim_nm_ring(struct rl_engine *e, bool tx);
void sim_nm_info(struct rl_engine *e, struct sim_nm_info *out);

/* The absolute index of slot i in a ring (i is 0 .. num_slots-1), or
 * refuse: "what: ..." for an index out of the ring. */
int sim_nm_check_index(const struct sim_nm_ring *r, int64_t i, const char *what,
                       struct rl_err *err);
/* May the program set head (cur) to v now? (head in hwcur..tail, cur in
 * head..tail; setting head past cur moves cur along.) */
int sim_nm_set_head(struct sim_nm_ring *r, int64_t v, struct rl_err *err);
int sim_nm_set_cur(struct sim_nm_ring *r, int64_t v, struct rl_err *err);
/* Is slot i the program's now (head..tail-1)? */
bool sim_nm_program_owns(const struct sim_nm_ring *r, uint32_t i);

/* The program writes a TX slot's len or flags (only BUF_CHANGED and
 * MOREFRAG; the slot must be the program's). */
int sim_nm_set_len(struct rl_engine *e, struct sim_nm_ring *r, uint32_t i, int64_t len,
                   struct rl_err *err);
int sim_nm_set_flags(struct rl_engine *e, struct sim_nm_ring *r, uint32_t i,
                     int64_t flags, struct rl_err *err);
/* Copy n bytes into slot i's buffer at off (counted copied, TX); the slot's
 * len becomes off+n. */
int sim_nm_write(struct rl_engine *e, struct sim_nm_ring *r, uint32_t i, uint32_t off,
                 const void *src, size_t n, struct rl_err *err);
/* Slot i's bytes (len of them): a pointer into the pool. */
const uint8_t *sim_nm_data(struct rl_engine *e, const struct sim_nm_ring *r, uint32_t i);
/* Count n bytes the program copied out of a buffer (RX). */
void sim_nm_count_read(struct rl_engine *e, uint32_t n);

/* Exchange the buffers of two slots the program owns, on rings of ports
 * of one pool (NS_BUF_CHANGED on both; len and flags go with the buffer).
 * Nothing is copied: the bytes forwarded are counted referenced. */
int sim_nm_swap(struct rl_engine *a, struct sim_nm_ring *ra, uint32_t ia,
                struct rl_engine *b, struct sim_nm_ring *rb, uint32_t ib,
                struct rl_err *err);

/* One letter per slot into out (num_slots + 1 bytes), the owner of its
 * buffer as show owners writes it: TX  A the program's (free to fill),
 * a the program moved head past it but has not synced, T handed to the
 * NIC, C sent (tail not yet over it); RX  R received (the program's),
 * r given back by head, not yet synced, N in the NIC (not yet synced),
 * F empty, waiting for a packet. */
void sim_nm_map(const struct sim_nm_ring *r, char *out);

/* TXSYNC / RXSYNC (out may be NULL). */
int sim_nm_txsync(struct rl_engine *e, struct sim_nm_sync *out, struct rl_err *err);
int sim_nm_rxsync(struct rl_engine *e, struct sim_nm_sync *out, struct rl_err *err);

#endif
