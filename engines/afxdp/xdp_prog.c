/*
 * xdp_prog.c - our XDP program: find it, attach it, point it at the socket.
 *
 * Frames reach an AF_XDP socket only when an XDP program on the interface
 * redirects them into an XSKMAP slot holding the socket. We ship our own
 * small program (xdp_steer.bpf.c, compiled with clang -target bpf when
 * ringlab is built and installed next to this .so), so that it can steer:
 * take every frame (steer=all) or only chosen UDP/TCP ports, and pass the
 * rest to the kernel. With sg=true we load its "xdp.frags" build, which
 * tells the kernel it may hand the program frames that span several
 * buffers.
 *
 * libxdp attaches it: natively in the driver when the driver can run XDP
 * (veth can), else in generic "skb" mode after the kernel built an skb.
 * Without a bpffs (as under `ip netns exec`) libxdp attaches the single
 * program directly instead of through its multi-program dispatcher.
 *
 * libbpf and libxdp print warnings to stderr; an engine must not print, so
 * their messages are kept and the last one goes into our error messages.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "afxdp.h"
#include "ringlab/netns.h"

#define PROG_FILE "xdp_steer.bpf.o"
#define PROG_FILE_FRAGS "xdp_steer_frags.bpf.o"

static char lib_msg[256];

static void keep_msg(const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(lib_msg, sizeof(lib_msg), fmt, ap);
	n = strlen(lib_msg);
	while (n && (lib_msg[n - 1] == '\n' || lib_msg[n - 1] == ' '))
		lib_msg[--n] = '\0';
}

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_DEBUG)
		keep_msg(fmt, ap);
	return 0;
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBXDP_DEBUG)
		keep_msg(fmt, ap);
	return 0;
}

void afxdp_quiet_libs(void)
{
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
}

const char *afxdp_lib_msg(void)
{
	return lib_msg[0] ? lib_msg : "libxdp said nothing more";
}

/* The program lives next to this shared object. */
int afxdp_prog_path(bool frags, char *out, size_t cap, struct rl_err *err)
{
	Dl_info info;
	char so[480];

	if (!dladdr((void *)afxdp_prog_path, &info) || !info.dli_fname)
		return rl_err_set(err, ENOENT, "cannot tell where the afxdp engine was "
				  "loaded from, so cannot find its XDP program");
	snprintf(so, sizeof(so), "%s", info.dli_fname);
	snprintf(out, cap, "%s/%s", dirname(so), frags ? PROG_FILE_FRAGS : PROG_FILE);
	if (access(out, R_OK) < 0)
		return rl_err_set(err, ENOENT, "the XDP program %s is missing (%s) - it is "
				  "built and installed next to ringlab-engine-afxdp.so: rebuild or "
				  "reinstall ringlab", out, strerror(errno));
	return 0;
}

static const char *mode_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_NATIVE ? "native" : m == XDP_MODE_SKB ? "skb" : "?";
}

static int open_prog(struct rl_engine *e, struct rl_err *err)
{
	char path[512];
	long lerr;
	int rc;

	if ((rc = afxdp_prog_path(e->o.sg, path, sizeof(path), err)) < 0)
		return rc;
	e->prog = xdp_program__open_file(path, e->o.sg ? "xdp.frags" : "xdp", NULL);
	lerr = libxdp_get_error(e->prog);
	if (lerr) {
		e->prog = NULL;
		return rl_err_set(err, (int)-lerr, "cannot open the XDP program %s: %s - %s",
				  path, strerror((int)-lerr), afxdp_lib_msg());
	}
	if (e->o.sg)
		xdp_program__set_xdp_frags_support(e->prog, true);
	return 0;
}

/* One attach attempt in mode m; the program is reopened for each try. */
static int try_attach(struct rl_engine *e, enum xdp_attach_mode m, struct rl_err *err)
{
	int rc;

	if ((rc = open_prog(e, err)) < 0)
		return rc;
	rc = xdp_program__attach(e->prog, e->ifindex, m, 0);
	if (rc) {
		xdp_program__close(e->prog);
		e->prog = NULL;
		return rc;
	}
	e->prog_mode = m;
	return 0;
}

static int attach_error(struct rl_engine *e, int rc, struct rl_err *err)
{
	if (rc == -EEXIST || rc == -EBUSY) {
		/* A program a killed ringlab left stays until someone takes it
		 * off: say the ip command, for the mode it is attached in. */
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		char ns[256], where[300] = "";

		rl_netns_name(ns, sizeof(ns));
		if (ns[0])
			snprintf(where, sizeof(where), "-n %s ", ns);
		if (bpf_xdp_query(e->ifindex, 0, &q) < 0)
			q.attach_mode = XDP_ATTACHED_NONE;
		return rl_err_set(err, -rc, "%s already has an XDP program (another "
				  "ringlab's, or one a killed ringlab left) - quit that "
				  "ringlab, or take it off: ip %slink set dev %s %s off",
				  e->o.ifname, where, e->o.ifname,
				  q.attach_mode == XDP_ATTACHED_SKB ? "xdpgeneric" : "xdp");
	}
	return rl_err_set(err, -rc, "cannot attach the XDP program to %s: %s - %s",
			  e->o.ifname, strerror(-rc), afxdp_lib_msg());
}

static int find_maps(struct rl_engine *e, struct rl_err *err)
{
	struct bpf_object *obj = xdp_program__bpf_obj(e->prog);

	e->xsks_fd = bpf_object__find_map_fd_by_name(obj, "rl_xsks");
	e->cfg_fd = bpf_object__find_map_fd_by_name(obj, "rl_cfg");
	e->ports_fd = bpf_object__find_map_fd_by_name(obj, "rl_ports");
	e->counts_fd = bpf_object__find_map_fd_by_name(obj, "rl_counts");
	if (e->xsks_fd < 0 || e->cfg_fd < 0 || e->ports_fd < 0 || e->counts_fd < 0)
		return rl_err_set(err, ENOENT, "the XDP program lacks its maps (rl_xsks, "
				  "rl_cfg, rl_ports, rl_counts) - rebuild ringlab");
	return 0;
}

int afxdp_prog_attach(struct rl_engine *e, struct rl_err *err)
{
	int rc = -EINVAL, first = 0;

	if (e->o.xdp != AFXDP_XDP_SKB) {
		rc = try_attach(e, XDP_MODE_NATIVE, err);
		first = rc;
	}
	if (rc && rc != -EEXIST && rc != -EBUSY && e->o.xdp != AFXDP_XDP_NATIVE)
		rc = try_attach(e, XDP_MODE_SKB, err);
	if (rc)
		return attach_error(e, rc, err);
	if (e->o.xdp == AFXDP_XDP_AUTO && first)
		snprintf(e->xdp_why, sizeof(e->xdp_why), "skb (generic) XDP: the native "
			 "attach failed (%s)", strerror(-first));
	else
		snprintf(e->xdp_why, sizeof(e->xdp_why), "%s XDP on %s",
			 mode_name(e->prog_mode), e->o.ifname);
	return find_maps(e, err);
}

/* Put the socket into the XSKMAP slot of its queue, then say what to steer. */
int afxdp_prog_bind(struct rl_engine *e, struct rl_err *err)
{
	struct rl_steer_cfg cfg = { .all = e->o.steer_all };
	uint32_t zero = 0;
	uint8_t one = 1;
	int rc;

	rc = xsk_socket__update_xskmap(e->xsk, e->xsks_fd);
	if (rc)
		return rl_err_set(err, -rc, "cannot put the socket into the XDP program's "
				  "XSKMAP: %s", strerror(-rc));
	for (unsigned i = 0; i < e->o.nports; i++)
		if (bpf_map_update_elem(e->ports_fd, &e->o.ports[i], &one, BPF_ANY))
			return rl_err_set(err, errno, "cannot set steer port %u: %s",
					  e->o.ports[i], strerror(errno));
	if (bpf_map_update_elem(e->cfg_fd, &zero, &cfg, BPF_ANY))
		return rl_err_set(err, errno, "cannot configure the XDP program: %s",
				  strerror(errno));
	return 0;
}

void afxdp_prog_detach(struct rl_engine *e)
{
	if (!e->prog)
		return;
	/* Gone with its interface? Then there is nothing to detach from. */
	if (if_nametoindex(e->o.ifname) == (unsigned)e->ifindex)
		xdp_program__detach(e->prog, e->ifindex, e->prog_mode, 0);
	xdp_program__close(e->prog);
	e->prog = NULL;
	e->xsks_fd = e->cfg_fd = e->ports_fd = e->counts_fd = -1;
}

/* The program's per-CPU decision counters, summed. */
unsigned afxdp_prog_counts(struct rl_engine *e, struct rl_counter *c, unsigned max)
{
	static const char *names[RL_COUNT_MAX] = {
		[RL_COUNT_REDIRECTED] = "xdp_redirected",
		[RL_COUNT_PASSED] = "xdp_passed_to_kernel",
		[RL_COUNT_NO_SOCKET] = "xdp_no_socket",
	};
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;
	unsigned n = 0;

	if (!e->prog || e->counts_fd < 0 || ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	for (uint32_t k = 0; v && k < RL_COUNT_MAX && n < max; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(e->counts_fd, &k, v) == 0)
			for (int i = 0; i < ncpu; i++)
				sum += v[i];
		snprintf(c[n].name, sizeof(c[n].name), "%s", names[k]);
		c[n++].value = sum;
	}
	free(v);
	return n;
}
