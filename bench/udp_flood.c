/*
 * udp_flood.c - a kernel UDP sender for bench/queues.sh: the peer's side.
 *
 *   udp_flood DST_IP DST_PORT SECONDS
 *
 * Sends 18-byte UDP datagrams (64-byte frames on the wire) to DST_IP:DST_PORT
 * from one socket, 64 per sendmmsg, for SECONDS, then prints "sent N in S s
 * (X.XXX Mpps)". One flow per process: the kernel puts it on one TX queue
 * (bench/queues.sh pins each sender to a CPU and maps CPU k to TX queue k
 * with XPS), and a veth delivers it on the peer's RX queue of that number.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	static char payload[18] = "ringlab queues";
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { payload, sizeof(payload) };
	unsigned long long sent = 0;
	double t0, t_end, secs;
	int fd;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udp_flood DST_IP DST_PORT SECONDS\n");
		return 2;
	}
	dst.sin_port = htons((unsigned short)atoi(argv[2]));
	secs = atof(argv[3]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("udp_flood: socket/connect");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	t_end = t0 + secs;
	while (now() < t_end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += (unsigned long long)n;
		else if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED) {
			perror("udp_flood: sendmmsg");
			return 1;
		}
	}
	secs = now() - t0;
	printf("sent %llu in %.1f s (%.3f Mpps)\n", sent, secs, (double)sent / secs / 1e6);
	return 0;
}
