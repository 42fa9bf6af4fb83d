/*
 * err.c - filling a struct rl_err.
 *
 * Every fallible function in ringlab ends its error path with
 * `return rl_err_set(err, EINVAL, "what was wrong - what to do", ...);`.
 * The message is formatted into the caller's struct (truncated to fit) and
 * the negative errno comes back, so one line both explains and returns.
 * err may be NULL when the caller only wants the code.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ringlab/err.h"

int rl_err_set(struct rl_err *err, int code, const char *fmt, ...)
{
	if (code < 0)
		code = -code;
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

static char notes[RL_NOTES_MAX][RL_ERR_MSG_MAX];
static unsigned notes_first, notes_n;

void rl_note(const char *fmt, ...)
{
	va_list ap;

	if (notes_n == RL_NOTES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(notes[(notes_first + notes_n) % RL_NOTES_MAX], RL_ERR_MSG_MAX, fmt, ap);
	va_end(ap);
	notes_n++;
}

int rl_note_take(char *out, size_t cap)
{
	if (!notes_n)
		return 0;
	snprintf(out, cap, "%s", notes[notes_first]);
	notes_first = (notes_first + 1) % RL_NOTES_MAX;
	notes_n--;
	return 1;
}
