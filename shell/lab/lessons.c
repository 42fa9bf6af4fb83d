/*
 * lab/lessons.c - what the lessons and the live view need from C:
 *
 *   lab.bench_mmap(n, size)
 *                         lesson 4: per packet, mmap a fresh buffer, copy
 *                         the packet in and munmap it, against copying it
 *                         into one pre-registered frame; ns per packet each
 *   lab.watch, lab.plot, lab.pause, lab.progress, lab.lessons_dir
 *                         thin doors into the embedded Lua modules
 *                         (ringlab.watch, ringlab.plot), loaded on first use
 *
 * (lab.opened() lives with the engines in lab/engine.c, lab.crypto in
 * lab/crypto.c.)
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "shell.h"

/* ---- lab.bench_mmap -------------------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Per packet: a fresh mapping, the packet copied in, the mapping gone. */
static double bench_mmap_each(lua_State *L, const char *pkt, size_t size, long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			luaL_error(L, "bench_mmap: mmap failed - try a smaller size");
		memcpy(m, pkt, size);
		__asm__ volatile("" : : "r"(m) : "memory");
		munmap(m, size);
	}
	return (now_ns() - t0) / (double)n;
}

/* Per packet: the packet copied into the same registered frame. */
static double bench_frame(const char *pkt, char *frame, size_t size, long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		memcpy(frame, pkt, size);
		__asm__ volatile("" : : "r"(frame) : "memory");
	}
	return (now_ns() - t0) / (double)n;
}

static int lab_bench_mmap(lua_State *L)
{
	lua_Integer n = luaL_optinteger(L, 1, 10000);
	lua_Integer size = luaL_optinteger(L, 2, 1500);
	char *pkt, *frame;

	if (n < 1 || n > 10000000)
		return luaL_error(L, "bench_mmap: %I packets? - give 1 .. 10000000", n);
	if (size < 1 || size > 65536)
		return luaL_error(L, "bench_mmap: %I bytes? - give 1 .. 65536", size);
	pkt = lua_newuserdatauv(L, (size_t)size, 0);
	frame = lua_newuserdatauv(L, (size_t)size, 0);
	memset(pkt, 0x5a, (size_t)size);
	memset(frame, 0, (size_t)size); /* registered: already faulted in */
	lua_createtable(L, 0, 5);
	lua_pushnumber(L, bench_mmap_each(L, pkt, (size_t)size, (long)n));
	lua_setfield(L, -2, "mmap_ns");
	lua_pushnumber(L, bench_frame(pkt, frame, (size_t)size, (long)n));
	lua_setfield(L, -2, "frame_ns");
	lua_pushinteger(L, n);
	lua_setfield(L, -2, "n");
	lua_pushinteger(L, size);
	lua_setfield(L, -2, "size");
	return 1;
}

/* ---- doors into the Lua modules -------------------------------------------- */

/* Upvalues: module name, function name. */
static int lazy_call(lua_State *L)
{
	int n = lua_gettop(L);

	lua_getglobal(L, "require");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_call(L, 1, 1);
	lua_getfield(L, -1, lua_tostring(L, lua_upvalueindex(2)));
	lua_remove(L, -2);
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

static void door(lua_State *L, const char *name, const char *module, const char *fn)
{
	lua_pushstring(L, module);
	lua_pushstring(L, fn);
	lua_pushcclosure(L, lazy_call, 2);
	lua_setfield(L, -2, name);
}

/* lab.files(dir) -> the names in dir, sorted (no "." or ".."), or nil,
 * message. No shell: the lesson list used to come from `ls`. */
static int lab_files(lua_State *L)
{
	size_t len;
	const char *dir = luaL_checklstring(L, 1, &len);
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (strlen(dir) != len)
		return luaL_error(L, "files: the path \"%s\\0...\" has a zero byte in it - "
		                  "give a path without one", dir);
	d = opendir(dir);
	if (!d) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", dir, strerror(errno));
		return 2;
	}
	lua_newtable(L);
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		lua_pushstring(L, de->d_name); /* may raise (memory): d leaks, rare */
		lua_rawseti(L, -2, ++n);
	}
	closedir(d);
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_remove(L, -2);
	lua_pushvalue(L, -2);
	lua_call(L, 1, 0);
	return 1;
}

static void lessons_dir(lua_State *L)
{
	const char *env = getenv("RINGLAB_LESSON_PATH");

	lua_pushstring(L, env && *env ? env : RINGLAB_LESSON_DIR);
	lua_setfield(L, -2, "lessons_dir");
}

void lab_lessons_register(lua_State *L)
{
	lua_pushcfunction(L, lab_bench_mmap);
	lua_setfield(L, -2, "bench_mmap");
	lua_pushcfunction(L, lab_files);
	lua_setfield(L, -2, "files");
	door(L, "watch", "ringlab.watch", "watch");
	door(L, "pause", "ringlab.watch", "pause");
	door(L, "progress", "ringlab.watch", "progress");
	door(L, "plot", "ringlab.plot", "plot");
	door(L, "use", "ringlab.cmdkit", "use"); /* the prompt's current engine */
	door(L, "compare", "ringlab.commands", "compare_text"); /* ledgers side by side */
	door(L, "drops", "ringlab.drops", "rows");       /* drop counters, cause, remedy */
	door(L, "explain", "ringlab.drops", "explain");  /* the same as text */
	lessons_dir(L);
}
