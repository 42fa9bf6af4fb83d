/*
 * dpdk_pps.c - packets per second through the DPDK engine, from C.
 *
 * Loads ringlab-engine-dpdk.so with dlopen and drives it through its ops
 * table only, the way the shell does, in batches (batch=N, default 32 -
 * dpdk-testpmd's burst):
 *
 *   txonly  take N free frames, copy the 42 bytes of Ethernet, IPv4 and
 *           UDP headers of a 64-byte UDP frame (made once) into each and
 *           send 64 bytes - as dpdk-testpmd's txonly copies its header
 *           template and leaves the payload as it is - tx, complete. Counts
 *           completed frames: ones the PMD sent and freed (net_null frees
 *           at once, net_af_xdp when the kernel completes them).
 *   rxonly  keep frames offered (fill), rx up to N, release them, fill
 *           again. Counts received frames. net_null invents packets;
 *           net_af_xdp needs a sender on the other end of its veth.
 *   txrx    two ports back to back over two rte_rings (the engine's
 *           peer=: a on vdev=net_ring0, b wired to it): txonly on a and
 *           rxonly on b in one loop. Counts frames b received.
 *
 *   dpdk_pps ENGINE.so txonly|rxonly|txrx SECONDS [key=value...]
 *
 * key=value: dst_mac= src_ip= dst_ip= dst_port= (the frame), batch=N,
 * frames=N (the region, 8192), frame_size=N (2048), headroom=N (128:
 * DPDK's RTE_PKTMBUF_HEADROOM, where dpdk-testpmd's packets start too; the
 * engine raises it to what the objects layout needs - on this machine's
 * CPU headroom=256 measured up to a third slower, an address-aliasing
 * effect, not work), fill=N (frames kept offered for receive:
 * rxonly 512, or what the PMD takes when it starts - net_af_xdp 2048 -
 * for txonly too), and anything else goes to the engine (vdev=,
 * lcores=, rx_desc=...). Prints one line: "ringlab C txonly (VDEV)
 * batch=N: X.XXX Mpps (N packets in S s; Y.YYY Mpps per CPU-second)" -
 * the second figure is packets per second of CPU time this process got
 * (all its threads), steadier when other work competes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringlab/ringlab.h>

#include "bench_util.h"

#define BATCH_MAX 256
#define PKT_LEN BENCH_PKT_LEN

static const struct rl_engine_ops *ops;
static struct rl_engine *eng, *eng_b; /* eng_b: txrx's receiving port */
static struct rl_region *reg;

static void die(const char *what, const struct rl_err *err)
{
	fprintf(stderr, "dpdk_pps: %s: %s\n", what, err ? err->msg : "");
	if (eng_b)
		ops->close(eng_b);
	if (eng)
		ops->close(eng);
	exit(1);
}

static bool bench_key(const char *a)
{
	static const char *const keys[] = {"dst_mac=", "src_ip=", "dst_ip=", "dst_port=",
					   "batch=", "frames=", "fill=", "frame_size=", "headroom="};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strncmp(a, keys[i], strlen(keys[i])))
			return true;
	return false;
}

static void open_engines(const char *so, bool pair, uint32_t frames, int argc, char **argv)
{
	struct rl_region_params p = {
		.frames = frames,
		.frame_size = (uint32_t)atoi(bench_opt(argc, argv, 4, "frame_size", "2048")),
		.headroom = (uint32_t)atoi(bench_opt(argc, argv, 4, "headroom", "128")),
	};
	struct rl_kv kv[32];
	struct rl_open_args a = {.kv = kv};
	struct rl_err err;

	if (!(ops = bench_load(so)))
		die(dlerror(), NULL);
	a.nkv = bench_engine_kv(argc, argv, 4, bench_key, kv, 0, 32);
	rl_err_clear(&err);
	if (ops->open(&eng, &a, &err) < 0)
		die("open", &err);
	if (ops->region(eng, &p, &reg, &err) < 0)
		die("region", &err);
	if (pair) {
		/* b: peer= of a, nothing else (its EAL options are a's) */
		struct rl_open_args b = {.kv = (struct rl_kv[]){{"peer", "a"}}, .nkv = 1,
					 .peer = eng, .peer_ops = ops};
		struct rl_region *rb;

		if (ops->open(&eng_b, &b, &err) < 0)
			die("open peer", &err);
		if (ops->region(eng_b, &p, &rb, &err) < 0)
			die("peer region", &err);
	}
}

/* The one 64-byte frame txonly sends. */
static void make_frame(uint8_t *out, int argc, char **argv)
{
	struct rl_err err;

	rl_err_clear(&err);
	if (bench_make_frame(out, argc, argv, 4, &err) < 0)
		die("frame", &err);
}

static uint32_t batch = 32;

/* Offer frames for receive until `want` are (all or nothing per call). */
static void top_up(struct rl_engine *e, uint32_t *offered, uint32_t want)
{
	struct rl_err err;

	rl_err_clear(&err);
	if (*offered < want && ops->fill(e, want - *offered, &err) > 0)
		*offered = want;
}

/* Take up to batch free frames, write the frame into each, tx on e. */
static void send_batch(struct rl_engine *e, const uint8_t *frame, struct rl_err *err)
{
	static struct rl_desc d[BATCH_MAX]; /* static: tx(e, d, 0) reads nothing */
	uint32_t n = 0;
	uint64_t addr;
	int q;

	while (n < batch && rl_region_take(reg, &addr, NULL) == 0) {
		memcpy(rl_region_ptr(reg, addr + reg->headroom), frame, RL_UDP_HDRS);
		d[n++] = (struct rl_desc){addr + reg->headroom, PKT_LEN, 0};
	}
	/* n == 0 still calls tx: it lets a PMD reap its completions */
	q = ops->tx(e, d, n, err);
	for (uint32_t i = q < 0 ? 0 : (uint32_t)q; i < n; i++)
		rl_region_release(reg, rl_region_frame(reg, d[i].addr), NULL);
}

/* rx up to batch on e and release them; returns how many. */
static uint32_t recv_batch(struct rl_engine *e, struct rl_err *err)
{
	struct rl_desc d[BATCH_MAX];
	int n = ops->rx(e, d, batch, err);

	for (int i = 0; i < n; i++)
		rl_region_release(reg, rl_region_frame(reg, d[i].addr), NULL);
	return n > 0 ? (uint32_t)n : 0;
}

static uint64_t run(const char *mode, double secs, const uint8_t *frame, uint32_t fill)
{
	bool tx = !strcmp(mode, "txonly"), rx = !strcmp(mode, "rxonly");
	struct rl_err err;
	uint64_t done = 0;
	uint32_t offered = 0;
	double stop = bench_now() + secs;

	rl_err_clear(&err);
	top_up(eng, &offered, fill);
	while (bench_now() < stop) {
		for (int k = 0; k < 256; k++) {
			if (tx) {
				int q;

				send_batch(eng, frame, &err);
				q = ops->complete(eng, NULL, BATCH_MAX, &err);
				done += q > 0 ? (uint64_t)q : 0;
			} else if (rx) {
				uint32_t n = recv_batch(eng, &err);

				done += n;
				offered -= n;
				top_up(eng, &offered, fill);
			} else {
				send_batch(eng, frame, &err);
				ops->complete(eng, NULL, BATCH_MAX, &err);
				done += recv_batch(eng_b, &err);
			}
		}
	}
	return done;
}

int main(int argc, char **argv)
{
	uint8_t frame[PKT_LEN];
	double secs, t0, t, c0, cpu;
	uint32_t frames, fill;
	const char *mode, *vdev;
	uint64_t n;

	if (argc < 4 || (strcmp(argv[2], "txonly") && strcmp(argv[2], "rxonly") &&
			 strcmp(argv[2], "txrx"))) {
		fprintf(stderr, "usage: dpdk_pps ENGINE.so txonly|rxonly|txrx SECONDS "
				"vdev=... [key=value...]\n");
		return 2;
	}
	mode = argv[2];
	secs = atof(argv[3]);
	batch = (uint32_t)atoi(bench_opt(argc, argv, 4, "batch", "32"));
	if (batch < 1 || batch > BATCH_MAX)
		batch = 32;
	frames = (uint32_t)atoi(bench_opt(argc, argv, 4, "frames", "8192"));
	fill = (uint32_t)atoi(bench_opt(argc, argv, 4, "fill", strcmp(mode, "rxonly") ? "0" : "512"));
	vdev = strdup(bench_opt(argc, argv, 4, "vdev", "?")); /* open_engines cuts the kv apart */
	make_frame(frame, argc, argv);
	open_engines(argv[1], !strcmp(mode, "txrx"), frames, argc, argv);
	t0 = bench_now();
	c0 = bench_cpu_now();
	n = run(mode, secs, frame, fill);
	t = bench_now() - t0;
	cpu = bench_cpu_now() - c0;
	printf("ringlab C %s (%s) batch=%u: %.3f Mpps (%llu packets in %.2f s; %.3f Mpps per "
	       "CPU-second)\n", mode, vdev, batch,
	       (double)n / t / 1e6, (unsigned long long)n, t,
	       cpu > 0 ? (double)n / cpu / 1e6 : 0.0);
	if (eng_b)
		ops->close(eng_b);
	ops->close(eng);
	return 0;
}
