/*
 * lab/term.c - `ringlab.term`: the terminal facts and controls the views
 * and the live view (watch.lua) need.
 *
 * term.colour() is true only when stdout is a terminal and NO_COLOR is
 * unset (https://no-color.org); term.width() is the terminal's width in
 * columns (80 when stdout is not a terminal); term.isatty(fd).
 *
 * For the live view: term.size() (rows, cols, asked again on every call so
 * a resized window is noticed), term.raw(true|false [, keep_signals]) (keys
 * arrive one at a time, unechoed, Ctrl-C as a byte - or still as SIGINT
 * with keep_signals; the saved settings come back on raw(false) and,
 * whatever happens, at exit), term.key(seconds) (the bytes
 * of a key press, or nil after the wait), term.write(s) (flush stdio, then
 * one write: a whole frame reaches the screen at once) and term.hook(fn,
 * seconds) / term.unhook(): a count hook that calls fn at most every
 * `seconds` while Lua runs, so a script's long loop still redraws; when fn
 * returns a string, that string is raised as an error in the running code
 * (how q stops a script under the live view). The hook shares lua_sethook
 * with signals.c: Ctrl-C replaces it (and the running chunk ends), and
 * unhook() clears only its own hook.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "shell.h"

static struct termios saved;
static bool is_raw;
static int hook_ref = LUA_NOREF;
static double hook_every, hook_last;

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int term_colour(lua_State *L)
{
	const char *nc = getenv("NO_COLOR");

	lua_pushboolean(L, isatty(STDOUT_FILENO) && !(nc && *nc));
	return 1;
}

static bool win_size(int *rows, int *cols)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 ||
	    !ws.ws_col || !ws.ws_row)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

static int term_width(lua_State *L)
{
	int rows, cols;

	lua_pushinteger(L, win_size(&rows, &cols) ? cols : 80);
	return 1;
}

static int term_size(lua_State *L)
{
	int rows = 24, cols = 80;

	win_size(&rows, &cols);
	lua_pushinteger(L, rows);
	lua_pushinteger(L, cols);
	return 2;
}

static int term_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

static void restore_at_exit(void)
{
	if (is_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	is_raw = false;
}

/* raw(true): no line editing, no echo, no signals from keys; raw(true, true):
 * no line editing, no echo, but Ctrl-C stays a signal, Enter a newline and a
 * read waits for a key (a script under the live view may still read lines);
 * raw(false): back as it was. Returns false when stdin is not a terminal. */
static int term_raw(lua_State *L)
{
	static bool registered;
	struct termios t;

	if (!lua_toboolean(L, 1)) {
		restore_at_exit();
		lua_pushboolean(L, 1);
		return 1;
	}
	if (is_raw || tcgetattr(STDIN_FILENO, &saved) != 0) {
		lua_pushboolean(L, is_raw);
		return 1;
	}
	if (!registered)
		registered = atexit(restore_at_exit) == 0;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
	if (lua_toboolean(L, 2)) { /* Enter stays \n, a read still waits */
		t.c_cc[VMIN] = 1;
	} else {
		t.c_lflag &= ~(tcflag_t)ISIG;
		t.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
		t.c_cc[VMIN] = 0;
	}
	t.c_cc[VTIME] = 0;
	is_raw = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	lua_pushboolean(L, is_raw);
	return 1;
}

/* The bytes of one key press (an escape sequence arrives whole), or nil
 * when none came within the wait. */
static int term_key(lua_State *L)
{
	lua_Number s = luaL_optnumber(L, 1, 0);
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	char buf[32];
	ssize_t n;

	if (s < 0 || s > 3600)
		return luaL_error(L, "key: wait %f seconds? - give 0 .. 3600", s);
	if (poll(&p, 1, (int)(s * 1000)) <= 0 || !(p.revents & POLLIN)) {
		lua_pushnil(L);
		return 1;
	}
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n <= 0)
		lua_pushnil(L);
	else
		lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

static int term_write(lua_State *L)
{
	size_t len, done = 0;
	const char *s = luaL_checklstring(L, 1, &len);

	fflush(stdout);
	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, s + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return 0;
}

static void refresh_hook(lua_State *L, lua_Debug *ar)
{
	double t = mono_now();

	(void)ar;
	if (t - hook_last < hook_every || hook_ref == LUA_NOREF)
		return;
	hook_last = t;
	lua_rawgeti(L, LUA_REGISTRYINDEX, hook_ref);
	if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
		lua_pop(L, 1); /* a view that fails must not break the script */
		return;
	}
	if (lua_type(L, -1) == LUA_TSTRING)
		lua_error(L); /* the view asks the script to stop */
	lua_pop(L, 1);
}

static int term_unhook(lua_State *L)
{
	if (lua_gethook(L) == refresh_hook)
		lua_sethook(L, NULL, 0, 0);
	luaL_unref(L, LUA_REGISTRYINDEX, hook_ref);
	hook_ref = LUA_NOREF;
	return 0;
}

/* hook(fn, seconds): call fn at most every `seconds` while Lua runs. */
static int term_hook(lua_State *L)
{
	lua_Number s = luaL_optnumber(L, 2, 0.1);

	luaL_checktype(L, 1, LUA_TFUNCTION);
	if (s < 0.01 || s > 60)
		return luaL_error(L, "hook: every %f seconds? - give 0.01 .. 60", s);
	term_unhook(L);
	lua_pushvalue(L, 1);
	hook_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	hook_every = s;
	hook_last = mono_now();
	lua_sethook(L, refresh_hook, LUA_MASKCOUNT, 1000);
	return 0;
}

static const luaL_Reg term_funcs[] = {
    {"colour", term_colour}, {"width", term_width}, {"size", term_size},
    {"isatty", term_isatty}, {"raw", term_raw},     {"key", term_key},
    {"write", term_write},   {"hook", term_hook},   {"unhook", term_unhook},
    {NULL, NULL},
};

int luaopen_ringlab_term(lua_State *L)
{
	luaL_newlib(L, term_funcs);
	return 1;
}
