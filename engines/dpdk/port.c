/*
 * port.c - the DPDK port behind the engine, and what its PMD copies.
 *
 * A port is configured once its region exists (rte_eth_dev_configure with
 * one RX and one TX queue - queues=N: N of each, all taking their receive
 * buffers from the one region's mempool - multi-segment TX when the PMD offers it) and
 * started lazily, at the first fill/tx/rx/kick: some PMDs (net_tap,
 * net_af_xdp) take buffers for every RX descriptor when the RX queue is
 * set up, and those buffers can only come from frames the program has
 * offered with e:fill first.
 *
 * DPDK cannot tell us whether a PMD copies packet bytes. Every PMD has a
 * fixed way of moving them, written down in the table below from its
 * source (drivers/net/<name>): that makes driver_copied (and the kernel's
 * share, kernel_copied) *derived*. The exception is net_ring, which only
 * passes mbuf pointers through an rte_ring: there the engine checks every
 * received frame against the frames it sent (see dpdk.c) and the figure is
 * *measured*.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dpdk.h"

static const struct dpdk_pmd_model models[] = {
	{"net_ring", "zerocopy", false, false, false, false, false, 0, RL_HOW_MEASURED,
	 "net_ring passes mbuf pointers through an rte_ring: the receiver gets the "
	 "sender's buffer, checked frame by frame",
	 false, true},
	{"net_null", "discard", false, false, false, false, true, 0, RL_HOW_DERIVED,
	 "net_null frees what it is sent and receives fresh pool mbufs with only "
	 "their lengths set: nothing is copied (unless copy=1)",
	 true, true},
	{"net_af_packet", "copy", true, true, true, true, false, 0, RL_HOW_DERIVED,
	 "net_af_packet copies every packet between mbufs and its TPACKET ring; the "
	 "kernel copies between that ring and its skbs",
	 false, true},
	{"net_tap", "copy", false, false, true, true, false, 1, RL_HOW_DERIVED,
	 "net_tap moves packets with readv/writev on the tap fd straight from and into "
	 "the frames: the kernel copies each one, the PMD itself copies nothing",
	 false, true},
	{"net_af_xdp", "zerocopy", false, false, true, true, true, 2048, RL_HOW_DERIVED,
	 "net_af_xdp (22.11, unaligned-chunk build) lays its UMEM over this region's "
	 "mempool: TX of one of its mbufs is a descriptor into the UMEM, RX hands over "
	 "the UMEM chunk itself - it would copy only mbufs of another pool",
	 true, false},
	{"net_memif", "copy", true, true, false, false, false, 0, RL_HOW_DERIVED,
	 "net_memif copies between mbufs and the shared-memory rings (zero-copy "
	 "only in zero-copy=yes mode, where the peer's buffers are used)",
	 false, true},
};

void dpdk_pmd_model(struct rl_engine *e)
{
	static const struct dpdk_pmd_model unknown = {
		"", "unknown", false, false, false, false, false, 0, RL_HOW_DERIVED,
		"this PMD is not in ringlab's table: its copies are unknown and counted as 0",
		false, false};

	e->pmd = unknown;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strcmp(e->driver, models[i].driver) == 0)
			e->pmd = models[i];
	if (strcmp(e->driver, "net_memif") == 0 && strstr(e->o.vdev, "zero-copy=yes")) {
		e->pmd.driver_tx = e->pmd.driver_rx = false;
		e->pmd.mode = "zerocopy";
		e->pmd.direct_ok = false; /* it keeps our mbufs in its rings */
	}
	e->ledger.driver_how = e->pmd.how;
	snprintf(e->ledger.driver_why, sizeof(e->ledger.driver_why), "%s", e->pmd.why);
	e->ledger.kernel_how = (e->pmd.kernel_tx || e->pmd.kernel_rx) ? RL_HOW_DERIVED
								   : RL_HOW_NONE;
	snprintf(e->ledger.kernel_why, sizeof(e->ledger.kernel_why), "%s",
		 e->ledger.kernel_how == RL_HOW_NONE
			 ? "no kernel on this path: the PMD runs in this process"
		 : strcmp(e->driver, "net_af_xdp") == 0
			 ? "derived: an AF_XDP socket on a driver without AF_XDP zero-copy "
			   "(veth) binds in copy mode - the kernel copies each packet "
			   "between its own buffer and the UMEM"
			 : "derived from the PMD: the kernel copies each packet once");
}

void dpdk_ledger_tx(struct rl_engine *e, uint64_t bytes)
{
	if (e->pmd.driver_tx)
		rl_ledger_count(&e->ledger, RL_LEDGER_DRIVER_COPIED, bytes, RL_DIR_TX);
	if (e->pmd.kernel_tx)
		rl_ledger_count(&e->ledger, RL_LEDGER_KERNEL_COPIED, bytes, RL_DIR_TX);
}

void dpdk_ledger_rx(struct rl_engine *e, uint64_t bytes)
{
	if (e->pmd.driver_rx)
		rl_ledger_count(&e->ledger, RL_LEDGER_DRIVER_COPIED, bytes, RL_DIR_RX);
	if (e->pmd.kernel_rx)
		rl_ledger_count(&e->ledger, RL_LEDGER_KERNEL_COPIED, bytes, RL_DIR_RX);
}

static int desc_counts(struct rl_engine *e, struct rl_err *err)
{
	uint16_t rx = (uint16_t)e->o.rx_desc, tx = (uint16_t)e->o.tx_desc;
	int rc = rte_eth_dev_adjust_nb_rx_tx_desc(e->port, &rx, &tx);

	if (rc < 0)
		return rl_err_set(err, -rc, "%s: cannot use %u RX / %u TX descriptors (%s)",
				  e->port_name, e->o.rx_desc, e->o.tx_desc, rte_strerror(-rc));
	e->o.rx_desc = rx;
	e->o.tx_desc = tx;
	return 0;
}

int dpdk_port_configure(struct rl_engine *e, struct rl_err *err)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint64_t mark;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(e->port, &info);
	if (rc < 0)
		return rl_err_set(err, -rc, "%s: no device info (%s)", e->port_name,
				  rte_strerror(-rc));
	e->multi_seg = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	if (e->multi_seg)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (e->o.queues > info.max_rx_queues || e->o.queues > info.max_tx_queues)
		return rl_err_set(err, EINVAL, "%s (%s) has at most %u RX and %u TX queues - "
				  "open it with queues=%u or fewer", e->port_name, e->driver,
				  info.max_rx_queues, info.max_tx_queues,
				  info.max_rx_queues < info.max_tx_queues ? info.max_rx_queues
									  : info.max_tx_queues);
	mark = dpdk_log_mark();
	rc = rte_eth_dev_configure(e->port, (uint16_t)e->o.queues, (uint16_t)e->o.queues, &conf);
	if (rc < 0)
		return rl_err_set(err, -rc, "%s: rte_eth_dev_configure failed (%s)",
				  e->port_name, dpdk_log_said(mark) ? dpdk_log_said(mark)
								    : rte_strerror(-rc));
	rc = desc_counts(e, err);
	if (rc < 0)
		return rc;
	for (uint16_t q = 0; q < e->o.queues; q++) {
		mark = dpdk_log_mark();
		rc = rte_eth_tx_queue_setup(e->port, q, (uint16_t)e->o.tx_desc,
					    rte_eth_dev_socket_id(e->port), NULL);
		if (rc < 0)
			break;
	}
	if (rc < 0)
		return rl_err_set(err, -rc, "%s: TX queue with %u descriptors failed (%s) - "
				  "check the device's arguments (vdev=\"%s\") or try another "
				  "tx_desc=", e->port_name, e->o.tx_desc,
				  dpdk_log_said(mark) ? dpdk_log_said(mark) : rte_strerror(-rc),
				  e->o.vdev);
	e->configured = true;
	return 0;
}

int dpdk_port_start(struct rl_engine *e, struct rl_err *err)
{
	uint32_t offered = e->p->nfill;
	uint32_t want = e->pmd.rx_prefill > e->o.rx_desc ? e->pmd.rx_prefill : e->o.rx_desc;
	const char *said;
	uint64_t mark = 0;
	int rc = 0;

	if (e->started)
		return 0;
	if (e->pmd.rx_prefill) /* behind every RX descriptor of every queue */
		want *= e->o.queues;
	if (e->pmd.rx_prefill && offered < want)
		return rl_err_set(err, ENOBUFS, "%s: %s takes %u frames for receive when it "
				  "starts and %u were offered - e:fill(%u) first",
				  e->port_name, e->driver, want, offered, want);
	for (uint16_t q = 0; q < e->o.queues; q++) {
		mark = dpdk_log_mark();
		rc = rte_eth_rx_queue_setup(e->port, q, (uint16_t)e->o.rx_desc,
					    rte_eth_dev_socket_id(e->port), NULL, e->p->mp);
		if (rc < 0)
			break;
	}
	said = dpdk_log_said(mark);
	if (rc < 0 && said)
		return rl_err_set(err, -rc, "%s: RX queue setup failed - %s said \"%s\" "
				  "(too small a frame: a larger frame_size=; too few frames: "
				  "%u of %u offered, e:fill(%u) first)",
				  e->port_name, e->driver, said, offered, want, want);
	if (rc < 0)
		return rl_err_set(err, -rc, "%s: RX queue setup failed (%s) - a PMD refuses "
				  "frames too small for its packets (try a larger frame_size=) "
				  "or, taking a buffer per RX descriptor, too few offered (%u of "
				  "%u: e:fill(%u) first)",
				  e->port_name, rte_strerror(-rc), offered, want, want);
	mark = dpdk_log_mark();
	rc = rte_eth_dev_start(e->port);
	said = dpdk_log_said(mark);
	if (rc < 0)
		return rl_err_set(err, -rc, "%s: rte_eth_dev_start failed (%s) - with %u "
				  "frames offered for receive; e:fill(%u) first if it needs "
				  "buffers", e->port_name, said ? said : rte_strerror(-rc),
				  offered, e->o.rx_desc);
	rte_eth_promiscuous_enable(e->port);
	e->started = true;
	e->no_cleanup = false;
	return 0;
}

/* Take back whatever is still in flight through the port (a net_ring keeps
 * mbufs in its ring across close), then stop it. */
void dpdk_port_stop(struct rl_engine *e)
{
	struct rte_mbuf *pkts[DPDK_BURST];
	uint16_t n;
	int rounds = 0;

	if (e->started) {
		dpdk_tx_cleanup(e);
		for (uint16_t q = 0; q < e->o.queues; q++, rounds = 0)
			while ((n = rte_eth_rx_burst(e->port, q, pkts, DPDK_BURST)) > 0 &&
			       rounds++ < 1024)
				rte_pktmbuf_free_bulk(pkts, n);
		rte_eth_dev_stop(e->port);
	}
	if (e->configured)
		rte_eth_dev_close(e->port);
	e->started = e->configured = false;
}
