/* xdp_steer.h - what the XDP program and the engine agree on (maps, counts). */
#ifndef RINGLAB_XDP_STEER_H
#define RINGLAB_XDP_STEER_H

#include <linux/types.h>

/* The program's function name in xdp_steer.bpf.c, which the kernel keeps
 * as its name (at most 15 characters): how the engine knows a program on
 * an interface is ringlab's. */
#define RL_XDP_PROG_NAME "rl_xdp_steer"

#define RL_XSKMAP_MAX 64        /* RX queues the program can serve */
#define RL_STEER_PORTS_MAX 64   /* ports steer=P,P,... may list */

struct rl_steer_cfg {
	__u32 all;              /* 1: redirect every frame (steer=all) */
};

enum rl_steer_count {
	RL_COUNT_REDIRECTED,    /* into the AF_XDP socket */
	RL_COUNT_PASSED,        /* not ours: up to the kernel stack */
	RL_COUNT_NO_SOCKET,     /* ours, but no socket on that queue: passed */
	RL_COUNT_MAX,
};

#endif
