/*
 * reader.c - an in-place reader over received frames.
 *
 * The reader keeps an array of pieces (frame address, length) in stream
 * order and a read position: the piece it is in (cur) and the offset inside
 * it (off). Reading moves the position forward and hands out pointers into
 * the frames; nothing is copied unless the caller asks for a copy. Pieces
 * before the position have been read; release() walks them from the front,
 * gives their frames back to the region and drops them from the array.
 *
 * One frame may hold several pieces (pushed one by one); only the last of
 * them gives the frame back, so a frame returns only when every byte of it
 * that was queued has been read. push() hands that duty to the newest piece
 * of a frame. A piece of length 0 (a header-only frame of a chained packet)
 * is passed as soon as the position moves beyond it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ringlab/reader.h"

struct piece {
	uint64_t addr;
	uint32_t len;
	uint32_t frame;
	bool gives_back; /* the reader owns the frame and this is its last piece */
};

struct rl_reader {
	struct rl_region *r;
	struct rl_ledger *ledger;
	struct piece *p;
	uint32_t n, cap;
	uint32_t cur; /* piece of the read position */
	uint32_t off; /* offset in it */
	uint64_t avail;
	uint32_t owned; /* frames owned and not given back */
};

int rl_reader_new(struct rl_reader **out, struct rl_region *r, struct rl_ledger *ledger,
                  struct rl_err *err)
{
	struct rl_reader *rd;

	if (!out || !r)
		return rl_err_set(err, EINVAL,
		                  "a reader needs a region - pass the engine's");
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return rl_err_set(err, ENOMEM, "out of memory for a reader");
	rd->r = r;
	rd->ledger = ledger ? ledger : r->ledger;
	*out = rd;
	return 0;
}

static void give_back(struct rl_reader *rd, const struct piece *pc)
{
	if (pc->gives_back) {
		rl_region_release(rd->r, pc->frame, NULL);
		rd->owned--;
	}
}

void rl_reader_free(struct rl_reader *rd)
{
	if (!rd)
		return;
	for (uint32_t i = 0; i < rd->n; i++)
		give_back(rd, &rd->p[i]);
	free(rd->p);
	free(rd);
}

void rl_reader_forget(struct rl_reader *rd)
{
	if (!rd)
		return;
	free(rd->p);
	free(rd);
}

/* ---- queueing ---------------------------------------------------------------- */

static int grow(struct rl_reader *rd, uint32_t more, struct rl_err *err)
{
	uint32_t cap = rd->cap ? rd->cap : 16;
	struct piece *p;

	while (cap < rd->n + more)
		cap *= 2;
	if (cap == rd->cap)
		return 0;
	p = realloc(rd->p, cap * sizeof(*p));
	if (!p)
		return rl_err_set(err, ENOMEM,
		                  "out of memory queueing pieces - read some");
	rd->p = p;
	rd->cap = cap;
	return 0;
}

static int check_piece(const struct rl_reader *rd, uint64_t addr, uint32_t len, bool own,
                       struct rl_err *err)
{
	int rc = rl_region_check_desc(rd->r, addr, len, err);
	uint32_t f;

	if (rc)
		return rc;
	f = rl_region_frame(rd->r, addr);
	if (own &&
	    (rl_region_owner(rd->r, f) != RL_OWN_APP || rl_region_is_free(rd->r, f)))
		return rl_err_set(err, EPERM,
		                  "frame %" PRIu32
		                  " is %s, not held by the program - give "
		                  "the reader frames you received (recv, or e:rx())",
		                  f,
		                  rl_region_is_free(rd->r, f)
		                      ? "free in the pool"
		                      : rl_owner_name(rl_region_owner(rd->r, f)));
	return 0;
}

/* Queue a checked piece; the newest piece of a frame gives it back. */
static void append(struct rl_reader *rd, uint64_t addr, uint32_t len, bool own)
{
	uint32_t f = rl_region_frame(rd->r, addr);

	for (uint32_t i = 0; own && i < rd->n; i++) {
		if (rd->p[i].frame == f && rd->p[i].gives_back) {
			rd->p[i].gives_back = false;
			rd->owned--;
		}
	}
	rd->p[rd->n++] = (struct piece){addr, len, f, own};
	rd->avail += len;
	rd->owned += own;
}

int rl_reader_push(struct rl_reader *rd, uint64_t addr, uint32_t len, bool own,
                   struct rl_err *err)
{
	int rc;

	if ((rc = check_piece(rd, addr, len, own, err)) || (rc = grow(rd, 1, err)))
		return rc;
	append(rd, addr, len, own);
	return 0;
}

static bool checksummed(const struct rl_dissect *d)
{
	return (d->layers & RL_L_TCP) || ((d->layers & RL_L_UDP) && d->udp_csum);
}

/* Queue the part of descriptor i that lies in [from, to) of the packet. */
static void append_payload(struct rl_reader *rd, const struct rl_desc *d, uint64_t pos,
                           uint64_t from, uint64_t to)
{
	uint64_t a = pos > from ? pos : from, b = pos + d->len < to ? pos + d->len : to;

	append(rd, d->addr + (a - pos), b > a ? (uint32_t)(b - a) : 0, true);
}

int rl_reader_push_packet(struct rl_reader *rd, const struct rl_desc *descs, unsigned n,
                          struct rl_dissect *out, struct rl_err *err)
{
	struct rl_iov iov[64];
	struct rl_dissect scratch, *d = out ? out : &scratch;
	uint64_t pos = 0;
	int rc;

	if (n == 0 || n > 64)
		return rl_err_set(err, EINVAL,
		                  "a packet of %u descriptors - give 1 to 64 (one packet "
		                  "as rx() returned it)",
		                  n);
	for (unsigned i = 0; i < n; i++) {
		if ((rc = check_piece(rd, descs[i].addr, descs[i].len, true, err)))
			return rc;
		iov[i] =
		    (struct rl_iov){rl_region_ptr(rd->r, descs[i].addr), descs[i].len};
	}
	if (rl_dissect(iov, n, d) < 0)
		return rl_err_set(err, EBADMSG, "the packet does not parse: %s",
		                  d->problem);
	if ((rc = grow(rd, n, err)))
		return rc;
	for (unsigned i = 0; i < n; pos += descs[i].len, i++)
		append_payload(rd, &descs[i], pos, d->payload_off,
		               (uint64_t)d->payload_off + d->payload_len);
	if (rd->ledger && checksummed(d))
		rl_ledger_count(rd->ledger, RL_LEDGER_TOUCHED, d->payload_len, RL_DIR_RX);
	return 0;
}

/* ---- reading ------------------------------------------------------------------- */

uint64_t rl_reader_avail(const struct rl_reader *rd)
{
	return rd->avail;
}

uint32_t rl_reader_frames(const struct rl_reader *rd)
{
	return rd->owned;
}

/* A position in the stream. */
struct pos {
	uint32_t i, off;
};

/* Step over finished pieces so that p is in a piece with bytes left, or at
 * the end. */
static void settle(const struct rl_reader *rd, struct pos *p)
{
	while (p->i < rd->n && p->off >= rd->p[p->i].len) {
		p->i++;
		p->off = 0;
	}
}

/* Collect up to n bytes from p as pieces, moving p. */
static int gather(const struct rl_reader *rd, struct pos *p, uint64_t n,
                  struct rl_iov *out, unsigned max, uint64_t *got)
{
	unsigned k = 0;

	*got = 0;
	settle(rd, p);
	while (n && k < max && p->i < rd->n) {
		const struct piece *pc = &rd->p[p->i];
		uint32_t take = pc->len - p->off < n ? pc->len - p->off : (uint32_t)n;

		out[k++] = (struct rl_iov){rl_region_ptr(rd->r, pc->addr + p->off), take};
		p->off += take;
		n -= take;
		*got += take;
		settle(rd, p);
	}
	return (int)k;
}

int rl_reader_peek(const struct rl_reader *rd, uint64_t n, struct rl_iov *out,
                   unsigned max, uint64_t *got)
{
	struct pos p = {rd->cur, rd->off};

	return gather(rd, &p, n, out, max, got);
}

int rl_reader_read(struct rl_reader *rd, uint64_t n, struct rl_iov *out, unsigned max,
                   uint64_t *got)
{
	struct pos p = {rd->cur, rd->off};
	int k = gather(rd, &p, n, out, max, got);

	rd->cur = p.i;
	rd->off = p.off;
	rd->avail -= *got;
	if (rd->ledger)
		rl_ledger_count(rd->ledger, RL_LEDGER_REFERENCED, *got, RL_DIR_RX);
	return k;
}

static uint8_t byte_at(const struct rl_reader *rd, const struct pos *p)
{
	return *(const uint8_t *)rl_region_ptr(rd->r, rd->p[p->i].addr + p->off);
}

static void advance(const struct rl_reader *rd, struct pos *p)
{
	p->off++;
	settle(rd, p);
}

/* Does pat start at p? (*seen: the furthest byte looked at, from p) */
static bool match_at(const struct rl_reader *rd, struct pos p, const uint8_t *pat,
                     size_t plen, uint64_t *seen)
{
	for (size_t k = 0; k < plen; k++) {
		if (p.i >= rd->n)
			return false;
		if (k + 1 > *seen)
			*seen = k + 1;
		if (byte_at(rd, &p) != pat[k])
			return false;
		advance(rd, &p);
	}
	return true;
}

int64_t rl_reader_find(struct rl_reader *rd, const void *pat, size_t plen)
{
	struct pos p = {rd->cur, rd->off};
	uint64_t at = 0, furthest = 0;

	if (!pat || plen == 0)
		return -EINVAL;
	settle(rd, &p);
	for (; p.i < rd->n && rd->avail - at >= plen; at++, advance(rd, &p)) {
		uint64_t seen = 0;
		bool hit = match_at(rd, p, pat, plen, &seen);

		if (at + seen > furthest)
			furthest = at + seen;
		if (hit)
			break;
	}
	if (rd->ledger)
		rl_ledger_count(rd->ledger, RL_LEDGER_TOUCHED, furthest, RL_DIR_RX);
	return p.i < rd->n && rd->avail - at >= plen ? (int64_t)at : -ENOENT;
}

int rl_reader_copy(struct rl_reader *rd, void *dst, uint64_t n, struct rl_err *err)
{
	struct rl_iov v[16];
	uint8_t *o = dst;
	uint64_t got;

	if (n > rd->avail)
		return rl_err_set(err, EAGAIN,
		                  "only %" PRIu64 " bytes are queued, not %" PRIu64
		                  " - receive more first, or copy less",
		                  rd->avail, n);
	while (n) {
		struct pos p = {rd->cur, rd->off};
		int k = gather(rd, &p, n, v, 16, &got);

		for (int i = 0; i < k; i++) {
			memcpy(o, v[i].base, v[i].len);
			o += v[i].len;
		}
		rd->cur = p.i;
		rd->off = p.off;
		rd->avail -= got;
		n -= got;
		if (rd->ledger)
			rl_ledger_count(rd->ledger, RL_LEDGER_COPIED, got, RL_DIR_RX);
	}
	return 0;
}

int rl_reader_release(struct rl_reader *rd)
{
	struct pos p = {rd->cur, rd->off};
	uint32_t done, owned = rd->owned;

	settle(rd, &p);
	done = p.i; /* pieces wholly behind the position */
	for (uint32_t i = 0; i < done; i++)
		give_back(rd, &rd->p[i]);
	if (rd->n > done) /* rd->p is NULL while the reader holds nothing */
		memmove(rd->p, rd->p + done, (rd->n - done) * sizeof(*rd->p));
	rd->n -= done;
	rd->cur = p.i - done;
	rd->off = p.off;
	return (int)(owned - rd->owned);
}
