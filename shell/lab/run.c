/*
 * lab/run.c - lab.run{argv...}: run a program with an argument vector.
 *
 * The testbed and the benchmarks call iproute2 and ethtool. A command line
 * built from a string and handed to a shell would read whatever the string
 * holds; an argument vector is passed to the program as it is. lab.run
 * forks, execvp()s argv[1] with the list as its arguments (no shell, PATH
 * searched), reads what it writes on stdout and stderr together, and
 * returns ok, output, exit status:
 *
 *   local ok, out, code = lab.run{"ip", "-n", ns, "link", "show", "dev", ifname}
 *
 * ok is true when the program exited with status 0. A program that cannot
 * be found gives ok=false, code 127 and a line saying so.
 *
 * With inherit=true in the table the program shares ringlab's terminal
 * (stdin, stdout, stderr; `ringlab testbed shell` starts an interactive
 * ringlab that way) and the output returned is "".
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shell.h"

#define RUN_MAX_ARGS 64

static int lab_run(lua_State *L)
{
	const char *argv[RUN_MAX_ARGS + 1];
	luaL_Buffer b;
	int fds[2], st = 0, n, inherit;
	pid_t pid;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = (int)luaL_len(L, 1);
	if (n < 1 || n > RUN_MAX_ARGS)
		return luaL_error(L, "run: give a list of 1 to %d strings, the program first "
		                     "- e.g. lab.run{\"ip\", \"link\"}",
		                  RUN_MAX_ARGS);
	for (int i = 1; i <= n; i++) {
		lua_geti(L, 1, i);
		if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
			return luaL_error(L, "run: argument %d is a %s - give strings or numbers", i,
			                  luaL_typename(L, -1));
		argv[i - 1] = lua_tostring(L, -1); /* stays on the stack: alive */
	}
	argv[n] = NULL;
	lua_getfield(L, 1, "inherit");
	inherit = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (inherit) {
		fflush(NULL);
		pid = fork();
		if (pid < 0)
			return luaL_error(L, "run: fork: %s", strerror(errno));
		if (pid == 0) {
			signal(SIGINT, SIG_DFL);
			signal(SIGPIPE, SIG_DFL);
			execvp(argv[0], (char *const *)argv);
			dprintf(2, "%s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		n = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		lua_pushboolean(L, n == 0);
		lua_pushliteral(L, "");
		lua_pushinteger(L, n);
		return 3;
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		return luaL_error(L, "run: pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return luaL_error(L, "run: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int dn = open("/dev/null", O_RDONLY);

		if (dn >= 0)
			dup2(dn, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	luaL_buffinit(L, &b);
	for (;;) {
		char buf[4096];
		ssize_t got = read(fds[0], buf, sizeof(buf));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		luaL_addlstring(&b, buf, (size_t)got);
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	n = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	luaL_pushresult(&b); /* the buffer is on top of the stack: first */
	lua_pushboolean(L, n == 0);
	lua_insert(L, -2);
	lua_pushinteger(L, n);
	return 3;
}

static const luaL_Reg run_funcs[] = {
    {"run", lab_run},
    {NULL, NULL},
};

void lab_run_register(lua_State *L)
{
	luaL_setfuncs(L, run_funcs, 0);
}
