/*
 * lua_term.c - `ringlab.term`: the few terminal facts the views need.
 *
 * term.colour() is true only when stdout is a terminal and NO_COLOR is
 * unset (https://no-color.org); term.width() is the terminal's width in
 * columns (80 when stdout is not a terminal); term.isatty(fd).
 */
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "shell.h"

static int term_colour(lua_State *L)
{
	const char *nc = getenv("NO_COLOR");

	lua_pushboolean(L, isatty(STDOUT_FILENO) && !(nc && *nc));
	return 1;
}

static int term_width(lua_State *L)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col)
		lua_pushinteger(L, ws.ws_col);
	else
		lua_pushinteger(L, 80);
	return 1;
}

static int term_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

static const luaL_Reg term_funcs[] = {
    {"colour", term_colour},
    {"width", term_width},
    {"isatty", term_isatty},
    {NULL, NULL},
};

int luaopen_ringlab_term(lua_State *L)
{
	luaL_newlib(L, term_funcs);
	return 1;
}
