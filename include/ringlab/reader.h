/*
 * reader.h - read a received byte stream where it lies, across frames.
 *
 * A reader holds a queue of pieces: byte ranges of frames of one region,
 * usually the payloads of received packets in arrival order (push_packet
 * dissects a packet and queues what follows its headers). It reads them as
 * one stream without copying: read() hands out pointers into the frames
 * (ledger: referenced), find() looks for a pattern across piece boundaries
 * (touched: the bytes it looked at), copy() copies out contiguously
 * (copied). Pointers stay valid until release(), which gives back - with
 * rl_region_release(), so the engine's fill() can offer them again - every
 * frame the reader owns and has moved past. rl_reader_free() gives back
 * every frame the reader still owns, read or not.
 */
#ifndef RINGLAB_READER_H
#define RINGLAB_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "ledger.h"
#include "packet.h"
#include "region.h"
#include "ring.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rl_reader; /* opaque */

/* A reader over frames of r, counting into ledger (NULL: r's ledger). */
int rl_reader_new(struct rl_reader **out, struct rl_region *r, struct rl_ledger *ledger,
                  struct rl_err *err);
/* Give back every frame the reader owns (read or not) and free it. */
void rl_reader_free(struct rl_reader *rd);
/* Free it without touching its region or ledger: for when they are gone
 * already (the engine that owned them was closed). */
void rl_reader_forget(struct rl_reader *rd);

/* Queue bytes [addr, addr+len) of one frame. own: the reader returns the
 * frame to the pool once it has moved past it (the frame must be app-owned
 * and held, e.g. received with rx()). -EINVAL/-ERANGE/-EPERM otherwise. */
int rl_reader_push(struct rl_reader *rd, uint64_t addr, uint32_t len, bool own,
                   struct rl_err *err);

/* Queue the payload of one received packet (its descriptors as rx() gave
 * them, RL_DESC_CONTD on all but the last): the headers are dissected
 * (into *d when d is not NULL; the L4 checksum check counts as touched)
 * and skipped; all of the packet's frames become the reader's. -EBADMSG
 * (nothing queued) when the packet does not parse. */
int rl_reader_push_packet(struct rl_reader *rd, const struct rl_desc *descs, unsigned n,
                          struct rl_dissect *d, struct rl_err *err);

/* Bytes queued and not yet read. */
uint64_t rl_reader_avail(const struct rl_reader *rd);

/* Up to n bytes from the read position as pieces (at most max of them), not
 * consumed and not counted. Returns the number of pieces; *got the bytes. */
int rl_reader_peek(const struct rl_reader *rd, uint64_t n, struct rl_iov *out,
                   unsigned max, uint64_t *got);

/* Like peek, but the bytes are consumed and counted as referenced. */
int rl_reader_read(struct rl_reader *rd, uint64_t n, struct rl_iov *out, unsigned max,
                   uint64_t *got);

/* Offset of the first occurrence of pat from the read position, or -ENOENT
 * (-EINVAL for an empty pattern). Counts the bytes looked at as touched. */
int64_t rl_reader_find(struct rl_reader *rd, const void *pat, size_t plen);

/* Copy exactly n bytes out into dst and consume them (copied += n);
 * -EAGAIN, copying nothing, when fewer than n bytes are queued. */
int rl_reader_copy(struct rl_reader *rd, void *dst, uint64_t n, struct rl_err *err);

/* Give back the frames the reader owns and has moved past. Returns how
 * many frames went back. Pointers from earlier peek/read into them are
 * then invalid. */
int rl_reader_release(struct rl_reader *rd);

/* Frames the reader owns and has not given back yet. */
uint32_t rl_reader_frames(const struct rl_reader *rd);

#ifdef __cplusplus
}
#endif
#endif
