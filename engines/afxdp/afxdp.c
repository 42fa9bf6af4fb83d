/*
 * afxdp.c - the AF_XDP engine: ringlab's model over a real kernel socket.
 *
 * AF_XDP lets a program receive and send raw frames through four rings it
 * shares with the kernel (fill, rx, tx, completion) and one block of memory
 * it registers, the UMEM. ringlab's region *is* that UMEM, and its four
 * rings are the kernel's: e:rings() reads the real producer and consumer
 * indices from the mmapped rings. An XDP program of ours (xdp_steer.bpf.c)
 * redirects the frames we want into the socket.
 *
 * This file is the front: the ops table the shell loads, the options
 * (ifname=, queue=, queues=, mode=, sg=, need_wakeup=, steer=, ring sizes), probe,
 * open, close and stats. The socket is made when the region is (umem.c),
 * since a socket cannot exist without its UMEM.
 *
 * close() is safe to call twice and from an exit path: every engine still
 * open when the program exits (or when this .so is unloaded) is closed by
 * a destructor, so no XDP program stays attached behind us. Only a killed
 * process (SIGKILL) leaves one; `ringlab testbed down` removes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "afxdp.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define NEEDS_TESTBED "run `ringlab testbed up` and `ringlab --netns rl-lab`"

static struct rl_engine *open_list; /* engines not yet closed */

static int afxdp_probe(struct rl_err *err)
{
	int fd;

	if (geteuid() != 0)
		return rl_err_set(err, EPERM,
				  "AF_XDP needs root (CAP_NET_ADMIN, CAP_BPF) - "
				  "run as root inside the testbed: sudo ringlab testbed shell");
	fd = socket(AF_XDP, SOCK_RAW, 0);
	if (fd < 0)
		return rl_err_set(err, errno,
				  "this kernel has no AF_XDP sockets (socket(AF_XDP): %s) - "
				  "it needs Linux >= 4.18 with CONFIG_XDP_SOCKETS=y",
				  strerror(errno));
	close(fd);
	return 0;
}

/* ---- options -------------------------------------------------------- */

static int parse_bool(const char *key, const char *v, bool *out, struct rl_err *err)
{
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) {
		*out = false;
		return 0;
	}
	return rl_err_set(err, EINVAL, "%s=%s: say true or false", key, v);
}

static int parse_u32(const char *key, const char *v, uint32_t max, uint32_t *out,
		     struct rl_err *err)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > max)
		return rl_err_set(err, EINVAL, "%s=%s: give a whole number from 0 to %u",
				  key, v, max);
	*out = (uint32_t)n;
	return 0;
}

static int parse_ring(const char *key, const char *v, uint32_t *out, struct rl_err *err)
{
	int rc = parse_u32(key, v, 1u << 16, out, err);

	if (rc < 0)
		return rc;
	if (*out < 8 || (*out & (*out - 1)))
		return rl_err_set(err, EINVAL,
				  "%s=%s: ring sizes are powers of two from 8 to 65536 (the kernel "
				  "masks indices with size-1), e.g. 2048", key, v);
	return 0;
}

static int parse_mode(const char *v, enum afxdp_mode *m, struct rl_err *err)
{
	if (!strcmp(v, "copy"))
		*m = AFXDP_COPY;
	else if (!strcmp(v, "zerocopy"))
		*m = AFXDP_ZEROCOPY;
	else if (!strcmp(v, "auto"))
		*m = AFXDP_AUTO;
	else
		return rl_err_set(err, EINVAL, "mode=%s: say copy, zerocopy or auto", v);
	return 0;
}

static int parse_xdp(const char *v, enum afxdp_xdp_mode *m, struct rl_err *err)
{
	if (!strcmp(v, "auto"))
		*m = AFXDP_XDP_AUTO;
	else if (!strcmp(v, "native") || !strcmp(v, "drv"))
		*m = AFXDP_XDP_NATIVE;
	else if (!strcmp(v, "skb") || !strcmp(v, "generic"))
		*m = AFXDP_XDP_SKB;
	else
		return rl_err_set(err, EINVAL,
				  "xdp=%s: say native (in the driver), skb (generic, after "
				  "the skb is built) or auto (native, else skb)", v);
	return 0;
}

/* steer=all, or steer=9000,9001: UDP/TCP destination ports. */
static int parse_steer(struct afxdp_opts *o, const char *v, struct rl_err *err)
{
	char buf[512], *save = NULL, *tok;
	uint32_t port = 0;

	o->steer_all = !strcmp(v, "all");
	o->nports = 0;
	if (o->steer_all)
		return 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_u32("steer", tok, 65535, &port, err) < 0 || port == 0)
			return rl_err_set(err, EINVAL,
					  "steer=%s: say all, or UDP/TCP destination ports "
					  "like steer=9000,9001 (1..65535)", v);
		if (o->nports == sizeof(o->ports) / sizeof(o->ports[0]))
			return rl_err_set(err, E2BIG, "steer=%s: at most %zu ports", v,
					  sizeof(o->ports) / sizeof(o->ports[0]));
		o->ports[o->nports++] = (uint16_t)port;
	}
	if (!o->nports)
		return rl_err_set(err, EINVAL, "steer=: say all, or a list of ports");
	return 0;
}

/* queue=1, or queue=0,1: the queues to bind, one socket each. */
static int parse_queue_list(struct afxdp_opts *o, const char *v, struct rl_err *err)
{
	char buf[256], *save = NULL, *tok;
	uint32_t q = 0;

	snprintf(buf, sizeof(buf), "%s", v);
	o->nq = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_u32("queue", tok, RL_XSKMAP_MAX - 1, &q, err) < 0)
			return rl_err_set(err, EINVAL, "queue=%s: give a queue number, or a list "
					  "like queue=0,1 (0..%d)", v, RL_XSKMAP_MAX - 1);
		for (unsigned i = 0; i < o->nq; i++)
			if (o->qids[i] == q)
				return rl_err_set(err, EINVAL, "queue=%s: queue %u is listed twice",
						  v, q);
		if (o->nq == AFXDP_QUEUES_MAX)
			return rl_err_set(err, E2BIG, "queue=%s: at most %d queues", v,
					  AFXDP_QUEUES_MAX);
		o->qids[o->nq++] = q;
	}
	if (!o->nq)
		return rl_err_set(err, EINVAL, "queue=: give a queue number, e.g. queue=0");
	o->queue = o->qids[0];
	return 0;
}

/* queues=N: queues 0 .. N-1. */
static int parse_queues(struct afxdp_opts *o, const char *v, struct rl_err *err)
{
	uint32_t n = 0;

	if (parse_u32("queues", v, AFXDP_QUEUES_MAX, &n, err) < 0 || n == 0)
		return rl_err_set(err, EINVAL, "queues=%s: give how many queues to bind, 1 to "
				  "%d (one AF_XDP socket each), e.g. queues=2", v, AFXDP_QUEUES_MAX);
	o->nq = n;
	for (uint32_t i = 0; i < n; i++)
		o->qids[i] = i;
	o->queue = 0;
	return 0;
}

static int parse_one(struct afxdp_opts *o, const struct rl_kv *kv, struct rl_err *err)
{
	const char *k = kv->key, *v = kv->val ? kv->val : "";

	if (!strcmp(k, "ifname")) {
		if (!*v || strlen(v) >= sizeof(o->ifname))
			return rl_err_set(err, EINVAL, "ifname=%s: give an interface name "
					  "(1-15 characters), e.g. ifname=rl0", v);
		snprintf(o->ifname, sizeof(o->ifname), "%s", v);
		return 0;
	}
	if (!strcmp(k, "queue"))
		return parse_queue_list(o, v, err);
	if (!strcmp(k, "queues"))
		return parse_queues(o, v, err);
	if (!strcmp(k, "mode"))
		return parse_mode(v, &o->mode, err);
	if (!strcmp(k, "xdp"))
		return parse_xdp(v, &o->xdp, err);
	if (!strcmp(k, "sg"))
		return parse_bool(k, v, &o->sg, err);
	if (!strcmp(k, "unaligned"))
		return parse_bool(k, v, &o->unaligned, err);
	if (!strcmp(k, "need_wakeup"))
		return parse_bool(k, v, &o->need_wakeup, err);
	if (!strcmp(k, "steer"))
		return parse_steer(o, v, err);
	if (!strcmp(k, "fill_size"))
		return parse_ring(k, v, &o->fill_size, err);
	if (!strcmp(k, "comp_size"))
		return parse_ring(k, v, &o->comp_size, err);
	if (!strcmp(k, "rx_size"))
		return parse_ring(k, v, &o->rx_size, err);
	if (!strcmp(k, "tx_size"))
		return parse_ring(k, v, &o->tx_size, err);
	if (!strcmp(k, "tx_budget"))
		return parse_u32(k, v, 1u << 16, &o->tx_budget, err);
	return rl_err_set(err, EINVAL,
			  "afxdp has no option %s - it knows ifname, queue, queues, mode, xdp, sg, "
			  "unaligned, need_wakeup, steer, fill_size, comp_size, rx_size, tx_size, "
			  "tx_budget", k);
}

static int parse_opts(struct afxdp_opts *o, const struct rl_open_args *a,
		      struct rl_err *err)
{
	bool queue = false, queues = false; /* which of the two was given */

	memset(o, 0, sizeof(*o));
	o->mode = AFXDP_AUTO;
	o->xdp = AFXDP_XDP_AUTO;
	o->need_wakeup = true;
	o->steer_all = true;
	o->fill_size = o->comp_size = o->rx_size = o->tx_size =
		XSK_RING_PROD__DEFAULT_NUM_DESCS;
	o->nq = 1; /* queue 0 */
	for (unsigned i = 0; a && i < a->nkv; i++) {
		if (parse_one(o, &a->kv[i], err) < 0)
			return -err->code;
		queue |= !strcmp(a->kv[i].key, "queue");
		queues |= !strcmp(a->kv[i].key, "queues");
	}
	if (queue && queues)
		return rl_err_set(err, EINVAL, "give queue=0,1 or queues=2, not both (queues=N "
				  "means queue=0,...,N-1)");
	if (!o->ifname[0])
		return rl_err_set(err, EINVAL,
				  "afxdp needs ifname= (the interface to bind), e.g. "
				  "lab.open(\"afxdp\", {ifname=\"rl0\"}) - %s", NEEDS_TESTBED);
	return 0;
}

/* ---- open and close ---------------------------------------------------- */

static void list_remove(struct rl_engine *e)
{
	for (struct rl_engine **p = &open_list; *p; p = &(*p)->next_open)
		if (*p == e) {
			*p = e->next_open;
			return;
		}
}

/* The interface's index now, or 0 when no interface has that name: one
 * ioctl on a socket kept for it (if_nametoindex would open and close a
 * socket around the same ioctl - three system calls). */
static int ifindex_now(struct rl_engine *e)
{
	struct ifreq ifr;

	if (e->link_fd < 0)
		return (int)if_nametoindex(e->o.ifname);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", e->o.ifname);
	if (ioctl(e->link_fd, SIOCGIFINDEX, &ifr) < 0)
		return 0;
	return ifr.ifr_ifindex;
}

/* The interface disappeared (testbed down, namespace deleted)? */
bool afxdp_link_gone(struct rl_engine *e, struct rl_err *err)
{
	if (ifindex_now(e) == e->ifindex)
		return false;
	rl_err_set(err, ENODEV,
		   "interface %s went away under this engine (testbed down?) - close it "
		   "with e:close() and open a new one after `ringlab testbed up`",
		   e->o.ifname);
	return true;
}

/* The interface has as many queues as every queue= needs? The driver's
 * channel counts (ETHTOOL_GCHANNELS; veth: its real RX/TX queues). A driver
 * that cannot say is left to the bind to refuse. */
static int check_queues(struct rl_engine *e, struct rl_err *err)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	uint32_t have, want = 0;

	if (e->link_fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", e->o.ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(e->link_fd, SIOCETHTOOL, &ifr) < 0)
		return 0;
	have = ch.combined_count;
	if (ch.rx_count && ch.tx_count)
		have += ch.rx_count < ch.tx_count ? ch.rx_count : ch.tx_count;
	if (!have)
		return 0;
	for (unsigned i = 0; i < e->o.nq; i++)
		if (e->o.qids[i] + 1 > want)
			want = e->o.qids[i] + 1;
	if (want <= have)
		return 0;
	return rl_err_set(err, EINVAL, "%s has %u queue%s - make the testbed with queues=%u "
			  "(ringlab testbed up queues=%u), or open fewer queues",
			  e->o.ifname, have, have == 1 ? "" : "s", want, want);
}

static void set_ledger_hows(struct rl_engine *e)
{
	e->ledger.kernel_how = RL_HOW_DERIVED;
	snprintf(e->ledger.kernel_why, sizeof(e->ledger.kernel_why),
		 "not bound yet: make a region (e:region{}) to bind the socket");
	e->ledger.driver_how = RL_HOW_NONE;
	snprintf(e->ledger.driver_why, sizeof(e->ledger.driver_why),
		 "AF_XDP has no separate driver layer in ringlab's view");
}

static int afxdp_open(struct rl_engine **out, const struct rl_open_args *args,
		      struct rl_err *err)
{
	struct rl_engine *e;
	char path[512];
	int rc;

	*out = NULL;
	if ((rc = afxdp_probe(err)) < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return rl_err_set(err, ENOMEM, "out of memory opening afxdp");
	if ((rc = parse_opts(&e->o, args, err)) < 0)
		goto fail;
	e->ifindex = (int)if_nametoindex(e->o.ifname);
	if (!e->ifindex) {
		rc = rl_err_set(err, ENODEV,
				"no interface named %s in this network namespace - %s",
				e->o.ifname, NEEDS_TESTBED);
		goto fail;
	}
	if ((rc = afxdp_prog_path(e->o.sg, path, sizeof(path), err)) < 0)
		goto fail;
	afxdp_quiet_libs();
	e->xsks_fd = e->cfg_fd = e->ports_fd = e->counts_fd = -1;
	e->xdp_link = -1;
	/* A program a killed ringlab left (attached the old way, through
	 * netlink) is removed here, with one line saying so; a live one's, or
	 * another program, is refused now rather than at e:region(). */
	if ((rc = afxdp_prog_clear_stale(e, err)) < 0)
		goto fail;
	e->link_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if ((rc = check_queues(e, err)) < 0) {
		if (e->link_fd >= 0)
			close(e->link_fd);
		goto fail;
	}
	e->sel = e->o.nq > 1 ? -1 : 0;
	set_ledger_hows(e);
	snprintf(e->mode_why, sizeof(e->mode_why), "not bound yet (no region)");
	e->next_open = open_list;
	open_list = e;
	*out = e;
	return 0;
fail:
	free(e);
	return rc;
}

static void afxdp_close(struct rl_engine *e)
{
	if (!e || e->closing)
		return;
	e->closing = true;
	list_remove(e);
	afxdp_prog_detach(e);   /* first: stop redirecting into the sockets */
	afxdp_socket_close(e);  /* socket, UMEM, region, memory */
	if (e->link_fd >= 0)
		close(e->link_fd);
	free(e);
}

/* Exit, or dlclose of this engine: close what the program left open. */
__attribute__((destructor)) static void afxdp_close_all(void)
{
	while (open_list)
		afxdp_close(open_list);
}

/* ---- stats ------------------------------------------------------------- */

/* The kernel's own counters for this socket: XDP_STATISTICS. */
static void kernel_stats(struct rl_engine *e, struct rl_stats *s)
{
	struct xdp_statistics st, one;

	memset(&st, 0, sizeof(st));
	if (!e->xsk)
		return;
	for (unsigned k = 0; k < e->nsocks; k++) { /* every socket's, summed */
		socklen_t len = sizeof(one);

		memset(&one, 0, sizeof(one));
		if (getsockopt(xsk_socket__fd(afxdp_xsk_of(e, k)), SOL_XDP, XDP_STATISTICS,
			       &one, &len) < 0)
			continue;
		st.rx_dropped += one.rx_dropped;
		st.rx_invalid_descs += one.rx_invalid_descs;
		st.tx_invalid_descs += one.tx_invalid_descs;
		st.rx_ring_full += one.rx_ring_full;
		st.rx_fill_ring_empty_descs += one.rx_fill_ring_empty_descs;
		st.tx_ring_empty_descs += one.tx_ring_empty_descs;
	}
	rl_stats_extra(s, "rx_dropped", st.rx_dropped);
	rl_stats_extra(s, "rx_invalid_descs", st.rx_invalid_descs);
	rl_stats_extra(s, "tx_invalid_descs", st.tx_invalid_descs);
	rl_stats_extra(s, "rx_ring_full", st.rx_ring_full);
	rl_stats_extra(s, "rx_fill_ring_empty_descs", st.rx_fill_ring_empty_descs);
	rl_stats_extra(s, "tx_ring_empty_descs", st.tx_ring_empty_descs);
	/* rx_fill_ring_empty_descs is not added: those drops are in rx_dropped. */
	s->drops = st.rx_dropped + st.rx_ring_full + st.rx_invalid_descs +
		   st.tx_invalid_descs;
}

static int afxdp_stats(struct rl_engine *e, struct rl_stats *s)
{
	memset(s, 0, sizeof(*s));
	afxdp_sync(e);
	s->tx_pkts = e->tx_pkts;
	s->tx_bytes = e->tx_bytes;
	s->rx_pkts = e->rx_pkts;
	s->rx_bytes = e->rx_bytes;
	s->kicks = e->kicks;
	s->ledger = e->ledger;
	snprintf(s->mode, sizeof(s->mode), "%s",
		 !e->xsk ? "unbound" : e->zerocopy ? "zerocopy" : "copy");
	snprintf(s->mode_why, sizeof(s->mode_why), "%s", e->mode_why);
	kernel_stats(e, s);
	s->nextra += afxdp_prog_counts(e, s->extra + s->nextra,
				       RL_STATS_EXTRA_MAX - s->nextra);
	rl_stats_extra(s, "xdp_native", e->xdp_link >= 0 && e->prog_mode == XDP_MODE_NATIVE);
	rl_stats_extra(s, "sg", e->o.sg);
	rl_stats_extra(s, "unaligned", e->o.unaligned);
	rl_stats_extra(s, "need_wakeup", e->o.need_wakeup);
	rl_stats_extra(s, "queue", e->o.queue);
	rl_stats_extra(s, "queues", e->o.nq);
	rl_stats_extra(s, "tx_budget", e->tx_budget);
	rl_stats_extra(s, "tx_ring_full", e->tx_ring_full); /* ringlab's count */
	return 0;
}

static struct rl_ledger *afxdp_ledger(struct rl_engine *e)
{
	return &e->ledger;
}

/* The shell reads owners through the region: bring them up to date with
 * what the kernel did since the last call. */
static struct rl_region *afxdp_get_region(struct rl_engine *e)
{
	if (!e->have_region)
		return NULL;
	afxdp_sync(e);
	return &e->region;
}

/* What this socket can do: multi-buffer only when opened with sg=true;
 * zero copy only once bound in zero-copy mode. */
static uint32_t afxdp_caps_of(struct rl_engine *e, char *why, size_t len)
{
	uint32_t caps = RL_CAP_WIRE;

	if (e->o.sg)
		caps |= RL_CAP_SG;
	if (e->o.unaligned) /* the UMEM is registered with the flag, or refused */
		caps |= RL_CAP_UNALIGNED;
	else /* a chunk may be in several TX descriptors (rings.c) */
		caps |= RL_CAP_SHARED;
	if (!e->xsk || e->zerocopy)
		caps |= RL_CAP_ZEROCOPY; /* not bound yet: it may */
	if (why && len)
		snprintf(why, len, "%s%s%s",
			 e->o.sg ? "" : "opened without sg=true: no multi-buffer packets "
					"(XDP_USE_SG) - open it with sg=true",
			 !e->o.sg && !(caps & RL_CAP_ZEROCOPY) ? "; " : "",
			 caps & RL_CAP_ZEROCOPY ? "" : "bound in copy mode: the kernel "
						      "copies every packet");
	return caps;
}

static const struct rl_engine_ops afxdp_ops = {
	.abi = RL_ENGINE_ABI,
	.name = "afxdp",
	.summary = "Linux AF_XDP sockets (libxdp): the kernel's real rings and UMEM",
	.options =
		"ifname=rl0         interface to bind (required; see `ringlab testbed up`)\n"
		"queue=0            RX/TX queue of that interface; queue=0,1: one socket each\n"
		"queues=1           bind queues 0..N-1, one socket each, one shared UMEM\n"
		"mode=auto          copy | zerocopy | auto (zerocopy, else copy)\n"
		"xdp=auto           where our XDP program runs: native | skb | auto\n"
		"sg=false           multi-buffer: packets over several frames (XDP_USE_SG)\n"
		"unaligned=false    a descriptor may cross frames (unaligned chunks)\n"
		"need_wakeup=true   kick only when the kernel asks (XDP_USE_NEED_WAKEUP)\n"
		"steer=all          all | PORT,PORT: UDP/TCP dst ports to take, rest to kernel\n"
		"fill_size=2048     fill ring slots (comp_size, rx_size, tx_size alike)\n"
		"tx_budget=0        copy mode: descriptors one sendto may send (Linux >= 6.17;\n"
		"                   0: the whole tx ring; older kernels: 32)",
	.caps = RL_CAP_ZEROCOPY | RL_CAP_SG | RL_CAP_WIRE | RL_CAP_UNALIGNED | RL_CAP_SHARED,
	.probe = afxdp_probe,
	.open = afxdp_open,
	.close = afxdp_close,
	.region = afxdp_region,
	.fill = afxdp_fill,
	.rx = afxdp_rx,
	.tx = afxdp_tx,
	.complete = afxdp_complete,
	.kick = afxdp_kick,
	.step = NULL,
	.rings = afxdp_rings,
	.stats = afxdp_stats,
	.ledger = afxdp_ledger,
	.get_region = afxdp_get_region,
	.caps_of = afxdp_caps_of,
	.queues = afxdp_queues,
};

__attribute__((visibility("default"))) const struct rl_engine_ops *ringlab_engine(void)
{
	return &afxdp_ops;
}
