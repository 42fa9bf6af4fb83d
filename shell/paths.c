/*
 * paths.c - a path with a zero byte in it is refused, not cut short.
 *
 * Lua strings may hold "\0"; the C library stops at it. io.open("a.svg\0x")
 * would write a.svg, loadfile("x.lua\0y") would load x.lua: the user never
 * learns the name was not what they typed. The functions of Lua's own
 * library that take paths are wrapped here so that such a path gets one
 * line instead; lab's own bindings (lab.open, lab.pcap) check their
 * strings themselves.
 */
#include <string.h>

#include "shell.h"

/* upvalue 1: the original function, 2: its name, 3: how many leading
 * arguments are paths */
static int path_guard(lua_State *L)
{
	int n = (int)lua_tointeger(L, lua_upvalueindex(3));

	for (int i = 1; i <= n && i <= lua_gettop(L); i++) {
		size_t len;
		const char *s;

		if (lua_type(L, i) != LUA_TSTRING)
			continue;
		s = lua_tolstring(L, i, &len);
		if (strlen(s) != len)
			return luaL_error(L,
			                  "%s: the path \"%s\\0...\" has a zero byte in it - "
			                  "give a path without one",
			                  lua_tostring(L, lua_upvalueindex(2)), s);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

static void wrap(lua_State *L, const char *lib, const char *fn, int paths)
{
	char name[32];

	if (lib) {
		lua_getglobal(L, lib);
		snprintf(name, sizeof(name), "%s.%s", lib, fn);
	} else {
		lua_pushglobaltable(L);
		snprintf(name, sizeof(name), "%s", fn);
	}
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	lua_getfield(L, -1, fn);
	if (lua_isfunction(L, -1)) {
		lua_pushstring(L, name);
		lua_pushinteger(L, paths);
		lua_pushcclosure(L, path_guard, 3);
		lua_setfield(L, -2, fn);
	} else {
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

void paths_guard_install(lua_State *L)
{
	wrap(L, "io", "open", 1);
	wrap(L, "io", "lines", 1);
	wrap(L, "io", "input", 1);
	wrap(L, "io", "output", 1);
	wrap(L, "io", "popen", 1);
	wrap(L, "os", "remove", 1);
	wrap(L, "os", "rename", 2);
	wrap(L, NULL, "loadfile", 1);
	wrap(L, NULL, "dofile", 1);
}
