/*
 * segment.c - the C side of bench/segment.sh: the bare limit of cutting
 * data into segments, and rl_segment() itself without Lua or an engine.
 *
 *   bench_segment [rounds] [bytes] [mss] [strategy [csum]]
 *
 * The limit is what no strategy that copies can beat: a plain memcpy of
 * the same bytes into 2048-byte frames, MSS by MSS, each piece behind room
 * for 54 bytes of headers, and nothing else (no headers written, no
 * checksum, no frame taken from a pool). Then the floor of a software
 * checksum that does not copy: a sum (rl_csum_partial) of the same bytes,
 * MSS by MSS - born and sg with csum software must read every payload byte
 * so, and cannot be faster. Then rl_segment() of the same
 * bytes on a core region (no engine) with each strategy the core can cut
 * alone, csum software and offload, and a resend of reuse's staged
 * packets (headers rewritten, payload untouched). The data lies in the
 * region, as a buffer from r:alloc() does: born and sg need that, copy
 * copies it from there into other frames.
 *
 * Every figure is the best of `rounds` (the machine is shared: the best is
 * the one least disturbed), as microseconds per MiB and GB/s:
 *   limit memcpy  <us> us/MiB  <GB/s> GB/s
 *   limit sum     <us> us/MiB  <GB/s> GB/s
 *   C <strategy> <csum>  <us> us/MiB  <GB/s> GB/s
 * bench/segment.sh reads these lines. A strategy (and csum) given: only
 * its lines, for a profiler (perf record -g bench_segment 2000 1048576
 * 1448 sg offload).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define FRAMES 2048
#define FRAME_SIZE 2048
#define HEADROOM 256

static double mib_of(uint64_t bytes)
{
	return (double)bytes / (1 << 20);
}

static void print_row(const char *what, double secs, uint64_t bytes)
{
	printf("%-26s %8.1f us/MiB %7.2f GB/s\n", what, secs * 1e6 / mib_of(bytes),
	       (double)bytes / secs / 1e9);
}

/* The C library's memcpy, the one rl_segment's copies call (a direct call
 * here may be inlined as another copy loop). */
static void *(*volatile copy)(void *, const void *, size_t) = memcpy;

/* The limit: bytes copied MSS by MSS into frames, nothing else. */
static double limit(const uint8_t *src, uint8_t *frames, uint64_t len, uint32_t mss,
                    int rounds)
{
	double best = 1e9;

	for (int r = 0; r < rounds; r++) {
		double t0 = bench_now();
		uint8_t *f = frames;

		for (uint64_t off = 0; off < len; off += mss, f += FRAME_SIZE) {
			uint64_t n = len - off < mss ? len - off : mss;

			copy(f + HEADROOM + RL_TCP_HDRS, src + off, n);
		}
		t0 = bench_now() - t0;
		/* the compiler must not drop the copies */
		__asm__ volatile("" : : "r"(frames) : "memory");
		if (t0 < best)
			best = t0;
	}
	return best;
}

/* The floor of a software checksum in place: the bytes summed MSS by MSS
 * (what born and sg with csum software read), nothing else. */
static double sum_limit(const uint8_t *src, uint64_t len, uint32_t mss, int rounds)
{
	double best = 1e9;

	for (int r = 0; r < rounds; r++) {
		double t0 = bench_now();
		uint32_t s = 0;

		for (uint64_t off = 0; off < len; off += mss)
			s += rl_csum_partial(src + off, len - off < mss ? len - off : mss, 0);
		t0 = bench_now() - t0;
		__asm__ volatile("" : : "r"(s)); /* the sums must be done */
		if (t0 < best)
			best = t0;
	}
	return best;
}

/* rl_segment() of the data at addr with strategy st; for reuse, what a
 * resend costs. Returns the best time, or a negative value on error. */
static double segment(struct rl_region *r, uint64_t addr, uint64_t len,
                      const struct rl_seg_params *p, bool resend, int rounds)
{
	double best = 1e9;
	struct rl_err err = {0};

	for (int i = 0; i < rounds; i++) {
		struct rl_segs s;
		double t0 = bench_now(), t;

		if (rl_segment(&s, r, rl_region_ptr(r, addr), len, p, NULL, &err) < 0) {
			fprintf(stderr, "bench_segment: %s\n", err.msg);
			return -1;
		}
		t = bench_now() - t0;
		if (resend) {
			struct rl_flow f = p->flow;
			struct rl_tcp tcp = p->tcp;

			f.ip_id = (uint16_t)(f.ip_id + 1000);
			tcp.seq += 1u << 20;
			t0 = bench_now();
			if (rl_segs_resend(&s, &f, &tcp, NULL, &err) < 0) {
				fprintf(stderr, "bench_segment: %s\n", err.msg);
				rl_segs_free(&s);
				return -1;
			}
			t = bench_now() - t0;
		}
		rl_segs_free(&s);
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	uint64_t len = argc > 2 ? strtoull(argv[2], NULL, 0) : 1 << 20;
	uint32_t mss = argc > 3 ? (uint32_t)atoi(argv[3]) : 1448;
	const char *only = argc > 4 ? argv[4] : NULL, *only_csum = argc > 5 ? argv[5] : NULL;
	struct rl_region_params rp = {
	    .frames = FRAMES, .frame_size = FRAME_SIZE, .headroom = HEADROOM};
	static const enum rl_seg_strategy st[] = {RL_SEG_COPY, RL_SEG_REUSE, RL_SEG_BORN,
	                                          RL_SEG_SG};
	struct rl_region r;
	struct rl_err err = {0};
	uint8_t *src;
	uint64_t addr;

	if (rounds < 1 || len == 0 || mss == 0 || mss > FRAME_SIZE - HEADROOM - RL_TCP_HDRS ||
	    (len + mss - 1) / mss + (len >> 11) + 2 > FRAMES) {
		fprintf(stderr, "usage: bench_segment [rounds >= 1] [bytes, at most "
		                "about 1.3 MiB] [mss <= %d]\n",
		        FRAME_SIZE - HEADROOM - RL_TCP_HDRS);
		return 2;
	}
	if (rl_region_init(&r, &rp, NULL, &err) < 0) {
		fprintf(stderr, "bench_segment: %s\n", err.msg);
		return 1;
	}
	/* the data, born in the region as r:alloc() makes it */
	if (rl_region_alloc(&r, len, &addr, &err) < 0) {
		fprintf(stderr, "bench_segment: %s\n", err.msg);
		return 1;
	}
	src = rl_region_ptr(&r, addr);
	for (uint64_t i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 131 + (i >> 8));
	/* the limit copies into the frames behind the data's */
	print_row("limit memcpy", limit(src, (uint8_t *)rl_region_ptr(&r, 0) +
	                                          (r.size / 2 & ~(uint64_t)(FRAME_SIZE - 1)),
	                                len, mss, rounds),
	          len);
	print_row("limit sum", sum_limit(src, len, mss, rounds), len);
	for (int c = 0; c < 2; c++)
		for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++) {
			struct rl_seg_params p = {
			    .strategy = st[k],
			    .proto = RL_IPPROTO_TCP,
			    .mss = mss,
			    .flow = {.src_mac = {2, 0, 0, 0, 0, 1},
			             .dst_mac = {2, 0, 0, 0, 0, 2},
			             .src_ip = 0xc6120001,
			             .dst_ip = 0xc6120002,
			             .src_port = 40000,
			             .dst_port = 8080},
			    .tcp = {.seq = 1, .ack = 1, .window = 65535},
			    .csum = c ? RL_CSUM_PARTIAL : RL_CSUM_SOFTWARE,
			};
			char what[64];
			double t;

			if ((only && strcmp(only, rl_seg_strategy_name(st[k]))) ||
			    (only_csum && strcmp(only_csum, c ? "offload" : "software")))
				continue;
			t = segment(&r, addr, len, &p, st[k] == RL_SEG_REUSE, rounds);
			if (t < 0)
				return 1;
			snprintf(what, sizeof(what), "C %s%s %s", rl_seg_strategy_name(st[k]),
			         st[k] == RL_SEG_REUSE ? "-resend" : "",
			         c ? "offload" : "software");
			print_row(what, t, len);
		}
	rl_region_fini(&r);
	return 0;
}
