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
 * libbpf loads it and attaches it through a BPF link (bpf_link_create,
 * BPF_XDP): natively in the driver when the driver can run XDP (veth can),
 * else in generic "skb" mode after the kernel built an skb. A link belongs
 * to the file descriptor that holds it: when the process's last descriptor
 * on it closes - e:close(), exit, or the process dying of anything, a
 * second Ctrl-C, SIGKILL, a crash - the kernel takes the program off the
 * interface. (Through netlink, as `ip link set ... xdp` and libxdp attach,
 * a program stays until someone removes it: a killed ringlab used to leave
 * it behind.)
 *
 * Before attaching (at open, and again if the attach finds the interface
 * taken), what is on the interface is looked at (afxdp_prog_clear_stale):
 *   ringlab's own program (by name) attached through netlink, with no
 *     process holding it: left by an older ringlab that was killed, or put
 *     there by hand - removed, with one line saying so (rl_note)
 *   any program held by a BPF link: a live process's - refused, naming the
 *     process (from the link_id: lines of /proc/PID/fdinfo)
 *   another program attached through netlink: refused, with the ip command
 *     that takes it off
 *
 * libbpf and libxdp print warnings to stderr; an engine must not print, so
 * their messages are kept and the last one goes into our error messages.
 * (libxdp is still used for the AF_XDP socket itself: umem.c.)
 */
#define _GNU_SOURCE /* dladdr */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
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

/* ---- what is on the interface already ------------------------------- */

struct holder {
	int pid; /* 0: none found */
	char comm[32];
};

/* Does the fdinfo file at path say "KEY:\tID" (a BPF link's link_id, a
 * program's or a link's prog_id)? */
static bool fdinfo_has(int dirfd, const char *name, const char *needle)
{
	char buf[2048];
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf + 1, sizeof(buf) - 2);
	close(fd);
	if (n <= 0)
		return false;
	buf[0] = '\n';
	buf[n + 1] = '\0';
	return strstr(buf, needle) != NULL;
}

/* The process holding a descriptor whose fdinfo says "KEY:\tID" - another
 * process rather than this one when both do. /proc/PID/fdinfo of every
 * process, no shell. */
static void find_holder(const char *key, uint32_t id, struct holder *h)
{
	char needle[48], path[64];
	struct dirent *de;
	DIR *proc = opendir("/proc");
	int self = (int)getpid();

	h->pid = 0;
	h->comm[0] = '\0';
	if (!proc)
		return;
	snprintf(needle, sizeof(needle), "\n%s:\t%u\n", key, id);
	while ((de = readdir(proc)) != NULL) {
		struct dirent *fe;
		DIR *fds;
		int pid = 0;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid <= 0 || (h->pid && pid == self))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds)) != NULL) {
			if (fe->d_name[0] == '.' || !fdinfo_has(dirfd(fds), fe->d_name, needle))
				continue;
			h->pid = pid;
			break;
		}
		closedir(fds);
		if (h->pid && h->pid != self)
			break;
	}
	closedir(proc);
	if (h->pid) {
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/comm", h->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, h->comm, sizeof(h->comm) - 1) : -1;
		if (fd >= 0)
			close(fd);
		h->comm[n > 0 ? n : 0] = '\0';
		if (n > 0 && h->comm[n - 1] == '\n')
			h->comm[n - 1] = '\0';
	}
}

/* The BPF link holding program prog_id on ifindex: its id, or 0 when the
 * program was attached through netlink. */
static uint32_t xdp_link_of(int ifindex, uint32_t prog_id)
{
	uint32_t id = 0;

	while (bpf_link_get_next_id(id, &id) == 0) {
		struct bpf_link_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);
		bool it;

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		it = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		     info.type == BPF_LINK_TYPE_XDP && info.prog_id == prog_id &&
		     info.xdp.ifindex == (uint32_t)ifindex;
		close(fd);
		if (it)
			return id;
	}
	return 0;
}

/* The name the kernel knows program id by ("" if it cannot say). */
static void prog_name(uint32_t id, char *out, size_t cap)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	out[0] = '\0';
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		snprintf(out, cap, "%s", info.name);
	close(fd);
}

static int refuse_held(struct rl_engine *e, uint32_t id, const char *name, bool ours,
		       uint32_t link, struct rl_err *err)
{
	struct holder h;

	find_holder("link_id", link, &h);
	if (h.pid == (int)getpid())
		return rl_err_set(err, EBUSY, "%s already has this ringlab's XDP program: "
				  "another afxdp engine here is open on it - close that "
				  "engine first (`engines` lists them)", e->o.ifname);
	if (h.pid)
		return rl_err_set(err, EBUSY, "%s already has %s XDP program (id %u), held "
				  "by a live process: pid %d (%s) - quit that %s first, then "
				  "open again", e->o.ifname, ours ? "ringlab's" : "an",
				  id, h.pid, h.comm, ours ? "ringlab" : "program");
	return rl_err_set(err, EBUSY, "%s already has an XDP program (%s, id %u) held by "
			  "BPF link %u, which no process has open (pinned in a BPF "
			  "filesystem?) - remove its pin, then open again", e->o.ifname,
			  name[0] ? name : "no name", id, link);
}

/* One program on the interface, attached in the mode of flag. */
static int clear_one(struct rl_engine *e, uint32_t id, uint32_t flag, struct rl_err *err)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	char name[32], ns[256], where[300] = "";
	uint32_t link;
	struct holder h;
	int fd, rc;

	prog_name(id, name, sizeof(name));
	link = xdp_link_of(e->ifindex, id);
	if (link)
		return refuse_held(e, id, name, !strcmp(name, RL_XDP_PROG_NAME), link, err);
	rl_netns_name(ns, sizeof(ns));
	if (ns[0])
		snprintf(where, sizeof(where), "-n %s ", ns);
	if (strcmp(name, RL_XDP_PROG_NAME) != 0)
		return rl_err_set(err, EEXIST, "%s already has an XDP program that is not "
				  "ringlab's (%s, id %u) - take it off if nothing needs it: ip "
				  "%slink set dev %s %s off", e->o.ifname, name[0] ? name : "no name",
				  id, where, e->o.ifname,
				  flag == XDP_FLAGS_SKB_MODE ? "xdpgeneric" : "xdp");
	/* Ours, attached the old way: stale unless a process (an older
	 * ringlab, alive) still holds the program. */
	find_holder("prog_id", id, &h);
	if (h.pid)
		return rl_err_set(err, EBUSY, "%s already has ringlab's XDP program (id %u), "
				  "held by a live process: pid %d (%s) - quit that ringlab "
				  "first, then open again", e->o.ifname, id, h.pid, h.comm);
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return 0; /* gone meanwhile */
	ao.old_prog_fd = fd; /* only this program: XDP_FLAGS_REPLACE */
	rc = bpf_xdp_detach(e->ifindex, flag, &ao);
	close(fd);
	if (rc < 0)
		return rl_err_set(err, -rc, "cannot remove the stale ringlab XDP program (id "
				  "%u) from %s: %s - take it off: ip %slink set dev %s %s off",
				  id, e->o.ifname, strerror(-rc), where, e->o.ifname,
				  flag == XDP_FLAGS_SKB_MODE ? "xdpgeneric" : "xdp");
	/* one line that fits 80 columns with rl0 */
	rl_note("removed a stale XDP program a killed ringlab left on %s (id %u)",
		e->o.ifname, id);
	return 1;
}

/* Look at what is on the interface: remove a stale ringlab program, refuse
 * a live one or another program (see the top of this file). Returns 0
 * (nothing there), 1 (removed one) or a negative errno with err filled. */
int afxdp_prog_clear_stale(struct rl_engine *e, struct rl_err *err)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int rc, removed = 0;

	if (bpf_xdp_query(e->ifindex, 0, &q) < 0 || q.attach_mode == XDP_ATTACHED_NONE)
		return 0; /* cannot tell: the attach will say */
	if (q.attach_mode == XDP_ATTACHED_HW || q.hw_prog_id)
		return rl_err_set(err, EEXIST, "%s already has an XDP program offloaded to "
				  "its NIC (id %u) - take it off first", e->o.ifname,
				  q.hw_prog_id ? q.hw_prog_id : q.prog_id);
	if (!q.drv_prog_id && !q.skb_prog_id) /* an older kernel: one id */
		*(q.attach_mode == XDP_ATTACHED_SKB ? &q.skb_prog_id : &q.drv_prog_id) = q.prog_id;
	if (q.drv_prog_id && (rc = clear_one(e, q.drv_prog_id, XDP_FLAGS_DRV_MODE, err)) != 0) {
		if (rc < 0)
			return rc;
		removed = 1;
	}
	if (q.skb_prog_id && (rc = clear_one(e, q.skb_prog_id, XDP_FLAGS_SKB_MODE, err)) != 0) {
		if (rc < 0)
			return rc;
		removed = 1;
	}
	return removed;
}

/* ---- attaching ---------------------------------------------------------- */

/* Open and load the program (not attached yet): its descriptor. */
static int load_prog(struct rl_engine *e, struct rl_err *err)
{
	struct bpf_program *p;
	char path[512];
	int rc;

	if ((rc = afxdp_prog_path(e->o.sg, path, sizeof(path), err)) < 0)
		return rc;
	e->prog_obj = bpf_object__open_file(path, NULL);
	if (!e->prog_obj) {
		rc = errno ? errno : EINVAL;
		return rl_err_set(err, rc, "cannot open the XDP program %s: %s - %s",
				  path, strerror(rc), afxdp_lib_msg());
	}
	p = bpf_object__find_program_by_name(e->prog_obj, RL_XDP_PROG_NAME);
	if (!p)
		return rl_err_set(err, ENOENT, "the XDP program %s has no %s - rebuild "
				  "ringlab", path, RL_XDP_PROG_NAME);
	/* SEC("xdp.frags") (sg=true) makes libbpf load it with
	 * BPF_F_XDP_HAS_FRAGS: it copes with multi-buffer frames. */
	rc = bpf_object__load(e->prog_obj);
	if (rc < 0)
		return rl_err_set(err, -rc, "cannot load the XDP program %s into the kernel: "
				  "%s - %s", path, strerror(-rc), afxdp_lib_msg());
	return bpf_program__fd(p);
}

/* One attach attempt in mode m: a BPF link of our own. */
static int try_attach(struct rl_engine *e, int prog_fd, enum xdp_attach_mode m)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo,
		    .flags = m == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
	int fd = bpf_link_create(prog_fd, e->ifindex, BPF_XDP, &lo);

	if (fd < 0)
		return fd < -1 ? fd : -errno;
	e->xdp_link = fd;
	e->prog_mode = m;
	return 0;
}

/* Native first (unless xdp=skb), then generic (unless xdp=native). */
static int attach_modes(struct rl_engine *e, int prog_fd, int *first)
{
	int rc = -EINVAL;

	*first = 0;
	if (e->o.xdp != AFXDP_XDP_SKB) {
		rc = try_attach(e, prog_fd, XDP_MODE_NATIVE);
		*first = rc;
	}
	if (rc && rc != -EEXIST && rc != -EBUSY && e->o.xdp != AFXDP_XDP_NATIVE)
		rc = try_attach(e, prog_fd, XDP_MODE_SKB);
	return rc;
}

static int attach_error(struct rl_engine *e, int rc, struct rl_err *err)
{
	if (rc == -EEXIST || rc == -EBUSY) {
		/* Taken, and afxdp_prog_clear_stale could not say by whom: say
		 * the ip command, for the mode it is attached in. */
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
	struct bpf_object *obj = e->prog_obj;

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
	int prog_fd, rc, first;

	if ((prog_fd = load_prog(e, err)) < 0)
		return prog_fd;
	rc = attach_modes(e, prog_fd, &first);
	if (rc == -EEXIST || rc == -EBUSY) {
		/* Taken since the open: by whom? A stale one is removed. */
		int c = afxdp_prog_clear_stale(e, err);

		if (c < 0)
			return c;
		if (c > 0)
			rc = attach_modes(e, prog_fd, &first);
	}
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

/* Put each socket into the XSKMAP slot of its queue (the program
 * redirects a frame to the slot of the RX queue it arrived on), then say
 * what to steer. */
int afxdp_prog_bind(struct rl_engine *e, struct rl_err *err)
{
	struct rl_steer_cfg cfg = { .all = e->o.steer_all };
	uint32_t zero = 0;
	uint8_t one = 1;
	int rc;

	for (unsigned k = 0; k < e->nsocks; k++) {
		rc = xsk_socket__update_xskmap(afxdp_xsk_of(e, k), e->xsks_fd);
		if (rc)
			return rl_err_set(err, -rc, "cannot put the socket of queue %u into "
					  "the XDP program's XSKMAP: %s", e->o.qids[k],
					  strerror(-rc));
	}
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
	if (e->xdp_link >= 0) {
		/* Off the interface even if a forked child still has a copy of
		 * the descriptor (an interface that went away took it off
		 * already: nothing to do then). */
		bpf_link_detach(e->xdp_link);
		close(e->xdp_link);
		e->xdp_link = -1;
	}
	if (e->prog_obj)
		bpf_object__close(e->prog_obj);
	e->prog_obj = NULL;
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

	if (!e->prog_obj || e->counts_fd < 0 || ncpu <= 0)
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
