/*
 * ring.c - allocating and freeing an rl_ring.
 *
 * Everything that runs per descriptor (reserve/submit, peek/release) is
 * inline in ring.h, as in libxdp's xsk.h. What lives here is the part that
 * runs once: checking that the size is a power of two, which is what lets
 * `idx & mask` replace a modulo and lets the free-running 32-bit indices
 * wrap past 2^32 without ever being reset, and allocating the slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ringlab/ring.h"

static uint32_t next_pow2(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < RL_RING_MAX)
		p <<= 1;
	return p;
}

static int size_check(uint32_t size, struct rl_err *err)
{
	if (size == 0)
		return rl_err_set(
		    err, EINVAL,
		    "ring size 0 is too small - use a power of two from 1 to %u",
		    RL_RING_MAX);
	if (size > RL_RING_MAX)
		return rl_err_set(err, EINVAL,
		                  "ring size %u is larger than the maximum - try %u",
		                  size, RL_RING_MAX);
	if (size & (size - 1))
		return rl_err_set(err, EINVAL,
		                  "ring size %u is not a power of two - try %u", size,
		                  next_pow2(size));
	return 0;
}

int rl_ring_init(struct rl_ring *r, uint32_t size, struct rl_err *err)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = size_check(size, err);
	if (rc)
		return rc;
	r->desc = calloc(size, sizeof(*r->desc));
	if (!r->desc)
		return rl_err_set(err, ENOMEM,
		                  "no memory for a ring of %u slots - try a smaller ring",
		                  size);
	r->size = size;
	r->mask = size - 1;
	return 0;
}

void rl_ring_fini(struct rl_ring *r)
{
	free(r->desc);
	memset(r, 0, sizeof(*r));
}
