/*
 * lab/region.c - the region handle (e:region{}) and buffers born in it
 * (r:alloc(n)).
 *
 * A region handle is only a way to reach the engine's region: the engine
 * owns the memory and frees it on close. r:read()/r:write() take raw region
 * addresses (checked against the region, to show what an address is).
 * A buffer is a span from rl_region_alloc(): contiguous bytes that start
 * `headroom` into their first frame, so headers can be written in front of
 * them. Its frames stay pinned until b:free() or garbage collection; b:free()
 * is refused while unsent packets or segs point into them (see struct
 * lab_buffer in shell.h). Every byte a script copies in or out is counted
 * as `copied` in the engine's ledger.
 */
#include <string.h>

#include "shell.h"

static struct rl_region *handle_region(lua_State *L, int idx, const char *what,
                                       struct lab_engine **engp)
{
	struct lab_engine *eng = lab_handle_engine(L, idx, what);

	lua_pop(L, 1);
	if (engp)
		*engp = eng;
	return lab_engine_region(L, eng, what);
}

/* Which path a copy is on. A buffer (r:alloc) is data born in the region
 * to be sent: every copy into or out of it is transmit path. Raw region
 * access by address cannot tell which packet the bytes belong to, so it
 * takes the direction of the copy: r:write into packet memory is laying
 * out data to send (tx); r:read out of it is taking data from what
 * arrived (rx). */
static void count_copied(struct lab_engine *eng, uint64_t n, enum rl_dir dir)
{
	struct rl_ledger *l = lab_engine_ledger(eng);

	if (l)
		rl_ledger_count(l, RL_LEDGER_COPIED, n, dir);
}

void lab_push_region(lua_State *L, int engine_idx)
{
	lua_newuserdatauv(L, 1, 1);
	lua_pushvalue(L, engine_idx);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, LAB_REGION_MT);
}

/* ---- region --------------------------------------------------------------- */

static int region_alloc(lua_State *L)
{
	struct lab_buffer *b;
	struct rl_region *r;
	lua_Integer len;
	uint64_t addr;
	struct rl_err err;

	luaL_checkudata(L, 1, LAB_REGION_MT);
	len = luaL_checkinteger(L, 2);
	r = handle_region(L, 1, "alloc", NULL);
	if (len < 1)
		return luaL_error(L, "alloc: %I bytes is not a size - give at least 1",
		                  len);
	rl_err_clear(&err);
	if (rl_region_alloc(r, (uint64_t)len, &addr, &err) < 0)
		return lab_raise(L, "alloc", &err);
	b = lua_newuserdatauv(L, sizeof(*b), 1);
	b->addr = addr;
	b->len = (uint64_t)len;
	b->freed = b->deferred = false;
	b->pkts = b->segs = 0;
	lua_getiuservalue(L, 1, 1);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, LAB_BUFFER_MT);
	return 1;
}

static int region_read(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	lua_Integer addr, len;
	struct rl_err err;

	luaL_checkudata(L, 1, LAB_REGION_MT);
	addr = luaL_checkinteger(L, 2);
	len = luaL_checkinteger(L, 3);
	r = handle_region(L, 1, "read", &eng);
	rl_err_clear(&err);
	if (addr < 0 || len < 0 ||
	    rl_region_check_span(r, (uint64_t)addr, (uint64_t)len, &err) < 0)
		return luaL_error(L,
		                  "read: address %I + %I bytes is outside the region (0 "
		                  ".. %I) - read inside it",
		                  addr, len, (lua_Integer)r->size);
	lua_pushlstring(L, (const char *)rl_region_ptr(r, (uint64_t)addr), (size_t)len);
	count_copied(eng, (uint64_t)len, RL_DIR_RX);
	return 1;
}

static int region_write(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	lua_Integer addr;
	size_t len;
	const char *s;
	struct rl_err err;

	luaL_checkudata(L, 1, LAB_REGION_MT);
	addr = luaL_checkinteger(L, 2);
	s = luaL_checklstring(L, 3, &len);
	r = handle_region(L, 1, "write", &eng);
	rl_err_clear(&err);
	if (addr < 0 || rl_region_check_span(r, (uint64_t)addr, len, &err) < 0)
		return luaL_error(L,
		                  "write: address %I + %I bytes is outside the region (0 "
		                  ".. %I) - write inside it",
		                  addr, (lua_Integer)len, (lua_Integer)r->size);
	memcpy(rl_region_ptr(r, (uint64_t)addr), s, len);
	count_copied(eng, len, RL_DIR_TX);
	return 0;
}

static int region_index(lua_State *L)
{
	const char *k = luaL_checkstring(L, 2);
	struct rl_region *r;

	luaL_getmetafield(L, 1, "methods");
	if (lua_getfield(L, -1, k) != LUA_TNIL)
		return 1;
	r = handle_region(L, 1, k, NULL);
	if (strcmp(k, "frames") == 0)
		lua_pushinteger(L, r->frames);
	else if (strcmp(k, "frame_size") == 0)
		lua_pushinteger(L, r->frame_size);
	else if (strcmp(k, "headroom") == 0)
		lua_pushinteger(L, r->headroom);
	else if (strcmp(k, "size") == 0)
		lua_pushinteger(L, (lua_Integer)r->size);
	else
		lua_pushnil(L);
	return 1;
}

static int region_engine(lua_State *L)
{
	luaL_checkudata(L, 1, LAB_REGION_MT);
	lua_getiuservalue(L, 1, 1);
	return 1;
}

static int region_tostring(lua_State *L)
{
	struct lab_engine *eng;

	luaL_checkudata(L, 1, LAB_REGION_MT);
	eng = lab_handle_engine_if_open(L, 1);
	if (!eng || !eng->ops->get_region || !eng->ops->get_region(eng->e)) {
		lua_pushstring(L, "region (engine closed)");
	} else {
		struct rl_region *r = eng->ops->get_region(eng->e);

		lua_pushfstring(
		    L, "region of %s: %d frame%s x %d bytes, headroom %d, %d free",
		    eng->name, (int)r->frames, r->frames == 1 ? "" : "s", (int)r->frame_size,
		    (int)r->headroom, (int)r->nfree);
	}
	return 1;
}

static int noop(lua_State *L)
{
	(void)L;
	return 0;
}

static const luaL_Reg region_methods[] = {
    {"alloc", region_alloc},   {"read", region_read}, {"write", region_write},
    {"engine", region_engine}, {NULL, NULL},
};

/* ---- buffer --------------------------------------------------------------- */

struct lab_buffer *lab_test_buffer(lua_State *L, int idx)
{
	return luaL_testudata(L, idx, LAB_BUFFER_MT);
}

static struct lab_buffer *check_buffer(lua_State *L, const char *what,
                                       struct rl_region **r, struct lab_engine **eng)
{
	struct lab_buffer *b = luaL_checkudata(L, 1, LAB_BUFFER_MT);

	if (b->freed)
		luaL_error(
		    L, "%s: this buffer was freed - allocate a new one with r:alloc(n)",
		    what);
	*r = handle_region(L, 1, what, eng);
	return b;
}

static void check_range(lua_State *L, const char *what, const struct lab_buffer *b,
                        lua_Integer off, lua_Integer len)
{
	if (off < 0 || len < 0 || (uint64_t)off > b->len ||
	    (uint64_t)len > b->len - (uint64_t)off)
		luaL_error(L,
		           "%s: offset %I + %I bytes runs past the end of this %I-byte "
		           "buffer - stay inside 0 .. %I",
		           what, off, len, (lua_Integer)b->len, (lua_Integer)b->len);
}

/* Bytes [addr, addr+len) of the region may be written: no descriptor on
 * its way points into their frames (a frame may be in several, and is
 * written again only when the last completed). */
void lab_check_writable(lua_State *L, const char *what, const struct rl_region *r,
                        uint64_t addr, uint64_t len)
{
	uint32_t first, n;

	if (addr >= r->size)
		return;
	rl_region_span_frames(r, addr, len, &first, &n);
	for (uint32_t f = first; f < first + n && f < r->frames; f++) {
		uint32_t k = rl_region_refs(r, f);
		enum rl_owner o = rl_region_owner(r, f);

		if (o == RL_OWN_TX || o == RL_OWN_NIC || o == RL_OWN_COMP)
			luaL_error(L,
			           "%s: frame %d is still in %d descriptor%s on %s way "
			           "(owner %s) - complete them first (complete, or "
			           "e:complete()), then write",
			           what, (int)f, (int)k, k == 1 ? "" : "s",
			           k == 1 ? "its" : "their", rl_owner_name(o));
	}
}

static int buffer_write(lua_State *L)
{
	struct rl_region *r;
	struct lab_engine *eng;
	struct lab_buffer *b = check_buffer(L, "write", &r, &eng);
	lua_Integer off = luaL_checkinteger(L, 2);
	size_t len;
	const char *s = luaL_checklstring(L, 3, &len);

	check_range(L, "write", b, off, (lua_Integer)len);
	lab_check_writable(L, "write", r, b->addr + (uint64_t)off, len);
	memcpy(rl_region_ptr(r, b->addr + (uint64_t)off), s, len);
	count_copied(eng, len, RL_DIR_TX);
	return 0;
}

static int buffer_fill(lua_State *L)
{
	struct rl_region *r;
	struct lab_engine *eng;
	struct lab_buffer *b = check_buffer(L, "fill", &r, &eng);
	uint8_t *p = rl_region_ptr(r, b->addr);

	lab_check_writable(L, "fill", r, b->addr, b->len);
	const char *pat;
	size_t plen;
	char byte;

	if (lua_isinteger(L, 2)) {
		lua_Integer v = lua_tointeger(L, 2);

		if (v < 0 || v > 255)
			return luaL_error(
			    L,
			    "fill: %I is not a byte - give 0 .. 255 or a pattern string",
			    v);
		byte = (char)v;
		pat = &byte;
		plen = 1;
	} else {
		pat = luaL_checklstring(L, 2, &plen);
		if (plen == 0)
			return luaL_error(L, "fill: the pattern is empty - give a byte "
			                     "or a non-empty string");
	}
	for (uint64_t i = 0; i < b->len; i += plen)
		memcpy(p + i, pat, b->len - i < plen ? (size_t)(b->len - i) : plen);
	count_copied(eng, b->len, RL_DIR_TX);
	return 0;
}

/* b:testdata(): the lab's test data made where the buffer lies - every 16
 * bytes name their own offset in the buffer ("%015x\n"), a tail shorter
 * than 16 is '#' - as an application producing its data in the region
 * would: nothing is copied from elsewhere, so the ledger counts nothing.
 * `send tcp|udp size=` sends this with born, sg, tso and gso. */
static int buffer_testdata(lua_State *L)
{
	struct rl_region *r;
	struct lab_engine *eng;
	struct lab_buffer *b = check_buffer(L, "testdata", &r, &eng);
	uint8_t *p = rl_region_ptr(r, b->addr);
	char row[32];

	lab_check_writable(L, "testdata", r, b->addr, b->len);
	for (uint64_t off = 0; off < b->len; off += 16) {
		if (b->len - off < 16) {
			memset(p + off, '#', (size_t)(b->len - off));
			break;
		}
		snprintf(row, sizeof row, "%015llx\n", (unsigned long long)off);
		memcpy(p + off, row, 16);
	}
	return 0;
}

static int buffer_read(lua_State *L)
{
	struct rl_region *r;
	struct lab_engine *eng;
	struct lab_buffer *b = check_buffer(L, "read", &r, &eng);
	lua_Integer off = luaL_optinteger(L, 2, 0);
	/* the rest by default; an off outside the buffer is refused below (no
	 * b->len - off that overflows for a huge negative off) */
	lua_Integer len = luaL_optinteger(
	    L, 3, off >= 0 && (uint64_t)off <= b->len ? (lua_Integer)(b->len - (uint64_t)off) : 0);

	check_range(L, "read", b, off, len);
	lua_pushlstring(L, (const char *)rl_region_ptr(r, b->addr + (uint64_t)off),
	                (size_t)len);
	count_copied(eng, (uint64_t)len, RL_DIR_TX);
	return 1;
}

static void buffer_unpin(lua_State *L, struct lab_buffer *b)
{
	struct rl_region *r = lab_handle_region_if_open(L, 1);

	if (b->freed)
		return;
	b->freed = true;
	if (r && (b->pkts || b->segs))
		b->deferred = true; /* the last packet or segs drops the pins */
	else if (r)
		rl_region_unpin(r, b->addr, b->len);
}

void lab_buffer_unref(struct lab_buffer *b, struct rl_region *r, bool segs)
{
	uint32_t *n = segs ? &b->segs : &b->pkts;

	if (*n)
		(*n)--;
	if (b->deferred && !b->pkts && !b->segs) {
		b->deferred = false;
		if (r)
			rl_region_unpin(r, b->addr, b->len);
	}
}

/* b:free() while unsent packets or segs point into the buffer would give
 * its frames to the next packet, and the first would send the second's
 * bytes: refused, saying which let go first. Once the engine is closed
 * there is nothing left to protect. */
static int buffer_free(lua_State *L)
{
	struct lab_buffer *b = luaL_checkudata(L, 1, LAB_BUFFER_MT);
	bool open = lab_handle_region_if_open(L, 1) != NULL;
	int np = (int)b->pkts, ns = (int)b->segs;

	if (b->freed)
		return luaL_error(
		    L, "free: this buffer was already freed - free each buffer once");
	if (open && np && ns)
		return luaL_error(L,
		                  "free: %d unsent packet%s and %d segs handle%s (lab.segment"
		                  ", a TCP send) still point into this buffer - send or "
		                  "release the packets (e:tx(p), p:release()) and free the "
		                  "segs (segs:free()) first",
		                  np, np == 1 ? "" : "s", ns, ns == 1 ? "" : "s");
	if (open && np)
		return luaL_error(L,
		                  "free: %d unsent packet%s still point%s into this buffer "
		                  "- send %s (e:tx(p)) or release %s (p:release()) first",
		                  np, np == 1 ? "" : "s", np == 1 ? "s" : "",
		                  np == 1 ? "it" : "them", np == 1 ? "it" : "them");
	if (open && ns)
		return luaL_error(L,
		                  "free: %d segs handle%s (lab.segment, or a TCP send not yet "
		                  "ACKed) still point%s into this buffer - free %s first "
		                  "(segs:free())",
		                  ns, ns == 1 ? "" : "s", ns == 1 ? "s" : "",
		                  ns == 1 ? "it" : "them");
	buffer_unpin(L, b);
	return 0;
}

static int buffer_gc(lua_State *L)
{
	buffer_unpin(L, luaL_checkudata(L, 1, LAB_BUFFER_MT));
	return 0;
}

static int buffer_len(lua_State *L)
{
	struct lab_buffer *b = luaL_checkudata(L, 1, LAB_BUFFER_MT);

	lua_pushinteger(L, (lua_Integer)b->len);
	return 1;
}

static int buffer_addr(lua_State *L)
{
	struct lab_buffer *b = luaL_checkudata(L, 1, LAB_BUFFER_MT);

	lua_pushinteger(L, (lua_Integer)b->addr);
	return 1;
}

static int buffer_tostring(lua_State *L)
{
	struct lab_buffer *b = luaL_checkudata(L, 1, LAB_BUFFER_MT);

	if (!b->freed && (b->pkts || b->segs))
		lua_pushfstring(L,
		                "buffer of %I bytes at region address %I (%d unsent "
		                "packet%s, %d segs use it)",
		                (lua_Integer)b->len, (lua_Integer)b->addr, (int)b->pkts,
		                b->pkts == 1 ? "" : "s", (int)b->segs);
	else
		lua_pushfstring(L, "buffer of %I bytes at region address %I%s",
		                (lua_Integer)b->len, (lua_Integer)b->addr,
		                b->freed ? " (freed)" : "");
	return 1;
}

static const luaL_Reg buffer_methods[] = {
    {"write", buffer_write}, {"fill", buffer_fill}, {"read", buffer_read},
    {"free", buffer_free},   {"addr", buffer_addr}, {"testdata", buffer_testdata},
    {NULL, NULL},
};

void lab_region_register(lua_State *L)
{
	luaL_newmetatable(L, LAB_REGION_MT);
	lua_newtable(L);
	lab_setfuncs(L, region_methods);
	lua_setfield(L, -2, "methods");
	lab_pushcfunction(L, region_index, "__index");
	lua_setfield(L, -2, "__index");
	lab_pushcfunction(L, region_tostring, "__tostring");
	lua_setfield(L, -2, "__tostring");
	lua_pushcfunction(L, noop);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, noop);
	lua_setfield(L, -2, "__close");
	lua_pop(L, 1);

	lab_handle_mt(L, LAB_BUFFER_MT, buffer_methods, buffer_gc, buffer_len, buffer_tostring);
}
