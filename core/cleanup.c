/*
 * cleanup.c - the paths a dying process removes (see ringlab/cleanup.h).
 *
 * Filled at open time from ordinary code, read from a signal handler: each
 * slot's path is written first and published by setting its `used` flag
 * last, and the handler reads only slots whose flag is set. rmdir(2) is
 * async-signal-safe.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ringlab/cleanup.h"

static struct {
	char path[RL_CLEANUP_PATH_MAX];
	volatile sig_atomic_t used;
} slots[RL_CLEANUP_MAX];

int rl_cleanup_rmdir_add(const char *path)
{
	size_t n = strlen(path);
	int free_slot = -1;

	if (n == 0 || n >= RL_CLEANUP_PATH_MAX)
		return -ENAMETOOLONG;
	for (int i = 0; i < RL_CLEANUP_MAX; i++) {
		if (slots[i].used && strcmp(slots[i].path, path) == 0)
			return 0;
		if (!slots[i].used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	memcpy(slots[free_slot].path, path, n + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	slots[free_slot].used = 1;
	return 0;
}

void rl_cleanup_rmdir_remove(const char *path)
{
	for (int i = 0; i < RL_CLEANUP_MAX; i++)
		if (slots[i].used && strcmp(slots[i].path, path) == 0)
			slots[i].used = 0;
}

void rl_cleanup_run(void)
{
	int saved = errno;

	for (int i = 0; i < RL_CLEANUP_MAX; i++)
		if (slots[i].used)
			rmdir(slots[i].path);
	errno = saved;
}
