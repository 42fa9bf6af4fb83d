/*
 * dpdk_ext.h - what the DPDK engine exports beyond its ops table.
 *
 * Everything a program does with the engine goes through the ops table
 * (ringlab/engine.h), including what only DPDK can do there: external
 * buffers, GSO and GRO are the ABI 2 ops tx_x, rx_x and ext_*. What is
 * left here is for tests and DPDK-aware tools that call rte_* functions
 * themselves: which DPDK port an engine drives.
 *
 * The engine .so exports RINGLAB_DPDK_EXT_SYMBOL, a function returning the
 * table below; check abi == RINGLAB_DPDK_EXT_ABI before use.
 */
#ifndef RINGLAB_DPDK_EXT_H
#define RINGLAB_DPDK_EXT_H

#include <stdint.h>

#include <ringlab/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 3: extbuf, gso, rx_segs and gro moved to the ops table (engine ABI 2). */
#define RINGLAB_DPDK_EXT_ABI 3
#define RINGLAB_DPDK_EXT_SYMBOL "ringlab_dpdk_ext"

struct ringlab_dpdk_ext {
	uint32_t abi;

	/* The DPDK port id this engine drives (for tests and rte_* calls). */
	int (*port)(struct rl_engine *e);
};

typedef const struct ringlab_dpdk_ext *(*rl_dpdk_ext_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
