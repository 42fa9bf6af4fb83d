/*
 * cleanup.h - what the process must undo even when it dies of a signal.
 *
 * A ringlab that gets a second SIGINT/SIGTERM/SIGQUIT while the first is
 * still waiting for Lua (stuck in a long C call) dies at once, without
 * atexit handlers or engine closes (shell/signals.c). What the kernel does
 * not undo by itself for a dead process is registered here at open time,
 * as plain paths, and removed by rl_cleanup_run() from the signal handler:
 *
 *   rmdir   an empty directory: DPDK's runtime directory,
 *           /var/run/dpdk/ringlab-<pid> (engines/dpdk/eal.c)
 *
 * (An AF_XDP engine's XDP program needs nothing here: it is attached
 * through a BPF link, which the kernel detaches when the process's last
 * file descriptor on it closes - however the process ends.)
 *
 * rl_cleanup_run() is async-signal-safe: it only calls rmdir(2) on paths
 * copied in beforehand. The registry lives in libringlab, so the shell and
 * every engine it loads share it.
 */
#ifndef RINGLAB_CLEANUP_H
#define RINGLAB_CLEANUP_H

#ifdef __cplusplus
extern "C" {
#endif

#define RL_CLEANUP_MAX 8
#define RL_CLEANUP_PATH_MAX 256

/* Remove the empty directory path if the process dies of a signal. Returns
 * 0, or -ENOSPC / -ENAMETOOLONG (nothing registered). Registering the same
 * path twice keeps one entry. */
int rl_cleanup_rmdir_add(const char *path);
/* Forget path (the engine removed it itself). */
void rl_cleanup_rmdir_remove(const char *path);
/* Remove every registered directory. Async-signal-safe. */
void rl_cleanup_run(void);

#ifdef __cplusplus
}
#endif
#endif
