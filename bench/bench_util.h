/*
 * bench_util.h - what the C benchmarks that load an engine share: clocks
 * (wall and CPU), key=value arguments, loading an engine's .so through its
 * one exported symbol (as the shell does), and the 64-byte UDP frame that
 * txonly sends. Header-only: each benchmark is one program.
 */
#ifndef RINGLAB_BENCH_UTIL_H
#define RINGLAB_BENCH_UTIL_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ringlab/ringlab.h>

#define BENCH_PKT_LEN 64

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time this process used, user and system, all threads: under other
 * load the wall-clock rate varies, packets per CPU-second much less. */
static inline double bench_cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* The value of key=value among argv[first..], or def. */
static inline const char *bench_opt(int argc, char **argv, int first, const char *key,
				    const char *def)
{
	size_t n = strlen(key);

	for (int i = first; i < argc; i++)
		if (!strncmp(argv[i], key, n) && argv[i][n] == '=')
			return argv[i] + n + 1;
	return def;
}

/* The ops table of the engine in `so`, or NULL (dlerror() says why). */
static inline const struct rl_engine_ops *bench_load(const char *so)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	rl_engine_entry_fn fn;

	if (!h || !(fn = (rl_engine_entry_fn)dlsym(h, RL_ENGINE_SYMBOL)))
		return NULL;
	return fn();
}

/* The key=value arguments from argv[first..] that are the engine's (not
 * the benchmark's own, which mine() recognises) into kv; cuts argv apart
 * at the '='. Returns how many. */
static inline unsigned bench_engine_kv(int argc, char **argv, int first,
				       bool (*mine)(const char *), struct rl_kv *kv,
				       unsigned nkv, unsigned max)
{
	for (int i = first; i < argc && nkv < max; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq && !mine(argv[i])) {
			*eq = '\0';
			kv[nkv++] = (struct rl_kv){argv[i], eq + 1};
		}
	}
	return nkv;
}

/* The one 64-byte UDP frame txonly sends, from dst_mac= src_ip= dst_ip=
 * dst_port= among argv[first..]. */
static inline int bench_make_frame(uint8_t *out, int argc, char **argv, int first,
				   struct rl_err *err)
{
	static const char payload[BENCH_PKT_LEN - RL_UDP_HDRS];
	struct rl_iov iov = {payload, sizeof(payload)};
	struct rl_flow f = {.src_mac = {2, 0, 0, 0, 0, 1}, .src_port = 9000};
	uint64_t touched = 0;

	if (rl_parse_mac(bench_opt(argc, argv, first, "dst_mac", "02:00:00:00:00:02"),
			 f.dst_mac, err) < 0 ||
	    rl_parse_ip4(bench_opt(argc, argv, first, "src_ip", "198.18.0.1"), &f.src_ip,
			 NULL, false, err) < 0 ||
	    rl_parse_ip4(bench_opt(argc, argv, first, "dst_ip", "198.18.0.2"), &f.dst_ip,
			 NULL, false, err) < 0)
		return -1;
	f.dst_port = (uint16_t)atoi(bench_opt(argc, argv, first, "dst_port", "9"));
	if (rl_build_udp(out, RL_UDP_HDRS, &f, &iov, 1, true, &touched, err) < 0)
		return -1;
	memcpy(out + RL_UDP_HDRS, payload, sizeof(payload));
	return 0;
}

#endif
