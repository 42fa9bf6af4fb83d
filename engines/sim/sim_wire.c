/*
 * sim_wire.c - the simulated cable: a FIFO of packets towards one engine.
 *
 * The cable is nobody's packet memory: when the NIC transmits, the bytes
 * are copied out of the sender's frames onto the wire, and when the other
 * NIC receives, they are copied from the wire into its frames. (In real
 * hardware both are DMA; the ledger counts them as wire bytes, not as CPU
 * copies.) Packets sit in one preallocated byte ring, each one possibly
 * wrapping around the ring's end, with a second small ring of lengths.
 * Putting a packet on the wire or taking one off never allocates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

int sim_wire_init(struct sim_wire *w, uint32_t cap_pkts, struct rl_err *err)
{
	uint64_t cap_bytes = (uint64_t)cap_pkts * SIM_WIRE_BYTES_PER_PKT;

	if (cap_bytes < 2ull * SIM_MAX_PKT)
		cap_bytes = 2ull * SIM_MAX_PKT;
	memset(w, 0, sizeof(*w));
	w->bytes = malloc(cap_bytes);
	w->lens = calloc(cap_pkts, sizeof(*w->lens));
	if (!w->bytes || !w->lens) {
		sim_wire_fini(w);
		return rl_err_set(
		    err, ENOMEM,
		    "cannot allocate a wire of %u packets - use a smaller wire_capacity",
		    cap_pkts);
	}
	w->cap_bytes = cap_bytes;
	w->cap_pkts = cap_pkts;
	return 0;
}

void sim_wire_fini(struct sim_wire *w)
{
	free(w->bytes);
	free(w->lens);
	memset(w, 0, sizeof(*w));
}

bool sim_wire_has_room(const struct sim_wire *w, uint32_t len)
{
	return w->count < w->cap_pkts && w->used + len <= w->cap_bytes;
}

/* Copy n bytes in or out at byte offset pos of the ring, in at most two
 * pieces when the span wraps around the end. */
static void ring_copy_in(const struct sim_wire *w, uint64_t pos, const uint8_t *src,
                         uint32_t n)
{
	uint64_t at = pos % w->cap_bytes;
	uint64_t first = w->cap_bytes - at;

	if (first >= n) {
		memcpy(w->bytes + at, src, n);
		return;
	}
	memcpy(w->bytes + at, src, first);
	memcpy(w->bytes, src + first, n - first);
}

static void ring_copy_out(const struct sim_wire *w, uint64_t pos, uint8_t *dst,
                          uint32_t n)
{
	uint64_t at = pos % w->cap_bytes;
	uint64_t first = w->cap_bytes - at;

	if (first >= n) {
		memcpy(dst, w->bytes + at, n);
		return;
	}
	memcpy(dst, w->bytes + at, first);
	memcpy(dst + first, w->bytes, n - first);
}

void sim_wire_write(struct sim_wire *w, uint32_t off, const void *src, uint32_t n)
{
	ring_copy_in(w, w->rd + w->used + off, src, n);
}

void sim_wire_commit(struct sim_wire *w, uint32_t len)
{
	w->lens[(w->first + w->count) % w->cap_pkts] = len;
	w->count++;
	w->used += len;
	w->arrived++;
}

uint32_t sim_wire_front_len(const struct sim_wire *w)
{
	return w->lens[w->first];
}

void sim_wire_read(const struct sim_wire *w, uint32_t off, void *dst, uint32_t n)
{
	ring_copy_out(w, w->rd + off, dst, n);
}

void sim_wire_pop(struct sim_wire *w)
{
	uint32_t len = w->lens[w->first];

	w->rd = (w->rd + len) % w->cap_bytes;
	w->used -= len;
	w->first = (w->first + 1) % w->cap_pkts;
	w->count--;
	w->left++;
}
