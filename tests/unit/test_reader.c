/*
 * test_reader.c - the in-place reader: reads and finds across piece
 * boundaries, peeks without consuming, copies out when asked, skips the
 * headers of received packets, gives frames back exactly when it has moved
 * past them, refuses bad pieces, and counts each byte in the ledger. The
 * conservation invariant is checked after every test.
 */
#include <errno.h>
#include <stdlib.h>

#include "ringlab/reader.h"
#include "ringlab/segment.h"
#include "unit.h"

#define FRAME    2048u
#define HEADROOM 256u

static void region_up(struct rl_region *r, uint32_t frames)
{
	struct rl_region_params p = {
	    .frames = frames, .frame_size = FRAME, .headroom = HEADROOM};

	assert_int_equal(rl_region_init(r, &p, NULL, NULL), 0);
}

static void assert_conserved(const struct rl_region *r)
{
	struct rl_err err;

	if (rl_region_check(r, &err))
		fail_msg("conservation broken: %s", err.msg);
}

/* Take a frame (as rx() would hand one over) and put text behind its
 * headroom; returns the address of the text. */
static uint64_t frame_with(struct rl_region *r, const char *text)
{
	uint64_t a;

	assert_int_equal(rl_region_take(r, &a, NULL), 0);
	a += HEADROOM;
	memcpy(rl_region_ptr(r, a), text, strlen(text));
	return a;
}

/* "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nBODY" in three frames (41 bytes). */
static struct rl_reader *three_pieces(struct rl_region *r, struct rl_ledger *l)
{
	static const char *const parts[3] = {"GET /index.h", "tml HTTP/1.1\r\nHost: x\r",
	                                     "\n\r\nBODY"};
	struct rl_reader *rd;

	assert_int_equal(rl_reader_new(&rd, r, l, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rl_reader_push(rd, frame_with(r, parts[i]),
		                                (uint32_t)strlen(parts[i]), true, NULL),
		                 0);
	return rd;
}

static void reader_reads_across_piece_boundaries(void **state)
{
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_reader *rd;
	struct rl_iov v[4];
	uint64_t got;

	(void)state;
	region_up(&r, 8);
	rd = three_pieces(&r, &l);
	assert_int_equal(rl_reader_avail(rd), 12 + 22 + 7);
	assert_int_equal(rl_reader_read(rd, 4, v, 4, &got), 1);
	assert_int_equal(got, 4);
	assert_memory_equal(v[0].base, "GET ", 4);
	/* 15 bytes from byte 4: the rest of piece 0 and 7 of piece 1. */
	assert_int_equal(rl_reader_read(rd, 15, v, 4, &got), 2);
	assert_int_equal(got, 15);
	assert_int_equal(v[0].len, 8);
	assert_memory_equal(v[0].base, "/index.h", 8);
	assert_memory_equal(v[1].base, "tml HTT", 7);
	/* The pointers are into the frames: no copy. */
	assert_ptr_equal(v[1].base, rl_region_ptr(&r, FRAME + HEADROOM));
	assert_int_equal(l.referenced, 19);
	assert_int_equal(l.copied, 0);
	/* max pieces limits a read; the rest stays. */
	assert_int_equal(rl_reader_read(rd, 100, v, 1, &got), 1);
	assert_int_equal(got, 15);
	assert_int_equal(rl_reader_read(rd, 100, v, 4, &got), 1);
	assert_int_equal(got, 7);
	assert_int_equal(rl_reader_avail(rd), 0);
	assert_int_equal(rl_reader_read(rd, 1, v, 4, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(l.referenced, 41);
	rl_reader_free(rd);
	assert_int_equal(r.nfree, 8);
	assert_conserved(&r);
	rl_region_fini(&r);
}

static void reader_peek_does_not_consume(void **state)
{
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_reader *rd;
	struct rl_iov v[4];
	uint64_t got;

	(void)state;
	region_up(&r, 8);
	rd = three_pieces(&r, &l);
	assert_int_equal(rl_reader_peek(rd, 14, v, 4, &got), 2);
	assert_int_equal(got, 14);
	assert_memory_equal(v[1].base, "tm", 2);
	assert_int_equal(rl_reader_avail(rd), 41);
	assert_int_equal(l.referenced, 0);
	assert_int_equal(rl_reader_release(rd), 0);
	rl_reader_free(rd);
	assert_int_equal(r.nfree, 8);
	rl_region_fini(&r);
}

static void reader_finds_across_piece_boundaries(void **state)
{
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_reader *rd;
	struct rl_iov v[4];
	uint64_t got;

	(void)state;
	region_up(&r, 8);
	rd = three_pieces(&r, &l);
	/* "\r\n\r\n" starts at the last byte of piece 1 and ends in piece 2. */
	assert_int_equal(rl_reader_find(rd, "\r\n\r\n", 4), 33);
	assert_int_equal(rl_reader_find(rd, ".html", 5), 10);
	assert_int_equal(rl_reader_find(rd, "GET", 3), 0);
	assert_int_equal(rl_reader_find(rd, "BODY", 4), 37);
	assert_int_equal(rl_reader_find(rd, "BODYX", 5), -ENOENT);
	assert_int_equal(rl_reader_find(rd, "nowhere", 7), -ENOENT);
	assert_int_equal(rl_reader_find(rd, "", 0), -EINVAL);
	assert_true(l.touched > 0);
	assert_int_equal(l.copied + l.referenced, 0);
	/* From the read position on. */
	rl_reader_read(rd, 11, v, 4, &got);
	assert_int_equal(rl_reader_find(rd, "h", 1), 0);
	assert_int_equal(rl_reader_find(rd, "GET", 3), -ENOENT);
	rl_reader_free(rd);
	assert_int_equal(r.nfree, 8);
	rl_region_fini(&r);
}

static void reader_returns_frames_as_it_moves(void **state)
{
	struct rl_region r;
	struct rl_reader *rd;
	struct rl_iov v[4];
	uint64_t got;

	(void)state;
	region_up(&r, 8);
	rd = three_pieces(&r, NULL);
	assert_int_equal(r.nfree, 5);
	assert_int_equal(rl_reader_frames(rd), 3);
	rl_reader_read(rd, 11, v, 4, &got); /* inside piece 0 */
	assert_int_equal(rl_reader_release(rd), 0);
	rl_reader_read(rd, 1, v, 4, &got); /* exactly at its end */
	assert_int_equal(rl_reader_release(rd), 1);
	assert_int_equal(r.nfree, 6);
	assert_true(rl_region_is_free(&r, 0));
	assert_conserved(&r);
	rl_reader_read(rd, 22 + 2, v, 4, &got); /* past piece 1, into 2 */
	assert_int_equal(rl_reader_release(rd), 1);
	assert_int_equal(rl_reader_frames(rd), 1);
	assert_int_equal(r.nfree, 7);
	/* Reading goes on where it was after the release. */
	assert_int_equal(rl_reader_read(rd, 100, v, 4, &got), 1);
	assert_memory_equal(v[0].base, "\nBODY", 5);
	assert_int_equal(rl_reader_release(rd), 1);
	assert_int_equal(r.nfree, 8);
	assert_int_equal(rl_reader_frames(rd), 0);
	rl_reader_free(rd);
	assert_conserved(&r);
	rl_region_fini(&r);
}

static void reader_frame_with_two_pieces_returns_after_both(void **state)
{
	struct rl_region r;
	struct rl_reader *rd;
	struct rl_iov v[4];
	uint64_t got, a;

	(void)state;
	region_up(&r, 4);
	assert_int_equal(rl_reader_new(&rd, &r, NULL, NULL), 0);
	a = frame_with(&r, "aaaabbbb");
	assert_int_equal(rl_reader_push(rd, a, 4, true, NULL), 0);
	assert_int_equal(rl_reader_push(rd, a + 4, 4, true, NULL), 0);
	assert_int_equal(rl_reader_frames(rd), 1);
	rl_reader_read(rd, 5, v, 4, &got);
	assert_int_equal(rl_reader_release(rd), 0); /* bbbb is still unread */
	rl_reader_read(rd, 3, v, 4, &got);
	assert_int_equal(rl_reader_release(rd), 1);
	assert_int_equal(r.nfree, 4);
	rl_reader_free(rd);
	assert_conserved(&r);
	rl_region_fini(&r);
}

static void reader_copy_mode_counts_copied(void **state)
{
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_reader *rd;
	char out[64] = {0};
	struct rl_err err;

	(void)state;
	region_up(&r, 8);
	rd = three_pieces(&r, &l);
	assert_int_equal(rl_reader_copy(rd, out, 42, &err), -EAGAIN);
	assert_contains(err.msg, "only 41 bytes are queued");
	assert_int_equal(l.copied, 0);
	assert_int_equal(rl_reader_copy(rd, out, 30, NULL), 0);
	assert_string_equal(out, "GET /index.html HTTP/1.1\r\nHost");
	assert_int_equal(rl_reader_copy(rd, out, 11, NULL), 0);
	assert_memory_equal(out, ": x\r\n\r\nBODY", 11);
	assert_int_equal(l.copied, 41);
	assert_int_equal(l.referenced, 0);
	assert_int_equal(rl_reader_release(rd), 3);
	rl_reader_free(rd);
	assert_int_equal(r.nfree, 8);
	rl_region_fini(&r);
}

/* A received packet whose headers are in a frame of their own (sg): the
 * reader queues the payload only and returns the header frame first. */
static void reader_push_packet_skips_headers(void **state)
{
	const struct rl_flow f = {
	    .src_ip = 0xc6120001, .dst_ip = 0xc6120002, .src_port = 1, .dst_port = 2};
	struct rl_ledger l = {0};
	struct rl_region r;
	struct rl_reader *rd;
	struct rl_desc d[2];
	struct rl_dissect ds;
	struct rl_iov v[4];
	uint64_t got;

	(void)state;
	region_up(&r, 8);
	d[1] = (struct rl_desc){frame_with(&r, "hello, world"), 12, 0};
	d[0] = (struct rl_desc){frame_with(&r, ""), RL_UDP_HDRS, RL_DESC_CONTD};
	struct rl_iov pay = {rl_region_ptr(&r, d[1].addr), 12};
	assert_int_equal(rl_build_udp(rl_region_ptr(&r, d[0].addr), RL_UDP_HDRS, &f, &pay,
	                              1, true, NULL, NULL),
	                 RL_UDP_HDRS);
	assert_int_equal(rl_reader_new(&rd, &r, &l, NULL), 0);
	assert_int_equal(rl_reader_push_packet(rd, d, 2, &ds, NULL), 0);
	assert_true(ds.udp_csum_ok);
	assert_int_equal(l.touched, 12); /* the checksum check read it */
	assert_int_equal(rl_reader_avail(rd), 12);
	assert_int_equal(rl_reader_frames(rd), 2);
	assert_int_equal(rl_reader_read(rd, 5, v, 4, &got), 1);
	assert_memory_equal(v[0].base, "hello", 5);
	assert_int_equal(rl_reader_release(rd), 1); /* the header frame */
	assert_true(rl_region_is_free(&r, rl_region_frame(&r, d[0].addr)));
	rl_reader_free(rd); /* the unread rest goes back too */
	assert_int_equal(r.nfree, 8);
	assert_conserved(&r);
	rl_region_fini(&r);
}

static void reader_refuses_bad_pieces_and_loses_nothing(void **state)
{
	struct rl_region r;
	struct rl_reader *rd;
	struct rl_desc junk;
	struct rl_err err;
	uint64_t a;

	(void)state;
	region_up(&r, 4);
	assert_int_equal(rl_reader_new(&rd, &r, NULL, NULL), 0);
	assert_int_equal(rl_reader_push(rd, r.size + 5, 1, true, &err), -ERANGE);
	assert_contains(err.msg, "outside the region");
	assert_int_equal(rl_reader_push(rd, FRAME - 10, 20, true, &err), -EINVAL);
	assert_contains(err.msg, "crosses from frame 0 into frame 1");
	assert_int_equal(rl_reader_push(rd, 100, 10, true, &err), -EPERM);
	assert_contains(err.msg, "free in the pool");
	a = frame_with(&r, "not a packet");
	junk = (struct rl_desc){a, 12, 0};
	assert_int_equal(rl_reader_push_packet(rd, &junk, 1, NULL, &err), -EBADMSG);
	assert_contains(err.msg, "does not parse");
	assert_int_equal(rl_reader_push_packet(rd, &junk, 0, NULL, &err), -EINVAL);
	assert_int_equal(rl_reader_avail(rd), 0);
	assert_int_equal(rl_reader_frames(rd), 0);
	/* Not owned: the reader reads it but leaves the frame to its holder. */
	assert_int_equal(rl_reader_push(rd, a, 12, false, NULL), 0);
	assert_int_equal(rl_reader_copy(rd, (char[12]){0}, 12, NULL), 0);
	assert_int_equal(rl_reader_release(rd), 0);
	assert_false(rl_region_is_free(&r, 0));
	rl_reader_free(rd);
	assert_int_equal(rl_region_release(&r, 0, NULL), 0);
	assert_int_equal(r.nfree, 4);
	assert_conserved(&r);
	rl_region_fini(&r);
}

/* A reader that holds nothing (no piece array yet, or every piece given
 * back) releases nothing - no memmove of a NULL array (UBSan: reader.c). */
static void reader_release_when_empty_moves_nothing(void **state)
{
	struct rl_region r;
	struct rl_reader *rd;

	(void)state;
	region_up(&r, 4);
	assert_int_equal(rl_reader_new(&rd, &r, NULL, NULL), 0);
	assert_int_equal(rl_reader_release(rd), 0); /* nothing pushed yet */
	assert_int_equal(rl_reader_push(rd, frame_with(&r, "abcd"), 4, true, NULL), 0);
	assert_int_equal(rl_reader_copy(rd, (char[4]){0}, 4, NULL), 0);
	assert_int_equal(rl_reader_release(rd), 1);
	assert_int_equal(rl_reader_release(rd), 0); /* all given back */
	assert_int_equal(rl_reader_frames(rd), 0);
	rl_reader_free(rd);
	assert_int_equal(r.nfree, 4);
	assert_conserved(&r);
	rl_region_fini(&r);
}

static const struct CMUnitTest reader_tests[] = {
    cmocka_unit_test(reader_release_when_empty_moves_nothing),
    cmocka_unit_test(reader_reads_across_piece_boundaries),
    cmocka_unit_test(reader_peek_does_not_consume),
    cmocka_unit_test(reader_finds_across_piece_boundaries),
    cmocka_unit_test(reader_returns_frames_as_it_moves),
    cmocka_unit_test(reader_frame_with_two_pieces_returns_after_both),
    cmocka_unit_test(reader_copy_mode_counts_copied),
    cmocka_unit_test(reader_push_packet_skips_headers),
    cmocka_unit_test(reader_refuses_bad_pieces_and_loses_nothing),
};

RL_UNIT_MAIN(reader_tests)
