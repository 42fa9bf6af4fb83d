/*
 * dpdk.c - the DPDK engine: ringlab's model over a DPDK port.
 *
 * DPDK drives a NIC from user space: a poll-mode driver (PMD) moves packets
 * between the NIC and mbufs, and the program calls rte_eth_rx_burst and
 * rte_eth_tx_burst. ringlab drives one port of a virtual device (vdev=:
 * net_ring, net_null, net_af_packet, net_tap, net_memif, ...) with one RX
 * and one TX queue, over a region whose frames are the mbufs' data
 * buffers (pool.c). A region address is the offset of a byte from the
 * region's base, so a descriptor says which mbuf and where in its buffer.
 *
 *   fill      frames pushed into the mempool, for the PMD to receive into
 *   tx        descriptors -> an mbuf chain (RL_DESC_CONTD links segments;
 *             the port must offer RTE_ETH_TX_OFFLOAD_MULTI_SEGS) ->
 *             rte_eth_tx_burst; what the PMD does not take waits in the tx
 *             staging queue (sent on the next tx, and on kick)
 *   rx        rte_eth_rx_burst -> the program, a descriptor per segment;
 *             what does not fit, or follows a packet that does not, waits
 *             in the rx staging queue (owner rx)
 *   complete  frames the PMD freed after sending (seen by our mempool
 *             driver, owner comp) -> app
 *
 * The datapath makes one pass over a burst: each packet is checked, its
 * mbuf set and its frames' owners moved in the same loop, and the owner
 * counts are added up once per burst, before DPDK runs again or the call
 * returns. So between calls every frame's owner is exact and owners sum to
 * frames; a move the model did not expect goes through rl_region_move,
 * which says why (model_errors).
 * What a PMD hides (how many of its descriptors are in use) is shown in
 * the ring views as far as it tells, with a note where it does not.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ISSET */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dpdk.h"

#define OPTIONS                                                                        \
	"vdev=NAME[,ARGS][;...]  virtual device(s) to plug, e.g. net_ring0, net_null0, "    \
	"net_af_packet0,iface=veth0\n"                                                     \
	"port=N                  which port of those vdevs this engine drives (0)\n"      \
	"rx_desc=N tx_desc=N     descriptors of the RX and TX queue (256)\n"               \
	"mem=MB                  EAL memory, first open only (256)\n"                      \
	"lcores=LIST             EAL -l, first open only (0)\n"                            \
	"log=LEVEL               EAL --log-level, first open only (error); DPDK's lines "  \
	"are kept and quoted in errors, and printed too when log= is given\n"              \
	"layout=auto|pinned|objects  frames as pinned mbuf buffers, or as whole mempool "  \
	"objects (auto: objects for net_af_xdp, whose UMEM is the mempool)\n"              \
	"peer=ENGINE             a dpdk engine on net_ring: rewire both ports back to back "\
	"over two rings, sharing its region\n"                                             \
	"queues=N                RX and TX queues of the port (1); e:queue(k) or queue=K "  \
	"picks one, else TX bursts and RX polls go round the queues\n"

/* ---- options -------------------------------------------------------------- */

static int parse_u32(const char *key, const char *v, uint32_t lo, uint32_t hi,
		     uint32_t *out, struct rl_err *err)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n < lo || n > hi)
		return rl_err_set(err, EINVAL, "%s=%s: give a whole number from %u to %u", key,
				  v, lo, hi);
	*out = (uint32_t)n;
	return 0;
}

static int parse_str(const char *key, const char *v, char *out, size_t cap,
		     struct rl_err *err)
{
	if (strlen(v) >= cap)
		return rl_err_set(err, EINVAL, "%s= is too long (%zu characters, at most %zu)",
				  key, strlen(v), cap - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/* log=: what EAL's --log-level takes - a level (emergency .. debug, or
 * 1 .. 8), optionally after a log type and ':' or ','. Checked here, as DPDK
 * only warns about a bad one and then logs everything. */
static int check_log(const char *v, struct rl_err *err)
{
	static const char *const names[] = {"emergency", "alert", "critical", "error",
					    "warning",   "notice", "info",     "debug", NULL};
	const char *lv = strrchr(v, ':') ? strrchr(v, ':') + 1 : v;
	char *end;
	long n;

	if (lv == v && strrchr(v, ','))
		lv = strrchr(v, ',') + 1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(lv, names[i]) && (lv == v || lv - 1 > v))
			return 0;
	n = strtol(lv, &end, 10);
	if (*lv && !*end && n >= 1 && n <= 8 && (lv == v || lv - 1 > v))
		return 0;
	return rl_err_set(err, EINVAL,
			  "log=\"%s\" is not a DPDK log level - give emergency, alert, "
			  "critical, error, warning, notice, info or debug (or 1 .. 8), "
			  "e.g. log=\"info\" or log=\"pmd.net.*:debug\"",
			  v);
}

/* lcores=: CPU numbers as "0", "0-1" or "0,2", each one this process may
 * run on - checked before rte_eal_init, which otherwise ends in "EAL:
 * FATAL" and cannot be retried in the process. */
static int check_lcores(const char *v, struct rl_err *err)
{
	cpu_set_t cpus;
	const char *p = v;
	char may[64] = "";

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) {
		size_t k = 0;

		for (int c = 0; c < CPU_SETSIZE && k + 8 < sizeof(may); c++)
			if (CPU_ISSET(c, &cpus))
				k += (size_t)snprintf(may + k, sizeof(may) - k, "%s%d", k ? "," : "", c);
	} else {
		CPU_ZERO(&cpus);
	}
	if (!*v || strspn(v, "0123456789,-") != strlen(v))
		return rl_err_set(err, EINVAL,
				  "lcores=\"%s\": give CPU numbers such as \"0\", \"0-1\" or "
				  "\"0,2\" (CPUs here: %s)", v, may[0] ? may : "?");
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			break;
		if (*end == '-') {
			const char *q = end + 1;

			b = strtol(q, &end, 10);
			if (end == q)
				break;
		}
		if (*end && *end != ',')
			break;
		for (long c = a; c <= b; c++)
			if (c < 0 || c >= CPU_SETSIZE || !CPU_ISSET((int)c, &cpus))
				return rl_err_set(err, EINVAL,
						  "lcores=\"%s\": CPU %ld is not one this process "
						  "may run on - use CPUs from %s, e.g. lcores=\"0\"",
						  v, c, may[0] ? may : "?");
		if (b < a)
			break;
		p = *end ? end + 1 : end;
		if (!*p && end[0] == ',')
			break;
		if (!*p)
			return 0;
	}
	return rl_err_set(err, EINVAL,
			  "lcores=\"%s\": give CPU numbers such as \"0\", \"0-1\" or \"0,2\" "
			  "(CPUs here: %s)", v, may[0] ? may : "?");
}

static int parse_kv(struct dpdk_opts *o, const struct rl_kv *kv, struct rl_err *err)
{
	const char *k = kv->key, *v = kv->val ? kv->val : "";

	if (!strcmp(k, "vdev"))
		return parse_str(k, v, o->vdev, sizeof(o->vdev), err);
	if (!strcmp(k, "port"))
		return parse_u32(k, v, 0, RTE_MAX_ETHPORTS - 1, &o->port, err);
	if (!strcmp(k, "rx_desc"))
		return parse_u32(k, v, 1, 32768, &o->rx_desc, err);
	if (!strcmp(k, "tx_desc"))
		return parse_u32(k, v, 1, 32768, &o->tx_desc, err);
	if (!strcmp(k, "mem"))
		return parse_u32(k, v, 16, 1u << 20, &o->mem, err);
	if (!strcmp(k, "lcores")) {
		int rc = check_lcores(v, err);

		return rc < 0 ? rc : parse_str(k, v, o->lcores, sizeof(o->lcores), err);
	}
	if (!strcmp(k, "log")) {
		int rc = check_log(v, err);

		if (rc < 0)
			return rc;
		o->log_echo = true;
		return parse_str(k, v, o->log, sizeof(o->log), err);
	}
	if (!strcmp(k, "layout")) {
		if (strcmp(v, "auto") && strcmp(v, "pinned") && strcmp(v, "objects"))
			return rl_err_set(err, EINVAL, "layout=%s: give auto, pinned or objects", v);
		return parse_str(k, v, o->layout, sizeof(o->layout), err);
	}
	if (!strcmp(k, "peer"))
		return 0; /* the engine itself arrives in args->peer */
	if (!strcmp(k, "queues"))
		return parse_u32(k, v, 1, DPDK_QUEUES_MAX, &o->queues, err);
	return rl_err_set(err, EINVAL, "dpdk has no option '%s' - it knows vdev=, port=, "
			  "rx_desc=, tx_desc=, mem=, lcores=, log=, layout=, peer=, queues=", k);
}

static int parse_opts(struct dpdk_opts *o, const struct rl_open_args *a, struct rl_err *err)
{
	*o = (struct dpdk_opts){.rx_desc = 256, .tx_desc = 256, .mem = 256,
				.lcores = "0", .log = "error", .layout = "auto", .queues = 1};
	for (unsigned i = 0; i < a->nkv; i++) {
		int rc = parse_kv(o, &a->kv[i], err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- staging queues ------------------------------------------------------- */

static uint32_t q_len(const struct dpdk_q *q)
{
	return q->tail - q->head;
}

uint32_t dpdk_region_segs(const struct rl_engine *e, const struct rte_mbuf *pkt)
{
	uint32_t n = 0;

	for (; pkt; pkt = pkt->next)
		n += dpdk_is_frame(e, pkt);
	return n;
}

struct rte_mbuf *dpdk_unlink_empty(struct rte_mbuf *pkt)
{
	struct rte_mbuf *prev = pkt, *m, *gone = NULL, **tail = &gone;

	while ((m = prev->next)) {
		if (m->data_len) {
			prev = m;
			continue;
		}
		prev->next = m->next;
		m->next = NULL;
		pkt->nb_segs--;
		*tail = m;
		tail = &m->next;
	}
	return gone;
}

int dpdk_q_push(struct dpdk_q *q, struct rte_mbuf *pkt, uint32_t frames)
{
	if (q_len(q) == DPDK_STAGE)
		return -ENOSPC;
	q->pkt[q->tail++ % DPDK_STAGE] = pkt;
	q->frames += frames;
	return 0;
}

static struct rte_mbuf *q_head(const struct dpdk_q *q)
{
	return q_len(q) ? q->pkt[q->head % DPDK_STAGE] : NULL;
}

static void q_pop(struct dpdk_q *q, uint32_t frames)
{
	q->head++;
	q->frames -= frames;
}

/* ---- descriptors <-> mbuf chains ------------------------------------------- */

/* A frame already on its way may be in one more descriptor (RL_CAP_SHARED):
 * owned by tx or comp, or by nic as a sent one (a receive buffer is nic
 * too, but not sent). */
static bool dpdk_sendable_again(const struct rl_engine *e, uint32_t f)
{
	enum rl_owner o = rl_region_owner(&e->p->region, f);

	return dpdk_can_share(e) &&
	       (o == RL_OWN_TX || o == RL_OWN_COMP ||
		(o == RL_OWN_NIC && (e->p->sent[f] || e->p->region.refs[f].sum)));
}

/* 0: a frame the program holds; 1: one on its way that may be in one more
 * descriptor; or why not. */
static int desc_check(struct rl_engine *e, const struct rl_desc *d, uint32_t i,
		      struct rl_err *err)
{
	uint32_t f = rl_region_frame(&e->p->region, d->addr);
	int rc = rl_region_check_desc(&e->p->region, d->addr, d->len, err);

	if (rc < 0)
		return rc;
	if (d->addr - rl_region_frame_addr(&e->p->region, f) < e->p->hdr)
		return rl_err_set(err, EINVAL, "tx: descriptor %u starts %u bytes into frame %u, "
				  "inside its mbuf: in the objects layout (%s) each frame begins "
				  "with %u bytes of mempool object header and mbuf - start "
				  "packets at the region's headroom (%u), one frame each",
				  i, (unsigned)(d->addr - rl_region_frame_addr(&e->p->region, f)),
				  f, e->driver, e->p->hdr, e->p->region.headroom);
	if (dpdk_sendable_again(e, f))
		return 1; /* on its way already: one more descriptor (aux mbuf) */
	if (rl_region_owner(&e->p->region, f) != RL_OWN_APP || rl_region_is_free(&e->p->region, f))
		return rl_err_set(err, EPERM, "tx: descriptor %u (frame %u) is not held by the "
				  "program (owner %s%s) - send only frames you took or received%s",
				  i, f, rl_owner_name(rl_region_owner(&e->p->region, f)),
				  rl_region_is_free(&e->p->region, f) ? ", free in the pool" : "",
				  dpdk_can_share(e) ? "" : "; on this port a frame is in one "
				  "descriptor at a time (no shared in show caps)");
	return 0;
}

/* What desc_check accepts, inline for the common case: inside one frame,
 * behind the mbuf (objects layout), held by the program. false: ask
 * desc_check why not. */
static inline bool desc_ok(const struct dpdk_pool *p, const struct rl_desc *d)
{
	const struct rl_region *r = &p->region;
	uint32_t f = rl_region_frame(r, d->addr);
	uint64_t off = d->addr - rl_region_frame_addr(r, f);

	return d->addr < r->size && off >= p->hdr && off + d->len <= r->frame_size &&
	       r->owner[f] == RL_OWN_APP && r->free_pos[f] == RL_NOT_FREE;
}

/* One packet (n descriptors) of held frames as an mbuf chain, frames -> tx. */
int dpdk_chain(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
	       struct rte_mbuf **out, struct rl_err *err)
{
	struct rte_mbuf *head = NULL, *prev = NULL;
	uint32_t pkt_len = 0;

	if (n > 1 && !e->multi_seg)
		return rl_err_set(err, ENOTSUP, "tx: a packet of %u descriptors needs an mbuf chain "
				  "and %s (%s) lacks RTE_ETH_TX_OFFLOAD_MULTI_SEGS - send "
				  "one-descriptor packets, or use a PMD with it (net_ring)",
				  n, e->port_name, e->driver);
	if (n > DPDK_MAX_SEGS)
		return rl_err_set(err, E2BIG, "tx: %u descriptors in one packet, at most %u",
				  n, DPDK_MAX_SEGS);
	bool again[DPDK_MAX_SEGS];

	for (uint32_t i = 0; i < n; i++) {
		int rc = desc_ok(e->p, &d[i]) ? 0 : desc_check(e, &d[i], i, err);

		if (rc < 0)
			return rc;
		again[i] = rc == 1;
		for (uint32_t j = 0; j < i; j++)
			if (rl_region_frame(&e->p->region, d[j].addr) ==
			    rl_region_frame(&e->p->region, d[i].addr))
				return rl_err_set(err, EINVAL, "tx: descriptors %u and %u are in "
						  "the same frame - one mbuf per frame", j, i);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f = rl_region_frame(&e->p->region, d[i].addr);
		struct rte_mbuf *m = e->p->mbuf[f];

		if (again[i]) { /* a further descriptor: an aux mbuf over it */
			int rc = dpdk_shared_mbuf(e, &d[i], &m, err);

			if (rc < 0) {
				if (prev) {
					prev->next = NULL;
					dpdk_unchain(e, head);
				}
				return rc;
			}
			pkt_len += d[i].len;
			if (prev)
				prev->next = m;
			else
				head = m;
			prev = m;
			continue;
		}
		dpdk_pool_fresh(e->p, f);
		m->data_off = (uint16_t)((uint8_t *)rl_region_ptr(&e->p->region, d[i].addr) -
					 (uint8_t *)m->buf_addr);
		m->data_len = (uint16_t)d[i].len;
		pkt_len += d[i].len;
		if (prev)
			prev->next = m;
		else
			head = m;
		prev = m;
		e->p->tx_addr[f] = d[i].addr;
		dpdk_move(e, f, RL_OWN_APP, RL_OWN_TX);
	}
	head->nb_segs = (uint16_t)n;
	head->pkt_len = pkt_len;
	*out = head;
	return 0;
}

/* Undo dpdk_chain for a packet that never reached the PMD. */
void dpdk_unchain(struct rl_engine *e, struct rte_mbuf *pkt)
{
	for (struct rte_mbuf *m = pkt, *next; m; m = next) {
		next = m->next;
		if (dpdk_is_frame(e, m)) {
			e->p->sent[dpdk_mbuf_frame(e, m)] = 0;
			dpdk_move(e, dpdk_mbuf_frame(e, m), RL_OWN_TX, RL_OWN_APP);
		} else {
			dpdk_shared_undo(e, m); /* a further descriptor's aux mbuf */
		}
	}
}

/* ---- the datapath ---------------------------------------------------------- */

int dpdk_ready(struct rl_engine *e, struct rl_err *err)
{
	if (e->started)
		return 0; /* started implies a region */
	if (!e->p->have_region)
		return rl_err_set(err, ENOENT, "the dpdk engine has no region yet - "
				  "make one first: e:region{frames=4096, frame_size=2048}");
	return dpdk_port_start(e, err);
}

static void tx_counted(struct rl_engine *e, uint16_t sent, uint64_t sum, uint64_t takes);

/* After rte_eth_tx_burst took the first `sent` packets (sum bytes): frames
 * the PMD has not freed already (those are comp now) are inside the NIC.
 * Bit i of chain: packet i is not plain, walk it (dpdk_after_tx). The
 * owner of each frame moves, the counts once for the burst. */
static void tx_taken(struct rl_engine *e, struct rte_mbuf **pkts, uint64_t chain,
		     uint64_t sum, uint16_t sent, uint64_t takes)
{
	struct rl_region *r = &e->p->region;
	uint8_t *owner = r->owner;
	uint32_t nic = 0;

	for (uint16_t i = 0; i < sent; i++) {
		uint32_t f;

		if (chain >> i & 1) {
			dpdk_after_tx(e, pkts[i]);
			continue;
		}
		/* a plain packet: its one frame (the mbuf may be freed already,
		 * but its buffer address never changes) */
		f = dpdk_mbuf_frame(e, pkts[i]);
		if (owner[f] == RL_OWN_TX && !(r->nshared && r->refs[f].sum)) {
			owner[f] = RL_OWN_NIC;
			nic++;
		} else if (r->nshared && r->refs[f].sum && e->p->sent[f] && !r->refs[f].nic) {
			/* shared: its own mbuf's descriptor is in the NIC now */
			dpdk_move(e, f, RL_OWN_TX, RL_OWN_NIC);
		}
	}
	r->count[RL_OWN_TX] -= nic;
	r->count[RL_OWN_NIC] += nic;
	tx_counted(e, sent, sum, takes);
}

/* The counters of packets the PMD took: sum bytes in `sent` packets. */
static void tx_counted(struct rl_engine *e, uint16_t sent, uint64_t sum, uint64_t takes)
{
	e->tx_pkts += sent;
	e->tx_burst_pkts += sent;
	e->tx_bytes += sum;
	dpdk_ledger_tx(e, sum);
	if (takes && !e->pmd.driver_tx) /* the model said no copy: it did */
		rl_ledger_count(&e->ledger, RL_LEDGER_DRIVER_COPIED, sum, RL_DIR_TX);
}

/* The queue of the next burst: the selected one, or each in turn (*rr is
 * the turn: txrr or rxrr). */
static uint16_t next_queue(struct rl_engine *e, uint16_t *rr)
{
	uint16_t q;

	if (e->sel >= 0)
		return (uint16_t)e->sel;
	q = *rr;
	*rr = (uint16_t)((*rr + 1) % e->o.queues);
	return q;
}

static uint16_t tx_queue(struct rl_engine *e)
{
	return next_queue(e, &e->txrr);
}

/* rte_eth_tx_burst, counting the frames the PMD takes from our pool while
 * it sends (buffers to copy into). own: every mbuf of every packet is one
 * of the pool's frames. */
static uint16_t tx_burst(struct rl_engine *e, struct rte_mbuf **pkts, uint16_t n,
			 uint64_t *takes, bool own)
{
	uint64_t t0 = e->p->tx_takes, bytes = 0;
	uint16_t sent, q = n ? tx_queue(e) : (e->sel >= 0 ? (uint16_t)e->sel : 0);

	for (uint16_t i = 0; i < n && e->o.queues > 1; i++)
		bytes += pkts[i]->pkt_len; /* before the PMD may free them */
	e->p->in_tx = true;
	if (e->pmd.tx_cache && e->p->tx_cache && own) {
		/* it only frees: gather its frees in the mempool cache, then
		 * hand them to our driver in one bulk, before anything reads
		 * an owner (pool.c). A take would come out of that cache
		 * unseen: never with packets all of the pool's own. */
		struct rte_mempool *mp = e->p->mp;
		struct rte_mempool_cache *c = rte_mempool_default_cache(mp, rte_lcore_id());

		if (c)
			dpdk_cache_on(c, e->p->tx_cache);
		sent = rte_eth_tx_burst(e->port, q, pkts, n);
		if (c) {
			rte_mempool_cache_flush(c, mp);
			dpdk_cache_off(c);
		}
	} else {
		sent = rte_eth_tx_burst(e->port, q, pkts, n);
	}
	e->p->in_tx = false;
	e->qinfo[q].tx_pkts += sent;
	e->qinfo[q].tx_bytes += sent == n ? bytes : 0; /* a short burst: not split */
	*takes = e->p->tx_takes - t0;
	e->tx_burst_short += n - sent; /* the PMD's queue was full: they wait */
	return sent;
}

/* Offer the staged TX packets to the PMD; returns how many it took. */
int dpdk_flush(struct rl_engine *e)
{
	struct rte_mbuf *pkts[DPDK_BURST];
	uint32_t bytes[DPDK_BURST], frames[DPDK_BURST];
	uint16_t n = 0, sent;
	uint64_t takes, sum = 0;
	bool own = true;

	/* Read lengths and mark the frames sent before the PMD sees them: it
	 * may free them (our mempool driver then moves them to comp) inside
	 * rte_eth_tx_burst. */
	while (q_len(&e->txq) > n && n < DPDK_BURST) {
		pkts[n] = e->txq.pkt[(e->txq.head + n) % DPDK_STAGE];
		bytes[n] = pkts[n]->pkt_len;
		frames[n] = dpdk_region_segs(e, pkts[n]);
		own = own && frames[n] == pkts[n]->nb_segs;
		dpdk_mark_sent(e, pkts[n++], true);
	}
	if (!n) {
		/* nothing to send, but a PMD may only reap its completions
		 * inside a tx_burst (net_af_xdp): give it one */
		if (e->started)
			tx_burst(e, pkts, 0, &takes, true);
		return 0;
	}
	sent = tx_burst(e, pkts, n, &takes, own);
	for (uint16_t i = sent; i < n; i++)
		dpdk_mark_sent(e, pkts[i], false);
	for (uint16_t i = 0; i < sent; i++)
		sum += bytes[i];
	tx_taken(e, pkts, UINT64_MAX, sum, sent, takes); /* walk each one */
	for (uint16_t i = 0; i < sent; i++)
		q_pop(&e->txq, frames[i]);
	return sent;
}

/* A received packet's frames: nic -> rx, checking where each came from.
 * Returns its region frames. */
static uint32_t rx_account(struct rl_engine *e, struct rte_mbuf *pkt)
{
	uint32_t frames = 0;

	for (struct rte_mbuf *m = pkt; m; m = m->next) {
		uint32_t f;

		if (!dpdk_is_frame(e, m))
			continue;
		f = dpdk_mbuf_frame(e, m);
		if (e->p->sent[f])
			e->rx_same++; /* the very buffer we sent: no copy */
		else
			e->rx_fresh++;
		e->p->sent[f] = 0;
		dpdk_move(e, f, RL_OWN_NIC, RL_OWN_RX);
		frames++;
	}
	e->rx_pkts++;
	e->rx_bytes += pkt->pkt_len;
	return frames;
}

/* Received packets into the rx staging queue (room checked). */
static void rx_stage(struct rl_engine *e, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		bytes += pkts[i]->pkt_len;
		dpdk_q_push(&e->rxq, pkts[i], rx_account(e, pkts[i]));
	}
	dpdk_ledger_rx(e, bytes);
}

/* How many packets one rx_burst may ask for, at most `max`. */
static uint16_t rx_room(struct rl_engine *e, uint32_t max)
{
	uint32_t room = DPDK_STAGE - q_len(&e->rxq);

	if (room > max)
		room = max;
	if (room > DPDK_BURST)
		room = DPDK_BURST;
	/* net_null allocates the whole burst at once or nothing: ask for no
	 * more than was offered, or it receives nothing at all */
	if (e->pmd.rx_burst_alloc && room > e->p->nfill)
		room = e->p->nfill;
	return e->started ? (uint16_t)room : 0;
}

static uint16_t rx_queue(struct rl_engine *e)
{
	return next_queue(e, &e->rxrr);
}

static uint16_t rx_burst(struct rl_engine *e, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t got = rte_eth_rx_burst(e->port, q, pkts, n);

	e->qinfo[q].rx_pkts += got;
	for (uint16_t i = 0; i < got && e->o.queues > 1; i++)
		e->qinfo[q].rx_bytes += pkts[i]->pkt_len;
	return got;
}

/* Pull what the PMD has into the rx staging queue: from the selected
 * queue, or one burst from every queue. */
int dpdk_poll(struct rl_engine *e)
{
	struct rte_mbuf *pkts[DPDK_BURST];
	unsigned tries = e->sel >= 0 ? 1 : e->o.queues;
	int total = 0;

	for (unsigned i = 0; i < tries; i++) {
		uint16_t room = rx_room(e, DPDK_BURST), n;

		if (!room)
			break;
		n = rx_burst(e, rx_queue(e), pkts, room);
		rx_stage(e, pkts, n);
		total += n;
	}
	return total;
}

/* Every TX queue's sent mbufs back (a PMD that frees lazily). */
void dpdk_tx_cleanup(struct rl_engine *e)
{
	for (uint16_t q = 0; q < e->o.queues; q++)
		rte_eth_tx_done_cleanup(e->port, q, 0);
}

/* ---- ops ------------------------------------------------------------------- */

static int dpdk_probe(struct rl_err *err)
{
	return dpdk_eal_probe(err);
}

static void dpdk_close(struct rl_engine *e);
static const struct rl_engine_ops ops;

/* Which layout the region will have (pool.c): net_af_xdp builds its UMEM
 * over the mempool's objects, so its frames must be the objects. */
static int pick_layout(struct rl_engine *e, struct rl_err *err)
{
	bool af_xdp = strcmp(e->driver, "net_af_xdp") == 0;

	if (!strcmp(e->o.layout, "objects") || (af_xdp && !strcmp(e->o.layout, "auto")))
		e->p->layout = DPDK_LAYOUT_OBJECTS;
	if (af_xdp && e->p->layout != DPDK_LAYOUT_OBJECTS)
		return rl_err_set(err, ENOTSUP, "layout=pinned cannot work with net_af_xdp: it "
				  "lays its UMEM over the mempool's objects, and pinned mbufs "
				  "keep their data elsewhere - use layout=auto or objects");
	return 0;
}

static int open_peer(struct rl_engine *e, const struct rl_open_args *args,
		     struct rl_err *err)
{
	if (args->peer_ops != &ops)
		return rl_err_set(err, EINVAL, "peer= is a '%s' engine - a dpdk engine can "
				  "only be wired to another dpdk engine",
				  args->peer_ops && args->peer_ops->name ? args->peer_ops->name
									 : "unknown");
	if (e->o.vdev[0])
		return rl_err_set(err, EINVAL, "give peer= or vdev=, not both - peer= makes "
				  "its own port, wired to the peer's");
	return dpdk_peer_wire(e, args->peer, err);
}

static int dpdk_open(struct rl_engine **out, const struct rl_open_args *args,
		     struct rl_err *err)
{
	struct rl_engine *e = calloc(1, sizeof(*e));
	struct rte_eth_dev_info info;
	int rc;

	if (!e)
		return rl_err_set(err, ENOMEM, "no memory for a dpdk engine");
	rc = parse_opts(&e->o, args, err);
	e->sel = e->o.queues > 1 ? -1 : 0;
	if (!rc)
		rc = dpdk_eal_start(&e->o, err);
	if (!rc && args->peer)
		rc = open_peer(e, args, err);
	else if (!rc)
		rc = dpdk_pool_new(e, err);
	if (!rc && !args->peer)
		rc = dpdk_vdevs_plug(e, err);
	if (rc < 0) {
		if (e->port_name[0])
			dpdk_vdevs_unplug(e);
		if (e->p && !args->peer)
			dpdk_pool_put(e, NULL);
		free(e);
		return rc;
	}
	if (rte_eth_dev_info_get(e->port, &info) == 0 && info.driver_name)
		snprintf(e->driver, sizeof(e->driver), "%s", info.driver_name);
	dpdk_pmd_model(e);
	e->link_gate = !strcmp(e->driver, "net_memif");
	rc = args->peer ? 0 : pick_layout(e, err);
	if (!rc)
		rc = dpdk_port_configure(e, err);
	if (rc < 0) {
		dpdk_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* The engine goes, its region may stay (peer=): what it holds of it goes
 * back to the app, exactly. */
static void hand_back(struct rl_engine *e)
{
	for (struct rte_mbuf *pkt; (pkt = q_head(&e->rxq)); q_pop(&e->rxq, 0)) {
		for (struct rte_mbuf *m = pkt, *next; m; m = next) {
			next = m->next;
			if (!dpdk_is_frame(e, m)) {
				m->next = NULL;
				rte_pktmbuf_free_seg(m);
				continue;
			}
			dpdk_move(e, dpdk_mbuf_frame(e, m), RL_OWN_RX, RL_OWN_APP);
			rl_region_release(&e->p->region, dpdk_mbuf_frame(e, m), NULL);
		}
	}
	for (struct rte_mbuf *pkt; (pkt = q_head(&e->txq)); q_pop(&e->txq, 0))
		dpdk_unchain(e, pkt);
}

static void dpdk_close(struct rl_engine *e)
{
	struct rl_engine *other;

	if (!e)
		return;
	other = e->peer;
	dpdk_ext_close(e);
	if (e->p && e->p->refs > 1) {
		hand_back(e);
		dpdk_port_stop(e); /* what the peer sent us: completes for it */
	} else {
		if (e->p)
			e->p->populating = true; /* from here on, frees are not owner moves */
		dpdk_port_stop(e);
		for (struct rte_mbuf *m; (m = q_head(&e->rxq)); q_pop(&e->rxq, 0))
			rte_pktmbuf_free(m);
	}
	dpdk_peer_unwire(e);
	dpdk_vdevs_unplug(e);
	if (e->aux)
		rte_mempool_free(e->aux);
	dpdk_pool_put(e, other);
	free(e);
}

/* PMDs that take a buffer for every RX descriptor when the queue is set
 * up, and refill as they receive: how many frames such a port holds. */
static uint32_t frames_needed(const struct rl_engine *e)
{
	uint32_t rx = e->pmd.rx_prefill > e->o.rx_desc ? e->pmd.rx_prefill : e->o.rx_desc;

	return rx + e->o.tx_desc + DPDK_BURST;
}

static int dpdk_region(struct rl_engine *e, const struct rl_region_params *p,
		       struct rl_region **out, struct rl_err *err)
{
	int rc;

	if (e->p->have_region && e->p->refs > 1) {
		*out = &e->p->region; /* peer=: the one region of both ports */
		return 0;
	}
	if (e->p->have_region)
		return rl_err_set(err, EEXIST, "this dpdk engine has its region already - "
				  "open another engine for another region");
	if (e->pmd.rx_prefill && p->frames < frames_needed(e))
		return rl_err_set(err, ENOBUFS, "frames=%u is too few for %s: it holds a frame "
				  "behind each of its %u RX descriptors, up to %u more can wait "
				  "in its %u TX descriptors, and a burst of %u must be free to "
				  "refill - make frames=%u or more (or open with smaller "
				  "rx_desc=/tx_desc=)", p->frames, e->driver,
				  e->pmd.rx_prefill > e->o.rx_desc ? e->pmd.rx_prefill
								   : e->o.rx_desc,
				  e->o.tx_desc, e->o.tx_desc, DPDK_BURST, frames_needed(e));
	rc = dpdk_pool_create(e, p, err);
	if (rc < 0)
		return rc;
	*out = &e->p->region;
	return 0;
}

/* A frame offered for receive. PMDs take it with rte_pktmbuf_alloc(_bulk),
 * which resets the mbuf, or rte_mbuf_raw_alloc, which expects what DPDK's
 * free leaves: the mbuf is written anew only when it is not so clean (a
 * chain the program received, or built and never sent; always in the
 * objects layout). */
static inline void fill_fresh(struct dpdk_pool *p, uint32_t f)
{
	if (!dpdk_pool_clean(p, p->mbuf[f]))
		dpdk_pool_fresh(p, f);
}

static int dpdk_fill(struct rl_engine *e, uint32_t n, struct rl_err *err)
{
	struct dpdk_pool *p = e->p;
	struct rl_region *r = &p->region;
	int rc;

	if (!p->have_region)
		return dpdk_ready(e, err);
	if (r->nfree < n)
		return rl_err_set(err, ENOBUFS, "fill: %u frames asked, %u free in the region - "
				  "release or complete frames first", n, r->nfree);
	/* app -> fill frame by frame (a free frame is always app's), the
	 * counts once */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr;
		uint32_t f;

		rl_region_take(r, &addr, NULL);
		f = rl_region_frame(r, addr);
		r->owner[f] = RL_OWN_FILL;
		fill_fresh(p, f);
		p->fill[p->nfill++] = f;
	}
	r->count[RL_OWN_APP] -= n;
	r->count[RL_OWN_FILL] += n;
	p->fill_puts += n;
	rc = dpdk_ready(e, err);
	return rc < 0 ? rc : (int)n;
}

int dpdk_offer(struct rl_engine *e, uint32_t n, struct rl_err *err)
{
	return dpdk_fill(e, n, err);
}

static uint32_t pkt_descs(const struct rl_desc *d, uint32_t n)
{
	uint32_t k = 0;

	while (k < n && (d[k].options & RL_DESC_CONTD))
		k++;
	return k < n ? k + 1 : 0; /* 0: the last descriptor says more follow */
}

/* The plain packets at the front of d - one descriptor, inside one frame,
 * behind the mbuf, held by the program - up to max of them: each mbuf set,
 * each frame app -> tx and marked sent (before the PMD may free it), the
 * counts once. Returns how many; stops at the first packet that is not
 * plain (dpdk_chain takes it, or says what is wrong with it) and, pinned,
 * at a frame whose mbuf is not as DPDK's free left it (*unclean: the
 * caller writes it anew and goes on - no call inside this loop, so its
 * locals stay in registers).
 *
 * Made once per layout and mbuf marking (the constant arguments). Pinned:
 * the buffer is the whole frame, so data_off is the offset in the frame,
 * and the mbuf goes marked direct to a PMD that never attaches to what it
 * is sent (direct): DPDK's free then skips its pinned external buffer
 * path, which costs dpdk-testpmd itself ~14% on net_null (--mp-alloc=xbuf,
 * bench/dpdk.sh). Objects: the mbuf sits in the frame, where the program
 * may have written over it, so it is always written anew (and is direct
 * anyway). */
static inline __attribute__((always_inline)) uint32_t
tx_plain_as(struct dpdk_pool *p, const struct rl_desc *d, uint32_t max,
	    struct rte_mbuf **pkts, uint64_t *sum, bool *unclean, const bool pinned,
	    const bool direct)
{
	struct rl_region *r = &p->region;
	uint8_t *owner = r->owner, *sent = p->sent;
	const uint32_t *free_pos = r->free_pos;
	struct rte_mbuf *const *mbuf = p->mbuf;
	uint64_t *tx_addr = p->tx_addr, total = 0;
	uint32_t frames = r->frames, shift = r->frame_shift, fmask = r->frame_size - 1;
	uint32_t hdr = pinned ? 0 : p->hdr, i;

	for (i = 0; i < max; i++) {
		uint64_t addr = d[i].addr, frame = addr >> shift;
		uint32_t len = d[i].len, f = (uint32_t)frame, off = (uint32_t)addr & fmask;
		struct rte_mbuf *m;

		if (__builtin_expect((d[i].options & RL_DESC_CONTD) || frame >= frames ||
				     (!pinned && off < hdr) || off + len > fmask + 1 ||
				     owner[f] != RL_OWN_APP || free_pos[f] != RL_NOT_FREE, 0))
			break;
		m = mbuf[f];
		if (pinned) {
			if (__builtin_expect(!dpdk_mbuf_clean_tx(m), 0)) {
				*unclean = true;
				break;
			}
			m->ol_flags = direct ? 0 : RTE_MBUF_F_EXTERNAL;
			m->data_off = (uint16_t)off;
		} else {
			dpdk_pool_fresh(p, f);
			m->data_off = (uint16_t)((r->base + addr) - (uint8_t *)m->buf_addr);
		}
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		tx_addr[f] = addr;
		sent[f] = 1;
		owner[f] = RL_OWN_TX;
		pkts[i] = m;
		total += len;
	}
	r->count[RL_OWN_APP] -= i;
	r->count[RL_OWN_TX] += i;
	*sum += total;
	return i;
}

/* The three, each out of line: its loop gets the registers to itself. */
static __attribute__((noinline)) uint32_t
tx_plain_direct(struct dpdk_pool *p, const struct rl_desc *d, uint32_t max,
		struct rte_mbuf **pkts, uint64_t *sum, bool *unclean)
{
	return tx_plain_as(p, d, max, pkts, sum, unclean, true, true);
}

static __attribute__((noinline)) uint32_t
tx_plain_pinned(struct dpdk_pool *p, const struct rl_desc *d, uint32_t max,
		struct rte_mbuf **pkts, uint64_t *sum, bool *unclean)
{
	return tx_plain_as(p, d, max, pkts, sum, unclean, true, false);
}

static __attribute__((noinline)) uint32_t
tx_plain_objects(struct dpdk_pool *p, const struct rl_desc *d, uint32_t max,
		 struct rte_mbuf **pkts, uint64_t *sum, bool *unclean)
{
	return tx_plain_as(p, d, max, pkts, sum, unclean, false, false);
}

static uint32_t tx_plain(struct rl_engine *e, const struct rl_desc *d, uint32_t max,
			 struct rte_mbuf **pkts, uint64_t *sum)
{
	struct dpdk_pool *p = e->p;
	uint32_t (*run)(struct dpdk_pool *, const struct rl_desc *, uint32_t,
			struct rte_mbuf **, uint64_t *, bool *) =
		p->layout != DPDK_LAYOUT_PINNED ? tx_plain_objects
		: e->pmd.direct_ok		? tx_plain_direct
						: tx_plain_pinned;
	uint32_t done = 0;

	for (;;) {
		bool unclean = false;

		done += run(p, d + done, max - done, pkts + done, sum, &unclean);
		if (!unclean) {
			if (run == tx_plain_direct)
				e->tx_direct += done; /* a staged one goes so later */
			return done;
		}
		dpdk_pool_fresh(p, rl_region_frame(&p->region, d[done].addr));
	}
}

/* tx when nothing waits in the staging queue: up to a burst of packets go
 * from the descriptors straight to rte_eth_tx_burst - runs of plain
 * packets through tx_plain, any other packet chained by dpdk_chain - and
 * only what the PMD does not take is staged. Returns the descriptors
 * taken; *more: the PMD took every packet and more descriptors follow. */
static uint32_t tx_direct(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
			  bool *more, int *rc, struct rl_err *err)
{
	struct dpdk_pool *p = e->p;
	struct rte_mbuf *pkts[DPDK_BURST];
	uint64_t chain = 0; /* bit i: packet i is a chain (DPDK_BURST == 64) */
	uint32_t done = 0, np = 0;
	uint16_t sent;
	uint64_t takes, freed0, sum = 0;

	*more = false;
	while (np < DPDK_BURST && done < n) {
		uint32_t want = n - done < DPDK_BURST - np ? n - done : DPDK_BURST - np;
		uint32_t k = tx_plain(e, d + done, want, pkts + np, &sum);

		np += k;
		done += k;
		if (k == want)
			break;
		/* not plain: a chain, or something dpdk_tx explains (k == 0) */
		k = pkt_descs(d + done, n - done);
		if (!k || (*rc = dpdk_chain(e, d + done, k, &pkts[np], err)) < 0)
			break;
		dpdk_mark_sent(e, pkts[np], true);
		sum += pkts[np]->pkt_len;
		chain |= 1ull << np;
		done += k;
		np++;
	}
	if (!np)
		return 0;
	freed0 = p->tx_freed;
	sent = tx_burst(e, pkts, (uint16_t)np, &takes, !chain);
	if (sent == np && !chain && p->tx_freed - freed0 == np) {
		tx_counted(e, sent, sum, takes); /* the PMD freed every frame
						  * inside tx_burst (net_null):
						  * all comp already, no owner
						  * left to move */
	} else {
		/* the bytes of what it did not take (still ours, intact) */
		for (uint32_t i = sent; i < np; i++)
			sum -= pkts[i]->pkt_len;
		tx_taken(e, pkts, chain, sum, sent, takes);
	}
	for (uint32_t i = sent; i < np; i++) { /* the PMD's queue is full: stage */
		if (chain >> i & 1)
			dpdk_mark_sent(e, pkts[i], false);
		else
			p->sent[dpdk_mbuf_frame(e, pkts[i])] = 0;
		/* room: the queue was empty */
		dpdk_q_push(&e->txq, pkts[i], dpdk_region_segs(e, pkts[i]));
	}
	*more = sent == np && done < n && *rc == 0;
	return done;
}

/* A port whose link is down would keep what it is sent staged for ever
 * (net_memif with no peer connected): say so instead. The peer may be in
 * this very process and connect a moment after its port started (DPDK's
 * interrupt thread), so wait for the link up to a second first. */
int dpdk_link_up(struct rl_engine *e, struct rl_err *err)
{
	struct rte_eth_link link;

	if (!e->link_gate)
		return 0;
	for (int i = 0; i <= 100; i++) {
		if (rte_eth_link_get_nowait(e->port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (i < 100)
			rte_delay_us_sleep(10000);
	}
	return rl_err_set(err, ENOTCONN, "%s: the link is down (no peer on its socket) - "
			  "open the other end (the other role=, the same socket=), then "
			  "send", e->port_name);
}

static int dpdk_tx(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
		   struct rl_err *err)
{
	uint32_t done = 0;
	bool more = true;
	int rc = dpdk_ready(e, err);

	if (rc == 0 && n > 0)
		rc = dpdk_link_up(e, err);
	if (rc < 0)
		return rc;
	while (more && q_len(&e->txq) == 0 && done < n)
		done += tx_direct(e, d + done, n - done, &more, &rc, err);
	if (done == n && n > 0)
		return (int)done;
	while (rc == 0 && done < n) {
		uint32_t k = pkt_descs(d + done, n - done);
		struct rte_mbuf *pkt;

		if (!k)
			return rl_err_set(err, EINVAL, "tx: descriptor %u ends the list with "
					  "RL_DESC_CONTD set - the packet has no last fragment",
					  n - 1);
		if (q_len(&e->txq) == DPDK_STAGE) {
			dpdk_flush(e);
			if (q_len(&e->txq) == DPDK_STAGE)
				break;
		}
		rc = dpdk_chain(e, d + done, k, &pkt, err);
		if (rc < 0)
			break;
		dpdk_q_push(&e->txq, pkt, k); /* the lab counts these bytes, not us */
		done += k;
	}
	dpdk_flush(e);
	if (rc < 0 && done == 0)
		return rc;
	if (rc == 0)
		for (uint32_t i = done; i < n; i++) /* no room in the staging queue */
			e->tx_ring_full += !(d[i].options & RL_DESC_CONTD);
	if (done == 0 && n > 0)
		return rl_err_set(err, ENOSPC, "tx: %u packets wait for the PMD already - "
				  "kick and complete first", DPDK_STAGE);
	return (int)done;
}

static int deliver(struct rl_engine *e, struct rte_mbuf *pkt, struct rl_desc *out)
{
	uint32_t k = 0;

	for (struct rte_mbuf *m = pkt; m; m = m->next, k++) {
		uint32_t f = dpdk_mbuf_frame(e, m);

		out[k].addr = (uint64_t)(rte_pktmbuf_mtod(m, uint8_t *) - e->p->region.base);
		out[k].len = m->data_len;
		out[k].options = m->next ? RL_DESC_CONTD : 0;
		dpdk_move(e, f, RL_OWN_RX, RL_OWN_APP);
	}
	return (int)k;
}

/* rx when nothing waits in the staging queue: one rx_burst of at most max
 * packets, and the one-frame packets go straight to the program in one
 * pass (nic -> app: they never wait on the rx queue; the counts move once
 * for the burst). From the first other packet on, the rest is staged as
 * dpdk_poll stages it. Returns the descriptors filled. */
static uint32_t rx_direct(struct rl_engine *e, struct rl_desc *out, uint32_t max)
{
	struct dpdk_pool *p = e->p;
	struct rl_region *r = &p->region;
	struct rte_mbuf *pkts[DPDK_BURST];
	uint16_t room = rx_room(e, max), n, i;
	uint64_t bytes = 0, same = 0;
	uint32_t moved = 0;

	if (!room)
		return 0;
	n = rx_burst(e, rx_queue(e), pkts, room);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t f;

		if (m->nb_segs != 1 || !dpdk_is_frame(e, m))
			break;
		f = dpdk_pool_frame(p, m);
		same += p->sent[f]; /* the very buffer we sent: no copy */
		p->sent[f] = 0;
		if (r->owner[f] == RL_OWN_NIC && r->free_pos[f] == RL_NOT_FREE) {
			r->owner[f] = RL_OWN_APP;
			moved++;
		} else {
			dpdk_pool_move(p, f, RL_OWN_NIC, RL_OWN_APP); /* says why */
		}
		out[i] = (struct rl_desc){
			(uint64_t)(rte_pktmbuf_mtod(m, uint8_t *) - r->base), m->data_len, 0};
		bytes += m->pkt_len;
	}
	r->count[RL_OWN_NIC] -= moved;
	r->count[RL_OWN_APP] += moved;
	e->rx_same += same;
	e->rx_fresh += i - same;
	e->rx_pkts += i;
	e->rx_bytes += bytes;
	dpdk_ledger_rx(e, bytes);
	rx_stage(e, pkts + i, (uint16_t)(n - i));
	return i;
}

static int dpdk_rx(struct rl_engine *e, struct rl_desc *out, uint32_t max,
		   struct rl_err *err)
{
	uint32_t done = 0;
	struct rte_mbuf *pkt;
	int rc = dpdk_ready(e, err);

	if (rc < 0)
		return rc;
	if (q_len(&e->rxq) == 0 && max > 0) {
		/* spread: the next queue that has something */
		for (unsigned i = 0; i < (e->sel >= 0 ? 1u : e->o.queues) && !done &&
				    q_len(&e->rxq) == 0; i++)
			done = rx_direct(e, out, max);
		if (q_len(&e->rxq) == 0)
			return (int)done;
	} else {
		dpdk_poll(e);
	}
	while ((pkt = q_head(&e->rxq))) {
		uint32_t segs = pkt->nb_segs;

		if (dpdk_region_segs(e, pkt) != segs) {
			if (done)
				break;
			return rl_err_set(err, EXDEV, "rx: the next packet has %u of %u segments "
					  "outside the region (an extbuf or gso packet) - "
					  "receive it with rx_x",
					  segs - dpdk_region_segs(e, pkt), segs);
		}
		if (segs > max - done) {
			if (done)
				break;
			return rl_err_set(err, ENOSPC, "rx: the next packet has %u segments, "
					  "room for %u - ask for more", segs, max);
		}
		done += (uint32_t)deliver(e, pkt, out + done);
		q_pop(&e->rxq, segs);
	}
	return (int)done;
}

/* The common case of complete: frames the PMD freed after sending, comp ->
 * app and back to the region's pool (rl_region_release), in a loop with no
 * call in it; the counts once. Returns how many; stops at the first frame
 * the model did not expect there. */
static inline __attribute__((always_inline)) uint32_t
complete_as(struct dpdk_pool *p, uint64_t *addrs, uint32_t max, const bool want_addrs)
{
	struct rl_region *r = &p->region;
	uint8_t *owner = r->owner;
	uint32_t *free_pos = r->free_pos, *free_stack = r->free_stack;
	const uint16_t *pins = r->pins;
	const uint32_t *comp = p->comp;
	const uint64_t *tx_addr = p->tx_addr;
	uint32_t n = 0, head = p->comp_head, mask = p->comp_mask, nfree = r->nfree;
	uint32_t avail = p->comp_tail - head, low = r->low_free;
	const bool shared = r->nshared != 0; /* else no count to look at */

	if (max > avail)
		max = avail;
	for (; n < max; n++) {
		uint32_t f = comp[(head + n) & mask];

		if (__builtin_expect(owner[f] != RL_OWN_COMP || free_pos[f] != RL_NOT_FREE ||
				     (shared && r->refs[f].sum), 0))
			break;
		if (want_addrs)
			addrs[n] = tx_addr[f];
		owner[f] = RL_OWN_APP;
		if (pins[f] == 0) { /* rl_region__pool_push, unrolled */
			free_pos[f] = nfree;
			free_stack[nfree++] = f;
			low = f < low ? f : low;
		}
	}
	r->nfree = nfree;
	r->low_free = low;
	p->comp_head = head + n;
	r->count[RL_OWN_COMP] -= n;
	r->count[RL_OWN_APP] += n;
	return n;
}

static __attribute__((noinline)) uint32_t complete_addrs(struct dpdk_pool *p, uint64_t *addrs,
							 uint32_t max)
{
	return complete_as(p, addrs, max, true);
}

static __attribute__((noinline)) uint32_t complete_count(struct dpdk_pool *p, uint32_t max)
{
	return complete_as(p, NULL, max, false);
}

static int dpdk_complete(struct rl_engine *e, uint64_t *addrs, uint32_t max,
			 struct rl_err *err)
{
	struct dpdk_pool *p = e->p;
	uint32_t n = 0;

	(void)err;
	/* a PMD without tx_done_cleanup (net_null, ...) says so once a start */
	if (e->started && !e->no_cleanup &&
	    rte_eth_tx_done_cleanup(e->port, 0, 0) == -ENOTSUP)
		e->no_cleanup = true;
	for (uint16_t q = 1; e->started && !e->no_cleanup && q < e->o.queues; q++)
		rte_eth_tx_done_cleanup(e->port, q, 0);
	for (;;) {
		uint32_t f;

		n += addrs ? complete_addrs(p, addrs + n, max - n) : complete_count(p, max - n);
		if (n == max || p->comp_head == p->comp_tail)
			return (int)n;
		/* a frame the model did not expect in comp: the move says why */
		f = p->comp[p->comp_head++ & p->comp_mask];
		if (addrs)
			addrs[n] = p->tx_addr[f];
		dpdk_pool_move(p, f, RL_OWN_COMP, RL_OWN_APP); /* one descriptor done */
		if (rl_region_owner(&p->region, f) == RL_OWN_APP) /* its last */
			rl_region_release(&p->region, f, NULL);
		n++;
	}
}

static int dpdk_kick(struct rl_engine *e, struct rl_err *err)
{
	int rc = dpdk_ready(e, err);

	if (rc < 0)
		return rc;
	e->kicks++;
	dpdk_flush(e);
	dpdk_tx_cleanup(e);
	dpdk_poll(e);
	return 0;
}

static struct rl_ledger *dpdk_ledger(struct rl_engine *e)
{
	return &e->ledger;
}

static struct rl_region *dpdk_get_region(struct rl_engine *e)
{
	return e->p->have_region ? &e->p->region : NULL;
}

/* What this port can do: chains (sg, extbuf, gso) need multi-segment TX;
 * zero copy is the PMD's (port.c's table); two ports back to back are for
 * net_ring. */
static uint32_t dpdk_caps_of(struct rl_engine *e, char *why, size_t len)
{
	uint32_t caps = RL_CAP_SG | RL_CAP_EXTBUF | RL_CAP_GSO | RL_CAP_GRO;
	const struct dpdk_pmd_model *m = &e->pmd;
	struct rte_eth_dev_info info;
	/* known once the port is configured (port.c), else asked */
	bool chains = e->configured ? e->multi_seg
				    : rte_eth_dev_info_get(e->port, &info) == 0 &&
					      (info.tx_offload_capa &
					       RTE_ETH_TX_OFFLOAD_MULTI_SEGS);

	if (!chains)
		caps &= ~(RL_CAP_SG | RL_CAP_EXTBUF | RL_CAP_GSO);
	if (!m->driver_tx && !m->driver_rx && !m->kernel_tx && !m->kernel_rx)
		caps |= RL_CAP_ZEROCOPY;
	if (!strcmp(e->driver, "net_ring"))
		caps |= RL_CAP_PEER;
	if (dpdk_can_share(e))
		caps |= RL_CAP_SHARED;
	if (why && len)
		snprintf(why, len, "%s%s",
			 chains ? ""
				: "its port lacks RTE_ETH_TX_OFFLOAD_MULTI_SEGS: no mbuf "
				  "chains, so no sg, extbuf or gso - send one-descriptor "
				  "packets (copy, reuse), or use a PMD with it "
				  "(net_ring, net_af_packet)",
			 !strcmp(e->driver, "net_ring") && !e->wire_tx
				 ? "net_ring alone is wired to itself: what it sends arrives "
				   "on its own rx, and a frame it sent is free again only "
				   "once received - recv (e:rx()) what you send, or wire "
				   "a second port to this one: open dpdk peer=THIS_ENGINE"
				 : "");
	return caps;
}

static const struct rl_engine_ops ops = {
	.abi = RL_ENGINE_ABI,
	.name = "dpdk",
	.summary = "DPDK without hugepages: a vdev port (net_ring, net_null, af_packet, "
		   "tap, memif) over a region of mbufs",
	.options = OPTIONS,
	.caps = RL_CAP_ZEROCOPY | RL_CAP_SG | RL_CAP_EXTBUF | RL_CAP_GSO | RL_CAP_GRO |
		RL_CAP_SHARED,
	.probe = dpdk_probe,
	.open = dpdk_open,
	.close = dpdk_close,
	.region = dpdk_region,
	.fill = dpdk_fill,
	.rx = dpdk_rx,
	.tx = dpdk_tx,
	.complete = dpdk_complete,
	.kick = dpdk_kick,
	.step = NULL,
	.rings = dpdk_rings,
	.stats = dpdk_stats,
	.ledger = dpdk_ledger,
	.get_region = dpdk_get_region,
	.tx_x = dpdk_tx_x,
	.rx_x = dpdk_rx_x,
	.rx_release = dpdk_rx_release,
	.ext_register = dpdk_ext_register,
	.ext_unregister = dpdk_ext_unregister,
	.ext_freed = dpdk_ext_freed,
	.caps_of = dpdk_caps_of,
	.queues = dpdk_queues,
	.workers = dpdk_workers,
};

__attribute__((visibility("default"))) const struct rl_engine_ops *ringlab_engine(void)
{
	return &ops;
}
