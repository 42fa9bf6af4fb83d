/*
 * sim.c - the simulator engine: a software NIC that behaves like AF_XDP.
 *
 * It has AF_XDP's four rings (fill, comp, rx, tx; fill and comp carry only
 * addresses), a region of plain memory, and a wire: a FIFO of packets to
 * the other engine of a pair (lab.open("sim", {peer=a})) or, for an engine
 * opened alone, back to itself (loopback: what it sends it receives).
 * Closing one engine of a pair unplugs the cable: the other one's packets
 * are then counted as wire_drops.
 *
 * When does the NIC run? The simulator is single-threaded and
 * deterministic, so the NIC moves only when the program calls into it:
 *
 *   kick()      transmits everything on the tx ring and completes every
 *               sent frame the completion ring has room for (AF_XDP: the
 *               sendto() wakeup);
 *   rx()        first receives every packet waiting on the wire towards
 *               this engine, or drops it when the fill ring is short
 *               (AF_XDP: poll()/recvfrom() and the RX interrupt);
 *   complete()  first moves sent frames onto the completion ring if the
 *               ring had been full (as a busy NAPI poll would);
 *   fill(), tx() only touch the rings, like writing to mmapped rings.
 *
 * With step=true none of them runs the NIC: e:step() performs exactly one
 * hardware action and describes it, in this priority: COMPLETE one sent
 * frame > RX (or DROP) one packet from the wire > TX one packet > IDLE.
 *
 * need_wakeup=true (the default) sets NEED_WAKEUP on the tx ring always
 * (this NIC never looks at the tx ring unless kicked) and on the fill ring
 * while the NIC is starved of fill entries, as the kernel does;
 * need_wakeup=false never sets them. kick() works and is counted either way.
 *
 * loss=N and reorder=N make the wire lose, or deliver late, every Nth
 * packet this engine sends: deterministic faults for protocols that must
 * recover from them (sim_nic.c).
 *
 * tso=true gives the NIC TCP segmentation offload, csum=true checksum
 * offload, and the kernel's software GSO is there unless gso=false: a
 * packet handed over with tx_x (lab.segment's tso and gso, csum="offload")
 * is cut or checksummed when the NIC transmits it (sim_offload.c).
 *
 * Every program-side call either succeeds or changes nothing. See
 * sim_opts.c for the options, sim_nic.c for the NIC's actions and
 * sim_wire.c for the cable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_internal.h"
#include "sim_netmap.h"

static const struct rl_engine_ops sim_ops;

/* ---- open / close ------------------------------------------------------ */

static void ledger_init(struct rl_engine *s)
{
	memset(&s->ledger, 0, sizeof(s->ledger));
	s->ledger.kernel_how = RL_HOW_MEASURED;
	s->ledger.driver_how = RL_HOW_NONE;
	snprintf(
	    s->ledger.kernel_why, sizeof(s->ledger.kernel_why), "%s",
	    s->opt.zerocopy
	        ? "zerocopy: the NIC reads and writes frames directly (DMA); the wire "
	          "transfer stands for DMA, counted as wire_bytes: no CPU copy"
	        : "copy mode: the simulator's kernel stand-in copies each frame to and "
	          "from its own buffer; counted at each memcpy");
	snprintf(s->ledger.driver_why, sizeof(s->ledger.driver_why),
	         "the simulator has no driver layer");
}

/* The peer must be a sim engine not already wired to a third one. */
static int check_peer(const struct rl_open_args *a, struct rl_err *err)
{
	if (a->peer_ops != &sim_ops)
		return rl_err_set(
		    err, EINVAL,
		    "peer is a '%s' engine - a sim engine can only be wired to another "
		    "sim engine (lab.open(\"sim\"))",
		    a->peer_ops && a->peer_ops->name ? a->peer_ops->name : "unknown");
	if (a->peer->peer && a->peer->peer != a->peer)
		return rl_err_set(
		    err, EBUSY,
		    "that sim engine is already wired to another engine - open a fresh "
		    "one to be its peer");
	return 0;
}

static void sim_close(struct rl_engine *s)
{
	if (!s)
		return;
	if (s->peer && s->peer != s)
		s->peer->peer = NULL; /* unplug: its packets now fall off the wire */
	sim_nm_close(s); /* personality=netmap: the rings' buffers to the pool */
	if (s->has_region)
		rl_region_fini(&s->region);
	rl_ring_fini(&s->fill);
	rl_ring_fini(&s->comp);
	rl_ring_fini(&s->rx);
	rl_ring_fini(&s->tx);
	rl_ring_fini(&s->sent);
	sim_wire_fini(&s->inwire);
	free(s->bounce);
	free(s->held);
	free(s->txmeta);
	free(s->scratch);
	free(s);
}

static int init_rings(struct rl_engine *s, struct rl_err *err)
{
	int rc;

	if ((rc = rl_ring_init(&s->fill, s->opt.fill_size, err)) ||
	    (rc = rl_ring_init(&s->comp, s->opt.comp_size, err)) ||
	    (rc = rl_ring_init(&s->rx, s->opt.rx_size, err)) ||
	    (rc = rl_ring_init(&s->tx, s->opt.tx_size, err)) ||
	    (rc = rl_ring_init(&s->sent, s->opt.tx_size, err)))
		return rc;
	if (s->opt.need_wakeup)
		s->tx.flags |= RL_RING_NEED_WAKEUP;
	s->txmeta = calloc(s->tx.size, sizeof(*s->txmeta));
	if (!s->txmeta)
		return rl_err_set(err, ENOMEM,
		                  "out of memory for a tx ring of %u slots - use a "
		                  "smaller tx_size",
		                  s->tx.size);
	return 0;
}

static int sim_open(struct rl_engine **out, const struct rl_open_args *args,
                    struct rl_err *err)
{
	struct sim_opts opt;
	struct rl_engine *s;
	int rc;

	rl_err_clear(err);
	if ((rc = sim_parse_options(args, &opt, err)))
		return rc;
	if (args && args->peer && (rc = check_peer(args, err)))
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return rl_err_set(err, ENOMEM, "out of memory opening the simulator");
	s->opt = opt;
	if ((rc = init_rings(s, err)) ||
	    (rc = sim_wire_init(&s->inwire, opt.wire_capacity, err))) {
		sim_close(s);
		return rc;
	}
	if (!opt.zerocopy && !(s->bounce = malloc(SIM_MAX_PKT))) {
		sim_close(s);
		return rl_err_set(err, ENOMEM,
		                  "out of memory for the kernel stand-in's buffer");
	}
	ledger_init(s);
	if (opt.netmap && (rc = sim_nm_open(s, err))) {
		sim_close(s);
		return rc;
	}
	s->peer = s; /* loopback until wired */
	if (args && args->peer) {
		s->peer = args->peer;
		args->peer->peer = s;
	}
	*out = s;
	return 0;
}

static int sim_region(struct rl_engine *s, const struct rl_region_params *p,
                      struct rl_region **out, struct rl_err *err)
{
	int rc;

	if (s->nm) { /* netmap: the pool, made at open */
		if (out)
			*out = sim_nm_region(s);
		return 0;
	}
	if (s->has_region)
		return rl_err_set(
		    err, EBUSY,
		    "this engine already has a region - use e:region() without arguments "
		    "to get it, or open another engine");
	if ((rc = rl_region_init(&s->region, p, NULL, err)))
		return rc;
	s->region.ledger = &s->ledger;
	s->has_region = true;
	if (out)
		*out = &s->region;
	return 0;
}

static int need_region(const struct rl_engine *s, struct rl_err *err)
{
	if (s->has_region)
		return 0;
	return rl_err_set(err, EINVAL,
	                  "this engine has no region yet - create one with "
	                  "e:region{frames=4096, frame_size=2048}");
}

/* ---- the program's side of the rings ----------------------------------- */

static int sim_fill(struct rl_engine *s, uint32_t n, struct rl_err *err)
{
	uint32_t idx = 0;
	int rc;

	if (s->nm)
		return sim_nm_fill(s, n, err);
	if ((rc = need_region(s, err)))
		return rc;
	if (n == 0)
		return 0;
	if (!rl_ring_prod__reserve(&s->fill, n, &idx))
		return rl_err_set(
		    err, ENOSPC,
		    "the fill ring has room for %u entries, not %u - receive (recv, or e:rx()) "
		    "or fill fewer",
		    rl_ring__free(&s->fill), n);
	if (s->region.nfree < n)
		return rl_err_set(
		    err, ENOBUFS,
		    "only %u frames are free in the region, not %u - release received "
		    "packets or complete sent ones first",
		    s->region.nfree, n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr;

		rl_region_take(&s->region, &addr, NULL);
		rl_region_move(&s->region, rl_region_frame(&s->region, addr), RL_OWN_APP,
		               RL_OWN_FILL, NULL);
		*rl_ring__desc(&s->fill, idx + i) = (struct rl_desc){.addr = addr};
	}
	rl_ring_prod__submit(&s->fill, n);
	return (int)n;
}

/* A frame the program may send: inside the region, and app-owned and held
 * or already on its way in other descriptors (tx, nic, comp: the sim's
 * NIC holds receive frames only inside one step, so a nic frame here is a
 * sent one) - a frame may be in several descriptors at once, and goes back
 * to the program when the last of them completes (rl_region_ref). */
static int check_tx_frame(struct rl_engine *s, const struct rl_desc *d, uint32_t i,
                          struct rl_err *err)
{
	uint32_t frame;
	enum rl_owner o;

	if (d->addr >= s->region.size)
		return rl_err_set(
		    err, EINVAL,
		    "descriptor %u: address %llu is outside the region (%llu bytes) - "
		    "send frames of this engine's region",
		    i, (unsigned long long)d->addr, (unsigned long long)s->region.size);
	frame = rl_region_frame(&s->region, d->addr);
	o = rl_region_owner(&s->region, frame);
	if (o == RL_OWN_FILL || o == RL_OWN_RX)
		return rl_err_set(
		    err, EPERM,
		    "descriptor %u: frame %u is owned by %s, not by the program - "
		    "only frames the program holds (or has sent) can be sent",
		    i, frame, rl_owner_name(o));
	if (rl_region_is_free(&s->region, frame))
		return rl_err_set(
		    err, EPERM,
		    "descriptor %u: frame %u is free in the pool, not held - build the "
		    "packet in a frame you hold (r:alloc or a packet) first",
		    i, frame);
	return 0;
}

/* Descriptors in the whole packets at the start of d[0..n) that fit in
 * `room` slots; *first is the length of the first packet. */
static uint32_t tx_whole_packets(const struct rl_desc *d, uint32_t n, uint32_t room,
                                 uint32_t *first)
{
	uint32_t fit = 0;

	*first = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (d[i].options & RL_DESC_CONTD)
			continue;
		if (*first == 0)
			*first = i + 1;
		if (i + 1 > room)
			break;
		fit = i + 1;
	}
	return fit;
}

/* Whole packets in d[0..n): the descriptors without RL_DESC_CONTD. */
static uint64_t tx_packets_in(const struct rl_desc *d, uint32_t n)
{
	uint64_t k = 0;

	for (uint32_t i = 0; i < n; i++)
		k += !(d[i].options & RL_DESC_CONTD);
	return k;
}

/* Move the frames descriptor d touches (1, or more when unaligned=true
 * lets it cross frames) from one owner to another: all or none. */
static int tx_move_desc(struct rl_engine *s, const struct rl_desc *d, enum rl_owner from,
                        enum rl_owner to, struct rl_err *err)
{
	uint32_t first, n;

	sim_desc_frames(s, d->addr, d->len, &first, &n);
	for (uint32_t f = first; f < first + n; f++) {
		/* app -> tx: one more descriptor in the frame (it may be in
		 * others already); the way back ends that one only */
		int rc = from == RL_OWN_APP && to == RL_OWN_TX
		             ? rl_region_ref(&s->region, f, err)
		             : rl_region_move(&s->region, f, from, to, err);

		if (rc) {
			while (f-- > first)
				rl_region_move(&s->region, f, to, from, NULL);
			return rc;
		}
	}
	return 0;
}

/* Move the frames of d[0..n) app -> tx; on a refusal, move back the ones
 * already moved and fail. */
static int tx_claim_frames(struct rl_engine *s, const struct rl_desc *d, uint32_t n,
                           struct rl_err *err)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = check_tx_frame(s, &d[i], i, err);

		if (!rc && s->opt.unaligned)
			rc = sim_check_desc(s, d[i].addr, d[i].len, err);
		if (!rc)
			rc = tx_move_desc(s, &d[i], RL_OWN_APP, RL_OWN_TX, err);
		if (rc) {
			while (i--)
				tx_move_desc(s, &d[i], RL_OWN_TX, RL_OWN_APP, NULL);
			return rc;
		}
	}
	return 0;
}

int sim_tx_queue(struct rl_engine *s, const struct rl_desc *d, uint32_t n,
                 const struct sim_txmeta *m, struct rl_err *err)
{
	uint32_t idx = 0, first_pkt, fit;
	int rc;

	if ((rc = need_region(s, err)))
		return rc;
	if (n == 0)
		return 0;
	if (d[n - 1].options & RL_DESC_CONTD)
		return rl_err_set(
		    err, EINVAL,
		    "the last descriptor carries RL_DESC_CONTD, so its packet is not "
		    "whole - end every packet with a descriptor without CONTD");
	fit = tx_whole_packets(d, n, rl_ring__free(&s->tx), &first_pkt);
	if (first_pkt > s->tx.size)
		return rl_err_set(
		    err, EINVAL,
		    "the first packet has %u descriptors but the tx ring has only %u "
		    "slots - open the engine with a larger tx_size",
		    first_pkt, s->tx.size);
	if (fit == 0) {
		s->c.tx_ring_full += tx_packets_in(d, n); /* they stay with the program */
		return rl_err_set(
		    err, ENOSPC,
		    "the tx ring is full (%u entries pending) - kick the NIC (e:kick()) "
		    "and collect completions (complete, or e:complete())",
		    rl_ring__pending(&s->tx));
	}
	if ((rc = tx_claim_frames(s, d, fit, err)))
		return rc;
	s->c.tx_ring_full += tx_packets_in(d + fit, n - fit); /* no room for these */
	rl_ring_prod__reserve(&s->tx, fit, &idx);
	for (uint32_t i = 0; i < fit; i++) {
		*rl_ring__desc(&s->tx, idx + i) = d[i];
		/* what was asked of the NIC: for the first packet only (tx_x
		 * hands one packet at a time) */
		s->txmeta[(idx + i) & s->tx.mask] =
		    i == 0 && m ? *m : (struct sim_txmeta){0};
	}
	rl_ring_prod__submit(&s->tx, fit);
	return (int)fit;
}

static int sim_tx(struct rl_engine *s, const struct rl_desc *d, uint32_t n,
                  struct rl_err *err)
{
	if (s->nm)
		return sim_nm_tx(s, d, n, err);
	return sim_tx_queue(s, d, n, NULL, err);
}

/* Non-step mode: the NIC transmits and completes until it runs out of
 * work or of room for completions. */
static void run_tx_and_completions(struct rl_engine *s)
{
	for (;;) {
		while (sim_nic_complete(s, NULL))
			;
		if (!sim_nic_tx(s, NULL))
			break;
	}
	if (rl_ring__pending(&s->tx) == 0)
		s->c.tx_ring_empty_descs++;
}

static int sim_kick(struct rl_engine *s, struct rl_err *err)
{
	rl_err_clear(err);
	if (s->nm) /* netmap: the kick is TXSYNC */
		return sim_nm_txsync(s, NULL, err);
	s->c.kicks++;
	if (!s->opt.step && s->has_region)
		run_tx_and_completions(s);
	return 0;
}

static int sim_complete(struct rl_engine *s, uint64_t *addrs, uint32_t max,
                        struct rl_err *err)
{
	uint32_t idx, n;

	rl_err_clear(err);
	if (s->nm)
		return sim_nm_complete(s, err);
	if (!s->has_region)
		return 0;
	if (!s->opt.step)
		while (sim_nic_complete(s, NULL))
			;
	n = rl_ring_cons__peek(&s->comp, max, &idx);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = rl_ring__desc(&s->comp, idx + i)->addr;
		uint32_t frame, nf;

		/* every frame the sent descriptor touched (unaligned: more
		 * than one) */
		sim_desc_frames(s, addr, rl_ring__desc(&s->comp, idx + i)->len, &frame,
		                &nf);
		for (uint32_t f = frame; f < frame + nf; f++) {
			/* one descriptor done; the frame is the program's
			 * again when it was the last that pointed at it */
			rl_region_move(&s->region, f, RL_OWN_COMP, RL_OWN_APP, NULL);
			if (rl_region_owner(&s->region, f) == RL_OWN_APP)
				rl_region_release(&s->region, f, NULL);
		}
		if (addrs)
			addrs[i] = addr;
	}
	rl_ring_cons__release(&s->comp, n);
	return (int)n;
}

/* Descriptors of the whole packets at the front of the rx ring that fit in
 * max; *next is the size of the first packet that did not fit. */
static uint32_t rx_whole_packets(const struct rl_engine *s, uint32_t idx, uint32_t avail,
                                 uint32_t max, uint32_t *next)
{
	uint32_t n = 0, i = 0;

	*next = 0;
	while (i < avail) {
		uint32_t j = i;

		while (j + 1 < avail &&
		       (rl_ring__desc(&s->rx, idx + j)->options & RL_DESC_CONTD))
			j++;
		if (j + 1 > max) {
			*next = j + 1 - i;
			break;
		}
		n = i = j + 1;
	}
	return n;
}

static int sim_rx(struct rl_engine *s, struct rl_desc *out, uint32_t max,
                  struct rl_err *err)
{
	uint32_t idx, avail, n, next;

	rl_err_clear(err);
	if (s->nm)
		return sim_nm_rx(s, out, max, err);
	if (!s->opt.step)
		while (sim_nic_rx(s, NULL))
			;
	if (!s->has_region || max == 0)
		return 0;
	avail = rl_ring_cons__peek(&s->rx, s->rx.size, &idx);
	n = rx_whole_packets(s, idx, avail, max, &next);
	if (n == 0 && next)
		return rl_err_set(
		    err, EMSGSIZE,
		    "the next packet has %u fragments but only %u fit - ask for at "
		    "least %u",
		    next, max, next);
	for (uint32_t i = 0; i < n; i++) {
		out[i] = *rl_ring__desc(&s->rx, idx + i);
		rl_region_move(&s->region, rl_region_frame(&s->region, out[i].addr),
		               RL_OWN_RX, RL_OWN_APP, NULL);
	}
	rl_ring_cons__release(&s->rx, n);
	return (int)n;
}

static int sim_step(struct rl_engine *s, struct rl_step *out, struct rl_err *err)
{
	struct rl_step scratch;
	struct rl_step *st = out ? out : &scratch;

	rl_err_clear(err);
	if (s->nm)
		return sim_nm_step(s, st, err);
	if ((s->has_region && sim_nic_complete(s, st)) || sim_nic_rx(s, st) ||
	    (s->has_region && sim_nic_tx(s, st))) {
		s->c.steps++;
		return 0;
	}
	memset(st, 0, sizeof(*st));
	st->kind = RL_STEP_IDLE;
	snprintf(
	    st->what, sizeof(st->what), "IDLE: %s",
	    rl_ring__pending(&s->sent)
	        ? "the NIC waits: the comp ring is full, so sent frames cannot complete "
	          "until the program takes completions (complete, or e:complete())"
	        : "nothing to do - no sent frame to complete, no packet on the wire, "
	          "and the tx ring is empty");
	return 0;
}

/* ---- views ------------------------------------------------------------- */

static void view(struct rl_ring_view *v, const char *name, const struct rl_ring *r)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->size = r->size;
	v->prod = r->prod;
	v->cons = r->cons;
	v->pending = rl_ring__pending(r);
	v->need_wakeup = rl_ring__needs_wakeup(r);
}

static void wire_view(const struct rl_engine *s, struct rl_ring_view *v)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "wire");
	v->size = s->inwire.cap_pkts;
	v->prod = s->inwire.arrived;
	v->cons = s->inwire.left;
	v->pending = s->inwire.count;
	snprintf(v->note, sizeof(v->note),
	         "packets on the cable to this engine; not a ring of AF_XDP (%s)",
	         s->peer == s ? "loopback"
	         : s->peer    ? "wired to a peer"
	                      : "peer closed");
}

static int sim_rings(struct rl_engine *s, struct rl_ring_view *v, unsigned max)
{
	const struct rl_ring *r[4] = {&s->fill, &s->comp, &s->rx, &s->tx};
	static const char *const names[4] = {"fill", "comp", "rx", "tx"};
	unsigned n = 0;

	if (s->nm)
		return sim_nm_rings(s, v, max);
	for (; n < 4 && n < max; n++)
		view(&v[n], names[n], r[n]);
	if (n < max)
		wire_view(s, &v[n++]);
	return (int)n;
}

static const char *mode_why(const struct sim_opts *o)
{
	if (o->autoselect)
		return "mode=auto: the simulated NIC can write into frames directly, so "
		       "auto "
		       "chose zerocopy";
	return o->zerocopy ? "asked for: mode=zerocopy"
	                   : "mode=copy (the default unless asked)";
}

/* The sim's own proof that no frame is reused while a descriptor points
 * into it: every frame's transmit descriptors recounted from the rings - on
 * the tx ring (tx), sent and not completed (the NIC's sent list: nic), on
 * the completion ring (comp) - must be what the region counts for it (a
 * shared frame's refs, or one at its owner's stage); a frame on the fill or
 * rx ring, or free, has none. Returns how many frames disagree. */
static uint32_t sim_ref_errors(struct rl_engine *s)
{
	const struct rl_ring *rings[3] = {&s->tx, &s->sent, &s->comp};
	const struct rl_region *r = &s->region;
	uint16_t(*seen)[3];
	uint32_t bad = 0;

	if (!s->has_region || s->nm || !(seen = calloc(r->frames, sizeof(*seen))))
		return 0;
	for (int k = 0; k < 3; k++)
		for (uint32_t i = rings[k]->cons; i != rings[k]->prod; i++) {
			const struct rl_desc *d = rl_ring__desc(rings[k], i);
			uint32_t f, n;

			if (d->addr >= r->size)
				continue; /* refused by the NIC's check, no frame moved */
			sim_desc_frames(s, d->addr, d->len, &f, &n);
			for (uint32_t j = f; j < f + n && j < r->frames; j++)
				seen[j][k]++;
		}
	for (uint32_t f = 0; f < r->frames; f++) {
		const struct rl_frame_refs *x = &r->refs[f];
		enum rl_owner o = rl_region_owner(r, f);
		uint16_t want[3] = {x->tx, x->nic, x->comp};

		if (!x->sum) {
			want[0] = o == RL_OWN_TX;
			want[1] = o == RL_OWN_NIC;
			want[2] = o == RL_OWN_COMP;
		}
		bad += memcmp(want, seen[f], sizeof(want)) != 0;
	}
	free(seen);
	return bad;
}

static int sim_stats(struct rl_engine *s, struct rl_stats *o)
{
	uint32_t ref_errors = sim_ref_errors(s);

	const struct sim_counters *c = &s->c;

	memset(o, 0, sizeof(*o));
	o->tx_pkts = c->tx_pkts;
	o->tx_bytes = c->tx_bytes;
	o->rx_pkts = c->rx_pkts;
	o->rx_bytes = c->rx_bytes;
	o->drops = c->rx_dropped + c->wire_drops + c->wire_lost + c->tx_invalid_pkts;
	o->kicks = c->kicks;
	o->ledger = s->ledger;
	snprintf(o->mode, sizeof(o->mode), "%s", s->opt.zerocopy ? "zerocopy" : "copy");
	snprintf(o->mode_why, sizeof(o->mode_why), "%s", mode_why(&s->opt));
	rl_stats_extra(o, "rx_dropped", c->rx_dropped);
	rl_stats_extra(o, "rx_invalid_descs", c->rx_invalid_descs);
	rl_stats_extra(o, "tx_invalid_descs", c->tx_invalid_descs);
	rl_stats_extra(o, "rx_ring_full", c->rx_ring_full);
	rl_stats_extra(o, "rx_fill_ring_empty_descs", c->rx_fill_ring_empty_descs);
	rl_stats_extra(o, "tx_ring_empty_descs", c->tx_ring_empty_descs);
	rl_stats_extra(o, "wire_pkts", c->wire_pkts);
	rl_stats_extra(o, "wire_bytes", c->wire_bytes);
	rl_stats_extra(o, "wire_drops", c->wire_drops);
	rl_stats_extra(o, "wire_lost", c->wire_lost);
	rl_stats_extra(o, "wire_reordered", c->wire_reordered);
	rl_stats_extra(o, "steps", c->steps);
	/* the offloads' counters once they can count (show stats stays short) */
	if (s->opt.tso) {
		rl_stats_extra(o, "tso_pkts", c->tso_pkts);
		rl_stats_extra(o, "tso_segments", c->tso_segments);
		rl_stats_extra(o, "tso_header_bytes", c->tso_header_bytes);
	}
	if (c->gso_pkts) {
		rl_stats_extra(o, "gso_pkts", c->gso_pkts);
		rl_stats_extra(o, "gso_segments", c->gso_segments);
		rl_stats_extra(o, "gso_header_bytes", c->gso_header_bytes);
	}
	if (s->opt.csum)
		rl_stats_extra(o, "csum_filled", c->csum_filled);
	rl_stats_extra(o, "tx_ring_full", c->tx_ring_full);
	rl_stats_extra(o, "comp_ring_full", c->comp_ring_full);
	/* frames in several descriptors at once, and the rings' recount of
	 * every frame's descriptors against the region's (0: none reused) */
	if (s->has_region && !s->nm && (s->region.nshared || ref_errors)) {
		rl_stats_extra(o, "shared_frames", s->region.nshared);
		rl_stats_extra(o, "ref_errors", ref_errors);
	}
	if (s->nm)
		sim_nm_stats(s, o);
	return 0;
}

static struct rl_ledger *sim_ledger(struct rl_engine *s)
{
	return &s->ledger;
}

static struct rl_region *sim_get_region(struct rl_engine *s)
{
	if (s->nm)
		return sim_nm_region(s);
	return s->has_region ? &s->region : NULL;
}

static const struct rl_engine_ops sim_ops = {
    .abi = RL_ENGINE_ABI,
    .name = "sim",
    .summary = "software NIC with AF_XDP's four rings: deterministic, single-steppable, "
               "loopback or two wired back to back; personality=netmap gives "
               "netmap's rings instead (its model, simulated)",
    .options =
        "mode=copy|zerocopy|auto  copy (default): the kernel stand-in copies every "
        "frame; zerocopy: the NIC reads and writes frames directly; auto: zerocopy\n"
        "need_wakeup=true|false  true (default): rings show NEED_WAKEUP when the NIC "
        "waits for a kick\n"
        "ring_size=N  slots in each of the four rings, a power of two (default 2048)\n"
        "fill_size=N  slots in the fill ring (overrides ring_size)\n"
        "comp_size=N  slots in the completion ring (overrides ring_size)\n"
        "rx_size=N  slots in the rx ring (overrides ring_size)\n"
        "tx_size=N  slots in the tx ring (overrides ring_size)\n"
        "step=true|false  true: the NIC moves only on e:step(), one action at a time "
        "(default false)\n"
        "wire_capacity=N  packets the wire to this engine holds before it drops "
        "(default 4096)\n"
        "peer=<engine>  another sim engine to wire back to back with (default: "
        "loopback)\n"
        "loss=N  every Nth packet this engine sends is lost on the wire "
        "(deterministic; default 0: none)\n"
        "reorder=N  every Nth packet this engine sends arrives after the next one "
        "(default 0: none)\n"
        "tso=true|false  true: the NIC cuts one large TCP packet into MSS-sized "
        "segments, writing their headers (strategy tso; default false)\n"
        "gso=true|false  true (default): the kernel cuts one large TCP packet in "
        "software, a copy of the headers per segment (strategy gso)\n"
        "csum=true|false  true: the NIC fills the checksums of packets sent with "
        "csum=\"offload\" (default false; tso=true sets it)\n"
        "unaligned=true|false  true: a descriptor may start anywhere and cross "
        "frames, like AF_XDP's unaligned chunks (default false)\n"
        "personality=afxdp|netmap  netmap: netmap's model, simulated - a tx and an "
        "rx ring with head/cur/tail, slots with buf_idx (help netmap)\n"
        "pool=NAME  netmap: ports opened with one pool name share its buffers "
        "(default: a pool of its own)\n"
        "buffers=N  netmap: buffers in a new pool (default: 4 ports' rings + 64)\n"
        "buf_size=N  netmap: bytes per buffer, a power of two (default 2048)\n",
    .caps = SIM_CAPS,
    .probe = NULL,
    .open = sim_open,
    .close = sim_close,
    .region = sim_region,
    .fill = sim_fill,
    .rx = sim_rx,
    .tx = sim_tx,
    .complete = sim_complete,
    .kick = sim_kick,
    .step = sim_step,
    .rings = sim_rings,
    .stats = sim_stats,
    .ledger = sim_ledger,
    .get_region = sim_get_region,
    .tx_x = sim_tx_x,
    .caps_of = sim_caps_of,
};

const struct rl_engine_ops *rl_sim_engine(void)
{
	return &sim_ops;
}
