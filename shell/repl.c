/*
 * repl.c - the interactive prompt: reading lines, history, tab completion.
 *
 * Everything a line means is decided in Lua (ringlab.repl, embedded from
 * shell/repl.lua): C reads a line, hands the text so far to repl.eval(),
 * which answers "ok", "more" (an unfinished Lua chunk: keep reading with
 * the `>>` prompt) or "quit". On a terminal, lines come from readline with
 * history in ~/.ringlab_history and completion from repl.complete(); when
 * stdin is a pipe or file, lines are read plainly with no prompt, so tests
 * can feed commands in and read clean output.
 *
 * On a terminal readline runs in its callback mode inside a select() loop,
 * so that ringlab stays in charge between keystrokes: Ctrl-C (a flag set by
 * signals.c) cancels the line being typed, and every 50 ms without input
 * repl.idle() runs, which lets `host up` answer ARP and pings while the
 * prompt waits.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "shell.h"

static lua_State *gL;
static int repl_ref = LUA_NOREF;
static char history_file[1024];

/* Push repl[name]. */
static void repl_fn(lua_State *L, const char *name)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
	lua_getfield(L, -1, name);
	lua_remove(L, -2);
}

/* ---- completion ------------------------------------------------------------ */

static char **matches;
static int nmatches, next_match;

static char *generator(const char *text, int state)
{
	(void)text;
	if (state == 0)
		next_match = 0;
	if (next_match < nmatches)
		return strdup(matches[next_match++]);
	return NULL;
}

static void free_matches(void)
{
	for (int i = 0; i < nmatches; i++)
		free(matches[i]);
	free(matches);
	matches = NULL;
	nmatches = 0;
}

static char **complete(const char *text, int start, int end)
{
	lua_State *L = gL;
	int n, top = lua_gettop(L);

	(void)end;
	rl_attempted_completion_over = 1;
	free_matches();
	repl_fn(L, "complete");
	lua_pushstring(L, text);
	lua_pushstring(L, rl_line_buffer);
	lua_pushinteger(L, start);
	if (lua_pcall(L, 3, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
		lua_settop(L, top);
		return NULL;
	}
	n = (int)luaL_len(L, -1);
	matches = calloc((size_t)n + 1, sizeof(*matches));
	for (int i = 0; matches && i < n; i++) {
		lua_geti(L, -1, i + 1);
		matches[nmatches++] = strdup(luaL_optstring(L, -1, ""));
		lua_pop(L, 1);
	}
	lua_settop(L, top);
	/* no space after "lab." or "e:", nor after a key= word (send tcp ... size=) */
	rl_completion_append_character =
	    strpbrk(text, ".:") ||
	            (nmatches == 1 && matches[0][0] && matches[0][strlen(matches[0]) - 1] == '=')
	        ? '\0'
	        : ' ';
	return rl_completion_matches(text, generator);
}

static void setup_readline(void)
{
	const char *home = getenv("HOME");

	rl_readline_name = "ringlab";
	rl_catch_signals = 0; /* signals.c handles SIGINT, SIGTERM, SIGHUP, SIGQUIT */
	rl_attempted_completion_function = complete;
	rl_basic_word_break_characters = " \t\n\"'><=;|&{(,[+-*/%^~#";
	using_history();
	if (home && *home) {
		snprintf(history_file, sizeof(history_file), "%s/.ringlab_history", home);
		read_history(history_file);
	}
}

static void remember(const char *line)
{
	int rc;

	if (!*line || !isatty(STDIN_FILENO))
		return;
	add_history(line);
	if (!history_file[0])
		return;
	rc = append_history(1, history_file);
	if (rc != 0)
		rc = write_history(history_file); /* the file did not exist yet */
	if (rc == 0)
		rc = history_truncate_file(history_file, 2000);
	if (rc != 0) { /* said once; the session keeps its history in memory */
		fprintf(stderr,
		        "\nringlab: cannot save history to %s: %s - this session's lines are "
		        "kept in memory only (make it writable or set HOME)\n",
		        history_file, strerror(rc));
		history_file[0] = '\0';
	}
}

/* ---- reading --------------------------------------------------------------- */

enum got { GOT_LINE, GOT_EOF, GOT_CANCEL, GOT_QUIT };

static enum got read_plain(char **out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	errno = 0;
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		if (signals_terminate())
			return GOT_QUIT;
		if (errno == EINTR && signals_take_interrupt()) {
			clearerr(stdin);
			return GOT_CANCEL;
		}
		return GOT_EOF;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*out = line;
	return GOT_LINE;
}

static char *cb_line;
static bool cb_done;

static void on_line(char *line)
{
	cb_line = line;
	cb_done = true;
	rl_callback_handler_remove();
}

/* Between keystrokes: repl.idle() (hosts answering). */
static void idle(lua_State *L)
{
	repl_fn(L, "idle");
	signals_enter_lua();
	if (lua_pcall(L, 0, 0, 0) != LUA_OK)
		lua_pop(L, 1);
	signals_leave_lua();
}

/* Ctrl-C while typing: drop the line, show ^C, a fresh prompt follows. */
static void cancel_line(void)
{
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_echo_signal_char(SIGINT);
	rl_callback_handler_remove();
	putchar('\n');
}

static enum got read_tty(lua_State *L, const char *prompt, char **out)
{
	cb_done = false;
	cb_line = NULL;
	rl_callback_handler_install(prompt, on_line);
	while (!cb_done) {
		struct timeval tv = {0, 50000};
		fd_set fds;
		int n;

		FD_ZERO(&fds);
		FD_SET(STDIN_FILENO, &fds);
		n = select(STDIN_FILENO + 1, &fds, NULL, NULL, &tv);
		if (signals_terminate()) {
			rl_callback_handler_remove();
			putchar('\n');
			return GOT_QUIT;
		}
		if (signals_take_interrupt()) {
			cancel_line();
			return GOT_CANCEL;
		}
		if (n == 0)
			idle(L);
		else if (n > 0)
			rl_callback_read_char();
	}
	*out = cb_line;
	return cb_line ? GOT_LINE : GOT_EOF;
}

static char *prompt_string(lua_State *L, bool more)
{
	char *p;

	if (more)
		return strdup(">> ");
	repl_fn(L, "prompt");
	if (lua_pcall(L, 0, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
		lua_pop(L, 1);
		return strdup("ringlab> ");
	}
	p = strdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	return p;
}

/* "ok", "more" or "quit" for the chunk so far. */
static int eval(lua_State *L, const char *chunk)
{
	int r = 0;

	repl_fn(L, "eval");
	lua_pushstring(L, chunk);
	signals_enter_lua();
	r = lua_pcall(L, 1, 1, 0);
	signals_leave_lua();
	if (r != LUA_OK) { /* repl.eval reports its own; this is Ctrl-C between */
		const char *msg = lua_tostring(L, -1), *c = msg ? strrchr(msg, ':') : NULL;

		r = 0;
		if (msg && (!strcmp(msg, "interrupted") || (c && !strcmp(c, ": interrupted"))))
			fprintf(stdout, "%sinterrupted%s\n", isatty(STDOUT_FILENO) ? "\r" : "",
			        isatty(STDOUT_FILENO) ? "\033[K" : ""); /* over ^C */
		else
			fprintf(stdout, "error: %s\n", msg ? msg : "(no message)");
	} else {
		const char *s = lua_tostring(L, -1);

		r = s && !strcmp(s, "more") ? 1 : s && !strcmp(s, "quit") ? 2 : 0;
	}
	lua_pop(L, 1);
	fflush(stdout);
	return r;
}

static void append(char **chunk, const char *line)
{
	size_t a = *chunk ? strlen(*chunk) : 0, b = strlen(line);
	char *c = realloc(*chunk, a + b + 2);

	if (!c)
		return;
	if (a)
		c[a++] = '\n';
	memcpy(c + a, line, b + 1);
	*chunk = c;
}

int repl_run(lua_State *L)
{
	bool tty = isatty(STDIN_FILENO);
	char *chunk = NULL;
	int state = 0;

	gL = L;
	lua_getglobal(L, "require");
	lua_pushstring(L, "ringlab.repl");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "ringlab: %s\n", lua_tostring(L, -1));
		return 1;
	}
	repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	if (tty) {
		setup_readline();
		repl_fn(L, "banner");
		lua_pcall(L, 0, 0, 0);
	}
	for (;;) {
		char *prompt = tty ? prompt_string(L, state == 1) : NULL;
		char *line = NULL;
		enum got g = tty ? read_tty(L, prompt, &line) : read_plain(&line);

		free(prompt);
		if (g == GOT_EOF && tty)
			putchar('\n');
		if (g == GOT_EOF || g == GOT_QUIT)
			break;
		if (g == GOT_CANCEL) { /* also drops an unfinished chunk */
			free(chunk);
			chunk = NULL;
			state = 0;
			continue;
		}
		remember(line);
		append(&chunk, line);
		free(line);
		state = eval(L, chunk ? chunk : "");
		if (state != 1) {
			free(chunk);
			chunk = NULL;
		}
		if (state == 2 || signals_terminate())
			break;
	}
	free(chunk);
	free_matches();
	return 0;
}
