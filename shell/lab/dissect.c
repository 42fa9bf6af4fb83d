/*
 * lab/dissect.c - a dissected packet as a Lua table, and one-line summaries.
 *
 * rl_dissect() (core/packet.c) does the parsing; this file only presents
 * its result: nested tables per layer (eth, arp, ip, icmp, udp, tcp) with
 * addresses as text, csum_ok flags, where the payload is, the problem if
 * any, and `summary`, the line that tostring(pkt) and `recv` print.
 * lab.dissect(s) takes a raw byte string, for frames from anywhere.
 */
#include <stdio.h>
#include <string.h>

#include "shell.h"

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

static void set_ip(lua_State *L, const char *k, uint32_t ip)
{
	char s[16];

	rl_format_ip4(ip, s);
	set_str(L, k, s);
}

static void set_mac(lua_State *L, const char *k, const uint8_t mac[6])
{
	char s[18];

	rl_format_mac(mac, s);
	set_str(L, k, s);
}

void lab_packet_summary(const struct rl_dissect *d, uint32_t len, unsigned nseg,
                        char *out, size_t cap)
{
	char src[16], dst[16], segs[32];

	snprintf(segs, sizeof(segs), "(%u segment%s)", nseg, nseg == 1 ? "" : "s");
	rl_format_ip4(d->src_ip, src);
	rl_format_ip4(d->dst_ip, dst);
	if (d->layers & RL_L_UDP)
		snprintf(out, cap, "udp %s:%u > %s:%u len %u %s", src, d->src_port, dst,
		         d->dst_port, len, segs);
	else if (d->layers & RL_L_TCP) {
		char fl[9];

		lab_flag_str(d->tcp_flags, fl);
		snprintf(out, cap, "tcp %s:%u > %s:%u [%s] seq %u ack %u len %u %s", src,
		         d->src_port, dst, d->dst_port, fl, d->tcp_seq, d->tcp_ack, len,
		         segs);
	}
	else if ((d->layers & RL_L_ICMP) && (d->icmp_type == 8 || d->icmp_type == 0))
		snprintf(out, cap, "icmp %s %s > %s id %u seq %u len %u %s",
		         d->icmp_type == 8 ? "echo request" : "echo reply", src, dst,
		         d->icmp_id, d->icmp_seq, len, segs);
	else if (d->layers & RL_L_ICMP) /* not an echo: no id or seq, its type told */
		snprintf(out, cap, "icmp type %u code %u%s %s > %s len %u %s", d->icmp_type,
		         d->icmp_code,
		         d->icmp_type == 3    ? " (destination unreachable)"
		         : d->icmp_type == 11 ? " (time exceeded)"
		         : d->icmp_type == 5  ? " (redirect)"
		         : d->icmp_type == 12 ? " (parameter problem)"
		                              : "",
		         src, dst, len, segs);
	else if (d->layers & RL_L_IP4)
		snprintf(out, cap, "ipv4 proto %u %s > %s len %u %s", d->proto, src, dst,
		         len, segs);
	else if (d->layers & RL_L_ARP) {
		rl_format_ip4(d->arp_spa, src);
		rl_format_ip4(d->arp_tpa, dst);
		if (d->arp_op == 1)
			snprintf(out, cap, "arp who-has %s tell %s len %u %s", dst, src,
			         len, segs);
		else
			snprintf(out, cap, "arp reply %s is-at (op %u) to %s len %u %s",
			         src, d->arp_op, dst, len, segs);
	} else if (d->layers & RL_L_ETH)
		snprintf(out, cap, "ethernet type 0x%04x len %u %s", d->ethertype, len,
		         segs);
	else
		snprintf(out, cap, "frame len %u %s", len, segs);
	if (d->problem[0] && strlen(out) + 12 < cap)
		strcat(out, " [malformed]");
}

static void push_l3(lua_State *L, const struct rl_dissect *d)
{
	if (d->layers & RL_L_ARP) {
		lua_createtable(L, 0, 5);
		set_int(L, "op", d->arp_op);
		set_mac(L, "sha", d->arp_sha);
		set_ip(L, "spa", d->arp_spa);
		set_mac(L, "tha", d->arp_tha);
		set_ip(L, "tpa", d->arp_tpa);
		lua_setfield(L, -2, "arp");
	}
	if (d->layers & RL_L_IP4) {
		lua_createtable(L, 0, 9);
		set_ip(L, "src", d->src_ip);
		set_ip(L, "dst", d->dst_ip);
		set_int(L, "ttl", d->ttl);
		set_int(L, "proto", d->proto);
		set_int(L, "ihl", d->ihl);
		set_int(L, "len", d->ip_len);
		set_int(L, "id", d->ip_id);
		set_int(L, "csum", d->ip_csum);
		set_bool(L, "csum_ok", d->ip_csum_ok);
		lua_setfield(L, -2, "ip");
	}
}

/* d.tcp: options appear only when the packet carries them. */
static void push_tcp(lua_State *L, const struct rl_dissect *d)
{
	char flags[9];

	lab_flag_str(d->tcp_flags, flags);
	lua_createtable(L, 0, 16);
	set_int(L, "src_port", d->src_port);
	set_int(L, "dst_port", d->dst_port);
	set_int(L, "seq", d->tcp_seq);
	set_int(L, "ack", d->tcp_ack);
	set_int(L, "flags", d->tcp_flags);
	set_str(L, "flag_str", flags);
	set_int(L, "window", d->tcp_window);
	set_int(L, "hlen", d->tcp_hlen);
	set_int(L, "csum", d->tcp_csum);
	set_bool(L, "csum_ok", d->tcp_csum_ok);
	set_int(L, "urg", d->tcp_urg);
	if (d->tcp_opts & RL_TCPOPT_MSS)
		set_int(L, "mss", d->tcp_mss);
	if (d->tcp_opts & RL_TCPOPT_WSCALE)
		set_int(L, "wscale", d->tcp_wscale);
	set_bool(L, "sack_ok", (d->tcp_opts & RL_TCPOPT_SACKOK) != 0);
	if (d->tcp_opts & RL_TCPOPT_TS) {
		set_int(L, "ts_val", d->tcp_ts_val);
		set_int(L, "ts_ecr", d->tcp_ts_ecr);
	}
	lua_setfield(L, -2, "tcp");
}

static void push_l4(lua_State *L, const struct rl_dissect *d)
{
	if (d->layers & RL_L_ICMP) {
		lua_createtable(L, 0, 6);
		set_int(L, "type", d->icmp_type);
		set_int(L, "code", d->icmp_code);
		set_int(L, "id", d->icmp_id);
		set_int(L, "seq", d->icmp_seq);
		set_int(L, "csum", d->icmp_csum);
		set_bool(L, "csum_ok", d->icmp_csum_ok);
		lua_setfield(L, -2, "icmp");
	}
	if (d->layers & RL_L_UDP) {
		lua_createtable(L, 0, 5);
		set_int(L, "src_port", d->src_port);
		set_int(L, "dst_port", d->dst_port);
		set_int(L, "len", d->udp_len);
		set_int(L, "csum", d->udp_csum);
		set_bool(L, "csum_ok", d->udp_csum_ok);
		lua_setfield(L, -2, "udp");
	}
	if (d->layers & RL_L_TCP)
		push_tcp(L, d);
}

void lab_push_dissect(lua_State *L, const struct rl_dissect *d, unsigned nseg)
{
	char line[200];

	lua_createtable(L, 0, 12);
	set_int(L, "len", d->len);
	if (d->layers & RL_L_ETH) {
		lua_createtable(L, 0, 3);
		set_mac(L, "src", d->src_mac);
		set_mac(L, "dst", d->dst_mac);
		set_int(L, "type", d->ethertype);
		lua_setfield(L, -2, "eth");
	}
	push_l3(L, d);
	push_l4(L, d);
	set_int(L, "payload_off", d->payload_off);
	set_int(L, "payload_len", d->payload_len);
	if (d->problem[0])
		set_str(L, "problem", d->problem);
	lab_packet_summary(d, d->len, nseg, line, sizeof(line));
	set_str(L, "summary", line);
}

int lab_dissect_string(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	struct rl_iov iov = {s, len};
	struct rl_dissect d;

	rl_dissect(&iov, 1, &d);
	lab_push_dissect(L, &d, 1);
	return 1;
}
