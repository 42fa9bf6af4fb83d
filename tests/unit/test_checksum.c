/* test_checksum.c - RFC 1071 sums against published vectors and a
 * byte-at-a-time reference, and RFC 1624 incremental updates against full
 * recomputation. */
#include <stdlib.h>

#include "ringlab/checksum.h"
#include "unit.h"

/* The obvious implementation: big-endian words, odd byte padded with 0. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i < len; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A 32-bit starting sum folded to 16 bits, carries wrapped back in. */
static uint16_t fold_ref(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t folded_sum(uint32_t partial)
{
	return (uint16_t)~rl_csum_fold(partial);
}

static void csum_rfc1071_known_vectors(void **state)
{
	/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
	static const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	/* A real IPv4 header (192.168.0.1 -> 192.168.0.199, UDP, TTL 64, DF)
	 * whose checksum is b861. */
	uint8_t ip[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	(void)state;
	assert_int_equal(folded_sum(rl_csum_partial(rfc, sizeof(rfc), 0)), 0xddf2);
	assert_int_equal(rl_csum_fold(rl_csum_partial(rfc, sizeof(rfc), 0)), 0x220d);
	/* also when the bytes sit at an odd address */
	{
		uint8_t odd[9];

		memcpy(odd + 1, rfc, sizeof(rfc));
		assert_int_equal(folded_sum(rl_csum_partial(odd + 1, sizeof(rfc), 0)),
		                 0xddf2);
	}
	assert_int_equal(rl_csum_fold(rl_csum_partial(ip, sizeof(ip), 0)), 0xb861);
	/* with the checksum in place the header verifies: the fold is 0 */
	ip[10] = 0xb8;
	ip[11] = 0x61;
	assert_int_equal(rl_csum_fold(rl_csum_partial(ip, sizeof(ip), 0)), 0);
	/* nothing at all sums to 0, and its checksum is ffff */
	assert_int_equal(rl_csum_fold(rl_csum_partial(ip, 0, 0)), 0xffff);
}

static void csum_odd_length_pads_low_byte(void **state)
{
	static const uint8_t b[] = {0x12, 0x34, 0xab};

	(void)state;
	assert_int_equal(folded_sum(rl_csum_partial(b, 1, 0)), 0x1200);
	assert_int_equal(folded_sum(rl_csum_partial(b, 3, 0)), 0x1234 + 0xab00);
	/* chaining: an even piece then an odd last piece */
	assert_int_equal(folded_sum(rl_csum_partial(b + 2, 1, rl_csum_partial(b, 2, 0))),
	                 0x1234 + 0xab00);
}

static void csum_any_alignment_matches_reference(void **state)
{
	uint8_t *buf = malloc(4096 + 16);
	uint64_t seed = 1;

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < 4096 + 16; i++)
		buf[i] = (uint8_t)rl_unit_rand(&seed);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 300; len++)
			assert_int_equal(folded_sum(rl_csum_partial(buf + off, len, 0)),
			                 ref_sum(buf + off, len));
	for (int i = 0; i < 500; i++) {
		size_t off = rl_unit_rand(&seed) % 16, len = rl_unit_rand(&seed) % 4097;

		assert_int_equal(folded_sum(rl_csum_partial(buf + off, len, 0)),
		                 ref_sum(buf + off, len));
	}
	free(buf);
}

static void csum_chains_even_pieces(void **state)
{
	uint8_t buf[1000];
	uint64_t seed = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rl_unit_rand(&seed);
	for (int i = 0; i < 200; i++) {
		size_t cut1 = (rl_unit_rand(&seed) % 500) & ~1ul;
		size_t cut2 = cut1 + ((rl_unit_rand(&seed) % 400) & ~1ul);
		uint32_t s = 0;

		s = rl_csum_partial(buf, cut1, s);
		s = rl_csum_partial(buf + cut1, cut2 - cut1, s);
		s = rl_csum_partial(buf + cut2, sizeof(buf) - cut2 - 1, s); /* odd last */
		assert_int_equal(folded_sum(s), ref_sum(buf, sizeof(buf) - 1));
	}
	/* a non-zero starting sum is added in */
	assert_int_equal(folded_sum(rl_csum_partial(buf, 10, 0x1234)),
	                 folded_sum(0x1234 + (uint32_t)ref_sum(buf, 10)));
}

static void csum_large_buffer_no_overflow(void **state)
{
	size_t len = 8u << 20;
	uint8_t *buf = malloc(len);
	uint64_t seed = 5;

	(void)state;
	assert_non_null(buf);
	/* all-ones words: every partial sum stays at -0 (ffff) */
	memset(buf, 0xff, len);
	assert_int_equal(folded_sum(rl_csum_partial(buf, len, 0)), 0xffff);
	assert_int_equal(rl_csum_fold(rl_csum_partial(buf, len, 0)), 0);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rl_unit_rand(&seed);
	assert_int_equal(folded_sum(rl_csum_partial(buf + 1, len - 1, 0)),
	                 ref_sum(buf + 1, len - 1));
	free(buf);
}

/* The bulk loop sums 64 bytes at a time in vector lanes, the tail in 32-
 * and 16-bit words: every length across several 64-byte blocks, at every
 * offset within a block, with and without a starting sum, and with data
 * whose lanes are all ones (the largest lane sums) or all zero but one
 * byte, must give the reference's sum. */
static void csum_blocks_match_reference_every_length_and_offset(void **state)
{
	size_t cap = (64u << 10) + 64;
	uint8_t *buf = malloc(cap);
	uint64_t seed = 14;

	(void)state;
	assert_non_null(buf);
	for (int fill = 0; fill < 3; fill++) {
		for (size_t i = 0; i < cap; i++)
			buf[i] = fill == 0   ? (uint8_t)rl_unit_rand(&seed)
			         : fill == 1 ? 0xff
			                     : 0;
		if (fill == 2)
			buf[200] = 0x80;
		for (size_t off = 0; off < 64; off++)
			for (size_t len = 0; len <= 520; len++) {
				uint16_t ref = ref_sum(buf + off, len);
				uint32_t start = (uint32_t)rl_unit_rand(&seed);

				assert_int_equal(folded_sum(rl_csum_partial(buf + off, len, 0)),
				                 ref);
				/* a 32-bit starting sum is added in, folded */
				assert_int_equal(
				    folded_sum(rl_csum_partial(buf + off, len, start)),
				    folded_sum((uint32_t)(fold_ref(start) + ref)));
			}
	}
	for (size_t i = 0; i < cap; i++)
		buf[i] = (uint8_t)rl_unit_rand(&seed);
	for (int i = 0; i < 2000; i++) {
		size_t off = rl_unit_rand(&seed) % 64,
		       len = rl_unit_rand(&seed) % (cap - 64 + 1);

		assert_int_equal(folded_sum(rl_csum_partial(buf + off, len, 0)),
		                 ref_sum(buf + off, len));
	}
	free(buf);
}

/* rl_csum_copy: the bytes arrive intact, nothing past them is written, and
 * the sum is rl_csum_partial's, at every length 0..300 and at 64 source and
 * 64 destination offsets (and random lengths to 64 KiB), with a starting
 * sum. */
static void csum_copy_copies_and_sums_like_partial(void **state)
{
	size_t cap = (64u << 10) + 128;
	uint8_t *src = malloc(cap), *dst = malloc(cap + 1);
	uint64_t seed = 41;

	(void)state;
	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < cap; i++)
		src[i] = (uint8_t)rl_unit_rand(&seed);
	for (size_t so = 0; so < 64; so += 3)
		for (size_t dof = 0; dof < 64; dof += 5)
			for (size_t len = 0; len <= 300; len++) {
				uint32_t start = (uint32_t)rl_unit_rand(&seed);

				memset(dst, 0xa5, len + dof + 1);
				assert_int_equal(
				    rl_csum_fold(rl_csum_copy(dst + dof, src + so, len, start)),
				    rl_csum_fold(rl_csum_partial(src + so, len, start)));
				assert_memory_equal(dst + dof, src + so, len);
				assert_int_equal(dst[dof + len], 0xa5);
			}
	for (int i = 0; i < 300; i++) {
		size_t so = rl_unit_rand(&seed) % 64, dof = rl_unit_rand(&seed) % 64,
		       len = rl_unit_rand(&seed) % (cap - 128 + 1);

		assert_int_equal(folded_sum(rl_csum_copy(dst + dof, src + so, len, 0)),
		                 ref_sum(src + so, len));
		assert_memory_equal(dst + dof, src + so, len);
	}
	free(src);
	free(dst);
}

static void csum_pseudo_header(void **state)
{
	/* 198.18.0.1 -> 198.18.0.2, UDP, length 28 */
	uint8_t ph[12] = {198, 18, 0, 1, 198, 18, 0, 2, 0, 17, 0, 28};
	uint32_t s = rl_csum_pseudo(0xc6120001, 0xc6120002, 17, 28);

	(void)state;
	assert_int_equal(folded_sum(s), ref_sum(ph, sizeof(ph)));
	s = rl_csum_pseudo(0xffffffff, 0xffffffff, 255, 0xffff);
	memset(ph, 0xff, 8);
	ph[9] = 255;
	ph[10] = ph[11] = 0xff;
	assert_int_equal(folded_sum(s), ref_sum(ph, sizeof(ph)));
}

static uint16_t full_ip_csum(uint8_t *h)
{
	h[10] = h[11] = 0;
	return rl_csum_fold(rl_csum_partial(h, 20, 0));
}

static void csum_rfc1624_incremental_matches_full(void **state)
{
	uint64_t seed = 2024;
	uint8_t h[20];

	(void)state;
	/* RFC 1624 section 4: HC = dd2f, m = 5555 -> m' = 3285 gives 0000
	 * (eqn. 2 of RFC 1141 would wrongly give ffff). */
	assert_int_equal(rl_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);

	for (int i = 0; i < 20000; i++) {
		uint16_t c, c2, old16, new16;
		uint32_t old32, new32;
		int word;

		for (int j = 0; j < 20; j++)
			h[j] = (uint8_t)rl_unit_rand(&seed);
		h[0] = 0x45;
		c = full_ip_csum(h);

		/* a 16-bit field (any word but the checksum itself) */
		word = (int)(rl_unit_rand(&seed) % 9);
		if (word >= 5)
			word++;
		old16 = (uint16_t)(h[2 * word] << 8 | h[2 * word + 1]);
		new16 = (uint16_t)rl_unit_rand(&seed);
		if (i % 7 == 0)
			new16 = old16; /* no change keeps the checksum */
		h[2 * word] = (uint8_t)(new16 >> 8);
		h[2 * word + 1] = (uint8_t)new16;
		c2 = full_ip_csum(h);
		assert_int_equal(rl_csum_update16(c, old16, new16), c2);

		/* a 32-bit field: the source or destination address */
		word = rl_unit_rand(&seed) & 1 ? 12 : 16;
		old32 = (uint32_t)h[word] << 24 | h[word + 1] << 16 | h[word + 2] << 8 |
		        h[word + 3];
		new32 = (uint32_t)rl_unit_rand(&seed);
		h[word] = (uint8_t)(new32 >> 24);
		h[word + 1] = (uint8_t)(new32 >> 16);
		h[word + 2] = (uint8_t)(new32 >> 8);
		h[word + 3] = (uint8_t)new32;
		assert_int_equal(rl_csum_update32(c2, old32, new32), full_ip_csum(h));
	}
}

static void csum_rfc1624_ttl_decrement(void **state)
{
	/* The router's classic: TTL 64 -> 63 in the b861 header. */
	uint8_t ip[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                  0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint16_t c = rl_csum_update16(0xb861, 0x4011, 0x3f11);

	(void)state;
	ip[8] = 0x3f;
	assert_int_equal(c, 0xb961);
	assert_int_equal(full_ip_csum(ip), c);
}

static const struct CMUnitTest checksum_tests[] = {
    cmocka_unit_test(csum_rfc1071_known_vectors),
    cmocka_unit_test(csum_odd_length_pads_low_byte),
    cmocka_unit_test(csum_any_alignment_matches_reference),
    cmocka_unit_test(csum_chains_even_pieces),
    cmocka_unit_test(csum_large_buffer_no_overflow),
    cmocka_unit_test(csum_blocks_match_reference_every_length_and_offset),
    cmocka_unit_test(csum_copy_copies_and_sums_like_partial),
    cmocka_unit_test(csum_pseudo_header),
    cmocka_unit_test(csum_rfc1624_incremental_matches_full),
    cmocka_unit_test(csum_rfc1624_ttl_decrement),
};

RL_UNIT_MAIN(checksum_tests)
