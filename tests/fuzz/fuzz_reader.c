/*
 * fuzz_reader.c - the in-place reader (core/reader.c) driven by a sequence
 * of operations from the input, checked against a flat copy of the stream.
 *
 * Operations: push a piece of a fresh frame the reader owns; push another
 * piece of the last such frame; push a piece of a frame the program keeps
 * (own=false); push a frame of fuzzed bytes as a packet (push_packet: what
 * parses queues its payload, what does not is refused and stays ours);
 * peek, read, copy, find, release. After each: avail equals the model,
 * peeked/read bytes equal the model's, find agrees with a plain search,
 * the region is conserved. At the end rl_reader_free gives back every
 * frame it owns: the pool is full again.
 */
#include <errno.h>

#include "fuzz_common.h"
#include "ringlab/err.h"
#include "ringlab/ledger.h"
#include "ringlab/reader.h"
#include "ringlab/ring.h"

#define FRAMES 24u
#define FSIZE 2048u
#define MODEL (FRAMES * FSIZE * 4)

static uint8_t model[MODEL];

static void conserved(const struct rl_region *r)
{
	struct rl_err err;

	FZ_CHECK(rl_region_check(r, &err) == 0, "%s", err.msg);
}

static int64_t plain_find(const uint8_t *m, uint64_t n, const uint8_t *pat, size_t plen)
{
	for (uint64_t i = 0; plen && i + plen <= n; i++)
		if (!memcmp(m + i, pat, plen))
			return (int64_t)i;
	return -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct rl_region_params rp = {.frames = FRAMES, .frame_size = FSIZE, .headroom = 0};
	struct rl_region r;
	struct rl_ledger led;
	struct rl_reader *rd;
	struct rl_err err;
	uint64_t keep, last = UINT64_MAX, head = 0, tail = 0; /* model[head..tail) */
	int ops = 0;

	if (rl_region_init(&r, &rp, NULL, &err))
		return 0;
	memset(&led, 0, sizeof led);
	FZ_CHECK(rl_region_take(&r, &keep, &err) == 0, "take");
	for (uint32_t i = 0; i < FSIZE; i++)
		((uint8_t *)rl_region_ptr(&r, keep))[i] = (uint8_t)(i * 7 + 3);
	FZ_CHECK(rl_reader_new(&rd, &r, &led, &err) == 0, "%s", err.msg);

	while (f.n && ops++ < 200) {
		uint8_t op = fz_u8(&f);
		/* off inside the frame (past it is another frame: a different case); len
		 * may run past its end, which must be refused */
		uint32_t off = fz_u16(&f) % FSIZE, len = fz_u16(&f) % (FSIZE + 8);
		uint64_t addr;
		bool took;
		int rc;

		switch (op % 9) {
		case 0: /* a fresh owned frame */
		case 1: /* another piece of the last one */
			took = op % 9 == 0 || last == UINT64_MAX;
			if (took) {
				if (rl_region_take(&r, &addr, &err))
					break;
				for (uint32_t i = 0; i < FSIZE; i++)
					((uint8_t *)rl_region_ptr(&r, addr))[i] = fz_u8(&f);
				last = addr;
			}
			addr = last;
			rc = rl_reader_push(rd, addr + off, len, true, &err);
			if (rc == 0) {
				FZ_CHECK(off + len <= FSIZE, "accepted %u+%u", off, len);
				memcpy(model + tail, rl_region_ptr(&r, addr + off), len);
				tail += len;
			} else {
				FZ_CHECK(err.msg[0], "refused silently");
				if (took) { /* never queued: ours to give back */
					rl_region_release(&r, rl_region_frame(&r, addr), NULL);
					last = UINT64_MAX;
				}
			}
			break;
		case 2: /* the program's own frame, not owned by the reader */
			rc = rl_reader_push(rd, keep + off, len, false, &err);
			if (rc == 0) {
				memcpy(model + tail, rl_region_ptr(&r, keep + off), len);
				tail += len;
			}
			break;
		case 3: { /* a packet of fuzzed bytes */
			struct rl_desc d;
			struct rl_dissect dis;

			if (rl_region_take(&r, &addr, &err))
				break;
			for (uint32_t i = 0; i < len && i < FSIZE; i++)
				((uint8_t *)rl_region_ptr(&r, addr))[i] = fz_u8(&f);
			d = (struct rl_desc){addr, len > FSIZE ? FSIZE : len, 0};
			rc = rl_reader_push_packet(rd, &d, 1, &dis, &err);
			if (rc == 0) {
				FZ_CHECK((uint64_t)dis.payload_off + dis.payload_len <= d.len,
				         "payload %u+%u of %u", dis.payload_off, dis.payload_len,
				         d.len);
				memcpy(model + tail, rl_region_ptr(&r, addr + dis.payload_off),
				       dis.payload_len);
				tail += dis.payload_len;
				last = UINT64_MAX;
			} else {
				FZ_CHECK(rc == -EBADMSG && err.msg[0], "rc %d", rc);
				rl_region_release(&r, rl_region_frame(&r, addr), NULL);
			}
			break;
		}
		case 4:   /* peek */
		case 5: { /* read */
			struct rl_iov v[16];
			uint64_t got = 0, at = head;
			int np = op % 9 == 4 ? rl_reader_peek(rd, len * 3, v, 1 + off % 16, &got)
			                     : rl_reader_read(rd, len * 3, v, 1 + off % 16, &got);

			FZ_CHECK(np >= 0 && np <= 16 && got <= tail - head, "np %d got %llu", np,
			         (unsigned long long)got);
			for (int i = 0; i < np; i++) {
				FZ_CHECK(!memcmp(v[i].base, model + at, v[i].len),
				         "piece %d differs", i);
				at += v[i].len;
			}
			FZ_CHECK(at - head == got, "pieces %llu vs got %llu",
			         (unsigned long long)(at - head), (unsigned long long)got);
			if (op % 9 == 5)
				head += got;
			break;
		}
		case 6: { /* copy */
			uint8_t buf[FSIZE * 3 + 24];
			uint64_t n = len * 3 % sizeof buf;

			rc = rl_reader_copy(rd, buf, n, &err);
			if (n <= tail - head) {
				FZ_CHECK(rc == 0, "copy %llu of %llu: %s", (unsigned long long)n,
				         (unsigned long long)(tail - head), err.msg);
				FZ_CHECK(!memcmp(buf, model + head, n), "copied bytes differ");
				head += n;
			} else {
				FZ_CHECK(rc == -EAGAIN, "copy past the end rc %d", rc);
			}
			break;
		}
		case 7: { /* find a pattern: from the stream or from the input */
			uint8_t pat[8];
			size_t plen = 1 + off % 8;
			int64_t want, got;

			if ((op & 0x80) && tail - head >= plen) {
				uint64_t at = head + len % (tail - head - plen + 1);

				memcpy(pat, model + at, plen);
			} else {
				for (size_t i = 0; i < plen; i++)
					pat[i] = fz_u8(&f);
			}
			want = plain_find(model + head, tail - head, pat, plen);
			got = rl_reader_find(rd, pat, plen);
			FZ_CHECK(got == want, "find %lld, plain search %lld", (long long)got,
			         (long long)want);
			break;
		}
		default:
			rl_reader_release(rd);
			last = UINT64_MAX; /* it may have gone back */
		}
		FZ_CHECK(rl_reader_avail(rd) == tail - head, "avail %llu model %llu",
		         (unsigned long long)rl_reader_avail(rd),
		         (unsigned long long)(tail - head));
		if (tail > MODEL - 4 * FSIZE)
			break;
		conserved(&r);
	}
	rl_reader_free(rd);
	rl_region_release(&r, rl_region_frame(&r, keep), NULL);
	conserved(&r);
	FZ_CHECK(r.nfree == r.frames, "%u of %u frames back after rl_reader_free", r.nfree,
	         r.frames);
	rl_region_fini(&r);
	return 0;
}
