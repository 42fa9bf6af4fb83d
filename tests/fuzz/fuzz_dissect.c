/*
 * fuzz_dissect.c - rl_dissect() over any bytes, cut into any pieces.
 *
 * Input: one byte of cut count, then cut points, then the packet. The
 * packet is copied into exactly-sized heap pieces (ASan sees one byte of
 * over-read). Properties: it returns 0 or -EBADMSG; a problem string is
 * terminated; payload_off + payload_len never exceeds the packet; the same
 * bytes in one piece give the same layers and verdicts (pieces are only a
 * way of holding the bytes).
 */
#include <errno.h>

#include "fuzz_common.h"
#include "ringlab/packet.h"
#include "ringlab/tcp.h"

#define MAXP 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned ncut = fz_u8(&f) % MAXP;
	size_t cuts[MAXP];
	struct rl_iov v[MAXP + 1];
	uint8_t *bufs[MAXP + 1];
	struct rl_dissect d1, d2;
	unsigned np = 0;
	size_t at = 0, len;
	int rc1, rc2;

	for (unsigned i = 0; i < ncut; i++)
		cuts[i] = fz_u16(&f);
	len = f.n;
	for (unsigned i = 0; i <= ncut; i++) {
		size_t end = i < ncut ? at + cuts[i] % (len - at + 1) : len;

		bufs[np] = malloc(end - at ? end - at : 1);
		memcpy(bufs[np], f.p + at, end - at);
		v[np] = (struct rl_iov){bufs[np], end - at};
		np++;
		at = end;
	}
	rc1 = rl_dissect(v, np, &d1);
	FZ_CHECK(rc1 == 0 || rc1 == -EBADMSG, "rc %d", rc1);
	FZ_CHECK(memchr(d1.problem, 0, sizeof d1.problem) != NULL, "problem unterminated");
	FZ_CHECK(d1.len == len, "len %u of %zu", d1.len, len);
	FZ_CHECK((uint64_t)d1.payload_off + d1.payload_len <= len, "payload %u+%u of %zu",
	         d1.payload_off, d1.payload_len, len);

	/* The same bytes as one piece. */
	{
		uint8_t *one = malloc(len ? len : 1);
		struct rl_iov w = {one, len};

		memcpy(one, f.p, len);
		rc2 = rl_dissect(&w, 1, &d2);
		free(one);
	}
	FZ_CHECK(rc1 == rc2, "pieces %d vs one %d", rc1, rc2);
	FZ_CHECK(d1.layers == d2.layers, "layers %x vs %x", d1.layers, d2.layers);
	FZ_CHECK(d1.payload_off == d2.payload_off && d1.payload_len == d2.payload_len,
	         "payload %u+%u vs %u+%u", d1.payload_off, d1.payload_len, d2.payload_off,
	         d2.payload_len);
	FZ_CHECK(d1.ip_csum_ok == d2.ip_csum_ok && d1.udp_csum_ok == d2.udp_csum_ok &&
	             d1.tcp_csum_ok == d2.tcp_csum_ok && d1.icmp_csum_ok == d2.icmp_csum_ok,
	         "checksum verdicts differ");
	for (unsigned i = 0; i < np; i++)
		free(bufs[i]);
	return 0;
}
