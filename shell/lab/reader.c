/*
 * lab/reader.c - lab.reader(e, {mode=}): a received byte stream read where
 * it lies (core/reader.c), and views of it.
 *
 * rd:push(pkt) hands a received packet's frames to the reader (the packet
 * becomes "consumed"); its payload joins the stream. In "inplace" mode
 * rd:read(n) returns a view: a userdata listing the region pieces that hold
 * the bytes, nothing copied (the C reader counts them `referenced`). A view
 * points into frames, so it is only valid until the reader gives them back:
 * every rd:release() and closing the reader bump a generation counter, and
 * a view from an older generation refuses to be used - no dangling
 * pointers. In "copy" mode rd:read(n) copies out (counted `copied`) and
 * gives frames back at once.
 */
#include <errno.h>
#include <string.h>

#include "shell.h"

#define READER_MT "ringlab.reader"
#define VIEW_MT   "ringlab.view"

struct lab_reader {
	struct rl_reader *rd; /* NULL once closed */
	uint32_t gen;         /* bumped whenever frames go back */
	bool copy;            /* mode "copy" */
};

struct lab_view {
	uint32_t gen;
	uint32_t n;
	uint64_t len;
	struct rl_iov v[];
};

static const char *const modes[] = {"inplace", "copy", NULL};

static int lab_reader_new(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_region *r = lab_engine_region(L, eng, "reader");
	struct lab_reader *lr;
	struct rl_err err;
	int mode = 0;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "mode");
		mode = luaL_checkoption(L, -1, "inplace", modes);
		lua_pop(L, 1);
	}
	lr = lua_newuserdatauv(L, sizeof(*lr), 1);
	memset(lr, 0, sizeof(*lr));
	lr->copy = mode == 1;
	luaL_setmetatable(L, READER_MT);
	/* mode='s __index and the allocation may have run Lua that closed it */
	r = lab_engine_region(L, lab_check_open(L, eng, "reader"), "reader");
	rl_err_clear(&err);
	if (rl_reader_new(&lr->rd, r, lab_engine_ledger(eng), &err) < 0)
		return lab_raise(L, "reader", &err);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	return 1;
}

/* The reader at idx, open and with its engine open. */
static struct lab_reader *check_reader(lua_State *L, int idx, const char *what,
                                       struct lab_engine **eng)
{
	struct lab_reader *lr = luaL_checkudata(L, idx, READER_MT);
	struct lab_engine *e;

	if (!lr->rd)
		luaL_error(
		    L, "%s: this reader was closed - make a new one with lab.reader(e)",
		    what);
	e = lab_handle_engine(L, idx, what);
	lua_pop(L, 1);
	if (eng)
		*eng = e;
	return lr;
}

/* Drop the reader: frames back if the engine is still open. */
static void reader_end(lua_State *L, struct lab_reader *lr)
{
	if (!lr->rd)
		return;
	if (lab_handle_engine_if_open(L, 1))
		rl_reader_free(lr->rd);
	else
		rl_reader_forget(lr->rd);
	lr->rd = NULL;
	lr->gen++;
}

static int reader_close(lua_State *L)
{
	reader_end(L, luaL_checkudata(L, 1, READER_MT));
	return 0;
}

static int reader_push(lua_State *L)
{
	struct lab_engine *eng;
	struct lab_reader *lr = check_reader(L, 1, "push", &eng);
	struct lab_packet *p = lab_check_packet(L, 2);
	struct rl_desc d[64];
	struct rl_dissect dis;
	struct rl_err err;

	if (p->state != PKT_HELD)
		return luaL_error(L,
		                  "push: this packet is %s - give a packet just received "
		                  "with e:rx()",
		                  p->state == PKT_CONSUMED ? "already a reader's"
		                  : p->state == PKT_SENT   ? "sent"
		                                           : "released");
	lua_getiuservalue(L, 2, 1);
	if (lua_touserdata(L, -1) != (void *)eng)
		return luaL_error(L,
		                  "push: the packet lives in another engine's region - "
		                  "use a reader of that engine");
	if (p->nseg > 64)
		return luaL_error(L, "push: a packet of %d segments - at most 64",
		                  (int)p->nseg);
	for (unsigned i = 0; i < p->nseg; i++) {
		if (!p->seg[i].own)
			return luaL_error(L,
			                  "push: the packet points into a buffer it does "
			                  "not own - give a received packet");
		d[i] = p->seg[i].d;
	}
	rl_err_clear(&err);
	if (rl_reader_push_packet(lr->rd, d, p->nseg, &dis, &err) < 0)
		return lab_raise(L, "push", &err);
	p->state = PKT_CONSUMED;
	lua_pushinteger(L, dis.payload_len);
	return 1;
}

static uint64_t want_bytes(lua_State *L, int idx, const struct lab_reader *lr)
{
	uint64_t avail = rl_reader_avail(lr->rd);
	lua_Integer n = luaL_optinteger(L, idx, (lua_Integer)avail);

	if (n < 0)
		luaL_error(L, "read: %I is not a number of bytes - give 0 or more", n);
	return (uint64_t)n < avail ? (uint64_t)n : avail;
}

/* A view of the next n bytes, pushed; consume: read (referenced) not peek.
 * Each allocation may run a finalizer that closes eng (and frees the
 * region the reader points into): checked again after each. */
static void push_view(lua_State *L, struct lab_reader *lr, struct lab_engine *eng,
                      uint64_t n, bool consume, const char *what)
{
	unsigned max = 16;
	struct rl_iov *tmp;
	struct lab_view *v;
	uint64_t got;
	int k;

	for (;;) {
		tmp = lua_newuserdatauv(L, max * sizeof(*tmp), 0);
		lab_check_open(L, eng, what);
		k = rl_reader_peek(lr->rd, n, tmp, max, &got);
		if (got == n || (unsigned)k < max)
			break;
		lua_pop(L, 1);
		max *= 4;
	}
	v = lua_newuserdatauv(L, sizeof(*v) + (size_t)(k ? k : 1) * sizeof(v->v[0]), 1);
	memset(v, 0, sizeof(*v));
	lab_check_open(L, eng, what);
	v->gen = lr->gen;
	v->n = (uint32_t)k;
	v->len = got;
	if (consume)
		rl_reader_read(lr->rd, got, v->v, (unsigned)k, &got);
	else
		memcpy(v->v, tmp, (size_t)k * sizeof(*tmp));
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, VIEW_MT);
	lua_remove(L, -2);
}

/* n bytes copied out into a new string, pushed (copied). */
static void push_copy(lua_State *L, struct lab_reader *lr, struct lab_engine *eng,
                      uint64_t n, const char *what)
{
	luaL_Buffer b;
	struct rl_err err;
	char *dst = luaL_buffinitsize(L, &b, (size_t)n);

	lab_check_open(L, eng, what); /* the allocation may have run Lua */
	rl_err_clear(&err);
	if (rl_reader_copy(lr->rd, dst, n, &err) < 0)
		lab_raise(L, "copy", &err);
	luaL_pushresultsize(&b, (size_t)n);
	if (lr->copy && rl_reader_release(lr->rd) > 0)
		lr->gen++;
}

static int reader_read(lua_State *L)
{
	struct lab_engine *eng;
	struct lab_reader *lr = check_reader(L, 1, "read", &eng);
	uint64_t n = want_bytes(L, 2, lr);

	if (lr->copy)
		push_copy(L, lr, eng, n, "read");
	else
		push_view(L, lr, eng, n, true, "read");
	return 1;
}

static int reader_peek(lua_State *L)
{
	struct lab_engine *eng;
	struct lab_reader *lr = check_reader(L, 1, "peek", &eng);

	push_view(L, lr, eng, want_bytes(L, 2, lr), false, "peek");
	return 1;
}

static int reader_copy(lua_State *L)
{
	struct lab_engine *eng;
	struct lab_reader *lr = check_reader(L, 1, "copy", &eng);

	push_copy(L, lr, eng, want_bytes(L, 2, lr), "copy");
	return 1;
}

static int reader_find(lua_State *L)
{
	size_t plen;
	/* first: a number turned into a string allocates (a finalizer may run) */
	const char *pat = luaL_checklstring(L, 2, &plen);
	struct lab_reader *lr = check_reader(L, 1, "find", NULL);
	int64_t at;

	if (plen == 0)
		return luaL_error(L,
		                  "find: the pattern is empty - give at least one byte");
	at = rl_reader_find(lr->rd, pat, plen);
	if (at < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, (lua_Integer)at);
	return 1;
}

static int reader_release(lua_State *L)
{
	struct lab_reader *lr = check_reader(L, 1, "release", NULL);

	lr->gen++; /* views before this point may lie in the frames going back */
	lua_pushinteger(L, rl_reader_release(lr->rd));
	return 1;
}

static int reader_avail(lua_State *L)
{
	lua_pushinteger(
	    L, (lua_Integer)rl_reader_avail(check_reader(L, 1, "avail", NULL)->rd));
	return 1;
}

static int reader_frames(lua_State *L)
{
	lua_pushinteger(L, rl_reader_frames(check_reader(L, 1, "frames", NULL)->rd));
	return 1;
}

static int reader_mode(lua_State *L)
{
	lua_pushstring(L, ((struct lab_reader *)luaL_checkudata(L, 1, READER_MT))->copy
	                      ? "copy"
	                      : "inplace");
	return 1;
}

static int reader_tostring(lua_State *L)
{
	struct lab_reader *lr = luaL_checkudata(L, 1, READER_MT);

	if (!lr->rd)
		lua_pushstring(L, "reader (closed)");
	else
		lua_pushfstring(L, "reader (%s): %I bytes queued in %d frames",
		                lr->copy ? "copy" : "inplace",
		                (lua_Integer)rl_reader_avail(lr->rd),
		                (int)rl_reader_frames(lr->rd));
	return 1;
}

/* ---- views ----------------------------------------------------------------- */

static struct lab_view *check_view(lua_State *L, const char *what,
                                   struct lab_engine **eng)
{
	struct lab_view *v = luaL_checkudata(L, 1, VIEW_MT);
	struct lab_reader *lr;

	lua_getiuservalue(L, 1, 1);
	lr = lua_touserdata(L, -1);
	if (!lr->rd || lr->gen != v->gen)
		luaL_error(L,
		           "%s: this view is no longer valid - its reader gave the "
		           "frames back (rd:release() or close); read again",
		           what);
	*eng = lab_handle_engine(L, -1, what);
	lua_pop(L, 2);
	return v;
}

static int view_string(lua_State *L)
{
	struct lab_engine *eng;
	struct lab_view *v = check_view(L, "string", &eng);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, (size_t)v->len);
	size_t at = 0;

	/* the room first: the allocation may run a finalizer that closes the
	 * engine, and nothing allocates while the region is read */
	check_view(L, "string", &eng);
	for (uint32_t i = 0; i < v->n; i++) {
		memcpy(out + at, v->v[i].base, v->v[i].len);
		at += v->v[i].len;
	}
	luaL_pushresultsize(&b, at);
	lab_count(eng, NULL, RL_LEDGER_COPIED, v->len, RL_DIR_RX); /* a received stream */
	return 1;
}

static int view_equals(lua_State *L)
{
	struct lab_engine *eng;
	size_t slen, at = 0;
	const char *s = luaL_checklstring(L, 2, &slen); /* may allocate: first */
	struct lab_view *v = check_view(L, "equals", &eng);
	bool eq = slen == v->len;

	for (uint32_t i = 0; eq && i < v->n; i++) {
		eq = memcmp(v->v[i].base, s + at, v->v[i].len) == 0;
		at += v->v[i].len;
	}
	lab_count(eng, NULL, RL_LEDGER_TOUCHED, at, RL_DIR_RX);
	lua_pushboolean(L, eq);
	return 1;
}

static int view_pieces(lua_State *L)
{
	struct lab_engine *eng;
	struct lab_view *v = check_view(L, "pieces", &eng);
	struct rl_region *r = lab_engine_region(L, eng, "pieces");

	lua_createtable(L, (int)v->n, 0);
	for (uint32_t i = 0; i < v->n; i++) {
		uint64_t addr;

		lua_createtable(L, 0, 3);
		check_view(L, "pieces", &eng); /* the allocations may have run Lua */
		addr = (uint64_t)((const uint8_t *)v->v[i].base - r->base);
		lua_pushinteger(L, (lua_Integer)addr);
		lua_setfield(L, -2, "addr");
		lua_pushinteger(L, (lua_Integer)v->v[i].len);
		lua_setfield(L, -2, "len");
		lua_pushinteger(L, rl_region_frame(r, addr));
		lua_setfield(L, -2, "frame");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int view_len(lua_State *L)
{
	lua_pushinteger(
	    L, (lua_Integer)((struct lab_view *)luaL_checkudata(L, 1, VIEW_MT))->len);
	return 1;
}

static int view_valid(lua_State *L)
{
	struct lab_view *v = luaL_checkudata(L, 1, VIEW_MT);
	struct lab_reader *lr;

	lua_getiuservalue(L, 1, 1);
	lr = lua_touserdata(L, -1);
	lua_pushboolean(L, lr->rd && lr->gen == v->gen);
	return 1;
}

static int view_tostring(lua_State *L)
{
	struct lab_view *v = luaL_checkudata(L, 1, VIEW_MT);

	lua_pushfstring(L, "view of %I bytes in %d pieces", (lua_Integer)v->len,
	                (int)v->n);
	return 1;
}

static const luaL_Reg reader_methods[] = {
    {"push", reader_push},
    {"avail", reader_avail},
    {"read", reader_read},
    {"peek", reader_peek},
    {"copy", reader_copy},
    {"find", reader_find},
    {"release", reader_release},
    {"frames", reader_frames},
    {"mode", reader_mode},
    {"close", reader_close},
    {NULL, NULL},
};

static const luaL_Reg view_methods[] = {
    {"string", view_string},
    {"equals", view_equals},
    {"pieces", view_pieces},
    {"valid", view_valid},
    {NULL, NULL},
};

void lab_reader_register(lua_State *L)
{
	lab_handle_mt(L, READER_MT, reader_methods, reader_close, reader_avail, reader_tostring);
	lab_handle_mt(L, VIEW_MT, view_methods, NULL, view_len, view_tostring);
	lab_pushcfunction(L, lab_reader_new, "reader");
	lua_setfield(L, -2, "reader");
}
