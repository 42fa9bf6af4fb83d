/*
 * lab/lab.c - the `lab` library: lab.version, lab.engines(), lab.open(),
 * lab.dissect(), lab.packet.*, lab.segment(), lab.reader(), lab.pcap(),
 * lab.now(), lab.sleep(); also what `require "ringlab"` returns. The
 * Lua plugins (lab.tcp, lab.http, lab.host, lab.testbed) load on first use.
 *
 * Registers the metatables of every handle (engine, region, buffer,
 * packet) once, then builds the table. The handles' methods live in the
 * lua_*.c file named after each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static int lab_engines(lua_State *L)
{
	struct lab_engine_entry v[LAB_ENGINES_MAX];
	int n = loader_list(v, LAB_ENGINES_MAX);

	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_createtable(L, 0, 6);
		set_str(L, "name", v[i].name);
		set_str(L, "summary",
		        v[i].ops && v[i].ops->summary ? v[i].ops->summary : "");
		set_str(L, "options",
		        v[i].ops && v[i].ops->options ? v[i].ops->options : "");
		lua_pushboolean(L, v[i].available);
		lua_setfield(L, -2, "available");
		if (!v[i].available)
			set_str(L, "why", v[i].why);
		set_str(L, "path", v[i].path[0] ? v[i].path : "built in");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* ---- every binding runs inside lab_call ------------------------------- *
 *
 * lab_depth counts the bindings running now (nested ones too: a binding
 * whose argument's __index calls another). While it is not 0, e:close()
 * and an engine's __gc only mark the engine closed (eng->closed, so every
 * lab_is_open check says so) and keep it whole (eng->e, its region); the real
 * close - ops->close, which frees the region - runs when the outermost
 * binding returns or raises. So a binding holding a region or frame pointer
 * read before some Lua ran never reads freed memory, whatever that Lua did.
 * lab_call runs the binding under lua_pcall, so an error (luaL_error, an
 * argument check, "interrupted") always comes back through here first:
 * the count cannot be left high. See the rule in shell.h. */
unsigned lab_depth;

/* luaL_argerror inside a binding called from C names it '?' and counts
 * self: say it the way a direct call would ("bad argument #1 to 'rx'"). */
static void name_argerror(lua_State *L)
{
	const char *msg = lua_tostring(L, -1), *rest;
	lua_Debug ar;
	const char *name = lua_tostring(L, lua_upvalueindex(2));
	int n;

	if (!msg || lua_type(L, -1) != LUA_TSTRING || sscanf(msg, "bad argument #%d", &n) != 1)
		return;
	rest = strstr(msg, " to '?' ");
	if (!rest)
		return;
	rest += strlen(" to '?' ");
	if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar)) {
		if (ar.name)
			name = ar.name;
		if (ar.namewhat && strcmp(ar.namewhat, "method") == 0 && --n == 0) {
			lua_pushfstring(L, "calling '%s' on bad self %s", name, rest);
			lua_replace(L, -2);
			return;
		}
	}
	lua_pushfstring(L, "bad argument #%d to '%s' %s", n, name, rest);
	lua_replace(L, -2);
}

static int lab_call(lua_State *L)
{
	int n = lua_gettop(L), st;

	lab_depth++;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	st = lua_pcall(L, n, LUA_MULTRET, 0);
	lab_depth--;
	if (lab_depth == 0)
		lab_close_deferred(L);
	if (st != LUA_OK) {
		name_argerror(L);
		return lua_error(L);
	}
	return lua_gettop(L);
}

/* The fast way in, for the few bindings a loop calls per batch (bt:tx,
 * bt:rx, bt:release, bt:udp(), e:fill, e:complete): when the argument at
 * upvalue 3's index is nil (0: always), that binding runs no Lua code at
 * all - no option table to index, no metamethod, no allocation before it
 * is done with the engine - so no Lua can close the engine under it and
 * the protected call (and the depth count, which only matters while Lua
 * runs inside a binding) is not needed: the binding runs directly, an
 * error it raises names it as a direct call does. Any other call takes
 * lab_call's protected way (docs/benchmarks.md has the figures). */
static int lab_call_fast(lua_State *L)
{
	lua_Integer k = lua_tointeger(L, lua_upvalueindex(3));

	if (k == 0 || lua_isnoneornil(L, (int)k))
		return lua_tocfunction(L, lua_upvalueindex(1))(L);
	return lab_call(L);
}

void lab_pushcfunction_fast(lua_State *L, lua_CFunction f, const char *name, int nilarg)
{
	lua_pushcfunction(L, f);
	lua_pushstring(L, name);
	lua_pushinteger(L, nilarg);
	lua_pushcclosure(L, lab_call_fast, 3);
}

/* Replace the methods l of the handle type at metatable mt by their fast
 * closures (lab_pushcfunction_fast with each nilarg). */
void lab_fast_methods(lua_State *L, const char *mt, const luaL_Reg *l, const int *nilarg)
{
	luaL_getmetatable(L, mt);
	lua_getfield(L, -1, "__index");
	for (int i = 0; l[i].name; i++) {
		lab_pushcfunction_fast(L, l[i].func, l[i].name, nilarg[i]);
		lua_setfield(L, -2, l[i].name);
	}
	lua_pop(L, 2);
}

/* A handle's type by its metatable, without luaL_checkudata's lookup by
 * name (which interns the name string on every call): the metatable is
 * kept in the registry under the address key as well (lab_handle_key). */
void *lab_test_handle(lua_State *L, int idx, const void *key)
{
	void *p = lua_touserdata(L, idx);
	int same;

	if (!p || !lua_getmetatable(L, idx))
		return NULL;
	lua_rawgetp(L, LUA_REGISTRYINDEX, key);
	same = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return same ? p : NULL;
}

void lab_handle_key(lua_State *L, const char *mt, const void *key)
{
	luaL_getmetatable(L, mt);
	lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void lab_pushcfunction(lua_State *L, lua_CFunction f, const char *name)
{
	lua_pushcfunction(L, f);
	lua_pushstring(L, name);
	lua_pushcclosure(L, lab_call, 2);
}

void lab_setfuncs(lua_State *L, const luaL_Reg *l)
{
	for (; l->name; l++) {
		lab_pushcfunction(L, l->func, l->name);
		lua_setfield(L, -2, l->name);
	}
}

/* The metatable of a handle type: methods as __index; gc (may be NULL) as
 * both __gc and __close, so `local x <close> = ...` releases at once; len
 * (may be NULL) as __len; tostring as __tostring. */
void lab_handle_mt(lua_State *L, const char *name, const luaL_Reg *methods,
		   lua_CFunction gc, lua_CFunction len, lua_CFunction tostring)
{
	luaL_newmetatable(L, name);
	lua_newtable(L);
	lab_setfuncs(L, methods);
	lua_setfield(L, -2, "__index");
	if (gc) {
		lua_pushcfunction(L, gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, gc);
		lua_setfield(L, -2, "__close");
	}
	if (len) {
		lab_pushcfunction(L, len, "__len");
		lua_setfield(L, -2, "__len");
	}
	lab_pushcfunction(L, tostring, "__tostring");
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
}

/* lab.tcp, lab.http, lab.host, lab.testbed: the Lua plugins, loaded on
 * first use with require "ringlab.NAME", as DESIGN.md's lab.tcp.connect()
 * promises. Any other missing field is nil, as in a plain table. */
static int lab_index(lua_State *L)
{
	static const char *const plugins[] = {"tcp", "http", "host", "testbed", NULL};
	const char *key = lua_tostring(L, 2);

	for (int i = 0; key && plugins[i]; i++) {
		if (strcmp(key, plugins[i]) != 0)
			continue;
		lua_getglobal(L, "require");
		lua_pushfstring(L, "ringlab.%s", key);
		lua_call(L, 1, 1);
		lua_pushvalue(L, -1);
		lua_setfield(L, 1, key); /* loaded once: keep it in lab */
		return 1;
	}
	lua_pushnil(L);
	return 1;
}

/* lab.tempdir() -> path: a fresh directory of this user's own (mkdtemp,
 * mode 0700) under $TMPDIR or /tmp, for files a script writes (a lesson's
 * picture) without racing anyone for a fixed name. */
static int lab_tempdir(lua_State *L)
{
	const char *base = getenv("TMPDIR");
	char path[4096];

	if (!base || !*base)
		base = "/tmp";
	if (snprintf(path, sizeof(path), "%s/ringlab-XXXXXX", base) >= (int)sizeof(path))
		return luaL_error(L, "tempdir: TMPDIR is too long - set a shorter TMPDIR");
	if (!mkdtemp(path))
		return luaL_error(L, "tempdir: cannot make a directory in %s (%s) - set TMPDIR "
		                     "to a writable directory",
		                  base, strerror(errno));
	lua_pushstring(L, path);
	return 1;
}

static const luaL_Reg lab_funcs[] = {
    {"engines", lab_engines},
    {"open", lab_open_engine},
    {"opened", lab_opened},
    {"get", lab_get},
    {"tempdir", lab_tempdir},
    {"dissect", lab_dissect_string},
    {NULL, NULL},
};

int luaopen_ringlab(lua_State *L)
{
	lab_engine_register(L);
	lab_region_register(L);
	lab_packet_register(L);
	lua_newtable(L);
	lab_setfuncs(L, lab_funcs);
	set_str(L, "version", RINGLAB_VERSION);
	lab_build_register(L);
	lab_segment_register(L);
	lab_appmem_register(L);
	lab_reader_register(L);
	lab_pcap_register(L);
	lab_batch_register(L);
	lab_time_register(L);
	lab_run_register(L);
	lab_lessons_register(L);
	lab_crypto_register(L);
	lab_kernel_register(L);
	lab_addr_register(L);
	lab_netmap_register(L); /* lab.netmap, e:ring() (after the engine's) */
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, lab_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	return 1;
}
