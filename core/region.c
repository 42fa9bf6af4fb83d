/*
 * region.c - registered packet memory and the owner of every frame.
 *
 * A region is an array of equal, power-of-two sized frames. Next to the
 * memory we keep one byte per frame saying who owns it (app, fill, nic, rx,
 * tx, comp) and a count per owner, so the conservation invariant (the counts
 * sum to `frames`) holds by construction: the only way to change an owner is
 * rl_region_move(), which decrements one count and increments another, and
 * refuses when the frame is not where the caller thinks it is.
 *
 * App-owned frames are free or held. The free ones form the pool: a stack
 * of frame numbers (free_stack) plus each frame's position in it (free_pos),
 * so taking the top, pushing, and removing any given frame (swap it with the
 * top) are all O(1) - move, take and release run once per packet. Frames
 * from rl_region_alloc() are additionally pinned: a pinned frame that comes
 * back from the NIC stays held by its buffer instead of rejoining the pool.
 *
 * A frame in several transmit descriptors (rl_region_ref) keeps one owner
 * and a count per stage of its descriptors (refs[]): the owner is the stage
 * of the least advanced one, and moves of such a frame take the slow path
 * here (rl_region__move_slow), one reference at a time. A frame with a
 * single reference has no count at all, so the common path - and every
 * engine loop that moves owners itself - stays as it was.
 *
 * rl_region_check() trusts nothing: it recounts owners and walks the pool
 * both ways, checks every count, and reports the first thing that does not
 * add up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ringlab/region.h"

static const char *const owner_names[RL_OWN_COUNT] = {
    [RL_OWN_APP] = "app", [RL_OWN_FILL] = "fill", [RL_OWN_NIC] = "nic",
    [RL_OWN_RX] = "rx",   [RL_OWN_TX] = "tx",     [RL_OWN_COMP] = "comp",
};

const char *rl_owner_name(enum rl_owner o)
{
	if ((unsigned)o >= RL_OWN_COUNT)
		return "?";
	return owner_names[o];
}

/* ---- parameters, setup, teardown ---------------------------------------- */

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static uint32_t log2_u32(uint32_t v)
{
	uint32_t s = 0;

	while ((1u << s) < v)
		s++;
	return s;
}

int rl_region_params_check(const struct rl_region_params *p, struct rl_err *err)
{
	if (p->frames < 1 || p->frames > RL_REGION_MAX_FRAMES)
		return rl_err_set(
		    err, EINVAL,
		    "frames=%" PRIu32
		    " is out of range - use 1 to %u frames (4096 is a good start)",
		    p->frames, RL_REGION_MAX_FRAMES);
	if (!is_pow2(p->frame_size) || p->frame_size < RL_FRAME_SIZE_MIN ||
	    p->frame_size > RL_FRAME_SIZE_MAX)
		return rl_err_set(err, EINVAL,
		                  "frame_size=%" PRIu32
		                  " does not work - use a power of two from %u to %u "
		                  "(2048 or 4096 are usual)",
		                  p->frame_size, RL_FRAME_SIZE_MIN, RL_FRAME_SIZE_MAX);
	if (p->headroom >= p->frame_size - 128)
		return rl_err_set(err, EINVAL,
		                  "headroom=%" PRIu32
		                  " leaves less than 128 bytes of a %" PRIu32
		                  "-byte frame for data - use headroom below %" PRIu32
		                  " (256 is usual)",
		                  p->headroom, p->frame_size, p->frame_size - 128);
	return 0;
}

static int alloc_bookkeeping(struct rl_region *r, struct rl_err *err)
{
	uint32_t n = r->frames;

	r->owner = calloc(n, sizeof(*r->owner));
	r->pins = calloc(n, sizeof(*r->pins));
	r->refs = calloc(n, sizeof(*r->refs));
	r->free_stack = malloc((size_t)n * sizeof(*r->free_stack));
	r->free_pos = malloc((size_t)n * sizeof(*r->free_pos));
	if (!r->owner || !r->pins || !r->refs || !r->free_stack || !r->free_pos)
		return rl_err_set(err, ENOMEM,
		                  "no memory for the bookkeeping of %" PRIu32
		                  " frames - use fewer frames",
		                  n);
	/* Stack top is frame 0, so rl_region_take() hands out 0, 1, 2, ... */
	for (uint32_t i = 0; i < n; i++) {
		r->free_stack[i] = n - 1 - i;
		r->free_pos[n - 1 - i] = i;
	}
	r->nfree = n;
	r->count[RL_OWN_APP] = n;
	return 0;
}

int rl_region_init(struct rl_region *r, const struct rl_region_params *p, void *mem,
                   struct rl_err *err)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = rl_region_params_check(p, err);
	if (rc)
		return rc;
	r->frames = p->frames;
	r->frame_size = p->frame_size;
	r->headroom = p->headroom;
	r->frame_shift = log2_u32(p->frame_size);
	r->size = (uint64_t)p->frames * p->frame_size;
	if (mem) {
		r->base = mem;
	} else {
		void *m = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		               MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		if (m == MAP_FAILED) {
			rc = errno;
			memset(r, 0, sizeof(*r));
			return rl_err_set(err, rc,
			                  "cannot map %" PRIu64 " bytes for %" PRIu32
			                  " frames of %" PRIu32
			                  " bytes - use fewer or smaller frames",
			                  (uint64_t)p->frames * p->frame_size, p->frames,
			                  p->frame_size);
		}
		r->base = m;
		r->own_memory = true;
	}
	rc = alloc_bookkeeping(r, err);
	if (rc)
		rl_region_fini(r);
	return rc;
}

void rl_region_fini(struct rl_region *r)
{
	if (r->own_memory && r->base)
		munmap(r->base, r->size);
	free(r->owner);
	free(r->pins);
	free(r->refs);
	free(r->free_stack);
	free(r->free_pos);
	memset(r, 0, sizeof(*r));
}

/* ---- spans and descriptors ------------------------------------------------ */

int rl_region_check_span(const struct rl_region *r, uint64_t addr, uint64_t len,
                         struct rl_err *err)
{
	if (addr > r->size || len > r->size - addr)
		return rl_err_set(err, ERANGE,
		                  "bytes 0x%" PRIx64 "+%" PRIu64
		                  " run past the end of the region (%" PRIu64
		                  " bytes) - use an address and length inside it",
		                  addr, len, r->size);
	return 0;
}

int rl_region_check_desc(const struct rl_region *r, uint64_t addr, uint32_t len,
                         struct rl_err *err)
{
	uint32_t first, last;

	if (addr >= r->size || len > r->size - addr)
		return rl_err_set(err, ERANGE,
		                  "descriptor 0x%" PRIx64 " len %" PRIu32
		                  " is outside the region (%" PRIu64
		                  " bytes) - use an address from the region",
		                  addr, len, r->size);
	first = rl_region_frame(r, addr);
	last = len ? rl_region_frame(r, addr + len - 1) : first;
	if (first != last)
		return rl_err_set(
		    err, EINVAL,
		    "descriptor 0x%" PRIx64 " len %" PRIu32 " crosses from frame %" PRIu32
		    " into frame %" PRIu32 " - one descriptor stays inside one %" PRIu32
		    "-byte frame; chain more descriptors with RL_DESC_CONTD",
		    addr, len, first, last, r->frame_size);
	return 0;
}

void rl_region_span_frames(const struct rl_region *r, uint64_t addr, uint64_t len,
                           uint32_t *first, uint32_t *n)
{
	uint64_t last = len ? (addr + len - 1) >> r->frame_shift : addr >> r->frame_shift;

	*first = rl_region_frame(r, addr);
	*n = (uint32_t)(last - *first + 1);
}

/* ---- the pool ------------------------------------------------------------- */

/* Remove any frame from the pool: the top takes its place. */
static void pool_remove(struct rl_region *r, uint32_t frame)
{
	uint32_t pos = r->free_pos[frame];
	uint32_t top = r->free_stack[--r->nfree];

	r->free_stack[pos] = top;
	r->free_pos[top] = pos;
	r->free_pos[frame] = RL_NOT_FREE;
}

static int bad_frame(const struct rl_region *r, uint32_t frame, struct rl_err *err)
{
	return rl_err_set(err, ERANGE,
	                  "frame %" PRIu32
	                  " does not exist - the region has frames 0 to %" PRIu32,
	                  frame, r->frames - 1);
}

/* ---- owners --------------------------------------------------------------- */

/* The inline rl_region_move() in region.h refused: say why. */
int rl_region__move_refused(const struct rl_region *r, uint32_t frame,
			    enum rl_owner from, enum rl_owner to, struct rl_err *err)
{
	enum rl_owner real;

	if (frame >= r->frames)
		return bad_frame(r, frame, err);
	if ((unsigned)from >= RL_OWN_COUNT || (unsigned)to >= RL_OWN_COUNT)
		return rl_err_set(
		    err, EINVAL,
		    "owner %d -> %d is not an owner - use app, fill, nic, rx, tx or comp",
		    (int)from, (int)to);
	real = (enum rl_owner)r->owner[frame];
	if (real != from)
		return rl_err_set(err, EPERM,
		                  "frame %" PRIu32
		                  " is owned by %s, not %s - wait for its completion "
		                  "(complete, or e:complete()) before reusing it",
		                  frame, rl_owner_name(real), rl_owner_name(from));
	return rl_err_set(err, EPERM,
	                  "frame %" PRIu32 " is free in the pool; take it first", frame);
}

/* ---- frames in several descriptors ------------------------------------- */

/* Where a reference can be: tx, nic, comp (-1: not a reference's stage). */
static int ref_stage(enum rl_owner o)
{
	return o == RL_OWN_TX ? 0 : o == RL_OWN_NIC ? 1 : o == RL_OWN_COMP ? 2 : -1;
}

static uint16_t *stage_count(struct rl_frame_refs *x, int stage)
{
	return stage == 0 ? &x->tx : stage == 1 ? &x->nic : &x->comp;
}

/* The owner of a shared frame: where its least advanced reference is. */
static enum rl_owner refs_owner(const struct rl_frame_refs *x)
{
	return x->tx ? RL_OWN_TX : x->nic ? RL_OWN_NIC : x->comp ? RL_OWN_COMP : RL_OWN_APP;
}

static void set_owner(struct rl_region *r, uint32_t frame, enum rl_owner o)
{
	r->count[r->owner[frame]]--;
	r->count[o]++;
	r->owner[frame] = (uint8_t)o;
}

/* Down to one reference: no count any more; the owner is where it is. */
static void refs_settle(struct rl_region *r, uint32_t frame)
{
	struct rl_frame_refs *x = &r->refs[frame];

	if (x->sum != 1)
		return;
	set_owner(r, frame, refs_owner(x));
	r->nshared--;
	r->shared_refs--;
	*x = (struct rl_frame_refs){0};
}

int rl_region_ref(struct rl_region *r, uint32_t frame, struct rl_err *err)
{
	struct rl_frame_refs *x;
	int stage;

	if (frame < r->frames && r->owner[frame] == RL_OWN_APP &&
	    r->free_pos[frame] != RL_NOT_FREE)
		return rl_err_set(err, EPERM,
		                  "frame %" PRIu32 " is free in the pool, not held - "
		                  "build the packet in a frame you hold first",
		                  frame);
	if (frame < r->frames && r->owner[frame] == RL_OWN_APP)
		return rl_region_move(r, frame, RL_OWN_APP, RL_OWN_TX, err);
	if (frame >= r->frames)
		return bad_frame(r, frame, err);
	stage = ref_stage((enum rl_owner)r->owner[frame]);
	if (stage < 0)
		return rl_err_set(err, EPERM,
		                  "frame %" PRIu32 " is owned by %s, not by the program "
		                  "or a send in flight - send only frames you hold (%s)",
		                  frame, rl_owner_name((enum rl_owner)r->owner[frame]),
		                  r->owner[frame] == RL_OWN_RX
		                      ? "receive it first: e:rx(), recv"
		                      : "a frame offered for receive is the NIC's");
	x = &r->refs[frame];
	if (x->sum >= RL_REFS_MAX)
		return rl_err_set(err, EMLINK,
		                  "frame %" PRIu32 " is already in %u descriptors - "
		                  "complete some (complete, or e:complete()) first",
		                  frame, (unsigned)x->sum);
	if (x->sum == 0) { /* its one reference gets a count */
		(*stage_count(x, stage))++;
		x->sum = 1;
		r->nshared++;
		r->shared_refs++;
	}
	x->tx++;
	x->sum++;
	r->shared_refs++;
	set_owner(r, frame, RL_OWN_TX);
	return 0;
}

int rl_region__move_slow(struct rl_region *r, uint32_t frame, enum rl_owner from,
			 enum rl_owner to, struct rl_err *err)
{
	struct rl_frame_refs *x;
	int sf, st;

	if (frame >= r->frames || (unsigned)from >= RL_OWN_COUNT ||
	    (unsigned)to >= RL_OWN_COUNT || r->refs[frame].sum == 0)
		return rl_region__move_refused(r, frame, from, to, err);
	x = &r->refs[frame];
	sf = ref_stage(from);
	st = to == RL_OWN_APP ? 3 : ref_stage(to);
	/* a reference moves forward (tx -> nic -> comp) or ends (-> app) */
	if (sf < 0 || st < 0 || st <= sf)
		return rl_err_set(err, EPERM,
		                  "frame %" PRIu32 " is in %u descriptors (tx %u, nic %u, "
		                  "comp %u) - one of them cannot go %s -> %s",
		                  frame, (unsigned)x->sum, (unsigned)x->tx, (unsigned)x->nic,
		                  (unsigned)x->comp, rl_owner_name(from), rl_owner_name(to));
	if (*stage_count(x, sf) == 0)
		return rl_err_set(err, EPERM,
		                  "frame %" PRIu32 " is in %u descriptors but none is "
		                  "%s (tx %u, nic %u, comp %u)",
		                  frame, (unsigned)x->sum, rl_owner_name(from),
		                  (unsigned)x->tx, (unsigned)x->nic, (unsigned)x->comp);
	(*stage_count(x, sf))--;
	if (st == 3) {
		x->sum--;
		r->shared_refs--;
	} else {
		(*stage_count(x, st))++;
	}
	if (refs_owner(x) != (enum rl_owner)r->owner[frame])
		set_owner(r, frame, refs_owner(x));
	refs_settle(r, frame);
	return 0;
}

/* The inline rl_region_take() in region.h found the pool empty. */
int rl_region__take_refused(const struct rl_region *r, struct rl_err *err)
{
	return rl_err_set(
	    err, ENOBUFS,
	    "no free frame: all %" PRIu32
	    " frames are held or in flight (fill %" PRIu32 ", nic %" PRIu32
	    ", rx %" PRIu32 ", tx %" PRIu32 ", comp %" PRIu32
	    ") - complete() sent frames or release received ones",
	    r->frames, r->count[RL_OWN_FILL], r->count[RL_OWN_NIC],
	    r->count[RL_OWN_RX], r->count[RL_OWN_TX], r->count[RL_OWN_COMP]);
}

/* The inline rl_region_release() in region.h refused: say why. */
int rl_region__release_refused(const struct rl_region *r, uint32_t frame,
			       struct rl_err *err)
{
	if (frame >= r->frames)
		return bad_frame(r, frame, err);
	if (r->owner[frame] != RL_OWN_APP)
		return rl_err_set(err, EPERM,
		                  "frame %" PRIu32
		                  " is owned by %s, not app - wait for its completion "
		                  "(complete, or e:complete()) before releasing it",
		                  frame, rl_owner_name((enum rl_owner)r->owner[frame]));
	return rl_err_set(err, EPERM,
	                  "frame %" PRIu32
	                  " is already free in the pool - release each frame once",
	                  frame);
}

/* ---- buffers born in the region ------------------------------------------ */

/* First frame of a run of n free frames, or UINT32_MAX. The search starts
 * at low_free (no frame below it is free; rl_region__pool_push lowers it)
 * and moves low_free up to the first free frame it meets, so frames taken
 * one after another - lab.segment's - cost O(1) each instead of a walk
 * over every frame held below them. */
static uint32_t find_free_run(struct rl_region *r, uint32_t n)
{
	uint32_t run = 0;
	bool seen = false;

	for (uint32_t f = r->low_free; f < r->frames; f++) {
		if (r->free_pos[f] == RL_NOT_FREE) {
			run = 0;
			continue;
		}
		if (!seen) {
			r->low_free = f;
			seen = true;
		}
		if (++run == n)
			return f + 1 - n;
	}
	if (!seen)
		r->low_free = r->frames;
	return UINT32_MAX;
}

int rl_region_alloc(struct rl_region *r, uint64_t len, uint64_t *addr, struct rl_err *err)
{
	uint64_t need = (uint64_t)r->headroom + len;
	uint64_t nframes = need ? (need + r->frame_size - 1) >> r->frame_shift : 1;
	uint32_t first;

	if (len > r->size || nframes > r->frames)
		return rl_err_set(err, ENOBUFS,
		                  "%" PRIu64 " bytes (plus %" PRIu32
		                  " of headroom) need %" PRIu64
		                  " frames but the region has %" PRIu32
		                  " - make the region larger or allocate less",
		                  len, r->headroom, nframes, r->frames);
	first = find_free_run(r, (uint32_t)nframes);
	if (first == UINT32_MAX)
		return rl_err_set(
		    err, ENOBUFS,
		    "no run of %" PRIu64 " contiguous free frames for %" PRIu64
		    " bytes (%" PRIu32 " frames free in all) - free buffers, complete() "
		                       "sent frames, or allocate less",
		    nframes, len, r->nfree);
	for (uint32_t f = first; f < first + nframes; f++) {
		pool_remove(r, f);
		r->pins[f]++;
	}
	*addr = rl_region_frame_addr(r, first) + r->headroom;
	return 0;
}

void rl_region_unpin(struct rl_region *r, uint64_t addr, uint64_t len)
{
	uint32_t first, n;

	if (addr >= r->size)
		return;
	if (len > r->size - addr)
		len = r->size - addr;
	rl_region_span_frames(r, addr, len, &first, &n);
	for (uint32_t f = first; f < first + n; f++) {
		if (r->pins[f] == 0)
			continue;
		if (--r->pins[f] == 0 && r->owner[f] == RL_OWN_APP &&
		    r->free_pos[f] == RL_NOT_FREE)
			rl_region__pool_push(r, f);
	}
}

/* ---- the conservation invariant ------------------------------------------ */

static int check_counts(const struct rl_region *r, struct rl_err *err)
{
	uint32_t recount[RL_OWN_COUNT] = {0};
	uint64_t sum = 0;

	for (int o = 0; o < RL_OWN_COUNT; o++)
		sum += r->count[o];
	if (sum != r->frames)
		return rl_err_set(err, EFAULT,
		                  "owner counts sum to %" PRIu64 ", not %" PRIu32
		                  " frames - a frame was lost or duplicated",
		                  sum, r->frames);
	for (uint32_t f = 0; f < r->frames; f++) {
		if (r->owner[f] >= RL_OWN_COUNT)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32 " has no valid owner (%u)", f,
			                  r->owner[f]);
		recount[r->owner[f]]++;
	}
	for (int o = 0; o < RL_OWN_COUNT; o++)
		if (recount[o] != r->count[o])
			return rl_err_set(
			    err, EFAULT,
			    "%" PRIu32
			    " frames are owned by %s but the count says %" PRIu32,
			    recount[o], rl_owner_name((enum rl_owner)o), r->count[o]);
	return 0;
}

static int check_pool(const struct rl_region *r, struct rl_err *err)
{
	uint32_t nfree = 0;

	if (r->nfree > r->frames)
		return rl_err_set(err, EFAULT,
		                  "the pool holds %" PRIu32 " frames, more than %" PRIu32,
		                  r->nfree, r->frames);
	for (uint32_t i = 0; i < r->nfree; i++) {
		uint32_t f = r->free_stack[i];

		if (f >= r->frames || r->free_pos[f] != i)
			return rl_err_set(err, EFAULT,
			                  "pool slot %" PRIu32 " (frame %" PRIu32
			                  ") does not point back to itself",
			                  i, f);
		if (r->owner[f] != RL_OWN_APP)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32
			                  " is in the pool but owned by %s",
			                  f, rl_owner_name((enum rl_owner)r->owner[f]));
		if (r->pins[f])
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32 " is in the pool but pinned",
			                  f);
	}
	for (uint32_t f = 0; f < r->frames; f++) {
		if (r->free_pos[f] == RL_NOT_FREE)
			continue;
		if (r->free_pos[f] >= r->nfree || r->free_stack[r->free_pos[f]] != f)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32
			                  " says it is free but is not in the pool",
			                  f);
		if (f < r->low_free)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32 " is free below the allocator's "
			                  "start (%" PRIu32 "): alloc would miss it",
			                  f, r->low_free);
		nfree++;
	}
	if (nfree != r->nfree)
		return rl_err_set(err, EFAULT,
		                  "%" PRIu32
		                  " frames are free but the pool counts %" PRIu32,
		                  nfree, r->nfree);
	return 0;
}

static int check_refs(const struct rl_region *r, struct rl_err *err)
{
	uint32_t shared = 0;
	uint64_t refs = 0;

	for (uint32_t f = 0; f < r->frames; f++) {
		const struct rl_frame_refs *x = &r->refs[f];
		enum rl_owner o = (enum rl_owner)r->owner[f];

		if (!x->sum && !x->tx && !x->nic && !x->comp)
			continue;
		if (ref_stage(o) < 0)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32 " is owned by %s but counts "
			                  "%u descriptors - only a frame on its way has any",
			                  f, rl_owner_name(o), (unsigned)x->sum);
		if ((uint32_t)x->tx + x->nic + x->comp != x->sum)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32 " counts %u descriptors but tx %u "
			                  "+ nic %u + comp %u",
			                  f, (unsigned)x->sum, (unsigned)x->tx,
			                  (unsigned)x->nic, (unsigned)x->comp);
		if (x->sum < 2)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32 " counts %u descriptor - a count "
			                  "is kept from two on",
			                  f, (unsigned)x->sum);
		if (refs_owner(x) != o)
			return rl_err_set(err, EFAULT,
			                  "frame %" PRIu32 " is owned by %s but its least "
			                  "advanced descriptor is in %s",
			                  f, rl_owner_name(o), rl_owner_name(refs_owner(x)));
		shared++;
		refs += x->sum;
	}
	if (shared != r->nshared || refs != r->shared_refs)
		return rl_err_set(err, EFAULT,
		                  "%" PRIu32 " frames are shared by %" PRIu64
		                  " descriptors but the region says %" PRIu32 " by %" PRIu64,
		                  shared, refs, r->nshared, r->shared_refs);
	return 0;
}

int rl_region_check(const struct rl_region *r, struct rl_err *err)
{
	int rc = check_counts(r, err);

	if (!rc)
		rc = check_pool(r, err);
	return rc ? rc : check_refs(r, err);
}
