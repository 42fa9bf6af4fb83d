/*
 * xdp_steer.bpf.c - the XDP program that decides which frames go to ringlab.
 *
 * An AF_XDP socket sees only the frames an XDP program redirects into it.
 * This program runs in the kernel for every frame arriving on the
 * interface and either redirects it into the XSKMAP slot of its RX queue
 * (where the ringlab socket sits) or passes it up to the kernel's own stack.
 *
 * What to redirect is set from userspace through two maps: `rl_cfg` says
 * "take everything" (steer=all), or else `rl_ports` lists the UDP/TCP
 * destination ports to take (steer=9000,9001). Everything else - ARP, ping,
 * other ports - still reaches the kernel, so the lab can share the wire.
 * `rl_counts` counts each decision for e:stats().
 *
 * The file is compiled twice: once with SEC("xdp") and once with
 * SEC("xdp.frags") (-DRL_FRAGS), which tells the kernel this program copes
 * with frames spread over several buffers (multi-buffer, needed for frames
 * bigger than a page, i.e. MTU 9000 with sg=true). Only the first buffer is
 * visible through ctx->data, and the headers are always there.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp_steer.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, RL_XSKMAP_MAX);
	__type(key, __u32);
	__type(value, __u32);
} rl_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rl_steer_cfg);
} rl_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RL_STEER_PORTS_MAX);
	__type(key, __u16); /* destination port, host order */
	__type(value, __u8);
} rl_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_COUNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rl_counts SEC(".maps");

static __always_inline void count(__u32 what)
{
	__u64 *c = bpf_map_lookup_elem(&rl_counts, &what);

	if (c)
		*c += 1;
}

/* The UDP/TCP destination port (host order), or 0 for anything else. */
static __always_inline __u16 dst_port(void *data, void *end)
{
	struct ethhdr *eth = data;
	__u8 proto;
	void *l4;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return 0;
		if (ip->frag_off & bpf_htons(0x1fff)) /* not the first fragment */
			return 0;
		proto = ip->protocol;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return 0;
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return 0;
	}
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return 0;
	/* UDP and TCP both start with source port, destination port. */
	if (l4 + 4 > end)
		return 0;
	return bpf_ntohs(*(__u16 *)(l4 + 2));
}

#ifdef RL_FRAGS
SEC("xdp.frags")
#else
SEC("xdp")
#endif
int rl_xdp_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct rl_steer_cfg *cfg = bpf_map_lookup_elem(&rl_cfg, &zero);
	__u16 port;
	long act;

	if (!cfg)
		return XDP_PASS;
	if (!cfg->all) {
		port = dst_port(data, end);
		if (!port || !bpf_map_lookup_elem(&rl_ports, &port)) {
			count(RL_COUNT_PASSED);
			return XDP_PASS;
		}
	}
	/* XDP_PASS as the fallback: no socket on this queue means the kernel
	 * keeps the frame instead of dropping it. */
	act = bpf_redirect_map(&rl_xsks, ctx->rx_queue_index, XDP_PASS);
	count(act == XDP_REDIRECT ? RL_COUNT_REDIRECTED : RL_COUNT_NO_SOCKET);
	return act;
}

char _license[] SEC("license") = "Dual BSD/GPL";
