/*
 * fuzz_common.h - what the libFuzzer harnesses share: a byte cursor over
 * the fuzzer's input, and a check that aborts (so libFuzzer keeps the
 * input as a crash) with a line saying which property broke.
 */
#ifndef RINGLAB_FUZZ_COMMON_H
#define RINGLAB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v = 0;

	if (f->n) {
		v = *f->p++;
		f->n--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return (uint32_t)fz_u16(f) | (uint32_t)fz_u16(f) << 16;
}

#define FZ_CHECK(cond, ...)                                                        \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz property broken at %s:%d: %s: ", __FILE__, \
			        __LINE__, #cond);                                 \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
			abort();                                                   \
		}                                                                  \
	} while (0)

#endif
