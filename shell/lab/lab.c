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

/* The metatable of a handle type: methods as __index; gc (may be NULL) as
 * both __gc and __close, so `local x <close> = ...` releases at once; len
 * (may be NULL) as __len; tostring as __tostring. */
void lab_handle_mt(lua_State *L, const char *name, const luaL_Reg *methods,
		   lua_CFunction gc, lua_CFunction len, lua_CFunction tostring)
{
	luaL_newmetatable(L, name);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	if (gc) {
		lua_pushcfunction(L, gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, gc);
		lua_setfield(L, -2, "__close");
	}
	if (len) {
		lua_pushcfunction(L, len);
		lua_setfield(L, -2, "__len");
	}
	lua_pushcfunction(L, tostring);
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
	luaL_newlib(L, lab_funcs);
	set_str(L, "version", RINGLAB_VERSION);
	lab_build_register(L);
	lab_segment_register(L);
	lab_appmem_register(L);
	lab_reader_register(L);
	lab_pcap_register(L);
	lab_batch_register(L);
	lab_time_register(L);
	lab_lessons_register(L);
	lab_crypto_register(L);
	lab_addr_register(L);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, lab_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	return 1;
}
