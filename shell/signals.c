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
 * Coroutines: a hook belongs to one lua_State, and a coroutine (a tcp.spawn
 * task, a coroutine.wrap) is a lua_State of its own. coroutine.resume and
 * coroutine.wrap are replaced by versions that note which thread runs now
 * (run_L); the handler sets the hook on that thread as well as on the main
 * one, so a loop inside a task is interrupted like one at the top.
 *
 * pcall: a pcall (xpcall, coroutine.resume) in a loop would catch
 * "interrupted" and go round again. So the interruption sticks until C
 * takes control back (signals_leave_lua): a pcall that caught it returns
 * false, "interrupted" as usual, so that the code after it can clean up
 * (restore the terminal, abort a connection), and a hook is set again;
 * GRACE seconds after the first raise that hook raises "interrupted" once
 * more wherever Lua is, and every pcall, xpcall and coroutine.resume
 * called from then on raises it instead of running anything. Nothing can
 * swallow it for good. A coroutine that died of it passes it on at once:
 * its coroutine.resume raises "interrupted" in the thread that resumed it.
 *
 * A second signal while the first is still waiting for Lua to reach an
 * instruction (stuck in a long C call: a pattern match that backtracks for
 * minutes, a library call that waits) ends the process at once, as in
 * lua.c: the handler cannot close engines (that is not async-signal-safe),
 * so nothing is left that needs closing:
 *   - an AF_XDP engine's XDP program is attached through a BPF link
 *     (engines/afxdp/xdp_prog.c); the kernel takes it off the interface
 *     when the dying process's descriptors close, as it closes the AF_XDP
 *     socket and frees the UMEM. (So does SIGKILL.)
 *   - what the kernel does not undo - DPDK's runtime directory,
 *     /var/run/dpdk/ringlab-<pid> - engines register at open time in
 *     libringlab's cleanup list (ringlab/cleanup.h); the handler runs it
 *     (rmdir, async-signal-safe) and then dies of the signal with its
 *     default action (exit status 128+signal, as the first would give).
 * Not a second SIGHUP or SIGPIPE: those repeat without anyone asking (the
 * kernel and the shell both pass on a hangup), so they wait for Lua like
 * the first.
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include <ringlab/cleanup.h>

#include "shell.h"

static lua_State *sig_L;
static lua_State *volatile run_L;         /* the thread running Lua now */
static volatile sig_atomic_t in_lua;      /* Lua code may be running */
static volatile sig_atomic_t armed;       /* the hook is set, not yet run */
static volatile sig_atomic_t interrupted; /* a SIGINT at the prompt */
static volatile sig_atomic_t terminate;   /* SIGTERM, SIGHUP, SIGQUIT, SIGPIPE: leave */
static volatile sig_atomic_t last_sig;
static volatile sig_atomic_t pending;     /* "interrupted" raised, C not back yet */
static struct timespec raised_at;         /* when it was first raised */

#define HOOK_ALL (LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT)
#define GRACE 0.25    /* seconds of cleanup after a pcall caught it */
#define RECHECK 1000  /* instructions between two looks at the clock */

static double since_raised(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - raised_at.tv_sec) +
	       (double)(now.tv_nsec - raised_at.tv_nsec) * 1e-9;
}

static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (!armed) { /* set again after a pcall caught it (see above) */
		if (!pending) {
			lua_sethook(L, NULL, 0, 0);
			return;
		}
		if (since_raised() < GRACE) { /* look again now and then */
			lua_sethook(L, stop_hook, LUA_MASKCOUNT, RECHECK);
			return;
		}
	}
	lua_sethook(L, NULL, 0, 0);
	armed = 0;
	if (!pending) {
		clock_gettime(CLOCK_MONOTONIC, &raised_at);
		pending = 1;
	}
	luaL_error(L, "interrupted");
}

/* After a protected call returned: if it caught the interruption, set the
 * hook again so that it is raised once more after GRACE. */
static void caught_check(lua_State *L, int first)
{
	if (armed)
		lua_sethook(L, stop_hook, HOOK_ALL, 1);
	else if (pending && lua_gettop(L) >= first && !lua_toboolean(L, first))
		lua_sethook(L, stop_hook, LUA_MASKCOUNT, RECHECK);
}

static int refuse_when_interrupted(lua_State *L)
{
	if (pending && since_raised() >= GRACE)
		return luaL_error(L, "interrupted");
	return 0;
}

static int pcall_done(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	(void)ctx;
	caught_check(L, 1);
	return lua_gettop(L);
}

/* pcall and xpcall: the original (upvalue 1) under the rule above. */
static int guarded_pcall(lua_State *L)
{
	refuse_when_interrupted(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, pcall_done);
	return pcall_done(L, LUA_OK, 0);
}

/* coroutine.resume: the original (upvalue 1), noting the thread it runs. */
static int guarded_resume(lua_State *L)
{
	lua_State *co;

	luaL_checktype(L, 1, LUA_TTHREAD);
	refuse_when_interrupted(L);
	co = lua_tothread(L, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	if (armed)
		lua_sethook(co, stop_hook, HOOK_ALL, 1);
	run_L = co;
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	run_L = L;
	/* the coroutine died of it: it goes on up, as through a call (a
	 * scheduler resuming tasks would note the error and carry on) */
	if (pending && !lua_toboolean(L, 1) && lua_status(co) != LUA_YIELD &&
	    lua_status(co) != LUA_OK)
		return luaL_error(L, "interrupted");
	caught_check(L, 1);
	return lua_gettop(L);
}

/* The function coroutine.wrap returns: upvalue 1 the coroutine, 2 the
 * guarded resume. Errors go on to the caller, as the original's do. */
static int wrapped_call(lua_State *L)
{
	lua_State *co = lua_tothread(L, lua_upvalueindex(1));

	lua_pushvalue(L, lua_upvalueindex(2));
	lua_insert(L, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 2);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	if (!lua_toboolean(L, 1)) {
		int st = lua_status(co);

		if (st != LUA_OK && st != LUA_YIELD)
			lua_resetthread(co); /* dead by an error: run its __close */
		lua_settop(L, 2);
		if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "interrupted")) {
			luaL_where(L, 1);
			lua_insert(L, 2);
			lua_concat(L, 2);
		}
		return lua_error(L);
	}
	return lua_gettop(L) - 1;
}

/* coroutine.wrap: upvalue 1 coroutine.create, 2 the guarded resume. */
static int guarded_wrap(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	lua_pushvalue(L, lua_upvalueindex(2));
	lua_pushcclosure(L, wrapped_call, 2);
	return 1;
}

static void guard(lua_State *L, int table, const char *name, lua_CFunction f)
{
	lua_getfield(L, table, name);
	if (lua_isfunction(L, -1)) {
		lua_pushcclosure(L, f, 1);
		lua_setfield(L, table, name);
	} else {
		lua_pop(L, 1);
	}
}

static void guard_protected_calls(lua_State *L)
{
	lua_pushglobaltable(L);
	guard(L, lua_gettop(L), "pcall", guarded_pcall);
	guard(L, lua_gettop(L), "xpcall", guarded_pcall);
	lua_pop(L, 1);
	lua_getglobal(L, "coroutine");
	if (lua_istable(L, -1)) {
		int t = lua_gettop(L);

		guard(L, t, "resume", guarded_resume);
		lua_getfield(L, t, "create");
		lua_getfield(L, t, "resume");
		lua_pushcclosure(L, guarded_wrap, 2);
		lua_setfield(L, t, "wrap");
	}
	lua_pop(L, 1);
}

/* A long C call (e:workers) watches this and returns early: set by every
 * signal, cleared when such a call starts (signals_c_stop). */
static volatile int c_stop;

const volatile int *signals_c_stop(void)
{
	c_stop = 0;
	return &c_stop;
}

static void on_signal(int sig)
{
	last_sig = sig;
	c_stop = 1;
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
		rl_cleanup_run(); /* what the kernel will not undo (above) */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	armed = 1;
	lua_sethook(sig_L, stop_hook, HOOK_ALL, 1);
	{
		lua_State *r = run_L;

		if (r && r != sig_L) /* a coroutine runs: its own hook */
			lua_sethook(r, stop_hook, HOOK_ALL, 1);
	}
}

void signals_install(lua_State *L)
{
	struct sigaction sa;

	sig_L = L;
	run_L = L;
	guard_protected_calls(L);
	paths_guard_install(L); /* not a signal: Lua's library as ringlab has it */
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
	run_L = sig_L;
	in_lua = 1;
}

/* Lua finished before the hook ran: the signal was for that chunk only. */
void signals_leave_lua(void)
{
	in_lua = 0;
	run_L = sig_L;
	if (armed || pending) {
		lua_sethook(sig_L, NULL, 0, 0);
		armed = 0;
		pending = 0; /* a hook left on a coroutine removes itself */
	}
}

bool signals_take_interrupt(void)
{
	bool was = interrupted;

	interrupted = 0;
	return was;
}

/* "interrupted" was raised in this chunk and C is not back yet: an error
 * that ends the chunk now came from the unwinding (a peer reset as its
 * connection was torn down), not from the script. */
bool signals_interrupting(void)
{
	return pending;
}

int signals_caught(void)
{
	return last_sig;
}

bool signals_terminate(void)
{
	return terminate;
}
