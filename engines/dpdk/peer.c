/*
 * peer.c - two dpdk engines wired back to back (lab.open("dpdk", {peer=a})).
 *
 * net_ring0 alone is a port whose TX queue is the rte_ring its own RX queue
 * reads: a loopback. Wiring a second engine to it makes two ports over two
 * rings instead, as rte_eth_from_rings lets one build them:
 *
 *      a (net_ring0)       tx -> wire[0] -> rx       b (net_ring0_peer)
 *                          rx <- wire[1] <- tx
 *
 * Both ports pass mbuf pointers, so b receives a's very mbufs. For the
 * program to *see* that, b's descriptors must be able to name a's frames:
 * b shares a's region (one mempool, two ports - like two NICs in one host
 * writing the same memory), so b:rx() returns the addresses a:tx() sent,
 * and the engine checks it frame by frame (rx_same_buffer: measured zero
 * copy). Owners live in the one region: both engines move the same frames.
 *
 * a's port is rebuilt for this: its loopback device is unplugged and made
 * anew over the rings, under the same name. That needs a quiet a: nothing
 * in its ring or tx queue. When either engine closes, the other's sends
 * fall off the wire (they wait in a ring nobody reads until it is full).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dpdk.h"

#define WIRE_SLOTS 1024

static int quiet(struct rl_engine *a, struct rl_err *err)
{
	char name[96];
	struct rte_ring *r;

	if (strcmp(a->driver, "net_ring") != 0)
		return rl_err_set(err, EINVAL, "peer=: the peer drives %s (%s) - wire dpdk "
				  "engines back to back over net_ring: open the first with "
				  "vdev=\"net_ring0\"", a->port_name, a->driver);
	if (a->peer)
		return rl_err_set(err, EBUSY, "peer=: that engine is wired to another one "
				  "already - open a fresh net_ring engine to pair with");
	snprintf(name, sizeof(name), "ETH_RXTX0_%s", a->port_name);
	r = rte_ring_lookup(name);
	if ((r && rte_ring_count(r) > 0) || a->txq.tail != a->txq.head)
		return rl_err_set(err, EBUSY, "peer=: %s has packets in flight (%u in its "
				  "ring) - receive them first (recv, or e:rx()), then wire it",
				  a->port_name, r ? rte_ring_count(r) : 0);
	return 0;
}

static int make_port(struct rl_engine *e, const char *name, struct rte_ring *rx,
		     struct rte_ring *tx, struct rl_err *err)
{
	int port = rte_eth_from_rings(name, &rx, 1, &tx, 1, (unsigned)rte_socket_id());

	if (port < 0)
		return rl_err_set(err, ENODEV, "peer=: no port %s over rings (%s)", name,
				  rte_strerror(rte_errno));
	e->wire_rx = rx;
	e->wire_tx = tx;
	return dpdk_port_claim(e, (uint16_t)port, name, err);
}

int dpdk_peer_wire(struct rl_engine *e, struct rl_engine *a, struct rl_err *err)
{
	static unsigned seq;
	char name[80], ra[RTE_RING_NAMESIZE], rb[RTE_RING_NAMESIZE];
	struct dpdk_pool *p = a->p;
	int rc = quiet(a, err);

	if (rc < 0)
		return rc;
	snprintf(ra, sizeof(ra), "rl_wire%u_ab", seq);
	snprintf(rb, sizeof(rb), "rl_wire%u_ba", seq++);
	p->wire[0] = rte_ring_create(ra, WIRE_SLOTS, (int)rte_socket_id(),
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	p->wire[1] = rte_ring_create(rb, WIRE_SLOTS, (int)rte_socket_id(),
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!p->wire[0] || !p->wire[1])
		return rl_err_set(err, ENOMEM, "peer=: no rings for the wire (%s)",
				  rte_strerror(rte_errno));
	/* a: the loopback device goes, the same name comes back over the rings */
	snprintf(name, sizeof(name), "%s", a->port_name);
	dpdk_port_stop(a);
	dpdk_vdevs_unplug(a);
	rc = make_port(a, name, p->wire[1], p->wire[0], err);
	if (!rc)
		rc = dpdk_port_configure(a, err);
	if (rc < 0)
		return rc;
	snprintf(name, sizeof(name), "%s_peer", a->port_name);
	rc = make_port(e, name, p->wire[0], p->wire[1], err);
	if (rc < 0)
		return rc;
	dpdk_pool_share(e, a);
	a->peer = e;
	e->peer = a;
	return 0;
}

/* e closes: the other end keeps its port, now talking to nobody. */
void dpdk_peer_unwire(struct rl_engine *e)
{
	if (e->peer)
		e->peer->peer = NULL;
}
