/*
 * ring.h - the single-producer/single-consumer ring of the ringlab model.
 *
 * A ring is `size` descriptor slots, size a power of two, with two
 * free-running 32-bit indices: the producer writes slot prod & mask and then
 * advances prod; the consumer reads slot cons & mask and then advances cons.
 * prod - cons (unsigned, so it wraps correctly past 2^32) is the number of
 * entries waiting. This is exactly how AF_XDP's fill, completion, RX and TX
 * rings work (see libxdp's xsk.h); the simulator uses it for its four rings,
 * and the model's views report the same four numbers for every engine.
 *
 * The simulator is single-threaded, so there are no barriers here; the
 * kernel's version lives in net/xdp/xsk_queue.h.
 *
 * Do not touch the members directly: use the functions below.
 */
#ifndef RINGLAB_RING_H
#define RINGLAB_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One ring entry. Fill and completion rings use only addr; RX and TX use
 * all three fields, laid out like the kernel's struct xdp_desc. */
struct rl_desc {
	uint64_t addr;     /* byte offset into the region */
	uint32_t len;      /* bytes */
	uint32_t options;  /* RL_DESC_CONTD: more fragments of this packet follow */
};

#define RL_DESC_CONTD 0x1u /* same value as the kernel's XDP_PKT_CONTD */
#define RL_DESC_EXT   0x2u /* not a region frame: application memory (engine.h,
                            * struct rl_xdesc; segment.h, strategy extbuf) */

#define RL_RING_NEED_WAKEUP 0x1u /* the consumer sleeps until kicked */

#define RL_RING_MAX (1u << 20)

struct rl_ring {
	uint32_t prod;    /* free-running producer index */
	uint32_t cons;    /* free-running consumer index */
	uint32_t size;    /* slots, a power of two */
	uint32_t mask;    /* size - 1 */
	uint32_t flags;   /* RL_RING_NEED_WAKEUP */
	struct rl_desc *desc;
};

/* Allocate a ring of `size` slots (a power of two, 1..RL_RING_MAX). */
int rl_ring_init(struct rl_ring *r, uint32_t size, struct rl_err *err);
void rl_ring_fini(struct rl_ring *r);

static inline uint32_t rl_ring__pending(const struct rl_ring *r)
{
	return r->prod - r->cons;
}

static inline uint32_t rl_ring__free(const struct rl_ring *r)
{
	return r->size - (r->prod - r->cons);
}

static inline struct rl_desc *rl_ring__desc(const struct rl_ring *r, uint32_t idx)
{
	return &r->desc[idx & r->mask];
}

/* Reserve n slots for the producer: all n or none (returns 0), like
 * xsk_ring_prod__reserve. *idx is the first reserved index. */
static inline uint32_t rl_ring_prod__reserve(const struct rl_ring *r, uint32_t n,
					     uint32_t *idx)
{
	if (rl_ring__free(r) < n)
		return 0;
	*idx = r->prod;
	return n;
}

static inline void rl_ring_prod__submit(struct rl_ring *r, uint32_t n)
{
	r->prod += n;
}

/* Up to n entries the consumer may read; *idx is the first. */
static inline uint32_t rl_ring_cons__peek(const struct rl_ring *r, uint32_t n,
					  uint32_t *idx)
{
	uint32_t avail = rl_ring__pending(r);

	if (n > avail)
		n = avail;
	*idx = r->cons;
	return n;
}

static inline void rl_ring_cons__release(struct rl_ring *r, uint32_t n)
{
	r->cons += n;
}

static inline bool rl_ring__needs_wakeup(const struct rl_ring *r)
{
	return (r->flags & RL_RING_NEED_WAKEUP) != 0;
}

#ifdef __cplusplus
}
#endif
#endif
