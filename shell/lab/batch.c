/*
 * lab/batch.c - lab.batch(e, n): many packets in one handle, for loops.
 *
 * A packet handle (lab/packet.c) is one userdata per packet, which is right
 * for looking at packets and too slow for moving millions of them from a
 * Lua loop. A batch is one userdata holding up to n frames' worth of
 * packets as plain descriptors, the same ones e:tx() and e:rx() pass to
 * the engine:
 *
 *   local bt = lab.batch(e, 64)          -- room for 64 frames, holds none
 *   bt:udp{dst="198.18.0.2:9", payload="hi"}  -- fill it: one packet a frame
 *   bt:tx()                              -- queue them all; returns how many
 *   e:kick()  e:complete()               -- as with single packets
 *   bt:rx()                              -- receive into it instead
 *   #bt, bt:len(i), bt:dissect(i), bt:payload(i), bt:release()
 *
 * The frames a batch holds are app-owned and held, exactly like a packet's:
 * bt:tx() hands the queued ones to the engine (they come back to the pool
 * through e:complete()), bt:release() and the collector give the others
 * back. bt:udp builds the packet once - headers written, payload copied,
 * checksum computed - and copies it into each frame; the ledger counts, for
 * each packet, what lab.packet.udp would count (its header bytes as
 * `headers`, its payload as `copied`), and the payload read once for the
 * checksum as `touched`. Uservalue 1 is the engine, as for packets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shell.h"

#define LAB_BATCH_MT "ringlab.batch"
#define BATCH_MAX    65536

struct lab_batch {
	uint32_t cap;    /* frames (descriptors) it can hold */
	uint32_t nd;     /* descriptors held */
	uint32_t n;      /* packets held: start[0..n) index d */
	uint32_t tlen;   /* bytes of the template (bt:udp), 0: none yet */
	uint32_t thdr;   /* header bytes of the template */
	uint32_t tsize;  /* room for the template */
	uint32_t *start; /* first descriptor of each packet */
	struct rl_desc *d;
	uint8_t *tmpl; /* the packet bt:udp() copies into each frame */
	uint8_t *rxd;  /* per descriptor: 1 when bt:rx() received it */
};

/* ---- the handle ------------------------------------------------------- */

static const char batch_key; /* registry: the batch metatable */

static struct lab_batch *check_batch(lua_State *L, int idx)
{
	struct lab_batch *b = lab_test_handle(L, idx, &batch_key);

	return b ? b : luaL_checkudata(L, idx, LAB_BATCH_MT);
}

/* The batch at 1, its open engine and region (the batch's uservalue keeps
 * the engine alive, so it need not stay on the stack). */
static struct lab_batch *batch_engine(lua_State *L, const char *what,
                                      struct lab_engine **eng, struct rl_region **r)
{
	struct lab_batch *b = check_batch(L, 1);

	*eng = lab_handle_engine(L, 1, what);
	lua_pop(L, 1);
	*r = lab_engine_region(L, *eng, what);
	return b;
}

/* The path packet p is on: received (bt:rx) or built to send (bt:udp). */
static enum rl_dir pkt_dir(const struct lab_batch *b, uint32_t p)
{
	return b->rxd[b->start[p]] ? RL_DIR_RX : RL_DIR_TX;
}

/* Recount the packets from the CONTD bits. */
static void index_packets(struct lab_batch *b)
{
	b->n = 0;
	for (uint32_t i = 0; i < b->nd; i++)
		if (i == 0 || !(b->d[i - 1].options & RL_DESC_CONTD))
			b->start[b->n++] = i;
}

static void release_all(struct lab_batch *b, struct rl_region *r)
{
	for (uint32_t i = 0; i < b->nd; i++)
		rl_region_release(r, rl_region_frame(r, b->d[i].addr), NULL);
	b->nd = b->n = 0;
}

static uint32_t pkt_len(const struct lab_batch *b, uint32_t p, uint32_t *nseg)
{
	uint32_t end = p + 1 < b->n ? b->start[p + 1] : b->nd, len = 0;

	for (uint32_t i = b->start[p]; i < end; i++)
		len += b->d[i].len;
	*nseg = end - b->start[p];
	return len;
}

/* Packet i (1-based, checked) as pieces for the dissector. The region is
 * taken after the allocation, which may run a finalizer that closes eng. */
static struct rl_iov *pkt_pieces(lua_State *L, const struct lab_batch *b,
                                 struct lab_engine *eng, uint32_t p, unsigned *n,
                                 const char *what)
{
	const struct rl_region *r;
	uint32_t nseg;
	struct rl_iov *v;

	pkt_len(b, p, &nseg);
	v = lua_newuserdatauv(L, nseg * sizeof(*v), 0);
	r = lab_engine_region(L, lab_check_open(L, eng, what), what);
	for (uint32_t i = 0; i < nseg; i++) {
		const struct rl_desc *d = &b->d[b->start[p] + i];

		v[i] = (struct rl_iov){rl_region_ptr(r, d->addr), d->len};
	}
	*n = nseg;
	return v;
}

static uint32_t check_index(lua_State *L, const struct lab_batch *b, int idx,
                            const char *what)
{
	lua_Integer i = luaL_checkinteger(L, idx);

	if (i < 1 || i > (lua_Integer)b->n)
		luaL_error(L, "%s: the batch holds %d packets - ask for 1 .. %d", what,
		           (int)b->n, (int)b->n);
	return (uint32_t)(i - 1);
}

/* lab.batch(e | r, n) */
static int lab_batch_new(lua_State *L)
{
	struct lab_engine *eng = lab_test_engine(L, 1);
	struct rl_region *r;
	struct lab_batch *b;
	lua_Integer n;
	size_t size;

	if (!eng && luaL_testudata(L, 1, LAB_REGION_MT)) {
		eng = lab_handle_engine(L, 1, "batch");
		lua_replace(L, 1);
	} else if (!eng && (lua_isnoneornil(L, 1) || lua_type(L, 1) == LUA_TNUMBER)) {
		lua_settop(L, 1); /* lab.batch(n): the engine that has the region */
		lab_default_engine(L, "batch", "lab.batch(e, 64)");
		lua_insert(L, 1);
		eng = lua_touserdata(L, 1);
	}
	if (!eng)
		return luaL_error(L,
		                  "batch: give an engine (or its region) and a size, "
		                  "e.g. lab.batch(e, 64) - not a %s",
		                  luaL_typename(L, 1));
	if (!lab_is_open(eng))
		return luaL_error(L, "batch: this engine is closed - open a new one with "
		                     "lab.open()");
	r = lab_engine_region(L, eng, "batch");
	n = luaL_optinteger(L, 2, 64);
	if (n < 1 || n > BATCH_MAX || n > (lua_Integer)r->frames)
		return luaL_error(
		    L,
		    "batch: a batch of %I frames does not work - give 1 .. %d "
		    "(at most the region's %d frames), e.g. lab.batch(e, 64)",
		    n, n > BATCH_MAX ? BATCH_MAX : (int)r->frames, (int)r->frames);
	size = sizeof(*b) + (size_t)n * (sizeof(uint32_t) + sizeof(struct rl_desc) + 1) +
	       r->frame_size;
	b = lua_newuserdatauv(L, size, 1);
	memset(b, 0, sizeof(*b));
	b->cap = (uint32_t)n;
	b->d = (struct rl_desc *)(b + 1);
	b->start = (uint32_t *)(b->d + n);
	b->tmpl = (uint8_t *)(b->start + n);
	b->rxd = b->tmpl + r->frame_size;
	b->tsize = r->frame_size - r->headroom;
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, LAB_BATCH_MT);
	return 1;
}

/* ---- filling it: bt:udp{...} ---------------------------------------------- */

static const char *const udp_keys[] = {"src",  "dst", "payload", "src_mac", "dst_mac",
                                       "csum", "ttl", "id",      NULL};

static void check_udp_keys(lua_State *L)
{
	for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
		int i;

		for (i = 0; udp_keys[i] && strcmp(udp_keys[i], k) != 0; i++)
			;
		if (!udp_keys[i])
			luaL_error(
			    L,
			    "udp: unknown field '%s' - a batch's udp{} takes src, dst, "
			    "payload (a string), src_mac, dst_mac, csum, ttl, id",
			    luaL_tolstring(L, -2, NULL));
	}
}

/* Build the template from the spec at 2: headers and payload, once. */
static void make_udp_template(lua_State *L, struct lab_batch *b, struct lab_engine *eng)
{
	struct rl_flow f;
	size_t plen = 0;
	const char *pl;
	struct rl_iov v;
	uint64_t touched = 0;
	struct rl_err err;
	struct lab_wire w = {0};
	bool csum, want_dst;
	char src[32];

	luaL_checktype(L, 2, LUA_TTABLE);
	check_udp_keys(L);
	memset(&f, 0, sizeof(f));
	lab_field_addr(L, 2, "udp", "dst", NULL, true, &f.dst_ip, &f.dst_port);
	/* on a kernel interface: its own addresses and the neighbour's (runs
	 * Lua: the caller looks at the batch and the engine again after) */
	want_dst = !lab_field_has(L, 2, "dst_mac");
	if (want_dst || !lab_field_has(L, 2, "src") || !lab_field_has(L, 2, "src_mac")) {
		lab_handle_engine(L, 1, "udp");
		lab_wire_addresses(L, lua_gettop(L), "udp", f.dst_ip, want_dst, &w);
		lua_pop(L, 1);
	}
	snprintf(src, sizeof(src), "%s:9000", w.src_ip[0] ? w.src_ip : "198.18.0.1");
	lab_field_addr(L, 2, "udp", "src", src, true, &f.src_ip, &f.src_port);
	lab_field_mac(L, 2, "udp", "src_mac", w.src_mac[0] ? w.src_mac : "02:00:00:00:00:01",
	              f.src_mac);
	lab_field_mac(L, 2, "udp", "dst_mac", w.dst_mac[0] ? w.dst_mac : "02:00:00:00:00:02",
	              f.dst_mac);
	f.ttl = lab_field_ttl(L, 2, "udp");
	f.ip_id = (uint16_t)lab_field_int(L, 2, "udp", "id", 0, 65535);
	csum = lab_field_csum(L, 2, "udp");
	lua_getfield(L, 2, "payload");
	if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L,
		           "udp: a batch's payload= is a string (copied into every "
		           "frame), not a %s - for a buffer use lab.packet.udp",
		           luaL_typename(L, -1));
	pl = lua_isnil(L, -1) ? "" : lua_tolstring(L, -1, &plen);
	if (plen > b->tsize - RL_UDP_HDRS)
		luaL_error(L,
		           "udp: %d payload bytes do not fit in one frame behind the "
		           "headers (%d bytes fit) - a batch holds one-frame packets; "
		           "use lab.packet.udp for bigger ones",
		           (int)plen, (int)(b->tsize - RL_UDP_HDRS));
	memcpy(b->tmpl + RL_UDP_HDRS, pl, plen);
	lua_pop(L, 1);
	v = (struct rl_iov){b->tmpl + RL_UDP_HDRS, plen};
	rl_err_clear(&err);
	if (rl_build_udp(b->tmpl, RL_UDP_HDRS, &f, &v, 1, csum, &touched, &err) < 0)
		lab_raise(L, "udp", &err);
	b->thdr = RL_UDP_HDRS;
	b->tlen = (uint32_t)(RL_UDP_HDRS + plen);
	lab_count(eng, NULL, RL_LEDGER_TOUCHED, touched, RL_DIR_TX);
}

/* bt:udp(spec [, count]) or bt:udp() again: fill free room with packets. */
static int batch_udp(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_batch *b = batch_engine(L, "udp", &eng, &r);
	lua_Integer want;
	uint32_t made = 0;

	if (lua_isnoneornil(L, 2)) {
		if (!b->tlen)
			return luaL_error(L,
			                  "udp: say what to build the first time, e.g. "
			                  "bt:udp{dst=\"198.18.0.2:9\", payload=\"hi\"}; "
			                  "then bt:udp() builds the same again");
	} else {
		make_udp_template(L, b, eng);
		b = batch_engine(L, "udp", &eng, &r); /* Lua may have run */
	}
	want = luaL_optinteger(L, 3, b->cap - b->nd);
	if (want < 0 || want > (lua_Integer)(b->cap - b->nd))
		return luaL_error(L,
		                  "udp: %I packets do not fit - the batch has room for "
		                  "%d more (bt:tx() or bt:release() makes room)",
		                  want, (int)(b->cap - b->nd));
	while (made < (uint32_t)want) {
		uint64_t frame;

		if (rl_region_take(r, &frame, NULL) < 0)
			break; /* the pool is empty: fewer, and the count says so */
		memcpy(rl_region_ptr(r, frame + r->headroom), b->tmpl, b->tlen);
		b->start[b->n++] = b->nd;
		b->rxd[b->nd] = 0;
		b->d[b->nd++] = (struct rl_desc){frame + r->headroom, b->tlen, 0};
		made++;
	}
	lab_count(eng, NULL, RL_LEDGER_HEADERS, (uint64_t)made * b->thdr, RL_DIR_TX);
	lab_count(eng, NULL, RL_LEDGER_COPIED, (uint64_t)made * (b->tlen - b->thdr),
	          RL_DIR_TX);
	lua_pushinteger(L, made);
	return 1;
}

/* ---- moving it: bt:tx(), bt:rx() ------------------------------------------ */

static void same_engine(lua_State *L, struct lab_engine *eng, const char *what)
{
	struct lab_engine *other;

	if (lua_isnoneornil(L, 2))
		return;
	other = lab_check_engine(L, 2);
	if (other != eng)
		luaL_error(L,
		           "%s: this batch lives in engine %s's region, not %s's "
		           "- a batch moves frames of its own engine",
		           what, eng->name, other->name);
}

/* bt:tx([e]): queue the held packets; the unsent stay in the batch. */
static int batch_tx(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_batch *b = batch_engine(L, "tx", &eng, &r);
	struct rl_err err;
	uint32_t before = b->n;
	int ret;

	same_engine(L, eng, "tx");
	if (!eng->ops->tx)
		return luaL_error(L, "tx: this engine cannot tx");
	if (!b->nd) {
		lua_pushinteger(L, 0);
		return 1;
	}
	rl_err_clear(&err);
	ret = eng->ops->tx(eng->e, b->d, b->nd, &err);
	if (ret < 0)
		return lab_raise(L, "tx", &err);
	lab_pcap_write(eng, b->d, (uint32_t)ret, RL_DIR_TX);
	if ((uint32_t)ret < b->nd) {
		memmove(b->d, b->d + ret, (b->nd - (uint32_t)ret) * sizeof(*b->d));
		memmove(b->rxd, b->rxd + ret, b->nd - (uint32_t)ret);
		b->nd -= (uint32_t)ret;
		index_packets(b);
	} else {
		b->nd = b->n = 0;
	}
	lua_pushinteger(L, before - b->n);
	return 1;
}

/* bt:rx([e]): receive whole packets into the free room; returns how many. */
static int batch_rx(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_batch *b = batch_engine(L, "rx", &eng, &r);
	uint32_t before = b->n;
	struct rl_err err;
	int ret;

	same_engine(L, eng, "rx");
	if (!eng->ops->rx)
		return luaL_error(L, "rx: this engine cannot rx");
	if (b->nd == b->cap)
		return luaL_error(L,
		                  "rx: the batch is full (%d frames) - bt:release() or "
		                  "bt:tx() first",
		                  (int)b->cap);
	rl_err_clear(&err);
	ret = eng->ops->rx(eng->e, b->d + b->nd, b->cap - b->nd, &err);
	if (ret < 0)
		return lab_raise(L, "rx", &err);
	lab_pcap_write(eng, b->d + b->nd, (uint32_t)ret, RL_DIR_RX);
	memset(b->rxd + b->nd, 1, (uint32_t)ret);
	for (uint32_t i = b->nd; i < b->nd + (uint32_t)ret; i++)
		if (i == 0 || !(b->d[i - 1].options & RL_DESC_CONTD))
			b->start[b->n++] = i;
	b->nd += (uint32_t)ret;
	lua_pushinteger(L, b->n - before);
	return 1;
}

/* bt:release(): every held frame back to the pool; returns packets. */
static int batch_release(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_batch *b = batch_engine(L, "release", &eng, &r);
	uint32_t n = b->n;

	release_all(b, r);
	lua_pushinteger(L, n);
	return 1;
}

/* ---- looking at it ---------------------------------------------------- */

static int batch_count(lua_State *L)
{
	lua_pushinteger(L, check_batch(L, 1)->n);
	return 1;
}

static int batch_plen(lua_State *L)
{
	struct lab_batch *b = check_batch(L, 1);
	uint32_t nseg;

	lua_pushinteger(L, pkt_len(b, check_index(L, b, 2, "len"), &nseg));
	return 1;
}

static int batch_dissect(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_batch *b = batch_engine(L, "dissect", &eng, &r);
	uint32_t p = check_index(L, b, 2, "dissect");
	struct rl_dissect d;
	unsigned nseg;
	struct rl_iov *v = pkt_pieces(L, b, eng, p, &nseg, "dissect");

	(void)r;
	rl_dissect(v, nseg, &d);
	if ((d.layers & (RL_L_ICMP | RL_L_TCP)) || ((d.layers & RL_L_UDP) && d.udp_csum))
		lab_count(eng, NULL, RL_LEDGER_TOUCHED, d.payload_len, pkt_dir(b, p));
	lab_push_dissect(L, &d, nseg);
	return 1;
}

/* bt:payload(i): the bytes after the headers, as a string (copied). */
static int batch_payload(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_batch *b = batch_engine(L, "payload", &eng, &r);
	uint32_t p = check_index(L, b, 2, "payload");
	struct rl_iov *v;
	struct rl_dissect d;
	unsigned nseg;
	luaL_Buffer lb;
	size_t off, left, pos = 0, len;
	char *out;

	(void)r;
	v = pkt_pieces(L, b, eng, p, &nseg, "payload");
	rl_dissect(v, nseg, &d);
	off = d.payload_off;
	left = len = d.payload_len;
	/* the room first: allocating may run a finalizer that closes the
	 * engine, and nothing allocates while region bytes are copied */
	out = luaL_buffinitsize(L, &lb, len);
	lab_check_open(L, eng, "payload");
	for (unsigned i = 0; i < nseg && left; pos += v[i].len, i++) {
		size_t skip, take;

		if (off >= pos + v[i].len)
			continue;
		skip = off > pos ? off - pos : 0;
		take = v[i].len - skip < left ? v[i].len - skip : left;
		memcpy(out + (len - left), (const char *)v[i].base + skip, take);
		off += take;
		left -= take;
	}
	luaL_pushresultsize(&lb, len - left);
	lab_count(eng, NULL, RL_LEDGER_COPIED, lua_rawlen(L, -1), pkt_dir(b, p));
	return 1;
}

/* bt:frames(): the frame numbers held, in order (for owner lessons). */
static int batch_frames(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_batch *b = batch_engine(L, "frames", &eng, &r);

	lua_createtable(L, (int)b->nd, 0);
	for (uint32_t i = 0; i < b->nd; i++) {
		lua_pushinteger(L, rl_region_frame(r, b->d[i].addr));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* Collector and <close>: give back what is held if the engine is open. */
static int batch_gc(lua_State *L)
{
	struct lab_batch *b = check_batch(L, 1);
	struct rl_region *r;

	if (b->nd && (r = lab_handle_region_if_open(L, 1)))
		release_all(b, r);
	return 0;
}

static int batch_tostring(lua_State *L)
{
	struct lab_batch *b = check_batch(L, 1);

	lua_pushfstring(L, "batch: %d packets in %d of %d frames", (int)b->n, (int)b->nd,
	                (int)b->cap);
	return 1;
}

static const luaL_Reg batch_methods[] = {
    {"udp", batch_udp},         {"tx", batch_tx},
    {"rx", batch_rx},           {"release", batch_release},
    {"count", batch_count},     {"len", batch_plen},
    {"dissect", batch_dissect}, {"payload", batch_payload},
    {"frames", batch_frames},   {NULL, NULL},
};

/* The batch metatable, and lab.batch on the table at -1. */
void lab_batch_register(lua_State *L)
{
	/* bt:tx, bt:rx, bt:release run no Lua code, nor bt:udp() without a
	 * spec (argument 2): the fast way in (lab_call_fast) */
	static const luaL_Reg fast[] = {{"udp", batch_udp},
	                                {"tx", batch_tx},
	                                {"rx", batch_rx},
	                                {"release", batch_release},
	                                {NULL, NULL}};
	static const int nilarg[] = {2, 0, 0, 0};

	lab_handle_mt(L, LAB_BATCH_MT, batch_methods, batch_gc, batch_count, batch_tostring);
	lab_handle_key(L, LAB_BATCH_MT, &batch_key);
	lab_fast_methods(L, LAB_BATCH_MT, fast, nilarg);
	lab_pushcfunction(L, lab_batch_new, "batch");
	lua_setfield(L, -2, "batch");
}
