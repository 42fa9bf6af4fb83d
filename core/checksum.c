/*
 * checksum.c - the Internet checksum (RFC 1071) and its update (RFC 1624).
 *
 * The checksum is the one's complement of the one's complement sum of the
 * data taken as big-endian 16-bit words. One's complement addition does not
 * care about byte order (RFC 1071 section 2(B)): summing the words in the
 * host's order and swapping the two bytes of the folded result gives the
 * same value. So the loop below loads 8 bytes at a time with memcpy (any
 * alignment), adds them into a 64-bit accumulator with the carry wrapped
 * back in (2^64-1 is a multiple of 2^16-1, so this is still the 16-bit
 * one's complement sum), and swaps once at the end on little-endian hosts.
 *
 * rl_csum_partial() returns an unfolded 32-bit sum so calls chain over the
 * pieces of a packet; rl_csum_fold() folds it to 16 bits and complements.
 * The incremental update is RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), which
 * (unlike eqn. 2 of RFC 1141) never produces the -0 of 0xffff wrongly.
 */
#include <string.h>

#include "ringlab/checksum.h"

/* Fold a sum of any width into 16 bits, with the carries wrapped back in. */
static uint16_t fold16(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t host_to_be_sum(uint16_t s)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint16_t)((s << 8) | (s >> 8));
#else
	return s;
#endif
}

/* The one's complement sum of the even-length prefix of buf, in the host's
 * word order, folded to 16 bits. */
static uint16_t sum_host_order(const uint8_t *p, size_t len)
{
	uint64_t acc = 0, w;
	uint32_t w32;
	uint16_t w16;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		acc += w;
		acc += (acc < w); /* end-around carry */
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
		acc += (acc < w32);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		acc += (acc < w16);
	}
	return fold16(acc);
}

uint32_t rl_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t total = sum;

	total += host_to_be_sum(sum_host_order(p, len & ~(size_t)1));
	if (len & 1)
		total += (uint32_t)p[len - 1] << 8; /* pad the odd byte with 0 */
	while (total >> 32)
		total = (total & 0xffffffff) + (total >> 32);
	return (uint32_t)total;
}

uint16_t rl_csum_fold(uint32_t sum)
{
	return (uint16_t)~fold16(sum);
}

uint32_t rl_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);

	s += proto;
	s += len;
	return fold16(s);
}

uint16_t rl_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t)~old;
	s += new_;
	return (uint16_t)~fold16(s);
}

uint16_t rl_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	uint32_t s = (uint16_t)~csum;

	s += (uint16_t) ~(old >> 16);
	s += (uint16_t) ~(old & 0xffff);
	s += new_ >> 16;
	s += new_ & 0xffff;
	return (uint16_t)~fold16(s);
}
