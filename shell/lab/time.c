/*
 * lab/time.c - lab.now() and lab.sleep(): time for polling loops.
 *
 * Lua's own clocks do not fit a packet loop: os.time() counts whole
 * seconds and os.clock() counts CPU time. lab.now() is the monotonic clock
 * in seconds (a float, nanosecond resolution), for timeouts and rates;
 * lab.sleep(s) waits without spinning. A signal (Ctrl-C) ends the sleep
 * early, so that the "interrupted" error (signals.c) is raised at once.
 */
#include <errno.h>
#include <time.h>

#include "shell.h"

static int lab_now(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
	return 1;
}

static int lab_sleep(lua_State *L)
{
	lua_Number s = luaL_checknumber(L, 1);
	struct timespec ts;

	if (s < 0 || s > 86400)
		return luaL_error(L, "sleep: %f seconds is not a pause - give 0 .. 86400", s);
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL); /* EINTR: a signal; its hook takes over */
	return 0;
}

static const luaL_Reg time_funcs[] = {
    {"now", lab_now},
    {"sleep", lab_sleep},
    {NULL, NULL},
};

void lab_time_register(lua_State *L)
{
	luaL_setfuncs(L, time_funcs, 0);
}
