/*
 * gro.c - generic receive offload in software: many TCP segments of one
 * flow become one large packet, without copying a byte.
 *
 * rte_gro_reassemble_burst looks at a burst of received packets and, for
 * TCP/IPv4 segments of the same flow whose sequence numbers follow on (and
 * that carry only ACK), chains the later ones behind the first: it trims
 * each later packet's headers off with rte_pktmbuf_adj and links its mbufs
 * to the end of the first packet's chain, then fixes the IPv4 total length
 * of the first. The payload stays where the PMD put it - the merged packet
 * is a chain of the original mbufs. DPDK 22.11 leaves the IPv4 and TCP
 * checksums as they were (the first segment's); we recompute both for a
 * merged packet, reading its payload (ledger: touched), so that it
 * dissects clean.
 *
 * GRO needs to know what each packet is (packet_type, l2/l3/l4 lengths);
 * net_ring and most vdevs do not say, so every packet is classified with
 * rte_net_get_ptype first (reading its headers only).
 *
 * dpdk_gro_merge() merges everything staged for receive and puts the
 * result back in order; rx_x(RL_RX_GRO) then hands out the first packet.
 */
#include <errno.h>
#include <string.h>

#include <rte_gro.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_mbuf.h>
#include <rte_net.h>

#include "dpdk.h"

static void classify(struct rte_mbuf *m)
{
	struct rte_net_hdr_lens h;

	memset(&h, 0, sizeof(h));
	m->packet_type = rte_net_get_ptype(m, &h, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK |
					   RTE_PTYPE_L4_MASK);
	m->l2_len = h.l2_len;
	m->l3_len = h.l3_len;
	m->l4_len = h.l4_len;
}

/* Segments a merge emptied (a later packet's header mbuf, trimmed to
 * nothing) leave the chain: a region frame goes back to the program's
 * pool, any other mbuf is freed. */
static void drop_empty(struct rl_engine *e, struct rte_mbuf *pkt)
{
	struct rte_mbuf *m, *gone = dpdk_unlink_empty(pkt);

	while ((m = gone)) {
		gone = m->next;
		m->next = NULL;
		if (dpdk_is_frame(e, m)) {
			dpdk_move(e, dpdk_mbuf_frame(e, m), RL_OWN_RX, RL_OWN_APP);
			rl_region_release(&e->p->region, dpdk_mbuf_frame(e, m), NULL);
		} else {
			rte_pktmbuf_free_seg(m);
		}
	}
}

/* A merged TCP/IPv4 packet's checksums, recomputed. */
static void fix_checksums(struct rl_engine *e, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *tcp;

	if ((m->packet_type & RTE_PTYPE_L4_MASK) != RTE_PTYPE_L4_TCP ||
	    !RTE_ETH_IS_IPV4_HDR(m->packet_type) ||
	    m->data_len < m->l2_len + m->l3_len + sizeof(*tcp))
		return;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	tcp = (struct rte_tcp_hdr *)((uint8_t *)ip + m->l3_len);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = 0;
	tcp->cksum = rte_ipv4_udptcp_cksum_mbuf(m, ip, m->l2_len + m->l3_len);
	/* GRO merges received segments: the checksum read is receive path */
	rl_ledger_count(&e->ledger, RL_LEDGER_TOUCHED, m->pkt_len - m->l2_len - m->l3_len,
			RL_DIR_RX);
}

static uint32_t gro_some(struct rl_engine *e, struct rte_mbuf **pkts, uint32_t n)
{
	struct rte_gro_param prm = {
		.gro_types = RTE_GRO_TCP_IPV4,
		.max_flow_num = 4,
		.max_item_per_flow = RTE_GRO_MAX_BURST_ITEM_NUM / 4,
	};
	uint16_t out;

	for (uint32_t i = 0; i < n; i++)
		classify(pkts[i]);
	for (uint32_t i = 0; i < n; i++)
		pkts[i]->hash.usr = pkts[i]->pkt_len; /* to see which grew */
	out = rte_gro_reassemble_burst(pkts, (uint16_t)n, &prm);
	for (uint16_t i = 0; i < out; i++) {
		drop_empty(e, pkts[i]);
		if (pkts[i]->pkt_len != pkts[i]->hash.usr)
			fix_checksums(e, pkts[i]);
	}
	e->gro_in += n;
	e->gro_out += out;
	return out;
}

void dpdk_gro_merge(struct rl_engine *e)
{
	struct rte_mbuf *all[DPDK_STAGE];
	uint32_t n = 0, kept = 0;

	while (e->rxq.tail != e->rxq.head) {
		all[n] = e->rxq.pkt[e->rxq.head++ % DPDK_STAGE];
		e->rxq.frames -= dpdk_region_segs(e, all[n]);
		n++;
	}
	for (uint32_t i = 0; i < n; i += RTE_GRO_MAX_BURST_ITEM_NUM) {
		uint32_t k = n - i < RTE_GRO_MAX_BURST_ITEM_NUM ? n - i
								 : RTE_GRO_MAX_BURST_ITEM_NUM;

		k = gro_some(e, all + i, k);
		memmove(all + kept, all + i, k * sizeof(all[0]));
		kept += k;
	}
	for (uint32_t i = 0; i < kept; i++)
		dpdk_q_push(&e->rxq, all[i], dpdk_region_segs(e, all[i]));
}
