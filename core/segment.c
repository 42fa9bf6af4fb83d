/*
 * segment.c - data larger than one MTU, turned into packets.
 *
 * rl_segment() works in three steps. First it checks everything it can
 * before touching the region: the parameters, where the data is (caller
 * memory, or a span the program holds in the region), how many segments
 * and frames it takes, and whether that many frames are free. Then it
 * builds the segments one by one, each in the shape its strategy gives it
 * (see segment.h): a copy frame with headers and payload, or headers in the
 * headroom or in a header frame, chained with descriptors that point at the
 * payload where it already lies, cut at frame boundaries because a
 * descriptor never crosses a frame. Last, and only when all went well, it
 * adds what it did to the ledger; on failure it gives back every frame it
 * took, so an error leaves the region and the ledger as they were.
 *
 * Frames the segments need are taken before building, the lowest free
 * first, with rl_region_alloc() of each run of free frames (the frames
 * rl_region_alloc(r, 1) would give one at a time), which pins them: the
 * engine's completion then leaves them held by us, so a staged (reuse)
 * frame survives its sends and rl_segs_free() returns everything with
 * rl_region_unpin(), a run at a time, in flight or not.
 *
 * The cost is in the middle segments (all but the first and the last):
 * build_run() makes them in one loop, their headers from a template of the
 * first (rl_tcp_tmpl_write: a copy and a few stores, the checksums from
 * sums taken once), copy's payload summed while it is copied, born/sg's
 * summed in one piece; the ledger is counted once per call.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ringlab/checksum.h"
#include "ringlab/segment.h"

static const char *const strategy_names[RL_SEG_STRATEGIES] = {
    [RL_SEG_COPY] = "copy", [RL_SEG_REUSE] = "reuse", [RL_SEG_BORN] = "born",
    [RL_SEG_SG] = "sg",     [RL_SEG_TSO] = "tso",     [RL_SEG_EXTBUF] = "extbuf",
    [RL_SEG_GSO] = "gso",
};

const char *rl_seg_strategy_name(enum rl_seg_strategy s)
{
	if ((unsigned)s >= RL_SEG_STRATEGIES)
		return "?";
	return strategy_names[s];
}

int rl_seg_strategy_parse(const char *name, enum rl_seg_strategy *out, struct rl_err *err)
{
	for (int i = 0; i < RL_SEG_STRATEGIES; i++) {
		if (name && strcmp(name, strategy_names[i]) == 0) {
			*out = (enum rl_seg_strategy)i;
			return 0;
		}
	}
	return rl_err_set(err, EINVAL,
	                  "strategy '%s' is not known - use copy, reuse, born, sg, "
	                  "extbuf, gso or tso",
	                  name ? name : "");
}

/* ---- checking before anything is taken ------------------------------------ */

/* What rl_segment() works out before it builds. */
struct plan {
	struct rl_segs *s;
	struct rl_region *r;
	const uint8_t *data;
	uint64_t addr; /* data's address when it lies in the region */
	bool in_region;
	uint32_t per_pkt; /* payload bytes per packet (mss, or more for tso) */
	uint32_t frames;  /* frames to take */
	uint32_t max_descs;
	bool unaligned; /* born/sg on an engine with RL_CAP_UNALIGNED */
	struct rl_ledger led; /* what this call did, added at the end */
	/* TCP: the headers of the first segment built that was not the last
	 * one, and its payload length - the template of the next ones of that
	 * length (rl_tcp_tmpl_write) */
	bool have_tmpl;
	uint32_t tmpl_len;
	struct rl_tcp_tmpl tmpl;
	uint32_t next_frame; /* the next of s->held to hand out (take_frame) */
};

static bool needs_region_data(enum rl_seg_strategy st)
{
	return st == RL_SEG_BORN || st == RL_SEG_SG || st == RL_SEG_TSO ||
	       st == RL_SEG_GSO;
}

/* tso, gso: one large packet, cut later by the NIC or the engine. */
static bool cut_later(enum rl_seg_strategy st)
{
	return st == RL_SEG_TSO || st == RL_SEG_GSO;
}

static int check_params(const struct rl_seg_params *p, uint64_t len, struct rl_err *err)
{
	if ((unsigned)p->strategy >= RL_SEG_STRATEGIES)
		return rl_err_set(err, EINVAL,
		                  "strategy %d is not known - use copy, reuse, born, sg, "
		                  "extbuf, gso or tso",
		                  (int)p->strategy);
	if (p->proto != RL_IPPROTO_TCP && p->proto != RL_IPPROTO_UDP)
		return rl_err_set(
		    err, EINVAL,
		    "protocol %u cannot be segmented - use proto=\"tcp\" or "
		    "\"udp\"",
		    p->proto);
	if (p->mss == 0)
		return rl_err_set(
		    err, EINVAL,
		    "mss=0 - give the payload bytes per segment (1448 for TCP "
		    "on a 1500-byte MTU with timestamps)");
	if (len == 0)
		return rl_err_set(err, EINVAL,
		                  "no data to segment - give at least one byte");
	if (p->strategy == RL_SEG_TSO && !p->engine_tso)
		return rl_err_set(
		    err, EOPNOTSUPP,
		    "this engine cannot segment (no TSO) - use strategy sg, "
		    "born or copy, where the lab cuts the segments");
	if (cut_later(p->strategy) && p->proto != RL_IPPROTO_TCP)
		return rl_err_set(err, EOPNOTSUPP,
		                  "%s cuts TCP only - use proto=\"tcp\", or sg for UDP",
		                  rl_seg_strategy_name(p->strategy));
	if (p->strategy == RL_SEG_EXTBUF && !p->engine_extbuf)
		return rl_err_set(
		    err, EOPNOTSUPP,
		    "this engine cannot send memory outside its region (no extbuf: "
		    "DPDK's external mbufs) - use strategy sg, born or copy");
	if (p->strategy == RL_SEG_GSO && !p->engine_gso)
		return rl_err_set(
		    err, EOPNOTSUPP,
		    "this engine cannot segment in software (no GSO: DPDK's "
		    "rte_gso_segment) - use strategy sg, born or copy");
	return 0;
}

static uint32_t hdr_len_of(const struct rl_seg_params *p)
{
	return p->proto == RL_IPPROTO_TCP ? rl_tcp_hdrs_len(&p->tcp) : RL_UDP_HDRS;
}

/* Largest payload one IPv4 packet with these headers can carry. */
static uint32_t ip_payload_max(uint32_t hdr_len)
{
	return 65535u - (hdr_len - RL_ETH_HLEN);
}

static int check_sizes(struct plan *pl, const struct rl_seg_params *p, uint64_t len,
                       struct rl_err *err)
{
	const struct rl_region *r = pl->r;
	uint32_t hl = pl->s->hdr_len, max = ip_payload_max(hl);
	uint64_t first = len < p->mss ? len : p->mss;

	if (p->mss > max)
		return rl_err_set(err, EMSGSIZE,
		                  "mss=%" PRIu32
		                  " does not fit one IPv4 packet with %" PRIu32
		                  " header bytes - use mss <= %" PRIu32,
		                  p->mss, hl, max);
	if ((p->strategy == RL_SEG_COPY || p->strategy == RL_SEG_REUSE) &&
	    r->headroom + hl + first > r->frame_size)
		return rl_err_set(
		    err, EMSGSIZE,
		    "%s puts one segment per frame, but %" PRIu64 " payload + %" PRIu32
		    " header bytes do not fit a %" PRIu32 "-byte frame after %" PRIu32
		    " bytes of headroom - use mss <= %" PRIu32 " or larger frames",
		    rl_seg_strategy_name(p->strategy), first, hl, r->frame_size,
		    r->headroom, r->frame_size - r->headroom - hl);
	pl->per_pkt = p->mss;
	if (cut_later(p->strategy)) {
		if (p->max && p->max < max)
			max = p->max;
		pl->per_pkt = max < p->mss ? p->mss : max / p->mss * p->mss;
	}
	return 0;
}

/* born/sg/tso: the data must be a span of the region the program holds. */
static int check_region_data(struct plan *pl, uint64_t len, struct rl_err *err)
{
	struct rl_region *r = pl->r;
	uint32_t first, n;
	int rc;

	if (!pl->in_region)
		return rl_err_set(
		    err, EINVAL,
		    "%s sends data that is already in the region, but this "
		    "data is elsewhere - allocate it with r:alloc(), or use "
		    "strategy copy or reuse",
		    rl_seg_strategy_name(pl->s->params.strategy));
	if ((rc = rl_region_check_span(r, pl->addr, len, err)))
		return rc;
	rl_region_span_frames(r, pl->addr, len, &first, &n);
	for (uint32_t f = first; f < first + n; f++)
		if (rl_region_owner(r, f) != RL_OWN_APP || rl_region_is_free(r, f))
			return rl_err_set(
			    err, EPERM,
			    "frame %" PRIu32 " of the data is %s - send only "
			    "data the program holds (r:alloc), after completion",
			    f,
			    rl_region_is_free(r, f)
			        ? "free in the pool"
			        : rl_owner_name(rl_region_owner(r, f)));
	return 0;
}

/* born: does the first segment's header go into the headroom in front of
 * the data? Only the first: behind it, the bytes in front of a segment are
 * the previous segment's payload. */
static bool born_headroom(const struct plan *pl)
{
	const struct rl_region *r = pl->r;

	return pl->s->params.strategy == RL_SEG_BORN && pl->s->hdr_len <= r->headroom &&
	       (pl->addr & (r->frame_size - 1)) == r->headroom;
}

static uint32_t count_frames(const struct plan *pl)
{
	return born_headroom(pl) ? pl->s->nsegs - 1 : pl->s->nsegs;
}

static int check_frames(struct plan *pl, uint64_t len, struct rl_err *err)
{
	pl->frames = count_frames(pl);
	if (pl->frames > pl->r->nfree)
		return rl_err_set(
		    err, ENOBUFS,
		    "%" PRIu64 " bytes in %" PRIu32 " segments need %" PRIu32
		    " free frames but the region has %" PRIu32 " free (of %" PRIu32
		    ") - complete() sent frames, release "
		    "received ones, or use a larger region",
		    len, pl->s->nsegs, pl->frames, pl->r->nfree, pl->r->frames);
	return 0;
}

static int plan(struct plan *pl, const struct rl_seg_params *p, uint64_t len,
                struct rl_err *err)
{
	struct rl_segs *s = pl->s;
	uint64_t nsegs;
	int rc;

	if ((rc = check_params(p, len, err)))
		return rc;
	s->hdr_len = hdr_len_of(p);
	if ((rc = check_sizes(pl, p, len, err)))
		return rc;
	if (needs_region_data(p->strategy) && (rc = check_region_data(pl, len, err)))
		return rc;
	if (p->strategy == RL_SEG_EXTBUF && pl->in_region)
		return rl_err_set(
		    err, EINVAL,
		    "extbuf sends memory outside the region, and this data is "
		    "in it - use strategy sg or born for region data");
	nsegs = (len + pl->per_pkt - 1) / pl->per_pkt;
	if (nsegs > pl->r->frames)
		return rl_err_set(err, ENOBUFS,
		                  "%" PRIu64 " bytes at mss %" PRIu32 " are %" PRIu64
		                  " segments, more than the region's %" PRIu32
		                  " frames - use a larger region or send less at once",
		                  len, p->mss, nsegs, pl->r->frames);
	s->nsegs = (uint32_t)nsegs;
	if ((rc = check_frames(pl, len, err)))
		return rc;
	/* A header descriptor, and the frames a segment's payload can touch. */
	pl->max_descs = s->nsegs * (2 + pl->per_pkt / pl->r->frame_size + 1);
	return 0;
}

/* ---- building ------------------------------------------------------------- */

/* Take the frames the segments need, all before building, the lowest free
 * first - the frames rl_region_alloc(r, 1) would give one by one, in the
 * same order - but a run of free frames at a time: one rl_region_alloc()
 * of the whole run instead of a call, a search and a check per frame. */
static int take_frames(struct plan *pl, struct rl_err *err)
{
	struct rl_region *r = pl->r;
	struct rl_segs *s = pl->s;
	uint32_t need = pl->frames;

	while (need) {
		uint32_t f = r->low_free, k = 0; /* no frame below low_free is free */
		uint64_t a;
		int rc;

		while (f < r->frames && !rl_region_is_free(r, f))
			f++;
		while (k < need && f + k < r->frames && rl_region_is_free(r, f + k))
			k++;
		/* the run's frames exactly (rl_region_alloc adds the headroom);
		 * k = 0 cannot happen (plan checked nfree): alloc says why */
		rc = rl_region_alloc(r, k ? ((uint64_t)k << r->frame_shift) - r->headroom : 1,
		                     &a, err);
		if (rc)
			return rc;
		if (!k)
			k = 1;
		for (uint32_t j = 0, n = s->nheld; j < k; j++)
			s->held[n + j] = a + ((uint64_t)j << r->frame_shift);
		s->nheld += k;
		need -= k;
	}
	return 0;
}

/* The next of the frames take_frames() took (build_all takes exactly as
 * many as count_frames() said). */
static uint64_t take_frame(struct plan *pl)
{
	return pl->s->held[pl->next_frame++];
}

static struct rl_desc *add_desc(struct rl_segs *s, uint64_t addr, uint32_t len)
{
	struct rl_desc *d = &s->descs[s->ndescs++];

	*d = (struct rl_desc){.addr = addr, .len = len, .options = RL_DESC_CONTD};
	return d;
}

/* Write segment i's headers at hdr for its payload pieces. */
static int build_headers(struct plan *pl, const struct rl_seg *g, uint8_t *hdr,
                         const struct rl_iov *pay, unsigned npay, bool last,
                         struct rl_err *err)
{
	const struct rl_seg_params *p = &pl->s->params;
	enum rl_csum_mode mode = cut_later(p->strategy) ? RL_CSUM_PARTIAL : p->csum;
	struct rl_flow f;
	struct rl_tcp t;
	int rc;

	if (p->proto == RL_IPPROTO_TCP && pl->have_tmpl && !last && g->len == pl->tmpl_len) {
		uint32_t sum = 0;

		/* the payload lies in one piece in memory (the pieces are cut
		 * only at frame boundaries of a contiguous span) */
		if (mode == RL_CSUM_SOFTWARE) {
			sum = rl_csum_partial(pl->data + g->off, g->len, 0);
			pl->led.touched += g->len;
		}
		rl_tcp_tmpl_write(&pl->tmpl, hdr, g->ip_id, g->seq, sum);
		return (int)pl->s->hdr_len;
	}
	f = p->flow;
	t = p->tcp;
	f.ip_id = g->ip_id;
	if (p->proto == RL_IPPROTO_UDP) {
		rc = rl_build_udp(hdr, pl->s->hdr_len, &f, pay, npay,
		                  mode == RL_CSUM_SOFTWARE, &pl->led.touched, err);
		if (rc > 0 && mode == RL_CSUM_PARTIAL) {
			uint16_t c = (uint16_t)~rl_csum_fold(
			    rl_csum_pseudo(f.src_ip, f.dst_ip, RL_IPPROTO_UDP,
			                   (uint16_t)(RL_UDP_HLEN + g->len)));

			hdr[RL_UDP_HDRS - 2] = (uint8_t)(c >> 8);
			hdr[RL_UDP_HDRS - 1] = (uint8_t)c;
		}
		return rc;
	}
	t.seq = g->seq;
	t.flags = (t.flags ? t.flags : RL_TCP_ACK) | (last ? RL_TCP_PSH : 0);
	rc = rl_build_tcp(hdr, pl->s->hdr_len, &f, &t, pay, npay, mode, &pl->led.touched,
	                  err);
	if (rc > 0 && !last && !pl->have_tmpl) {
		rl_tcp_tmpl_init(&pl->tmpl, hdr, pl->s->hdr_len, g->len, mode);
		pl->have_tmpl = true;
		pl->tmpl_len = g->len;
	}
	return rc;
}

/* copy / reuse: a frame of its own, headers then the payload copied in. */
static int build_copied(struct plan *pl, struct rl_seg *g, bool last, struct rl_err *err)
{
	struct rl_segs *s = pl->s;
	uint64_t a;
	uint8_t *hdr;
	struct rl_iov pay;
	int rc;

	a = take_frame(pl);
	hdr = rl_region_ptr(pl->r, a);
	if (pl->have_tmpl && !last && g->len == pl->tmpl_len &&
	    s->params.proto == RL_IPPROTO_TCP) {
		uint32_t sum = 0;

		if (s->params.csum == RL_CSUM_SOFTWARE) {
			/* one pass: the payload summed while it is copied */
			sum = rl_csum_copy(hdr + s->hdr_len, pl->data + g->off, g->len, 0);
			pl->led.touched += g->len;
		} else {
			memcpy(hdr + s->hdr_len, pl->data + g->off, g->len);
		}
		rl_tcp_tmpl_write(&pl->tmpl, hdr, g->ip_id, g->seq, sum);
	} else {
		memcpy(hdr + s->hdr_len, pl->data + g->off, g->len);
		pay = (struct rl_iov){hdr + s->hdr_len, g->len};
		if ((rc = build_headers(pl, g, hdr, &pay, 1, last, err)) < 0)
			return rc;
	}
	g->ndesc = 1;
	add_desc(s, a, s->hdr_len + g->len);
	return 0;
}

/* extbuf: a header frame, then the payload where it lies outside the
 * region - one RL_DESC_EXT descriptor naming its offset in the data. */
static int build_ext(struct plan *pl, struct rl_seg *g, bool last, struct rl_err *err)
{
	struct rl_segs *s = pl->s;
	struct rl_iov pay = {(void *)(pl->data + g->off), g->len};
	uint64_t h;
	int rc;

	h = take_frame(pl);
	add_desc(s, h, s->hdr_len);
	add_desc(s, g->off, g->len)->options |= RL_DESC_EXT;
	g->ndesc = 2;
	g->header_frame = true;
	if ((rc = build_headers(pl, g, rl_region_ptr(pl->r, h), &pay, 1, last, err)) < 0)
		return rc;
	return 0;
}

/* Payload descriptors for bytes [addr, addr+len) of the region, cut at frame
 * boundaries; their pieces go to pay. The first may already be open (born's
 * headroom descriptor) and is then extended instead. */
static unsigned add_payload(struct plan *pl, struct rl_seg *g, uint64_t addr,
                            uint32_t len, struct rl_desc *open, struct rl_iov *pay)
{
	const struct rl_region *r = pl->r;
	unsigned n = 0;

	while (len) {
		uint64_t end = rl_region_frame_addr(r, rl_region_frame(r, addr) + 1);
		uint32_t take = end - addr < len ? (uint32_t)(end - addr) : len;

		if (pl->unaligned) /* one descriptor may cross frames */
			take = len;

		if (open) {
			open->len += take;
			open = NULL;
		} else {
			add_desc(pl->s, addr, take);
			g->ndesc++;
		}
		pay[n++] = (struct rl_iov){rl_region_ptr(r, addr), take};
		addr += take;
		len -= take;
	}
	return n;
}

/* born / sg / tso: payload in place, headers in front (born, when the
 * headroom is there) or in a header frame chained in front. */
static int build_in_place(struct plan *pl, struct rl_seg *g, struct rl_iov *pay,
                          bool last, struct rl_err *err)
{
	struct rl_segs *s = pl->s;
	const struct rl_region *r = pl->r;
	uint64_t paddr = pl->addr + g->off, h;
	struct rl_desc *open = NULL;
	unsigned npay;
	int rc;

	if (born_headroom(pl) && g->off == 0) {
		h = paddr - s->hdr_len;
		open = add_desc(s, h, s->hdr_len);
	} else {
		h = take_frame(pl);
		add_desc(s, h, s->hdr_len);
		g->header_frame = true;
	}
	g->ndesc = 1;
	npay = add_payload(pl, g, paddr, g->len, open, pay);
	if ((rc = build_headers(pl, g, rl_region_ptr(r, h), pay, npay, last, err)) < 0)
		return rc;
	return 0;
}

/* Does segment g start in the frame where the previous one ended? */
static bool shares_prev(const struct plan *pl, const struct rl_seg *g)
{
	uint64_t a = pl->addr + g->off;

	if (!needs_region_data(pl->s->params.strategy) || g->off == 0)
		return false;
	return rl_region_frame(pl->r, a) == rl_region_frame(pl->r, a - 1);
}

/* The segments between the first and the last, all of per_pkt bytes, of
 * copy, reuse, born and sg over TCP: what build_copied() and
 * build_in_place() make of them - the same descriptors, segment records
 * and bytes - in one loop with what they share kept in locals: headers
 * from the template (rl_tcp_tmpl_write), frames from those taken, and for
 * born/sg the payload cut at frame boundaries (not at all when unaligned).
 * The middle of a large send is almost all of it: this loop is the cost of
 * rl_segment(). */
static bool run_ok(const struct plan *pl)
{
	enum rl_seg_strategy st = pl->s->params.strategy;

	return pl->have_tmpl && pl->tmpl_len == pl->per_pkt &&
	       (st == RL_SEG_COPY || st == RL_SEG_REUSE || st == RL_SEG_BORN ||
	        st == RL_SEG_SG);
}

static void build_run(struct plan *pl, uint32_t from, uint32_t to)
{
	struct rl_segs *s = pl->s;
	const struct rl_seg_params *p = &s->params;
	const struct rl_region *r = pl->r;
	const uint32_t hl = s->hdr_len, len = pl->per_pkt, fsize = r->frame_size;
	const uint64_t fmask = fsize - 1;
	const bool sw = p->csum == RL_CSUM_SOFTWARE, copied = !needs_region_data(p->strategy);
	struct rl_desc *d = s->descs + s->ndescs;
	uint32_t nf = pl->next_frame;

	for (uint32_t i = from; i < to; i++) {
		uint64_t off = (uint64_t)i * len, h = s->held[nf++];
		uint8_t *hdr = rl_region_ptr(r, h);
		struct rl_seg *g = &s->segs[i];
		uint32_t sum = 0;

		*g = (struct rl_seg){.desc = (uint32_t)(d - s->descs),
		                     .off = off,
		                     .len = len,
		                     .seq = p->tcp.seq + (uint32_t)off,
		                     .ip_id = (uint16_t)(p->flow.ip_id + i)};
		if (copied) {
			if (sw) /* one pass: the payload summed while it is copied */
				sum = rl_csum_copy(hdr + hl, pl->data + off, len, 0);
			else
				memcpy(hdr + hl, pl->data + off, len);
			*d++ = (struct rl_desc){.addr = h, .len = hl + len};
			g->ndesc = 1;
		} else {
			uint64_t a = pl->addr + off;
			uint32_t left = len;

			*d++ = (struct rl_desc){.addr = h, .len = hl, .options = RL_DESC_CONTD};
			while (left) {
				uint32_t take = (uint32_t)(fsize - (a & fmask));

				if (take > left || pl->unaligned)
					take = left;
				*d++ = (struct rl_desc){
				    .addr = a, .len = take, .options = RL_DESC_CONTD};
				a += take;
				left -= take;
			}
			d[-1].options &= ~RL_DESC_CONTD; /* the packet ends here */
			g->ndesc = (uint32_t)(d - s->descs) - g->desc;
			g->header_frame = true;
			/* its first byte's frame is the previous one's last's */
			g->shares_prev = ((pl->addr + off) & fmask) != 0;
			if (sw)
				sum = rl_csum_partial(pl->data + off, len, 0);
		}
		rl_tcp_tmpl_write(&pl->tmpl, hdr, g->ip_id, g->seq, sum);
	}
	if (sw)
		pl->led.touched += (uint64_t)(to - from) * len;
	s->ndescs = (uint32_t)(d - s->descs);
	pl->next_frame = nf;
}

static int build_all(struct plan *pl, uint64_t len, struct rl_err *err)
{
	struct rl_segs *s = pl->s;
	const struct rl_seg_params *p = &s->params;
	struct rl_iov *pay = NULL;
	int rc = 0;

	if (needs_region_data(p->strategy) &&
	    !(pay = calloc(pl->per_pkt / pl->r->frame_size + 2, sizeof(*pay))))
		return rl_err_set(err, ENOMEM, "out of memory planning the segments");
	for (uint32_t i = 0; i < s->nsegs && rc == 0; i++) {
		struct rl_seg *g;
		uint64_t off;
		bool last;

		if (i + 1 < s->nsegs && run_ok(pl)) { /* all but the last */
			build_run(pl, i, s->nsegs - 1);
			i = s->nsegs - 1;
		}
		g = &s->segs[i];
		off = (uint64_t)i * pl->per_pkt;
		last = i + 1 == s->nsegs;
		*g = (struct rl_seg){.desc = s->ndescs,
		                     .off = off,
		                     .len = (uint32_t)(last ? len - off : pl->per_pkt),
		                     .seq = p->tcp.seq + (uint32_t)off,
		                     /* tso, gso: the segments cut from the
		                      * packets before take ids too */
		                     .ip_id = (uint16_t)(p->flow.ip_id +
		                                         (cut_later(p->strategy)
		                                              ? (uint32_t)(off / p->mss)
		                                              : i))};
		g->shares_prev = shares_prev(pl, g);
		rc = pay ? build_in_place(pl, g, pay, last, err)
		     : p->strategy == RL_SEG_EXTBUF ? build_ext(pl, g, last, err)
		                                    : build_copied(pl, g, last, err);
		if (rc == 0) /* the packet ends here */
			s->descs[s->ndescs - 1].options &= ~RL_DESC_CONTD;
	}
	free(pay);
	/* the payload, counted once for the whole call: copy and reuse
	 * copied it into their frames, the others point at it */
	if (rc == 0)
		rl_ledger_count(&pl->led,
		                p->strategy == RL_SEG_COPY || p->strategy == RL_SEG_REUSE
		                    ? RL_LEDGER_COPIED
		                    : RL_LEDGER_REFERENCED,
		                len, RL_DIR_TX);
	return rc;
}

void rl_segs_free(struct rl_segs *s)
{
	/* a run of consecutive frames (take_frames took them so) at a time */
	for (uint32_t i = 0, n; s->region && i < s->nheld; i += n) {
		for (n = 1; i + n < s->nheld &&
		            s->held[i + n] == s->held[i] + ((uint64_t)n << s->region->frame_shift);
		     n++)
			;
		rl_region_unpin(s->region, s->held[i],
		                ((uint64_t)(n - 1) << s->region->frame_shift) + 1);
	}
	free(s->held);
	free(s->segs);
	free(s->descs);
	memset(s, 0, sizeof(*s));
}

static void locate(struct plan *pl, const void *data)
{
	const uint8_t *d = data, *base = pl->r->base;

	pl->data = d;
	pl->in_region = d && d >= base && d < base + pl->r->size;
	pl->addr = pl->in_region ? (uint64_t)(d - base) : 0;
}

static int alloc_arrays(struct plan *pl, struct rl_err *err)
{
	struct rl_segs *s = pl->s;

	/* not zeroed: every record and descriptor is written whole before
	 * it is read (and held up to nheld) */
	s->segs = malloc((size_t)s->nsegs * sizeof(*s->segs));
	s->descs = malloc((size_t)pl->max_descs * sizeof(*s->descs));
	s->held = malloc((size_t)(pl->frames ? pl->frames : 1) * sizeof(*s->held));
	if (!s->segs || !s->descs || !s->held)
		return rl_err_set(err, ENOMEM,
		                  "out of memory for %" PRIu32
		                  " segments - send less at once",
		                  s->nsegs);
	return 0;
}

int rl_segment(struct rl_segs *out, struct rl_region *r, const void *data, uint64_t len,
               const struct rl_seg_params *p, struct rl_ledger *ledger,
               struct rl_err *err)
{
	struct rl_segs *s = out;
	struct plan pl = {.s = s, .r = r};
	int rc;

	if (!out || !r || !p)
		return rl_err_set(err, EINVAL,
		                  "rl_segment needs segs, a region and params");
	memset(s, 0, sizeof(*s));
	s->region = r;
	s->params = *p;
	s->len = len;
	locate(&pl, data);
	pl.unaligned = p->engine_unaligned &&
	               (p->strategy == RL_SEG_BORN || p->strategy == RL_SEG_SG);
	if (p->strategy == RL_SEG_EXTBUF)
		s->ext = pl.data;
	if (!data && len)
		return rl_err_set(err, EINVAL, "no data given - pass the bytes to send");
	if ((rc = plan(&pl, p, len, err)) || (rc = alloc_arrays(&pl, err)) ||
	    (rc = take_frames(&pl, err)) || (rc = build_all(&pl, len, err))) {
		rl_segs_free(s);
		return rc;
	}
	/* segmenting is the transmit path: every count here is tx */
	rl_ledger_count(&pl.led, RL_LEDGER_HEADERS, (uint64_t)s->hdr_len * s->nsegs,
	                RL_DIR_TX);
	s->next_seq = p->tcp.seq + (uint32_t)len;
	s->next_ip_id = (uint16_t)(p->flow.ip_id +
	                           (cut_later(p->strategy) ? (len + p->mss - 1) / p->mss
	                                                   : s->nsegs));
	if (!ledger)
		ledger = r->ledger;
	if (ledger)
		rl_ledger_add(ledger, &pl.led);
	return 0;
}

/* ---- sending again ---------------------------------------------------------- */

static bool frame_held(const struct rl_region *r, uint32_t f)
{
	return rl_region_owner(r, f) == RL_OWN_APP && !rl_region_is_free(r, f);
}

/* engine_shared: a frame already on its way in other descriptors (tx, nic,
 * comp) may be in one more. A segs frame owned by nic is a sent one (no
 * segs frame is offered for receive); one waiting on an rx ring (net_ring
 * hands the sent buffer to the receiver) is not. */
static bool frame_sendable(const struct rl_segs *s, uint32_t f)
{
	enum rl_owner o = rl_region_owner(s->region, f);

	if (!s->params.engine_shared)
		return frame_held(s->region, f);
	return o == RL_OWN_TX || o == RL_OWN_NIC || o == RL_OWN_COMP ||
	       frame_held(s->region, f);
}

uint32_t rl_segs_ready(const struct rl_segs *s, uint32_t from)
{
	uint32_t n = 0;

	for (uint32_t i = from; i < s->nsegs; i++, n++) {
		const struct rl_seg *g = &s->segs[i];

		/* one descriptor per frame at a time: a segment that shares a
		 * frame with the one before waits for its completion */
		if (i > from && g->shares_prev && !s->params.engine_shared)
			break;
		for (uint32_t k = g->desc; k < g->desc + g->ndesc; k++) {
			const struct rl_desc *d = &s->descs[k];
			uint32_t f, nf;

			if (d->options & RL_DESC_EXT)
				continue;
			/* 1 frame, or more for an unaligned descriptor */
			rl_region_span_frames(s->region, d->addr, d->len, &f, &nf);
			for (uint32_t j = f; j < f + nf; j++)
				if (!frame_sendable(s, j))
					return n;
		}
	}
	return n;
}

static int check_resend(const struct rl_segs *s, struct rl_err *err)
{
	if (!s->region || s->params.strategy != RL_SEG_REUSE)
		return rl_err_set(
		    err, EINVAL,
		    "only segments of strategy reuse can be sent again (these "
		    "are %s) - segment with strategy=\"reuse\"",
		    rl_seg_strategy_name(s->params.strategy));
	for (uint32_t i = 0; i < s->ndescs; i++) {
		uint32_t f = rl_region_frame(s->region, s->descs[i].addr);

		if (rl_region_owner(s->region, f) == RL_OWN_RX)
			return rl_err_set(
			    err, EBUSY,
			    "staged frame %" PRIu32 " waits on a receiving rx ring: "
			    "the port handed the sent buffer itself to the receiver "
			    "(net_ring) - receive it (e:rx(), recv) before sending "
			    "again",
			    f);
		if (!frame_held(s->region, f))
			return rl_err_set(
			    err, EBUSY,
			    "staged frame %" PRIu32 " is still owned by %s - wait "
			    "for its completion (complete, or e:complete()) before sending "
			    "again",
			    f, rl_owner_name(rl_region_owner(s->region, f)));
	}
	return 0;
}

/* The rewrite that turns the staged headers into those of flow f, t. */
static int resend_rewrite(const struct rl_segs *s, const struct rl_flow *f,
                          const struct rl_tcp *t, struct rl_rewrite *rw,
                          struct rl_err *err)
{
	*rw = (struct rl_rewrite){
	    .what = RL_RW_PORTS | RL_RW_IP_ID | RL_RW_ADDRS,
	    .partial = s->params.csum == RL_CSUM_PARTIAL,
	    .src_ip = f->src_ip,
	    .dst_ip = f->dst_ip,
	    .src_port = f->src_port,
	    .dst_port = f->dst_port,
	};
	memcpy(rw->src_mac, f->src_mac, 6);
	memcpy(rw->dst_mac, f->dst_mac, 6);
	if (s->params.proto != RL_IPPROTO_TCP)
		return 0;
	if (!t)
		return rl_err_set(
		    err, EINVAL,
		    "a TCP resend needs seq/ack/window - pass the connection's "
		    "state");
	rw->what |= RL_RW_SEQ | RL_RW_ACK | RL_RW_WINDOW;
	rw->ack = t->ack;
	rw->window = t->window;
	return 0;
}

/* Remember what was sent last, for next_seq and the next resend. */
static void resend_done(struct rl_segs *s, const struct rl_flow *f,
                        const struct rl_tcp *t)
{
	s->params.flow = *f;
	if (t) {
		s->params.tcp.seq = t->seq;
		s->params.tcp.ack = t->ack;
		s->params.tcp.window = t->window;
	}
	s->next_seq = (t ? t->seq : 0) + (uint32_t)s->len;
	s->next_ip_id = (uint16_t)(f->ip_id + s->nsegs);
	s->resends++;
}

int rl_segs_resend(struct rl_segs *s, const struct rl_flow *f, const struct rl_tcp *t,
                   struct rl_ledger *ledger, struct rl_err *err)
{
	struct rl_ledger led = {0};
	struct rl_rewrite rw;
	int rc;

	if ((rc = check_resend(s, err)))
		return rc;
	if (!f)
		return rl_err_set(err, EINVAL, "resend needs the flow to send on");
	if ((rc = resend_rewrite(s, f, t, &rw, err)))
		return rc;
	for (uint32_t i = 0; i < s->nsegs; i++) {
		struct rl_seg *g = &s->segs[i];

		g->ip_id = rw.ip_id = (uint16_t)(f->ip_id + i);
		g->seq = rw.seq = (t ? t->seq : 0) + (uint32_t)g->off;
		rc = rl_hdr_rewrite(rl_region_ptr(s->region, s->descs[g->desc].addr),
		                    s->hdr_len, &rw, err);
		if (rc < 0)
			return rc; /* cannot happen: these headers were built here */
		rl_ledger_count(&led, RL_LEDGER_HEADERS, (uint64_t)rc, RL_DIR_TX);
		rl_ledger_count(&led, RL_LEDGER_REFERENCED, g->len, RL_DIR_TX);
	}
	resend_done(s, f, t);
	if (!ledger)
		ledger = s->region->ledger;
	if (ledger)
		rl_ledger_add(ledger, &led);
	return 0;
}
