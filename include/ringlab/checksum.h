/*
 * checksum.h - the Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624).
 *
 * rl_csum_partial() adds 16-bit big-endian words into a 32-bit accumulator;
 * chain calls over pieces of a packet (every piece but the last must have an
 * even length), then rl_csum_fold() to get the 16-bit value to store, in
 * host order (store it with htons).
 */
#ifndef RINGLAB_CHECKSUM_H
#define RINGLAB_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint32_t rl_csum_partial(const void *buf, size_t len, uint32_t sum);

/* Copy len bytes from src to dst (they must not overlap) and return what
 * rl_csum_partial(src, len, sum) would (the same after rl_csum_fold): one
 * pass that reads every byte once, for a copy that needs its checksum. */
uint32_t rl_csum_copy(void *dst, const void *src, size_t len, uint32_t sum);

/* Fold to 16 bits and complement: the value that goes in the header. */
uint16_t rl_csum_fold(uint32_t sum);

/* The IPv4 pseudo-header (addresses in host order) for UDP/TCP. */
uint32_t rl_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from
 * old to new, without reading anything else. All values in host order. */
uint16_t rl_csum_update16(uint16_t csum, uint16_t old, uint16_t new_);
uint16_t rl_csum_update32(uint16_t csum, uint32_t old, uint32_t new_);

#ifdef __cplusplus
}
#endif
#endif
