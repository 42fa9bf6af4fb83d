/*
 * sim_nic.c - what the simulated NIC does, one hardware action at a time.
 *
 * Three actions, each on one whole unit of work:
 *
 *   complete  a frame the NIC has sent goes onto the completion ring
 *             (owner nic -> comp); the program takes it back later.
 *   rx        the oldest packet on the wire towards this engine goes into
 *             frames taken from the fill ring (fill -> nic -> rx), one frame
 *             per fragment, every fragment but the last marked
 *             RL_DESC_CONTD; with too few fill entries, or no room on the rx
 *             ring, the packet is dropped and counted like AF_XDP does.
 *   tx        one whole packet's descriptors leave the tx ring (tx -> nic),
 *             each is checked like the kernel checks it, and the bytes go on
 *             the peer's wire; the frames wait in the NIC to complete.
 *
 * Two deterministic faults of the wire, for protocols that must cope with
 * them (options of the sending engine, counted on the packets it sends):
 * loss=N loses every Nth packet (counted as wire_lost, the frames still
 * complete), reorder=N holds every Nth packet back on the wire so that it
 * arrives after the next one - or, when no next one comes, as soon as the
 * receiver finds the wire otherwise empty (counted as wire_reordered).
 *
 * Copy mode puts the kernel between frames and wire: the bytes pass through
 * the kernel stand-in's own buffer (s->bounce, an skb), and the memcpy
 * between frame and that buffer is counted as kernel_copied. Zerocopy moves
 * bytes between frames and wire directly, as DMA would; that is counted as
 * wire bytes only. When a step record is asked for, each action also says
 * in one sentence what moved and why it matters.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static void move_frame(struct rl_engine *s, uint32_t frame, enum rl_owner from,
                       enum rl_owner to)
{
	int rc = rl_region_move(&s->region, frame, from, to, NULL);

	assert(rc == 0); /* the sim only moves frames it knows the owner of */
	(void)rc;
}

static void step_record(struct rl_step *st, enum rl_step_kind kind, const char *from,
                        const char *to, uint64_t addr, uint32_t frame, uint32_t len,
                        uint32_t frags)
{
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	snprintf(st->from, sizeof(st->from), "%s", from);
	snprintf(st->to, sizeof(st->to), "%s", to);
	st->addr = addr;
	st->frame = frame;
	st->len = len;
	st->frags = frags;
}

/* ---- complete ---------------------------------------------------------- */

bool sim_nic_complete(struct rl_engine *s, struct rl_step *st)
{
	uint32_t idx = 0, slot = 0;
	uint64_t addr;
	uint32_t frame, nf, len;

	if (!rl_ring_cons__peek(&s->sent, 1, &idx))
		return false;
	if (!rl_ring_prod__reserve(&s->comp, 1, &slot)) {
		if (!s->comp_blocked) /* count each stop once, not every retry */
			s->c.comp_ring_full++;
		s->comp_blocked = true;
		return false; /* the program must take completions first */
	}
	s->comp_blocked = false;
	addr = rl_ring__desc(&s->sent, idx)->addr;
	len = rl_ring__desc(&s->sent, idx)->len;
	sim_desc_frames(s, addr, len, &frame, &nf);
	for (uint32_t f = frame; f < frame + nf; f++) /* more than 1: unaligned */
		move_frame(s, f, RL_OWN_NIC, RL_OWN_COMP);
	/* len: the sim's own note of the frames it spans (AF_XDP's completion
	 * ring carries the address only) */
	*rl_ring__desc(&s->comp, slot) = (struct rl_desc){.addr = addr, .len = len};
	rl_ring_prod__submit(&s->comp, 1);
	rl_ring_cons__release(&s->sent, 1);
	if (st) {
		step_record(st, RL_STEP_COMPLETE, "nic", "comp", addr, frame, 0, 1);
		snprintf(st->what, sizeof(st->what),
		         "COMPLETE: the NIC is done sending frame %u and posted it on "
		         "comp[%u]; "
		         "e:complete() gives it back to the program",
		         frame, slot);
	}
	return true;
}

/* ---- rx ---------------------------------------------------------------- */

static uint32_t rx_frames_needed(const struct rl_engine *s, uint32_t len)
{
	uint32_t room = s->region.frame_size - s->region.headroom;

	return len == 0 ? 1 : (len + room - 1) / room;
}

/* The packet at the front of the wire is lost; say why. */
static void rx_drop(struct rl_engine *s, struct rl_step *st, uint32_t len, uint32_t need,
                    const char *why)
{
	sim_wire_pop(&s->inwire);
	s->c.rx_dropped++;
	if (st) {
		step_record(st, RL_STEP_DROP, "wire", "dropped", 0, 0, len, need);
		snprintf(
		    st->what, sizeof(st->what),
		    "DROP: a %u-byte packet arrived but %s, so the NIC threw it away",
		    len, why);
	}
}

/* Wire -> frame bytes for one fragment. Copy mode: from the kernel's
 * buffer, counted as a kernel copy; zerocopy: straight off the wire. */
static void rx_write_fragment(struct rl_engine *s, uint64_t data, uint32_t off,
                              uint32_t n)
{
	void *dst = rl_region_ptr(&s->region, data);

	if (s->opt.zerocopy) {
		sim_wire_read(&s->inwire, off, dst, n);
		return;
	}
	memcpy(dst, s->bounce + off, n);
	rl_ledger_count(&s->ledger, RL_LEDGER_KERNEL_COPIED, n, RL_DIR_RX);
}

static void rx_deliver(struct rl_engine *s, struct rl_step *st, uint32_t len,
                       uint32_t need)
{
	uint32_t room = s->region.frame_size - s->region.headroom;
	uint32_t fidx = 0, ridx = 0, off = 0, first_frame = 0;
	uint64_t first_addr = 0;

	rl_ring_cons__peek(&s->fill, need, &fidx);
	rl_ring_prod__reserve(&s->rx, need, &ridx);
	if (!s->opt.zerocopy)
		sim_wire_read(&s->inwire, 0, s->bounce, len); /* DMA into the skb */
	for (uint32_t i = 0; i < need; i++) {
		uint64_t fa = rl_ring__desc(&s->fill, fidx + i)->addr;
		uint32_t frame = rl_region_frame(&s->region, fa);
		uint64_t data =
		    rl_region_frame_addr(&s->region, frame) + s->region.headroom;
		uint32_t n = len - off < room ? len - off : room;

		move_frame(s, frame, RL_OWN_FILL, RL_OWN_NIC);
		rx_write_fragment(s, data, off, n);
		*rl_ring__desc(&s->rx, ridx + i) = (struct rl_desc){
		    .addr = data, .len = n, .options = i + 1 < need ? RL_DESC_CONTD : 0};
		move_frame(s, frame, RL_OWN_NIC, RL_OWN_RX);
		if (i == 0) {
			first_frame = frame;
			first_addr = data;
		}
		off += n;
	}
	rl_ring_cons__release(&s->fill, need);
	rl_ring_prod__submit(&s->rx, need);
	sim_wire_pop(&s->inwire);
	s->c.rx_pkts++;
	s->c.rx_bytes += len;
	if (!st)
		return;
	step_record(st, RL_STEP_RX, "fill", "rx", first_addr, first_frame, len, need);
	if (need == 1)
		snprintf(
		    st->what, sizeof(st->what),
		    "RX: a %u-byte packet arrived; the NIC took frame %u from fill[%u], "
		    "wrote the bytes into it and posted rx[%u]; e:rx() hands it to the "
		    "program",
		    len, first_frame, fidx, ridx);
	else
		snprintf(st->what, sizeof(st->what),
		         "RX: a %u-byte packet arrived; the NIC took %u frames from "
		         "fill[%u..%u], "
		         "wrote one fragment into each and posted rx[%u..%u] (CONTD on "
		         "all but the last)",
		         len, need, fidx, fidx + need - 1, ridx, ridx + need - 1);
}

bool sim_nic_rx(struct rl_engine *s, struct rl_step *st)
{
	uint32_t len, need;

	if (sim_wire_empty(&s->inwire) && s->peer)
		sim_nic_flush_held(s->peer); /* reorder=: the late packet arrives */
	if (sim_wire_empty(&s->inwire))
		return false;
	len = sim_wire_front_len(&s->inwire);
	if (!s->has_region) {
		s->c.rx_fill_ring_empty_descs++;
		rx_drop(s, st, len, 0,
		        "this engine has no region, so nothing is on the fill ring");
		return true;
	}
	need = rx_frames_needed(s, len);
	if (need > s->fill.size) {
		rx_drop(s, st, len, need,
		        "it needs more frames than the fill ring can ever hold");
		return true;
	}
	if (rl_ring__pending(&s->fill) < need) {
		s->c.rx_fill_ring_empty_descs++;
		s->fill_starved = true;
		if (s->opt.need_wakeup)
			s->fill.flags |= RL_RING_NEED_WAKEUP;
		rx_drop(s, st, len, need,
		        "the fill ring had no free frame for it (offer frames with "
		        "e:fill(n))");
		return true;
	}
	if (rl_ring__free(&s->rx) < need) {
		s->c.rx_ring_full++;
		rx_drop(s, st, len, need,
		        "the rx ring is full (take packets with recv, or e:rx())");
		return true;
	}
	s->fill_starved = false;
	s->fill.flags &= ~RL_RING_NEED_WAKEUP;
	rx_deliver(s, st, len, need);
	return true;
}

/* ---- tx ---------------------------------------------------------------- */

/* Descriptors of the packet at the front of the tx ring (the program's
 * tx() only ever queues whole packets). */
static uint32_t tx_packet_frags(const struct rl_engine *s, uint32_t idx, uint32_t avail)
{
	uint32_t n = 1;

	while (n < avail && (rl_ring__desc(&s->tx, idx + n - 1)->options & RL_DESC_CONTD))
		n++;
	return n;
}

/* reorder=: the held packet goes on the peer's wire now (or is dropped
 * when the wire is full or unplugged). */
void sim_nic_flush_held(struct rl_engine *s)
{
	if (!s->has_held)
		return;
	s->has_held = false;
	if (!s->peer || !sim_wire_has_room(&s->peer->inwire, s->held_len)) {
		s->c.wire_drops++;
		return;
	}
	sim_wire_write(&s->peer->inwire, 0, s->held, s->held_len);
	sim_wire_commit(&s->peer->inwire, s->held_len);
	s->c.wire_pkts++;
	s->c.wire_bytes += s->held_len;
}

/* reorder=: is the packet just counted in tx_pkts the one to hold back? */
static bool tx_hold(struct rl_engine *s)
{
	if (!s->opt.reorder || s->has_held || s->c.out_pkts % s->opt.reorder)
		return false;
	if (!s->held && !(s->held = malloc(SIM_MAX_PKT)))
		return false; /* no memory for it: the packet simply goes in order */
	return true;
}

/* Frame bytes -> wire for the whole packet. Copy mode: first into the
 * kernel's buffer (counted), then that buffer goes on the wire. A packet
 * held back (reorder=) waits in s->held, which stands for the wire. */
static void tx_put_on_wire(struct rl_engine *s, struct sim_wire *w, uint32_t idx,
                           uint32_t frags, uint32_t total)
{
	bool hold = tx_hold(s);
	uint32_t off = 0;

	for (uint32_t i = 0; i < frags; i++) {
		const struct rl_desc *d = rl_ring__desc(&s->tx, idx + i);
		const void *src = rl_region_ptr(&s->region, d->addr);

		if (!s->opt.zerocopy)
			memcpy(s->bounce + off, src, d->len);
		else if (hold)
			memcpy(s->held + off, src, d->len);
		else
			sim_wire_write(w, off, src, d->len);
		off += d->len;
	}
	if (!s->opt.zerocopy)
		rl_ledger_count(&s->ledger, RL_LEDGER_KERNEL_COPIED, total, RL_DIR_TX);
	if (hold) {
		if (!s->opt.zerocopy)
			memcpy(s->held, s->bounce, total);
		s->held_len = total;
		s->has_held = true;
		s->c.wire_reordered++;
		return;
	}
	if (!s->opt.zerocopy)
		sim_wire_write(w, 0, s->bounce, total);
	sim_wire_commit(w, total);
	s->c.wire_pkts++;
	s->c.wire_bytes += total;
	sim_nic_flush_held(s); /* the held packet arrives after this one */
}

/* What happens to a packet whose descriptors are valid: NULL when it goes
 * on the wire, otherwise why it is lost. */
static const char *tx_fate(const struct rl_engine *s, uint64_t total)
{
	if (total > SIM_MAX_PKT)
		return "is longer than the wire carries (65536 bytes)";
	if (!s->peer)
		return "has nowhere to go: the other engine of the pair was closed";
	if (!sim_wire_has_room(&s->peer->inwire, (uint32_t)total))
		return "found the wire full (the receiver is not taking packets)";
	return NULL;
}

const char *sim_nic_send(struct rl_engine *s, const struct rl_iov *v, unsigned n,
                         uint32_t total)
{
	const char *lost;
	bool hold;
	uint32_t off = 0;

	s->c.out_pkts++;
	if ((lost = tx_fate(s, total))) {
		s->c.wire_drops++;
		return lost;
	}
	if (s->opt.loss && s->c.out_pkts % s->opt.loss == 0) {
		s->c.wire_lost++;
		return "was lost on the wire on purpose (loss=N)";
	}
	hold = tx_hold(s);
	for (unsigned i = 0; i < n; i++) {
		if (hold)
			memcpy(s->held + off, v[i].base, v[i].len);
		else
			sim_wire_write(&s->peer->inwire, off, v[i].base, (uint32_t)v[i].len);
		off += (uint32_t)v[i].len;
	}
	if (hold) {
		s->held_len = total;
		s->has_held = true;
		s->c.wire_reordered++;
		return NULL;
	}
	sim_wire_commit(&s->peer->inwire, total);
	s->c.wire_pkts++;
	s->c.wire_bytes += total;
	sim_nic_flush_held(s); /* the held packet arrives after this one */
	return NULL;
}

static void tx_describe(struct rl_step *st, uint32_t idx, uint32_t frags, uint32_t frame,
                        uint32_t total, const char *lost, uint32_t bad)
{
	char descs[40];

	if (frags == 1)
		snprintf(descs, sizeof(descs), "descriptor tx[%u]", idx);
	else
		snprintf(descs, sizeof(descs), "descriptors tx[%u..%u]", idx,
		         idx + frags - 1);
	if (bad)
		snprintf(st->what, sizeof(st->what),
		         "TX: %u of %s (frame %u) failed the kernel's check (outside its "
		         "frame), so "
		         "the packet was discarded; its frames still complete",
		         bad, descs, frame);
	else if (lost)
		snprintf(st->what, sizeof(st->what),
		         "TX: the NIC took %s (frame %u, %u bytes) but the packet %s; "
		         "counted in %s, frames still complete",
		         descs, frame, total, lost,
		         strstr(lost, "loss=") ? "wire_lost" : "wire_drops");
	else if (frags == 1)
		snprintf(st->what, sizeof(st->what),
		         "TX: the NIC took %s (frame %u, %u bytes) and put the packet on "
		         "the wire; "
		         "frame %u is now owned by nic until it completes",
		         descs, frame, total, frame);
	else
		snprintf(
		    st->what, sizeof(st->what),
		    "TX: the NIC took %s (%u fragments from frame %u on, %u bytes) and "
		    "put one "
		    "packet on the wire; the frames are owned by nic until they complete",
		    descs, frags, frame, total);
}

bool sim_nic_tx(struct rl_engine *s, struct rl_step *st)
{
	uint32_t idx, avail, frags, bad = 0, frame, sent = 0, nlost = 0;
	struct sim_txmeta *m;
	uint64_t total = 0;
	const char *lost = NULL;
	uint64_t addr;

	avail = rl_ring_cons__peek(&s->tx, s->tx.size, &idx);
	if (!avail)
		return false;
	frags = tx_packet_frags(s, idx, avail);
	if (rl_ring__free(&s->sent) < frags)
		return false; /* every frame in flight waits for completion first */
	for (uint32_t i = 0; i < frags; i++) {
		const struct rl_desc *d = rl_ring__desc(&s->tx, idx + i);

		if (sim_check_desc(s, d->addr, d->len, NULL))
			bad++;
		else
			total += d->len;
	}
	m = &s->txmeta[idx & s->tx.mask];
	if (bad) {
		s->c.tx_invalid_descs += bad;
		s->c.tx_invalid_pkts++;
	} else if (m->cut || m->csum) { /* asked with tx_x: sim_offload.c */
		s->c.tx_pkts++;
		s->c.tx_bytes += total;
		lost = sim_offload_tx(s, idx, frags, (uint32_t)total, m, &sent, &nlost);
	} else {
		s->c.tx_pkts++;
		s->c.tx_bytes += total;
		s->c.out_pkts++;
		lost = tx_fate(s, total);
		if (lost) {
			s->c.wire_drops++;
		} else if (s->opt.loss && s->c.out_pkts % s->opt.loss == 0) {
			lost = "was lost on the wire on purpose (loss=N)";
			s->c.wire_lost++;
		}
		if (!lost)
			tx_put_on_wire(s, &s->peer->inwire, idx, frags, (uint32_t)total);
	}
	addr = rl_ring__desc(&s->tx, idx)->addr;
	frame = rl_region_frame(&s->region, addr);
	for (uint32_t i = 0; i < frags; i++) {
		uint64_t a = rl_ring__desc(&s->tx, idx + i)->addr;
		uint32_t l = rl_ring__desc(&s->tx, idx + i)->len, sidx = 0, f0, nf;

		sim_desc_frames(s, a, l, &f0, &nf);
		for (uint32_t f = f0; f < f0 + nf; f++) /* more than 1: unaligned */
			move_frame(s, f, RL_OWN_TX, RL_OWN_NIC);
		rl_ring_prod__reserve(&s->sent, 1, &sidx);
		*rl_ring__desc(&s->sent, sidx) = (struct rl_desc){.addr = a, .len = l};
		rl_ring_prod__submit(&s->sent, 1);
	}
	rl_ring_cons__release(&s->tx, frags);
	if (st) {
		bool offload = !bad && (m->cut || m->csum);

		step_record(st, RL_STEP_TX, "tx",
		            bad || (lost && (!offload || !sent)) ? "dropped" : "wire",
		            addr, frame, (uint32_t)total, frags);
		if (offload)
			sim_offload_describe(st, idx, frags, (uint32_t)total, m, sent,
			                     nlost, lost);
		else
			tx_describe(st, idx, frags, frame, (uint32_t)total, lost, bad);
	}
	*m = (struct sim_txmeta){0}; /* the slot is free again */
	return true;
}
