/*
 * region.h - registered packet memory and the owner of every frame.
 *
 * A region is `frames` chunks of `frame_size` bytes (AF_XDP's UMEM, a DPDK
 * mempool, plain memory in the simulator). Addresses are byte offsets from
 * the region's base, as in AF_XDP. Every frame has exactly one owner:
 *
 *   app   the program holds it (free in the pool, or held by a packet/buffer)
 *   fill  offered to the NIC for receive (on the fill ring)
 *   nic   inside the kernel/driver/NIC, in flight
 *   rx    received, waiting on the RX ring
 *   tx    queued on the TX ring
 *   comp  sent, waiting on the completion ring
 *
 * Owners change only through rl_region_move(), which refuses a move from the
 * wrong owner, so the per-owner counts always sum to `frames` (the
 * conservation invariant; rl_region_check() recounts and proves it).
 *
 * App-owned frames are either free (in the pool that rl_region_take() pops
 * from) or held. A held frame may also be pinned by a buffer from
 * rl_region_alloc(): when a pinned frame comes back from the NIC it stays
 * held by its buffer instead of returning to the pool.
 */
#ifndef RINGLAB_REGION_H
#define RINGLAB_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ledger.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rl_owner {
	RL_OWN_APP = 0,
	RL_OWN_FILL,
	RL_OWN_NIC,
	RL_OWN_RX,
	RL_OWN_TX,
	RL_OWN_COMP,
	RL_OWN_COUNT,
};

const char *rl_owner_name(enum rl_owner o); /* "app", "fill", ... */

#define RL_REGION_MAX_FRAMES (1u << 20)
#define RL_FRAME_SIZE_MIN 512u
#define RL_FRAME_SIZE_MAX 65536u

struct rl_region_params {
	uint32_t frames;      /* 1 .. RL_REGION_MAX_FRAMES */
	uint32_t frame_size;  /* power of two, RL_FRAME_SIZE_MIN .. MAX */
	uint32_t headroom;    /* bytes kept free at the start of each frame for
	                       * headers; < frame_size - 128 */
};

#define RL_NOT_FREE UINT32_MAX

struct rl_region {
	uint8_t *base;          /* frames * frame_size bytes */
	uint64_t size;
	uint32_t frames;
	uint32_t frame_size;
	uint32_t headroom;
	uint32_t frame_shift;   /* log2(frame_size) */

	uint8_t *owner;         /* enum rl_owner per frame */
	uint16_t *pins;         /* buffers pinning each frame */
	uint32_t count[RL_OWN_COUNT];

	uint32_t *free_stack;   /* frame numbers of free app frames */
	uint32_t *free_pos;     /* index in free_stack, or RL_NOT_FREE */
	uint32_t nfree;

	struct rl_ledger *ledger; /* the owning engine's ledger (may be NULL) */
	bool own_memory;          /* base was allocated by rl_region_init */
	uint32_t low_free;        /* no frame below it is free (alloc's start) */
};

/* Check params; on error say which value is wrong and what would work. */
int rl_region_params_check(const struct rl_region_params *p, struct rl_err *err);

/* Set up a region over `mem` (frames * frame_size bytes, owned by the
 * caller, e.g. an engine's UMEM) or, when mem is NULL, over page-aligned
 * memory allocated here. All frames start owned by app and free. */
int rl_region_init(struct rl_region *r, const struct rl_region_params *p,
		   void *mem, struct rl_err *err);
void rl_region_fini(struct rl_region *r);

static inline uint32_t rl_region_frame(const struct rl_region *r, uint64_t addr)
{
	return (uint32_t)(addr >> r->frame_shift);
}

static inline uint64_t rl_region_frame_addr(const struct rl_region *r, uint32_t frame)
{
	return (uint64_t)frame << r->frame_shift;
}

static inline void *rl_region_ptr(const struct rl_region *r, uint64_t addr)
{
	return r->base + addr;
}

static inline enum rl_owner rl_region_owner(const struct rl_region *r, uint32_t frame)
{
	return (enum rl_owner)r->owner[frame];
}

static inline bool rl_region_is_free(const struct rl_region *r, uint32_t frame)
{
	return r->free_pos[frame] != RL_NOT_FREE;
}

/* addr..addr+len lies inside the region (len may be 0). */
int rl_region_check_span(const struct rl_region *r, uint64_t addr, uint64_t len,
			 struct rl_err *err);

/* addr..addr+len lies inside one frame: what a single descriptor may say. */
int rl_region_check_desc(const struct rl_region *r, uint64_t addr, uint32_t len,
			 struct rl_err *err);

/* The slow paths of the three inline functions below: they only explain
 * a refusal (in err) and return the negative errno. */
int rl_region__move_refused(const struct rl_region *r, uint32_t frame,
			    enum rl_owner from, enum rl_owner to, struct rl_err *err);
int rl_region__take_refused(const struct rl_region *r, struct rl_err *err);
int rl_region__release_refused(const struct rl_region *r, uint32_t frame,
			       struct rl_err *err);

static inline void rl_region__pool_push(struct rl_region *r, uint32_t frame)
{
	if (frame < r->low_free)
		r->low_free = frame;
	r->free_pos[frame] = r->nfree;
	r->free_stack[r->nfree++] = frame;
}

/* Move a frame from one owner to another; refuses (-EPERM, message names
 * the frame, its real owner and the expected one) when the frame is not
 * owned by `from`, or is free in the pool. Inline: it runs several times
 * per packet. */
static inline int rl_region_move(struct rl_region *r, uint32_t frame, enum rl_owner from,
				 enum rl_owner to, struct rl_err *err)
{
	if (frame >= r->frames || (unsigned)from >= RL_OWN_COUNT ||
	    (unsigned)to >= RL_OWN_COUNT || r->owner[frame] != from ||
	    r->free_pos[frame] != RL_NOT_FREE)
		return rl_region__move_refused(r, frame, from, to, err);
	r->count[from]--;
	r->count[to]++;
	r->owner[frame] = (uint8_t)to;
	return 0;
}

/* Pop a free frame: it stays app-owned, now held by the caller. Returns its
 * address in *addr; -ENOBUFS (and *addr = UINT64_MAX, outside any region)
 * when no frame is free. */
static inline int rl_region_take(struct rl_region *r, uint64_t *addr, struct rl_err *err)
{
	uint32_t frame;

	if (r->nfree == 0) {
		*addr = UINT64_MAX;
		return rl_region__take_refused(r, err);
	}
	frame = r->free_stack[--r->nfree];
	r->free_pos[frame] = RL_NOT_FREE;
	*addr = rl_region_frame_addr(r, frame);
	return 0;
}

/* A held app frame goes back: to the pool if nothing pins it, otherwise it
 * stays held by its buffer. -EPERM if not app-owned or already free. */
static inline int rl_region_release(struct rl_region *r, uint32_t frame,
				    struct rl_err *err)
{
	if (frame >= r->frames || r->owner[frame] != RL_OWN_APP ||
	    r->free_pos[frame] != RL_NOT_FREE)
		return rl_region__release_refused(r, frame, err);
	if (r->pins[frame] == 0)
		rl_region__pool_push(r, frame);
	return 0;
}

/* Allocate len bytes that are contiguous in the region: the span starts
 * `headroom` bytes into its first frame (so headers fit in front) and runs
 * on through the following frames. The frames are taken from the pool and
 * pinned. -ENOBUFS when no run of free frames is long enough. */
int rl_region_alloc(struct rl_region *r, uint64_t len, uint64_t *addr,
		    struct rl_err *err);

/* Drop the pins of a span from rl_region_alloc; frames that are app-owned
 * and no longer pinned go back to the pool; frames in flight go back when
 * they complete. */
void rl_region_unpin(struct rl_region *r, uint64_t addr, uint64_t len);

/* Frames of a span from rl_region_alloc: first frame and count. */
void rl_region_span_frames(const struct rl_region *r, uint64_t addr, uint64_t len,
			   uint32_t *first, uint32_t *n);

/* The conservation invariant: counts sum to frames, a recount of the
 * per-frame owners equals the counts, and the pool holds exactly the free
 * app frames. -EFAULT with the first discrepancy when it does not hold. */
int rl_region_check(const struct rl_region *r, struct rl_err *err);

#ifdef __cplusplus
}
#endif
#endif
