/*
 * signals.c - Ctrl-C and SIGTERM without losing the lab.
 *
 * Killing ringlab the default way would skip every close(): an AF_XDP
 * engine would leave its XDP program attached to the interface, and the
 * next open on it would be refused. So ringlab catches SIGINT, and the
 * signals that end it - SIGTERM, SIGHUP (its terminal or tmux window was
 * closed), SIGQUIT (Ctrl-\: no core dump, the engines are closed instead)
 * and SIGPIPE (its output went to a pipe nobody reads any more; both stay
 * ignored when ringlab was started ignoring them, as under nohup) - and
 * turns them into ordinary Lua errors, the
 * way the `lua` interpreter does (lua.c, laction/lstop): the handler only
 * sets a hook with lua_sethook(), and the hook, which runs at the next Lua
 * instruction, raises error("interrupted"). That unwinds the running chunk
 * through every pcall and __close like any other error:
 *
 *   at the prompt     a line being typed is cancelled (repl.c sees the flag)
 *   a REPL command    "interrupted", back to the prompt, engines open
 *   a script, -c, -e  the chunk fails and prints "interrupted"; main()
 *                     closes the Lua state and so every engine (XDP
 *                     programs detached), exit 128+signal
 *   SIGTERM, SIGHUP, SIGQUIT, SIGPIPE   the same, wherever it lands, and
 *                     ringlab leaves: the prompt stops reading, main()
 *                     closes every engine and says "stopped by ...; engines
 *                     closed", exit 128+signal
 *
 * The message handler in main.c (ringlab.errors) turns the error into that
 * one word wherever it lands, without a traceback unless --debug.
 *
 * A second signal while the first is still waiting for Lua to reach an
 * instruction (stuck in a long C call) kills at once, as in lua.c; then
 * `ringlab testbed down` removes what was left. Not a second SIGHUP or
 * SIGPIPE: those repeat without anyone asking (the kernel and the shell
 * both pass on a hangup), so they wait for Lua like the first.
 */
#include <signal.h>
#include <string.h>

#include "shell.h"

static lua_State *sig_L;
static volatile sig_atomic_t in_lua;      /* Lua code may be running */
static volatile sig_atomic_t armed;       /* the hook is set, not yet run */
static volatile sig_atomic_t interrupted; /* a SIGINT at the prompt */
static volatile sig_atomic_t terminate;   /* SIGTERM, SIGHUP, SIGQUIT, SIGPIPE: leave */
static volatile sig_atomic_t last_sig;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	armed = 0;
	luaL_error(L, "interrupted");
}

static void on_signal(int sig)
{
	last_sig = sig;
	if (sig != SIGINT)
		terminate = 1;
	if (!in_lua) {
		interrupted = sig == SIGINT;
		return;
	}
	if (armed) { /* the first one never reached Lua */
		/* A hangup comes twice (the kernel and the shell both send it),
		 * a closed pipe once per write: wait for Lua all the same. A
		 * person pressing Ctrl-C (kill, Ctrl-\\) again means: give up. */
		if (sig == SIGHUP || sig == SIGPIPE)
			return;
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	armed = 1;
	lua_sethook(sig_L, stop_hook,
	            LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void signals_install(lua_State *L)
{
	struct sigaction sa;

	sig_L = L;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: select(), sleeps and reads see EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	/* Started ignoring a hangup (nohup) or a closed pipe: keep ignoring it,
	 * as the one who started ringlab asked. */
	for (int i = 0; i < 2; i++) {
		int sig = i ? SIGPIPE : SIGHUP;
		struct sigaction old;

		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sig, &sa, NULL);
	}
}

void signals_enter_lua(void)
{
	in_lua = 1;
}

/* Lua finished before the hook ran: the signal was for that chunk only. */
void signals_leave_lua(void)
{
	in_lua = 0;
	if (armed) {
		lua_sethook(sig_L, NULL, 0, 0);
		armed = 0;
	}
}

bool signals_take_interrupt(void)
{
	bool was = interrupted;

	interrupted = 0;
	return was;
}

int signals_caught(void)
{
	return last_sig;
}

bool signals_terminate(void)
{
	return terminate;
}
