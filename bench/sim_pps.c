/*
 * sim_pps - how many packets per second two simulator engines move back to
 * back, through the engine ABI, against a loop that does only the memcpy
 * calls the same packets need.
 *
 * The sender A takes free frames, writes a 64-byte UDP frame into each from
 * a template (one copy, as a program that builds packets does), queues them
 * on its TX ring, kicks and collects completions. The receiver B keeps its
 * fill ring stocked, receives and releases. Per packet, the program makes
 * one copy (template -> frame); in zerocopy mode the simulated NIC moves the
 * bytes frame -> wire -> frame (two more: the stand-in for DMA); in copy mode
 * its kernel stand-in goes through a buffer of its own on each side
 * (frame -> kernel -> wire -> kernel -> frame: four more). The baseline loop
 * makes exactly as many memcpy calls of the same size per packet and nothing
 * else, so each ratio is the price of the rings, owners and ledger.
 *
 * usage: bench_sim_pps [seconds-per-figure] [batch]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringlab/ringlab.h>

#include "sim.h"

#define PKT_LEN 64

/* Called through a volatile pointer so that the compiler cannot merge or
 * drop the baseline's copies: each one is a real memcpy call, as in the
 * engines. */
static void *(*volatile copy_fn)(void *, const void *, size_t) = memcpy;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct rl_err *err)
{
	fprintf(stderr, "bench_sim_pps: %s: %s\n", what, err->msg);
	exit(1);
}

static struct rl_engine *open_sim(const struct rl_engine_ops *ops, const char *mode,
				  struct rl_engine *peer, struct rl_region **r)
{
	struct rl_kv kv[] = { { "mode", mode } };
	struct rl_open_args args = { kv, 1, peer, peer ? ops : NULL };
	struct rl_region_params p = { 4096, 2048, 256 };
	struct rl_engine *e;
	struct rl_err err;

	if (ops->open(&e, &args, &err) < 0)
		die("open", &err);
	if (ops->region(e, &p, r, &err) < 0)
		die("region", &err);
	return e;
}

static void make_template(uint8_t *pkt)
{
	struct rl_flow f = { .src_ip = 0xc6120001, .dst_ip = 0xc6120002,
			     .src_port = 9000, .dst_port = 9999 };
	static const uint8_t pay[PKT_LEN - RL_UDP_HDRS];
	struct rl_iov iov = { pay, sizeof(pay) };
	uint64_t touched = 0;
	struct rl_err err;

	memcpy(f.src_mac, "\x02\0\0\0\0\x01", 6);
	memcpy(f.dst_mac, "\x02\0\0\0\0\x02", 6);
	if (rl_build_udp(pkt, RL_UDP_HDRS, &f, &iov, 1, true, &touched, &err) < 0)
		die("template", &err);
	memcpy(pkt + RL_UDP_HDRS, pay, sizeof(pay));
}

/* One sender batch: take, write, queue, kick, complete. */
static uint32_t send_batch(const struct rl_engine_ops *ops, struct rl_engine *a,
			   struct rl_region *ra, const uint8_t *tmpl, uint32_t batch)
{
	struct rl_desc d[256];
	uint64_t done[256];
	struct rl_err err;
	uint32_t n = 0;
	int q;

	while (n < batch && rl_region_take(ra, &d[n].addr, NULL) == 0) {
		d[n].addr += ra->headroom;
		d[n].len = PKT_LEN;
		d[n].options = 0;
		memcpy(rl_region_ptr(ra, d[n].addr), tmpl, PKT_LEN);
		n++;
	}
	q = n ? ops->tx(a, d, n, &err) : 0;
	if (q < 0)
		die("tx", &err);
	for (uint32_t i = q; i < n; i++)    /* did not fit: back to the pool */
		rl_region_release(ra, rl_region_frame(ra, d[i].addr), NULL);
	if (ops->kick(a, &err) < 0)
		die("kick", &err);
	while (ops->complete(a, done, 256, &err) > 0)
		;
	return q;
}

/* One receiver batch: top up the fill ring, receive, release. */
static uint32_t recv_batch(const struct rl_engine_ops *ops, struct rl_engine *b,
			   struct rl_region *rb, uint32_t batch)
{
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	struct rl_desc d[256];
	struct rl_err err;
	uint32_t room = 0;
	int n = ops->rings(b, v, RL_RING_VIEWS_MAX);

	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, "fill") == 0)
			room = v[i].size - v[i].pending;
	if (room > rb->nfree)
		room = rb->nfree;
	if (room && ops->fill(b, room, &err) < 0)
		die("fill", &err);
	n = ops->rx(b, d, batch, &err);
	if (n < 0)
		die("rx", &err);
	for (int i = 0; i < n; i++)
		rl_region_release(rb, rl_region_frame(rb, d[i].addr), NULL);
	return n;
}

static double run_engines(const char *mode, double secs, uint32_t batch,
			  uint64_t *drops)
{
	const struct rl_engine_ops *ops = rl_sim_engine();
	struct rl_region *ra, *rb;
	struct rl_engine *a = open_sim(ops, mode, NULL, &ra);
	struct rl_engine *b = open_sim(ops, mode, a, &rb);
	uint8_t tmpl[PKT_LEN];
	uint64_t got = 0;
	struct rl_stats st;
	double t0, t;

	make_template(tmpl);
	t0 = now();
	do {
		for (int i = 0; i < 64; i++) {
			send_batch(ops, a, ra, tmpl, batch);
			got += recv_batch(ops, b, rb, batch);
		}
		t = now() - t0;
	} while (t < secs);
	ops->stats(b, &st);
	*drops = st.drops;
	ops->close(b);
	ops->close(a);
	return got / t;
}

/* The same bytes moved with nothing but memcpy, `copies` calls per packet
 * along a chain of buffers of the same sizes: template -> A -> wire -> B
 * (3), or with a kernel buffer on each side (5). */
static double run_memcpy(double secs, uint32_t batch, int copies)
{
	uint8_t *ra = aligned_alloc(4096, 4096 * 2048), *rb = aligned_alloc(4096, 4096 * 2048);
	uint8_t *wire = aligned_alloc(4096, 4096 * 2048);
	uint8_t ka[PKT_LEN], kb[PKT_LEN];
	uint8_t tmpl[PKT_LEN];
	uint64_t moved = 0;
	uint32_t slot = 0;
	double t0, t;

	make_template(tmpl);
	memset(ra, 0, 4096 * 2048);
	memset(rb, 0, 4096 * 2048);
	memset(wire, 0, 4096 * 2048);
	t0 = now();
	do {
		for (int i = 0; i < 64; i++) {
			for (uint32_t k = 0; k < batch; k++, slot = (slot + 1) & 4095) {
				size_t off = (size_t)slot * 2048 + 256;

				copy_fn(ra + off, tmpl, PKT_LEN);
				if (copies == 5) {
					copy_fn(ka, ra + off, PKT_LEN);
					copy_fn(wire + off, ka, PKT_LEN);
					copy_fn(kb, wire + off, PKT_LEN);
					copy_fn(rb + off, kb, PKT_LEN);
				} else {
					copy_fn(wire + off, ra + off, PKT_LEN);
					copy_fn(rb + off, wire + off, PKT_LEN);
				}
			}
			moved += batch;
		}
		/* keep the compiler from dropping the copies */
		__asm__ volatile("" : : "r"(rb), "r"(ka), "r"(kb) : "memory");
		t = now() - t0;
	} while (t < secs);
	free(ra);
	free(rb);
	free(wire);
	return moved / t;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	uint32_t batch = argc > 2 ? (uint32_t)atoi(argv[2]) : 64;
	uint64_t dcopy, dzc;
	double copy, zc, base3, base5;

	if (secs <= 0 || batch == 0 || batch > 256) {
		fprintf(stderr, "usage: bench_sim_pps [seconds > 0] [batch 1..256]\n");
		return 2;
	}
	copy = run_engines("copy", secs, batch, &dcopy);
	zc = run_engines("zerocopy", secs, batch, &dzc);
	base3 = run_memcpy(secs, batch, 3);
	base5 = run_memcpy(secs, batch, 5);
	printf("two sim engines back to back, %d-byte UDP frames, batch %u, %.1f s each\n",
	       PKT_LEN, batch, secs);
	printf("  %-34s %8.2f Mpps  (drops %llu)\n", "sim copy mode, C API", copy / 1e6,
	       (unsigned long long)dcopy);
	printf("  %-34s %8.2f Mpps  (drops %llu)\n", "sim zerocopy mode, C API", zc / 1e6,
	       (unsigned long long)dzc);
	printf("  %-34s %8.2f Mpps\n", "memcpy only, 5 copies/packet", base5 / 1e6);
	printf("  %-34s %8.2f Mpps\n", "memcpy only, 3 copies/packet", base3 / 1e6);
	printf("  ratio sim copy / memcpy(5)     %.3f\n", copy / base5);
	printf("  ratio sim zerocopy / memcpy(3) %.3f\n", zc / base3);
	return 0;
}
