/*
 * sim_netmap.c - personality=netmap: netmap's ring model, simulated (see
 * sim_netmap.h for the model and the owner of every buffer).
 *
 * A port is a sim engine (its wire, peer=, loss= and counters are the
 * simulator's) whose program side is netmap's: a TX ring and an RX ring of
 * slots instead of AF_XDP's four rings, and a pool of buffers shared by
 * every port opened with the same pool=NAME. The pool is the region: its
 * frames are the buffers, buf_idx a frame's number.
 *
 * When does the NIC run? As in the rest of the simulator, only when the
 * program calls in: TXSYNC sends every slot it hands over, RXSYNC first
 * receives what waits on the wire - unless step=true, where only e:step()
 * moves the NIC, one packet at a time (receive one, or send one), and the
 * syncs only hand over slots and move tail.
 *
 * The AF_XDP-shaped ops work too, so the prompt's send and recv do: tx()
 * puts the packet's buffers into TX slots at head (the slots' old buffers
 * go back to the pool, NS_BUF_CHANGED) and kick() is TXSYNC; rx() runs
 * RXSYNC and takes the packets at head, leaving a fresh buffer from the
 * pool in each slot; complete() moves tail over the slots sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "sim_netmap.h"

#define NM_PORTS_MAX 16

struct sim_nm_pool {
	char name[32];
	struct rl_region region;
	uint32_t refs;
	struct rl_engine *port[NM_PORTS_MAX];
	struct sim_nm_pool *next;
};

struct sim_nm {
	struct sim_nm_pool *pool;
	struct sim_nm_ring tx, rx;
	uint64_t txsyncs, rxsyncs, swaps, swapped_bytes;
};

/* The pools with a name (pool=NAME); the simulator is single-threaded. */
static struct sim_nm_pool *pools;

static inline uint32_t slot_of(const struct sim_nm_ring *r, uint32_t abs)
{
	return abs % r->num_slots;
}

static inline struct sim_nm_slot *at(struct sim_nm_ring *r, uint32_t abs)
{
	return &r->slot[abs % r->num_slots];
}

/* The end of the program's part, free-running: TX done+N-1, RX done. */
static inline uint32_t user_end(const struct sim_nm_ring *r)
{
	return r->tx ? r->done + r->num_slots - 1 : r->done;
}

/* Free-running index of the program's slot number v (0..N-1) counted from
 * hwcur; the caller checks it against user_end. */
static inline uint32_t abs_of(const struct sim_nm_ring *r, uint32_t v)
{
	return r->hwcur + (v + r->num_slots - slot_of(r, r->hwcur)) % r->num_slots;
}

static void set_tail(struct sim_nm_ring *r)
{
	r->tail = slot_of(r, user_end(r));
}

struct sim_nm_ring *sim_nm_ring(struct rl_engine *e, bool tx)
{
	if (!e || !e->nm)
		return NULL;
	return tx ? &e->nm->tx : &e->nm->rx;
}

static struct rl_region *R(struct rl_engine *s)
{
	return &s->nm->pool->region;
}

static void own(struct rl_engine *s, uint32_t frame, enum rl_owner from, enum rl_owner to)
{
	if (from != to)
		rl_region_move(R(s), frame, from, to, NULL);
}

/* ---- open / close ------------------------------------------------------ */

static int pool_get(struct rl_engine *s, struct sim_nm_pool **out, struct rl_err *err)
{
	const struct sim_opts *o = &s->opt;
	uint32_t need = o->tx_size + o->rx_size;
	struct sim_nm_pool *p = NULL;
	struct rl_region_params rp;
	int rc;

	for (p = o->pool[0] ? pools : NULL; p; p = p->next)
		if (strcmp(p->name, o->pool) == 0)
			break;
	if (p) {
		unsigned slot;

		if (o->buf_size && o->buf_size != p->region.frame_size)
			return rl_err_set(err, EINVAL,
			                  "pool %s has buffers of %u bytes, not buf_size=%u - "
			                  "drop buf_size= to join it, or name another pool",
			                  p->name, p->region.frame_size, o->buf_size);
		if (o->buffers && o->buffers != p->region.frames)
			return rl_err_set(err, EINVAL,
			                  "pool %s has %u buffers already, not buffers=%u - "
			                  "drop buffers= to join it, or name another pool",
			                  p->name, p->region.frames, o->buffers);
		for (slot = 0; slot < NM_PORTS_MAX && p->port[slot]; slot++)
			;
		if (slot == NM_PORTS_MAX)
			return rl_err_set(err, EBUSY,
			                  "pool %s has %d ports already - close one, or name "
			                  "another pool",
			                  p->name, NM_PORTS_MAX);
		if (p->region.nfree < need)
			return rl_err_set(
			    err, ENOBUFS,
			    "pool %s has %u free buffers, and this port's rings need %u - "
			    "close a port, use a smaller ring_size, or open the first port "
			    "with more buffers=",
			    p->name, p->region.nfree, need);
		p->port[slot] = s;
		p->refs++;
		*out = p;
		return 0;
	}
	if (o->buf_size > 32768)
		return rl_err_set(err, EINVAL,
		                  "buf_size=%u does not fit a slot's len (16 bits, as in "
		                  "netmap) - use at most buf_size=32768",
		                  o->buf_size);
	p = calloc(1, sizeof(*p));
	if (!p)
		return rl_err_set(err, ENOMEM, "out of memory for a netmap pool");
	snprintf(p->name, sizeof(p->name), "%s", o->pool);
	rp.frames = o->buffers ? o->buffers : 4 * need + 64;
	rp.frame_size = o->buf_size ? o->buf_size : 2048;
	rp.headroom = 0; /* a netmap slot's bytes start at its buffer's start */
	if (rp.frames < need) {
		free(p);
		return rl_err_set(err, EINVAL,
		                  "buffers=%u cannot fill this port's rings (%u slots) - "
		                  "give at least buffers=%u",
		                  rp.frames, need, need);
	}
	if ((rc = rl_region_init(&p->region, &rp, NULL, err))) {
		free(p);
		return rc;
	}
	p->region.ledger = &s->ledger;
	p->port[0] = s;
	p->refs = 1;
	p->next = pools;
	pools = p;
	*out = p;
	return 0;
}

static void pool_put(struct rl_engine *s, struct sim_nm_pool *p)
{
	struct sim_nm_pool **pp;

	for (unsigned i = 0; i < NM_PORTS_MAX; i++)
		if (p->port[i] == s)
			p->port[i] = NULL;
	if (p->region.ledger == &s->ledger) { /* counts go to a port still open */
		p->region.ledger = NULL;
		for (unsigned i = 0; i < NM_PORTS_MAX; i++)
			if (p->port[i]) {
				p->region.ledger = &p->port[i]->ledger;
				break;
			}
	}
	if (--p->refs)
		return;
	for (pp = &pools; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	rl_region_fini(&p->region);
	free(p);
}

static int ring_init(struct rl_engine *s, struct sim_nm_ring *r, bool tx, uint32_t n,
                     struct rl_err *err)
{
	memset(r, 0, sizeof(*r));
	r->tx = tx;
	r->num_slots = n;
	r->slot = calloc(n, sizeof(*r->slot));
	if (!r->slot)
		return rl_err_set(err, ENOMEM, "out of memory for a ring of %u slots", n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr;

		rl_region_take(R(s), &addr, NULL); /* pool_get checked there are enough */
		r->slot[i].buf_idx = rl_region_frame(R(s), addr);
		/* TX: the program's, but for the slot at tail (the kernel keeps
		 * one); RX: every slot empty, waiting for a packet */
		if (!tx)
			own(s, r->slot[i].buf_idx, RL_OWN_APP, RL_OWN_FILL);
		else if (i == n - 1)
			own(s, r->slot[i].buf_idx, RL_OWN_APP, RL_OWN_COMP);
	}
	set_tail(r);
	return 0;
}

/* Every slot's buffer back to the pool, whoever held it. */
static void ring_fini(struct rl_engine *s, struct sim_nm_ring *r)
{
	if (!r->slot)
		return;
	for (uint32_t i = 0; i < r->num_slots; i++) {
		uint32_t f = r->slot[i].buf_idx;

		own(s, f, rl_region_owner(R(s), f), RL_OWN_APP);
		rl_region_release(R(s), f, NULL);
	}
	free(r->slot);
	r->slot = NULL;
}

int sim_nm_open(struct rl_engine *s, struct rl_err *err)
{
	int rc;

	s->nm = calloc(1, sizeof(*s->nm));
	if (!s->nm)
		return rl_err_set(err, ENOMEM, "out of memory opening a netmap port");
	if ((rc = pool_get(s, &s->nm->pool, err))) {
		free(s->nm);
		s->nm = NULL;
		return rc;
	}
	if ((rc = ring_init(s, &s->nm->tx, true, s->opt.tx_size, err)) ||
	    (rc = ring_init(s, &s->nm->rx, false, s->opt.rx_size, err))) {
		sim_nm_close(s);
		return rc;
	}
	s->ledger.kernel_how = RL_HOW_MEASURED;
	snprintf(s->ledger.kernel_why, sizeof(s->ledger.kernel_why),
	         "netmap: the NIC reads and writes the pool's buffers directly (DMA); "
	         "the wire transfer stands for DMA, counted as wire_bytes: no CPU copy");
	return 0;
}

void sim_nm_close(struct rl_engine *s)
{
	if (!s->nm)
		return;
	ring_fini(s, &s->nm->tx);
	ring_fini(s, &s->nm->rx);
	pool_put(s, s->nm->pool);
	free(s->nm);
	s->nm = NULL;
}

struct rl_region *sim_nm_region(struct rl_engine *s)
{
	return R(s);
}

void sim_nm_info(struct rl_engine *e, struct sim_nm_info *o)
{
	memset(o, 0, sizeof(*o));
	if (!e || !e->nm)
		return;
	snprintf(o->pool, sizeof(o->pool), "%s", e->nm->pool->name);
	o->buffers = R(e)->frames;
	o->buf_size = R(e)->frame_size;
	o->free = R(e)->nfree;
	o->ports = e->nm->pool->refs;
	o->txsyncs = e->nm->txsyncs;
	o->rxsyncs = e->nm->rxsyncs;
	o->swaps = e->nm->swaps;
	o->swapped_bytes = e->nm->swapped_bytes;
}

/* ---- the program's indices --------------------------------------------- */

static const char *rname(const struct sim_nm_ring *r)
{
	return r->tx ? "tx" : "rx";
}

int sim_nm_check_index(const struct sim_nm_ring *r, int64_t i, const char *what,
                       struct rl_err *err)
{
	if (i < 0 || i >= (int64_t)r->num_slots)
		return rl_err_set(err, ERANGE,
		                  "%s: slot %lld is not in the %s ring - give 0 .. %u",
		                  what, (long long)i, rname(r), r->num_slots - 1);
	return 0;
}

bool sim_nm_program_owns(const struct sim_nm_ring *r, uint32_t i)
{
	uint32_t head = abs_of(r, r->head), a = abs_of(r, i);

	if (a < head) /* before head (counted from hwcur): a full turn on */
		a += r->num_slots;
	return a >= head && a < user_end(r);
}

static int check_head(const struct sim_nm_ring *r, uint32_t head, const char *what,
                      struct rl_err *err)
{
	if (abs_of(r, head) <= user_end(r))
		return 0;
	if (r->tx)
		return rl_err_set(err, EINVAL,
		                  "%s: head=%u is past tail=%u - the program may fill slots "
		                  "head..tail-1 only; txsync gives sent slots back (tail "
		                  "moves)",
		                  what, head, r->tail);
	return rl_err_set(err, EINVAL,
	                  "%s: head=%u is past tail=%u - slots from tail on are the "
	                  "kernel's; rxsync to see what arrived (tail moves)",
	                  what, head, r->tail);
}

static int check_cur(const struct sim_nm_ring *r, uint32_t head, uint32_t cur,
                     const char *what, struct rl_err *err)
{
	uint32_t h = abs_of(r, head), c = abs_of(r, cur);

	if (c >= h && c <= user_end(r))
		return 0;
	return rl_err_set(err, EINVAL,
	                  "%s: cur=%u is not between head=%u and tail=%u - cur marks "
	                  "where the program is, from head up to tail",
	                  what, cur, head, r->tail);
}

int sim_nm_set_head(struct sim_nm_ring *r, int64_t v, struct rl_err *err)
{
	int rc;

	if ((rc = sim_nm_check_index(r, v, "head", err)) ||
	    (rc = check_head(r, (uint32_t)v, "head", err)))
		return rc;
	if (abs_of(r, r->cur) < abs_of(r, (uint32_t)v))
		r->cur = (uint32_t)v; /* cur never stays behind head */
	r->head = (uint32_t)v;
	return 0;
}

int sim_nm_set_cur(struct sim_nm_ring *r, int64_t v, struct rl_err *err)
{
	int rc;

	if ((rc = sim_nm_check_index(r, v, "cur", err)) ||
	    (rc = check_cur(r, r->head, (uint32_t)v, "cur", err)))
		return rc;
	r->cur = (uint32_t)v;
	return 0;
}

static int need_program_slot(const struct sim_nm_ring *r, uint32_t i, const char *what,
                             struct rl_err *err)
{
	if (sim_nm_program_owns(r, i))
		return 0;
	if (r->head == r->tail)
		return rl_err_set(err, EBUSY,
		                  "%s: slot %u is the kernel's - the program owns no %s slot "
		                  "now (head=tail=%u); %s first",
		                  what, i, rname(r), r->tail,
		                  r->tx ? "txsync to get sent slots back" : "rxsync to receive");
	return rl_err_set(err, EBUSY,
	                  "%s: slot %u is the kernel's - the program owns slots head..tail-1 "
	                  "(%u..%u) of the %s ring",
	                  what, i, r->head, (r->tail + r->num_slots - 1) % r->num_slots,
	                  rname(r));
}

int sim_nm_set_len(struct rl_engine *e, struct sim_nm_ring *r, uint32_t i, int64_t len,
                   struct rl_err *err)
{
	int rc;

	if ((rc = need_program_slot(r, i, "len", err)))
		return rc;
	if (len < 0 || len > (int64_t)R(e)->frame_size)
		return rl_err_set(err, EINVAL,
		                  "len: %lld does not fit a buffer of %u bytes - give 0 .. %u "
		                  "(a longer packet spans slots: NS_MOREFRAG)",
		                  (long long)len, R(e)->frame_size, R(e)->frame_size);
	r->slot[i].len = (uint16_t)len;
	return 0;
}

int sim_nm_set_flags(struct rl_engine *e, struct sim_nm_ring *r, uint32_t i,
                     int64_t flags, struct rl_err *err)
{
	int rc;

	(void)e;
	if ((rc = need_program_slot(r, i, "flags", err)))
		return rc;
	if (flags < 0 || (flags & ~(int64_t)(SIM_NS_BUF_CHANGED | SIM_NS_MOREFRAG)))
		return rl_err_set(err, EINVAL,
		                  "flags: %lld has bits this lab does not model - use "
		                  "NS_BUF_CHANGED (1) and NS_MOREFRAG (32)",
		                  (long long)flags);
	r->slot[i].flags = (uint16_t)flags;
	return 0;
}

int sim_nm_write(struct rl_engine *e, struct sim_nm_ring *r, uint32_t i, uint32_t off,
                 const void *src, size_t n, struct rl_err *err)
{
	int rc;

	if (!r->tx)
		return rl_err_set(err, EPERM,
		                  "write: slot %u is on the rx ring - write into tx slots "
		                  "(an rx slot holds what arrived)",
		                  i);
	if ((rc = need_program_slot(r, i, "write", err)))
		return rc;
	if ((uint64_t)off + n > R(e)->frame_size)
		return rl_err_set(err, EMSGSIZE,
		                  "write: %zu bytes at %u do not fit a buffer of %u bytes - "
		                  "put the rest in the next slot and set NS_MOREFRAG on "
		                  "this one",
		                  n, off, R(e)->frame_size);
	memcpy(rl_region_ptr(R(e), rl_region_frame_addr(R(e), r->slot[i].buf_idx)) + off,
	       src, n);
	rl_ledger_count(&e->ledger, RL_LEDGER_COPIED, n, RL_DIR_TX);
	r->slot[i].len = (uint16_t)(off + n);
	return 0;
}

const uint8_t *sim_nm_data(struct rl_engine *e, const struct sim_nm_ring *r, uint32_t i)
{
	return rl_region_ptr(R(e), rl_region_frame_addr(R(e), r->slot[i].buf_idx));
}

void sim_nm_count_read(struct rl_engine *e, uint32_t n)
{
	rl_ledger_count(&e->ledger, RL_LEDGER_COPIED, n, RL_DIR_RX);
}

int sim_nm_swap(struct rl_engine *a, struct sim_nm_ring *ra, uint32_t ia,
                struct rl_engine *b, struct sim_nm_ring *rb, uint32_t ib,
                struct rl_err *err)
{
	struct sim_nm_slot *x = &ra->slot[ia], *y = &rb->slot[ib], t;
	uint32_t fx = x->buf_idx, fy = y->buf_idx;
	enum rl_owner ox, oy;
	int rc;

	if (a->nm->pool != b->nm->pool)
		return rl_err_set(
		    err, EXDEV,
		    "swap: the two ports have pools of their own - a buffer can only move "
		    "between ports of one pool (open both with the same pool=NAME)");
	if (ra == rb && ia == ib)
		return rl_err_set(err, EINVAL, "swap: that is the same slot twice - give an "
		                               "rx slot and a tx slot");
	if ((rc = need_program_slot(ra, ia, "swap", err)) ||
	    (rc = need_program_slot(rb, ib, "swap", err)))
		return rc;
	/* the buffers trade places, and so their owners: the owner goes with
	 * the place (an rx slot's buffer is rx, a tx slot's is app) */
	ox = rl_region_owner(R(a), fx);
	oy = rl_region_owner(R(a), fy);
	own(a, fx, ox, oy);
	own(a, fy, oy, ox);
	t = *x;
	*x = *y;
	*y = t;
	x->flags |= SIM_NS_BUF_CHANGED;
	y->flags |= SIM_NS_BUF_CHANGED;
	/* the packet the program forwards: the one that came from an rx slot */
	{
		const struct sim_nm_slot *moved = ra->tx ? x : y;
		struct rl_engine *to = ra->tx ? a : b;

		if (ra->tx != rb->tx) {
			rl_ledger_count(&to->ledger, RL_LEDGER_REFERENCED, moved->len,
			                RL_DIR_TX);
			to->nm->swapped_bytes += moved->len;
		}
		to->nm->swaps++;
	}
	return 0;
}

/* ---- the NIC ------------------------------------------------------------ */

static void step_note(struct rl_step *st, enum rl_step_kind kind, const char *from,
                      const char *to, uint32_t frame, uint32_t len, uint32_t frags)
{
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	snprintf(st->from, sizeof(st->from), "%s", from);
	snprintf(st->to, sizeof(st->to), "%s", to);
	st->frame = frame;
	st->len = len;
	st->frags = frags;
}

/* Send the packet at nic (its slots were handed over whole). */
static bool nic_tx(struct rl_engine *s, struct rl_step *st, uint32_t *lost)
{
	struct sim_nm_ring *r = &s->nm->tx;
	struct rl_iov v[64];
	uint32_t n = 0, total = 0, first = r->nic;
	const char *why;

	if (r->nic == r->hwcur)
		return false;
	do {
		struct sim_nm_slot *sl = at(r, r->nic);

		if (n < 64) {
			v[n].base = rl_region_ptr(R(s), rl_region_frame_addr(R(s), sl->buf_idx));
			v[n++].len = sl->len;
			total += sl->len;
		}
		own(s, sl->buf_idx, RL_OWN_TX, RL_OWN_COMP);
		r->nic++;
		if (!(sl->flags & SIM_NS_MOREFRAG))
			break;
	} while (r->nic != r->hwcur);
	why = sim_nic_send(s, v, n, total);
	s->c.tx_pkts++;
	s->c.tx_bytes += total;
	if (why && lost)
		(*lost)++;
	if (st) {
		step_note(st, RL_STEP_TX, "tx", why ? "dropped" : "wire",
		          at(r, first)->buf_idx, total, r->nic - first);
		snprintf(st->what, sizeof(st->what),
		         "TX: the NIC sent tx slot%s %u%s (buffer %u, %u bytes)%s%s; the "
		         "next txsync moves tail over %s",
		         r->nic - first > 1 ? "s" : "", slot_of(r, first),
		         r->nic - first > 1 ? "..." : "", at(r, first)->buf_idx, total,
		         why ? " - it " : " onto the wire", why ? why : "",
		         r->nic - first > 1 ? "them" : "it");
	}
	return true;
}

/* Receive the packet at the front of the wire into the slots at nic, or
 * drop it when there are too few free slots. */
static bool nic_rx(struct rl_engine *s, struct rl_step *st, uint32_t *dropped)
{
	struct sim_nm_ring *r = &s->nm->rx;
	uint32_t bs = R(s)->frame_size, len, need, room, off = 0, first = r->nic;

	if (sim_wire_empty(&s->inwire) && s->peer)
		sim_nic_flush_held(s->peer); /* reorder=: the late packet arrives */
	if (sim_wire_empty(&s->inwire))
		return false;
	len = sim_wire_front_len(&s->inwire);
	need = len ? (len + bs - 1) / bs : 1;
	room = r->hwcur + r->num_slots - 1 - r->nic;
	if (need > room) {
		sim_wire_pop(&s->inwire);
		s->c.rx_dropped++;
		s->c.rx_ring_full++;
		if (dropped)
			(*dropped)++;
		if (st) {
			step_note(st, RL_STEP_DROP, "wire", "dropped", 0, len, need);
			snprintf(st->what, sizeof(st->what),
			         "DROP: a %u-byte packet needs %u free rx slot%s and %u %s free "
			         "- give slots back (advance head, rxsync)",
			         len, need, need > 1 ? "s" : "", room, room == 1 ? "is" : "are");
		}
		return true;
	}
	for (uint32_t i = 0; i < need; i++) {
		struct sim_nm_slot *sl = at(r, r->nic);
		uint32_t n = len - off < bs ? len - off : bs;

		sim_wire_read(&s->inwire, off,
		              rl_region_ptr(R(s), rl_region_frame_addr(R(s), sl->buf_idx)), n);
		sl->len = (uint16_t)n;
		sl->flags = i + 1 < need ? SIM_NS_MOREFRAG : 0;
		own(s, sl->buf_idx, RL_OWN_FILL, RL_OWN_NIC);
		off += n;
		r->nic++;
	}
	sim_wire_pop(&s->inwire);
	s->c.rx_pkts++;
	s->c.rx_bytes += len;
	if (st) {
		step_note(st, RL_STEP_RX, "wire", "rx", at(r, first)->buf_idx, len, need);
		snprintf(st->what, sizeof(st->what),
		         "RX: a %u-byte packet arrived in rx slot%s %u%s (buffer %u%s); the "
		         "next rxsync moves tail over it",
		         len, need > 1 ? "s" : "", slot_of(r, first), need > 1 ? "..." : "",
		         at(r, first)->buf_idx, need > 1 ? ", NS_MOREFRAG on all but the last" : "");
	}
	return true;
}

/* ---- TXSYNC / RXSYNC ----------------------------------------------------- */

/* The slots hwcur..head-1 the program hands over: sane lengths, whole
 * packets. Nothing changes when it refuses. */
static int tx_prologue(struct rl_engine *s, uint32_t *head, struct rl_err *err)
{
	struct sim_nm_ring *r = &s->nm->tx;
	int rc;

	if ((rc = check_head(r, r->head, "txsync", err)) ||
	    (rc = check_cur(r, r->head, r->cur, "txsync", err)))
		return rc;
	*head = abs_of(r, r->head);
	for (uint32_t a = r->hwcur, pkt = 0; a != *head; a++) {
		const struct sim_nm_slot *sl = at(r, a);

		if (sl->len == 0 || sl->len > R(s)->frame_size)
			return rl_err_set(err, EINVAL,
			                  "txsync: tx slot %u has len=%u - give each slot "
			                  "before head its packet's length (1 .. %u)",
			                  slot_of(r, a), sl->len, R(s)->frame_size);
		pkt += sl->len;
		if (pkt > SIM_MAX_PKT)
			return rl_err_set(err, EMSGSIZE,
			                  "txsync: the packet ending past tx slot %u is over %u "
			                  "bytes, more than the wire carries - end it sooner "
			                  "(a slot without NS_MOREFRAG)",
			                  slot_of(r, a), SIM_MAX_PKT);
		if (!(sl->flags & SIM_NS_MOREFRAG))
			pkt = 0;
	}
	if (*head != r->hwcur && (at(r, *head - 1)->flags & SIM_NS_MOREFRAG))
		return rl_err_set(err, EINVAL,
		                  "txsync: tx slot %u (just before head) has NS_MOREFRAG, so "
		                  "its packet is not whole - fill the next slot and move "
		                  "head past it, or clear the flag",
		                  slot_of(r, *head - 1));
	return 0;
}

/* tail moves over the slots the NIC has sent; the last of them stays the
 * kernel's (the slot at tail). Returns how many came back. */
static uint32_t tx_reclaim(struct rl_engine *s)
{
	struct sim_nm_ring *r = &s->nm->tx;
	uint32_t n = r->nic - r->done;

	/* the old slot at tail and all sent but the newest: comp -> app */
	for (uint32_t a = r->done - 1; a != r->nic - 1; a++)
		own(s, at(r, a)->buf_idx, RL_OWN_COMP, RL_OWN_APP);
	r->done = r->nic;
	set_tail(r);
	return n;
}

int sim_nm_txsync(struct rl_engine *s, struct sim_nm_sync *out, struct rl_err *err)
{
	struct sim_nm_ring *r = &s->nm->tx;
	struct sim_nm_sync o = {0};
	uint32_t head;
	int rc;

	rl_err_clear(err);
	if ((rc = tx_prologue(s, &head, err)))
		return rc;
	s->nm->txsyncs++;
	s->c.kicks++;
	for (; r->hwcur != head; r->hwcur++) {
		struct sim_nm_slot *sl = at(r, r->hwcur);

		own(s, sl->buf_idx, RL_OWN_APP, RL_OWN_TX);
		sl->flags &= (uint16_t)~SIM_NS_BUF_CHANGED; /* the kernel saw the new buffer */
		o.taken++;
	}
	if (!s->opt.step)
		while (nic_tx(s, NULL, &o.lost))
			o.packets++;
	o.reported = tx_reclaim(s);
	if (out)
		*out = o;
	return 0;
}

int sim_nm_rxsync(struct rl_engine *s, struct sim_nm_sync *out, struct rl_err *err)
{
	struct sim_nm_ring *r = &s->nm->rx;
	struct sim_nm_sync o = {0};
	uint32_t head;
	int rc;

	rl_err_clear(err);
	if ((rc = check_head(r, r->head, "rxsync", err)) ||
	    (rc = check_cur(r, r->head, r->cur, "rxsync", err)))
		return rc;
	s->nm->rxsyncs++;
	head = abs_of(r, r->head);
	for (; r->hwcur != head; r->hwcur++) { /* given back: empty again */
		struct sim_nm_slot *sl = at(r, r->hwcur);

		own(s, sl->buf_idx, RL_OWN_RX, RL_OWN_FILL);
		sl->flags = 0;
		sl->len = 0;
		o.taken++;
	}
	if (!s->opt.step)
		while (nic_rx(s, NULL, &o.dropped))
			;
	for (; r->done != r->nic; r->done++) { /* tail moves over what arrived */
		struct sim_nm_slot *sl = at(r, r->done);

		own(s, sl->buf_idx, RL_OWN_NIC, RL_OWN_RX);
		o.reported++;
		o.packets += !(sl->flags & SIM_NS_MOREFRAG);
	}
	set_tail(r);
	if (out)
		*out = o;
	return 0;
}

/* ---- the AF_XDP-shaped ops ----------------------------------------------- */

int sim_nm_fill(struct rl_engine *s, uint32_t n, struct rl_err *err)
{
	(void)s;
	(void)n;
	return rl_err_set(err, EOPNOTSUPP,
	                  "fill: a netmap port has no fill ring - every rx slot the "
	                  "kernel holds already has a buffer; rxsync (or recv) receives");
}

/* Is buffer f in a slot of any port of s's pool? (A buffer lives in one
 * slot at a time: the program must not hand the ring one it already has.) */
static bool in_a_slot(struct rl_engine *s, uint32_t f)
{
	struct sim_nm_pool *p = s->nm->pool;

	for (unsigned k = 0; k < NM_PORTS_MAX; k++) {
		struct rl_engine *e = p->port[k];

		if (!e || !e->nm)
			continue;
		for (int t = 0; t < 2; t++) {
			const struct sim_nm_ring *r = t ? &e->nm->tx : &e->nm->rx;

			for (uint32_t i = 0; r->slot && i < r->num_slots; i++)
				if (r->slot[i].buf_idx == f)
					return true;
		}
	}
	return false;
}

/* Put the whole packets of d into tx slots at head. */
int sim_nm_tx(struct rl_engine *s, const struct rl_desc *d, uint32_t n,
              struct rl_err *err)
{
	struct sim_nm_ring *r = &s->nm->tx;
	struct rl_region *g = R(s);
	uint32_t head, room;
	int rc;

	rl_err_clear(err);
	if (n == 0)
		return 0;
	if ((rc = check_head(r, r->head, "tx", err)))
		return rc;
	head = abs_of(r, r->head);
	room = user_end(r) - head;
	if (d[n - 1].options & RL_DESC_CONTD)
		return rl_err_set(err, EINVAL,
		                  "tx: the last descriptor carries RL_DESC_CONTD, so its "
		                  "packet is not whole");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f = rl_region_frame(g, d[i].addr);

		if (d[i].addr >= g->size || rl_region_owner(g, f) != RL_OWN_APP ||
		    rl_region_is_free(g, f))
			return rl_err_set(err, EPERM,
			                  "tx: descriptor %u is not a buffer the program holds "
			                  "in this port's pool - build the packet in it first",
			                  i);
		if (d[i].len == 0 || d[i].len > g->frame_size)
			return rl_err_set(err, EINVAL,
			                  "tx: descriptor %u has %u bytes - a slot holds 1 .. %u",
			                  i, d[i].len, g->frame_size);
		if (d[i].addr != rl_region_frame_addr(g, f))
			return rl_err_set(err, EINVAL,
			                  "tx: descriptor %u starts %llu bytes into its buffer - "
			                  "a netmap slot's bytes start at its buffer's start",
			                  i, (unsigned long long)(d[i].addr & (g->frame_size - 1)));
		if (in_a_slot(s, f))
			return rl_err_set(err, EBUSY,
			                  "tx: buffer %u is in a ring slot already (sent before, "
			                  "and a netmap slot keeps the buffer it sends) - build a "
			                  "new packet, or write into a tx slot",
			                  f);
		if (g->pins[f])
			return rl_err_set(err, EPERM,
			                  "tx: buffer %u belongs to an r:alloc buffer - a netmap "
			                  "slot keeps the buffer it sends; write into a tx slot "
			                  "instead (ring:slot(i):write)",
			                  f);
	}
	if (n > room) { /* whole packets only */
		while (n > 0 && (n > room || (d[n - 1].options & RL_DESC_CONTD)))
			n--;
		if (n == 0) {
			s->c.tx_ring_full++;
			return rl_err_set(err, ENOSPC,
			                  "tx: the tx ring has %u free slot%s (head=%u, tail=%u) - "
			                  "txsync (kick) to get sent slots back",
			                  room, room == 1 ? "" : "s", r->head, r->tail);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct sim_nm_slot *sl = at(r, head + i);

		rl_region_release(g, sl->buf_idx, NULL); /* the slot's old buffer: to the pool */
		sl->buf_idx = rl_region_frame(g, d[i].addr);
		sl->len = (uint16_t)d[i].len;
		sl->flags = SIM_NS_BUF_CHANGED |
		            ((d[i].options & RL_DESC_CONTD) ? SIM_NS_MOREFRAG : 0);
	}
	r->head = r->cur = slot_of(r, head + n);
	return (int)n;
}

/* RXSYNC, then the whole packets at head, each slot left with a fresh
 * buffer from the pool. */
int sim_nm_rx(struct rl_engine *s, struct rl_desc *out, uint32_t max,
              struct rl_err *err)
{
	struct sim_nm_ring *r = &s->nm->rx;
	struct rl_region *g = R(s);
	uint32_t a, got = 0;
	int rc;

	if ((rc = sim_nm_rxsync(s, NULL, err)))
		return rc;
	a = abs_of(r, r->head);
	while (a != r->done) {
		uint32_t k = 1;

		while (a + k != r->done && (at(r, a + k - 1)->flags & SIM_NS_MOREFRAG))
			k++;
		if (got + k > max) {
			if (got == 0)
				return rl_err_set(err, EMSGSIZE,
				                  "rx: the next packet has %u slots but only %u fit "
				                  "- ask for at least %u",
				                  k, max, k);
			break;
		}
		if (g->nfree < k) {
			if (got == 0)
				return rl_err_set(err, ENOBUFS,
				                  "rx: the pool has %u free buffers to put in the "
				                  "slots, the packet needs %u - release received "
				                  "packets first",
				                  g->nfree, k);
			break;
		}
		for (uint32_t i = 0; i < k; i++) {
			struct sim_nm_slot *sl = at(r, a + i);
			uint64_t fresh;

			rl_region_take(g, &fresh, NULL);
			own(s, rl_region_frame(g, fresh), RL_OWN_APP, RL_OWN_RX);
			own(s, sl->buf_idx, RL_OWN_RX, RL_OWN_APP); /* the program's now */
			out[got + i] = (struct rl_desc){
			    .addr = rl_region_frame_addr(g, sl->buf_idx),
			    .len = sl->len,
			    .options = i + 1 < k ? RL_DESC_CONTD : 0};
			sl->buf_idx = rl_region_frame(g, fresh);
			sl->len = 0;
			sl->flags = SIM_NS_BUF_CHANGED;
		}
		got += k;
		a += k;
	}
	r->head = r->cur = slot_of(r, a);
	return (int)got;
}

int sim_nm_complete(struct rl_engine *s, struct rl_err *err)
{
	rl_err_clear(err);
	return (int)tx_reclaim(s);
}

int sim_nm_step(struct rl_engine *s, struct rl_step *st, struct rl_err *err)
{
	struct sim_nm_ring *tx = &s->nm->tx;

	rl_err_clear(err);
	if (nic_rx(s, st, NULL) || nic_tx(s, st, NULL)) {
		s->c.steps++;
		return 0;
	}
	step_note(st, RL_STEP_IDLE, "", "", 0, 0, 0);
	snprintf(st->what, sizeof(st->what), "IDLE: %s",
	         abs_of(tx, tx->head) != tx->hwcur
	             ? "nothing on the wire, and the slots before head are not handed "
	               "over yet - txsync hands them to the NIC"
	             : "nothing to do - no packet on the wire, no tx slot handed to the NIC");
	return 0;
}

/* ---- views ---------------------------------------------------------------- */

void sim_nm_map(const struct sim_nm_ring *r, char *out)
{
	uint32_t n = r->num_slots, head = abs_of(r, r->head);

	if (r->tx) {
		uint32_t g = r->done - 1; /* the slot at tail */

		for (uint32_t p = g; p != g + n; p++) {
			uint32_t d = p - g;

			out[p % n] = d < r->nic - g     ? 'C'
			             : d < r->hwcur - g ? 'T'
			             : d < head - g     ? 'a'
			                                : 'A';
		}
	} else {
		for (uint32_t p = r->hwcur; p != r->hwcur + n; p++) {
			uint32_t d = p - r->hwcur;

			out[p % n] = d < head - r->hwcur     ? 'r'
			             : d < r->done - r->hwcur ? 'R'
			             : d < r->nic - r->hwcur  ? 'N'
			                                     : 'F';
		}
	}
	out[n] = '\0';
}

int sim_nm_rings(struct rl_engine *s, struct rl_ring_view *v, unsigned max)
{
	struct sim_nm_ring *r[2] = {&s->nm->rx, &s->nm->tx};
	unsigned n = 0;

	for (; n < 2 && n < max; n++) {
		struct sim_nm_ring *g = r[n];
		uint32_t head = abs_of(g, g->head);

		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].name, sizeof(v[n].name), "%s", rname(g));
		v[n].size = g->num_slots;
		/* as producer/consumer: rx: the kernel produces up to tail, the
		 * program consumes from head; tx: the program produces up to
		 * head, the kernel gives back up to tail+1 */
		if (g->tx) {
			v[n].prod = head;
			v[n].cons = g->done;
			v[n].pending = head - g->done;
		} else {
			v[n].prod = g->done;
			v[n].cons = head;
			v[n].pending = g->done - head;
		}
		snprintf(v[n].note, sizeof(v[n].note),
		         "netmap ring (simulated): head=%u cur=%u tail=%u", g->head, g->cur,
		         g->tail);
	}
	if (n < max) {
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].name, sizeof(v[n].name), "wire");
		v[n].size = s->inwire.cap_pkts;
		v[n].prod = s->inwire.arrived;
		v[n].cons = s->inwire.left;
		v[n].pending = s->inwire.count;
		snprintf(v[n].note, sizeof(v[n].note),
		         "packets on the cable to this port; not a ring of netmap");
		n++;
	}
	return (int)n;
}

void sim_nm_stats(struct rl_engine *s, struct rl_stats *o)
{
	snprintf(o->mode, sizeof(o->mode), "netmap");
	snprintf(o->mode_why, sizeof(o->mode_why),
	         "personality=netmap: netmap's ring model, simulated (netmap itself "
	         "needs its kernel module, not loadable here); the NIC uses the "
	         "pool's buffers directly");
	rl_stats_extra(o, "txsyncs", s->nm->txsyncs);
	rl_stats_extra(o, "rxsyncs", s->nm->rxsyncs);
	rl_stats_extra(o, "buf_swaps", s->nm->swaps);
}

uint32_t sim_nm_caps(struct rl_engine *s, char *why, size_t len)
{
	(void)s;
	if (why && len)
		snprintf(why, len,
		         "netmap's model, simulated (personality=netmap): netmap itself "
		         "needs its kernel module, which cannot be loaded here; no sg here - "
		         "a slot keeps the buffer it sends, so born and sg data cannot be "
		         "lent to the ring: write into tx slots (NS_MOREFRAG for a packet "
		         "over several); no tso, gso or csum offload in this model");
	/* no RL_CAP_SG: a multi-slot packet is written into the slots
	 * (NS_MOREFRAG), not lent from r:alloc buffers */
	return RL_CAP_STEP | RL_CAP_ZEROCOPY | RL_CAP_PEER;
}
