/*
 * ledger.c - the six byte counters and their names.
 *
 * A ledger is plain counters with their receive parts; engines and the lab
 * add to them with rl_ledger_count(), naming the direction. This file gives the counters names (for tables and Lua keys, in
 * enum rl_ledger_field order), reads a counter by index, and sums or resets
 * ledgers while leaving the how/why explanations alone: those describe the
 * engine, not the traffic.
 */

#include <stddef.h>

#include "ringlab/ledger.h"

static const char *const field_names[RL_LEDGER_FIELDS] = {
    [RL_LEDGER_COPIED] = "copied",
    [RL_LEDGER_REFERENCED] = "referenced",
    [RL_LEDGER_HEADERS] = "headers",
    [RL_LEDGER_KERNEL_COPIED] = "kernel_copied",
    [RL_LEDGER_DRIVER_COPIED] = "driver_copied",
    [RL_LEDGER_TOUCHED] = "touched",
};

const char *rl_ledger_field_name(enum rl_ledger_field f)
{
	if ((unsigned)f >= RL_LEDGER_FIELDS)
		return "?";
	return field_names[f];
}

uint64_t rl_ledger_get(const struct rl_ledger *l, enum rl_ledger_field f)
{
	switch (f) {
	case RL_LEDGER_COPIED:
		return l->copied;
	case RL_LEDGER_REFERENCED:
		return l->referenced;
	case RL_LEDGER_HEADERS:
		return l->headers;
	case RL_LEDGER_KERNEL_COPIED:
		return l->kernel_copied;
	case RL_LEDGER_DRIVER_COPIED:
		return l->driver_copied;
	case RL_LEDGER_TOUCHED:
		return l->touched;
	default:
		return 0;
	}
}

const char *rl_how_name(enum rl_how how)
{
	switch (how) {
	case RL_HOW_NONE:
		return "none";
	case RL_HOW_MEASURED:
		return "measured";
	case RL_HOW_DERIVED:
		return "derived";
	default:
		return "?";
	}
}

const char *rl_dir_name(enum rl_dir dir)
{
	return dir == RL_DIR_RX ? "rx" : "tx";
}

uint64_t rl_ledger_get_dir(const struct rl_ledger *l, enum rl_ledger_field f,
                           enum rl_dir dir)
{
	uint64_t total = rl_ledger_get(l, f), rx;

	if ((unsigned)f >= RL_LEDGER_FIELDS)
		return 0;
	rx = l->rx[f] < total ? l->rx[f] : total;
	return dir == RL_DIR_RX ? rx : total - rx;
}

static uint64_t *field_ptr(struct rl_ledger *l, enum rl_ledger_field f)
{
	switch (f) {
	case RL_LEDGER_COPIED:
		return &l->copied;
	case RL_LEDGER_REFERENCED:
		return &l->referenced;
	case RL_LEDGER_HEADERS:
		return &l->headers;
	case RL_LEDGER_KERNEL_COPIED:
		return &l->kernel_copied;
	case RL_LEDGER_DRIVER_COPIED:
		return &l->driver_copied;
	case RL_LEDGER_TOUCHED:
		return &l->touched;
	default:
		return NULL;
	}
}

void rl_ledger_count(struct rl_ledger *l, enum rl_ledger_field f, uint64_t n,
                     enum rl_dir dir)
{
	uint64_t *p = field_ptr(l, f);

	if (!p)
		return;
	*p += n;
	if (dir == RL_DIR_RX)
		l->rx[f] += n;
}

void rl_ledger_add(struct rl_ledger *dst, const struct rl_ledger *src)
{
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		dst->rx[f] += src->rx[f];
	dst->copied += src->copied;
	dst->referenced += src->referenced;
	dst->headers += src->headers;
	dst->kernel_copied += src->kernel_copied;
	dst->driver_copied += src->driver_copied;
	dst->touched += src->touched;
}

void rl_ledger_reset(struct rl_ledger *l)
{
	l->copied = 0;
	l->referenced = 0;
	l->headers = 0;
	l->kernel_copied = 0;
	l->driver_copied = 0;
	l->touched = 0;
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		l->rx[f] = 0;
}
