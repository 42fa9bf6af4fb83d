/*
 * lab/segment.c - lab.segment(data, opts): data larger than one MTU turned
 * into packets by rl_segment() (core/segment.c), and the segs handle that
 * sends them.
 *
 * The data is a Lua string (copy, reuse: copied into frames; extbuf: sent
 * where it lies), app memory from lab.appmem() (the same), a buffer from
 * r:alloc() or {buffer, off, len} (born, sg, gso, ...). The segs handle
 * keeps its engine (uservalue 1), its buffer (uservalue 2: born and sg
 * descriptors point into the buffer's frames) and extbuf's data (uservalue
 * 3, registered with the engine, see lab/appmem.c) alive. It counts in the
 * buffer's segs until segs:free() or the collector: b:free() is refused
 * meanwhile (lab/region.c).
 *
 * extbuf, gso and tso packets go through the engine's tx_x (engine ABI 2),
 * one packet per call: extbuf's app-memory descriptors carry the data's pin
 * as cookie, gso hands the engine one large packet with gso_mss = mss, tso
 * the same with RL_TX_TSO (the NIC cuts it). So do the packets of any
 * strategy with csum="offload" on an engine whose NIC fills checksums
 * (RL_CAP_CSUM: the sim with csum=true), with RL_TX_CSUM. What the
 * engine's GSO does for the segs when they are handed over (a copy of the
 * headers for every wire segment, checksums read) is added to the segs'
 * own ledger; what a NIC does later on the wire (TSO's headers) is the
 * engine's alone.
 *
 * Sending follows rl_segs_ready(): segs:tx(e) queues what may go now - on
 * an engine where a frame may be in several descriptors (RL_CAP_SHARED:
 * sim, afxdp) every segment at once, elsewhere a segment sharing a frame
 * with the previous one waits for its completion; segs:send(e) loops
 * ready -> tx -> kick -> complete until every segment went and every frame
 * is back (64 KiB of sg: one round where frames are shared, 46 where not).
 * Each call counts into the engine's ledger and the segs' own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shell.h"

#define SEGS_MT "ringlab.segs"

struct lab_segs {
	struct rl_segs s;
	uint32_t next; /* the next segment to queue */
	uint64_t sent; /* segments queued, over every send */
	struct rl_ledger ledger;
	struct lab_extpin *pin; /* extbuf: the data's pin */
	struct lab_buffer *buf; /* the buffer (uservalue 2) it counts in, or NULL */
	bool nic_csum; /* csum="offload" on an engine whose NIC fills them */
};

static const char *const seg_keys[] = {
    "proto", "mss",    "strategy", "src", "dst",    "src_mac", "dst_mac", "seq",
    "ack",   "window", "flags",    "urg", "wscale", "sack_ok", "ts_val",  "ts_ecr",
    "csum",  "region", "engine",   "ttl", "id",     "max",     NULL,
};

/* The bit of seg_keys[i] in the set of keys given (seg_keys' order). */
enum {
	K_PROTO = 1u << 0, K_MSS = 1u << 1, K_STRATEGY = 1u << 2, K_SRC = 1u << 3,
	K_DST = 1u << 4, K_SRC_MAC = 1u << 5, K_DST_MAC = 1u << 6, K_SEQ = 1u << 7,
	K_ACK = 1u << 8, K_WINDOW = 1u << 9, K_FLAGS = 1u << 10, K_URG = 1u << 11,
	K_WSCALE = 1u << 12, K_SACK_OK = 1u << 13, K_TS_VAL = 1u << 14,
	K_TS_ECR = 1u << 15, K_CSUM = 1u << 16, K_REGION = 1u << 17,
	K_ENGINE = 1u << 18, K_TTL = 1u << 19, K_ID = 1u << 20, K_MAX = 1u << 21,
	K_ALL = (1u << 22) - 1,
	K_TCP = K_SEQ | K_ACK | K_WINDOW | K_FLAGS | K_URG | K_WSCALE | K_SACK_OK |
	        K_TS_VAL | K_TS_ECR,
};

/* The options as a set (a table in the registry, made by
 * lab_segment_register, each name's value its bit): one hash lookup per
 * option given instead of a strcmp against up to 22 names. Returns the
 * keys given, so that those left out are not looked up one by one (a call
 * of lab.segment was about a microsecond of option reading before it cut
 * anything): their defaults are taken. A table with a metatable (an
 * __index may answer for keys it does not hold, and run Lua) gets K_ALL:
 * every key is read with lua_getfield, as before. */
static uint32_t check_seg_keys(lua_State *L, int t)
{
	uint32_t given = 0;
	int set;

	lua_rawgetp(L, LUA_REGISTRYINDEX, seg_keys);
	set = lua_gettop(L);
	for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
		lua_Integer bit;

		lua_pushvalue(L, -2); /* a copy: the key itself stays for lua_next */
		lua_rawget(L, set);
		bit = lua_tointeger(L, -1); /* 0: not an option */
		lua_pop(L, 1);
		if (!bit)
			luaL_error(
			    L,
			    "segment: unknown option '%s' - use proto, mss, "
			    "strategy, src, dst, src_mac, dst_mac, seq, ack, window, "
			    "flags, ts_val, ts_ecr, csum, region, engine, ttl, id, max",
			    luaL_tolstring(L, -2, NULL));
		given |= (uint32_t)bit;
	}
	lua_pop(L, 1);
	if (lua_getmetatable(L, t)) {
		lua_pop(L, 1);
		given = K_ALL;
	}
	return given;
}

/* The engine from engine=, region= or the buffer, pushed; all must agree. */
static struct lab_engine *seg_engine(lua_State *L, int t, int bidx, uint32_t given)
{
	void *eng = NULL;
	int at = 0;

	if (bidx) {
		lab_handle_engine(L, bidx, "segment");
		eng = lua_touserdata(L, -1);
		at = lua_gettop(L);
	}
	if ((given & K_REGION) && lua_getfield(L, t, "region") != LUA_TNIL) {
		if (!luaL_testudata(L, -1, LAB_REGION_MT))
			luaL_error(L,
			           "segment: region= must be a region from e:region{}, "
			           "not a %s",
			           luaL_typename(L, -1));
		lab_handle_engine(L, lua_gettop(L), "segment");
		if (eng && lua_touserdata(L, -1) != eng)
			luaL_error(L,
			           "segment: the data lives in another engine's region "
			           "than region= - use one engine");
		eng = lua_touserdata(L, -1);
		at = lua_gettop(L);
	}
	if ((given & K_ENGINE) && lua_getfield(L, t, "engine") != LUA_TNIL) {
		lab_check_engine(L, -1);
		if (eng && lua_touserdata(L, -1) != eng)
			luaL_error(L, "segment: engine= is not the engine of the data's "
			              "region - use one engine");
		eng = lua_touserdata(L, -1);
		at = lua_gettop(L);
	}
	if (!eng) {
		lab_default_engine(L, "segment",
		                   "region=r or engine=e (at the prompt: use NAME)");
		return lua_touserdata(L, -1);
	}
	lua_pushvalue(L, at);
	return eng;
}

/* The addresses once the engine (at eidx) is known: on a kernel interface
 * those left out are the interface's own and the neighbour's (lab/addr.c,
 * which may run Lua); elsewhere the lab's made-up ones. dst is parsed. */
static void seg_flow(lua_State *L, int t, struct rl_seg_params *p, int eidx,
                     uint32_t given)
{
	static const uint8_t lab_src_mac[6] = {2, 0, 0, 0, 0, 1},
	                     lab_dst_mac[6] = {2, 0, 0, 0, 0, 2};
	struct rl_flow *f = &p->flow;
	bool want_dst = !((given & K_DST_MAC) && lab_field_has(L, t, "dst_mac"));
	struct lab_wire w = {0};
	char src[32];

	if (want_dst || !((given & K_SRC) && lab_field_has(L, t, "src")) ||
	    !((given & K_SRC_MAC) && lab_field_has(L, t, "src_mac")))
		if (lab_wire_addresses(L, eidx, "segment", f->dst_ip, want_dst, &w))
			given = K_ALL; /* Lua ran: the options may have changed */
	if (given & K_SRC) {
		if (w.src_ip[0])
			snprintf(src, sizeof(src), "%s:%u", w.src_ip,
			         p->proto == RL_IPPROTO_TCP ? 40000 : 9000);
		lab_field_addr(L, t, "segment", "src",
		               w.src_ip[0]                        ? src
		               : p->proto == RL_IPPROTO_TCP ? "198.18.0.1:40000"
		                                            : "198.18.0.1:9000",
		               true, &f->src_ip, &f->src_port);
	} else { /* the lab's made-up address (no interface: w is empty) */
		f->src_ip = 0xc6120001u; /* 198.18.0.1 */
		f->src_port = p->proto == RL_IPPROTO_TCP ? 40000 : 9000;
	}
	if (given & K_SRC_MAC)
		lab_field_mac(L, t, "segment", "src_mac",
		              w.src_mac[0] ? w.src_mac : "02:00:00:00:00:01", f->src_mac);
	else
		memcpy(f->src_mac, lab_src_mac, 6);
	if (given & K_DST_MAC)
		lab_field_mac(L, t, "segment", "dst_mac",
		              w.dst_mac[0] ? w.dst_mac : "02:00:00:00:00:02", f->dst_mac);
	else
		memcpy(f->dst_mac, lab_dst_mac, 6);
}

/* Each reads what was given (a key left out is its default, not looked
 * up); nothing here runs Lua on a table without a metatable. */
static void seg_ip_fields(lua_State *L, int t, struct rl_seg_params *p, uint32_t given)
{
	struct rl_flow *f = &p->flow;

	lab_field_addr(L, t, "segment", "dst", NULL, true, &f->dst_ip, &f->dst_port);
	f->ttl = given & K_TTL ? lab_field_ttl(L, t, "segment") : 64;
	f->ip_id = given & K_ID
	               ? (uint16_t)lab_field_int(L, t, "segment", "id", 0, 65535)
	               : 0;
}

static void seg_params(lua_State *L, int t, struct rl_seg_params *p, uint32_t given)
{
	const char *proto =
	    given & K_PROTO ? lab_field_str(L, t, "segment", "proto", "tcp") : "tcp";
	const char *st =
	    given & K_STRATEGY ? lab_field_str(L, t, "segment", "strategy", "copy")
	                       : "copy";
	struct rl_err err;

	memset(p, 0, sizeof(*p));
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		luaL_error(L,
		           "segment: proto=%s cannot be segmented - use \"tcp\" or "
		           "\"udp\"",
		           proto);
	p->proto = proto[0] == 't' ? RL_IPPROTO_TCP : RL_IPPROTO_UDP;
	rl_err_clear(&err);
	if (rl_seg_strategy_parse(st, &p->strategy, &err) < 0)
		lab_raise(L, "segment", &err);
	p->mss = (uint32_t)lab_field_int(L, t, "segment", "mss",
	                                 p->proto == RL_IPPROTO_TCP ? 1448 : 1472, 65535);
	p->max = given & K_MAX
	             ? (uint32_t)lab_field_int(L, t, "segment", "max", 0, 65535)
	             : 0;
	seg_ip_fields(L, t, p, given);
	if (p->proto == RL_IPPROTO_TCP && (given & K_TCP))
		lab_field_tcp(L, t, "segment", 0, NULL, &p->tcp);
	else if (p->proto == RL_IPPROTO_TCP) /* lab_field_tcp's defaults */
		p->tcp.window = 65535; /* the rest zero (memset above) */
	p->csum = !(given & K_CSUM) || lab_field_csum(L, t, "segment") ? RL_CSUM_SOFTWARE
	                                                                : RL_CSUM_PARTIAL;
}

/* The span of the buffer at bidx to send: {buffer, off, len} at index 1,
 * else all of it; checked inside the buffer. Reads the table with lua_geti
 * (an __index may run Lua): nothing of the engine is held across it. */
static void seg_span(lua_State *L, int bidx, lua_Integer *off, lua_Integer *n)
{
	const struct lab_buffer *b;

	*off = 0;
	*n = 0;
	if (!bidx)
		return;
	b = lua_touserdata(L, bidx); /* anchored on the stack */
	*n = (lua_Integer)b->len;
	if (!lua_istable(L, 1))
		return;
	lua_geti(L, 1, 2);
	*off = luaL_optinteger(L, -1, 0);
	lua_geti(L, 1, 3);
	*n = luaL_optinteger(L, -1, (lua_Integer)b->len - *off);
	lua_pop(L, 2);
	if (*off < 0 || *n < 0 || (uint64_t)*off > b->len ||
	    (uint64_t)*n > b->len - (uint64_t)*off)
		luaL_error(L,
		           "segment: {buffer, %I, %I} runs past the end of the "
		           "%I-byte buffer - stay inside it",
		           *off, *n, (lua_Integer)b->len);
}

/* The data at index 1 as a pointer and length (a buffer's span from
 * seg_span); runs no Lua, so r stays valid for the caller. */
static const void *seg_data(lua_State *L, struct rl_region *r, uint64_t *len, int bidx,
                            lua_Integer off, lua_Integer n)
{
	const struct lab_buffer *b;

	if (lua_type(L, 1) == LUA_TSTRING) {
		size_t sl;
		const char *s = lua_tolstring(L, 1, &sl);

		*len = sl;
		return s;
	}
	if (lab_test_appmem(L, 1)) {
		struct lab_appmem *m = lab_test_appmem(L, 1);

		*len = m->len;
		return m->base;
	}
	b = lua_touserdata(L, bidx);
	if (b->freed)
		luaL_error(L, "segment: the buffer was freed - allocate a new one");
	*len = (uint64_t)n;
	return rl_region_ptr(r, b->addr + (uint64_t)off);
}

/* Index of the buffer the data is (or starts a table with), or 0. */
static int seg_buffer(lua_State *L)
{
	if (lab_test_buffer(L, 1))
		return 1;
	if (lua_istable(L, 1)) {
		lua_geti(L, 1, 1);
		if (lab_test_buffer(L, -1))
			return lua_gettop(L);
		luaL_error(L, "segment: a table must be {buffer, off, len} with a buffer "
		              "from r:alloc()");
	}
	if (lua_type(L, 1) != LUA_TSTRING && !lab_test_appmem(L, 1))
		luaL_error(L,
		           "segment: give a string, app memory from lab.appmem(), a "
		           "buffer from r:alloc() or {buffer, off, len}, not a %s",
		           luaL_typename(L, 1));
	return 0;
}

static void born_from_string(lua_State *L, const struct rl_seg_params *p)
{
	if (p->strategy == RL_SEG_BORN || p->strategy == RL_SEG_SG ||
	    p->strategy == RL_SEG_TSO || p->strategy == RL_SEG_GSO)
		luaL_error(L,
		           "segment: strategy %s sends data where it lies in the region, "
		           "and a string is not there - allocate it with r:alloc(n), or "
		           "use strategy copy, reuse or extbuf",
		           rl_seg_strategy_name(p->strategy));
}

/* The parts of an engine's why ("no tso: ...; no csum offload: ...") that
 * name what, in place; all of it when none does. */
static const char *why_about(char *why, const char *what)
{
	char out[RL_ERR_MSG_MAX] = "";

	for (char *part = why, *end; part && *part; part = end ? end + 2 : NULL) {
		end = strstr(part, "; ");
		if (end)
			*end = '\0';
		if (strstr(part, what)) {
			size_t at = strlen(out), n = strlen(part);

			if (at && at + 2 < sizeof(out)) {
				memcpy(out + at, "; ", 2);
				at += 2;
			}
			if (n > sizeof(out) - 1 - at)
				n = sizeof(out) - 1 - at;
			memcpy(out + at, part, n);
			out[at + n] = '\0';
		}
		if (end)
			*end = ';';
	}
	if (out[0])
		memcpy(why, out, strlen(out) + 1);
	return why;
}

/* extbuf, gso and tso need the engine's tx_x and its word for it. */
static uint32_t engine_can(lua_State *L, struct lab_engine *eng, struct rl_seg_params *p)
{
	bool x = eng->ops->tx_x != NULL;
	char why[RL_ERR_MSG_MAX] = "";
	/* the engine's why (words an engine may print on every call) only
	 * when a strategy it is open without asks for it */
	uint32_t caps = lab_engine_caps(eng, NULL, 0);

	p->engine_tso = (caps & RL_CAP_TSO) != 0;
	p->engine_extbuf = x && eng->ops->ext_register && eng->ops->ext_freed &&
	                   (caps & RL_CAP_EXTBUF);
	p->engine_gso = x && (caps & RL_CAP_GSO);
	p->engine_unaligned = (caps & RL_CAP_UNALIGNED) != 0;
	p->engine_shared = (caps & RL_CAP_SHARED) != 0;
	p->engine_tso = p->engine_tso && x;
	/* the engine can, but not as it is open now: its own words */
	if (((p->strategy == RL_SEG_EXTBUF && !p->engine_extbuf &&
	                (eng->ops->caps & RL_CAP_EXTBUF)) ||
	               (p->strategy == RL_SEG_GSO && !p->engine_gso &&
	                (eng->ops->caps & RL_CAP_GSO)) ||
	               (p->strategy == RL_SEG_TSO && !p->engine_tso &&
	                (eng->ops->caps & RL_CAP_TSO)) ||
	               (p->strategy == RL_SEG_SG && !(caps & RL_CAP_SG) &&
	                (eng->ops->caps & RL_CAP_SG))) &&
	    (lab_engine_caps(eng, why, sizeof(why)), why[0]))
		luaL_error(L, "segment: strategy %s on this %s engine: %s",
		           rl_seg_strategy_name(p->strategy), eng->ops->name,
		           why_about(why, rl_seg_strategy_name(p->strategy)));
	if (p->strategy == RL_SEG_EXTBUF && !p->engine_extbuf)
		luaL_error(L,
		           "segment: this engine (%s) cannot send app memory outside its "
		           "region (extbuf is DPDK's external mbufs) - use strategy sg/"
		           "born/copy",
		           eng->ops->name);
	if (p->strategy == RL_SEG_GSO && !p->engine_gso)
		luaL_error(L,
		           "segment: this engine (%s) cannot cut one large TCP packet in "
		           "software (gso is DPDK's rte_gso_segment) - use strategy sg/"
		           "born/copy",
		           eng->ops->name);
	return caps;
}

static int lab_segment(lua_State *L)
{
	struct rl_seg_params p;
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_segs *sg;
	const void *data;
	uint64_t len;
	struct rl_err err;
	lua_Integer off, n;
	uint32_t given, caps;
	int bidx, eidx;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	given = check_seg_keys(L, 2); /* raw: runs no Lua */
	bidx = seg_buffer(L);
	if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
		lua_pop(L, 1); /* {buffer, ...}'s __index ran Lua: read every key */
		given = K_ALL;
	}
	seg_params(L, 2, &p, given);
	if (!bidx)
		born_from_string(L, &p);
	eng = seg_engine(L, 2, bidx, given);
	eidx = lua_gettop(L);
	seg_flow(L, 2, &p, eidx, given); /* may run Lua (neighbour resolution) */
	seg_span(L, bidx, &off, &n); /* may run Lua ({buffer, off, n}'s __index) */
	sg = lua_newuserdatauv(L, sizeof(*sg), 3); /* may run a finalizer */
	memset(sg, 0, sizeof(*sg));
	luaL_setmetatable(L, SEGS_MT); /* from here on __gc frees what it holds */
	lua_pushvalue(L, eidx);
	lua_setiuservalue(L, -2, 1);
	/* Lua may have run above: what was read before is read again here,
	 * and from here to rl_segment nothing runs Lua */
	r = lab_engine_region(L, lab_check_open(L, eng, "segment"), "segment");
	caps = engine_can(L, eng, &p);
	data = seg_data(L, r, &len, bidx, off, n);
	rl_err_clear(&err);
	if (rl_segment(&sg->s, r, data, len, &p, &sg->ledger, &err) < 0)
		return lab_raise(L, "segment", &err);
	if (p.strategy == RL_SEG_EXTBUF) {
		lua_pushvalue(L, 1);
		lua_setiuservalue(L, -2, 3);
		sg->pin = lab_extpin_new(L, eng, data, len, lab_test_appmem(L, 1));
	}
	if (lab_engine_ledger(eng))
		rl_ledger_add(lab_engine_ledger(eng), &sg->ledger);
	sg->nic_csum = p.csum == RL_CSUM_PARTIAL && eng->ops->tx_x && (caps & RL_CAP_CSUM);
	if (bidx) {
		lua_pushvalue(L, bidx);
		lua_setiuservalue(L, -2, 2);
		/* its descriptors point into the buffer: b:free() waits for
		 * segs:free() (or the collector) */
		sg->buf = lua_touserdata(L, bidx);
		sg->buf->segs++;
	}
	return 1;
}

/* ---- the segs handle ------------------------------------------------------- */

static struct lab_segs *check_segs(lua_State *L, const char *what)
{
	struct lab_segs *sg = luaL_checkudata(L, 1, SEGS_MT);

	if (!sg->s.segs)
		luaL_error(L, "%s: these segments were freed - segment the data again",
		           what);
	lab_handle_engine(L, 1, what);
	lua_pop(L, 1);
	if (lua_getiuservalue(L, 1, 2) != LUA_TNIL &&
	    ((struct lab_buffer *)lua_touserdata(L, -1))->freed)
		luaL_error(L,
		           "%s: the buffer these segments point into was freed - "
		           "keep it until they are sent",
		           what);
	lua_pop(L, 1);
	return sg;
}

/* The engine argument at idx: must be the segments' own. */
static struct lab_engine *segs_arg_engine(lua_State *L, int idx, const char *what)
{
	struct lab_engine *eng = lab_check_engine(L, idx);

	lua_getiuservalue(L, 1, 1);
	if (lua_touserdata(L, -1) != (void *)eng)
		luaL_error(L,
		           "%s: these segments were built in another engine's region "
		           "- send them on that engine",
		           what);
	lua_pop(L, 1);
	return eng;
}

static bool via_tx_x(const struct lab_segs *sg)
{
	enum rl_seg_strategy st = sg->s.params.strategy;

	return st == RL_SEG_EXTBUF || st == RL_SEG_GSO || st == RL_SEG_TSO || sg->nic_csum;
}

#define X_MAX 128 /* descriptors of one extbuf or gso packet, at most */

/* extbuf, gso, tso, NIC checksums: segments [from, from+n) one packet per
 * tx_x call. */
static uint32_t segs_queue_x(lua_State *L, struct lab_segs *sg, struct lab_engine *eng,
                             const char *what, uint32_t from, uint32_t n)
{
	const struct rl_segs *s = &sg->s;
	bool tso = s->params.strategy == RL_SEG_TSO;
	bool cut = tso || s->params.strategy == RL_SEG_GSO;
	struct rl_tx_opts o = {
	    .gso_mss = cut ? (uint16_t)s->params.mss : 0,
	    .flags = (uint16_t)((tso ? RL_TX_TSO : 0) | (sg->nic_csum ? RL_TX_CSUM : 0)),
	};
	struct rl_xdesc x[X_MAX];
	uint32_t k;

	for (k = 0; k < n; k++) {
		const struct rl_seg *g = &s->segs[from + k];
		const struct rl_desc *d = &s->descs[g->desc];
		struct rl_ledger *el = lab_engine_ledger(eng),
		                 before = el ? *el : (struct rl_ledger){0};
		struct rl_err err;
		uint32_t ext = 0;
		int ret;

		if (g->ndesc > X_MAX)
			luaL_error(
			    L,
			    "%s: a packet of %d descriptors - at most %d (use a smaller "
			    "max=)",
			    what, (int)g->ndesc, X_MAX);
		for (uint32_t i = 0; i < g->ndesc; i++) {
			x[i] = (struct rl_xdesc){
			    .addr = d[i].addr, .len = d[i].len, .options = d[i].options};
			if (d[i].options & RL_DESC_EXT) {
				x[i].addr = RL_ADDR_NONE;
				x[i].va = s->ext + d[i].addr;
				x[i].cookie = (uint64_t)(uintptr_t)sg->pin;
				ext++;
			}
		}
		rl_err_clear(&err);
		ret = eng->ops->tx_x(eng->e, x, g->ndesc, &o, &err);
		if (ret == -ENOSPC)
			break;
		if (ret < 0)
			lab_raise(L, what, &err);
		if (ext) {
			sg->pin->sent += ext;
			sg->pin->out += ext;
		}
		lab_pcap_write_x(eng, x, g->ndesc);
		if (el) { /* what the engine's GSO did for these segments: tx */
			rl_ledger_count(&sg->ledger, RL_LEDGER_HEADERS,
			                el->headers - before.headers, RL_DIR_TX);
			rl_ledger_count(&sg->ledger, RL_LEDGER_TOUCHED,
			                el->touched - before.touched, RL_DIR_TX);
		}
	}
	sg->sent += k;
	return k;
}

/* Queue up to max segments from segment `from` that are ready now;
 * returns segments queued (0 when the ring is full). */
static uint32_t segs_queue_at(lua_State *L, struct lab_segs *sg, struct lab_engine *eng,
                              const char *what, uint32_t from, uint32_t max)
{
	struct rl_segs *s = &sg->s;
	uint32_t n = rl_segs_ready(s, from), nd, k = 0;
	const struct rl_desc *d;
	struct rl_err err;
	int ret;

	if (n > max)
		n = max;
	if (n == 0)
		return 0;
	if (via_tx_x(sg))
		return segs_queue_x(L, sg, eng, what, from, n);
	if (!eng->ops->tx)
		luaL_error(L, "%s: this engine cannot tx", what);
	nd = rl_segs_ndescs(s, from, n);
	d = &s->descs[s->segs[from].desc];
	rl_err_clear(&err);
	ret = eng->ops->tx(eng->e, d, nd, &err);
	if (ret == -ENOSPC)
		return 0;
	if (ret < 0)
		lab_raise(L, what, &err);
	lab_pcap_write(eng, d, (uint32_t)ret, RL_DIR_TX);
	while (k < n && ret >= (int)s->segs[from + k].ndesc)
		ret -= (int)s->segs[from + k++].ndesc;
	sg->sent += k;
	return k;
}

/* Queue what is ready now from the cursor, and move it. */
static uint32_t segs_queue(lua_State *L, struct lab_segs *sg, struct lab_engine *eng,
                           const char *what)
{
	uint32_t k = segs_queue_at(L, sg, eng, what, sg->next, UINT32_MAX);

	sg->next += k;
	return k;
}

/* segs:tx(e) queues what is ready from the cursor on; segs:tx(e, i [, n])
 * queues up to n ready segments from segment i (1-based) and leaves the
 * cursor alone - how a TCP sends what its window allows, and retransmits. */
static int segs_tx(lua_State *L)
{
	struct lab_segs *sg = check_segs(L, "tx");
	struct lab_engine *eng = segs_arg_engine(L, 2, "tx");
	lua_Integer i, n;

	if (lua_isnoneornil(L, 3)) {
		lua_pushinteger(L, segs_queue(L, sg, eng, "tx"));
		return 1;
	}
	i = luaL_checkinteger(L, 3);
	n = luaL_optinteger(L, 4, (lua_Integer)sg->s.nsegs);
	if (i < 1 || i > (lua_Integer)sg->s.nsegs || n < 0)
		return luaL_error(
		    L, "tx: segment %I does not exist - give 1 .. %d (and n >= 0)", i,
		    (int)sg->s.nsegs);
	lua_pushinteger(L, segs_queue_at(L, sg, eng, "tx", (uint32_t)(i - 1),
	                                 n > UINT32_MAX ? UINT32_MAX : (uint32_t)n));
	return 1;
}

static uint32_t kick_complete(lua_State *L, struct lab_engine *eng, const char *what)
{
	struct rl_err err;
	int ret;

	rl_err_clear(&err);
	if (eng->ops->kick && eng->ops->kick(eng->e, &err) < 0)
		lab_raise(L, what, &err);
	if (!eng->ops->complete)
		luaL_error(L, "%s: this engine cannot complete", what);
	ret = eng->ops->complete(eng->e, NULL, RL_REGION_MAX_FRAMES, &err);
	if (ret < 0)
		lab_raise(L, what, &err);
	lab_ext_reap(L, eng);
	return (uint32_t)ret;
}

/* Every frame of these segments is back with the program, and every
 * reference to extbuf's app memory. */
static bool all_back(const struct lab_segs *sg)
{
	const struct rl_segs *s = &sg->s;

	if (sg->pin && sg->pin->out)
		return false;
	for (uint32_t i = 0; i < s->ndescs; i++)
		if (!(s->descs[i].options & RL_DESC_EXT) &&
		    rl_region_owner(s->region,
		                    rl_region_frame(s->region, s->descs[i].addr)) !=
		        RL_OWN_APP)
			return false;
	return true;
}

/* On a port that hands the sent buffers themselves to the receiver
 * (net_ring0 alone receives what it sends; a peer= pair), a frame comes
 * back only once it is received: the segments are done when every frame
 * is back or waits on a receiving rx ring. *arrived: how many wait there. */
static bool all_delivered(const struct lab_segs *sg, uint32_t *arrived)
{
	const struct rl_segs *s = &sg->s;
	uint32_t rx = 0, away = 0;

	for (uint32_t i = 0; i < s->ndescs; i++) {
		enum rl_owner o;

		if (s->descs[i].options & RL_DESC_EXT)
			continue;
		o = rl_region_owner(s->region, rl_region_frame(s->region, s->descs[i].addr));
		if (o == RL_OWN_RX)
			rx++;
		else if (o != RL_OWN_APP)
			away++;
	}
	*arrived = rx;
	/* extbuf's app memory travels attached to its header frames */
	return !away && (!(sg->pin && sg->pin->out) || rx > 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int segs_send(lua_State *L)
{
	struct lab_segs *sg = check_segs(L, "send");
	struct lab_engine *eng = segs_arg_engine(L, 2, "send");
	uint32_t start = sg->next;
	double idle = now_s();
	uint32_t arrived = 0;

	while (sg->next < sg->s.nsegs || !all_back(sg)) {
		uint32_t q;

		if (sg->next == sg->s.nsegs && all_delivered(sg, &arrived) && arrived)
			break; /* sent, and received where they went: e:rx() takes them */
		q = segs_queue(L, sg, eng, "send");
		if (q + kick_complete(L, eng, "send") > 0)
			idle = now_s();
		/* nothing in flight but what waits to be received: no use
		 * waiting; and after 2 s, if some of it does */
		else if (all_delivered(sg, &arrived) ? arrived > 0
		                                     : now_s() - idle > 2.0 && arrived > 0)
			return luaL_error(
			    L,
			    "send: %d of %d segments sent, and %d of their frames wait "
			    "on a receiving rx ring: this port "
			    "hands the sent buffers to the receiver (net_ring), so "
			    "they are free again only once received - e:rx() them "
			    "(recv), then segs:send(e) again",
			    (int)sg->next, (int)sg->s.nsegs, (int)arrived);
		else if (now_s() - idle > 2.0)
			return luaL_error(
			    L,
			    "send: the engine made no progress for 2 s with %d of %d "
			    "segments sent - an engine opened with step=true moves "
			    "only on step (e:step()); else is the tx ring full with "
			    "nothing completing, or is the peer gone? (e:rings(), "
			    "e:owners())",
			    (int)sg->next, (int)sg->s.nsegs);
	}
	lua_pushinteger(L, sg->next - start);
	return 1;
}

/* segs:ready([i]): segments that can be queued now from the cursor (or
 * from segment i). */
static int segs_ready(lua_State *L)
{
	struct lab_segs *sg = check_segs(L, "ready");
	lua_Integer i = luaL_optinteger(L, 2, (lua_Integer)sg->next + 1);

	if (i < 1 || i > (lua_Integer)sg->s.nsegs + 1)
		return luaL_error(L, "ready: segment %I does not exist - give 1 .. %d", i,
		                  (int)sg->s.nsegs);
	lua_pushinteger(L, i > (lua_Integer)sg->s.nsegs
	                       ? 0
	                       : rl_segs_ready(&sg->s, (uint32_t)(i - 1)));
	return 1;
}

static int segs_len(lua_State *L)
{
	lua_pushinteger(L, ((struct lab_segs *)luaL_checkudata(L, 1, SEGS_MT))->s.nsegs);
	return 1;
}

static int segs_next_seq(lua_State *L)
{
	lua_pushinteger(L, check_segs(L, "next_seq")->s.next_seq);
	return 1;
}

static int segs_ledger(lua_State *L)
{
	lab_push_ledger(L, &((struct lab_segs *)luaL_checkudata(L, 1, SEGS_MT))->ledger);
	return 1;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static int segs_info(lua_State *L)
{
	struct lab_segs *sg = check_segs(L, "info");
	const struct rl_segs *s = &sg->s;
	uint32_t shared = 0, hframes = 0;

	for (uint32_t i = 0; i < s->nsegs; i++) {
		shared += s->segs[i].shares_prev;
		hframes += s->segs[i].header_frame;
	}
	lua_createtable(L, 0, 12);
	lua_pushstring(L, rl_seg_strategy_name(s->params.strategy));
	lua_setfield(L, -2, "strategy");
	lua_pushstring(L, s->params.proto == RL_IPPROTO_TCP ? "tcp" : "udp");
	lua_setfield(L, -2, "proto");
	set_int(L, "count", s->nsegs);
	set_int(L, "len", (lua_Integer)s->len);
	set_int(L, "mss", s->params.mss);
	set_int(L, "hdr_len", s->hdr_len);
	set_int(L, "descriptors", s->ndescs);
	set_int(L, "shared", shared);
	set_int(L, "header_frames", hframes);
	set_int(L, "held_frames", s->nheld);
	set_int(L, "next", sg->next);
	set_int(L, "sent", (lua_Integer)sg->sent);
	set_int(L, "resends", s->resends);
	if (sg->pin) { /* extbuf: the app memory's references */
		set_int(L, "extbuf_sent", (lua_Integer)sg->pin->sent);
		set_int(L, "extbuf_out", (lua_Integer)sg->pin->out);
		set_int(L, "extbuf_back", (lua_Integer)sg->pin->back);
	}
	return 1;
}

/* segs:segments() -> {{off=, len=, seq=, ip_id=, descs=, header_frame=,
 * shares_prev=}, ...} */
static int segs_segments(lua_State *L)
{
	const struct rl_segs *s = &check_segs(L, "segments")->s;

	lua_createtable(L, (int)s->nsegs, 0);
	for (uint32_t i = 0; i < s->nsegs; i++) {
		const struct rl_seg *g = &s->segs[i];

		lua_createtable(L, 0, 7);
		set_int(L, "off", (lua_Integer)g->off);
		set_int(L, "len", g->len);
		set_int(L, "seq", g->seq);
		set_int(L, "ip_id", g->ip_id);
		set_int(L, "descs", g->ndesc);
		lua_pushboolean(L, g->header_frame);
		lua_setfield(L, -2, "header_frame");
		lua_pushboolean(L, g->shares_prev);
		lua_setfield(L, -2, "shares_prev");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* segs:dissect(i): segment i's packet as lab.dissect() shows it (its
 * checksum is verified: touched). */
static int segs_dissect(lua_State *L)
{
	struct lab_segs *sg = check_segs(L, "dissect");
	const struct rl_segs *s = &sg->s;
	lua_Integer i = luaL_checkinteger(L, 2);
	struct lab_engine *eng = lab_handle_engine(L, 1, "dissect");
	const struct rl_seg *g;
	struct rl_iov *v;
	struct rl_dissect d;

	if (i < 1 || i > (lua_Integer)s->nsegs)
		return luaL_error(L, "dissect: segment %I does not exist - give 1 .. %d",
		                  i, (int)s->nsegs);
	g = &s->segs[i - 1];
	v = lua_newuserdatauv(L, g->ndesc * sizeof(*v), 0);
	for (uint32_t k = 0; k < g->ndesc; k++) {
		const struct rl_desc *d = &s->descs[g->desc + k];

		v[k].base = d->options & RL_DESC_EXT ? (void *)(s->ext + d->addr)
		                                     : rl_region_ptr(s->region, d->addr);
		v[k].len = d->len;
	}
	rl_dissect(v, g->ndesc, &d);
	lab_count(eng, NULL, RL_LEDGER_TOUCHED, d.payload_len, RL_DIR_TX); /* to be sent */
	lab_push_dissect(L, &d, g->ndesc);
	return 1;
}

/* segs:resend{dst=, src=, dst_mac=, src_mac=, seq=, ack=, window=, id=} */
static int segs_resend(lua_State *L)
{
	struct lab_segs *sg = check_segs(L, "resend");
	struct rl_segs *s = &sg->s;
	struct lab_engine *eng = lab_handle_engine(L, 1, "resend");
	struct rl_flow f = s->params.flow;
	struct rl_tcp t = s->params.tcp;
	struct rl_ledger led = {0};
	struct rl_err err;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		if (lab_field_has(L, 2, "src"))
			lab_field_addr(L, 2, "resend", "src", NULL, true, &f.src_ip,
			               &f.src_port);
		if (lab_field_has(L, 2, "dst"))
			lab_field_addr(L, 2, "resend", "dst", NULL, true, &f.dst_ip,
			               &f.dst_port);
		if (lab_field_has(L, 2, "src_mac"))
			lab_field_mac(L, 2, "resend", "src_mac", NULL, f.src_mac);
		if (lab_field_has(L, 2, "dst_mac"))
			lab_field_mac(L, 2, "resend", "dst_mac", NULL, f.dst_mac);
	}
	f.ip_id = (uint16_t)lab_field_int(L, 2, "resend", "id", s->next_ip_id, 65535);
	t.seq = (uint32_t)lab_field_int(L, 2, "resend", "seq", s->next_seq, UINT32_MAX);
	t.ack = (uint32_t)lab_field_int(L, 2, "resend", "ack", t.ack, UINT32_MAX);
	t.window = (uint16_t)lab_field_int(L, 2, "resend", "window", t.window, 65535);
	/* the options' metamethods ran Lua: the segs freed, the engine closed? */
	check_segs(L, "resend");
	lab_check_open(L, eng, "resend");
	rl_err_clear(&err);
	if (rl_segs_resend(s, &f, s->params.proto == RL_IPPROTO_TCP ? &t : NULL, &led,
	                   &err) < 0)
		return lab_raise(L, "resend", &err);
	rl_ledger_add(&sg->ledger, &led);
	if (lab_engine_ledger(eng))
		rl_ledger_add(lab_engine_ledger(eng), &led);
	sg->next = 0;
	lua_pushinteger(L, s->nsegs);
	return 1;
}

/* Collector, <close> and segs:free(): give the frames back if the engine is
 * still open (otherwise its region is gone: only free the arrays). */
static int segs_gc(lua_State *L)
{
	struct lab_segs *sg = luaL_checkudata(L, 1, SEGS_MT);

	if (!lab_handle_engine_if_open(L, 1))
		sg->s.region = NULL;
	if (sg->buf) /* before the frames it held go back (region still set) */
		lab_buffer_unref(sg->buf, sg->s.region, true);
	sg->buf = NULL;
	if (sg->pin) {
		lua_getiuservalue(L, 1, 3);
		lab_extpin_drop(L, sg->pin, -1);
		sg->pin = NULL;
	}
	rl_segs_free(&sg->s);
	return 0;
}

static int segs_tostring(lua_State *L)
{
	struct lab_segs *sg = luaL_checkudata(L, 1, SEGS_MT);

	if (!sg->s.segs) {
		lua_pushstring(L, "segments (freed)");
		return 1;
	}
	lua_pushfstring(
	    L, "%d %s segments of %I bytes (%s, %d descriptors, %d sent)",
	    (int)sg->s.nsegs, sg->s.params.proto == RL_IPPROTO_TCP ? "tcp" : "udp",
	    (lua_Integer)sg->s.len, rl_seg_strategy_name(sg->s.params.strategy),
	    (int)sg->s.ndescs, (int)sg->next);
	return 1;
}

static const luaL_Reg segs_methods[] = {
    {"tx", segs_tx},
    {"send", segs_send},
    {"ready", segs_ready},
    {"next_seq", segs_next_seq},
    {"ledger", segs_ledger},
    {"info", segs_info},
    {"segments", segs_segments},
    {"dissect", segs_dissect},
    {"resend", segs_resend},
    {"free", segs_gc},
    {NULL, NULL},
};

void lab_segment_register(lua_State *L)
{
	lab_handle_mt(L, SEGS_MT, segs_methods, segs_gc, segs_len, segs_tostring);
	lua_createtable(L, 0, (int)(sizeof(seg_keys) / sizeof(seg_keys[0])));
	for (int i = 0; seg_keys[i]; i++) {
		lua_pushinteger(L, (lua_Integer)1 << i);
		lua_setfield(L, -2, seg_keys[i]);
	}
	lua_rawsetp(L, LUA_REGISTRYINDEX, seg_keys);
	lab_pushcfunction(L, lab_segment, "segment");
	lua_setfield(L, -2, "segment");
}
