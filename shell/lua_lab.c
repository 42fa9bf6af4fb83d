/*
 * lua_lab.c - the `lab` library: lab.version, lab.engines(), lab.open(),
 * lab.dissect(), lab.packet.*, lab.segment(), lab.reader(), lab.pcap(),
 * lab.now(), lab.sleep(); also what `require "ringlab"` returns.
 *
 * Registers the metatables of every handle (engine, region, buffer,
 * packet) once, then builds the table. The handles' methods live in the
 * lua_*.c file named after each.
 */
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

static const luaL_Reg lab_funcs[] = {
    {"engines", lab_engines},
    {"open", lab_open_engine},
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
	lab_reader_register(L);
	lab_pcap_register(L);
	lab_time_register(L);
	lab_lessons_register(L);
	return 1;
}
