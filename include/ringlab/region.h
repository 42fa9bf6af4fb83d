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
 *
 * A frame in several descriptors. AF_XDP and DPDK let one frame sit in
 * several TX descriptors at once (sg and born segments share the frame where
 * one segment's payload ends and the next begins). rl_region_ref() adds a
 * transmit reference: to a held app frame (its first: app -> tx, as a move)
 * or to a frame whose descriptors are already on their way (tx, nic or comp).
 * A frame with one reference needs no count: its owner says where that
 * descriptor is. A frame with two or more is *shared*: refs[] counts its
 * descriptors by where each is (on the tx ring, inside the NIC, on the
 * completion ring), and its one owner is where its least advanced
 * descriptor is - tx while any is on the tx ring, else nic while any is in
 * the NIC, else comp. rl_region_move() moves one reference of a shared frame
 * (tx -> nic, nic -> comp, tx -> comp, and comp -> app or tx -> app, which
 * end one); when one reference is left the count goes and the owner is
 * where that one is, and the frame returns to app only with its last. So a
 * shared frame is counted once, under one owner, and conservation holds;
 * it is never free, so rl_region_take()/alloc() never hand it out and no
 * fill ring gets it while a descriptor points at it.
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

/* The descriptors of a shared frame by where they are; all 0 for a frame
 * with fewer than two references. sum = tx + nic + comp. */
struct rl_frame_refs {
	uint16_t tx, nic, comp, sum;
};

#define RL_REFS_MAX UINT16_MAX /* references one frame may have */

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
	struct rl_frame_refs *refs; /* per frame; nonzero only when shared */
	uint32_t nshared;       /* frames with two or more references */
	uint64_t shared_refs;   /* their references, summed */

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

/* Descriptors that point into a frame on the transmit side: a shared
 * frame's count, 1 for any other frame owned by tx, nic or comp (a receive
 * buffer inside the NIC counts 1 too), 0 for app, fill and rx. */
static inline uint32_t rl_region_refs(const struct rl_region *r, uint32_t frame)
{
	uint8_t o = r->owner[frame];

	if (r->refs[frame].sum)
		return r->refs[frame].sum;
	return o == RL_OWN_TX || o == RL_OWN_NIC || o == RL_OWN_COMP;
}

/* The slow paths of the inline functions below: a move of a shared frame
 * (rl_region__move_slow does it), or a refusal explained in err (the
 * negative errno returned). */
int rl_region__move_slow(struct rl_region *r, uint32_t frame, enum rl_owner from,
			 enum rl_owner to, struct rl_err *err);
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
 * owned by `from`, or is free in the pool. A shared frame moves one of its
 * references instead (see the top): from must be where one of them is.
 * Inline: it runs several times per packet. */
static inline int rl_region_move(struct rl_region *r, uint32_t frame, enum rl_owner from,
				 enum rl_owner to, struct rl_err *err)
{
	if (frame >= r->frames || (unsigned)from >= RL_OWN_COUNT ||
	    (unsigned)to >= RL_OWN_COUNT || r->owner[frame] != from ||
	    r->free_pos[frame] != RL_NOT_FREE || r->refs[frame].sum)
		return rl_region__move_slow(r, frame, from, to, err);
	r->count[from]--;
	r->count[to]++;
	r->owner[frame] = (uint8_t)to;
	return 0;
}

/* One more transmit descriptor points into the frame: a held app frame
 * moves app -> tx (its first reference); a frame already on its way (tx,
 * nic, comp: its descriptors not all completed) gets one more reference,
 * now on the tx ring, and is owned by tx. -EPERM for a free frame or one
 * owned by fill or rx; -EMLINK past RL_REFS_MAX. An engine whose nic frames
 * may be receive buffers checks that the frame was sent first. */
int rl_region_ref(struct rl_region *r, uint32_t frame, struct rl_err *err);

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
 * app frames; and the references: only frames owned by tx, nic or comp have
 * a count, each count is at least two and sums its parts, the owner is
 * where the least advanced reference is, and nshared/shared_refs are the
 * recount. -EFAULT with the first discrepancy when it does not hold. */
int rl_region_check(const struct rl_region *r, struct rl_err *err);

#ifdef __cplusplus
}
#endif
#endif
