/*
 * packet.h - build and dissect Ethernet, ARP, IPv4, ICMP and UDP.
 *
 * Builders write headers into a caller's buffer (usually a frame's headroom)
 * and return the number of header bytes written, or a negative errno. The
 * payload is never copied here: it is described by a list of pieces
 * (struct rl_iov), which the UDP/ICMP builders read only to compute the
 * checksum (and say so: *touched is how many payload bytes were read).
 *
 * The dissector takes the packet as pieces too (a chain of frames), parses
 * headers from the first piece, verifies every checksum over all pieces,
 * and reports each layer it understood. Addresses and ports are host order.
 */
#ifndef RINGLAB_PACKET_H
#define RINGLAB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RL_ETH_HLEN 14
#define RL_IP4_HLEN 20
#define RL_UDP_HLEN 8
#define RL_ICMP_HLEN 8
#define RL_ARP_LEN 28
#define RL_UDP_HDRS (RL_ETH_HLEN + RL_IP4_HLEN + RL_UDP_HLEN) /* 42 */

#define RL_ETHERTYPE_IP4 0x0800
#define RL_ETHERTYPE_ARP 0x0806
#define RL_IPPROTO_ICMP 1
#define RL_IPPROTO_TCP 6
#define RL_IPPROTO_UDP 17

struct rl_iov {
	const void *base;
	size_t len;
};

/* Both ends of a flow. Addresses and ports in host order. */
struct rl_flow {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ttl;      /* 0 means 64 */
	uint16_t ip_id;
};

/* Parse "198.18.0.2" or "198.18.0.2:9999" (port optional unless need_port)
 * and "02:00:00:00:00:01". */
int rl_parse_ip4(const char *s, uint32_t *ip, uint16_t *port, bool need_port,
		 struct rl_err *err);
int rl_parse_mac(const char *s, uint8_t mac[6], struct rl_err *err);
void rl_format_ip4(uint32_t ip, char out[16]);
void rl_format_mac(const uint8_t mac[6], char out[18]);

/* Headers of a UDP/IPv4/Ethernet packet, RL_UDP_HDRS bytes into hdr.
 * csum: true computes the UDP checksum over the payload pieces (reading
 * them: *touched += payload bytes), false leaves it 0 (allowed in IPv4). */
int rl_build_udp(uint8_t *hdr, size_t cap, const struct rl_flow *f,
		 const struct rl_iov *payload, unsigned npayload, bool csum,
		 uint64_t *touched, struct rl_err *err);

/* An ICMP echo request (type 8) or reply (type 0) with its IPv4 and Ethernet
 * headers: RL_ETH_HLEN + RL_IP4_HLEN + RL_ICMP_HLEN bytes into hdr. */
int rl_build_icmp_echo(uint8_t *hdr, size_t cap, const struct rl_flow *f,
		       uint8_t type, uint16_t id, uint16_t seq,
		       const struct rl_iov *payload, unsigned npayload,
		       uint64_t *touched, struct rl_err *err);

/* An ARP request (op 1) or reply (op 2) in an Ethernet frame; a request is
 * broadcast. RL_ETH_HLEN + RL_ARP_LEN bytes. */
int rl_build_arp(uint8_t *buf, size_t cap, uint16_t op,
		 const uint8_t sha[6], uint32_t spa,
		 const uint8_t tha[6], uint32_t tpa, struct rl_err *err);

/* IPv4 header alone (for other builders): total_len includes this header. */
int rl_build_ip4(uint8_t *hdr, size_t cap, const struct rl_flow *f, uint8_t proto,
		 uint16_t total_len, struct rl_err *err);

enum rl_layer {
	RL_L_ETH = 1u << 0,
	RL_L_ARP = 1u << 1,
	RL_L_IP4 = 1u << 2,
	RL_L_ICMP = 1u << 3,
	RL_L_UDP = 1u << 4,
	RL_L_TCP = 1u << 5,
};

struct rl_dissect {
	uint32_t layers;        /* enum rl_layer bits found */
	uint32_t len;           /* total bytes over all pieces */
	/* ethernet */
	uint8_t dst_mac[6], src_mac[6];
	uint16_t ethertype;
	/* arp */
	uint16_t arp_op;
	uint8_t arp_sha[6], arp_tha[6];
	uint32_t arp_spa, arp_tpa;
	/* ipv4 */
	uint32_t src_ip, dst_ip;
	uint8_t ttl, proto, ihl;
	uint16_t ip_len, ip_id, ip_csum;
	bool ip_csum_ok;
	/* icmp */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq, icmp_csum;
	bool icmp_csum_ok;
	/* udp */
	uint16_t src_port, dst_port, udp_len, udp_csum;
	bool udp_csum_ok;       /* true also when the checksum is 0 (unused) */
	/* what follows the last header understood */
	uint32_t payload_off;   /* from the start of the packet */
	uint32_t payload_len;
	char problem[160];      /* empty, or what is malformed */
	/* tcp (ports are src_port/dst_port above; options in tcp_opts) */
	uint32_t tcp_seq, tcp_ack;
	uint8_t tcp_flags;      /* RL_TCP_* (tcp.h) */
	uint8_t tcp_hlen;       /* header bytes, options included */
	uint16_t tcp_window, tcp_csum, tcp_urg;
	bool tcp_csum_ok;
	uint32_t tcp_opts;      /* RL_TCPOPT_* bits: which options were seen */
	uint16_t tcp_mss;
	uint8_t tcp_wscale;
	uint32_t tcp_ts_val, tcp_ts_ecr;
};

/* Bits of rl_dissect.tcp_opts. */
#define RL_TCPOPT_MSS    (1u << 0)
#define RL_TCPOPT_WSCALE (1u << 1)
#define RL_TCPOPT_SACKOK (1u << 2)
#define RL_TCPOPT_TS     (1u << 3)
#define RL_TCPOPT_SACK   (1u << 4)
#define RL_TCPOPT_OTHER  (1u << 5)

/* 0 when the headers parse (d->problem says what a truncated or malformed
 * packet lacks; it is not an error to dissect a non-IP frame).
 * Otherwise -EBADMSG with d->problem set and every layer before the bad one
 * still filled in (-EINVAL only when d is NULL). A wrong checksum is not a
 * parse error: it shows only in the *_csum_ok fields. IPv4 fragments stop at
 * the IPv4 layer. Never reads past the pieces, whatever the headers claim. */
int rl_dissect(const struct rl_iov *pkt, unsigned npieces, struct rl_dissect *d);

/* Add bytes [off, off+len) of the concatenated pieces to a checksum sum
 * (pieces of any length, odd ones included); fold with rl_csum_fold(). */
uint32_t rl_csum_iov(const struct rl_iov *v, unsigned n, size_t off, size_t len,
		     uint32_t sum);

#ifdef __cplusplus
}
#endif
#endif
