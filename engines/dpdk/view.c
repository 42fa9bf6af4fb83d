/*
 * view.c - what e:rings() and e:stats() show for a DPDK port.
 *
 * AF_XDP's four rings are shared memory the program can read; a DPDK
 * port's descriptor rings are the PMD's private business. So the views mix
 * three kinds of numbers, and each note says which it is:
 *
 *   exact     the mempool of offered frames (our own mempool driver sees
 *             every get and put), the rx/tx staging queues and the
 *             completion FIFO (ours), and a net_ring's rte_ring (looked up
 *             by name: its real producer and consumer indices)
 *   PMD       RX descriptors in use (rte_eth_rx_queue_count) and TX
 *             descriptors still owned by the hardware
 *             (rte_eth_tx_descriptor_status), when the PMD implements them
 *   derived   everything computed from the above (prod = cons + pending)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dpdk.h"

/* s into dst[cap], cut and terminated: e:fill asks for the views on every
 * call, so no snprintf here (bench/lua.sh). */
static void put(char *dst, size_t cap, const char *s)
{
	size_t n = strnlen(s, cap - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

static struct rl_ring_view *view(struct rl_ring_view *v, const char *name, uint32_t size,
				 uint32_t prod, uint32_t cons, const char *note)
{
	memset(v, 0, sizeof(*v));
	put(v->name, sizeof(v->name), name);
	v->size = size;
	v->prod = prod;
	v->cons = cons;
	v->pending = prod - cons;
	put(v->note, sizeof(v->note), note);
	return v;
}

/* A note longer than the view holds is cut, on purpose. */
__attribute__((format(printf, 2, 3))) static void note(struct rl_ring_view *v,
						      const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[sizeof(v->note) - 1] = '\0';
	memcpy(v->note, buf, sizeof(v->note));
}

static void view_mempool(struct rl_engine *e, struct rl_ring_view *v)
{
	view(v, "mempool", e->p->have_region ? e->p->region.frames : 0, (uint32_t)e->p->fill_puts,
	     (uint32_t)e->p->fill_gets, "exact: frames offered (fill) the PMD has not taken");
	v->pending = e->p->nfill; /* frames a PMD gave back return here too */
}

static void view_rxq(struct rl_engine *e, struct rl_ring_view *v, uint16_t q)
{
	int used = e->started ? rte_eth_rx_queue_count(e->port, q) : 0;
	uint32_t cons = (uint32_t)(e->o.queues > 1 ? e->qinfo[q].rx_pkts : e->rx_pkts);
	char name[16];

	snprintf(name, sizeof(name), "rxq%u", q);
	if (used >= 0) {
		view(v, name, e->o.rx_desc, cons + (uint32_t)used, cons,
		     "PMD: descriptors holding packets; prod derived");
		return;
	}
	view(v, name, e->o.rx_desc, cons, cons, "");
	note(v, "%.24s hides its RX descriptors (%.24s); cons = packets received",
	     e->driver, used == -ENOTSUP ? "no rx_queue_count" : strerror(-used));
}

static void view_txq(struct rl_engine *e, struct rl_ring_view *v, uint16_t q)
{
	uint32_t prod = (uint32_t)(e->o.queues > 1 ? e->qinfo[q].tx_pkts : e->tx_burst_pkts);
	uint32_t busy = 0;
	int st = -ENOTSUP;
	char name[16];

	snprintf(name, sizeof(name), "txq%u", q);
	for (uint16_t off = 0; e->started && off < e->o.tx_desc; off++) {
		st = rte_eth_tx_descriptor_status(e->port, q, off);
		if (st < 0)
			break;
		busy += st == RTE_ETH_TX_DESC_FULL;
	}
	if (st >= 0) {
		view(v, name, e->o.tx_desc, prod, prod - busy,
		     "PMD: descriptors not yet done; cons derived");
		return;
	}
	view(v, name, e->o.tx_desc, prod, prod, "");
	note(v, "%.24s hides its TX descriptors (%.24s); prod = packets it took",
	     e->driver, st == -ENOTSUP ? "no tx_descriptor_status" : strerror(-st));
}

/* net_ring's queue q is an rte_ring named after the device: read it. */
static bool view_netring(struct rl_engine *e, struct rl_ring_view *v, uint16_t q)
{
	char name[96], vname[16];
	struct rte_ring *r;

	if (e->wire_tx) {
		view(v, "wire", rte_ring_get_size(e->wire_tx), e->wire_tx->prod.tail,
		     e->wire_tx->cons.tail, "exact: the rte_ring this port sends into, the "
		     "peer's port reads");
		return true;
	}
	if (strcmp(e->driver, "net_ring") != 0)
		return false;
	snprintf(name, sizeof(name), "ETH_RXTX%u_%s", q, e->port_name);
	r = rte_ring_lookup(name);
	if (!r)
		return false;
	if (e->o.queues > 1)
		snprintf(vname, sizeof(vname), "ring%u", q);
	else
		snprintf(vname, sizeof(vname), "ring");
	view(v, vname, rte_ring_get_size(r), r->prod.tail, r->cons.tail,
	     "exact: net_ring's rte_ring (TX enqueues, RX dequeues)");
	return true;
}

int dpdk_rings(struct rl_engine *e, struct rl_ring_view *v, unsigned max)
{
	struct rl_ring_view all[RL_RING_VIEWS_MAX];
	unsigned n = 0;

	view_mempool(e, &all[n++]);
	for (uint16_t q = 0; q < e->o.queues && n + 6 < RL_RING_VIEWS_MAX; q++) {
		view_rxq(e, &all[n++], q);
		view_txq(e, &all[n++], q);
	}
	for (uint16_t q = 0; q < e->o.queues && n + 4 < RL_RING_VIEWS_MAX; q++) {
		if (!view_netring(e, &all[n], q))
			break;
		n++;
		if (e->wire_tx)
			break; /* peer=: the one wire */
	}
	view(&all[n++], "rx", DPDK_STAGE, e->rxq.tail, e->rxq.head,
	     "exact: packets rx_burst returned, not yet given to the program");
	view(&all[n++], "tx", DPDK_STAGE, e->txq.tail, e->txq.head,
	     "exact: packets queued, the PMD had no room yet");
	view(&all[n++], "comp", e->p->comp_mask + 1, e->p->comp_tail, e->p->comp_head,
	     "exact: frames the PMD freed after sending");
	if (n > max)
		n = max;
	memcpy(v, all, n * sizeof(*v));
	return (int)n;
}

/* ---- queues ------------------------------------------------------------- */

int dpdk_queues(struct rl_engine *e, int select, int *was, struct rl_queue_info *q,
		unsigned max, struct rl_err *err)
{
	if (select >= 0 && (uint32_t)select >= e->o.queues)
		return rl_err_set(err, EINVAL, "no queue %d here: this port has %u queue%s (0%s) "
				  "- open it with queues=%d to use queue %d", select, e->o.queues,
				  e->o.queues == 1 ? "" : "s", e->o.queues == 1 ? "" :
				  e->o.queues == 2 ? ",1" : "..", select + 1, select);
	if (was)
		*was = e->sel < 0 ? RL_QUEUE_ALL : e->sel;
	if (select >= 0)
		e->sel = select;
	else if (select == RL_QUEUE_ALL)
		e->sel = e->o.queues > 1 ? -1 : 0;
	for (unsigned i = 0; q && i < e->o.queues && i < max; i++) {
		q[i] = e->qinfo[i];
		q[i].id = i;
		if (e->o.queues == 1) { /* one queue: the engine's counts */
			q[i].rx_pkts = e->rx_pkts;
			q[i].rx_bytes = e->rx_bytes;
			q[i].tx_pkts = e->tx_pkts;
			q[i].tx_bytes = e->tx_bytes;
		}
	}
	return (int)e->o.queues;
}

static void port_stats(struct rl_engine *e, struct rl_stats *s)
{
	struct rte_eth_stats st;
	struct rte_eth_link link;

	if (e->started && rte_eth_link_get_nowait(e->port, &link) == 0)
		rl_stats_extra(s, "link_up", link.link_status == RTE_ETH_LINK_UP);

	if (!e->started || rte_eth_stats_get(e->port, &st) < 0)
		return;
	rl_stats_extra(s, "pmd_ipackets", st.ipackets);
	rl_stats_extra(s, "pmd_opackets", st.opackets);
	rl_stats_extra(s, "pmd_imissed", st.imissed);
	rl_stats_extra(s, "pmd_ierrors", st.ierrors);
	rl_stats_extra(s, "pmd_oerrors", st.oerrors);
	rl_stats_extra(s, "pmd_rx_nombuf", st.rx_nombuf);
	s->drops = st.imissed + st.ierrors + st.oerrors + st.rx_nombuf;
}

int dpdk_stats(struct rl_engine *e, struct rl_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->tx_pkts = e->tx_pkts;
	s->tx_bytes = e->tx_bytes;
	s->rx_pkts = e->rx_pkts;
	s->rx_bytes = e->rx_bytes;
	s->kicks = e->kicks;
	if (e->pmd.how == RL_HOW_MEASURED)
		snprintf(e->ledger.driver_why, sizeof(e->ledger.driver_why),
			 "measured: %llu of %llu frames received came back at the very "
			 "address they were sent from (net_ring passes pointers)%s",
			 (unsigned long long)e->rx_same,
			 (unsigned long long)(e->rx_same + e->rx_fresh),
			 e->peer ? ", by the peer port" : "");
	s->ledger = e->ledger;
	snprintf(s->mode, sizeof(s->mode), "%s", e->pmd.mode);
	snprintf(s->mode_why, sizeof(s->mode_why), "%s port %u, %s layout: %s", e->driver,
		 e->port, e->p->layout == DPDK_LAYOUT_OBJECTS ? "objects" : "pinned",
		 e->pmd.why);
	port_stats(e, s);
	rl_stats_extra(s, "rx_same_buffer", e->rx_same);
	rl_stats_extra(s, "rx_fresh_buffer", e->rx_fresh);
	rl_stats_extra(s, "fill_taken_by_pmd", e->p->fill_gets);
	rl_stats_extra(s, "tx_pmd_took_frames", e->p->tx_takes);
	rl_stats_extra(s, "tx_direct_mbufs", e->tx_direct);
	rl_stats_extra(s, "gro_in", e->gro_in);
	rl_stats_extra(s, "gro_out", e->gro_out);
	rl_stats_extra(s, "model_errors", e->p->model_errors);
	rl_stats_extra(s, "tx_burst_short", e->tx_burst_short);
	rl_stats_extra(s, "tx_ring_full", e->tx_ring_full);
	/* net_null's RX makes packets up: a length, and whatever bytes the
	 * pool's buffer held - nothing came from a wire */
	if (!strcmp(e->driver, "net_null"))
		rl_stats_extra(s, "rx_invented", e->rx_pkts);
	return 0;
}
