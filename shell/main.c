/*
 * main.c - the ringlab program: options, the Lua state, and what to run.
 *
 *   ringlab                      the REPL
 *   ringlab script.lua [args]    run a script (args in the global `arg`)
 *   ringlab -e CODE              run CODE (may be repeated)
 *   ringlab -c COMMAND           run a prompt command, e.g. -c 'open sim'
 *   ringlab -i script.lua        run the script, then stay interactive
 *   ringlab --watch script.lua   run it under the live view (watch.lua)
 *   ringlab testbed ARGS...      require("ringlab.testbed").main({ARGS})
 *   ringlab --netns NAME ...     first enter /var/run/netns/NAME, as
 *                                `ip netns exec NAME` does (see enter_netns)
 *
 * The Lua state gets the standard libraries, `lab` (also `require
 * "ringlab"`), the embedded shell modules (ringlab.commands, .views, .json,
 * .repl) and a package.path that finds plugins: $RINGLAB_PLUGIN_PATH, the
 * source tree's plugins/ and the installed plugin directory. A script, -e
 * or -c that raises an error exits 1 after printing one line (a script's
 * line says its file:line); --debug or RINGLAB_DEBUG=1 (lab.debug) adds the
 * traceback (msghandler). SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE
 * become the Lua error "interrupted" (signals.c), so a script stopped with
 * Ctrl-C - or a closed terminal - still closes its engines on the way out
 * and exits with 128 + the signal number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "ringlab/netns.h"
#include "shell.h"

struct options {
	const char *netns;
	const char *script;
	const char **exprs; /* -e and -c in order: as many as argv holds */
	bool *is_command; /* -c: a prompt command, not Lua */
	int nexprs;
	bool interactive;
	bool testbed;
	bool watch; /* --watch: the script runs under the live view */
	bool debug; /* --debug: errors with their traceback (lab.debug) */
	int argi; /* argv index of the script or of "testbed" */
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "ringlab %s - an interactive packet lab\n"
	    "\n"
	    "usage: ringlab [options] [script.lua [args...]]\n"
	    "       ringlab [options] testbed up|down|shell|status ...\n"
	    "\n"
	    "  (nothing)          start the interactive prompt (type help there)\n"
	    "  script.lua args    run a Lua script; args are in the global `arg`\n"
	    "  -e CODE            run a line of Lua (may be given more than once)\n"
	    "  -c COMMAND         run a prompt command, e.g. -c 'open sim' (repeatable)\n"
	    "  -i                 stay interactive after the script or -e\n"
	    "  --watch            run the script under the live view (ringlab.watch)\n"
	    "  --debug            errors with a Lua traceback (also RINGLAB_DEBUG=1)\n"
	    "  --netns NAME       run inside the network namespace NAME (needs root)\n"
	    "  testbed ARGS       the lab's network namespaces (ringlab.testbed plugin)\n"
	    "  --version          print the version\n"
	    "  --help             print this help\n"
	    "\n"
	    "environment: RINGLAB_ENGINE_PATH (dirs with ringlab-engine-NAME.so),\n"
	    "RINGLAB_PLUGIN_PATH (dirs with Lua plugins), RINGLAB_DEBUG, NO_COLOR.\n",
	    RINGLAB_VERSION);
}

static void die(int code, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "ringlab: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(code);
}

static void parse(int argc, char **argv, struct options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->exprs = calloc((size_t)argc, sizeof(*o->exprs)); /* no limit: never fewer than given */
	o->is_command = calloc((size_t)argc, sizeof(*o->is_command));
	if (!o->exprs || !o->is_command)
		die(1, "out of memory reading the command line%s", "", NULL);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("ringlab %s\n", RINGLAB_VERSION);
			exit(0);
		} else if (!strcmp(a, "-i")) {
			o->interactive = true;
		} else if (!strcmp(a, "--watch")) {
			o->watch = true;
		} else if (!strcmp(a, "--debug")) {
			o->debug = true;
		} else if (!strcmp(a, "-e") || !strcmp(a, "-c") || !strcmp(a, "--netns")) {
			if (i + 1 >= argc)
				die(2, "%s needs an argument - see ringlab --help", a,
				    NULL);
			if (a[1] == '-') {
				o->netns = argv[++i];
			} else {
				o->is_command[o->nexprs] = a[1] == 'c';
				o->exprs[o->nexprs++] = argv[++i];
			}
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			die(2, "unknown option %s - see ringlab --help", a, NULL);
		}
	}
	o->argi = i;
	if (i < argc && !strcmp(argv[i], "testbed"))
		o->testbed = true;
	else if (i < argc)
		o->script = argv[i];
}

static int open_netns(const char *name)
{
	char path[512];
	int fd;

	if (strchr(name, '/'))
		die(2,
		    "--netns %s: a namespace name has no '/' - give a name from `ip "
		    "netns list`",
		    name, NULL);
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* a testbed's lab side X-lab: the command that makes it */
		size_t n = strlen(name);
		char up[300];

		if (n > 4 && !strcmp(name + n - 4, "-lab"))
			snprintf(up, sizeof(up), "make it with `ringlab testbed up%s%.*s`",
			         strcmp(name, "rl-lab") ? " name=" : "",
			         strcmp(name, "rl-lab") ? (int)(n - 4) : 0, name);
		else
			snprintf(up, sizeof(up), "give one `ip netns list` shows, or make "
			         "the testbed with `ringlab testbed up` (its lab side is rl-lab)");
		die(2, "--netns %s: there is no such network namespace - %s", name, up);
	}
	if (fd < 0)
		die(2, "--netns %s: cannot open it (%s) - run as root", name,
		    strerror(errno));
	return fd;
}

/* /sys describes the network namespace of whoever mounted it, so after
 * setns() the old /sys still lists the old interfaces. Like `ip netns exec`
 * (iproute2 lib/namespace.c): a mount namespace of our own, nothing
 * propagating back, and a fresh sysfs over /sys. */
static void remount_sys(const char *name)
{
	unsigned long flags = 0;
	struct statvfs st;

	if (unshare(CLONE_NEWNS) < 0)
		die(2, "--netns %s: cannot make a mount namespace (%s) - run as root",
		    name, strerror(errno));
	if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0)
		die(2, "--netns %s: cannot make / a slave mount (%s)", name,
		    strerror(errno));
	if (umount2("/sys", MNT_DETACH) < 0 && statvfs("/sys", &st) == 0 &&
	    (st.f_flag & ST_RDONLY))
		flags = MS_RDONLY; /* cannot shadow read-only with read-write */
	if (mount(name, "/sys", "sysfs", flags, NULL) < 0)
		die(2, "--netns %s: cannot mount /sys for it (%s)", name,
		    strerror(errno));
}

static void enter_netns(const char *name)
{
	int fd = open_netns(name);

	if (setns(fd, CLONE_NEWNET) < 0)
		die(2,
		    "--netns %s: cannot enter it (%s) - run as root (sudo ringlab "
		    "--netns ...)",
		    name, strerror(errno));
	close(fd);
	remount_sys(name);
}

/* lab.netns: the name (in /var/run/netns, as `ip netns` gives them) of the
 * network namespace ringlab runs in, however it got there (--netns, ip
 * netns exec), or nil - so the prompt can name the testbed's peer side
 * (X-lab -> X-peer) instead of guessing. */
static void set_netns_name(lua_State *L)
{
	char name[256];

	if (!rl_netns_name(name, sizeof(name)))
		return;
	lua_getglobal(L, "lab");
	lua_pushstring(L, name);
	lua_setfield(L, -2, "netns");
	lua_pop(L, 1);
}

static void add_dir(luaL_Buffer *b, const char *dir)
{
	lua_pushfstring(b->L, "%s/?.lua;%s/?/init.lua;", dir, dir);
	luaL_addvalue(b);
}

/* package.path: $RINGLAB_PLUGIN_PATH dirs, build tree, install dir, then
 * Lua's own. */
static void set_path(lua_State *L)
{
	const char *env = getenv("RINGLAB_PLUGIN_PATH");
	luaL_Buffer b;

	lua_getglobal(L, "package");
	luaL_buffinit(L, &b);
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;

		for (char *d = strtok_r(copy, ":", &save); d;
		     d = strtok_r(NULL, ":", &save))
			add_dir(&b, d);
		free(copy);
	}
	add_dir(&b, RINGLAB_PLUGIN_BUILD_DIR);
	add_dir(&b, RINGLAB_PLUGIN_INSTALL_DIR);
	lua_getfield(L, -2, "path");
	luaL_addvalue(&b);
	luaL_pushresult(&b);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
}

static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();

	if (!L)
		die(1, "out of memory starting Lua%s%s", "", "");
	luaL_openlibs(L);
	set_path(L);
	luaL_requiref(L, "ringlab", luaopen_ringlab, 0);
	lua_setglobal(L, "lab");
	luaL_requiref(L, "ringlab.term", luaopen_ringlab_term, 0);
	lua_pop(L, 1);
	lab_preload_embedded(L);
	return L;
}

/* ---- errors: what the user sees -------------------------------------------
 *
 * An error the user caused is one line: what was wrong and what to do. So
 * the message handler (also require("ringlab.errors").handler, which the
 * prompt and the live view use with xpcall) turns an error into text:
 *
 *   lab.debug set (--debug, RINGLAB_DEBUG=1)   the message and a traceback
 *   Ctrl-C ("interrupted" raised by signals.c)  "interrupted", nothing more
 *   otherwise                                   the message on one line
 *
 * A position that only says "the prompt", "-e" or "inside ringlab"
 * (stdin:1:, (command line):1:, ringlab/NAME.lua:N:, a plugin's file) is
 * dropped; when a user's own script file is running, its file:line takes
 * that place, so a script's error still says where it happened. */
static bool debug_on(lua_State *L)
{
	bool on = false;

	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "ringlab") == LUA_TTABLE) {
		lua_getfield(L, -1, "debug");
		on = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	return on;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return n && !strncmp(path, dir, n) && (dir[n - 1] == '/' || path[n] == '/');
}

/* A chunk of the lab's own: the prompt, -e, an embedded module, one of the
 * lab's plugins (not the user's modules on RINGLAB_PLUGIN_PATH), a lesson
 * run by `lesson N` (a student reads what went wrong, not where in it). */
static bool lab_chunk(const char *name, size_t len)
{
	char path[1024];

	if (len >= sizeof(path))
		return false;
	memcpy(path, name, len);
	path[len] = '\0';
	return !strcmp(path, "stdin") || !strcmp(path, "(command line)") ||
	       !strncmp(path, "ringlab/", 8) || !strcmp(path, "testbed") ||
	       under(path, RINGLAB_PLUGIN_BUILD_DIR) ||
	       under(path, RINGLAB_PLUGIN_INSTALL_DIR) ||
	       under(path, RINGLAB_LESSON_DIR);
}

static bool is_file(const char *name, size_t len)
{
	char path[1024];

	if (len >= sizeof(path))
		return false;
	memcpy(path, name, len);
	path[len] = '\0';
	return access(path, F_OK) == 0;
}

/* Length of a leading "chunk:LINE: " in msg, and of its chunk name (a
 * chunk of the lab's or a file: "198.18.0.2:9999: ..." is no position). */
static size_t position_len(const char *msg, size_t *name_len)
{
	const char *c = strstr(msg, ": "), *p;
	size_t n;

	if (!c || memchr(msg, '\n', (size_t)(c - msg)))
		return 0;
	for (p = c; p > msg && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p == c || p == msg || p[-1] != ':')
		return 0;
	n = (size_t)(p - 1 - msg);
	if (!lab_chunk(msg, n) && !is_file(msg, n))
		return 0;
	*name_len = n;
	return (size_t)(c + 2 - msg);
}

static int msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	size_t name_len = 0, pos;
	lua_Debug ar;

	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)",
			                      luaL_typename(L, 1));
	}
	if (debug_on(L)) {
		luaL_traceback(L, L, msg, 1);
		return 1;
	}
	pos = position_len(msg, &name_len);
	if (!strcmp(msg + pos, "interrupted")) { /* Ctrl-C, wherever it landed */
		lua_pushliteral(L, "interrupted");
		return 1;
	}
	if (pos && !lab_chunk(msg, name_len)) {
		lua_pushstring(L, msg); /* a script's own file:line: as it is */
		return 1;
	}
	msg += pos;
	/* The innermost level running a user's script file. */
	for (int level = 1; lua_getstack(L, level, &ar); level++) {
		if (!lua_getinfo(L, "Sl", &ar) || ar.source[0] != '@' ||
		    ar.currentline <= 0 || lab_chunk(ar.source + 1, strlen(ar.source + 1)))
			continue;
		lua_pushfstring(L, "%s:%d: %s", ar.source + 1, ar.currentline, msg);
		return 1;
	}
	lua_pushstring(L, msg);
	return 1;
}

/* require("ringlab.errors"): {handler = msghandler}. */
static int open_errors(lua_State *L)
{
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, msghandler);
	lua_setfield(L, -2, "handler");
	return 1;
}

/* lab.debug: --debug, or RINGLAB_DEBUG set to anything but "" or "0". */
static void set_debug(lua_State *L, bool flag)
{
	const char *env = getenv("RINGLAB_DEBUG");

	luaL_requiref(L, "ringlab.errors", open_errors, 0);
	lua_pop(L, 1);
	lua_getglobal(L, "lab");
	lua_pushboolean(L, flag || (env && *env && strcmp(env, "0")));
	lua_setfield(L, -2, "debug");
	lua_pop(L, 1);
}

/* Call the function under its nargs arguments; print a failure as one line
 * (msghandler), Ctrl-C as "interrupted" (nothing when a signal that
 * ends ringlab stopped it - SIGTERM, SIGHUP...: main says so). */
static int docall(lua_State *L, int nargs, int nres)
{
	int base = lua_gettop(L) - nargs, rc;

	lua_pushcfunction(L, msghandler);
	lua_insert(L, base);
	rc = lua_pcall(L, nargs, nres, base);
	lua_remove(L, base);
	if (rc != LUA_OK) {
		const char *text = lua_tostring(L, -1);

		/* an error raised while an interruption unwound (a connection
		 * reset as it was torn down) is the interruption's doing */
		bool by_signal = signals_interrupting() && !debug_on(L);

		if ((text && !strcmp(text, "interrupted")) || by_signal) {
			if (!signals_terminate())
				fprintf(stderr, "%sinterrupted%s\n",
				        isatty(STDERR_FILENO) ? "\r" : "",
				        isatty(STDERR_FILENO) ? "\033[K" : ""); /* over ^C */
		} else {
			fprintf(stderr, "ringlab: %s\n", text ? text : "(no message)");
		}
		lua_pop(L, 1);
	}
	return rc;
}

/* -c COMMAND: require("ringlab.commands").run(COMMAND), as the prompt does. */
static int run_command(lua_State *L, const char *line)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "ringlab.commands");
	if (docall(L, 1, 1) != LUA_OK)
		return 1;
	lua_getfield(L, -1, "run");
	lua_remove(L, -2);
	lua_pushstring(L, line);
	return docall(L, 1, 0) != LUA_OK;
}

static int run_exprs(lua_State *L, const struct options *o)
{
	for (int i = 0; i < o->nexprs; i++) {
		if (o->is_command[i]) {
			if (run_command(L, o->exprs[i]))
				return 1;
			continue;
		}
		if (luaL_loadbuffer(L, o->exprs[i], strlen(o->exprs[i]),
		                    "=(command line)") != LUA_OK) {
			const char *msg = lua_tostring(L, -1);
			size_t name_len = 0, pos = position_len(msg, &name_len);

			fprintf(stderr, "ringlab: -e: %s\n", msg + pos);
			return 1;
		}
		if (docall(L, 0, 0) != LUA_OK)
			return 1;
	}
	return 0;
}

static int run_script(lua_State *L, const struct options *o, int argc, char **argv)
{
	int nargs = argc - o->argi - 1;

	lua_createtable(L, nargs, 2);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - o->argi);
	}
	lua_setglobal(L, "arg");
	if (access(o->script, R_OK) != 0) {
		fprintf(stderr,
		        "ringlab: cannot read %s (%s) - give the path of a Lua script, "
		        "or no argument for the prompt\n",
		        o->script, strerror(errno));
		return 1;
	}
	if (luaL_loadfile(L, o->script) != LUA_OK) {
		fprintf(stderr, "ringlab: %s\n", lua_tostring(L, -1));
		return 1;
	}
	if (o->watch) { /* require("ringlab.watch").live(script, nil, args...) */
		lua_getglobal(L, "require");
		lua_pushstring(L, "ringlab.watch");
		lua_call(L, 1, 1);
		lua_getfield(L, -1, "live");
		lua_replace(L, -2);
		lua_insert(L, -2);
		lua_pushnil(L);
		nargs += 2;
	}
	for (int i = o->argi + 1; i < argc; i++)
		lua_pushstring(L, argv[i]);
	return docall(L, nargs, 0) == LUA_OK ? 0 : 1;
}

static const char testbed_lua[] =
    "local args = ...\n"
    "if not package.searchpath('ringlab.testbed', package.path) then\n"
    "  error('the testbed plugin is not installed: no ringlab/testbed.lua on the plugin "
    "path'\n"
    "    .. ' - install ringlab\\'s plugins, or point RINGLAB_PLUGIN_PATH at them', 0)\n"
    "end\n"
    "local rc = require('ringlab.testbed').main(args)\n"
    "if rc == false then return 1 end\n"
    "return math.tointeger(rc) or 0\n";

static int run_testbed(lua_State *L, const struct options *o, int argc, char **argv)
{
	int rc;

	luaL_loadbuffer(L, testbed_lua, sizeof(testbed_lua) - 1, "=testbed");
	lua_createtable(L, argc, 0);
	for (int i = o->argi + 1; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - o->argi);
	}
	if (docall(L, 1, 1) != LUA_OK)
		return 1;
	rc = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	lua_State *L;
	int rc = 0;

	parse(argc, argv, &o);
	if (o.netns)
		enter_netns(o.netns);
	L = new_state();
	set_netns_name(L);
	set_debug(L, o.debug);
	signals_install(L);
	signals_enter_lua();
	rc = run_exprs(L, &o);
	if (rc == 0 && o.testbed)
		rc = run_testbed(L, &o, argc, argv);
	else if (rc == 0 && o.script)
		rc = run_script(L, &o, argc, argv);
	signals_leave_lua();
	if (!signals_caught() &&
	    (o.interactive || (!o.script && !o.testbed && o.nexprs == 0)))
		rc = repl_run(L);
	lua_close(L); /* closes every engine: XDP programs detached */
	if (signals_caught() && (rc != 0 || signals_terminate())) {
		if (signals_terminate()) /* Ctrl-C said "interrupted" already */
			fprintf(stderr, "ringlab: stopped by %s; engines closed\n",
			        strsignal(signals_caught()));
		rc = 128 + signals_caught();
	}
	return rc;
}
