/*
 * lab/engine.c - the engine handle: lab.open(), e:region(), e:close().
 *
 * lab.open(name, opts) finds the engine through the loader, turns the opts
 * table into the key=value strings of the engine ABI (booleans "true" /
 * "false", numbers in decimal, lists joined by ","; peer= takes another
 * engine handle) and opens it. name= is the lab's, not the engine's: the
 * engine's name at the prompt (`use copy`), in lab.get("copy") and on
 * every screen; without it the engine is KIND#ID (sim#1). Names are unique
 * among the open engines. The handle's uservalues are 1: the peer
 * engine (kept alive while this one is wired to it) and 2: the region
 * handle. Closing is idempotent. The I/O and view methods live in
 * lab/engine_io.c and lab/engine_view.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

extern const luaL_Reg lab_engine_io_methods[];
extern const luaL_Reg lab_engine_view_methods[];

static int next_id = 1;

int lab_raise(lua_State *L, const char *what, const struct rl_err *err)
{
	const char *msg = err->msg[0] ? err->msg : strerror(err->code ? err->code : EIO);
	size_t wl = strlen(what);

	if (strncmp(msg, what, wl) == 0 && msg[wl] == ':')
		return luaL_error(L, "%s", msg);
	return luaL_error(L, "%s: %s", what, msg);
}

static const char engine_key; /* registry: the engine metatable */

struct lab_engine *lab_test_engine(lua_State *L, int idx)
{
	return lab_test_handle(L, idx, &engine_key);
}

struct lab_engine *lab_check_engine(lua_State *L, int idx)
{
	struct lab_engine *eng = lab_test_engine(L, idx);

	if (!eng) /* the usual "bad argument" message */
		eng = luaL_checkudata(L, idx, LAB_ENGINE_MT);

	if (!lab_is_open(eng))
		luaL_error(L, "this engine is closed - open a new one with lab.open()");
	return eng;
}

struct lab_engine *lab_check_open(lua_State *L, struct lab_engine *eng, const char *what)
{
	if (!lab_is_open(eng))
		luaL_error(
		    L, "%s: its engine was closed - open a new engine with lab.open()",
		    what);
	return eng;
}

struct lab_engine *lab_handle_engine(lua_State *L, int idx, const char *what)
{
	struct lab_engine *eng;

	lua_getiuservalue(L, idx, 1);
	eng = lab_test_engine(L, -1);
	if (!eng)
		luaL_error(L, "%s: this handle has no engine - this is a bug in ringlab",
		           what);
	return lab_check_open(L, eng, what);
}

struct lab_engine *lab_handle_engine_if_open(lua_State *L, int idx)
{
	struct lab_engine *eng;

	lua_getiuservalue(L, idx, 1);
	eng = lab_test_engine(L, -1);
	lua_pop(L, 1);
	return eng && lab_is_open(eng) ? eng : NULL;
}

struct rl_region *lab_handle_region_if_open(lua_State *L, int idx)
{
	struct lab_engine *eng = lab_handle_engine_if_open(L, idx);

	return eng && eng->ops->get_region ? eng->ops->get_region(eng->e) : NULL;
}

struct rl_region *lab_engine_region(lua_State *L, struct lab_engine *eng,
                                    const char *what)
{
	struct rl_region *r = eng->ops->get_region ? eng->ops->get_region(eng->e) : NULL;

	if (!r)
		luaL_error(L,
		           "%s: no region yet - make one first: region (Lua: e:region{})",
		           what);
	return r;
}

struct rl_ledger *lab_engine_ledger(struct lab_engine *eng)
{
	if (!lab_is_open(eng) || !eng->ops->ledger)
		return NULL;
	return eng->ops->ledger(eng->e);
}

/* One option value as the string the engine ABI wants, pushed. */
static const char *opt_string(lua_State *L, const char *key, int vidx)
{
	switch (lua_type(L, vidx)) {
	case LUA_TBOOLEAN:
		return lua_pushstring(L, lua_toboolean(L, vidx) ? "true" : "false");
	case LUA_TNUMBER:
		if (lua_isinteger(L, vidx))
			return lua_pushfstring(L, "%I", lua_tointeger(L, vidx));
		return lua_pushfstring(L, "%f", lua_tonumber(L, vidx));
	case LUA_TSTRING: {
		size_t len;
		const char *v = lua_tolstring(L, vidx, &len);

		if (strlen(v) != len) /* the engine would see it cut short */
			luaL_error(L,
			           "open: option '%s' has a zero byte in it (\"%s\\0...\") - "
			           "give the value without one",
			           key, v);
		lua_pushvalue(L, vidx);
		return lua_tostring(L, -1);
	}
	case LUA_TTABLE: {
		luaL_Buffer b;
		lua_Integer n = luaL_len(L, vidx);

		luaL_buffinit(L, &b);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_geti(L, vidx, i);
			if (!lua_isstring(L, -1))
				luaL_error(L,
				           "open: option '%s' item %I is a %s - give "
				           "strings or numbers",
				           key, i, luaL_typename(L, -1));
			if (i > 1)
				luaL_addchar(&b, ',');
			luaL_addvalue(&b);
		}
		luaL_pushresult(&b);
		return lua_tostring(L, -1);
	}
	default:
		luaL_error(
		    L,
		    "open: option '%s' is a %s - give a string, number, boolean or list",
		    key, luaL_typename(L, vidx));
		return NULL;
	}
}

/* Fill args from the opts table at index 2; strings are anchored in the
 * table at `keep`, and so is peer= (keep.peer). An option's __len or
 * __index may run Lua that closes the peer, so its engine is read last. */
static void open_args(lua_State *L, struct rl_open_args *args, int keep)
{
	struct lab_engine *peer_eng = NULL;
	struct rl_kv *kv;
	unsigned n = 0, cap = 0;

	memset(args, 0, sizeof(*args));
	if (lua_isnoneornil(L, 2))
		return;
	luaL_checktype(L, 2, LUA_TTABLE);
	for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1))
		cap++;
	kv = lua_newuserdatauv(L, (cap ? cap : 1) * sizeof(*kv), 0);
	lua_rawseti(L, keep, 1);
	for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
		const char *key;

		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L,
			           "open: options are key=value, got a %s key - write "
			           "{mode=\"copy\"}",
			           luaL_typename(L, -2));
		key = lua_tostring(L, -2);
		if (strcmp(key, "name") == 0)
			continue; /* the lab's name for it (see open_name) */
		if (strcmp(key, "peer") == 0) {
			struct lab_engine *peer = lab_test_engine(L, -1);

			if (!peer)
				luaL_error(L,
				           "open: peer= must be an engine from "
				           "lab.open(), not a %s",
				           luaL_typename(L, -1));
			if (!lab_is_open(peer))
				luaL_error(L, "open: the peer engine is closed - open it "
				              "again first");
			lua_pushvalue(L, -1);
			lua_setfield(L, keep, "peer");
			peer_eng = peer;
			continue;
		}
		kv[n].key = key;
		kv[n].val = opt_string(L, key, lua_gettop(L));
		lua_rawseti(L, keep, (lua_Integer)n + 2);
		n++;
	}
	args->kv = kv;
	args->nkv = n;
	if (peer_eng && !lab_is_open(peer_eng)) /* closed by an option's metamethod */
		luaL_error(L, "open: the peer engine is closed - open it again first");
	if (peer_eng) {
		args->peer = peer_eng->e;
		args->peer_ops = peer_eng->ops;
	}
}

static void cannot_open(lua_State *L, const struct lab_engine_entry *ent)
{
	bool wire = ent->ops && (ent->ops->caps & RL_CAP_WIRE);

	if (wire && !strstr(ent->why, " - "))
		luaL_error(L,
		           "open: %s cannot open here: %s - run as root inside `ringlab "
		           "testbed shell`",
		           ent->name, ent->why);
	luaL_error(L, "open: %s cannot open here: %s", ent->name, ent->why);
}

/* ---- the engines lab.open() gave out ----------------------------------- */

/* A table with weak values in the registry, keyed by each handle's
 * address: lab.opened() lists the engines still open (watch and plot show
 * them all) without keeping a forgotten one from being collected. */
static const char opened_key;

static void remember_engine(lua_State *L, int idx)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &opened_key);
	lua_pushvalue(L, idx);
	lua_rawsetp(L, -2, lua_touserdata(L, idx));
	lua_pop(L, 1);
}

static int by_id(const void *a, const void *b)
{
	const struct lab_engine *x = *(struct lab_engine *const *)a;
	const struct lab_engine *y = *(struct lab_engine *const *)b;

	return x->id - y->id;
}

/* lab.opened() -> {engine...}, open ones only, in the order of opening. */
int lab_opened(lua_State *L)
{
	struct lab_engine **v;
	int n = 0, room = 0;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &opened_key);
	for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1))
		room++; /* no Lua runs in between: light userdata keys, no metamethods */
	v = lua_newuserdatauv(L, sizeof(*v) * (size_t)(room ? room : 1), 0);
	lua_insert(L, -2); /* [v] [opened] */
	for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
		struct lab_engine *eng = lua_touserdata(L, -1);

		if (eng && lab_is_open(eng) && n < room)
			v[n++] = eng;
	}
	qsort(v, (size_t)n, sizeof(v[0]), by_id);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_rawgetp(L, -2, v[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* ---- engine names -------------------------------------------------------- */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= LAB_NAME_MAX || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* Does eng answer to name: its name, or "#ID"? */
static bool name_is(const struct lab_engine *eng, const char *name)
{
	char *end;
	long id;

	if (name[0] != '#')
		return strcmp(eng->name, name) == 0;
	id = strtol(name + 1, &end, 10);
	return end != name + 1 && *end == '\0' && id == eng->id;
}

/* The open engine called name, or NULL; pushes nothing, runs no Lua. */
static struct lab_engine *find_open(lua_State *L, const char *name)
{
	struct lab_engine *found = NULL;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &opened_key);
	for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
		struct lab_engine *eng = lua_touserdata(L, -1);

		if (eng && lab_is_open(eng) && name_is(eng, name))
			found = eng;
	}
	lua_pop(L, 1);
	return found;
}

/* lab.get(name) -> the open engine called name ("copy", "sim#1", or "#1"
 * for the one opened first), or nil when no open engine is called that. */
int lab_get(lua_State *L)
{
	struct lab_engine *eng;

	if (lab_test_engine(L, 1)) { /* an engine: itself, while open */
		eng = lua_touserdata(L, 1);
		lua_settop(L, 1);
		if (!lab_is_open(eng))
			lua_pushnil(L);
		return 1;
	}
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L,
		                  "lab.get: give an engine's name, e.g. lab.get(\"sim#1\"), "
		                  "not a %s - lab.opened() lists them",
		                  luaL_typename(L, 1));
	eng = find_open(L, lua_tostring(L, 1));
	if (!eng) {
		lua_pushnil(L);
		return 1;
	}
	lua_rawgetp(L, LUA_REGISTRYINDEX, &opened_key);
	lua_rawgetp(L, -1, eng);
	return 1;
}

/* The name= of the opts at 2 (read raw: no Lua runs), checked, into out
 * ("" when none was given). */
static void open_name(lua_State *L, char out[LAB_NAME_MAX])
{
	const char *s;
	size_t len;
	struct lab_engine *other;

	out[0] = '\0';
	if (!lua_istable(L, 2))
		return;
	lua_pushliteral(L, "name");
	if (lua_rawget(L, 2) == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "open: name= must be a word, not a %s - e.g. open sim name=copy",
		           luaL_typename(L, -1));
	s = lua_tolstring(L, -1, &len);
	if (len != strlen(s))
		luaL_error(L, "open: name= has a zero byte in it - give a word, e.g. name=copy");
	if (!name_ok(s))
		luaL_error(L,
		           "open: '%s' cannot name an engine - start with a letter, then "
		           "letters, digits, _ . or - (at most %d), e.g. name=copy",
		           s, LAB_NAME_MAX - 1);
	if (strcmp(s, "all") == 0 || strcmp(s, "run") == 0)
		luaL_error(L,
		           "open: '%s' cannot name an engine (close all, watch run) - pick "
		           "another, e.g. name=copy",
		           s);
	other = find_open(L, s);
	if (other)
		luaL_error(L,
		           "open: an engine called '%s' is open already (%s#%d) - pick "
		           "another name=, or close it first: close %s",
		           s, other->ops->name, other->id, s);
	snprintf(out, LAB_NAME_MAX, "%s", s);
	lua_pop(L, 1);
}

/* Lines an engine left for the user (rl_note: "removed a stale ringlab XDP
 * program ..."): on stderr, as soon as the call that left them returns. */
static void say_notes(void)
{
	char line[RL_ERR_MSG_MAX];

	while (rl_note_take(line, sizeof(line)))
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

int lab_open_engine(lua_State *L)
{
	char lname[LAB_NAME_MAX];
	size_t name_len;
	const char *name = luaL_checklstring(L, 1, &name_len);
	struct lab_engine_entry ent;
	struct rl_open_args args;
	struct rl_engine *e = NULL;
	struct lab_engine *eng;
	struct rl_err err;
	int keep;

	if (strlen(name) != name_len) /* "sim\0x" is not sim */
		return luaL_error(L,
		                  "open: the engine name \"%s\\0...\" has a zero byte in it - "
		                  "give the name alone, e.g. lab.open(\"sim\")",
		                  name);
	if (loader_find(name, &ent) < 0)
		return luaL_error(
		    L, "open: there is no engine called '%s' - known engines: %s", name,
		    ent.why);
	if (!ent.ops || !ent.available)
		cannot_open(L, &ent);
	lua_settop(L, 2);
	lua_newtable(L);
	keep = lua_gettop(L);
	open_args(L, &args, keep);
	/* The handle first: allocating may run a finalizer (Lua that could
	 * open an engine by this name or close the peer); from the name check
	 * to remember_engine nothing runs Lua. */
	eng = lua_newuserdatauv(L, sizeof(*eng), 2);
	memset(eng, 0, sizeof(*eng));
	open_name(L, lname); /* after open_args: its Lua could open one */
	if (args.peer) { /* a finalizer may have closed it: read it again */
		struct lab_engine *peer;

		lua_getfield(L, keep, "peer");
		peer = lua_touserdata(L, -1);
		lua_pop(L, 1);
		if (!lab_is_open(peer))
			return luaL_error(L, "open: the peer engine is closed - open "
			                     "it again first");
		args.peer = peer->e;
	}
	rl_err_clear(&err);
	if (ent.ops->open(&e, &args, &err) < 0) {
		say_notes();
		return lab_raise(L, "open", &err);
	}
	say_notes();
	eng->ops = ent.ops;
	eng->e = e;
	eng->id = next_id++;
	if (lname[0])
		snprintf(eng->name, sizeof(eng->name), "%s", lname);
	else
		snprintf(eng->name, sizeof(eng->name), "%.12s#%d", ent.ops->name, eng->id);
	lab_engine_note_ifname(eng, &args);
	if (args.peer) {
		lua_getfield(L, keep, "peer"); /* the handle checked, not opts.peer now */
		lua_setiuservalue(L, -2, 1);
	}
	luaL_setmetatable(L, LAB_ENGINE_MT);
	remember_engine(L, lua_gettop(L));
	return 1;
}

/* The engines closed while a binding ran (lab_depth > 0), waiting for the
 * outermost one to return: a registry table eng -> handle (which keeps a
 * collected one's memory until then). */
static const char closing_key;

/* The real close: the engine and its region freed. */
static void engine_free(lua_State *L, struct lab_engine *eng)
{
	struct rl_engine *e = eng->e;

	eng->e = NULL;
	eng->ops->close(e); /* a sim peer unplugs its cable here */
	lab_ext_engine_closed(L, eng);
}

/* Close eng, at idx: for Lua at once (eng->closed); for real now, or when
 * the outermost binding returns. */
static void engine_shut(lua_State *L, struct lab_engine *eng, int idx)
{
	eng->closed = true;
	if (lab_depth > 0) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &closing_key);
		lua_pushvalue(L, idx);
		lua_rawsetp(L, -2, eng);
		lua_pop(L, 1);
		return;
	}
	engine_free(L, eng);
}

void lab_close_deferred(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &closing_key);
	for (;;) { /* one at a time: a close may run Lua that closes another */
		struct lab_engine *eng;

		lua_pushnil(L);
		if (!lua_next(L, -2))
			break;
		eng = lua_touserdata(L, -1);
		lua_pop(L, 1);
		lua_pushnil(L);
		lua_rawset(L, -3);
		if (eng && eng->e)
			engine_free(L, eng);
	}
	lua_pop(L, 1);
}

/* e:close() and <close>: a capture whose writes failed is reported (raised)
 * once the engine is closed; when collected (__gc) nobody is told. */
static int engine_close(lua_State *L)
{
	struct lab_engine *eng = luaL_checkudata(L, 1, LAB_ENGINE_MT);
	int failed = 0;

	if (lab_is_open(eng)) {
		failed = lab_pcap_detach(L, eng);
		engine_shut(L, eng, 1);
	}
	return failed ? lua_error(L) : 0;
}

static int engine_gc(lua_State *L)
{
	struct lab_engine *eng = luaL_checkudata(L, 1, LAB_ENGINE_MT);

	if (lab_is_open(eng)) {
		lab_pcap_detach(L, eng);
		engine_shut(L, eng, 1);
	}
	return 0;
}

static uint32_t opt_u32(lua_State *L, int t, const char *key, uint32_t def)
{
	lua_Integer v;
	int isnum;

	if (lua_getfield(L, t, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	v = lua_tointegerx(L, -1, &isnum);
	if (!isnum || v < 0 || v > UINT32_MAX)
		luaL_error(L,
		           "region: %s= must be a whole number, not %s - e.g. "
		           "e:region{frames=4096}",
		           key, luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	return (uint32_t)v;
}

/* Returns which keys were given: bit i of keys[] below. */
static unsigned region_params(lua_State *L, struct rl_region_params *p)
{
	static const char *const keys[] = {"frames", "frame_size", "size", "headroom",
	                                   NULL};
	unsigned given = 0;

	for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
		int i;

		for (i = 0; keys[i] && strcmp(keys[i], k) != 0; i++)
			;
		if (!keys[i])
			luaL_error(L,
			           "region: unknown option '%s' - use frames=, "
			           "frame_size= and headroom=",
			           luaL_tolstring(L, -2, NULL));
		given |= 1u << i;
	}
	p->frames = opt_u32(L, 2, "frames", 4096);
	p->frame_size = opt_u32(L, 2, "size", 2048);
	p->frame_size = opt_u32(L, 2, "frame_size", p->frame_size);
	p->headroom = opt_u32(L, 2, "headroom", 256);
	return given;
}

static int engine_region(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_region_params p;
	struct rl_region *r = NULL;
	struct rl_err err;
	unsigned given;

	lua_settop(L, 2);
	if (lua_getiuservalue(L, 1, 2) != LUA_TNIL) {
		if (lua_isnoneornil(L, 2))
			return 1;
		r = lab_engine_region(L, eng, "region");
		return luaL_error(
		    L,
		    "region: this engine already has its region (%d frames of %d bytes) "
		    "- use it (e:region() returns it), or open a new engine",
		    (int)r->frames, (int)r->frame_size);
	}
	if (!eng->ops->region)
		return luaL_error(L, "region: this engine cannot make a region");
	if (lua_isnil(L, 2)) {
		lua_newtable(L);
		lua_replace(L, 2);
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	given = region_params(L, &p);
	/* the options' metamethods may have closed it (tests/fuzz/lua_api.lua) */
	lab_check_open(L, eng, "region");
	rl_err_clear(&err);
	if (rl_region_params_check(&p, &err) < 0 ||
	    eng->ops->region(eng->e, &p, &r, &err) < 0) {
		say_notes();
		return lab_raise(L, "region", &err);
	}
	say_notes();
	/* An engine that shares its peer's region (dpdk peer=) hands that one
	 * back: never silently one other than asked for. */
	if (((given & 1u) && r->frames != p.frames) ||
	    ((given & 6u) && r->frame_size != p.frame_size) ||
	    ((given & 8u) && r->headroom != p.headroom))
		return luaL_error(L,
		                  "region: this engine shares its peer's region (%d frames of "
		                  "%d bytes, headroom %d), not the one asked for - use "
		                  "e:region() to get it, or open without peer= for a region "
		                  "of its own",
		                  (int)r->frames, (int)r->frame_size, (int)r->headroom);
	lab_push_region(L, 1);
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, 1, 2);
	return 1;
}

uint32_t lab_engine_caps(const struct lab_engine *eng, char *why, size_t len)
{
	if (why && len)
		why[0] = '\0';
	if (lab_is_open(eng) && eng->ops->caps_of)
		return eng->ops->caps_of(eng->e, why, len);
	return eng->ops->caps;
}

static int engine_info(lua_State *L)
{
	struct lab_engine *eng = luaL_checkudata(L, 1, LAB_ENGINE_MT);
	char why[RL_ERR_MSG_MAX];
	uint32_t have;
	static const struct {
		uint32_t bit;
		const char *name;
	} caps[] = {
	    {RL_CAP_STEP, "step"}, {RL_CAP_ZEROCOPY, "zerocopy"}, {RL_CAP_SG, "sg"},
	    {RL_CAP_TSO, "tso"},   {RL_CAP_PEER, "peer"},         {RL_CAP_WIRE, "wire"},
	    {RL_CAP_EXTBUF, "extbuf"}, {RL_CAP_GSO, "gso"},       {RL_CAP_GRO, "gro"},
	    {RL_CAP_CSUM, "csum"}, {RL_CAP_UNALIGNED, "unaligned"},
	    {RL_CAP_SHARED, "shared"},
	};

	lua_newtable(L);
	lua_pushstring(L, eng->name); /* "copy", "sim#1" */
	lua_setfield(L, -2, "name");
	lua_pushstring(L, eng->ops->name); /* "sim", "afxdp", "dpdk" */
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, eng->ops->summary ? eng->ops->summary : "");
	lua_setfield(L, -2, "summary");
	lua_pushstring(L, eng->ops->options ? eng->ops->options : "");
	lua_setfield(L, -2, "options");
	lua_pushinteger(L, eng->id);
	lua_setfield(L, -2, "id");
	lua_pushboolean(L, !lab_is_open(eng));
	lua_setfield(L, -2, "closed");
	lua_pushboolean(L,
	                eng->e && eng->ops->get_region && eng->ops->get_region(eng->e));
	lua_setfield(L, -2, "has_region");
	if (eng->ifname[0]) {
		lua_pushstring(L, eng->ifname);
		lua_setfield(L, -2, "ifname"); /* the kernel interface it is on */
	}
	have = lab_engine_caps(eng, why, sizeof(why));
	if (eng->ifname[0])
		have |= RL_CAP_WIRE; /* a DPDK port on a kernel interface is on a wire too */
	lua_newtable(L);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		lua_pushboolean(L, (have & caps[i].bit) != 0);
		lua_setfield(L, -2, caps[i].name);
	}
	lua_setfield(L, -2, "caps");
	lua_pushstring(L, why); /* what this one lacks, and why ("" if nothing) */
	lua_setfield(L, -2, "caps_why");
	return 1;
}

/* "engine sim#1 (copy, ...)"; a given name also says what it is:
 * "engine fast (sim#2, zerocopy, ...)". */
static int engine_tostring(lua_State *L)
{
	struct lab_engine *eng = luaL_checkudata(L, 1, LAB_ENGINE_MT);
	char kind[40] = "";
	struct rl_region *r;
	struct rl_stats st;

	if (strchr(eng->name, '#') == NULL)
		snprintf(kind, sizeof(kind), "%.12s#%d, ", eng->ops->name, eng->id);
	if (!lab_is_open(eng)) {
		lua_pushfstring(L, "engine %s (%sclosed)", eng->name, kind);
		return 1;
	}
	memset(&st, 0, sizeof(st));
	if (eng->ops->stats)
		eng->ops->stats(eng->e, &st);
	r = eng->ops->get_region ? eng->ops->get_region(eng->e) : NULL;
	if (r)
		lua_pushfstring(L, "engine %s (%s%s, region %d frame%s x %d bytes)", eng->name,
		                kind, st.mode[0] ? st.mode : "?", (int)r->frames,
		                r->frames == 1 ? "" : "s", (int)r->frame_size);
	else
		lua_pushfstring(L, "engine %s (%s%s, no region yet)", eng->name, kind,
		                st.mode[0] ? st.mode : "?");
	return 1;
}

static const luaL_Reg engine_methods[] = {
    {"region", engine_region},
    {"info", engine_info},
    {NULL, NULL},
};

void lab_engine_register(lua_State *L)
{
	luaL_newmetatable(L, LAB_ENGINE_MT);
	lua_newtable(L);
	lab_setfuncs(L, engine_methods);
	lab_setfuncs(L, lab_engine_io_methods);
	lab_setfuncs(L, lab_engine_view_methods);
	lua_pushcfunction(L, engine_close); /* not in lab_call: it defers inside one */
	lua_setfield(L, -2, "close");
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, engine_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, engine_close);
	lua_setfield(L, -2, "__close");
	lab_pushcfunction(L, engine_tostring, "__tostring");
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &closing_key);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "v");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &opened_key);
	lab_handle_key(L, LAB_ENGINE_MT, &engine_key);
	lab_engine_io_fast(L);
}
