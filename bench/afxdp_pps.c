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
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ringlab/ringlab.h>

#define BATCH_MAX 1024
#define FRAMES 4096
#define PKT_LEN 64

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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time this process used, user and system: under other load the wall
 * clock rate varies, packets per CPU-second much less. */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static const char *opt(int argc, char **argv, const char *key, const char *def)
{
	size_t n = strlen(key);

	for (int i = 5; i < argc; i++)
		if (!strncmp(argv[i], key, n) && argv[i][n] == '=')
			return argv[i] + n + 1;
	return def;
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
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	struct rl_kv kv[32];
	struct rl_open_args a = {.kv = kv};
	rl_engine_entry_fn fn;
	struct rl_err err;

	if (!h || !(fn = (rl_engine_entry_fn)dlsym(h, RL_ENGINE_SYMBOL)))
		die(dlerror(), NULL);
	ops = fn();
	kv[a.nkv++] = (struct rl_kv){"ifname", ifname};
	for (int i = 5; i < argc && a.nkv < 32; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq && !frame_key(argv[i])) {
			*eq = '\0';
			kv[a.nkv++] = (struct rl_kv){argv[i], eq + 1};
		}
	}
	rl_err_clear(&err);
	if (ops->open(&eng, &a, &err) < 0)
		die("open", &err);
	if (ops->region(eng, &p, &reg, &err) < 0)
		die("region", &err);
}

/* The one 64-byte frame txonly sends. */
static void make_frame(uint8_t *out, int argc, char **argv)
{
	static const char payload[PKT_LEN - RL_UDP_HDRS];
	struct rl_iov iov = {payload, sizeof(payload)};
	struct rl_flow f = {.src_mac = {2, 0, 0, 0, 0, 1}};
	uint64_t touched = 0;
	struct rl_err err;
	uint16_t port;

	rl_err_clear(&err);
	if (rl_parse_mac(opt(argc, argv, "dst_mac", "02:00:00:00:00:02"), f.dst_mac, &err) < 0 ||
	    rl_parse_ip4(opt(argc, argv, "src_ip", "198.18.0.1"), &f.src_ip, NULL, false, &err) < 0 ||
	    rl_parse_ip4(opt(argc, argv, "dst_ip", "198.18.0.2"), &f.dst_ip, NULL, false, &err) < 0)
		die("frame", &err);
	port = (uint16_t)atoi(opt(argc, argv, "dst_port", "9"));
	f.src_port = 9000;
	f.dst_port = port;
	if (rl_build_udp(out, RL_UDP_HDRS, &f, &iov, 1, true, &touched, &err) < 0)
		die("frame", &err);
	memcpy(out + RL_UDP_HDRS, payload, sizeof(payload));
}

static uint32_t batch = 256;

static uint64_t txonly(double secs, const uint8_t *frame)
{
	struct rl_desc d[BATCH_MAX];
	struct rl_err err;
	uint64_t done = 0;
	double stop = now() + secs;

	rl_err_clear(&err);
	while (now() < stop) {
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
	double stop = now() + secs;
	int n;

	rl_err_clear(&err);
	ops->fill(eng, 2048, &err);
	while (now() < stop) {
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
	batch = (uint32_t)atoi(opt(argc, argv, "batch", "256"));
	if (batch < 1 || batch > BATCH_MAX)
		batch = 256;
	make_frame(frame, argc, argv);
	open_engine(argv[1], argv[3], argc, argv);
	t0 = now();
	c0 = cpu_now();
	n = tx ? txonly(secs, frame) : rxdrop(secs);
	t = now() - t0;
	cpu = cpu_now() - c0;
	printf("afxdp C %s: %.3f Mpps (%llu packets in %.2f s; %.3f Mpps per CPU-second)\n",
	       argv[2], (double)n / t / 1e6, (unsigned long long)n, t,
	       cpu > 0 ? (double)n / cpu / 1e6 : 0.0);
	ops->close(eng);
	return 0;
}
