/*
 * checksum.c - the Internet checksum (RFC 1071) and its update (RFC 1624).
 *
 * The checksum is the one's complement of the one's complement sum of the
 * data taken as big-endian 16-bit words. One's complement addition does not
 * care about byte order (RFC 1071 section 2(B)): summing the words in the
 * host's order and swapping the two bytes of the folded result gives the
 * same value. And a 32-bit word hi:lo is hi + lo modulo 2^16-1, so a sum
 * of 32-bit words in a 64-bit accumulator, folded at the end, is the same
 * one's complement sum - with no carry to wrap back in after every add, as
 * long as the accumulator cannot overflow (it cannot: 2^32 adds of 32-bit
 * words would be needed, and the loop folds every RUN bytes).
 *
 * So the bulk loop loads 16 or 32 bytes at a time with memcpy (any
 * alignment) as vectors of 64-bit lanes, splits each lane into its two
 * 32-bit halves (lane & 0xffffffff, lane >> 32) and adds them into
 * independent vector accumulators: no carry chain, so the adds of
 * several loads run at once. The same code in GCC/clang vector types
 * compiles to SSE2 (every x86-64), to AVX2 where the CPU has it (chosen
 * at run time), and to scalar code elsewhere. The tail is 64-bit words
 * split the same way, then a 32- and a 16-bit word; the result is
 * swapped once at the end on little-endian hosts.
 *
 * rl_csum_partial() returns an unfolded 32-bit sum so calls chain over the
 * pieces of a packet; rl_csum_fold() folds it to 16 bits and complements.
 * The incremental update is RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), which
 * (unlike eqn. 2 of RFC 1141) never produces the -0 of 0xffff wrongly.
 */
#include <stdbool.h>
#include <string.h>

#include "ringlab/checksum.h"

/* Fold a sum of any width into 16 bits, with the carries wrapped back in. */
static uint16_t fold16(uint64_t s)
{
	/* four steps without a branch: < 2^33, <= 2^32 - 1, < 2^17, and
	 * then <= 0xffff (a 0x1xxxx here has at most 0xfffe below) */
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
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

/* Bytes summed between folds of the accumulators: each 64-bit lane adds at
 * most 2 * (2^32 - 1) per load, so 1 GiB keeps every lane far below 2^64. */
#define RUN ((size_t)1 << 30)

typedef uint64_t v2q __attribute__((vector_size(16)));
typedef uint64_t v4q __attribute__((vector_size(32)));

/* Fold a 64-bit sum of 32-bit words to 33 bits, still congruent. */
static uint64_t halves(uint64_t a)
{
	return (a & 0xffffffff) + (a >> 32);
}

/* The sum of the 32-bit words of the first len / 64 * 64 bytes of p,
 * congruent modulo 2^16-1; *done says how many bytes that was. With copy
 * (a constant where it is inlined: no test in the loop), the blocks are
 * stored to d on the way, so a copy reads each byte once. */
static inline __attribute__((always_inline)) uint64_t
blocks_generic(uint8_t *d, const uint8_t *p, size_t len, size_t *done, const bool copy)
{
	const v2q lo = {0xffffffff, 0xffffffff};
	v2q a0 = {0, 0}, a1 = {0, 0}, a2 = {0, 0}, a3 = {0, 0}, q0, q1, q2, q3;
	size_t n = len / 64 * 64;

	for (size_t i = 0; i < n; i += 64) {
		memcpy(&q0, p + i, 16);
		memcpy(&q1, p + i + 16, 16);
		memcpy(&q2, p + i + 32, 16);
		memcpy(&q3, p + i + 48, 16);
		if (copy) {
			memcpy(d + i, &q0, 16);
			memcpy(d + i + 16, &q1, 16);
			memcpy(d + i + 32, &q2, 16);
			memcpy(d + i + 48, &q3, 16);
		}
		a0 += (q0 & lo) + (q0 >> 32);
		a1 += (q1 & lo) + (q1 >> 32);
		a2 += (q2 & lo) + (q2 >> 32);
		a3 += (q3 & lo) + (q3 >> 32);
	}
	a0 += a1 + a2 + a3;
	*done = n;
	return halves(a0[0]) + halves(a0[1]);
}

static uint64_t sum_blocks_generic(const uint8_t *p, size_t len, size_t *done)
{
	return blocks_generic(NULL, p, len, done, false);
}

static uint64_t copy_blocks_generic(uint8_t *d, const uint8_t *p, size_t len,
                                    size_t *done)
{
	return blocks_generic(d, p, len, done, true);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_PATH 1
/* blocks_generic with 32-byte lanes, for CPUs that have AVX2 */
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) uint64_t
blocks_avx2(uint8_t *d, const uint8_t *p, size_t len, size_t *done, const bool copy)
{
	const v4q lo = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff};
	v4q a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0}, q0, q1;
	size_t n = len / 64 * 64;

	for (size_t i = 0; i < n; i += 64) {
		memcpy(&q0, p + i, 32);
		memcpy(&q1, p + i + 32, 32);
		if (copy) {
			memcpy(d + i, &q0, 32);
			memcpy(d + i + 32, &q1, 32);
		}
		a0 += (q0 & lo) + (q0 >> 32);
		a1 += (q1 & lo) + (q1 >> 32);
	}
	a0 += a1;
	*done = n;
	return halves(a0[0]) + halves(a0[1]) + halves(a0[2]) + halves(a0[3]);
}

__attribute__((target("avx2"))) static uint64_t copy_blocks_avx2(uint8_t *d,
                                                                 const uint8_t *p,
                                                                 size_t len,
                                                                 size_t *done)
{
	return blocks_avx2(d, p, len, done, true);
}

__attribute__((target("avx2"))) static uint64_t sum_blocks_avx2(const uint8_t *p,
                                                                size_t len,
                                                                size_t *done)
{
	return blocks_avx2(NULL, p, len, done, false);
}
#endif

static uint64_t sum_blocks(const uint8_t *p, size_t len, size_t *done)
{
#ifdef HAVE_AVX2_PATH
	if (__builtin_cpu_supports("avx2")) /* a bit in a table set at start-up */
		return sum_blocks_avx2(p, len, done);
#endif
	return sum_blocks_generic(p, len, done);
}

/* The one's complement sum of the even-length prefix of buf, in the host's
 * word order, folded to 16 bits. */
static uint16_t sum_host_order(const uint8_t *p, size_t len)
{
	uint64_t acc = 0, w64;
	uint32_t w32;
	uint16_t w16;
	size_t done;

	while (len >= 64) {
		acc += sum_blocks(p, len < RUN ? len : RUN, &done);
		acc = halves(acc);
		p += done;
		len -= done;
	}
	for (; len >= 8; p += 8, len -= 8) { /* the tail: up to 7 words of 8 */
		memcpy(&w64, p, 8);
		acc += halves(w64);
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
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

uint32_t rl_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
	uint8_t *d = dst;
	const uint8_t *p = src;
	uint64_t acc = 0, total = sum;
	size_t done;

	while (len >= 64) {
		size_t run = len < RUN ? len : RUN;

#ifdef HAVE_AVX2_PATH
		if (__builtin_cpu_supports("avx2"))
			acc += copy_blocks_avx2(d, p, run, &done);
		else
#endif
			acc += copy_blocks_generic(d, p, run, &done);
		acc = halves(acc);
		d += done;
		p += done;
		len -= done;
	}
	/* whole blocks so far, an even count of bytes: the rest sums on as
	 * rl_csum_partial would sum it after them */
	memcpy(d, p, len);
	total += host_to_be_sum(fold16(acc));
	while (total >> 32)
		total = (total & 0xffffffff) + (total >> 32);
	return rl_csum_partial(p, len, (uint32_t)total);
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
