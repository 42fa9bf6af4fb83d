/*
 * err.h - how ringlab's C code reports failure.
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure, and fills a struct rl_err with one human
 * sentence that says what was wrong and what to do about it. Only the Lua
 * layer turns that sentence into error(); C code never prints or exits.
 */
#ifndef RINGLAB_ERR_H
#define RINGLAB_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RL_ERR_MSG_MAX 320

struct rl_err {
	int code;                  /* positive errno value, 0 when clear */
	char msg[RL_ERR_MSG_MAX];  /* "what was wrong - what to do" */
};

/* Fill err (which may be NULL) and return -code, so callers can write
 * `return rl_err_set(err, EINVAL, "...", ...);`. */
int rl_err_set(struct rl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A line for the user that is not an error ("removed a stale ringlab XDP
 * program ... from rl0"), from C code that must not print (an engine): the
 * shell prints each one after the call that left it, on stderr. Up to
 * RL_NOTES_MAX wait; more are dropped. */
#define RL_NOTES_MAX 4
void rl_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Take the oldest waiting note into out: 1, or 0 when none waits. */
int rl_note_take(char *out, size_t cap);

static inline void rl_err_clear(struct rl_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

#ifdef __cplusplus
}
#endif
#endif
