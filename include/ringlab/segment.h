/*
 * segment.h - turn data larger than one MTU into packets, seven ways, and
 * count every byte of it in the ledger.
 *
 * rl_segment() cuts `len` bytes into segments of at most `mss` payload
 * bytes, builds one TCP or UDP packet per segment in the region, and hands
 * back descriptors ready for an engine's tx() (a packet of several
 * descriptors carries RL_DESC_CONTD on all but its last). The strategy says
 * where the payload comes from and whether it is copied:
 *
 *   copy   data anywhere (a Lua string). Each segment gets its own frame:
 *          headers, then the payload copied behind them.
 *          ledger: copied += len, headers += hdr_len per packet.
 *   reuse  like copy (the staging copy: copied += len once), but the
 *          packets are kept: rl_segs_resend() rewrites only their headers
 *          (seq, ack, ports, ip id, addresses; RFC 1624 checksums) and
 *          counts referenced += len per resend, copied 0.
 *   born   data already in the region (a span from rl_region_alloc, held by
 *          the program). Zero copy: payload descriptors point at it, split
 *          at frame boundaries. A segment that starts at its frame's data
 *          start (frame + headroom) gets its headers in the headroom in front,
 *          one descriptor for both; every other segment has nothing free in
 *          front of it, so its headers go into a header frame of its own,
 *          chained in front. ledger: copied 0, referenced += len.
 *          With engine_unaligned (RL_CAP_UNALIGNED) born and sg do not cut
 *          payload at frame boundaries: one descriptor per contiguous
 *          payload, so a segment with its headers in the headroom is one
 *          descriptor even when it runs into the next frame.
 *   sg     data in the region; every segment is a header frame chained with
 *          its payload descriptors (the AF_XDP multi-buffer / DPDK mbuf chain
 *          shape). ledger as born. Data outside the region is refused: the
 *          copy that would bring it in is what copy and reuse count.
 *   tso    one packet per up to 64 KiB, the NIC cuts it at mss: only when
 *          the caller says the engine offers it (engine_tso), otherwise
 *          -EOPNOTSUPP. Checksums are then always left to the NIC.
 *   extbuf data outside the region (application memory: a Lua string, an
 *          mmap) sent where it lies: every segment is a header frame chained
 *          with one RL_DESC_EXT descriptor whose addr is the offset of its
 *          payload in the data (rl_segs.ext + addr is the address). Only
 *          when the engine can send such memory (engine_extbuf), otherwise
 *          -EOPNOTSUPP. ledger: copied 0, referenced += len.
 *   gso    like tso (one packet per up to `max` bytes, data in the region,
 *          a header frame chained with the payload where it lies), but the
 *          engine cuts it in software (engine_gso: DPDK's rte_gso_segment,
 *          which copies the headers of every segment and references the
 *          payload - those it counts itself). The lab writes one header
 *          per packet, checksums left partial. ledger: referenced += len.
 *
 * Shared frames. born and sg payloads are contiguous, so when mss is not a
 * multiple of the frame size two consecutive segments share the frame where
 * one ends and the next begins; such a segment has shares_prev set. On an
 * engine that lets one frame sit in several descriptors at once
 * (engine_shared, RL_CAP_SHARED: the sim, AF_XDP with aligned chunks,
 * DPDK ports that free what they send; see region.h) they go
 * together: the frame counts one reference per descriptor, is owned by the
 * stage of its least advanced one, and is the program's again only when the
 * last completes - so 64 KiB of sg goes out in one burst. Elsewhere a frame
 * has one descriptor at a time (the engine's tx() refuses a second: "owned
 * by tx") and a shares_prev segment may be queued only after the previous
 * one completed. rl_segs_ready() says how many segments from a given one
 * can be queued now. copy, reuse and tso segments never share frames.
 *
 * Checksums are computed in software by default (reading the payload:
 * touched += len). RL_CSUM_PARTIAL leaves the L4 checksum to the NIC: the
 * field holds the pseudo-header sum and nothing is touched.
 *
 * Frames the segments need (header frames, copy frames) are taken from the
 * pool and pinned by the rl_segs: a completion leaves them held, and
 * rl_segs_free() gives them back (frames still in flight go back when they
 * complete). On any error nothing is taken, counted or changed.
 */
#ifndef RINGLAB_SEGMENT_H
#define RINGLAB_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "ledger.h"
#include "packet.h"
#include "region.h"
#include "ring.h"
#include "tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rl_seg_strategy {
	RL_SEG_COPY = 0,
	RL_SEG_REUSE,
	RL_SEG_BORN,
	RL_SEG_SG,
	RL_SEG_TSO,
	RL_SEG_EXTBUF,
	RL_SEG_GSO,
	RL_SEG_STRATEGIES,
};

const char *rl_seg_strategy_name(enum rl_seg_strategy s); /* "copy", ... */
/* "copy", "reuse", "born", "sg", "tso", "extbuf" or "gso"; -EINVAL naming
 * them otherwise. */
int rl_seg_strategy_parse(const char *name, enum rl_seg_strategy *out,
                          struct rl_err *err);

struct rl_seg_params {
	enum rl_seg_strategy strategy;
	uint8_t proto;       /* RL_IPPROTO_TCP or RL_IPPROTO_UDP */
	uint32_t mss;        /* payload bytes per segment, >= 1 */
	struct rl_flow flow; /* flow.ip_id is the first packet's, +1 each */
	/* TCP only: seq of the first byte (segment i carries seq + its offset),
	 * ack, window, options (sent on every segment), flags (0 means ACK;
	 * the last segment also gets PSH). */
	struct rl_tcp tcp;
	enum rl_csum_mode csum; /* RL_CSUM_SOFTWARE (default) or PARTIAL */
	bool engine_tso;        /* the engine offers TSO (RL_CAP_TSO) */
	bool engine_extbuf;     /* the engine sends app memory (RL_CAP_EXTBUF) */
	bool engine_gso;        /* the engine cuts TCP in software (RL_CAP_GSO) */
	bool engine_unaligned;  /* born, sg: one descriptor may cross frames
	                         * (RL_CAP_UNALIGNED: AF_XDP unaligned chunks),
	                         * so payload is not cut at frame boundaries */
	bool engine_shared;     /* one frame may be in several descriptors at
	                         * once (RL_CAP_SHARED): rl_segs_ready() lets
	                         * segments that share a frame go together */
	uint32_t max;           /* tso, gso: payload bytes per packet at most
	                         * (rounded down to a multiple of mss); 0: as
	                         * many as one IPv4 packet holds */
};

struct rl_seg {
	uint32_t desc;  /* its first descriptor in rl_segs.descs */
	uint32_t ndesc; /* descriptors of this packet */
	uint64_t off;   /* where its payload starts in the data */
	uint32_t len;   /* payload bytes */
	uint32_t seq;   /* TCP: sequence number of its first byte */
	uint16_t ip_id;
	bool header_frame; /* its headers are in a frame of their own */
	bool shares_prev;  /* shares a frame with the previous segment */
};

struct rl_segs {
	struct rl_region *region;
	struct rl_seg_params params;
	uint32_t hdr_len; /* header bytes of each packet */
	uint64_t len;     /* payload bytes in all */
	uint32_t nsegs;
	struct rl_seg *segs;
	uint32_t ndescs;
	struct rl_desc *descs; /* all packets, in order: tx(descs, ndescs) */
	uint32_t next_seq;     /* TCP: seq after the last byte */
	uint16_t next_ip_id;
	uint32_t resends; /* rl_segs_resend() calls that succeeded */
	const uint8_t *ext; /* extbuf: the data; RL_DESC_EXT addrs are offsets in it */
	/* Frames this object took and pins (from rl_region_alloc, 1 byte). */
	uint32_t nheld;
	uint64_t *held;
};

/* Plan and build the packets for data[0..len) into the region. Counts into
 * ledger (NULL: the region's ledger, which may be NULL too). 0 or -errno:
 * -EINVAL (bad parameters, data outside the region for born/sg/tso),
 * -EMSGSIZE (mss does not fit a frame / an IPv4 packet), -ENOBUFS (not
 * enough free frames), -EPERM (born/sg data in frames the program does not
 * hold; extbuf data that is in the region), -EOPNOTSUPP (tso, extbuf,
 * gso without the engine's word). */
int rl_segment(struct rl_segs *out, struct rl_region *r, const void *data, uint64_t len,
               const struct rl_seg_params *p, struct rl_ledger *ledger,
               struct rl_err *err);

/* reuse only: send the staged packets again for flow f (addresses, ports,
 * first ip id) and TCP state t (seq of the first byte, ack, window; flags
 * and options stay as staged; t may be NULL for UDP). Rewrites headers in
 * place with incremental checksums, reads no payload: referenced += len,
 * headers += the bytes rewritten. -EBUSY, changing nothing, when a staged
 * frame is still in flight ("wait for completion"). */
int rl_segs_resend(struct rl_segs *s, const struct rl_flow *f, const struct rl_tcp *t,
                   struct rl_ledger *ledger, struct rl_err *err);

/* How many segments from segment `from` on can be queued now. With
 * engine_shared: every one whose frames are held by the program or already
 * on their way (tx, nic, comp) - all of them, unless a frame waits on a
 * receiving rx ring. Without: none of their frames in flight, none shared
 * within the batch. RL_DESC_EXT descriptors have no frame: app memory may
 * be in flight many times. Their descriptors are descs[segs[from].desc ..]
 * up to the end of the last of them. */
uint32_t rl_segs_ready(const struct rl_segs *s, uint32_t from);

/* Descriptors of segments [from, from+n). */
static inline uint32_t rl_segs_ndescs(const struct rl_segs *s, uint32_t from, uint32_t n)
{
	const struct rl_seg *last;

	if (n == 0)
		return 0;
	last = &s->segs[from + n - 1];
	return last->desc + last->ndesc - s->segs[from].desc;
}

/* Unpin the frames this object holds (those in flight go back to the pool
 * when they complete) and free its arrays. Safe on a zeroed rl_segs. */
void rl_segs_free(struct rl_segs *s);

#ifdef __cplusplus
}
#endif
#endif
