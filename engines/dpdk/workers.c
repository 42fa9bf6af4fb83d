/*
 * workers.c - a C loop per queue, each on an lcore of its own (issue 14.3).
 *
 * e:workers{loop=, queues=, seconds=}: worker i runs queue[i] - the first
 * on the main lcore (the thread that called, which waits there), worker i
 * on lcore i through rte_eal_remote_launch - then all are joined with
 * rte_eal_wait_lcore. The loops:
 *
 *   rxdrop  rte_eth_rx_burst on its queue, free what came
 *   txonly  take a burst of mbufs from the region's mempool (frames the
 *           program offered with fill), write a 64-byte UDP frame's 42
 *           header bytes into each, rte_eth_tx_burst; what the PMD does
 *           not take is freed
 *   fwd     rx_burst, then tx_burst of the same packets out of that queue
 *
 * Every frame the workers use goes fill -> nic (the PMD takes it from the
 * mempool) -> fill (freed back): pool.c's driver moves the owners. Those
 * moves touch the shared fill stack and the owner counts, so while more
 * than one worker runs, pool.c takes a spinlock around each mempool get
 * and put (p->mt), and each worker's lcore has its mempool cache switched
 * on (128 mbufs: DPDK's get skips a cache no larger than the request), so the lock is taken
 * once per bulk, not per packet; a frame in a cache is owned by nic (the
 * driver moved it when the cache took it). The program's thread is inside
 * this call, so nothing else touches the region. After the join the
 * caches are flushed back to the driver (nic -> fill) and switched off:
 * owners sum to frames again, every frame where the driver says.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dpdk.h"

#define W_FRAME 64 /* bytes on the wire of a txonly frame */
/* A worker's mempool cache: more than a burst, as DPDK's get bypasses the
 * cache for a request as large as it (n >= size) */
#define W_CACHE (2 * DPDK_BURST)

struct worker {
	struct rl_engine *e;
	const struct rl_workers_args *a;
	struct rl_worker_result *res;
	uint16_t queue;
	uint64_t until;          /* TSC */
};

/* Ethernet, IPv4, UDP of a 64-byte frame, 198.18.0.1 -> 198.18.0.2:9. */
static const uint8_t hdr[42] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
	0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0x52, 0x8d, 198, 18, 0, 1, 198, 18, 0, 2,
	0x23, 0x28, 0, 9, 0, 30, 0, 0,
};

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int worker_run(void *arg)
{
	struct worker *w = arg;
	struct rl_engine *e = w->e;
	const struct rl_workers_args *a = w->a;
	struct rte_mbuf *pkts[DPDK_BURST];
	uint64_t pk = 0, by = 0, t0 = rte_get_tsc_cycles(), now = t0;
	uint32_t spin = 0;
	double cpu0 = thread_cpu();

	while (!(a->stop && *a->stop) && (!a->packets || pk < a->packets)) {
		uint16_t n = 0, sent = 0;

		if (++spin == 64) { /* the clock every 64 bursts */
			spin = 0;
			now = rte_get_tsc_cycles();
			if (w->until && now >= w->until)
				break;
		}
		if (a->loop == RL_WORKER_TXONLY) {
			if (rte_pktmbuf_alloc_bulk(e->p->mp, pkts, DPDK_BURST) != 0)
				continue; /* every frame out: wait for the PMD's frees */
			n = DPDK_BURST;
			for (uint16_t i = 0; i < n; i++) {
				memcpy(rte_pktmbuf_mtod(pkts[i], uint8_t *), hdr, sizeof(hdr));
				pkts[i]->data_len = W_FRAME;
				pkts[i]->pkt_len = W_FRAME;
			}
			sent = rte_eth_tx_burst(e->port, w->queue, pkts, n);
			pk += sent;
			by += (uint64_t)sent * W_FRAME;
		} else {
			n = rte_eth_rx_burst(e->port, w->queue, pkts, DPDK_BURST);
			if (!n)
				continue;
			pk += n;
			for (uint16_t i = 0; i < n; i++)
				by += pkts[i]->pkt_len;
			sent = a->loop == RL_WORKER_FWD ? rte_eth_tx_burst(e->port, w->queue, pkts, n)
							 : 0;
		}
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	now = rte_get_tsc_cycles();
	w->res->packets = pk;
	w->res->bytes = by;
	w->res->seconds = (double)(now - t0) / (double)rte_get_tsc_hz();
	w->res->cpu_seconds = thread_cpu() - cpu0;
	return 0;
}

/* After the join: what waits in the workers' caches goes back to the
 * driver (nic -> fill), the caches inert again, one thread again. */
static void caches_off(struct dpdk_pool *p, const unsigned *lcore, unsigned n)
{
	for (unsigned i = 0; p->tx_cache && i < n; i++) {
		struct rte_mempool_cache *c = &p->mp->local_cache[lcore[i]];

		rte_mempool_cache_flush(c, p->mp);
		dpdk_cache_off(c);
	}
	p->mt = false;
}

static void lcores_list(char *out, size_t cap)
{
	unsigned l;
	size_t n = 0;

	out[0] = '\0';
	RTE_LCORE_FOREACH(l)
		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%u", n ? "," : "", l);
}

int dpdk_workers(struct rl_engine *e, const struct rl_workers_args *a,
		 struct rl_worker_result *out, unsigned n, struct rl_err *err)
{
	struct worker w[RL_QUEUES_MAX];
	unsigned lcore[RL_QUEUES_MAX], main_lc = rte_get_main_lcore();
	uint32_t want = 4 * DPDK_BURST * n; /* a cache's worth and bursts */
	uint64_t hz = rte_get_tsc_hz();
	struct dpdk_pool *p = e->p;
	char have[128];
	cpu_set_t was;
	bool pinned;
	int rc;

	if (n < 1 || n > RL_QUEUES_MAX || n > e->o.queues)
		return rl_err_set(err, EINVAL, "workers: %u workers for %u queue(s) - at most one "
				  "per queue (open with queues=N for more)", n, e->o.queues);
	for (unsigned i = 0; i < n; i++) {
		if (a->queue[i] >= e->o.queues)
			return rl_err_set(err, EINVAL, "workers: queue %u - this port has queues "
					  "0 to %u", a->queue[i], e->o.queues - 1);
		for (unsigned j = 0; j < i; j++)
			if (a->queue[j] == a->queue[i])
				return rl_err_set(err, EINVAL, "workers: queue %u twice - one "
						  "worker per queue", a->queue[i]);
	}
	/* worker 0 on the main lcore, worker i on lcore i */
	lcores_list(have, sizeof(have));
	for (unsigned i = 0; i < n; i++) {
		lcore[i] = i ? i : main_lc;
		if (i && (i == main_lc || !rte_lcore_is_enabled(i) ||
			  rte_eal_get_lcore_state(i) != WAIT))
			return rl_err_set(err, EINVAL, "workers: queue %u needs lcore %u but the "
					  "EAL runs on lcores %s - open the first dpdk engine "
					  "with lcores=0-%u (in a new ringlab: the EAL starts "
					  "once), or give queues=1", a->queue[i], i, have, n - 1);
	}
	if (!p->have_region)
		return rl_err_set(err, ENOENT, "workers: the dpdk engine has no region yet - make "
				  "one first: e:region{frames=4096, frame_size=2048}");
	if (e->peer)
		return rl_err_set(err, EINVAL, "workers: not on a peer= pair (two engines share "
				  "its region) - open one port with queues=N");
	if (p->region.frames < want)
		return rl_err_set(err, ENOBUFS, "workers: %u workers need %u frames to cycle "
				  "through the mempool and the region has %u - make a larger "
				  "region (e:region{frames=%u})", n, want, p->region.frames,
				  want > 4096 ? want : 4096);
	if (p->nfill < want) { /* frames to take from the mempool */
		rc = dpdk_offer(e, want - p->nfill, err);
		if (rc < 0)
			return rc;
	}
	rc = dpdk_ready(e, err);
	if (rc < 0)
		return rc;
	memset(out, 0, n * sizeof(*out));
	p->mt = n > 1;
	/* each worker's lcore gets its mempool cache: most gets and puts stay
	 * on its own core, the driver (and its lock) sees bulks */
	for (unsigned i = 0; p->tx_cache && i < n; i++)
		dpdk_cache_on(&p->mp->local_cache[lcore[i]], W_CACHE);
	for (unsigned i = 0; i < n; i++) {
		w[i] = (struct worker){e, a, &out[i], (uint16_t)a->queue[i],
				       a->seconds > 0 ? rte_get_tsc_cycles() +
								(uint64_t)(a->seconds * (double)hz)
						      : 0};
		out[i].queue = a->queue[i];
		out[i].lcore = lcore[i];
	}
	/* the program's thread may run on any CPU (eal.c gives it all back);
	 * worker 0 runs on its main lcore's CPUs, as the others do on theirs,
	 * else the scheduler may put it beside worker 1 */
	pinned = n > 1 && pthread_getaffinity_np(pthread_self(), sizeof(was), &was) == 0;
	if (pinned) {
		rte_cpuset_t main_set = rte_lcore_cpuset(main_lc);

		pinned = pthread_setaffinity_np(pthread_self(), sizeof(main_set), &main_set) == 0;
	}
	for (unsigned i = 1; i < n; i++)
		if (rte_eal_remote_launch(worker_run, &w[i], lcore[i]) != 0) {
			/* cannot happen after the WAIT check above; stop what runs */
			for (unsigned j = 1; j < i; j++)
				rte_eal_wait_lcore(lcore[j]);
			caches_off(p, lcore, n);
			if (pinned)
				pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
			return rl_err_set(err, EBUSY, "workers: lcore %u is busy", lcore[i]);
		}
	worker_run(&w[0]);
	for (unsigned i = 1; i < n; i++)
		rte_eal_wait_lcore(lcore[i]);
	caches_off(p, lcore, n);
	if (pinned)
		pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	for (unsigned i = 0; i < n; i++) {
		struct rl_queue_info *q = &e->qinfo[out[i].queue];

		if (a->loop != RL_WORKER_TXONLY) {
			q->rx_pkts += out[i].packets;
			q->rx_bytes += out[i].bytes;
			e->rx_pkts += out[i].packets;
			e->rx_bytes += out[i].bytes;
		}
		if (a->loop == RL_WORKER_TXONLY) {
			q->tx_pkts += out[i].packets;
			q->tx_bytes += out[i].bytes;
			e->tx_pkts += out[i].packets;
			e->tx_bytes += out[i].bytes;
		}
	}
	return (int)n;
}
