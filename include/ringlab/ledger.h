/*
 * ledger.h - where every byte that moves is counted.
 *
 * Exactly one category per byte:
 *   copied        memcpy into or out of packet memory by the lab or a script
 *   referenced    sent or delivered without a copy (born in the region, chained)
 *   headers       header bytes written
 *   kernel_copied copies the kernel makes (AF_XDP copy mode, the simulator's
 *                 stand-in for the kernel)
 *   driver_copied copies a DPDK poll-mode driver makes
 *   touched       payload bytes read but not copied (a software checksum)
 *
 * kernel_copied and driver_copied come either from counting real memcpy
 * calls (RL_HOW_MEASURED) or from what the bound mode implies
 * (RL_HOW_DERIVED); the *_why strings say which and why, for the screen.
 *
 * Every counter is the total of both directions; rx[] holds how much of
 * each was on the receive path (a packet arriving, or a received packet
 * read); the transmit part is total - rx. Count with rl_ledger_count(),
 * which names the direction, so no site can leave rx[] behind.
 */
#ifndef RINGLAB_LEDGER_H
#define RINGLAB_LEDGER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rl_how {
	RL_HOW_NONE = 0,  /* this engine has no such layer (sim has no driver) */
	RL_HOW_MEASURED,  /* counted where the copy happens */
	RL_HOW_DERIVED,   /* inferred from the mode; the why says how */
};

#define RL_LEDGER_WHY_MAX 256

/* The six counters, in this order, for loops and tables. */
enum rl_ledger_field {
	RL_LEDGER_COPIED,
	RL_LEDGER_REFERENCED,
	RL_LEDGER_HEADERS,
	RL_LEDGER_KERNEL_COPIED,
	RL_LEDGER_DRIVER_COPIED,
	RL_LEDGER_TOUCHED,
	RL_LEDGER_FIELDS,
};

/* The path a byte was on: sending it, or receiving it. */
enum rl_dir {
	RL_DIR_TX = 0,
	RL_DIR_RX = 1,
};

struct rl_ledger {
	uint64_t copied;
	uint64_t referenced;
	uint64_t headers;
	uint64_t kernel_copied;
	uint64_t driver_copied;
	uint64_t touched;
	uint64_t rx[RL_LEDGER_FIELDS];      /* the receive part of each, by field */
	uint8_t kernel_how;                 /* enum rl_how */
	uint8_t driver_how;                 /* enum rl_how */
	char kernel_why[RL_LEDGER_WHY_MAX];
	char driver_why[RL_LEDGER_WHY_MAX];
};

const char *rl_ledger_field_name(enum rl_ledger_field f);
uint64_t rl_ledger_get(const struct rl_ledger *l, enum rl_ledger_field f);
const char *rl_how_name(enum rl_how how); /* "none", "measured", "derived" */

/* The part of counter f that was on path dir (RL_DIR_TX: total - rx). */
uint64_t rl_ledger_get_dir(const struct rl_ledger *l, enum rl_ledger_field f,
                           enum rl_dir dir);
const char *rl_dir_name(enum rl_dir dir); /* "tx", "rx" */

/* Count n bytes of counter f on path dir: the total, and rx[f] when dir is
 * RL_DIR_RX. The one way to add to a ledger. */
void rl_ledger_count(struct rl_ledger *l, enum rl_ledger_field f, uint64_t n,
                     enum rl_dir dir);

/* Add the counters of src to dst, receive parts too (the how/why of dst
 * are kept). */
void rl_ledger_add(struct rl_ledger *dst, const struct rl_ledger *src);

/* Zero the counters and their receive parts; keep how/why. */
void rl_ledger_reset(struct rl_ledger *l);

#ifdef __cplusplus
}
#endif
#endif
