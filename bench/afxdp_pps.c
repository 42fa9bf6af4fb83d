/*
 * afxdp_pps.c - packets per second through the AF_XDP engine, from C.
 *
 * Loads ringlab-engine-afxdp.so with dlopen and drives it through its ops
 * table only, the way the shell does, in batches (batch=N, default 256):
 *
 *   txonly  take N free frames, copy a 64-byte UDP frame (headers and
 *           22 payload bytes, made once) into each - as dpdk-testpmd's
 *           txonly copies its header template - tx, kick, complete.
 *           Counts completed frames: sent by the kernel.
 *   rxdrop  keep the fill ring full, rx up to N, release them, fill again.
 *           Counts received frames. Something else must send (afxdp.sh
 *           runs this program in txonly mode on the other end of the veth).
 *
 *   afxdp_pps ENGINE.so txonly|rxdrop IFNAME SECONDS [key=value...]
 *
 * key=value: dst_mac= src_ip= dst_ip= dst_port= (txonly, the frame),
 * batch=N, and anything else goes to the engine (mode=copy, steer=all,
 * tx_budget=...). Prints one line: "afxdp C txonly: X.XXX Mpps (N packets
 * in S s; Y.YYY Mpps per CPU-second)" - the second figure is packets per
 * second of CPU time this process got, steadier when other work competes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringlab/ringlab.h>

#include "bench_util.h"

#define BATCH_MAX 1024
#define FRAMES 4096
#define PKT_LEN BENCH_PKT_LEN

static const struct rl_engine_ops *ops;
static struct rl_engine *eng;
static struct rl_region *reg;

static void die(const char *what, const struct rl_err *err)
{
	fprintf(stderr, "afxdp_pps: %s: %s\n", what, err ? err->msg : "");
	if (eng)
		ops->close(eng);
	exit(1);
}

static bool frame_key(const char *a)
{
	return !strncmp(a, "dst_mac=", 8) || !strncmp(a, "src_ip=", 7) ||
	       !strncmp(a, "dst_ip=", 7) || !strncmp(a, "dst_port=", 9) ||
	       !strncmp(a, "batch=", 6);
}

static void open_engine(const char *so, const char *ifname, int argc, char **argv)
{
	struct rl_region_params p = {.frames = FRAMES, .frame_size = 2048, .headroom = 256};
	struct rl_kv kv[32] = {{"ifname", ifname}};
	struct rl_open_args a = {.kv = kv};
	struct rl_err err;

	if (!(ops = bench_load(so)))
		die(dlerror(), NULL);
	a.nkv = bench_engine_kv(argc, argv, 5, frame_key, kv, 1, 32);
	rl_err_clear(&err);
	if (ops->open(&eng, &a, &err) < 0)
		die("open", &err);
	if (ops->region(eng, &p, &reg, &err) < 0)
		die("region", &err);
}

/* The one 64-byte frame txonly sends. */
static void make_frame(uint8_t *out, int argc, char **argv)
{
	struct rl_err err;

	rl_err_clear(&err);
	if (bench_make_frame(out, argc, argv, 5, &err) < 0)
		die("frame", &err);
}

static uint32_t batch = 256;

static uint64_t txonly(double secs, const uint8_t *frame)
{
	struct rl_desc d[BATCH_MAX];
	struct rl_err err;
	uint64_t done = 0;
	double stop = bench_now() + secs;

	rl_err_clear(&err);
	while (bench_now() < stop) {
		for (int k = 0; k < 64; k++) {
			uint32_t n = 0;
			uint64_t addr;
			int q;

			while (n < batch && rl_region_take(reg, &addr, NULL) == 0) {
				memcpy(rl_region_ptr(reg, addr + reg->headroom), frame, PKT_LEN);
				d[n++] = (struct rl_desc){addr + reg->headroom, PKT_LEN, 0};
			}
			q = n ? ops->tx(eng, d, n, &err) : 0;
			for (uint32_t i = q < 0 ? 0 : (uint32_t)q; i < n; i++)
				rl_region_release(reg, rl_region_frame(reg, d[i].addr), NULL);
			if (ops->kick(eng, &err) < 0)
				die("kick", &err);
			q = ops->complete(eng, NULL, FRAMES, &err);
			done += q > 0 ? (uint64_t)q : 0;
		}
	}
	return done;
}

static uint64_t rxdrop(double secs)
{
	struct rl_desc d[BATCH_MAX];
	struct rl_err err;
	uint64_t got = 0;
	uint32_t owed = 0; /* frames received but not yet back on the fill ring */
	double stop = bench_now() + secs;
	int n;

	rl_err_clear(&err);
	ops->fill(eng, 2048, &err);
	while (bench_now() < stop) {
		for (int k = 0; k < 64; k++) {
			n = ops->rx(eng, d, batch, &err);
			if (n <= 0) {
				ops->kick(eng, &err); /* need_wakeup: poll() for rx */
				continue;
			}
			for (int i = 0; i < n; i++)
				rl_region_release(reg, rl_region_frame(reg, d[i].addr), NULL);
			got += (uint64_t)n;
			/* fill() is all or nothing, and the kernel publishes its fill
			 * consumer index lazily: what does not fit now goes next time. */
			owed += (uint32_t)n;
			if (ops->fill(eng, owed, &err) > 0)
				owed = 0;
		}
	}
	return got;
}

int main(int argc, char **argv)
{
	uint8_t frame[PKT_LEN];
	double secs, t0, t, c0, cpu;
	uint64_t n;
	bool tx;

	if (argc < 5) {
		fprintf(stderr, "usage: afxdp_pps ENGINE.so txonly|rxdrop IFNAME SECONDS [key=value...]\n");
		return 2;
	}
	tx = !strcmp(argv[2], "txonly");
	secs = atof(argv[4]);
	batch = (uint32_t)atoi(bench_opt(argc, argv, 5, "batch", "256"));
	if (batch < 1 || batch > BATCH_MAX)
		batch = 256;
	make_frame(frame, argc, argv);
	open_engine(argv[1], argv[3], argc, argv);
	t0 = bench_now();
	c0 = bench_cpu_now();
	n = tx ? txonly(secs, frame) : rxdrop(secs);
	t = bench_now() - t0;
	cpu = bench_cpu_now() - c0;
	printf("afxdp C %s: %.3f Mpps (%llu packets in %.2f s; %.3f Mpps per CPU-second)\n",
	       argv[2], (double)n / t / 1e6, (unsigned long long)n, t,
	       cpu > 0 ? (double)n / cpu / 1e6 : 0.0);
	ops->close(eng);
	return 0;
}
