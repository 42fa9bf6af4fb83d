/*
 * afxdp_drive.c - drive the AF_XDP engine through its ops table, no shell.
 *
 * The network tests run this inside the lab namespace of a testbed. It
 * loads ringlab-engine-afxdp.so with dlopen exactly like the shell does,
 * sends UDP datagrams to a kernel socket in the peer namespace (an echo
 * server in python3 that checks every byte and sends the datagram back),
 * receives the echo, and compares every byte again. After every step it
 * proves the conservation invariant (rl_region_check: owners sum to the
 * number of frames) and that the XDP program is attached while the engine
 * is open and gone after close.
 *
 *   afxdp_drive ENGINE.so CASE IFNAME PEER_MAC SIZE COUNT [key=value...]
 *
 * CASE: echo      send COUNT datagrams of SIZE bytes, get each one back
 *       vanish    send one, delete IFNAME, then every call must fail cleanly
 *       error:TXT opening or making the region must fail with TXT in the
 *                 message (e.g. error:EOPNOTSUPP for mode=zerocopy on veth)
 * The key=value pairs are engine options (ifname= is added from IFNAME).
 * Prints what it does; exits 0 on success, 1 with the reason on failure.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ringlab/ringlab.h>

#define FRAMES 512
#define HEADROOM 256
#define LAB_PORT 9000
#define PEER_PORT 9999
#define MAX_DESCS 64

static const struct rl_engine_ops *ops;
static struct rl_engine *eng;
static struct rl_region *reg;
static const char *ifname;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (eng)
		ops->close(eng);
	exit(1);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The payload of datagram `seq`: the python peer makes the same bytes. */
static uint8_t pattern(uint32_t seq, uint32_t j)
{
	return (uint8_t)(((j * 131u) + seq * 7u) ^ (j >> 8));
}

static void read_mac(const char *name, uint8_t mac[6])
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		fail("cannot read %s", path);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (rl_parse_mac(buf, mac, NULL) < 0)
		fail("bad mac %s in %s", buf, path);
}

/* Does `ip link` show an XDP program on the interface? */
static bool xdp_attached(void)
{
	char cmd[128], line[1024] = "";
	FILE *p;
	bool yes;

	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s 2>/dev/null", ifname);
	p = popen(cmd, "r");
	if (!p)
		return false;
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	yes = strstr(line, "prog/xdp") != NULL;
	return yes;
}

static void check_owners(const char *when)
{
	struct rl_err err;
	uint64_t sum = 0;

	rl_err_clear(&err);
	reg = ops->get_region(eng); /* brings owners up to date with the kernel */
	if (rl_region_check(reg, &err) < 0)
		fail("owners not conserved %s: %s", when, err.msg);
	for (int o = 0; o < RL_OWN_COUNT; o++)
		sum += reg->count[o];
	if (sum != reg->frames)
		fail("owners sum to %llu, not %u, %s", (unsigned long long)sum, reg->frames, when);
	printf("owners %-22s app=%u fill=%u nic=%u rx=%u tx=%u comp=%u (sum %u)\n", when,
	       reg->count[RL_OWN_APP], reg->count[RL_OWN_FILL], reg->count[RL_OWN_NIC],
	       reg->count[RL_OWN_RX], reg->count[RL_OWN_TX], reg->count[RL_OWN_COMP],
	       reg->frames);
}

static void print_rings(void)
{
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	int n = ops->rings(eng, v, RL_RING_VIEWS_MAX);

	for (int i = 0; i < n; i++)
		printf("ring %-5s size=%u prod=%u cons=%u pending=%u%s\n", v[i].name, v[i].size,
		       v[i].prod, v[i].cons, v[i].pending, v[i].need_wakeup ? " need_wakeup" : "");
}

/* ---- sending ------------------------------------------------------------ */

/* Headers and payload of datagram seq, laid out across frames after each
 * frame's headroom; returns the number of descriptors. */
static uint32_t build(const struct rl_flow *fl, uint32_t seq, uint32_t size,
		      struct rl_desc *d)
{
	uint8_t *bytes = malloc(RL_UDP_HDRS + size);
	struct rl_iov pay = { bytes + RL_UDP_HDRS, size };
	uint32_t chunk = reg->frame_size - HEADROOM, total = RL_UDP_HDRS + size, n = 0;
	uint64_t touched = 0, addr;
	struct rl_err err;

	for (uint32_t j = 0; j < size; j++)
		bytes[RL_UDP_HDRS + j] = pattern(seq, j);
	if (rl_build_udp(bytes, RL_UDP_HDRS, fl, &pay, 1, true, &touched, &err) < 0)
		fail("build udp: %s", err.msg);
	for (uint32_t pos = 0; pos < total; pos += chunk, n++) {
		uint32_t k = total - pos < chunk ? total - pos : chunk;

		if (n == MAX_DESCS || rl_region_take(reg, &addr, &err) < 0)
			fail("no frame for datagram %u: %s", seq, err.msg);
		memcpy(rl_region_ptr(reg, addr + HEADROOM), bytes + pos, k);
		d[n] = (struct rl_desc){ addr + HEADROOM, k, RL_DESC_CONTD };
	}
	d[n - 1].options = 0;
	free(bytes);
	return n;
}

static void send_one(const struct rl_flow *fl, uint32_t seq, uint32_t size)
{
	struct rl_desc d[MAX_DESCS];
	uint32_t n = build(fl, seq, size, d), done = 0;
	struct rl_err err;
	int rc;

	check_owners("built (held by app)");
	rc = ops->tx(eng, d, n, &err);
	if (rc != (int)n)
		fail("tx of %u descriptors: %d %s", n, rc, err.msg);
	check_owners("queued on tx");
	for (int t = 0; t < 2000 && done < n; t++) {
		if (ops->kick(eng, &err) < 0)
			fail("kick: %s", err.msg);
		if ((rc = ops->complete(eng, NULL, 64, &err)) < 0)
			fail("complete: %s", err.msg);
		done += (uint32_t)rc;
		if (done < n)
			sleep_ms(1);
	}
	if (done != n)
		fail("only %u of %u frames of datagram %u completed", done, n, seq);
	printf("sent datagram %u: %u bytes in %u frame(s)\n", seq, size, n);
	check_owners("sent and completed");
}

/* ---- receiving ---------------------------------------------------------- */

static void release(const struct rl_desc *d, int n)
{
	struct rl_err err;

	for (int i = 0; i < n; i++)
		if (rl_region_release(reg, rl_region_frame(reg, d[i].addr), &err) < 0)
			fail("release: %s", err.msg);
}

/* The payload bytes of the pieces, from offset off, compared with seq's. */
static void compare(const struct rl_iov *v, int n, uint32_t off, uint32_t seq,
		    uint32_t size)
{
	uint32_t j = 0;

	for (int i = 0; i < n; i++) {
		const uint8_t *p = v[i].base;

		for (uint32_t b = 0; b < v[i].len; b++, off ? off-- : j++) {
			if (off)
				continue;
			if (j >= size)
				fail("echo %u longer than %u bytes", seq, size);
			if (p[b] != pattern(seq, j))
				fail("echo %u byte %u is 0x%02x, sent 0x%02x", seq, j, p[b],
				     pattern(seq, j));
		}
	}
	if (j != size)
		fail("echo %u has %u payload bytes, sent %u", seq, j, size);
}

/* One whole packet: true if it was our echo (checked), false if other. */
static bool check_echo(const struct rl_desc *d, int n, uint32_t seq, uint32_t size)
{
	struct rl_iov v[MAX_DESCS];
	struct rl_dissect ds;

	for (int i = 0; i < n; i++)
		v[i] = (struct rl_iov){ rl_region_ptr(reg, d[i].addr), d[i].len };
	rl_dissect(v, (unsigned)n, &ds);
	if (!(ds.layers & RL_L_UDP) || ds.src_port != PEER_PORT || ds.dst_port != LAB_PORT) {
		printf("rx: not our echo (layers 0x%x %s), released\n", ds.layers, ds.problem);
		return false;
	}
	if (!ds.ip_csum_ok || !ds.udp_csum_ok)
		fail("echo %u: bad checksum (ip %d udp %d) %s", seq, ds.ip_csum_ok,
		     ds.udp_csum_ok, ds.problem);
	compare(v, n, ds.payload_off, seq, size);
	printf("received echo %u: %u bytes in %d frame(s), every byte equal, checksums ok\n",
	       seq, size, n);
	return true;
}

static void recv_one(uint32_t seq, uint32_t size)
{
	struct rl_desc d[MAX_DESCS];
	struct rl_err err;

	for (int t = 0; t < 3000; t++) {
		int n = ops->rx(eng, d, MAX_DESCS, &err), start = 0;
		bool got = false;

		if (n < 0)
			fail("rx: %s", err.msg);
		for (int i = 0; i < n; i++) {
			if (d[i].options & RL_DESC_CONTD)
				continue;
			got |= check_echo(d + start, i + 1 - start, seq, size);
			start = i + 1;
		}
		if (n) {
			check_owners("received (held by app)");
			release(d, n);
			if (ops->fill(eng, (uint32_t)n, &err) != n)
				fail("refill %d: %s", n, err.msg);
		}
		if (got)
			return;
		sleep_ms(1);
	}
	fail("no echo %u within 3 s", seq);
}

/* ---- setup and cases ---------------------------------------------------- */

static void load(const char *so)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	rl_engine_entry_fn fn;
	struct rl_err err;

	if (!h)
		fail("dlopen %s: %s", so, dlerror());
	fn = (rl_engine_entry_fn)dlsym(h, RL_ENGINE_SYMBOL);
	if (!fn || !(ops = fn()) || ops->abi != RL_ENGINE_ABI)
		fail("%s is not a ringlab engine of ABI %d", so, RL_ENGINE_ABI);
	rl_err_clear(&err);
	if (ops->probe(&err) < 0)
		fail("probe: %s", err.msg);
}

/* Open and make the region; 0, or the negative errno with err filled. */
static int open_engine(int argc, char **argv, struct rl_err *err)
{
	struct rl_kv kv[32];
	struct rl_open_args a = { .kv = kv };
	struct rl_region_params p = { FRAMES, 2048, HEADROOM };
	int rc;

	kv[a.nkv++] = (struct rl_kv){ "ifname", ifname };
	for (int i = 0; i < argc && a.nkv < 32; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			fail("option %s is not key=value", argv[i]);
		*eq = '\0';
		if (!strcmp(argv[i], "frame_size"))
			p.frame_size = (uint32_t)atoi(eq + 1);
		else
			kv[a.nkv++] = (struct rl_kv){ argv[i], eq + 1 };
	}
	rl_err_clear(err);
	if ((rc = ops->open(&eng, &a, err)) < 0)
		return rc;
	if ((rc = ops->region(eng, &p, &reg, err)) < 0) {
		ops->close(eng);
		eng = NULL;
	}
	return rc;
}

static void print_stats(void)
{
	struct rl_stats s;

	ops->stats(eng, &s);
	printf("stats mode=%s (%s)\n", s.mode, s.mode_why);
	printf("stats tx_pkts=%llu tx_bytes=%llu rx_pkts=%llu rx_bytes=%llu drops=%llu "
	       "kicks=%llu\n", (unsigned long long)s.tx_pkts, (unsigned long long)s.tx_bytes,
	       (unsigned long long)s.rx_pkts, (unsigned long long)s.rx_bytes,
	       (unsigned long long)s.drops, (unsigned long long)s.kicks);
	printf("ledger kernel_copied=%llu (%s: %s)\n",
	       (unsigned long long)s.ledger.kernel_copied, rl_how_name(s.ledger.kernel_how),
	       s.ledger.kernel_why);
	for (unsigned i = 0; i < s.nextra; i++)
		printf("extra %s=%llu\n", s.extra[i].name, (unsigned long long)s.extra[i].value);
	if (!strcmp(s.mode, "copy") && s.tx_bytes && s.ledger.kernel_copied < s.tx_bytes)
		fail("copy mode but kernel_copied %llu < tx_bytes %llu",
		     (unsigned long long)s.ledger.kernel_copied, (unsigned long long)s.tx_bytes);
	/* each direction on its own: in copy mode the kernel copied every byte
	 * sent out of the UMEM and every byte received into it; in zerocopy
	 * none either way */
	{
		bool copy = !strcmp(s.mode, "copy");
		uint64_t tx = rl_ledger_get_dir(&s.ledger, RL_LEDGER_KERNEL_COPIED, RL_DIR_TX);
		uint64_t rx = rl_ledger_get_dir(&s.ledger, RL_LEDGER_KERNEL_COPIED, RL_DIR_RX);

		printf("ledger kernel_copied tx=%llu rx=%llu\n", (unsigned long long)tx,
		       (unsigned long long)rx);
		if (tx != (copy ? s.tx_bytes : 0) || rx != (copy ? s.rx_bytes : 0))
			fail("kernel_copied by direction tx %llu rx %llu, want %llu and %llu",
			     (unsigned long long)tx, (unsigned long long)rx,
			     (unsigned long long)(copy ? s.tx_bytes : 0),
			     (unsigned long long)(copy ? s.rx_bytes : 0));
	}
}

static void close_engine(void)
{
	ops->close(eng);
	eng = NULL;
	if (xdp_attached())
		fail("an XDP program is still attached to %s after close", ifname);
	printf("closed: no XDP program on %s\n", ifname);
}

static void case_echo(const struct rl_flow *fl, uint32_t size, uint32_t count)
{
	struct rl_err err;

	if (!xdp_attached())
		fail("no XDP program on %s while the engine is open", ifname);
	if (ops->fill(eng, FRAMES / 2, &err) != FRAMES / 2)
		fail("fill: %s", err.msg);
	check_owners("filled");
	print_rings();
	for (uint32_t seq = 0; seq < count; seq++) {
		send_one(fl, seq, size);
		recv_one(seq, size);
	}
	print_rings();
	print_stats();
	check_owners("at the end");
}

/* The interface disappears under the engine: errors, not crashes. */
static void case_vanish(const struct rl_flow *fl, uint32_t size)
{
	struct rl_desc d[MAX_DESCS];
	char cmd[128];
	struct rl_err err;
	int rc;

	case_echo(fl, size, 1);
	snprintf(cmd, sizeof(cmd), "ip link del dev %s", ifname);
	if (system(cmd) != 0)
		fail("could not delete %s", ifname);
	printf("deleted %s under the engine\n", ifname);
	rc = ops->kick(eng, &err);
	printf("kick after delete: %d %s\n", rc, err.msg);
	if (rc >= 0)
		fail("kick on a vanished interface succeeded");
	rc = ops->rx(eng, d, MAX_DESCS, &err);
	printf("rx after delete: %d %s\n", rc, rc < 0 ? err.msg : "");
	if (rc > 0)
		fail("rx on a vanished interface returned packets");
	rc = ops->tx(eng, d, build(fl, 99, size, d), &err);
	printf("tx after delete: %d %s\n", rc, rc < 0 ? err.msg : "");
	if (rc >= 0)
		fail("tx on a vanished interface succeeded");
	check_owners("after the link vanished");
	print_stats();
}

int main(int argc, char **argv)
{
	struct rl_flow fl = { .src_port = LAB_PORT, .dst_port = PEER_PORT };
	struct rl_err err;
	const char *cs;
	uint32_t size, count;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 7)
		fail("usage: %s ENGINE.so CASE IFNAME PEER_MAC SIZE COUNT [key=value...]",
		     argv[0]);
	cs = argv[2];
	ifname = argv[3];
	size = (uint32_t)atoi(argv[5]);
	count = (uint32_t)atoi(argv[6]);
	load(argv[1]);
	if (!strncmp(cs, "error:", 6)) {
		if (open_engine(argc - 7, argv + 7, &err) >= 0)
			fail("expected an error containing '%s', but it opened", cs + 6);
		printf("error as expected: %s\n", err.msg);
		if (!strstr(err.msg, cs + 6))
			fail("the error does not mention '%s'", cs + 6);
		if (xdp_attached())
			fail("an XDP program was left on %s after the failed open", ifname);
		return 0;
	}
	if (open_engine(argc - 7, argv + 7, &err) < 0)
		fail("open: %s", err.msg);
	read_mac(ifname, fl.src_mac);
	if (rl_parse_mac(argv[4], fl.dst_mac, &err) < 0)
		fail("peer mac: %s", err.msg);
	rl_parse_ip4("198.18.0.1", &fl.src_ip, NULL, false, NULL);
	rl_parse_ip4("198.18.0.2", &fl.dst_ip, NULL, false, NULL);
	if (!strcmp(cs, "echo"))
		case_echo(&fl, size, count);
	else if (!strcmp(cs, "vanish"))
		case_vanish(&fl, size);
	else
		fail("unknown case %s", cs);
	close_engine();
	printf("PASS\n");
	return 0;
}
