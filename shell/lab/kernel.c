/*
 * lab/kernel.c - lab.kernel: the kernel's own send paths, measured with
 * ringlab's ledger.
 *
 *   lab.kernel.send{path="write", size=65536 [, testbed="rl"]
 *                   [, dst="198.18.0.2:PORT"] [, chunk=65536]
 *                   [, offload="on"|"off"] [, capture=true|"FILE"]
 *                   [, recv="read"|"splice"|"zerocopy"]} -> result
 *
 * capture: the receiver also reads an AF_PACKET socket in the peer
 * namespace and counts the flow's packets with data by payload size (the
 * sizes on the wire: result.wire), and with FILE writes their headers to
 * a pcap; offload= sets the lab veth's TSO/GSO/UDP GSO first and captures.
 *   lab.kernel.paths()                 -> {"write", "writev", ...}
 *   lab.kernel.tls{[testbed="rl"]}     -> {available=, errno=, line=}
 *
 * send() sends a body of `size` bytes from the lab namespace of a testbed
 * (<testbed>-lab) over an ordinary TCP socket to the Linux stack in its
 * peer namespace (<testbed>-peer), by one path of the kernel's:
 *
 *   write        write() from a buffer: the kernel copies every byte
 *   writev       writev() of a 32-byte header + the body
 *   sendfile     sendfile() from a file in the page cache
 *   splice       file -> pipe -> socket with splice()
 *   vmsplice     user pages -> pipe (vmsplice, SPLICE_F_GIFT) -> socket
 *   msg_zerocopy SO_ZEROCOPY + send(MSG_ZEROCOPY); completions read from the
 *                socket's error queue, each with the kernel's verdict
 *                (SO_EE_CODE_ZEROCOPY_COPIED: it copied after all)
 *
 * The receiver is a child process (fork) that enters the peer namespace,
 * listens on dst (198.18.0.2, a free port unless given), reads everything
 * with read() and answers the count and sha256 of what arrived; the sender
 * compares it with the sha256 of what it sent. The body is the `send tcp`
 * body (every 16 bytes "%015x\n" of their offset, size % 16 '#'), so
 * tests/net/tcp_sha_sink.py would accept it too.
 *
 * The result is one ledger: program_copied (bytes the program copied to
 * send: 0 on every path, the body is made before), kernel_copied and
 * kernel_how ("measured" where the kernel reports it - MSG_ZEROCOPY's
 * verdicts - or the vmsplice probe shows it; "derived" otherwise, with the
 * reason in kernel_why), syscalls (the sending path's own calls, error
 * queue reads included), cpu_s and cpu_ms_per_mib (getrusage RUSAGE_SELF
 * around the sending, of this process only: the receiver is another
 * process, but softirq work the kernel does for the veth may be charged to
 * whoever runs when it happens), seconds and mib_s, and the peer's figures
 * (received, intact, sha256).
 *
 * Namespaces: the socket is made after setns() into <testbed>-lab on this
 * thread, which then returns to its own namespace; the socket stays in the
 * lab's. Without testbed= the namespace ringlab runs in is used when its
 * name is X-lab (ringlab --netns X-lab). Needs root (setns).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ringlab/netns.h"
#include "shell.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef TCP_ZEROCOPY_RECEIVE
#define TCP_ZEROCOPY_RECEIVE 35
#endif
/* The UAPI's struct tcp_zerocopy_receive (linux/tcp.h, which clashes with
 * netinet/tcp.h), as far as flags. */
struct kzc_recv {
	uint64_t address;
	uint32_t length, recv_skip_hint, inq;
	int32_t err;
	uint64_t copybuf_address;
	int32_t copybuf_len;
	uint32_t flags;
};
#define KZC_MAP (2u << 20) /* bytes mapped per call at most */

#define KSEND_MAX (64u << 20)   /* the largest body: 64 MiB */
#define KSEND_TIMEOUT_S 10      /* every wait ends after this */
#define WRITEV_HDR 32

static const char *const kpaths[] = {"write", "writev",       "sendfile", "splice",
                                     "vmsplice", "msg_zerocopy", "udp",      "udp_gso",
                                     NULL};
enum { P_WRITE, P_WRITEV, P_SENDFILE, P_SPLICE, P_VMSPLICE, P_ZEROCOPY, P_UDP, P_UDP_GSO };
#define IS_UDP(p) ((p) == P_UDP || (p) == P_UDP_GSO)
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

/* The capture: packets of the flow's data by payload size (the sizes on
 * the wire), up to KWIRE_SIZES distinct sizes, the rest counted as other. */
#define KWIRE_SIZES 24
#define KCAP_SNAP 128 /* bytes of each packet the capture keeps: headers */
struct kwire {
	uint32_t size, count;
};

/* What the receiver answers through its pipe. */
struct kanswer {
	uint64_t received;
	uint64_t datagrams;           /* UDP: how many arrived */
	uint32_t min_dgram, max_dgram; /* UDP: their sizes */
	uint64_t segments;             /* capture: TCP packets with data to the port */
	uint32_t min_seg, max_seg;     /* capture: their payload sizes */
	int capture_err;
	struct kwire wire[KWIRE_SIZES];
	uint64_t wire_other; /* packets of sizes past the table's */
	uint64_t wire_rtx;   /* TCP: segments whose data came before (retransmitted) */
	uint32_t tcp_next;   /* TCP: the sequence number after the data seen so far */
	int tcp_seen;
	uint64_t pcap_packets; /* records written to the pcap file */
	uint64_t peer_calls;  /* TCP: the receiver's read/splice calls */
	uint64_t zc_mapped, zc_copybuf, zc_skipped; /* TCP_ZEROCOPY_RECEIVE */
	int zc_err;
	double peer_cpu_s;    /* TCP: its getrusage delta (hashing not in it) */
	double t_done;        /* CLOCK_MONOTONIC when the last byte was read */
	unsigned char sha[crypto_hash_sha256_BYTES];
	int err; /* 0, or errno of what failed */
	char what[96];
};

/* Everything one send holds, released by ks_release whatever happened. */
struct ksend {
	int path;
	size_t size, chunk;
	char ns_lab[64], ns_peer[64];
	struct in_addr dst;
	unsigned port;
	int peer_fd, lab_fd, own_fd; /* namespace files */
	int sock, file, pipe[2], answer[2];
	pid_t child;
	unsigned char *body; /* mmap, page-aligned */
	size_t body_len;     /* mapped length */
	char dir[4096], file_path[4200];
	char err[256];
	/* figures */
	uint64_t syscalls, sent, kernel_copied, headers;
	uint64_t zc_sends, zc_completions, zc_copied_sends, zc_copied_ranges,
	    zc_ranges;
	int kernel_measured;
	unsigned udp_seg; /* UDP: bytes per datagram */
	int capture;      /* the peer captures the flow's packets (AF_PACKET) */
	int pcap_fd;      /* capture=FILE: the pcap file, -1 without */
	char pcap_path[4200];
	int offload;      /* -1 as it is, 0 tso/gso off, 1 on (ethtool -K) */
	int recv_splice;  /* the peer receives with splice socket -> pipe -> file */
	int recv_zc;      /* ... with TCP_ZEROCOPY_RECEIVE (mmap of the socket) */
	const char *why;
	double cpu_s, seconds;
	int vm_probe; /* vmsplice probe: 1 referenced, 0 copied, -1 not run */
	struct kanswer ans;
};

static void ks_init(struct ksend *k)
{
	memset(k, 0, sizeof(*k));
	k->peer_fd = k->lab_fd = k->own_fd = k->sock = k->file = -1;
	k->pipe[0] = k->pipe[1] = k->answer[0] = k->answer[1] = -1;
	k->child = -1;
	k->pcap_fd = -1;
	k->vm_probe = -1;
	k->offload = -1;
}

static void xclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void ks_release(struct ksend *k)
{
	xclose(&k->sock);
	xclose(&k->file);
	xclose(&k->pipe[0]);
	xclose(&k->pipe[1]);
	xclose(&k->answer[0]);
	xclose(&k->answer[1]);
	xclose(&k->pcap_fd);
	if (k->child > 0) {
		int st;
		if (waitpid(k->child, &st, WNOHANG) == 0) {
			kill(k->child, SIGKILL);
			waitpid(k->child, &st, 0);
		}
		k->child = -1;
	}
	if (k->own_fd >= 0)
		setns(k->own_fd, CLONE_NEWNET); /* back home, whatever happened */
	xclose(&k->own_fd);
	xclose(&k->lab_fd);
	xclose(&k->peer_fd);
	if (k->body)
		munmap(k->body, k->body_len);
	k->body = NULL;
	if (k->file_path[0])
		unlink(k->file_path);
	if (k->dir[0])
		rmdir(k->dir);
	k->file_path[0] = k->dir[0] = 0;
}

static int fail(struct ksend *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct ksend *k, const char *fmt, ...)
{
	va_list ap;

	if (k->err[0])
		return -1; /* the first failure is the one to tell */
	va_start(ap, fmt);
	vsnprintf(k->err, sizeof(k->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int open_ns(struct ksend *k, const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return fail(k, "there is no namespace %s - make the testbed: "
			               "testbed up name=%.*s", name,
			            (int)(strlen(name) - 4), name);
		return fail(k, "cannot open namespace %s (%s) - run as root", name,
		            strerror(errno));
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* The `send tcp` body: "%015x\n" per 16 bytes, size % 16 '#'. */
static void make_body(unsigned char *b, size_t size)
{
	size_t i;

	for (i = 0; i + 16 <= size; i += 16) {
		char t[17];
		snprintf(t, sizeof(t), "%015zx\n", i);
		memcpy(b + i, t, 16);
	}
	for (; i < size; i++)
		b[i] = '#';
}

/* ---- the receiver: a child in the peer namespace ---------------------- */

static void child_answer(int fd, struct kanswer *a)
{
	ssize_t n = write(fd, a, sizeof(*a));
	(void)n;
}

static void capture_one(int ps, const struct ksend *k, struct kanswer *a);

/* UDP: datagrams until the body's bytes arrived, or 1 s without one. */
static void udp_receive(struct ksend *k, int s, int ps, struct kanswer *a)
{
	crypto_hash_sha256_state st;
	unsigned char *buf = malloc(1 << 16);
	struct pollfd p[2] = {{.fd = s, .events = POLLIN}, {.fd = ps, .events = POLLIN}};

	crypto_hash_sha256_init(&st);
	while (buf && a->received < k->size) {
		ssize_t n;
		int r = poll(p, ps >= 0 ? 2 : 1, a->datagrams ? 1000 : KSEND_TIMEOUT_S * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 1) {
			if (!a->datagrams) {
				a->err = ETIMEDOUT;
				snprintf(a->what, sizeof(a->what), "no datagram came");
			}
			break; /* some were lost: the count says so */
		}
		if (ps >= 0 && (p[1].revents & POLLIN))
			capture_one(ps, k, a);
		if (!(p[0].revents & POLLIN))
			continue;
		n = recv(s, buf, 1 << 16, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			a->err = errno;
			snprintf(a->what, sizeof(a->what), "recv");
			break;
		}
		crypto_hash_sha256_update(&st, buf, (size_t)n);
		a->received += (uint64_t)n;
		a->t_done = now_s();
		if (!a->datagrams || (uint32_t)n < a->min_dgram)
			a->min_dgram = (uint32_t)n;
		if ((uint32_t)n > a->max_dgram)
			a->max_dgram = (uint32_t)n;
		a->datagrams++;
	}
	crypto_hash_sha256_final(&st, a->sha);
	free(buf);
}

/* Count one packet of payload size pay in the capture's table. */
static void wire_add(struct kanswer *a, uint32_t pay)
{
	int i;

	for (i = 0; i < KWIRE_SIZES && a->wire[i].count; i++)
		if (a->wire[i].size == pay) {
			a->wire[i].count++;
			return;
		}
	if (i < KWIRE_SIZES) {
		a->wire[i].size = pay;
		a->wire[i].count = 1;
	} else {
		a->wire_other++;
	}
}

/* One pcap record: the packet's first bytes (headers), its whole length. */
static void pcap_record(int fd, const unsigned char *h, size_t caplen, size_t len,
                        struct kanswer *a)
{
	struct timespec ts;
	uint32_t rec[4];
	struct iovec iov[2];

	clock_gettime(CLOCK_REALTIME, &ts);
	rec[0] = (uint32_t)ts.tv_sec;
	rec[1] = (uint32_t)(ts.tv_nsec / 1000);
	rec[2] = (uint32_t)caplen;
	rec[3] = (uint32_t)len;
	iov[0].iov_base = rec;
	iov[0].iov_len = sizeof(rec);
	iov[1].iov_base = (void *)h;
	iov[1].iov_len = caplen;
	if (writev(fd, iov, 2) == (ssize_t)(sizeof(rec) + caplen))
		a->pcap_packets++;
}

/* One packet from the capture socket (AF_PACKET, SOCK_DGRAM: from the IP
 * header on). A packet of the flow (to or from the port, TCP or UDP as the
 * path) goes to the pcap file; one with data to the port is counted by its
 * payload size. MSG_TRUNC: the packet's whole length, of which only the
 * headers are read. */
static void capture_one(int ps, const struct ksend *k, struct kanswer *a)
{
	unsigned char h[KCAP_SNAP];
	struct sockaddr_ll ll;
	socklen_t ll_len = sizeof(ll);
	ssize_t n = recvfrom(ps, h, sizeof(h), MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&ll,
	                     &ll_len);
	unsigned ihl, tot, pay, sport, dport, proto = IS_UDP(k->path) ? IPPROTO_UDP : IPPROTO_TCP;
	size_t got;

	if (n < 28 || ll.sll_protocol != htons(ETH_P_IP) || (h[0] >> 4) != 4 || h[9] != proto)
		return;
	got = (size_t)n < sizeof(h) ? (size_t)n : sizeof(h);
	ihl = (h[0] & 15u) * 4;
	if (got < ihl + (proto == IPPROTO_UDP ? 8 : 20))
		return;
	sport = (unsigned)h[ihl] << 8 | h[ihl + 1];
	dport = (unsigned)h[ihl + 2] << 8 | h[ihl + 3];
	if (sport != k->port && dport != k->port)
		return;
	if (k->pcap_fd >= 0)
		pcap_record(k->pcap_fd, h, got, (size_t)n, a);
	if (dport != k->port || ll.sll_pkttype == PACKET_OUTGOING)
		return;
	tot = (unsigned)h[2] << 8 | h[3];
	if (proto == IPPROTO_UDP) {
		if (tot < ihl + 8)
			return;
		pay = tot - ihl - 8;
	} else {
		unsigned doff = (h[ihl + 12] >> 4) * 4u;
		uint32_t seq;
		if (tot <= ihl + doff)
			return; /* no data: a SYN, an ACK, the FIN */
		pay = tot - ihl - doff;
		seq = (uint32_t)h[ihl + 4] << 24 | (uint32_t)h[ihl + 5] << 16 |
		      (uint32_t)h[ihl + 6] << 8 | h[ihl + 7];
		if (a->tcp_seen && (int32_t)(seq + pay - a->tcp_next) <= 0) {
			a->wire_rtx++; /* its bytes were on the wire already: a retransmit */
			return;
		}
		if (!a->tcp_seen || (int32_t)(seq + pay - a->tcp_next) > 0)
			a->tcp_next = seq + pay;
		a->tcp_seen = 1;
	}
	if (!a->segments || pay < a->min_seg)
		a->min_seg = pay;
	if (pay > a->max_seg)
		a->max_seg = pay;
	a->segments++;
	wire_add(a, pay);
}

/* One round of TCP_ZEROCOPY_RECEIVE: map what the kernel can, take what
 * it copied into copybuf, read() what it says to skip. The bytes go to
 * all[*got] for the check (that memcpy of mapped bytes is the check's).
 * Returns bytes taken, 0 at EOF, -1 on error (errno). */
static ssize_t zc_round(int c, unsigned char *map, unsigned char *copybuf,
                        unsigned char *all, size_t cap, size_t *got, struct kanswer *a)
{
	struct kzc_recv z;
	socklen_t zl = sizeof(z);
	size_t took = 0;
	ssize_t n;

	memset(&z, 0, sizeof(z));
	z.address = (uint64_t)(uintptr_t)map;
	z.length = KZC_MAP;
	z.copybuf_address = (uint64_t)(uintptr_t)copybuf;
	z.copybuf_len = 1 << 16;
	a->peer_calls++;
	if (getsockopt(c, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, &z, &zl) < 0)
		return errno == EIO ? 0 : -1; /* EIO: nothing left and the FIN came */
	if (z.err)
		return errno = -z.err, -1;
	if (z.length) {
		size_t m = z.length < cap - *got ? z.length : cap - *got;
		memcpy(all + *got, map, m);
		*got += m;
		took += z.length;
		a->zc_mapped += z.length;
	}
	if (z.copybuf_len > 0) {
		size_t m = (size_t)z.copybuf_len < cap - *got ? (size_t)z.copybuf_len : cap - *got;
		memcpy(all + *got, copybuf, m);
		*got += m;
		took += (size_t)z.copybuf_len;
		a->zc_copybuf += (uint64_t)z.copybuf_len;
	}
	if (z.recv_skip_hint) {
		size_t want = z.recv_skip_hint < cap - *got ? z.recv_skip_hint : cap - *got;
		n = read(c, all + *got, want ? want : 1);
		a->peer_calls++;
		if (n < 0)
			return -1;
		*got += (size_t)n;
		took += (size_t)n;
		a->zc_skipped += (uint64_t)n;
	}
	if (took)
		return (ssize_t)took;
	/* nothing mapped, copied or to skip: data that is not there yet, or
	 * the end - read() tells which */
	n = read(c, all + *got, cap - *got ? cap - *got : 1);
	a->peer_calls++;
	if (n > 0) {
		*got += (size_t)n;
		a->zc_skipped += (uint64_t)n;
	}
	return n;
}

static void receiver(struct ksend *k, int ready_fd)
{
	struct kanswer a;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	crypto_hash_sha256_state st;
	unsigned char *buf;
	int one = 1, srv, c, listening = 0, ps = -1;
	struct pollfd p, pp[2];

	memset(&a, 0, sizeof(a));
	signal(SIGINT, SIG_IGN);
	if (setns(k->peer_fd, CLONE_NEWNET) < 0) {
		a.err = errno;
		snprintf(a.what, sizeof(a.what), "enter %s", k->ns_peer);
		goto out;
	}
	if (k->capture) {
		int rb = 32 << 20;
		/* ETH_P_ALL: only such a socket sees the peer's own packets too
		 * (its ACKs, for the pcap); IPv4 is picked out by sll_protocol */
		ps = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
		if (ps < 0)
			a.capture_err = errno;
		else
			setsockopt(ps, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb));
	}
	srv = socket(AF_INET, (IS_UDP(k->path) ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (IS_UDP(k->path)) {
		int rb = 32 << 20; /* room for the whole body: no datagram dropped here */
		setsockopt(srv, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb));
	}
	sa.sin_addr = k->dst;
	sa.sin_port = htons((uint16_t)k->port);
	if (srv < 0 || bind(srv, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (!IS_UDP(k->path) && listen(srv, 1) < 0) ||
	    getsockname(srv, (struct sockaddr *)&sa, &sl) < 0) {
		a.err = errno;
		snprintf(a.what, sizeof(a.what), "listen on %s:%u in %s",
		         inet_ntoa(k->dst), k->port, k->ns_peer);
		goto out;
	}
	/* the port, then (later) the answer */
	{
		uint32_t port = ntohs(sa.sin_port);
		k->port = port;
		if (write(ready_fd, &port, sizeof(port)) != sizeof(port))
			_exit(1);
		listening = 1;
	}
	p.fd = srv;
	p.events = POLLIN;
	if (IS_UDP(k->path)) {
		udp_receive(k, srv, ps, &a);
		goto drain;
	}
	if (poll(&p, 1, KSEND_TIMEOUT_S * 1000) != 1 ||
	    (c = accept(srv, NULL, NULL)) < 0) {
		a.err = ETIMEDOUT;
		snprintf(a.what, sizeof(a.what), "no connection came");
		goto out;
	}
	/* read: into one buffer the size of the body; splice: socket -> pipe
	 * -> a file (mkstemp in a private directory). Hashed after, so that the
	 * receiver's CPU time is the receiving's alone. */
	size_t cap = k->size + 64, got = 0;
	unsigned char *all = k->recv_splice ? NULL : malloc(cap);
	unsigned char *zmap = NULL, *zcopy = NULL;
	int rp[2] = {-1, -1}, rf = -1;
	char rdir[4096] = "", rfile[4200] = "";
	double c0 = cpu_now();
	buf = malloc(1 << 16);
	crypto_hash_sha256_init(&st);
	if (k->recv_splice) {
		const char *base = getenv("TMPDIR");
		snprintf(rdir, sizeof(rdir), "%s/ringlab-XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(rdir) || pipe(rp) < 0) {
			a.err = errno;
			snprintf(a.what, sizeof(a.what), "a directory and a pipe for splice");
			rdir[0] = 0;
			goto out;
		}
		fcntl(rp[1], F_SETPIPE_SZ, 1 << 20);
		snprintf(rfile, sizeof(rfile), "%s/recv-XXXXXX", rdir);
		rf = mkstemp(rfile);
		if (rf < 0) {
			a.err = errno;
			snprintf(a.what, sizeof(a.what), "mkstemp in %s", rdir);
			rmdir(rdir);
			goto out;
		}
	} else if (!all) {
		a.err = ENOMEM;
		snprintf(a.what, sizeof(a.what), "a buffer for the body");
		goto out;
	}
	if (all)
		memset(all, 0, cap); /* its pages present: no page faults in the figure */
	if (k->recv_zc) {
		zmap = mmap(NULL, KZC_MAP, PROT_READ, MAP_SHARED, c, 0);
		zcopy = malloc(1 << 16);
		if (zmap == MAP_FAILED || !zcopy) {
			a.err = errno ? errno : ENOMEM;
			snprintf(a.what, sizeof(a.what), "mmap of the socket for TCP_ZEROCOPY_RECEIVE");
			goto out;
		}
		memset(zcopy, 0, 1 << 16);
	}
	c0 = cpu_now();
	pp[0].fd = c;
	pp[0].events = POLLIN;
	pp[1].fd = ps;
	pp[1].events = POLLIN;
	for (;;) {
		ssize_t n;
		int r = poll(pp, ps >= 0 ? 2 : 1, KSEND_TIMEOUT_S * 1000);
		if (r < 1) {
			a.err = ETIMEDOUT;
			snprintf(a.what, sizeof(a.what), "the sender stopped");
			break;
		}
		if (ps >= 0 && (pp[1].revents & POLLIN))
			capture_one(ps, k, &a);
		if (!(pp[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (k->recv_splice) {
			ssize_t m;
			n = splice(c, NULL, rp[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			a.peer_calls++;
			if (n < 0 && errno == EAGAIN)
				continue;
			for (m = 0; n > 0 && m < n;) {
				loff_t off = (loff_t)(a.received + (uint64_t)m);
				ssize_t w = splice(rp[0], NULL, rf, &off, (size_t)(n - m), SPLICE_F_MOVE);
				a.peer_calls++;
				if (w <= 0) {
					n = -1;
					break;
				}
				m += w;
			}
		} else if (k->recv_zc) {
			n = zc_round(c, zmap, zcopy, all, cap, &got, &a);
			if (n < 0 && errno == EAGAIN)
				continue;
		} else {
			n = read(c, got < cap ? all + got : buf, got < cap ? cap - got : 1 << 16);
			a.peer_calls++;
			if (n > 0 && got < cap)
				got += (size_t)n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				a.err = errno;
				snprintf(a.what, sizeof(a.what), k->recv_splice ? "splice"
				                                 : k->recv_zc    ? "TCP_ZEROCOPY_RECEIVE"
				                                                 : "read");
			}
			break;
		}
		a.received += (uint64_t)n;
	}
	a.peer_cpu_s = cpu_now() - c0;
	a.t_done = now_s();
	if (k->recv_splice && rf >= 0) {
		off_t off = 0;
		ssize_t r;
		while ((r = pread(rf, buf, 1 << 16, off)) > 0) {
			crypto_hash_sha256_update(&st, buf, (size_t)r);
			off += r;
		}
	} else if (all) {
		crypto_hash_sha256_update(&st, all, got);
	}
	crypto_hash_sha256_final(&st, a.sha);
	if (rf >= 0)
		close(rf);
	if (rfile[0])
		unlink(rfile);
	if (rdir[0])
		rmdir(rdir);
drain:
	if (ps >= 0) { /* what the capture still holds */
		struct pollfd q = {.fd = ps, .events = POLLIN};
		while (poll(&q, 1, 5) == 1)
			capture_one(ps, k, &a);
	}
out:
	if (!listening) {
		uint32_t none = 0; /* no port: the answer follows */
		if (write(ready_fd, &none, sizeof(none)) != sizeof(none))
			_exit(1);
	}
	child_answer(ready_fd, &a);
	_exit(0);
}

static int start_receiver(struct ksend *k)
{
	uint32_t port;
	struct pollfd p;

	if (pipe2(k->answer, O_CLOEXEC) < 0)
		return fail(k, "pipe: %s", strerror(errno));
	fflush(NULL);
	k->child = fork();
	if (k->child < 0)
		return fail(k, "fork: %s", strerror(errno));
	if (k->child == 0) {
		close(k->answer[0]);
		receiver(k, k->answer[1]);
		_exit(1);
	}
	xclose(&k->answer[1]);
	p.fd = k->answer[0];
	p.events = POLLIN;
	if (poll(&p, 1, KSEND_TIMEOUT_S * 1000) != 1)
		return fail(k, "%s", errno == EINTR ? "interrupted"
		                                    : "the receiver in the peer namespace did not start");
	if (read(k->answer[0], &port, sizeof(port)) != sizeof(port))
		return fail(k, "the receiver in %s failed to start", k->ns_peer);
	if (port == 0) {
		/* it failed before listening: its answer says why */
		struct kanswer a;
		memset(&a, 0, sizeof(a));
		if (read(k->answer[0], &a, sizeof(a)) == (ssize_t)sizeof(a) && a.err)
			return fail(k, "receiver: %s: %s", a.what, strerror(a.err));
		return fail(k, "the receiver in %s failed to start", k->ns_peer);
	}
	k->port = port;
	return 0;
}

static int read_answer(struct ksend *k)
{
	struct pollfd p = {.fd = k->answer[0], .events = POLLIN};
	ssize_t n;
	int n0 = poll(&p, 1, KSEND_TIMEOUT_S * 1000);

	if (n0 < 0 && errno == EINTR)
		return fail(k, "interrupted");
	if (n0 != 1)
		return fail(k, "the receiver in %s did not answer in %d s", k->ns_peer,
		            KSEND_TIMEOUT_S);
	n = read(k->answer[0], &k->ans, sizeof(k->ans));
	if (n != (ssize_t)sizeof(k->ans))
		return fail(k, "the receiver in %s gave no answer", k->ns_peer);
	if (k->ans.err)
		return fail(k, "receiver: %s: %s", k->ans.what, strerror(k->ans.err));
	return 0;
}

/* ---- the sender -------------------------------------------------------- */

static int lab_socket(struct ksend *k)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = KSEND_TIMEOUT_S};

	if (setns(k->lab_fd, CLONE_NEWNET) < 0)
		return fail(k, "cannot enter %s (%s) - run as root", k->ns_lab,
		            strerror(errno));
	k->sock = socket(AF_INET, (IS_UDP(k->path) ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (setns(k->own_fd, CLONE_NEWNET) < 0)
		return fail(k, "cannot return to ringlab's own namespace (%s)",
		            strerror(errno));
	if (k->sock < 0)
		return fail(k, "socket: %s", strerror(errno));
	setsockopt(k->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(k->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sa.sin_addr = k->dst;
	sa.sin_port = htons((uint16_t)k->port);
	if (connect(k->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail(k, "connect to %s:%u from %s: %s - is the testbed up?",
		            inet_ntoa(k->dst), k->port, k->ns_lab, strerror(errno));
	return 0;
}

static int send_error(struct ksend *k, const char *call)
{
	if (errno == EINTR)
		return fail(k, "interrupted");
	if (errno == EAGAIN)
		return fail(k, "%s: the peer took nothing for %d s", call, KSEND_TIMEOUT_S);
	return fail(k, "%s: %s", call, strerror(errno));
}

static int do_write(struct ksend *k)
{
	size_t off = 0;

	while (off < k->size) {
		size_t n = k->size - off < k->chunk ? k->size - off : k->chunk;
		ssize_t w = write(k->sock, k->body + off, n);
		k->syscalls++;
		if (w < 0)
			return send_error(k, "write");
		off += (size_t)w;
	}
	k->sent = off;
	k->kernel_copied = off;
	k->why = "write() copies the buffer into the socket's skbs (tcp_sendmsg)";
	return 0;
}

static int do_writev(struct ksend *k)
{
	char hdr[WRITEV_HDR + 1];
	size_t off = 0, hoff = 0;

	snprintf(hdr, sizeof(hdr), "RINGLAB writev %016zx\n", k->size);
	while (hoff < WRITEV_HDR || off < k->size) {
		struct iovec iov[2];
		int n = 0;
		ssize_t w;
		size_t left;
		if (hoff < WRITEV_HDR) {
			iov[n].iov_base = hdr + hoff;
			iov[n++].iov_len = WRITEV_HDR - hoff;
		}
		left = k->size - off < k->chunk ? k->size - off : k->chunk;
		if (left) {
			iov[n].iov_base = k->body + off;
			iov[n++].iov_len = left;
		}
		w = writev(k->sock, iov, n);
		k->syscalls++;
		if (w < 0)
			return send_error(k, "writev");
		if (hoff < WRITEV_HDR) {
			size_t h = (size_t)w < WRITEV_HDR - hoff ? (size_t)w : WRITEV_HDR - hoff;
			hoff += h;
			w -= (ssize_t)h;
		}
		off += (size_t)w;
	}
	k->headers = WRITEV_HDR;
	k->sent = off + WRITEV_HDR;
	k->kernel_copied = k->sent;
	k->why = "writev() copies header and body into the socket's skbs, in one call";
	return 0;
}

/* The body as a file in the page cache, in a private directory. */
static int make_file(struct ksend *k)
{
	const char *base = getenv("TMPDIR");
	size_t off = 0;

	if (!base || !*base)
		base = "/tmp";
	if (snprintf(k->dir, sizeof(k->dir), "%s/ringlab-XXXXXX", base) >= (int)sizeof(k->dir) ||
	    !mkdtemp(k->dir)) {
		k->dir[0] = 0;
		return fail(k, "cannot make a directory in %s - set TMPDIR to a writable one",
		            base);
	}
	snprintf(k->file_path, sizeof(k->file_path), "%s/body-XXXXXX", k->dir);
	k->file = mkstemp(k->file_path);
	if (k->file < 0) {
		k->file_path[0] = 0;
		return fail(k, "mkstemp in %s: %s", k->dir, strerror(errno));
	}
	while (off < k->size) {
		ssize_t w = write(k->file, k->body + off, k->size - off);
		if (w <= 0)
			return fail(k, "writing the body file: %s", strerror(errno));
		off += (size_t)w;
	}
	return 0;
}

static int do_sendfile(struct ksend *k)
{
	off_t off = 0;

	while ((size_t)off < k->size) {
		ssize_t w = sendfile(k->sock, k->file, &off, k->size - (size_t)off);
		k->syscalls++;
		if (w < 0)
			return send_error(k, "sendfile");
		if (w == 0)
			return fail(k, "sendfile: the file ended early");
	}
	k->sent = (uint64_t)off;
	k->why = "sendfile() attaches page-cache pages to the skbs by reference "
	         "(splice to the socket); the kernel reports nothing, so 0 is derived";
	return 0;
}

/* Move len bytes that are in the pipe to the socket. */
static int pipe_to_sock(struct ksend *k, size_t len)
{
	while (len) {
		ssize_t w = splice(k->pipe[0], NULL, k->sock, NULL, len,
		                   SPLICE_F_MOVE | SPLICE_F_MORE);
		k->syscalls++;
		if (w < 0)
			return send_error(k, "splice pipe -> socket");
		if (w == 0)
			return fail(k, "splice pipe -> socket moved nothing");
		len -= (size_t)w;
		k->sent += (uint64_t)w;
	}
	return 0;
}

static int do_splice(struct ksend *k)
{
	loff_t off = 0;

	while ((size_t)off < k->size) {
		ssize_t r = splice(k->file, &off, k->pipe[1], NULL, k->size - (size_t)off,
		                   SPLICE_F_MOVE | SPLICE_F_MORE);
		k->syscalls++;
		if (r < 0)
			return send_error(k, "splice file -> pipe");
		if (r == 0)
			return fail(k, "splice: the file ended early");
		if (pipe_to_sock(k, (size_t)r) < 0)
			return -1;
	}
	k->why = "splice() puts page-cache pages into the pipe and the pipe's pages "
	         "into the skbs, by reference; the kernel reports nothing, so 0 is derived";
	return 0;
}

/* Does vmsplice reference the user's page or copy it? Write a page after
 * vmsplice and read it back from the pipe: the new bytes mean referenced.
 * 1 referenced, 0 copied, -1 could not tell. */
static int vmsplice_probe(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
	                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int p[2], r = -1;
	struct iovec iov;
	unsigned char back[8];

	if (m == MAP_FAILED)
		return -1;
	if (pipe2(p, O_CLOEXEC) == 0) {
		memset(m, 'a', (size_t)pg);
		iov.iov_base = m;
		iov.iov_len = (size_t)pg;
		if (vmsplice(p[1], &iov, 1, 0) == pg) {
			memset(m, 'b', 8);
			if (read(p[0], back, sizeof(back)) == (ssize_t)sizeof(back))
				r = back[0] == 'b';
		}
		close(p[0]);
		close(p[1]);
	}
	munmap(m, (size_t)pg);
	return r;
}

static int do_vmsplice(struct ksend *k)
{
	size_t off = 0;

	k->vm_probe = vmsplice_probe();
	while (off < k->size) {
		struct iovec iov = {.iov_base = k->body + off, .iov_len = k->size - off};
		ssize_t r = vmsplice(k->pipe[1], &iov, 1, SPLICE_F_GIFT);
		k->syscalls++;
		if (r < 0)
			return send_error(k, "vmsplice");
		if (r == 0)
			return fail(k, "vmsplice moved nothing");
		off += (size_t)r;
		if (pipe_to_sock(k, (size_t)r) < 0)
			return -1;
	}
	if (k->vm_probe == 1) {
		k->kernel_measured = 1;
		k->why = "probe: a page written after vmsplice() showed the new bytes in "
		         "the pipe - the pipe holds the user's pages, not a copy; so the "
		         "program must not write them until the peer has them";
	} else if (k->vm_probe == 0) {
		k->kernel_measured = 1;
		k->kernel_copied = k->size;
		k->why = "probe: a page written after vmsplice() kept its old bytes in the "
		         "pipe - this kernel copied the user's pages";
	} else {
		k->why = "vmsplice() references the user's pages (the probe could not run), "
		         "so 0 is derived";
	}
	return 0;
}

/* Read the zero-copy completions waiting on the error queue. */
static int zc_reap(struct ksend *k, const uint32_t *lens, int wait_ms)
{
	for (;;) {
		char ctl[128];
		struct msghdr msg = {.msg_control = ctl, .msg_controllen = sizeof(ctl)};
		struct cmsghdr *cm;
		ssize_t r;

		if (wait_ms >= 0) {
			struct pollfd p = {.fd = k->sock, .events = 0};
			int n = poll(&p, 1, wait_ms);
			k->syscalls++;
			if (n < 0 && errno == EINTR)
				return fail(k, "interrupted");
			if (n <= 0 || !(p.revents & POLLERR))
				return 0;
		}
		r = recvmsg(k->sock, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
		k->syscalls++;
		if (r < 0) {
			if (errno == EAGAIN)
				return 0;
			return fail(k, "recvmsg(MSG_ERRQUEUE): %s", strerror(errno));
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err *ee;
			uint32_t lo, hi, i;
			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (struct sock_extended_err *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee->ee_errno != 0)
				continue;
			lo = ee->ee_info;
			hi = ee->ee_data;
			k->zc_ranges++;
			if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				k->zc_copied_ranges++;
			for (i = lo; i <= hi && i < k->zc_sends; i++) {
				k->zc_completions++;
				if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED) {
					k->zc_copied_sends++;
					k->kernel_copied += lens[i];
				}
			}
		}
	}
}

static int do_zerocopy(struct ksend *k)
{
	int one = 1;
	size_t off = 0, max_sends = k->size / k->chunk + 2;
	uint32_t *lens = calloc(max_sends * 2 + 64, sizeof(*lens));
	size_t cap = max_sends * 2 + 64;
	int rc = 0;
	double until;

	if (!lens)
		return fail(k, "out of memory");
	if (setsockopt(k->sock, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		free(lens);
		return fail(k, "setsockopt SO_ZEROCOPY: %s - this kernel has no MSG_ZEROCOPY",
		            strerror(errno));
	}
	k->syscalls++;
	while (off < k->size) {
		size_t n = k->size - off < k->chunk ? k->size - off : k->chunk;
		ssize_t w = send(k->sock, k->body + off, n, MSG_ZEROCOPY);
		k->syscalls++;
		if (w < 0 && errno == ENOBUFS) {
			/* optmem is full of pending notifications: reap, then retry */
			if ((rc = zc_reap(k, lens, 100)) < 0)
				break;
			continue;
		}
		if (w < 0) {
			rc = send_error(k, "send(MSG_ZEROCOPY)");
			break;
		}
		if (k->zc_sends >= cap) {
			rc = fail(k, "too many sends for the ledger");
			break;
		}
		lens[k->zc_sends++] = (uint32_t)w;
		off += (size_t)w;
		if ((rc = zc_reap(k, lens, -1)) < 0)
			break;
	}
	k->sent = off;
	/* every send completes once the peer acknowledged it */
	until = now_s() + KSEND_TIMEOUT_S;
	while (rc == 0 && k->zc_completions < k->zc_sends && now_s() < until)
		rc = zc_reap(k, lens, 2); /* short: poll is not always woken by a completion */
	if (rc == 0 && k->zc_completions < k->zc_sends)
		rc = fail(k, "MSG_ZEROCOPY: %llu of %llu sends never completed",
		          (unsigned long long)(k->zc_sends - k->zc_completions),
		          (unsigned long long)k->zc_sends);
	free(lens);
	k->kernel_measured = 1;
	k->why = k->zc_copied_sends
	             ? "the error queue's completions say SO_EE_CODE_ZEROCOPY_"
	               "COPIED - across the veth to a socket on this machine the "
	               "receiver would hold the sender's pages, so the kernel copies "
	               "them (skb_orphan_frags_rx) before delivery"
	             : "every completion on the error queue came without "
	               "SO_EE_CODE_ZEROCOPY_COPIED - the pages went out by reference";
	return rc;
}

/* UDP: datagrams of the path MTU's payload (IP_MTU of the connected
 * socket - 28), one send() each (udp) or up to 64 KiB per send() with
 * UDP_SEGMENT (udp_gso). */
static int do_udp(struct ksend *k, int gso)
{
	int mtu = 0;
	socklen_t ml = sizeof(mtu);
	size_t off = 0, per;

	if (getsockopt(k->sock, IPPROTO_IP, IP_MTU, &mtu, &ml) < 0 || mtu < 576)
		mtu = 1500;
	k->syscalls++;
	k->udp_seg = (unsigned)mtu - 28;
	per = k->udp_seg;
	if (gso) {
		int seg = (int)k->udp_seg;
		size_t n = 65507 / k->udp_seg;
		if (n > 64)
			n = 64;
		if (setsockopt(k->sock, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) < 0)
			return fail(k, "setsockopt UDP_SEGMENT: %s - this kernel has no UDP GSO",
			            strerror(errno));
		k->syscalls++;
		per = n * k->udp_seg;
	}
	while (off < k->size) {
		size_t n = k->size - off < per ? k->size - off : per;
		ssize_t w = send(k->sock, k->body + off, n, 0);
		k->syscalls++;
		if (w < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
			struct timespec ts = {0, 100000}; /* the qdisc is full: a breath */
			nanosleep(&ts, NULL);
			continue;
		}
		if (w < 0)
			return send_error(k, gso ? "send (UDP_SEGMENT)" : "send (UDP)");
		off += (size_t)w;
	}
	k->sent = off;
	k->kernel_copied = off;
	k->why = gso ? "each send() copies up to 64 KiB into one skb; the datagrams are cut "
	               "from it later (the veth passes the GSO packet on, the peer's stack cuts it)"
	             : "each send() copies one datagram into its skb: one call per datagram";
	return 0;
}

/* ethtool -K <testbed>0 tso on|off gso on|off tx-udp-segmentation on|off,
 * run in the lab namespace
 * (fork, setns, execvp: an argument vector, no shell). */
static int set_offload(struct ksend *k, int on)
{
	char ifname[32];
	pid_t pid;
	int st;

	snprintf(ifname, sizeof(ifname), "%.*s0", (int)strlen(k->ns_lab) - 4, k->ns_lab);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return fail(k, "fork: %s", strerror(errno));
	if (pid == 0) {
		char *argv[] = {"ethtool", "-K", ifname, "tso", on ? "on" : "off",
		                "gso", on ? "on" : "off", "tx-udp-segmentation", on ? "on" : "off",
		                NULL};
		int dn = open("/dev/null", O_WRONLY);
		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		if (setns(k->lab_fd, CLONE_NEWNET) < 0)
			_exit(126);
		execvp("ethtool", argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail(k, "ethtool -K %s tso %s gso %s tx-udp-segmentation %s in %s failed%s",
		            ifname, on ? "on" : "off", on ? "on" : "off", on ? "on" : "off", k->ns_lab,
		            WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " - install ethtool" : "");
	return 0;
}

/* capture=FILE: a new file (never an existing one, nor through a link:
 * O_EXCL), or with XXXXXX at its end or before ".pcap" a name made by
 * mkstemps; the pcap header now, the records by the receiver. Raw IPv4
 * (LINKTYPE_RAW), KCAP_SNAP bytes of each packet: its headers. */
static int open_pcap(struct ksend *k)
{
	size_t n = strlen(k->pcap_path);
	uint32_t hdr[6] = {0xa1b2c3d4u, 2u | (4u << 16), 0, 0, KCAP_SNAP, 101};

	if (n >= 11 && !strcmp(k->pcap_path + n - 11, "XXXXXX.pcap"))
		k->pcap_fd = mkstemps(k->pcap_path, 5);
	else if (n >= 6 && !strcmp(k->pcap_path + n - 6, "XXXXXX"))
		k->pcap_fd = mkstemp(k->pcap_path);
	else
		k->pcap_fd = open(k->pcap_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		                  0644);
	if (k->pcap_fd < 0) {
		int e = errno;
		char name[4200];
		snprintf(name, sizeof(name), "%s", k->pcap_path);
		k->pcap_path[0] = 0; /* not ours: never removed */
		if (e == EEXIST)
			return fail(k, "capture=%s: that file exists - give a new name (or NAME-XXXXXX.pcap "
			               "for a fresh one)", name);
		return fail(k, "capture=%s: cannot make it (%s)", name, strerror(e));
	}
	if (write(k->pcap_fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		return fail(k, "capture=%s: cannot write it (%s)", k->pcap_path, strerror(errno));
	return 0;
}

static int run_send(struct ksend *k)
{
	long pg = sysconf(_SC_PAGESIZE);
	double c0, t0;
	int rc = 0;

	k->body_len = (k->size + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
	if (!k->body_len)
		k->body_len = (size_t)pg;
	k->body = mmap(NULL, k->body_len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->body == MAP_FAILED) {
		k->body = NULL;
		return fail(k, "cannot map %zu bytes: %s", k->size, strerror(errno));
	}
	make_body(k->body, k->size);
	k->own_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (k->own_fd < 0)
		return fail(k, "cannot open /proc/self/ns/net (%s)", strerror(errno));
	if ((k->lab_fd = open_ns(k, k->ns_lab)) < 0 ||
	    (k->peer_fd = open_ns(k, k->ns_peer)) < 0)
		return -1;
	if ((k->path == P_SENDFILE || k->path == P_SPLICE) && make_file(k) < 0)
		return -1;
	if (k->path == P_SPLICE || k->path == P_VMSPLICE) {
		if (pipe2(k->pipe, O_CLOEXEC) < 0)
			return fail(k, "pipe: %s", strerror(errno));
		fcntl(k->pipe[1], F_SETPIPE_SZ, 1 << 20); /* more per splice if allowed */
	}
	if (k->offload >= 0 && set_offload(k, k->offload) < 0)
		return -1;
	if (start_receiver(k) < 0 || lab_socket(k) < 0)
		return -1;
	c0 = cpu_now();
	t0 = now_s();
	switch (k->path) {
	case P_WRITE: rc = do_write(k); break;
	case P_WRITEV: rc = do_writev(k); break;
	case P_SENDFILE: rc = do_sendfile(k); break;
	case P_SPLICE: rc = do_splice(k); break;
	case P_VMSPLICE: rc = do_vmsplice(k); break;
	case P_UDP: rc = do_udp(k, 0); break;
	case P_UDP_GSO: rc = do_udp(k, 1); break;
	default: rc = do_zerocopy(k); break;
	}
	if (rc < 0)
		return -1;
	if (!IS_UDP(k->path)) {
		shutdown(k->sock, SHUT_WR);
		k->syscalls++;
	}
	k->cpu_s = cpu_now() - c0;
	if (read_answer(k) < 0)
		return -1;
	/* up to the peer's last byte (one monotonic clock for both processes) */
	k->seconds = (k->ans.t_done > t0 ? k->ans.t_done : now_s()) - t0;
	return 0;
}

/* ---- Lua ---------------------------------------------------------------- */

static int path_index(const char *s)
{
	int i;

	for (i = 0; kpaths[i]; i++)
		if (!strcmp(kpaths[i], s))
			return i;
	return -1;
}

static void path_list(char *out, size_t len)
{
	int i;

	out[0] = 0;
	for (i = 0; kpaths[i]; i++) {
		strncat(out, i ? ", " : "", len - strlen(out) - 1);
		strncat(out, kpaths[i], len - strlen(out) - 1);
	}
}

/* The testbed's namespaces from testbed= or from ringlab's own X-lab. */
static void testbed_names(lua_State *L, struct ksend *k, const char *what)
{
	const char *tb = NULL;
	char own[64];

	lua_getfield(L, 1, "testbed");
	if (!lua_isnil(L, -1)) {
		tb = lua_tostring(L, -1);
		if (!tb || !*tb || strlen(tb) > 12 || strchr(tb, '/'))
			luaL_error(L, "%s: testbed= is a testbed's name (1-12 characters, as in "
			              "testbed up name=rl)", what);
		snprintf(k->ns_lab, sizeof(k->ns_lab), "%s-lab", tb);
		snprintf(k->ns_peer, sizeof(k->ns_peer), "%s-peer", tb);
	} else if (rl_netns_name(own, sizeof(own)) == 1 && strlen(own) > 4 &&
	           !strcmp(own + strlen(own) - 4, "-lab")) {
		snprintf(k->ns_lab, sizeof(k->ns_lab), "%s", own);
		snprintf(k->ns_peer, sizeof(k->ns_peer), "%.*s-peer", (int)strlen(own) - 4, own);
	}
	lua_pop(L, 1);
}

static void push_hex(lua_State *L, const unsigned char *b, size_t n)
{
	char hex[2 * 64 + 1];

	sodium_bin2hex(hex, sizeof(hex), b, n);
	lua_pushstring(L, hex);
}

#define SETI(name, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, name))
#define SETN(name, v) (lua_pushnumber(L, (lua_Number)(v)), lua_setfield(L, -2, name))
#define SETS(name, v) (lua_pushstring(L, (v)), lua_setfield(L, -2, name))
#define SETB(name, v) (lua_pushboolean(L, (v)), lua_setfield(L, -2, name))

static int kernel_send(lua_State *L)
{
	struct ksend k;
	const char *path, *dst = NULL;
	lua_Integer size, chunk = 65536;
	char list[128];
	unsigned char want[crypto_hash_sha256_BYTES];
	int rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	ks_init(&k);
	path_list(list, sizeof(list));
	lua_getfield(L, 1, "path");
	path = lua_tostring(L, -1);
	if (!path)
		return luaL_error(L, "kernel send: give path= one of %s", list);
	k.path = path_index(path);
	if (k.path < 0)
		return luaL_error(L, "kernel send: no path '%s' - give one of %s", path, list);
	lua_pop(L, 1);
	lua_getfield(L, 1, "size");
	if (!lua_isinteger(L, -1) || (size = lua_tointeger(L, -1)) < 1 ||
	    (lua_Unsigned)size > KSEND_MAX)
		return luaL_error(L, "kernel send: size= is the body's bytes, 1 .. %d (64 MiB)",
		                  (int)KSEND_MAX);
	lua_pop(L, 1);
	lua_getfield(L, 1, "chunk");
	if (!lua_isnil(L, -1) && (!lua_isinteger(L, -1) || (chunk = lua_tointeger(L, -1)) < 1024 ||
	                          chunk > (1 << 22)))
		return luaL_error(L, "kernel send: chunk= is the bytes per call, 1024 .. 4194304");
	lua_pop(L, 1);
	lua_getfield(L, 1, "offload");
	if (!lua_isnil(L, -1)) {
		const char *o = lua_tostring(L, -1);
		if (!o || (strcmp(o, "on") && strcmp(o, "off")))
			return luaL_error(L, "kernel send: offload= is on or off (the lab veth's TSO "
			                     "and GSO, set with ethtool -K)");
		k.offload = !strcmp(o, "on");
		k.capture = 1;
	}
	lua_pop(L, 1);
	lua_getfield(L, 1, "recv");
	if (!lua_isnil(L, -1)) {
		const char *o = lua_tostring(L, -1);
		if (!o || (strcmp(o, "read") && strcmp(o, "splice") && strcmp(o, "zerocopy")))
			return luaL_error(L, "kernel send: recv= is how the peer receives: read, splice "
			                     "or zerocopy");
		k.recv_splice = !strcmp(o, "splice");
		k.recv_zc = !strcmp(o, "zerocopy");
		if (IS_UDP(k.path) && strcmp(o, "read"))
			return luaL_error(L, "kernel send: recv=%s is for the TCP paths", o);
	}
	lua_pop(L, 1);
	lua_getfield(L, 1, "capture");
	if (lua_type(L, -1) == LUA_TSTRING &&
	    (!strcmp(lua_tostring(L, -1), "true") || !strcmp(lua_tostring(L, -1), "false"))) {
		k.capture = !strcmp(lua_tostring(L, -1), "true"); /* as typed at the prompt */
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		const char *f = lua_tostring(L, -1);
		if (!*f || strlen(f) >= sizeof(k.pcap_path) - 16)
			return luaL_error(L, "kernel send: capture= is true, false or a new file's "
			                     "name for the pcap (e.g. capture=wire.pcap)");
		snprintf(k.pcap_path, sizeof(k.pcap_path), "%s", f);
		k.capture = 1;
	} else if (lua_type(L, -1) == LUA_TBOOLEAN) {
		k.capture = lua_toboolean(L, -1);
	} else if (!lua_isnil(L, -1)) {
		return luaL_error(L, "kernel send: capture= is true, false or a new file's name for "
		                     "the pcap (e.g. capture=wire.pcap)");
	}
	lua_pop(L, 1);
	k.size = (size_t)size;
	k.chunk = (size_t)chunk;
	inet_pton(AF_INET, "198.18.0.2", &k.dst);
	lua_getfield(L, 1, "dst");
	dst = lua_tostring(L, -1);
	if (dst) {
		char host[64];
		unsigned port = 0;
		const char *colon = strchr(dst, ':');
		size_t hl = colon ? (size_t)(colon - dst) : strlen(dst);
		if (hl >= sizeof(host))
			return luaL_error(L, "kernel send: dst= is 198.18.0.2:PORT");
		memcpy(host, dst, hl);
		host[hl] = 0;
		if (inet_pton(AF_INET, host, &k.dst) != 1 ||
		    (colon && (sscanf(colon + 1, "%u", &port) != 1 || port > 65535)))
			return luaL_error(L, "kernel send: dst= '%s' is not ADDR:PORT - give "
			                     "198.18.0.2:PORT (PORT 0 or none: a free one)", dst);
		k.port = port;
	}
	lua_pop(L, 1);
	testbed_names(L, &k, "kernel send");
	if (!k.ns_lab[0])
		return luaL_error(L, "kernel send: which testbed? give testbed=NAME (testbed up "
		                     "name=NAME) or start ringlab --netns NAME-lab");
	if (geteuid() != 0)
		return luaL_error(L, "kernel send: needs root (it enters %s and %s)", k.ns_lab,
		                  k.ns_peer);

	if (k.pcap_path[0] && open_pcap(&k) < 0) {
		char e[sizeof(k.err)];
		memcpy(e, k.err, sizeof(e));
		ks_release(&k);
		return luaL_error(L, "kernel send %s: %s", kpaths[k.path], e);
	}
	rc = run_send(&k);
	if (rc < 0 && k.pcap_path[0])
		unlink(k.pcap_path); /* made here, and nothing worth keeping */
	if (k.offload == 0 && k.lab_fd >= 0) {
		char keep[sizeof(k.err)];
		memcpy(keep, k.err, sizeof(keep));
		k.err[0] = 0;
		set_offload(&k, 1); /* the testbed as it was made: tso and gso on */
		memcpy(k.err, keep, sizeof(keep));
	}
	ks_release(&k);
	if (rc < 0)
		return luaL_error(L, "kernel send %s: %s", kpaths[k.path], k.err);

	/* what the peer should have: (header +) body */
	{
		crypto_hash_sha256_state st;
		unsigned char *b = malloc(k.size ? k.size : 1);
		char hdr[WRITEV_HDR + 1];
		if (!b)
			return luaL_error(L, "kernel send: out of memory");
		make_body(b, k.size);
		crypto_hash_sha256_init(&st);
		if (k.path == P_WRITEV) {
			snprintf(hdr, sizeof(hdr), "RINGLAB writev %016zx\n", k.size);
			crypto_hash_sha256_update(&st, (unsigned char *)hdr, WRITEV_HDR);
		}
		crypto_hash_sha256_update(&st, b, k.size);
		crypto_hash_sha256_final(&st, want);
		free(b);
	}

	lua_createtable(L, 0, 32);
	SETS("path", kpaths[k.path]);
	SETI("size", k.size);
	SETI("sent", k.sent);
	SETI("headers", k.headers);
	SETI("program_copied", 0);
	SETI("kernel_copied", k.kernel_copied);
	SETS("kernel_how", k.kernel_measured ? "measured" : "derived");
	SETS("kernel_why", k.why ? k.why : "");
	SETI("syscalls", k.syscalls);
	SETN("cpu_s", k.cpu_s);
	SETN("cpu_ms_per_mib", k.cpu_s * 1000.0 / ((double)k.size / 1048576.0));
	SETN("seconds", k.seconds);
	SETN("mib_s", k.seconds > 0 ? (double)k.sent / 1048576.0 / k.seconds : 0);
	SETI("received", k.ans.received);
	SETI("peer_copied", k.ans.received); /* read() copies out; splice into the page cache */
	if (!IS_UDP(k.path)) {
		SETS("peer_recv", k.recv_splice ? "splice" : k.recv_zc ? "zerocopy" : "read");
		SETS("peer_why", k.recv_splice
		                     ? "splice() moves the socket's pages into the pipe by reference, "
		                       "then copies them into the file's page cache"
		                 : k.recv_zc && !k.ans.zc_mapped
		                     ? "TCP_ZEROCOPY_RECEIVE mapped nothing: across the veth the "
		                       "received skbs hold the sender's own pages - page-cache pages "
		                       "(sendfile, splice) and the socket's compound page fragments "
		                       "(write) - which it will not map (can_map_frag), nor payload "
		                       "not in whole aligned pages; it copied the bytes into the "
		                       "copy buffer (its own report, peer_zc_copied) or left them "
		                       "to read() (peer_zc_read)"
		                 : k.recv_zc
		                     ? "TCP_ZEROCOPY_RECEIVE maps whole pages of payload into the "
		                       "program; what is not page-aligned it copies into the copy "
		                       "buffer (its own report) or leaves to read()"
		                     : "read() copies from the socket's skbs into the program's buffer");
		if (k.recv_zc) {
			SETI("peer_zc_mapped", k.ans.zc_mapped);
			SETI("peer_zc_copied", k.ans.zc_copybuf);
			SETI("peer_zc_read", k.ans.zc_skipped);
		}
		SETI("peer_calls", k.ans.peer_calls);
		SETN("peer_cpu_ms_per_mib",
		     k.ans.peer_cpu_s * 1000.0 / ((double)k.size / 1048576.0));
	}
	SETB("intact", k.ans.received == k.sent &&
	                   !memcmp(k.ans.sha, want, sizeof(want)));
	push_hex(L, k.ans.sha, sizeof(k.ans.sha));
	lua_setfield(L, -2, "sha256");
	push_hex(L, want, sizeof(want));
	lua_setfield(L, -2, "want_sha256");
	/* the same shape as e:stats().ledger, for compare and tables */
	lua_createtable(L, 0, 6);
	SETI("copied", 0);
	SETI("referenced", k.sent > k.kernel_copied ? k.sent - k.kernel_copied : 0);
	SETI("headers", k.headers);
	SETI("kernel_copied", k.kernel_copied);
	SETS("kernel_how", k.kernel_measured ? "measured" : "derived");
	SETI("touched", 0);
	lua_setfield(L, -2, "ledger");
	SETS("lab", k.ns_lab);
	SETS("peer", k.ns_peer);
	SETI("port", k.port);
	if (k.path == P_ZEROCOPY) {
		SETI("zc_sends", k.zc_sends);
		SETI("zc_completions", k.zc_completions);
		SETI("zc_ranges", k.zc_ranges);
		SETI("zc_copied_ranges", k.zc_copied_ranges);
		SETI("zc_copied_sends", k.zc_copied_sends);
	}
	if (k.capture) {
		int i;
		if (!IS_UDP(k.path)) {
			SETI("peer_segments", k.ans.segments);
			SETI("peer_min_segment", k.ans.min_seg);
			SETI("peer_max_segment", k.ans.max_seg);
		}
		if (k.ans.capture_err)
			SETS("capture_error", strerror(k.ans.capture_err));
		/* the sizes on the wire: {size=, count=} by size, largest first */
		SETI("wire_packets", k.ans.segments);
		SETI("wire_other", k.ans.wire_other);
		SETI("wire_retransmits", k.ans.wire_rtx);
		SETS("wire_unit", IS_UDP(k.path) ? "UDP packet" : "TCP segment");
		lua_createtable(L, KWIRE_SIZES, 0);
		for (i = 0; i < KWIRE_SIZES && k.ans.wire[i].count; i++) {
			int j, at = 1;
			for (j = 0; j < KWIRE_SIZES && k.ans.wire[j].count; j++)
				if (k.ans.wire[j].size > k.ans.wire[i].size)
					at++;
			lua_createtable(L, 0, 2);
			SETI("size", k.ans.wire[i].size);
			SETI("count", k.ans.wire[i].count);
			lua_rawseti(L, -2, at);
		}
		lua_setfield(L, -2, "wire");
		if (k.pcap_path[0]) {
			SETS("capture_file", k.pcap_path);
			SETI("capture_records", k.ans.pcap_packets);
		}
	}
	if (k.offload >= 0)
		SETS("offload", k.offload ? "on" : "off");
	if (IS_UDP(k.path)) {
		SETI("udp_segment", k.udp_seg);
		SETI("peer_datagrams", k.ans.datagrams);
		SETI("peer_min_datagram", k.ans.min_dgram);
		SETI("peer_max_datagram", k.ans.max_dgram);
	}
	if (k.path == P_VMSPLICE)
		SETS("vmsplice_probe", k.vm_probe == 1   ? "referenced"
		                       : k.vm_probe == 0 ? "copied"
		                                         : "not run");
	return 1;
}

static int kernel_paths(lua_State *L)
{
	int i;

	lua_newtable(L);
	for (i = 0; kpaths[i]; i++) {
		lua_pushstring(L, kpaths[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* kTLS at run time: setsockopt(TCP_ULP, "tls") on a TCP socket - connected
 * to the testbed's peer when there is one (a connection needs no data),
 * otherwise unconnected (then ENOTCONN means "tls is there"). */
static int kernel_tls(lua_State *L)
{
	struct ksend k;
	int s, e = 0, connected = 0;
	char line[200];

	ks_init(&k);
	if (lua_istable(L, 1))
		testbed_names(L, &k, "kernel tls");
	inet_pton(AF_INET, "198.18.0.2", &k.dst);
	if (k.ns_lab[0] && geteuid() == 0) {
		k.own_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		k.size = 0;
		if (k.own_fd >= 0 && (k.lab_fd = open_ns(&k, k.ns_lab)) >= 0 &&
		    (k.peer_fd = open_ns(&k, k.ns_peer)) >= 0 && start_receiver(&k) == 0 &&
		    lab_socket(&k) == 0)
			connected = 1;
	}
	if (connected) {
		s = k.sock;
	} else {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			ks_release(&k);
			return luaL_error(L, "kernel tls: socket: %s", strerror(errno));
		}
	}
	if (setsockopt(s, IPPROTO_TCP, TCP_ULP, "tls", 3) < 0)
		e = errno;
	if (!connected)
		close(s);
	ks_release(&k);
	if (!e)
		snprintf(line, sizeof(line), "kTLS: in this kernel (TCP_ULP tls accepted on a "
		                             "connected socket)");
	else if (e == ENOTCONN && !connected)
		snprintf(line, sizeof(line), "kTLS: in this kernel (TCP_ULP tls: ENOTCONN on an "
		                             "unconnected socket - it is there)");
	else
		snprintf(line, sizeof(line), "kTLS: not in this kernel (TCP_ULP tls: %s%s)",
		         e == ENOENT ? "ENOENT" : strerror(e),
		         e == ENOENT ? " - no CONFIG_TLS" : "");
	lua_createtable(L, 0, 4);
	SETB("available", e == 0 || (e == ENOTCONN && !connected));
	SETI("errno", e);
	SETS("error", e ? strerror(e) : "");
	SETB("connected", connected);
	SETS("line", line);
	return 1;
}

static const luaL_Reg kernel_funcs[] = {
    {"send", kernel_send},
    {"paths", kernel_paths},
    {"tls", kernel_tls},
    {NULL, NULL},
};

void lab_kernel_register(lua_State *L)
{
	lua_newtable(L);
	lab_setfuncs(L, kernel_funcs);
	lua_setfield(L, -2, "kernel");
}
