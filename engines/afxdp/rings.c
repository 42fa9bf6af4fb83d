/*
 * rings.c - fill, rx, tx and completion: the kernel's four rings, and who
 * owns every frame while the kernel works on them.
 *
 * We produce into fill and tx and the kernel consumes them; the kernel
 * produces into rx and completion and we consume them. All four indices
 * live in memory shared with the kernel, so we can watch it work:
 *
 *   app -> fill   we put a frame's address on the fill ring     (fill())
 *   fill -> nic   the kernel's fill consumer index passes it
 *   nic -> rx     its descriptor shows up on the rx ring
 *   rx -> app     we take it off the rx ring                     (rx())
 *   app -> tx     we put a descriptor on the tx ring             (tx())
 *   tx -> nic     the kernel's tx consumer index passes it
 *   nic -> comp   its address shows up on the completion ring
 *   comp -> app   we take it off the completion ring             (complete())
 *
 * The kernel publishes its consumer indices lazily: it may take a batch of
 * fill entries and write the index only later. So when a frame comes back
 * on rx (or completion) while we still think it sits on the fill (tx) ring,
 * the kernel has evidently taken it, and every entry before it, since the
 * kernel consumes in order. We keep a shadow of what we produced
 * (struct afxdp_shadow) to know which frames those entries were.
 *
 * afxdp_sync() applies everything the kernel did since the last call; every
 * operation, and the shell's owner view (get_region), calls it first.
 *
 * With queues=N there is one socket per queue, so N sets of four rings over
 * the one UMEM. The code below works on one socket, the one in the
 * engine's fields; afxdp_use() parks it and brings another in. An
 * operation acts on the selected queue (e:queue(1), or queue=1 at the
 * prompt) or, selected none, spreads: fill and tx share their frames out
 * over the queues, rx, complete and kick visit every queue in turn.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "afxdp.h"

static uint32_t load_idx(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Make the socket of queue index k the one the fields hold. */
void afxdp_use(struct rl_engine *e, unsigned k)
{
	struct afxdp_sock *s;

	if (k == e->cur || k >= e->nsocks)
		return;
	s = &e->socks[e->cur]; /* park the one in use */
	s->xsk = e->xsk;
	s->fill = e->fill;
	s->tx = e->tx;
	s->comp = e->comp;
	s->rx = e->rx;
	s->fillq = e->fillq;
	s->txq = e->txq;
	s->rx_seen = e->rx_seen;
	s->comp_seen = e->comp_seen;
	s = &e->socks[k];
	e->xsk = s->xsk;
	e->fill = s->fill;
	e->tx = s->tx;
	e->comp = s->comp;
	e->rx = s->rx;
	e->fillq = s->fillq;
	e->txq = s->txq;
	e->rx_seen = s->rx_seen;
	e->comp_seen = s->comp_seen;
	e->cur = k;
}

struct xsk_socket *afxdp_xsk_of(struct rl_engine *e, unsigned k)
{
	return k == e->cur ? e->xsk : e->socks[k].xsk;
}

static uint32_t frame_of(const struct rl_engine *e, uint64_t addr)
{
	return rl_region_frame(&e->region, addr);
}

/* The frames a TX descriptor touches: its own, or with unaligned=true
 * every frame addr..addr+len crosses. */
static void span_of(const struct rl_engine *e, uint64_t addr, uint32_t len,
		    uint32_t *first, uint32_t *n)
{
	if (!e->o.unaligned) {
		*first = frame_of(e, addr);
		*n = 1;
		return;
	}
	rl_region_span_frames(&e->region, addr, len, first, n);
}

/* An RX address as the kernel writes it: with unaligned chunks the offset
 * of the data in its chunk is in the upper 16 bits. */
static uint64_t rx_addr(const struct rl_engine *e, uint64_t addr)
{
	return e->o.unaligned ? xsk_umem__add_offset_to_addr(addr) : addr;
}

/* Owner change the kernel caused; a refusal means the kernel and our model
 * disagree, which we count instead of crashing. */
static void kmove(struct rl_engine *e, uint32_t frame, enum rl_owner from,
		  enum rl_owner to)
{
	if (frame >= e->region.frames ||
	    rl_region_move(&e->region, frame, from, to, NULL) < 0)
		e->owner_mismatch++;
}

static bool copy_mode(const struct rl_engine *e)
{
	return !e->zerocopy;
}

/* Shadow entries before index `upto` have left their ring for the kernel. */
static void shadow_pass(struct rl_engine *e, struct afxdp_shadow *q, uint32_t upto,
			enum rl_owner from)
{
	while ((int32_t)(upto - q->seen) > 0) {
		const struct rl_desc *d = &q->d[q->seen & q->mask];
		uint32_t f = frame_of(e, d->addr), nf = 1;

		if (from == RL_OWN_TX) /* unaligned: every frame it crosses */
			span_of(e, d->addr, d->len, &f, &nf);
		if (f < e->region.frames && rl_region_owner(&e->region, f) == from) {
			for (uint32_t j = f; j < f + nf; j++)
				kmove(e, j, from, RL_OWN_NIC);
			if (from == RL_OWN_TX) {
				/* Sent: in copy mode the kernel copied it into an skb. */
				e->tx_bytes += d->len;
				e->tx_pkts += !(d->options & RL_DESC_CONTD);
				e->qinfo[e->cur].tx_bytes += d->len;
				e->qinfo[e->cur].tx_pkts += !(d->options & RL_DESC_CONTD);
				if (copy_mode(e))
					rl_ledger_count(&e->ledger, RL_LEDGER_KERNEL_COPIED,
							d->len, RL_DIR_TX);
			}
		}
		q->seen++;
	}
}

/* The kernel handed frame f back before publishing that it consumed it:
 * it took f and everything queued before f. */
static void shadow_pass_frame(struct rl_engine *e, struct afxdp_shadow *q, uint32_t f,
			      enum rl_owner from)
{
	for (uint32_t i = q->seen; i != q->head; i++)
		if (frame_of(e, q->d[i & q->mask].addr) == f) {
			shadow_pass(e, q, i + 1, from);
			return;
		}
}

/* Descriptors of frame f inside the kernel (a shared frame counts them). */
static uint32_t nic_refs(const struct rl_engine *e, uint32_t f)
{
	const struct rl_region *r = &e->region;

	return r->refs[f].sum ? r->refs[f].nic : rl_region_owner(r, f) == RL_OWN_NIC;
}

/* A frame came out of the kernel onto the rx or completion ring. */
static void arrived(struct rl_engine *e, uint64_t addr, enum rl_owner queued,
		    struct afxdp_shadow *q, enum rl_owner to)
{
	uint32_t f = frame_of(e, addr);

	if (f >= e->region.frames) {
		e->owner_mismatch++;
		return;
	}
	/* a completion for a frame none of whose descriptors the shadow has
	 * seen leave the tx ring yet (a frame may be in several: its nic
	 * count, not its owner, says whether one left) */
	if (queued == RL_OWN_TX ? !nic_refs(e, f) : rl_region_owner(&e->region, f) == queued)
		shadow_pass_frame(e, q, f, queued);
	kmove(e, f, RL_OWN_NIC, to);
	/* unaligned: the rest of the frames its TX descriptor crossed */
	for (uint32_t j = f + 1; to == RL_OWN_COMP && e->span && j < f + e->span[f]; j++)
		kmove(e, j, RL_OWN_NIC, to);
}

static void sync_one(struct rl_engine *e)
{
	uint32_t prod;

	shadow_pass(e, &e->fillq, load_idx(e->fill.consumer), RL_OWN_FILL);
	shadow_pass(e, &e->txq, load_idx(e->tx.consumer), RL_OWN_TX);
	prod = load_idx(e->rx.producer);
	for (; e->rx_seen != prod; e->rx_seen++)
		arrived(e, rx_addr(e, xsk_ring_cons__rx_desc(&e->rx, e->rx_seen)->addr),
			RL_OWN_FILL, &e->fillq, RL_OWN_RX);
	prod = load_idx(e->comp.producer);
	for (; e->comp_seen != prod; e->comp_seen++)
		arrived(e, *xsk_ring_cons__comp_addr(&e->comp, e->comp_seen), RL_OWN_TX,
			&e->txq, RL_OWN_COMP);
}

/* Every socket's rings; the one in use stays in use. */
void afxdp_sync(struct rl_engine *e)
{
	unsigned was = e->cur;

	if (!e->xsk)
		return;
	for (unsigned k = 0; k < e->nsocks; k++) {
		afxdp_use(e, k);
		sync_one(e);
	}
	afxdp_use(e, was);
}

static int need_socket(struct rl_engine *e, const char *what, struct rl_err *err)
{
	if (!e->xsk)
		return rl_err_set(err, ENXIO, "%s: no socket yet - make the region first "
				  "(e:region{frames=4096, frame_size=2048}), which binds it", what);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Before giving the kernel more frames: is the interface still there?
 * Asking costs a system call (an ioctl, see afxdp_link_gone), so the
 * answer is trusted for a millisecond - no one deletes a link faster than
 * that between two calls. */
static int need_link(struct rl_engine *e, const char *what, struct rl_err *err)
{
	int rc = need_socket(e, what, err);
	uint64_t t;

	if (rc < 0)
		return rc;
	t = now_ns();
	if (t < e->link_ok_until)
		return 0;
	if (afxdp_link_gone(e, err))
		return -err->code;
	e->link_ok_until = t + 1000000;
	return 0;
}

/* ---- fill ------------------------------------------------------------ */

/* Spread: the share of n that queue index k gets. */
static uint32_t share(const struct rl_engine *e, uint32_t n, unsigned k)
{
	return n / e->nsocks + (k < n % e->nsocks);
}

/* Room for n frames on the fill ring of the socket in use? */
static int fill_room(struct rl_engine *e, uint32_t n, struct rl_err *err)
{
	uint32_t room = xsk_prod_nb_free(&e->fill, n);

	if (room >= n)
		return 0;
	if (e->nsocks > 1)
		return rl_err_set(err, ENOSPC, "fill: the fill ring of queue %u has room for "
				  "%u of %u frames - fill fewer, or receive first",
				  e->o.qids[e->cur], room, n);
	return rl_err_set(err, ENOSPC, "fill: the fill ring has room for %u of %u "
			  "frames - fill fewer, or receive first", room, n);
}

static void fill_one(struct rl_engine *e, uint32_t n)
{
	uint32_t idx = 0;
	uint64_t addr;

	if (!n)
		return;
	xsk_ring_prod__reserve(&e->fill, n, &idx);
	for (uint32_t i = 0; i < n; i++) {
		rl_region_take(&e->region, &addr, NULL);
		rl_region_move(&e->region, frame_of(e, addr), RL_OWN_APP, RL_OWN_FILL, NULL);
		*xsk_ring_prod__fill_addr(&e->fill, idx + i) = addr;
		e->fillq.d[e->fillq.head++ & e->fillq.mask] =
			(struct rl_desc){ .addr = addr };
	}
	xsk_ring_prod__submit(&e->fill, n);
}

/* All or nothing: every share is checked before any frame moves. */
int afxdp_fill(struct rl_engine *e, uint32_t n, struct rl_err *err)
{
	unsigned was = e->cur;
	int rc;

	if ((rc = need_link(e, "fill", err)) < 0)
		return rc;
	afxdp_sync(e);
	if (e->region.nfree < n)
		return rl_err_set(err, ENOBUFS, "fill: only %u free frames for %u - release "
				  "packets or complete sends first", e->region.nfree, n);
	if (e->sel >= 0) {
		afxdp_use(e, (unsigned)e->sel);
		if ((rc = fill_room(e, n, err)) == 0)
			fill_one(e, n);
		afxdp_use(e, was);
		return rc < 0 ? rc : (int)n;
	}
	/* spread: an equal share each, and what a full ring cannot take to
	 * the others (a queue that received more has more room) */
	uint32_t room[AFXDP_QUEUES_MAX], give[AFXDP_QUEUES_MAX], total = 0, left = n;

	for (unsigned k = 0; k < e->nsocks; k++) {
		afxdp_use(e, k);
		room[k] = xsk_prod_nb_free(&e->fill, e->fillq.mask + 1);
		give[k] = share(e, n, k) < room[k] ? share(e, n, k) : room[k];
		total += room[k];
		left -= give[k];
	}
	afxdp_use(e, was);
	if (total < n)
		return rl_err_set(err, ENOSPC, "fill: the fill rings of the %u queues have room "
				  "for %u of %u frames - fill fewer, or receive first",
				  e->nsocks, total, n);
	for (unsigned k = 0; left; k = (k + 1) % e->nsocks)
		if (give[k] < room[k]) {
			give[k]++;
			left--;
		}
	for (unsigned k = 0; k < e->nsocks; k++) {
		afxdp_use(e, k);
		fill_one(e, give[k]);
	}
	afxdp_use(e, was);
	return (int)n;
}

/* ---- rx -------------------------------------------------------------- */

/* With need_wakeup, the kernel may sleep until poked: recvfrom pokes RX. */
static void wake_rx(struct rl_engine *e)
{
	if (!e->o.need_wakeup || !xsk_ring_prod__needs_wakeup(&e->fill))
		return;
	recvfrom(xsk_socket__fd(e->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	e->kicks++;
}

/* How many of the n descriptors at idx form whole packets. */
static uint32_t whole_packets(struct rl_engine *e, uint32_t idx, uint32_t n)
{
	uint32_t whole = 0;

	for (uint32_t i = 0; i < n; i++)
		if (!(xsk_ring_cons__rx_desc(&e->rx, idx + i)->options & XDP_PKT_CONTD))
			whole = i + 1;
	return whole;
}

static void take_rx(struct rl_engine *e, const struct xdp_desc *k, struct rl_desc *out)
{
	out->addr = rx_addr(e, k->addr);
	out->len = k->len;
	out->options = k->options & RL_DESC_CONTD;
	kmove(e, frame_of(e, out->addr), RL_OWN_RX, RL_OWN_APP);
	e->rx_bytes += k->len;
	e->rx_pkts += !(k->options & XDP_PKT_CONTD);
	e->qinfo[e->cur].rx_bytes += k->len;
	e->qinfo[e->cur].rx_pkts += !(k->options & XDP_PKT_CONTD);
	if (copy_mode(e)) /* the kernel copied it from an skb into the frame */
		rl_ledger_count(&e->ledger, RL_LEDGER_KERNEL_COPIED, k->len, RL_DIR_RX);
}

static int rx_one(struct rl_engine *e, struct rl_desc *out, uint32_t max, struct rl_err *err)
{
	uint32_t idx = 0, n, whole;

	wake_rx(e);
	n = xsk_ring_cons__peek(&e->rx, max, &idx);
	sync_one(e); /* owners of everything peeked are now rx (this socket's
		      * frames: only its fill ring feeds its rx ring) */
	whole = whole_packets(e, idx, n);
	xsk_ring_cons__cancel(&e->rx, n - whole);
	if (!whole && n == max && max > 0)
		return rl_err_set(err, EMSGSIZE, "rx: the next packet spans more than %u "
				  "frames - ask for more, e.g. e:rx(%u)", max, max * 4);
	if (!whole && need_link(e, "rx", err) < 0) /* an ioctl at most every ms */
		return -err->code;
	for (uint32_t i = 0; i < whole; i++)
		take_rx(e, xsk_ring_cons__rx_desc(&e->rx, idx + i), &out[i]);
	if (whole)
		xsk_ring_cons__release(&e->rx, whole);
	return (int)whole;
}

/* The selected queue, or every queue in turn (starting one further each
 * call, so that no queue waits behind another): whole packets only. */
int afxdp_rx(struct rl_engine *e, struct rl_desc *out, uint32_t max, struct rl_err *err)
{
	unsigned was = e->cur;
	uint32_t got = 0;
	int rc;

	if ((rc = need_socket(e, "rx", err)) < 0)
		return rc;
	if (e->sel >= 0 || e->nsocks < 2) {
		afxdp_use(e, e->sel >= 0 ? (unsigned)e->sel : 0);
		rc = rx_one(e, out, max, err);
		afxdp_use(e, was);
		return rc;
	}
	for (unsigned i = 0; i < e->nsocks && got < max; i++) {
		afxdp_use(e, (e->rr + i) % e->nsocks);
		rc = rx_one(e, out + got, max - got, err);
		if (rc < 0 && !got) {
			afxdp_use(e, was);
			return rc;
		}
		if (rc < 0) /* the rest waits for the next call */
			break;
		got += (uint32_t)rc;
	}
	e->rr = (e->rr + 1) % e->nsocks;
	afxdp_use(e, was);
	return (int)got;
}

/* ---- tx -------------------------------------------------------------- */

/* Descriptors in the packet starting at d (of n left); 0 if it never ends. */
static uint32_t packet_descs(const struct rl_desc *d, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!(d[i].options & RL_DESC_CONTD))
			return i + 1;
	return 0;
}

static int check_tx_desc(struct rl_engine *e, const struct rl_desc *d, uint32_t i,
			 struct rl_err *err)
{
	uint32_t f = frame_of(e, d->addr), first, nf;
	int rc;

	if (e->o.unaligned && d->addr < e->region.size) /* may cross frames */
		rc = rl_region_check_span(&e->region, d->addr, d->len, err);
	else
		rc = rl_region_check_desc(&e->region, d->addr, d->len, err);
	if (rc < 0)
		return rc;
	if (d->options & ~RL_DESC_CONTD)
		return rl_err_set(err, EINVAL, "tx: descriptor %u has unknown option bits "
				  "0x%x - only RL_DESC_CONTD", i, d->options);
	span_of(e, d->addr, d->len, &first, &nf);
	for (f = first; f < first + nf; f++) {
		enum rl_owner o = rl_region_owner(&e->region, f);

		/* aligned: a chunk already in TX descriptors may be in one more */
		if (e->txside && e->txside[f] &&
		    (o == RL_OWN_TX || o == RL_OWN_NIC || o == RL_OWN_COMP))
			continue;
		if (o != RL_OWN_APP || rl_region_is_free(&e->region, f))
			break;
	}
	if (f < first + nf)
		return rl_err_set(err, EPERM, "tx: descriptor %u is in frame %u, which the "
				  "program does not hold (owner %s%s) - send only frames you built "
				  "packets in%s", i, f, rl_owner_name(rl_region_owner(&e->region, f)),
				  rl_region_is_free(&e->region, f) ? ", free in the pool" : "",
				  rl_region_owner(&e->region, f) == RL_OWN_APP ||
				  rl_region_owner(&e->region, f) == RL_OWN_FILL ||
				  rl_region_owner(&e->region, f) == RL_OWN_RX || e->txside
				  ? "" : "; with unaligned=true a frame is in one descriptor at a "
				  "time (no shared in show caps): complete it first");
	return 0;
}

/* Do two TX descriptors touch a frame in common? */
static bool frames_meet(const struct rl_engine *e, const struct rl_desc *a,
			const struct rl_desc *b)
{
	uint32_t fa, na, fb, nb;

	span_of(e, a->addr, a->len, &fa, &na);
	span_of(e, b->addr, b->len, &fb, &nb);
	return fa < fb + nb && fb < fa + na;
}

/* One packet of k descriptors starting at index i of the caller's list. */
static int check_tx_packet(struct rl_engine *e, const struct rl_desc *d, uint32_t i,
			   uint32_t k, struct rl_err *err)
{
	int rc;

	if (k > 1 && !e->o.sg)
		return rl_err_set(err, EINVAL, "tx: a packet in %u frames needs multi-buffer "
				  "- open the engine with sg=true (XDP_USE_SG)", k);
	if (k > AFXDP_MAX_FRAGS)
		return rl_err_set(err, EMSGSIZE, "tx: a packet in %u frames is more than the "
				  "kernel takes (%u: one skb's linear part and 17 page fragments) "
				  "- use bigger frames or smaller packets", k, AFXDP_MAX_FRAGS);
	for (uint32_t j = 0; j < k; j++) {
		if ((rc = check_tx_desc(e, &d[j], i + j, err)) < 0)
			return rc;
		for (uint32_t m = 0; m < j; m++)
			if (frames_meet(e, &d[m], &d[j]))
				return rl_err_set(err, EINVAL, "tx: descriptors %u and %u are in "
						  "the same frame %u - one descriptor per frame", i + m,
						  i + j, frame_of(e, d[j].addr));
	}
	return 0;
}

/* Check every packet first, so a bad one queues nothing. */
static int check_tx(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
		    struct rl_err *err)
{
	for (uint32_t i = 0, k; i < n; i += k) {
		int rc;

		k = packet_descs(d + i, n - i);
		if (!k)
			return rl_err_set(err, EINVAL, "tx: the last descriptor has RL_DESC_CONTD "
					  "set, so the packet never ends - clear it on a packet's "
					  "last descriptor");
		if ((rc = check_tx_packet(e, d + i, i, k, err)) < 0)
			return rc;
	}
	return 0;
}

static int tx_one(struct rl_engine *e, const struct rl_desc *d, uint32_t n, struct rl_err *err)
{
	uint32_t room, fit = 0, idx = 0, k;

	room = xsk_prod_nb_free(&e->tx, n);
	for (; fit < n && (k = packet_descs(d + fit, n - fit)) <= room - fit; fit += k)
		;
	for (uint32_t i = fit; i < n; i++) /* packets that found no room */
		e->tx_ring_full += !(d[i].options & RL_DESC_CONTD);
	if (!fit && n)
		return rl_err_set(err, ENOSPC, "tx: the tx ring has room for %u descriptors, "
				  "the first packet needs %u - e:kick() to let the kernel send, "
				  "e:complete() to take sent frames back", room,
				  packet_descs(d, n));
	if (!fit)
		return 0;
	xsk_ring_prod__reserve(&e->tx, fit, &idx);
	for (uint32_t i = 0; i < fit; i++) {
		struct xdp_desc *k_d = xsk_ring_prod__tx_desc(&e->tx, idx + i);

		k_d->addr = d[i].addr;
		k_d->len = d[i].len;
		k_d->options = d[i].options & RL_DESC_CONTD ? XDP_PKT_CONTD : 0;
		uint32_t f, nf;

		span_of(e, d[i].addr, d[i].len, &f, &nf);
		for (uint32_t j = f; j < f + nf; j++) { /* more than 1: unaligned */
			if (e->txside) { /* one more descriptor in the chunk */
				rl_region_ref(&e->region, j, NULL);
				e->txside[j] = 1;
			} else {
				rl_region_move(&e->region, j, RL_OWN_APP, RL_OWN_TX, NULL);
			}
		}
		if (e->span)
			e->span[f] = (uint16_t)nf;
		e->txq.d[e->txq.head++ & e->txq.mask] = d[i];
	}
	xsk_ring_prod__submit(&e->tx, fit);
	return (int)fit;
}

/* Descriptors in the first p packets of d[0..n). */
static uint32_t descs_of_packets(const struct rl_desc *d, uint32_t n, uint32_t p)
{
	uint32_t at = 0;

	for (uint32_t i = 0; i < p && at < n; i++)
		at += packet_descs(d + at, n - at);
	return at;
}

/* The selected queue, or spread: the packets cut into one run per queue
 * (the first n/N packets to the first queue, ...), in order, so that what
 * went is always the first descriptors of the list, as tx() promises. */
int afxdp_tx(struct rl_engine *e, const struct rl_desc *d, uint32_t n, struct rl_err *err)
{
	unsigned was = e->cur;
	uint32_t pkts = 0, at = 0;
	int rc;

	if ((rc = need_link(e, "tx", err)) < 0 || (rc = check_tx(e, d, n, err)) < 0)
		return rc;
	afxdp_sync(e);
	if (e->sel >= 0 || e->nsocks < 2) {
		afxdp_use(e, e->sel >= 0 ? (unsigned)e->sel : 0);
		rc = tx_one(e, d, n, err);
		afxdp_use(e, was);
		return rc;
	}
	for (uint32_t i = 0; i < n; i += packet_descs(d + i, n - i))
		pkts++;
	for (unsigned k = 0; k < e->nsocks && at < n; k++) {
		uint32_t want = descs_of_packets(d + at, n - at, share(e, pkts, k));

		if (!want)
			continue;
		afxdp_use(e, k);
		rc = tx_one(e, d + at, want, err);
		if (rc < 0 && at) /* this queue is full: what went, went */
			break;
		if (rc < 0) {
			afxdp_use(e, was);
			return rc;
		}
		at += (uint32_t)rc;
		if ((uint32_t)rc < want)
			break;
	}
	afxdp_use(e, was);
	return (int)at;
}

/* ---- completion ------------------------------------------------------ */

static int complete_one(struct rl_engine *e, uint64_t *addrs, uint32_t max)
{
	uint32_t idx = 0, n;

	n = xsk_ring_cons__peek(&e->comp, max, &idx);
	afxdp_sync(e);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&e->comp, idx + i);
		uint32_t f = frame_of(e, addr), nf = 1;

		if (e->span && f < e->region.frames && e->span[f]) {
			nf = e->span[f]; /* unaligned: every frame it crossed */
			e->span[f] = 0;
		}
		for (uint32_t j = f; j < f + nf; j++) {
			kmove(e, j, RL_OWN_COMP, RL_OWN_APP);
			/* to the pool, or its buffer - when it was the last
			 * descriptor that pointed into it */
			if (j < e->region.frames &&
			    rl_region_owner(&e->region, j) == RL_OWN_APP) {
				if (e->txside)
					e->txside[j] = 0;
				rl_region_release(&e->region, j, NULL);
			}
		}
		if (addrs)
			addrs[i] = addr;
	}
	if (n)
		xsk_ring_cons__release(&e->comp, n);
	return (int)n;
}

/* The selected queue's completion ring, or every queue's. */
int afxdp_complete(struct rl_engine *e, uint64_t *addrs, uint32_t max,
		   struct rl_err *err)
{
	unsigned was = e->cur;
	uint32_t got = 0;
	int rc;

	if ((rc = need_socket(e, "complete", err)) < 0)
		return rc;
	for (unsigned k = 0; k < e->nsocks && got < max; k++) {
		if (e->sel >= 0 && k != (unsigned)e->sel)
			continue;
		afxdp_use(e, k);
		got += (uint32_t)complete_one(e, addrs ? addrs + got : NULL, max - got);
	}
	afxdp_use(e, was);
	return (int)got;
}

/* ---- kick ------------------------------------------------------------ */

static bool tx_waiting(struct rl_engine *e)
{
	return load_idx(e->tx.producer) != load_idx(e->tx.consumer);
}

static bool comp_full(struct rl_engine *e)
{
	return load_idx(e->comp.producer) - load_idx(e->comp.consumer) >= e->comp.size;
}

static int kick_error(struct rl_engine *e, int errnum, struct rl_err *err)
{
	if (afxdp_link_gone(e, err))
		return -err->code;
	if (errnum == ENETDOWN)
		return rl_err_set(err, ENETDOWN, "kick: %s is down - `ip link set %s up` "
				  "(or `ringlab testbed up`)", e->o.ifname, e->o.ifname);
	if (errnum == ENXIO)
		return rl_err_set(err, ENXIO, "kick: the socket is no longer bound to %s "
				  "(the interface went away?) - close and open the engine again",
				  e->o.ifname);
	return rl_err_set(err, errnum, "kick: sendto on the AF_XDP socket failed: %s",
			  strerror(errnum));
}

/* Copy mode sends only inside sendto, at most tx_budget descriptors per
 * call (32 on kernels before 6.17, the whole tx ring with
 * XDP_MAX_TX_SKB_BUDGET, see umem.c): go on while the kernel makes
 * progress. */
static int wake_tx(struct rl_engine *e, struct rl_err *err)
{
	for (int tries = 0; tries < 256 && tx_waiting(e); tries++) {
		uint32_t before = load_idx(e->tx.consumer);

		e->kicks++;
		if (sendto(xsk_socket__fd(e->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return kick_error(e, errno, err);
		if (comp_full(e) || (load_idx(e->tx.consumer) == before && tries > 8))
			break; /* the program must complete() before more can go */
	}
	return 0;
}

/* The selected queue's socket, or every socket. */
int afxdp_kick(struct rl_engine *e, struct rl_err *err)
{
	unsigned was = e->cur;
	int rc;

	if ((rc = need_link(e, "kick", err)) < 0)
		return rc;
	for (unsigned k = 0; k < e->nsocks; k++) {
		if (e->sel >= 0 && k != (unsigned)e->sel)
			continue;
		afxdp_use(e, k);
		if (tx_waiting(e) && (!e->o.need_wakeup || xsk_ring_prod__needs_wakeup(&e->tx)))
			if ((rc = wake_tx(e, err)) < 0) {
				afxdp_use(e, was);
				return rc;
			}
		wake_rx(e);
	}
	afxdp_use(e, was);
	afxdp_sync(e);
	return 0;
}

/* ---- rings view ------------------------------------------------------ */

static void view(struct rl_ring_view *v, const char *name, const struct xsk_ring_prod *r,
		 bool wakeup, const char *note)
{
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->size = r->size;
	v->prod = load_idx(r->producer);
	v->cons = load_idx(r->consumer);
	v->pending = v->prod - v->cons;
	v->need_wakeup = wakeup && r->flags && (*r->flags & XDP_RING_NEED_WAKEUP);
	snprintf(v->note, sizeof(v->note), "%s", note);
}

/* The four rings of the socket in use; with several queues each name
 * carries the queue's number (fill0, rx0, tx0, comp0, fill1, ...). */
static void views_one(struct rl_engine *e, struct rl_ring_view *v, const char *rxnote)
{
	char name[4][16];
	static const char *base[4] = { "fill", "rx", "tx", "comp" };

	for (int i = 0; i < 4; i++) {
		if (e->nsocks > 1)
			snprintf(name[i], sizeof(name[i]), "%s%u", base[i], e->o.qids[e->cur]);
		else
			snprintf(name[i], sizeof(name[i]), "%s", base[i]);
	}
	/* xsk_ring_prod and xsk_ring_cons have the same layout (DEFINE_XSK_RING). */
	view(&v[0], name[0], &e->fill, true, "the kernel publishes cons lazily: it may "
	     "already hold frames past it");
	view(&v[1], name[1], (const struct xsk_ring_prod *)&e->rx, false, rxnote);
	view(&v[2], name[2], &e->tx, true, e->zerocopy ? "" : "copy mode: the kernel "
	     "sends only when kicked (sendto)");
	view(&v[3], name[3], (const struct xsk_ring_prod *)&e->comp, false, "");
}

int afxdp_rings(struct rl_engine *e, struct rl_ring_view *v, unsigned max)
{
	char rxnote[96];
	unsigned was = e->cur, n = 0;

	if (!e->xsk || max < 4)
		return 0;
	afxdp_sync(e);
	snprintf(rxnote, sizeof(rxnote), "frames come via our XDP program: %.60s", e->xdp_why);
	for (unsigned k = 0; k < e->nsocks && n + 4 <= max; k++, n += 4) {
		afxdp_use(e, k);
		views_one(e, v + n, rxnote);
	}
	afxdp_use(e, was);
	return (int)n;
}

/* ---- queues ----------------------------------------------------------- */

int afxdp_queues(struct rl_engine *e, int select, int *was, struct rl_queue_info *q,
		 unsigned max, struct rl_err *err)
{
	int k = -1;

	if (select >= 0) {
		for (unsigned i = 0; i < e->o.nq; i++)
			if (e->o.qids[i] == (uint32_t)select)
				k = (int)i;
		if (k < 0) {
			char list[64] = "";

			for (unsigned i = 0; i < e->o.nq; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u",
					 i ? "," : "", e->o.qids[i]);
			return rl_err_set(err, EINVAL, "no queue %d here: this engine has queue%s "
					  "%s - open it with queues=%d to use queue %d", select,
					  e->o.nq == 1 ? "" : "s", list, select + 1, select);
		}
	}
	if (was)
		*was = e->sel < 0 ? RL_QUEUE_ALL : (int)e->o.qids[e->sel];
	if (select >= 0)
		e->sel = k;
	else if (select == RL_QUEUE_ALL)
		e->sel = e->o.nq > 1 ? -1 : 0;
	afxdp_sync(e);
	for (unsigned i = 0; q && i < e->o.nq && i < max; i++) {
		q[i] = e->qinfo[i];
		q[i].id = e->o.qids[i];
	}
	return (int)e->o.nq;
}
