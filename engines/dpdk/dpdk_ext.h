/*
 * dpdk_ext.h - what the DPDK engine can do beyond the standard ops table.
 *
 * The engine ABI (ringlab/engine.h) speaks of region frames only. DPDK can
 * also send memory that is not in any region (an external buffer attached
 * to an mbuf) and can segment one large TCP packet in software with
 * rte_gso_segment, referencing the payload instead of copying it. Those
 * packets come back (on a net_ring loopback) with segments that a region
 * address cannot name, so they are received through rx_segs() here.
 *
 * Received TCP segments can be merged back into one packet, again without
 * a copy (rx_gro, GRO in software).
 *
 * The engine .so exports RINGLAB_DPDK_EXT_SYMBOL, a function returning the
 * table below; check abi == RINGLAB_DPDK_EXT_ABI before use. Every call
 * takes the struct rl_engine from the engine's open().
 */
#ifndef RINGLAB_DPDK_EXT_H
#define RINGLAB_DPDK_EXT_H

#include <stddef.h>
#include <stdint.h>

#include <ringlab/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RINGLAB_DPDK_EXT_ABI 2
#define RINGLAB_DPDK_EXT_SYMBOL "ringlab_dpdk_ext"

/* What one received segment is. */
enum rl_dpdk_seg_kind {
	RL_DPDK_SEG_REGION = 1, /* a region frame, now held by the app (addr valid) */
	RL_DPDK_SEG_REF,        /* an mbuf referencing region memory (gso payload):
	                         * addr valid, the frame stays with the NIC until
	                         * rx_segs_release() */
	RL_DPDK_SEG_EXTBUF,     /* external app memory (tx_extbuf): va only */
	RL_DPDK_SEG_COPY,       /* bytes DPDK copied into its own mbuf (gso headers) */
};

struct rl_dpdk_seg {
	const void *va;    /* where the bytes are, valid until rx_segs_release() */
	uint64_t addr;     /* region address, or UINT64_MAX when not in the region */
	uint32_t len;
	uint32_t kind;     /* enum rl_dpdk_seg_kind */
};

/* One free callback of an external buffer: the NIC is done with it and the
 * memory belongs to the application again. */
struct rl_dpdk_extfree {
	const void *va;    /* the address given to tx_extbuf */
	uint64_t cookie;   /* the cookie given to tx_extbuf */
};

struct ringlab_dpdk_ext {
	uint32_t abi;

	/* Tell DPDK about application memory (rte_extmem_register): va page
	 * aligned, len a multiple of the page size. */
	int (*extmem_register)(struct rl_engine *e, void *va, size_t len,
			       struct rl_err *err);
	int (*extmem_unregister)(struct rl_engine *e, void *va, size_t len,
				 struct rl_err *err);

	/* Send one packet: the headers in a held region frame (hdr), then len
	 * bytes of registered memory at va attached as external mbuf data
	 * (rte_pktmbuf_attach_extbuf; no copy). The memory is the NIC's until
	 * its free callback fires; extbuf_freed() lists the callbacks. */
	int (*tx_extbuf)(struct rl_engine *e, const struct rl_desc *hdr, const void *va,
			 size_t len, uint64_t cookie, struct rl_err *err);

	/* Pop up to max free-callback records, oldest first. */
	int (*extbuf_freed)(struct rl_engine *e, struct rl_dpdk_extfree *out,
			    unsigned max);

	/* Send one TCP/IPv4 packet (descriptors of held region frames, Ethernet,
	 * IPv4 and TCP headers at the start of the first) segmented by
	 * rte_gso_segment into segments of at most mss payload bytes: headers
	 * copied into fresh mbufs, payload referenced by indirect mbufs, IPv4
	 * and TCP checksums computed in software (the ledger counts the bytes
	 * read as touched). Returns the number of segments sent. */
	int (*tx_gso)(struct rl_engine *e, const struct rl_desc *d, uint32_t n,
		      uint16_t mss, struct rl_err *err);

	/* Receive one whole packet, any kind of segment. Region frames become
	 * app-held as with rx(); the others stay valid until rx_segs_release().
	 * Returns the number of segments, 0 when nothing arrived, -ENOSPC when
	 * max is smaller than the packet. */
	int (*rx_segs)(struct rl_engine *e, struct rl_dpdk_seg *segs, uint32_t max,
		       struct rl_err *err);
	/* Free the non-region segments of every packet from rx_segs(). */
	void (*rx_segs_release)(struct rl_engine *e);

	/* The DPDK port id this engine drives (for tests and rte_* calls). */
	int (*port)(struct rl_engine *e);

	/* (ABI 2) Receive with GRO: everything waiting is merged with
	 * rte_gro_reassemble_burst (TCP/IPv4 segments of one flow, in order,
	 * ACK only, up to 64 KB) into chains of the original mbufs - no byte is
	 * copied - and the first packet is handed out as rx_segs() does. */
	int (*rx_gro)(struct rl_engine *e, struct rl_dpdk_seg *segs, uint32_t max,
		      struct rl_err *err);
};

typedef const struct ringlab_dpdk_ext *(*rl_dpdk_ext_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
