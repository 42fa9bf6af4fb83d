/*
 * fuzz_segment.c - rl_segment() with every strategy, protocol, mss, length,
 * checksum mode, frame size and headroom the input picks.
 *
 * Properties, for every input:
 *   - it returns 0 or a negative errno with a message; on an error nothing
 *     is taken (the pool is as it was) and the region is conserved;
 *   - on success every packet's descriptors lie in one frame each (or are
 *     extbuf offsets inside the data), carry CONTD on all but the last,
 *     dissect as TCP/UDP with a good IPv4 checksum and, when computed in
 *     software, a good L4 checksum; TCP seq continues; the payloads put
 *     together are the data byte for byte;
 *   - reuse: a resend with new ports/seq/ip id still dissects with good
 *     checksums and the same payload;
 *   - after rl_segs_free and unpinning the data every frame is back in the
 *     pool and rl_region_check holds (no frame leaks).
 */
#include <errno.h>

#include "fuzz_common.h"
#include "ringlab/err.h"
#include "ringlab/ring.h"
#include "ringlab/segment.h"

#define FRAMES 96u

static void check_packets(const struct rl_segs *s, const uint8_t *src, uint64_t len,
                          bool csum, uint32_t seq0, uint16_t id0)
{
	struct rl_region *r = s->region;
	uint64_t pos = 0;

	FZ_CHECK(s->ndescs >= s->nsegs, "descs %u segs %u", s->ndescs, s->nsegs);
	for (uint32_t i = 0; i < s->nsegs; i++) {
		const struct rl_seg *g = &s->segs[i];
		struct rl_iov v[80];
		struct rl_dissect d;
		uint64_t off = 0;
		int rc;

		FZ_CHECK(g->ndesc >= 1 && g->ndesc <= 80, "seg %u ndesc %u", i, g->ndesc);
		FZ_CHECK(g->desc + g->ndesc <= s->ndescs, "seg %u descs", i);
		for (uint32_t k = 0; k < g->ndesc; k++) {
			const struct rl_desc *dd = &s->descs[g->desc + k];

			FZ_CHECK((dd->options & RL_DESC_CONTD) ==
			             (k + 1 < g->ndesc ? RL_DESC_CONTD : 0u),
			         "seg %u desc %u options %x", i, k, dd->options);
			if (dd->options & RL_DESC_EXT) {
				FZ_CHECK(s->ext && dd->addr + dd->len <= len,
				         "ext desc %llu+%u of %llu",
				         (unsigned long long)dd->addr, dd->len,
				         (unsigned long long)len);
				v[k] = (struct rl_iov){s->ext + dd->addr, dd->len};
			} else {
				FZ_CHECK(rl_region_check_desc(r, dd->addr, dd->len, NULL) == 0,
				         "seg %u desc %u outside a frame", i, k);
				v[k] = (struct rl_iov){rl_region_ptr(r, dd->addr), dd->len};
			}
		}
		rc = rl_dissect(v, g->ndesc, &d);
		FZ_CHECK(rc == 0, "seg %u does not dissect: %s", i, d.problem);
		FZ_CHECK(d.ip_csum_ok, "seg %u ip checksum", i);
		/* tso, gso: a packet's id counts the wire segments before it */
		FZ_CHECK(d.ip_id == (uint16_t)(id0 + (s->params.strategy == RL_SEG_TSO ||
		                                              s->params.strategy == RL_SEG_GSO
		                                          ? (uint32_t)(g->off / s->params.mss)
		                                          : i)),
		         "seg %u ip id %u", i, d.ip_id);
		FZ_CHECK(d.payload_len == g->len, "seg %u payload %u vs %u", i, d.payload_len,
		         g->len);
		FZ_CHECK(g->off == pos, "seg %u off", i);
		if (s->params.proto == RL_IPPROTO_TCP) {
			FZ_CHECK(d.layers & RL_L_TCP, "seg %u not tcp", i);
			FZ_CHECK(!csum || d.tcp_csum_ok, "seg %u tcp checksum", i);
			FZ_CHECK(d.tcp_seq == (uint32_t)(seq0 + pos), "seg %u seq", i);
		} else {
			FZ_CHECK(d.layers & RL_L_UDP, "seg %u not udp", i);
			FZ_CHECK(!csum || d.udp_csum_ok, "seg %u udp checksum", i);
		}
		for (uint32_t k = 0; k < g->ndesc; k++) {
			uint64_t a = off, b = off + v[k].len;
			uint64_t from = a > d.payload_off ? a : d.payload_off;

			if (b > from)
				FZ_CHECK(!memcmp((const uint8_t *)v[k].base + (from - a),
				                 src + pos + (from - d.payload_off), b - from),
				         "seg %u payload differs", i);
			off = b;
		}
		pos += g->len;
	}
	FZ_CHECK(pos == len, "payloads %llu of %llu", (unsigned long long)pos,
	         (unsigned long long)len);
}

static void conserved(const struct rl_region *r, const char *when)
{
	struct rl_err err;

	FZ_CHECK(rl_region_check(r, &err) == 0, "%s: %s", when, err.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t a = fz_u8(&f), b = fz_u8(&f);
	uint32_t fsize = (a & 1) ? 4096 : 2048;
	struct rl_region_params rp = {.frames = FRAMES, .frame_size = fsize,
	                              .headroom = (uint32_t)(fz_u8(&f) % 4) * 128};
	struct rl_seg_params p = {
	    .strategy = (enum rl_seg_strategy)((a >> 1) % RL_SEG_STRATEGIES),
	    .proto = (a & 0x10) ? RL_IPPROTO_UDP : RL_IPPROTO_TCP,
	    .mss = fz_u16(&f) % 9100,
	    .flow = {.src_mac = {2, 0, 0, 0, 0, 1}, .dst_mac = {2, 0, 0, 0, 0, 2},
	             .src_ip = 0xc6120001, .dst_ip = 0xc6120002,
	             .src_port = fz_u16(&f), .dst_port = fz_u16(&f), .ip_id = fz_u16(&f)},
	    .csum = (b & 1) ? RL_CSUM_PARTIAL : RL_CSUM_SOFTWARE,
	    .engine_tso = b & 2, .engine_extbuf = b & 4, .engine_gso = b & 8,
	    .max = (b & 16) ? fz_u16(&f) : 0,
	};
	uint64_t len = fz_u16(&f) % (FRAMES * 1024);
	struct rl_region r;
	struct rl_ledger led;
	struct rl_segs s;
	struct rl_err err;
	uint8_t *src = NULL;
	const uint8_t *dataptr;
	uint64_t span = 0, nfree;
	bool in_region = p.strategy == RL_SEG_BORN || p.strategy == RL_SEG_SG ||
	                 p.strategy == RL_SEG_TSO || p.strategy == RL_SEG_GSO;
	bool csum;
	int rc;

	if (b & 32)
		p.tcp = (struct rl_tcp){.seq = fz_u32(&f), .ack = fz_u32(&f),
		                        .window = fz_u16(&f), .has_ts = true,
		                        .ts_val = 1, .ts_ecr = 2, .has_mss = b & 64,
		                        .mss = 1460};
	if (rl_region_init(&r, &rp, NULL, &err))
		return 0;
	memset(&led, 0, sizeof led);
	memset(&s, 0, sizeof s);
	src = malloc(len ? len : 1);
	for (uint64_t i = 0; i < len; i++)
		src[i] = f.n ? f.p[i % f.n] : (uint8_t)i;
	dataptr = src;
	if (in_region && len && !(b & 128)) {
		if (rl_region_alloc(&r, len, &span, &err)) {
			free(src);
			rl_region_fini(&r);
			return 0;
		}
		memcpy(rl_region_ptr(&r, span), src, len);
		dataptr = rl_region_ptr(&r, span);
	}
	nfree = r.nfree;
	rc = rl_segment(&s, &r, dataptr, len, &p, &led, &err);
	conserved(&r, "after rl_segment");
	if (rc) {
		FZ_CHECK(rc < 0 && err.msg[0], "rc %d without a message", rc);
		FZ_CHECK(r.nfree == nfree, "refused but took %llu frames",
		         (unsigned long long)(nfree - r.nfree));
	} else {
		csum = p.csum == RL_CSUM_SOFTWARE && p.strategy != RL_SEG_TSO &&
		       p.strategy != RL_SEG_GSO;
		check_packets(&s, src, len, csum, p.tcp.seq, p.flow.ip_id);
		if (p.strategy == RL_SEG_REUSE) {
			struct rl_flow f2 = p.flow;
			struct rl_tcp t2 = p.tcp;

			f2.src_port ^= 0x5a5a;
			f2.ip_id = (uint16_t)(p.flow.ip_id + 1000);
			t2.seq += 0x10001;
			t2.ack += 3;
			rc = rl_segs_resend(&s, &f2, p.proto == RL_IPPROTO_TCP ? &t2 : NULL,
			                    &led, &err);
			FZ_CHECK(rc == 0, "resend: %s", err.msg);
			check_packets(&s, src, len, p.csum == RL_CSUM_SOFTWARE,
			              p.proto == RL_IPPROTO_TCP ? t2.seq : 0, f2.ip_id);
		}
		rl_segs_free(&s);
	}
	conserved(&r, "after rl_segs_free");
	if (in_region && len && !(b & 128))
		rl_region_unpin(&r, span, len);
	FZ_CHECK(r.nfree == r.frames, "%u of %u frames back in the pool", r.nfree, r.frames);
	conserved(&r, "at the end");
	rl_region_fini(&r);
	free(src);
	return 0;
}
