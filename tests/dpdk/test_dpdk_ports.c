/*
 * test_dpdk_ports.c - the DPDK engine's other region layout, two ports back
 * to back, GRO, and PMDs that need more than one process can fake:
 *
 *   layout=objects  frames are whole mempool objects (what net_af_xdp
 *                   needs), tried on net_ring: the receiver still gets the
 *                   sender's very addresses
 *   peer=           two net_ring ports over two rings sharing one region
 *   rx_gro          GSO segments merged back into one chain of the
 *                   original mbufs
 *   net_memif       a server and a client port in one process (root: its
 *                   socket lives under /run/ringlab-<pid>/; exits 77 else)
 *
 * Owners are conserved after every test.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ringlab/checksum.h>
#include <ringlab/packet.h>

#include "dpdk_test.h"

#define SKIP 77

/* ---- layout=objects ------------------------------------------------------- */

static void objects_layout_round_trip_on_ring(void **state)
{
	static const char *const kv[] = {"layout", "objects", NULL};
	struct rl_desc d, in[4];
	struct rl_stats st;
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open_with(&t, "net_ring0", kv) < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 64, 2048);
	d = (struct rl_desc){dt_take(&t) + 256, 200, 0};
	/* the program owns the whole frame, object header and mbuf too: it
	 * may write over them, and the engine writes the mbuf anew */
	memset(rl_region_ptr(t.r, rl_region_frame_addr(t.r, rl_region_frame(t.r, d.addr))),
	       0x5a, 256);
	memset(rl_region_ptr(t.r, d.addr), 0xab, d.len);
	assert_int_equal(t.ops->tx(t.e, &d, 1, &t.err), 1);
	assert_int_equal(dt_owned(&t, RL_OWN_NIC), 1);
	assert_int_equal(t.ops->rx(t.e, in, 4, &t.err), 1);
	assert_int_equal(in[0].addr, d.addr); /* the same object: no copy */
	assert_int_equal(in[0].len, d.len);
	assert_int_equal(((uint8_t *)rl_region_ptr(t.r, d.addr))[199], 0xab);
	assert_int_equal(dt_extra(&t, "rx_same_buffer"), 1);
	/* and again, over the mbuf DPDK just handed back */
	memset(rl_region_ptr(t.r, rl_region_frame_addr(t.r, rl_region_frame(t.r, d.addr))),
	       0xa5, 256);
	assert_int_equal(t.ops->tx(t.e, &d, 1, &t.err), 1);
	assert_int_equal(t.ops->rx(t.e, in, 4, &t.err), 1);
	assert_int_equal(in[0].addr, d.addr);
	assert_int_equal(dt_extra(&t, "rx_same_buffer"), 2);
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	t.ops->stats(t.e, &st);
	assert_contains(st.mode_why, "objects layout");
	dt_conserved(&t);
	dt_close(&t);
}

/* In the objects layout a frame begins with the object header and mbuf. */
static void objects_layout_refuses_descriptor_over_mbuf(void **state)
{
	static const char *const kv[] = {"layout", "objects", NULL};
	struct rl_desc d;
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open_with(&t, "net_ring0", kv) < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 16, 2048);
	d = (struct rl_desc){dt_take(&t) + 64, 100, 0};
	assert_int_equal(t.ops->tx(t.e, &d, 1, &t.err), -EINVAL);
	assert_contains(t.err.msg, "inside its mbuf");
	assert_contains(t.err.msg, "192 bytes");
	assert_int_equal(dt_owned(&t, RL_OWN_TX) + dt_owned(&t, RL_OWN_NIC), 0);
	dt_conserved(&t);
	dt_close(&t);
}

static void objects_layout_frame_size_is_one_page_at_most(void **state)
{
	static const char *const kv[] = {"layout", "objects", NULL};
	struct rl_region_params p = {16, 8192, 256};
	struct dt t;

	(void)state;
	dt_load(&t);
	if (dt_open_with(&t, "net_ring0", kv) < 0)
		fail_msg("open: %s", t.err.msg);
	assert_int_equal(t.ops->region(t.e, &p, &t.r, &t.err), -EINVAL);
	assert_contains(t.err.msg, "UMEM chunk");
	dt_close(&t);
}

/* ---- peer= -------------------------------------------------------------------- */

static void peer_ports_exchange_at_sender_addresses(void **state)
{
	struct rl_desc d[2], in[4];
	struct rl_region *rb;
	struct dt a, b;

	(void)state;
	dt_load(&a);
	dt_load(&b);
	if (dt_open(&a, "net_ring0") < 0)
		fail_msg("open a: %s", a.err.msg);
	dt_region(&a, 64, 2048);
	if (dt_open_peer(&b, &a) < 0)
		fail_msg("open b: %s", b.err.msg);
	dt_region(&b, 64, 2048);
	rb = b.r;
	assert_ptr_equal(rb, a.r); /* one region, two ports */
	for (int i = 0; i < 2; i++) {
		d[i] = (struct rl_desc){dt_take(&a) + 256, 60 + (uint32_t)i, 0};
		memset(rl_region_ptr(a.r, d[i].addr), 'x' + i, d[i].len);
	}
	assert_int_equal(a.ops->tx(a.e, d, 2, &a.err), 2);
	assert_int_equal(a.ops->rx(a.e, in, 4, &a.err), 0); /* no loopback any more */
	assert_int_equal(b.ops->rx(b.e, in, 4, &b.err), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(in[i].addr, d[i].addr); /* a's very buffers */
		assert_int_equal(in[i].len, d[i].len);
	}
	assert_int_equal(dt_extra(&b, "rx_same_buffer"), 2);
	assert_int_equal(b.ops->ledger(b.e)->driver_copied, 0);
	/* and back: b sends what it got, a receives it where it sent it from */
	assert_int_equal(b.ops->tx(b.e, in, 2, &b.err), 2);
	assert_int_equal(b.ops->rx(b.e, in + 2, 2, &b.err), 0);
	assert_int_equal(a.ops->rx(a.e, in, 4, &a.err), 2);
	assert_int_equal(in[0].addr, d[0].addr);
	assert_int_equal(dt_extra(&a, "model_errors"), 0);
	dt_conserved(&a);
	/* b goes; a keeps the region, and what b had in flight falls off */
	assert_int_equal(b.ops->tx(b.e, in, 1, &b.err), 1);
	dt_close(&b);
	dt_conserved(&a);
	assert_int_equal(a.ops->rx(a.e, in + 2, 2, &a.err), 1); /* already on the wire */
	dt_conserved(&a);
	dt_close(&a);
}

static void peer_must_be_a_quiet_ring_port(void **state)
{
	struct rl_desc d;
	struct dt a, b, n;

	(void)state;
	dt_load(&a);
	dt_load(&b);
	dt_load(&n);
	if (dt_open(&n, "net_null0") < 0)
		fail_msg("open null: %s", n.err.msg);
	assert_true(dt_open_peer(&b, &n) < 0);
	assert_contains(b.err.msg, "net_ring");
	if (dt_open(&a, "net_ring1") < 0)
		fail_msg("open a: %s", a.err.msg);
	dt_region(&a, 16, 2048);
	d = (struct rl_desc){dt_take(&a) + 256, 60, 0};
	assert_int_equal(a.ops->tx(a.e, &d, 1, &a.err), 1);
	b.e = NULL;
	assert_int_equal(dt_open_peer(&b, &a), -EBUSY); /* a packet in its ring */
	assert_contains(b.err.msg, "receive them first");
	dt_conserved(&a);
	dt_close(&a);
	dt_close(&n);
}

/* ---- GRO ---------------------------------------------------------------------- */

#define GRO_PAYLOAD 64000
#define GRO_MSS 1448
#define GRO_HDRS 54

static void tcp_ack_headers(uint8_t *h)
{
	static const uint8_t hdr[GRO_HDRS] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0,                      /* eth */
		0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
		0x23, 0x28, 0x1f, 0x90, 0, 0, 0x03, 0xe8, 0, 0, 0, 0,            /* tcp */
		0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0};                            /* ACK only */

	memcpy(h, hdr, GRO_HDRS);
}

static void gro_merges_gso_segments_into_one_chain(void **state)
{
	struct rl_xdesc x[64], s[256];
	struct rl_tx_opts o = {.gso_mss = GRO_MSS};
	struct rl_desc d[64];
	struct rl_dissect dis;
	struct rl_iov iov[256];
	uint64_t pay, hdr, addrs[64];
	uint32_t n = 0, off = 0;
	uint8_t *p;
	struct dt t;
	int k, got;

	(void)state;
	dt_load(&t);
	if (dt_open(&t, "net_ring0") < 0)
		fail_msg("open: %s", t.err.msg);
	dt_region(&t, 128, 2048);
	hdr = dt_take(&t) + 256;
	tcp_ack_headers(rl_region_ptr(t.r, hdr));
	if (rl_region_alloc(t.r, GRO_PAYLOAD, &pay, &t.err) < 0)
		fail_msg("alloc: %s", t.err.msg);
	p = rl_region_ptr(t.r, pay);
	for (uint32_t i = 0; i < GRO_PAYLOAD; i++)
		p[i] = (uint8_t)(i * 13 + 1);
	d[n++] = (struct rl_desc){hdr, GRO_HDRS, RL_DESC_CONTD};
	for (uint64_t a = pay, left = GRO_PAYLOAD; left;) {
		uint64_t end = rl_region_frame_addr(t.r, rl_region_frame(t.r, a) + 1);
		uint32_t take = (uint32_t)(end - a < left ? end - a : left);

		d[n++] = (struct rl_desc){a, take, RL_DESC_CONTD};
		a += take;
		left -= take;
	}
	d[n - 1].options = 0;
	for (uint32_t i = 0; i < n; i++)
		x[i] = (struct rl_xdesc){.addr = d[i].addr, .len = d[i].len, .options = d[i].options};
	k = t.ops->tx_x(t.e, x, n, &o, &t.err);
	if (k < 0)
		fail_msg("tx_x gso: %s", t.err.msg);
	assert_int_equal(k, (GRO_PAYLOAD + GRO_MSS - 1) / GRO_MSS); /* 45 segments */
	got = t.ops->rx_x(t.e, s, 256, RL_RX_GRO, &t.err);
	if (got < 0)
		fail_msg("rx_x gro: %s", t.err.msg);
	assert_int_equal(dt_extra(&t, "gro_in"), (uint64_t)k);
	assert_int_equal(dt_extra(&t, "gro_out"), 1); /* one packet came out */
	assert_int_equal(s[0].options, RL_DESC_EXT | RL_DESC_COPIED | RL_DESC_CONTD); /* the
			 * first segment's headers, GSO's copy */
	assert_int_equal(s[0].len, GRO_HDRS);
	for (int i = 1; i < got; i++) { /* every payload byte where it was born */
		assert_true(s[i].options & RL_DESC_EXT); /* a reference, the frame the NIC's */
		assert_false(s[i].options & RL_DESC_COPIED);
		assert_int_equal(s[i].addr, pay + off);
		off += s[i].len;
	}
	assert_int_equal(off, GRO_PAYLOAD);
	assert_int_equal(((const uint8_t *)s[0].va)[16] << 8 | ((const uint8_t *)s[0].va)[17],
			 GRO_PAYLOAD + 40); /* IPv4 total length of the merged packet */
	for (int i = 0; i < got; i++) /* checksums of the merged packet hold */
		iov[i] = (struct rl_iov){(void *)s[i].va, s[i].len};
	assert_int_equal(rl_dissect(iov, (unsigned)got, &dis), 0);
	assert_true(dis.ip_csum_ok);
	assert_true(dis.tcp_csum_ok);
	assert_int_equal(t.ops->rx_x(t.e, s, 8, 0, &t.err), 0); /* nothing else */
	t.ops->rx_release(t.e);
	assert_int_equal(t.ops->complete(t.e, addrs, 64, &t.err), (int)n);
	assert_int_equal(dt_owned(&t, RL_OWN_NIC), 0);
	assert_int_equal(dt_extra(&t, "model_errors"), 0);
	assert_int_equal(t.ops->ledger(t.e)->copied, 0);
	dt_conserved(&t);
	rl_region_unpin(t.r, pay, GRO_PAYLOAD);
	dt_close(&t);
}

/* ---- net_memif: server and client in one process ------------------------------ */

static int memif_dir(char *dir, size_t cap)
{
	snprintf(dir, cap, "/run/ringlab-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		printf("SKIP: net_memif's socket goes under /run (%s): needs root\n",
		       strerror(errno));
		return -1;
	}
	return 0;
}

/* One UDP datagram from `from` to `to`; every byte checked on arrival. */
static void udp_across(struct dt *from, struct dt *to, uint32_t size, uint8_t seed)
{
	struct rl_flow f = {.src_mac = {2, 0, 0, 0, 0, 1}, .dst_mac = {2, 0, 0, 0, 0, 2},
			    .src_ip = 0xc6120001, .dst_ip = 0xc6120002,
			    .src_port = 9000, .dst_port = 9999};
	struct rl_desc d, in[8];
	uint8_t *pkt;
	struct rl_iov pay;
	int got = 0;

	d = (struct rl_desc){dt_take(from) + 256, RL_UDP_HDRS + size, 0};
	pkt = rl_region_ptr(from->r, d.addr);
	for (uint32_t i = 0; i < size; i++)
		pkt[RL_UDP_HDRS + i] = (uint8_t)(i * 31 + seed);
	pay = (struct rl_iov){pkt + RL_UDP_HDRS, size};
	if (rl_build_udp(pkt, RL_UDP_HDRS, &f, &pay, 1, true, NULL, &from->err) < 0)
		fail_msg("build: %s", from->err.msg);
	assert_int_equal(from->ops->tx(from->e, &d, 1, &from->err), 1);
	for (int i = 0; i < 2000 && got == 0; i++) {
		from->ops->kick(from->e, &from->err);
		got = to->ops->rx(to->e, in, 8, &to->err);
		if (got == 0)
			usleep(1000);
	}
	assert_int_equal(got, 1);
	assert_int_equal(in[0].len, d.len);
	assert_memory_equal(rl_region_ptr(to->r, in[0].addr), pkt, d.len);
	assert_int_not_equal(rl_region_ptr(to->r, in[0].addr), (void *)pkt); /* a copy */
	rl_region_release(to->r, rl_region_frame(to->r, in[0].addr), NULL);
	assert_int_equal(from->ops->complete(from->e, NULL, 8, &from->err), 1);
}

/* memif connects in the background (DPDK's interrupt thread). */
static void link_up(struct dt *t)
{
	for (int i = 0; i < 3000; i++) {
		t->ops->kick(t->e, &t->err);
		if (dt_extra(t, "link_up"))
			return;
		usleep(1000);
	}
	fail_msg("the memif link did not come up within 3 s");
}

static void memif_server_and_client_exchange_udp(void **state)
{
	char dir[64], sock[96], srv[256], cli[256];
	struct dt s, c;

	(void)state;
	if (memif_dir(dir, sizeof(dir)) < 0)
		exit(SKIP);
	snprintf(srv, sizeof(srv), "net_memif0,role=server,id=7,socket=%s/memif.sock,"
		 "socket-abstract=no", dir);
	snprintf(cli, sizeof(cli), "net_memif1,role=client,id=7,socket=%s/memif.sock,"
		 "socket-abstract=no", dir);
	dt_load(&s);
	dt_load(&c);
	if (dt_open(&s, srv) < 0)
		fail_msg("open server: %s", s.err.msg);
	if (dt_open(&c, cli) < 0)
		fail_msg("open client: %s", c.err.msg);
	dt_region(&s, 256, 2048);
	dt_region(&c, 256, 2048);
	assert_int_equal(s.ops->fill(s.e, 64, &s.err), 64);
	assert_int_equal(c.ops->fill(c.e, 64, &c.err), 64);
	link_up(&s);
	link_up(&c);
	udp_across(&c, &s, 1000, 1);
	udp_across(&s, &c, 1400, 2);
	assert_true(s.ops->ledger(s.e)->driver_copied >= 2 * 1000);
	/* memif copies both ways: the server received 1000 and sent 1400 */
	assert_true(rl_ledger_get_dir(s.ops->ledger(s.e), RL_LEDGER_DRIVER_COPIED, RL_DIR_RX) >=
		    1000);
	assert_true(rl_ledger_get_dir(s.ops->ledger(s.e), RL_LEDGER_DRIVER_COPIED, RL_DIR_TX) >=
		    1400);
	assert_int_equal(dt_extra(&s, "model_errors"), 0);
	assert_int_equal(dt_extra(&c, "model_errors"), 0);
	dt_conserved(&s);
	dt_conserved(&c);
	dt_close(&c);
	dt_close(&s);
	snprintf(sock, sizeof(sock), "%s/memif.sock", dir);
	unlink(sock);
	rmdir(dir);
}

static const struct CMUnitTest dpdk_port_tests[] = {
	cmocka_unit_test(objects_layout_round_trip_on_ring),
	cmocka_unit_test(objects_layout_refuses_descriptor_over_mbuf),
	cmocka_unit_test(objects_layout_frame_size_is_one_page_at_most),
	cmocka_unit_test(peer_ports_exchange_at_sender_addresses),
	cmocka_unit_test(peer_must_be_a_quiet_ring_port),
	cmocka_unit_test(gro_merges_gso_segments_into_one_chain),
	cmocka_unit_test(memif_server_and_client_exchange_udp),
};

int main(int argc, char **argv)
{
	return dt_main("dpdk_port_tests", dpdk_port_tests,
		       sizeof(dpdk_port_tests) / sizeof(dpdk_port_tests[0]), argc, argv);
}
