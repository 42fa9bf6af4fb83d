/* test_cleanup.c - what a dying process still removes (ringlab/cleanup.h):
 * directories registered beforehand are removed from a signal handler;
 * and the one-line notes engines leave for the shell (rl_note). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringlab/cleanup.h"
#include "ringlab/err.h"
#include "unit.h"

static void on_usr1(int sig)
{
	(void)sig;
	rl_cleanup_run(); /* what signals.c does before a second signal kills */
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void cleanup_rmdir_runs_from_a_signal_handler(void **state)
{
	char empty[] = "/tmp/rl-cleanup-XXXXXX", full[] = "/tmp/rl-cleanup-XXXXXX";
	char file[64];
	struct sigaction sa;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(empty));
	assert_non_null(mkdtemp(full));
	snprintf(file, sizeof(file), "%s/x", full);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(rl_cleanup_rmdir_add(empty), 0);
	assert_int_equal(rl_cleanup_rmdir_add(empty), 0); /* twice: one entry */
	assert_int_equal(rl_cleanup_rmdir_add(full), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	errno = 1234;
	raise(SIGUSR1);
	assert_int_equal(errno, 1234); /* the handler keeps errno */
	assert_false(is_dir(empty));
	assert_true(is_dir(full)); /* rmdir only: a directory with files stays */
	rl_cleanup_rmdir_remove(empty);
	rl_cleanup_rmdir_remove(full);
	unlink(file);
	rmdir(full);
}

static void cleanup_refuses_long_paths_and_a_full_list(void **state)
{
	char path[RL_CLEANUP_PATH_MAX + 8], name[64];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(rl_cleanup_rmdir_add(path), -ENAMETOOLONG);
	assert_int_equal(rl_cleanup_rmdir_add(""), -ENAMETOOLONG);
	for (int i = 0; i < RL_CLEANUP_MAX; i++) {
		snprintf(name, sizeof(name), "/nonexistent/rl-%d", i);
		assert_int_equal(rl_cleanup_rmdir_add(name), 0);
	}
	assert_int_equal(rl_cleanup_rmdir_add("/nonexistent/one-more"), -ENOSPC);
	rl_cleanup_rmdir_remove("/nonexistent/rl-3"); /* a slot freed is used again */
	assert_int_equal(rl_cleanup_rmdir_add("/nonexistent/one-more"), 0);
	rl_cleanup_run(); /* nothing there: no harm */
	for (int i = 0; i < RL_CLEANUP_MAX; i++) {
		snprintf(name, sizeof(name), "/nonexistent/rl-%d", i);
		rl_cleanup_rmdir_remove(name);
	}
	rl_cleanup_rmdir_remove("/nonexistent/one-more");
}

static void notes_come_out_in_order_and_are_bounded(void **state)
{
	char line[RL_ERR_MSG_MAX];

	(void)state;
	assert_int_equal(rl_note_take(line, sizeof(line)), 0);
	for (int i = 1; i <= RL_NOTES_MAX + 2; i++)
		rl_note("note %d of an engine", i);
	for (int i = 1; i <= RL_NOTES_MAX; i++) {
		char want[64];

		snprintf(want, sizeof(want), "note %d of an engine", i);
		assert_int_equal(rl_note_take(line, sizeof(line)), 1);
		assert_string_equal(line, want);
	}
	assert_int_equal(rl_note_take(line, sizeof(line)), 0); /* the extra two dropped */
	rl_note("after %s", "draining");
	assert_int_equal(rl_note_take(line, 6), 1); /* cut to fit */
	assert_string_equal(line, "after");
}

static const struct CMUnitTest cleanup_tests[] = {
    cmocka_unit_test(cleanup_rmdir_runs_from_a_signal_handler),
    cmocka_unit_test(cleanup_refuses_long_paths_and_a_full_list),
    cmocka_unit_test(notes_come_out_in_order_and_are_bounded),
};

RL_UNIT_MAIN(cleanup_tests)
