/*
 * lab/engine_io.c - moving frames: e:fill, e:rx, e:tx, e:complete, e:kick,
 * e:step.
 *
 * Each call checks its arguments, calls the engine's op and turns a failure
 * into "what: what was wrong - what to do". Packets are userdata (see
 * lab/packet.c): e:rx() wraps each received chain of descriptors in a new
 * packet that holds its frames; e:tx() hands the frames of whole packets to
 * the engine and marks exactly the queued ones as sent, so a partial or
 * failed tx leaves the rest with the program.
 *
 * Engines with rx_x (ABI 2, DPDK) can deliver packets whose bytes are not
 * all in frames the program now holds: net_ring hands over the sender's
 * mbufs, so an extbuf packet arrives as the sender's app memory and a gso
 * one as headers in DPDK's buffers plus references into the sender's
 * frames. A packet handle is frames, so e:rx() copies those segments into
 * free frames of this region - what a wire does, when the bytes land in the
 * receiver's buffers - and counts it `copied`. e:rx(max, {gro=true}) asks
 * the engine to merge the TCP segments waiting first (RL_CAP_GRO).
 *
 * An engine on several queues (ABI 5, ops->queues) acts on the queue the
 * program selected (e:queue(k)) or spreads; every call here also takes
 * {queue=K} in its options table (e:fill(n, {queue=1}), e:rx(max, {queue=0}),
 * e:tx(pkts, {queue=1}), e:complete(max, {queue=1}), e:kick{queue=1}), which
 * selects K for that one call.
 */
#include <errno.h>
#include <string.h>

#include "shell.h"

static bool find_view(struct lab_engine *eng, const char *name, struct rl_ring_view *out)
{
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	int n = eng->ops->rings ? eng->ops->rings(eng->e, v, RL_RING_VIEWS_MAX) : 0;

	for (int i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0) {
			*out = v[i];
			return true;
		}
	}
	return false;
}

/* {queue=K} (or queue="all") in the options table at idx: select it for this
 * call. Returns the selection to put back with queue_back(), or
 * RL_QUEUE_KEEP when the call names none. */
static int queue_opt(lua_State *L, struct lab_engine *eng, int idx, const char *what)
{
	struct rl_err err;
	int isnum = 0, sel, was = RL_QUEUE_KEEP;
	lua_Integer q;

	if (!lua_istable(L, idx))
		return RL_QUEUE_KEEP;
	lua_getfield(L, idx, "queue"); /* may run an __index: checked again below */
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return RL_QUEUE_KEEP;
	}
	q = lua_tointegerx(L, -1, &isnum);
	if (!isnum && lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "all"))
		sel = RL_QUEUE_ALL;
	else if (isnum && q >= 0 && q < 65536)
		sel = (int)q;
	else
		return luaL_error(L, "%s: queue=%s is not a queue - give its number, e.g. "
		                     "{queue=1}, or \"all\"",
		                  what, luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	eng = lab_check_open(L, eng, what);
	if (!eng->ops->queues) {
		if (sel <= 0)
			return RL_QUEUE_KEEP; /* queue 0 (or all) of a one-queue engine */
		return luaL_error(L, "%s: queue %d - this engine (%s) has one queue, 0", what,
		                  sel, eng->ops->name);
	}
	rl_err_clear(&err);
	if (eng->ops->queues(eng->e, sel, &was, NULL, 0, &err) < 0)
		return lab_raise(L, what, &err);
	return was;
}

static void queue_back(struct lab_engine *eng, int was)
{
	struct rl_err err;

	if (was == RL_QUEUE_KEEP || !lab_is_open(eng) || !eng->ops->queues)
		return;
	rl_err_clear(&err);
	eng->ops->queues(eng->e, was, NULL, NULL, 0, &err);
}

static void need_op(lua_State *L, const void *op, const char *what)
{
	if (!op)
		luaL_error(L, "%s: this engine cannot %s", what, what);
}

static uint32_t check_count(lua_State *L, int idx, const char *what, uint32_t def)
{
	lua_Integer n;
	int ok;

	if (lua_isnoneornil(L, idx))
		return def;
	n = lua_tointegerx(L, idx, &ok);
	if (!ok)
		luaL_error(L, "%s: give a number of frames, not a %s - e.g. e:%s(64)",
		           what, luaL_typename(L, idx), what);
	if (n < 0 || n > (lua_Integer)RL_REGION_MAX_FRAMES)
		luaL_error(L, "%s: %I is not a count of frames - give 0 .. %d", what, n,
		           (int)RL_REGION_MAX_FRAMES);
	return (uint32_t)n;
}

/* Several queues: room on the selected queue's fill ring (fill<id>), or,
 * spread, on all of them. */
static uint32_t queue_fill_room(struct lab_engine *eng, uint32_t room)
{
	struct rl_queue_info q[RL_QUEUES_MAX];
	struct rl_ring_view v;
	struct rl_err err;
	uint32_t least = UINT32_MAX, sum = 0;
	char name[24];
	int n, sel = RL_QUEUE_ALL;

	if (!eng->ops->queues)
		return room;
	rl_err_clear(&err);
	n = eng->ops->queues(eng->e, RL_QUEUE_KEEP, &sel, q, RL_QUEUES_MAX, &err);
	if (n < 2)
		return room;
	for (int i = 0; i < n && i < RL_QUEUES_MAX; i++) {
		if (sel >= 0 && q[i].id != (uint32_t)sel)
			continue;
		snprintf(name, sizeof(name), "fill%u", q[i].id);
		if (find_view(eng, name, &v)) {
			sum += v.size - v.pending;
			if (v.size - v.pending < least)
				least = v.size - v.pending;
		}
	}
	if (least == UINT32_MAX)
		return room;
	if (sel < 0)
		least = sum;
	return least < room ? least : room;
}

static int engine_fill(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_region *r = lab_engine_region(L, eng, "fill");
	struct rl_ring_view fill;
	struct rl_err err;
	uint32_t n, room = r->nfree;
	int ret, was;

	need_op(L, (const void *)eng->ops->fill, "fill");
	was = queue_opt(L, eng, 3, "fill");
	r = lab_engine_region(L, lab_check_open(L, eng, "fill"), "fill");
	room = r->nfree;
	/* the views are the engine's once it has a region: an engine without a
	 * "fill" ring is not asked for all its views again on every call */
	if (eng->fill_view >= 0 && find_view(eng, "fill", &fill)) {
		eng->fill_view = 1;
		if (fill.size - fill.pending < room)
			room = fill.size - fill.pending;
	} else {
		eng->fill_view = -1;
	}
	room = queue_fill_room(eng, room);
	n = check_count(L, 2, "fill", room);
	rl_err_clear(&err);
	ret = eng->ops->fill(eng->e, n, &err);
	queue_back(eng, was);
	if (ret < 0)
		return lab_raise(L, "fill", &err);
	lua_pushinteger(L, ret);
	return 1;
}

/* Wrap descriptors d[0..n) (whole packets) into packet handles, appended
 * to the table at t (*k packets in it so far). */
static void push_received(lua_State *L, int t, int *k, const struct rl_desc *d, int n)
{
	int i = 0;

	while (i < n) {
		int j = i;
		struct lab_packet *p;

		while (j < n - 1 && (d[j].options & RL_DESC_CONTD))
			j++;
		p = lab_new_packet(L, 1, (unsigned)(j - i + 1));
		p->received = true;
		for (int s = i; s <= j; s++) {
			p->seg[s - i].d = d[s];
			p->seg[s - i].own = true;
			p->len += d[s].len;
		}
		lua_rawseti(L, t, ++*k);
		i = j + 1;
	}
}

#define RX_X_MAX 256 /* segments of one packet from rx_x (a GRO packet: 64 KB) */

/* Frames a segment of len bytes takes when copied in behind the headroom. */
static uint32_t frames_for(const struct rl_region *r, uint32_t len)
{
	uint32_t room = r->frame_size - r->headroom;

	return len ? (len + room - 1) / room : 1;
}

/* Copy segment x (not in a frame of ours) into free frames, as segments of
 * p from p->seg[*at] on. */
static void copy_in(lua_State *L, struct lab_engine *eng, struct rl_region *r,
                    struct lab_packet *p, unsigned *at, const struct rl_xdesc *x)
{
	uint32_t room = r->frame_size - r->headroom, off = 0;

	do {
		uint32_t take = x->len - off < room ? x->len - off : room;
		uint64_t a;

		if (rl_region_take(r, &a, NULL) < 0) {
			p->nseg = *at; /* what it holds goes back with it */
			lab_packet_release_frames(p, r);
			p->state = PKT_RELEASED;
			eng->ops->rx_release(eng->e);
			luaL_error(L, "rx: no free frame to take a received segment that is not "
			              "in this region (%d bytes) - release received packets, or "
			              "use a larger region", (int)x->len);
		}
		a += r->headroom;
		memcpy(rl_region_ptr(r, a), (const uint8_t *)x->va + off, take);
		p->seg[*at].d = (struct rl_desc){a, take, RL_DESC_CONTD};
		p->seg[(*at)++].own = true;
		p->len += take;
		off += take;
	} while (off < x->len);
}

/* One packet from rx_x as a packet handle appended to the table at t: its
 * frames as they are, every other segment copied into free frames (see
 * the top). Returns the descriptors it has. */
static int push_x_packet(lua_State *L, struct lab_engine *eng, struct rl_region *r, int t,
                         int *k, const struct rl_xdesc *x, int n)
{
	unsigned nseg = 0;
	uint64_t copied = 0;
	struct lab_packet *p;

	for (int i = 0; i < n; i++)
		nseg += x[i].options & RL_DESC_EXT ? frames_for(r, x[i].len) : 1;
	p = lab_new_packet(L, 1, nseg);
	p->received = true;
	/* the allocation may have run a finalizer that closed the engine (and
	 * freed r); the segments were the engine's, gone with it */
	lab_check_open(L, eng, "rx");
	nseg = 0;
	for (int i = 0; i < n; i++) {
		if (x[i].options & RL_DESC_EXT) {
			copy_in(L, eng, r, p, &nseg, &x[i]);
			copied += x[i].len;
			continue;
		}
		p->seg[nseg].d = (struct rl_desc){x[i].addr, x[i].len, RL_DESC_CONTD};
		p->seg[nseg++].own = true;
		p->len += x[i].len;
	}
	p->seg[nseg - 1].d.options = 0;
	eng->ops->rx_release(eng->e);
	if (copied)
		lab_count(eng, p, RL_LEDGER_COPIED, copied, RL_DIR_RX);
	lua_rawseti(L, t, ++*k);
	return (int)nseg;
}

/* rx_x until max descriptors or nothing waits; the first call merges
 * (gro). Returns the descriptors received. */
static int rx_x_loop(lua_State *L, struct lab_engine *eng, struct rl_region *r, int t,
                     int *k, uint32_t max, bool gro)
{
	struct rl_xdesc *x = lua_newuserdatauv(L, RX_X_MAX * sizeof(*x), 0);
	int got = 0;

	while ((uint32_t)got < max) {
		struct rl_err err;
		int n;

		lab_check_open(L, eng, "rx"); /* the last allocation ran Lua? */
		rl_err_clear(&err);
		n = eng->ops->rx_x(eng->e, x, RX_X_MAX, gro && got == 0 ? RL_RX_GRO : 0, &err);
		if (n < 0)
			lab_raise(L, "rx", &err);
		if (n == 0)
			break;
		got += push_x_packet(L, eng, r, t, k, x, n);
	}
	lua_pop(L, 1);
	return got;
}

/* e:rx(max, {gro=true}) */
static bool rx_gro_opt(lua_State *L, struct lab_engine *eng)
{
	bool gro;

	if (lua_isnoneornil(L, 3))
		return false;
	luaL_checktype(L, 3, LUA_TTABLE);
	lua_getfield(L, 3, "gro");
	gro = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (gro && (!eng->ops->rx_x || !(lab_engine_caps(eng, NULL, 0) & RL_CAP_GRO)))
		luaL_error(L, "rx: this engine (%s) cannot merge received TCP segments (gro is "
		              "DPDK's rte_gro) - receive them one by one with e:rx(max) and "
		              "let lab.reader join their payload", eng->ops->name);
	return gro;
}

static int engine_rx(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	uint32_t max = check_count(L, 2, "rx", 64);
	struct rl_region *r = lab_engine_region(L, eng, "rx");
	bool gro = rx_gro_opt(L, eng);
	struct rl_desc *d;
	struct rl_err err;
	uint32_t got = 0;
	int n, t, k = 0, was;

	need_op(L, (const void *)eng->ops->rx, "rx");
	was = queue_opt(L, eng, 3, "rx");
	d = lua_newuserdatauv(L, (max ? max : 1) * sizeof(*d), 0);
	lua_createtable(L, 0, 0);
	t = lua_gettop(L);
	if (gro) {
		r = lab_engine_region(L, lab_check_open(L, eng, "rx"), "rx");
		rx_x_loop(L, eng, r, t, &k, max, true);
		queue_back(eng, was);
		return 1;
	}
	while (got < max) {
		/* rx_gro_opt's getfield and every allocation may run Lua (an
		 * __index, a finalizer) that closes the engine */
		r = lab_engine_region(L, lab_check_open(L, eng, "rx"), "rx");
		rl_err_clear(&err);
		n = eng->ops->rx(eng->e, d, max - got, &err);
		if (n == -EXDEV && eng->ops->rx_x) { /* a packet not all in frames */
			got += (uint32_t)rx_x_loop(L, eng, r, t, &k, 1, false);
			continue;
		}
		if (n < 0) {
			queue_back(eng, was);
			return lab_raise(L, "rx", &err);
		}
		lab_pcap_write(eng, d, (uint32_t)n, RL_DIR_RX);
		push_received(L, t, &k, d, n);
		got += (uint32_t)n;
		if (n == 0 || !eng->ops->rx_x)
			break; /* one call, as ever, where every packet is frames */
	}
	queue_back(eng, was);
	return 1;
}

/* The packets to send, at the top of the stack as a list; returns count. */
static int tx_list(lua_State *L)
{
	if (luaL_testudata(L, 2, LAB_PACKET_MT)) {
		lua_createtable(L, 1, 0);
		lua_pushvalue(L, 2);
		lua_rawseti(L, -2, 1);
	} else {
		lua_pushvalue(L, 2);
	}
	return (int)luaL_len(L, -1);
}

static struct lab_packet *tx_item(lua_State *L, struct lab_engine *eng, int list, int i,
                                  int seen)
{
	struct lab_packet *p;

	lua_geti(L, list, i);
	p = luaL_testudata(L, -1, LAB_PACKET_MT);
	if (!p)
		luaL_error(L,
		           "tx: item %d is a %s, not a packet - give a packet or a list "
		           "of packets",
		           i, luaL_typename(L, -1));
	if (p->state == PKT_SENT)
		luaL_error(L, "tx: this packet was already sent - build a new one");
	if (p->state == PKT_RELEASED)
		luaL_error(L,
		           "tx: this packet was released - build or receive a new one");
	if (p->state == PKT_CONSUMED)
		luaL_error(L, "tx: this packet was given to a reader - build a new one");
	lua_getiuservalue(L, -1, 1);
	if (lua_touserdata(L, -1) != (void *)eng)
		luaL_error(L,
		           "tx: packet %d lives in another engine's region - build it in "
		           "this engine's region",
		           i);
	lua_pop(L, 1);
	/* the item is read once (an __index may give another each time) and
	 * kept alive as a key of seen */
	lua_pushvalue(L, -1);
	if (lua_rawget(L, seen) != LUA_TNIL)
		luaL_error(L, "tx: the same packet is in the list twice - build one "
		              "packet per send");
	lua_pop(L, 1);
	lua_pushboolean(L, 1);
	lua_rawset(L, seen);
	return p;
}

/* A packet queued: its frames are the engine's now; a born packet's come
 * back to its buffer (or, freed meanwhile, to the pool) on completion. */
static void tx_done(struct lab_packet *p, struct rl_region *r)
{
	p->state = PKT_SENT;
	lab_packet_drop_buffer(p, r);
}

#define TX_X_MAX 64 /* descriptors of one packet handed over with tx_x */

/* e:tx on an engine whose NIC fills checksums, with some packets built
 * with csum="offload": those go one by one through tx_x with RL_TX_CSUM,
 * the runs of others through tx, in order, until the ring is full. Runs no
 * Lua until it raises; returns the packets queued (pushed). */
static int tx_nic_csum(lua_State *L, struct lab_engine *eng, struct rl_region *r,
                       struct lab_packet **pk, int n, const struct rl_desc *d)
{
	struct rl_tx_opts o = {.flags = RL_TX_CSUM};
	struct rl_xdesc x[TX_X_MAX];
	struct rl_err err;
	int sent = 0, at = 0, ret = 0;

	rl_err_clear(&err);
	while (sent < n) {
		int j = sent, nd = 0;

		if (pk[sent]->csum_nic) {
			unsigned k = pk[sent]->nseg;

			if (k > TX_X_MAX) {
				ret = rl_err_set(&err, EMSGSIZE,
				                 "packet %d has %u descriptors, the NIC's "
				                 "checksums take at most %d",
				                 sent + 1, k, TX_X_MAX);
				break;
			}
			for (unsigned i = 0; i < k; i++)
				x[i] = (struct rl_xdesc){.addr = d[at + i].addr,
				                         .len = d[at + i].len,
				                         .options = d[at + i].options};
			ret = eng->ops->tx_x(eng->e, x, k, &o, &err);
			if (ret < 0)
				break;
			lab_pcap_write_x(eng, x, k);
			tx_done(pk[sent++], r);
			at += (int)k;
			continue;
		}
		while (j < n && !pk[j]->csum_nic)
			nd += (int)pk[j++]->nseg;
		ret = eng->ops->tx(eng->e, d + at, (uint32_t)nd, &err);
		if (ret < 0)
			break;
		lab_pcap_write(eng, d + at, (uint32_t)ret, RL_DIR_TX);
		while (sent < j && ret >= (int)pk[sent]->nseg) {
			ret -= (int)pk[sent]->nseg;
			at += (int)pk[sent]->nseg;
			tx_done(pk[sent++], r);
		}
		ret = 0;
		if (sent < j)
			break; /* the ring took only these */
	}
	/* a full ring after some went is a partial send, as with tx alone */
	if (ret < 0 && (sent == 0 || ret != -ENOSPC))
		return lab_raise(L, "tx", &err);
	lua_pushinteger(L, sent);
	return 1;
}

/* Does this engine's NIC fill the checksums of some of these packets? */
static bool nic_csum(struct lab_engine *eng, struct lab_packet **pk, int n)
{
	if (!eng->ops->tx_x || !(lab_engine_caps(eng, NULL, 0) & RL_CAP_CSUM))
		return false;
	for (int i = 0; i < n; i++)
		if (pk[i]->csum_nic)
			return true;
	return false;
}

static int engine_tx(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct lab_packet **pk;
	struct rl_desc *d;
	struct rl_region *r;
	struct rl_err err;
	int n, list, seen, nd = 0, ret, sent = 0, was;

	lab_engine_region(L, eng, "tx");
	need_op(L, (const void *)eng->ops->tx, "tx");
	if (!luaL_testudata(L, 2, LAB_PACKET_MT) && !lua_istable(L, 2))
		return luaL_error(L, "tx: give a packet or a list of packets, not a %s",
		                  luaL_typename(L, 2));
	if (!lua_isnoneornil(L, 3) && !lua_istable(L, 3))
		return luaL_error(L, "tx: the options are a table, e.g. e:tx(pkts, {queue=1}), "
		                     "not a %s", luaL_typename(L, 3));
	lua_settop(L, 3);
	n = tx_list(L);
	list = lua_gettop(L);
	lua_newtable(L);
	seen = lua_gettop(L);
	pk = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*pk), 0);
	for (int i = 0; i < n; i++) {
		pk[i] = tx_item(L, eng, list, i + 1, seen);
		nd += (int)pk[i]->nseg;
	}
	if (n == 0) {
		lua_pushinteger(L, 0);
		return 1;
	}
	d = lua_newuserdatauv(L, nd * sizeof(*d), 0);
	/* the list's __len/__index and the allocations may have run Lua: the
	 * engine closed, a packet read earlier sent or released since */
	r = lab_engine_region(L, lab_check_open(L, eng, "tx"), "tx");
	for (int i = 0; i < n; i++)
		if (pk[i]->state != PKT_HELD)
			return luaL_error(L, "tx: packet %d was sent or released while the "
			                     "list was read - build a new one",
			                  i + 1);
	nd = 0;
	for (int i = 0; i < n; i++)
		for (unsigned s = 0; s < pk[i]->nseg; s++)
			d[nd++] = pk[i]->seg[s].d;
	/* the queue last: its option's __index may run Lua, so the list is
	 * read again below */
	was = queue_opt(L, eng, 3, "tx");
	r = lab_engine_region(L, lab_check_open(L, eng, "tx"), "tx");
	for (int i = 0; i < n; i++)
		if (pk[i]->state != PKT_HELD) {
			queue_back(eng, was);
			return luaL_error(L, "tx: packet %d was sent or released while the "
			                     "options were read - build a new one", i + 1);
		}
	if (nic_csum(eng, pk, n)) {
		ret = tx_nic_csum(L, eng, r, pk, n, d);
		queue_back(eng, was);
		return ret;
	}
	rl_err_clear(&err);
	ret = eng->ops->tx(eng->e, d, (uint32_t)nd, &err);
	queue_back(eng, was);
	if (ret < 0)
		return lab_raise(L, "tx", &err);
	lab_pcap_write(eng, d, (uint32_t)ret, RL_DIR_TX);
	for (int i = 0; i < n && ret >= (int)pk[i]->nseg; i++) {
		ret -= (int)pk[i]->nseg;
		pk[i]->state = PKT_SENT;
		/* a born packet's frames are the engine's now; they come back
		 * to its buffer (or, freed meanwhile, to the pool) on completion */
		lab_packet_drop_buffer(pk[i], r);
		sent++;
	}
	lua_pushinteger(L, sent);
	return 1;
}

static int engine_complete(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	uint32_t max;
	struct rl_err err;
	int ret, was;

	lab_engine_region(L, eng, "complete");
	need_op(L, (const void *)eng->ops->complete, "complete");
	max = check_count(L, 2, "complete", RL_REGION_MAX_FRAMES);
	was = queue_opt(L, eng, 3, "complete");
	lab_engine_region(L, lab_check_open(L, eng, "complete"), "complete");
	rl_err_clear(&err);
	ret = eng->ops->complete(eng->e, NULL, max, &err);
	queue_back(eng, was);
	if (ret < 0)
		return lab_raise(L, "complete", &err);
	lab_ext_reap(L, eng); /* and extbuf memory the engine let go of */
	lua_pushinteger(L, ret);
	return 1;
}

static int engine_kick(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_err err;
	int ret, was;

	need_op(L, (const void *)eng->ops->kick, "kick");
	was = queue_opt(L, eng, 2, "kick");
	lab_check_open(L, eng, "kick");
	rl_err_clear(&err);
	ret = eng->ops->kick(eng->e, &err);
	queue_back(eng, was);
	if (ret < 0)
		return lab_raise(L, "kick", &err);
	lua_pushinteger(L, ret);
	return 1;
}

static const char *step_kind(enum rl_step_kind k)
{
	switch (k) {
	case RL_STEP_TX:
		return "tx";
	case RL_STEP_COMPLETE:
		return "complete";
	case RL_STEP_RX:
		return "rx";
	case RL_STEP_DROP:
		return "drop";
	default:
		return "idle";
	}
}

static int engine_step(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_step s;
	struct rl_err err;

	if (!eng->ops->step)
		return luaL_error(
		    L, "step: this engine cannot step - the sim engine shows single "
		       "hardware actions (lab.open(\"sim\", {step=true}))");
	memset(&s, 0, sizeof(s));
	rl_err_clear(&err);
	if (eng->ops->step(eng->e, &s, &err) < 0)
		return lab_raise(L, "step", &err);
	lua_newtable(L);
	lua_pushstring(L, step_kind(s.kind));
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, s.from);
	lua_setfield(L, -2, "from");
	lua_pushstring(L, s.to);
	lua_setfield(L, -2, "to");
	lua_pushinteger(L, (lua_Integer)s.addr);
	lua_setfield(L, -2, "addr");
	lua_pushinteger(L, s.frame);
	lua_setfield(L, -2, "frame");
	lua_pushinteger(L, s.len);
	lua_setfield(L, -2, "len");
	lua_pushinteger(L, s.frags);
	lua_setfield(L, -2, "frags");
	lua_pushstring(L, s.what);
	lua_setfield(L, -2, "what");
	return 1;
}

const luaL_Reg lab_engine_io_methods[] = {
    {"fill", engine_fill}, {"rx", engine_rx},
    {"tx", engine_tx},     {"complete", engine_complete},
    {"kick", engine_kick}, {"step", engine_step},
    {NULL, NULL},
};

/* e:fill(n) and e:complete(n) without an options table (argument 3) run no
 * Lua code: a loop's per-batch calls take lab_call's fast way in. */
void lab_engine_io_fast(lua_State *L)
{
	static const luaL_Reg fast[] = {
	    {"fill", engine_fill}, {"complete", engine_complete}, {NULL, NULL}};
	static const int nilarg[] = {3, 3};

	lab_fast_methods(L, LAB_ENGINE_MT, fast, nilarg);
}
