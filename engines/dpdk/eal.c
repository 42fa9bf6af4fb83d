/*
 * eal.c - starting DPDK's Environment Abstraction Layer, once, and plugging
 * virtual devices into it.
 *
 * Every DPDK program starts with rte_eal_init(argc, argv): it reserves
 * memory, starts the lcore threads and probes the buses. It can run only
 * once per process (a second call, even after a failure, says EALREADY),
 * so the first lab.open("dpdk") starts it with that open's mem=, lcores=
 * and log=, and later opens reuse it. ringlab always starts it without
 * hugepages (--no-huge: plain anonymous memory), without the PCI bus
 * (--no-pci: never touch the machine's NICs), without shared config files
 * (--no-shconf) and with a file prefix of its own, so that any number of
 * ringlab processes (and tests) can run side by side.
 *
 * Devices are not given to rte_eal_init: an unknown --vdev would make the
 * whole EAL fail for the rest of the process. Every vdev is hot-plugged
 * with rte_dev_probe() instead, after the EAL runs, so a typo is a clear
 * error for that one lab.open and the next one can try again. The engine
 * unplugs the vdevs it plugged when it closes.
 *
 * rte_eal_init pins the calling thread to the first lcore; we put the
 * thread's CPU affinity back afterwards: the shell is not a datapath.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include <ringlab/cleanup.h>

#include "dpdk.h"

#define VDEV_HINT "e.g. vdev=\"net_ring0\", \"net_null0\" or \"net_af_packet0,iface=veth0\""

static struct {
	bool started;
	int failed;           /* errno of a failed start: DPDK cannot retry */
	char why[RL_ERR_MSG_MAX];
	struct dpdk_opts used; /* options the running EAL started with */
	bool port_taken[RTE_MAX_ETHPORTS];
} eal;

/* ---- DPDK's own log ------------------------------------------------------ *
 *
 * DPDK logs through a stdio stream (by default to stderr and syslog). Its
 * lines come here instead: kept, the last DLOG_LINES of them, so that an
 * error can quote what the driver said ("ioctl failed (SIOCGIFINDEX): No
 * such device") instead of a bare errno, and a student's screen shows one
 * clear sentence rather than a burst of EAL lines. With log= given on the
 * first open they are printed to stderr as well. */
#define DLOG_LINES 16
#define DLOG_LEN 200

static struct {
	char line[DLOG_LINES][DLOG_LEN];
	uint64_t n;             /* lines ever kept; line[i % DLOG_LINES] */
	char part[DLOG_LEN];    /* the line being written */
	size_t plen;
	bool echo;
} dlog;

static ssize_t dlog_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	if (dlog.echo)
		fwrite(buf, 1, len, stderr);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (dlog.plen < DLOG_LEN - 1)
				dlog.part[dlog.plen++] = buf[i];
			continue;
		}
		while (dlog.plen && (dlog.part[dlog.plen - 1] == ' ' || dlog.part[dlog.plen - 1] == '\r'))
			dlog.plen--;
		dlog.part[dlog.plen] = '\0';
		if (dlog.plen)
			memcpy(dlog.line[dlog.n++ % DLOG_LINES], dlog.part, dlog.plen + 1);
		dlog.plen = 0;
	}
	return (ssize_t)len;
}

static void dlog_open(bool echo)
{
	static FILE *f;
	cookie_io_functions_t io = {.write = dlog_write};

	dlog.echo = echo;
	if (!f)
		f = fopencookie(NULL, "w", io);
	if (f) {
		setvbuf(f, NULL, _IOLBF, 0);
		rte_openlog_stream(f);
	}
}

uint64_t dpdk_log_mark(void)
{
	return dlog.n;
}

/* The most telling line DPDK logged since mark: the first from a driver
 * (not "EAL:"), else the first; its "function(): " prefix cut. NULL if
 * it said nothing (or what it said has been pushed out since). */
const char *dpdk_log_said(uint64_t mark)
{
	const char *pick = NULL;

	if (dlog.n - mark > DLOG_LINES)
		mark = dlog.n - DLOG_LINES;
	for (uint64_t i = mark; i < dlog.n; i++) {
		const char *l = dlog.line[i % DLOG_LINES];
		const char *cut = strstr(l, "(): ");

		if (cut && !memchr(l, ' ', (size_t)(cut - l)))
			l = cut + 4;
		if (!pick)
			pick = l;
		if (strncmp(dlog.line[i % DLOG_LINES], "EAL:", 4) != 0)
			return l;
	}
	return pick;
}

/* rte_eal_init keeps pointers into argv: the strings live here. */
static char eal_argbuf[8][80];

static int eal_args(const struct dpdk_opts *o, char **argv)
{
	int n = 0;

	argv[n++] = "ringlab";
	argv[n++] = "--no-huge";
	argv[n++] = "--no-pci";
	argv[n++] = "--no-shconf";
	argv[n++] = "--no-telemetry";
	snprintf(eal_argbuf[0], sizeof(eal_argbuf[0]), "-m%u", o->mem);
	argv[n++] = eal_argbuf[0];
	snprintf(eal_argbuf[1], sizeof(eal_argbuf[1]), "--file-prefix=ringlab-%d",
		 (int)getpid());
	argv[n++] = eal_argbuf[1];
	snprintf(eal_argbuf[2], sizeof(eal_argbuf[2]), "-l%s", o->lcores);
	argv[n++] = eal_argbuf[2];
	snprintf(eal_argbuf[3], sizeof(eal_argbuf[3]), "--log-level=%s", o->log);
	argv[n++] = eal_argbuf[3];
	argv[n] = NULL;
	return n;
}

static void register_pool_ops(void);

/* --no-shconf still makes an (empty) runtime directory,
 * /var/run/dpdk/ringlab-<pid>: remove it when the process ends. */
static void runtime_dir_remove(void)
{
	rmdir(rte_eal_get_runtime_dir());
}

/* A ringlab killed with SIGKILL (no atexit) leaves its empty runtime
 * directory, ringlab-<pid> in DPDK's runtime base (/var/run/dpdk as root,
 * else $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk). Before starting, remove those
 * whose process is gone: only empty directories (rmdir), only ringlab-<n>
 * names, and never one whose pid is alive (kill(pid, 0) says so). */
static void stale_runtime_dirs_remove(void)
{
	const char *base = "/var/run", *x = getenv("XDG_RUNTIME_DIR");
	char dir[512], path[1024];
	struct dirent *de;
	DIR *d;

	if (geteuid() != 0)
		base = x && *x ? x : "/tmp";
	snprintf(dir, sizeof(dir), "%s/dpdk", base);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(de->d_name, "ringlab-", 8) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + 8, &end, 10);
		if (errno || *end || end == de->d_name + 8 || pid <= 0 || pid > INT32_MAX ||
		    pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rmdir(path);
	}
	closedir(d);
}

static int eal_init(const struct dpdk_opts *o)
{
	char *argv[16];
	int argc = eal_args(o, argv);
	cpu_set_t cpus;
	bool have_cpus;
	int rc, out, null;

	have_cpus = pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus) == 0;
	stale_runtime_dirs_remove();
	register_pool_ops();
	dlog_open(o->log_echo);
	fflush(stdout);
	out = dup(1);
	null = open("/dev/null", O_WRONLY);
	if (out >= 0 && null >= 0)
		dup2(null, 1); /* EAL prints its whole usage text on a bad option */
	rc = rte_eal_init(argc, argv);
	fflush(stdout);
	if (out >= 0 && null >= 0)
		dup2(out, 1);
	if (out >= 0)
		close(out);
	if (null >= 0)
		close(null);
	if (have_cpus)
		pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (rc >= 0) {
		atexit(runtime_dir_remove);
		/* and if a second signal ends the process at once (no atexit):
		 * shell/signals.c removes it from the handler */
		rl_cleanup_rmdir_add(rte_eal_get_runtime_dir());
	}
	return rc < 0 ? -(rte_errno ? rte_errno : EINVAL) : 0;
}

int dpdk_eal_start(const struct dpdk_opts *o, struct rl_err *err)
{
	uint64_t mark = dpdk_log_mark();
	const char *said;
	int rc;

	if (eal.started)
		return 0;
	if (eal.failed)
		return rl_err_set(err, eal.failed, "%s", eal.why);
	rc = eal_init(o);
	if (rc == 0) {
		eal.started = true;
		eal.used = *o;
		return 0;
	}
	eal.failed = -rc;
	said = dpdk_log_said(mark);
	snprintf(eal.why, sizeof(eal.why),
		 "DPDK's EAL did not start (%s) with mem=%u lcores=%s - it cannot be "
		 "retried in this process: check mem= (free memory), lcores= (CPUs "
		 "that exist) and restart ringlab",
		 said ? said : rte_strerror(-rc), o->mem, o->lcores);
	return rl_err_set(err, -rc, "%s", eal.why);
}

/* Probe in a child process, so that asking whether DPDK works here does
 * not start it (with default options) in the shell itself. */
int dpdk_eal_probe(struct rl_err *err)
{
	static int cached = 1; /* 1: not probed yet */
	static char why[RL_ERR_MSG_MAX];
	struct dpdk_opts o = {.mem = 256, .lcores = "0", .log = "emergency"};
	int fds[2], status = 0;
	pid_t pid;

	if (eal.started)
		return 0;
	if (eal.failed)
		return rl_err_set(err, eal.failed, "%s", eal.why);
	if (cached <= 0)
		return cached ? rl_err_set(err, -cached, "%s", why) : 0;
	if (pipe(fds) < 0)
		return rl_err_set(err, errno, "cannot probe DPDK: pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		int rc;

		if (null >= 0)
			dup2(null, 2);
		close(fds[0]);
		rc = eal_init(&o);
		runtime_dir_remove(); /* _exit runs no atexit handlers */
		if (rc < 0 && write(fds[1], rte_strerror(-rc), strlen(rte_strerror(-rc))) < 0)
			_exit(2);
		_exit(rc < 0 ? 1 : 0);
	}
	close(fds[1]);
	memset(why, 0, sizeof(why));
	if (pid > 0) {
		char msg[160] = "";
		ssize_t k = read(fds[0], msg, sizeof(msg) - 1);

		msg[k > 0 ? k : 0] = '\0';
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			snprintf(why, sizeof(why),
				 "DPDK's EAL cannot start here (%s) - it needs about 256 MB of "
				 "memory and /proc, /sys; run ringlab as root",
				 msg[0] ? msg : "it crashed");
	} else {
		snprintf(why, sizeof(why), "cannot probe DPDK: fork: %s", strerror(errno));
	}
	close(fds[0]);
	cached = why[0] ? -EPERM : 0;
	return cached ? rl_err_set(err, EPERM, "%s", why) : 0;
}

/* ---- the mempool driver of pool.c, registered before the EAL starts -- */

extern const struct rte_mempool_ops dpdk_pool_ops;

static void register_pool_ops(void)
{
	static bool done;

	if (!done && rte_mempool_ops_table.num_ops < RTE_MEMPOOL_MAX_OPS_IDX)
		rte_mempool_register_ops(&dpdk_pool_ops);
	done = true;
}

/* ---- vdevs ------------------------------------------------------------ */

static void vdev_name(const char *spec, char *name, size_t cap)
{
	size_t n = strcspn(spec, ",");

	if (n >= cap)
		n = cap - 1;
	memcpy(name, spec, n);
	name[n] = '\0';
}

static int port_of_device(const char *name, unsigned index)
{
	uint16_t p;

	RTE_ETH_FOREACH_DEV(p) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(p, &info) || !info.device)
			continue;
		if (strcmp(rte_dev_name(info.device), name) == 0 && index-- == 0)
			return p;
	}
	return -1;
}

/* The iface= of a PMD over a kernel interface (net_af_packet, net_af_xdp)
 * when no interface of that name is in this network namespace: the usual
 * slip is running outside the testbed's lab namespace. (net_tap's iface=
 * names the tap it makes.) */
static bool iface_missing(const char *name, const char *spec, char *ifname, size_t len)
{
	const char *at = strstr(spec, "iface=");
	size_t n;

	if (!at || (strncmp(name, "net_af_packet", 13) && strncmp(name, "net_af_xdp", 10)))
		return false;
	at += 6;
	n = strcspn(at, ",;");
	if (n == 0 || n >= len || n >= IF_NAMESIZE)
		return false;
	memcpy(ifname, at, n);
	ifname[n] = '\0';
	return if_nametoindex(ifname) == 0;
}

/* net_null reads its size=, copy= and no-rx= with strtoul and takes "abc"
 * as 0 (size=0 then fails much later, as "TX queue ... Cannot allocate
 * memory"): each must be a whole number, size= at least 1. */
static int null_args_ok(const char *spec, struct rl_err *err)
{
	const char *p = strchr(spec, ',');

	while (p && *p) {
		const char *k = p + 1, *eq = strchr(k, '='), *end = strchr(k, ',');
		size_t klen, vlen;

		if (!end)
			end = k + strlen(k);
		if (!eq || eq > end) {
			p = end;
			continue;
		}
		klen = (size_t)(eq - k);
		vlen = (size_t)(end - eq - 1);
		if ((klen == 4 && !strncmp(k, "size", 4)) || (klen == 4 && !strncmp(k, "copy", 4)) ||
		    (klen == 5 && !strncmp(k, "no-rx", 5))) {
			bool digits = vlen > 0 && vlen < 10 && strspn(eq + 1, "0123456789") >= vlen;

			if (!digits || (klen == 4 && k[0] == 's' && strtoul(eq + 1, NULL, 10) == 0))
				return rl_err_set(err, EINVAL,
						  "vdev \"%s\": %.*s=%.*s is not a %s - net_null "
						  "takes size=BYTES (e.g. size=64), copy=0|1, no-rx=0|1",
						  spec, (int)klen, k, (int)vlen, eq + 1,
						  k[0] == 's' ? "packet size (1 or more)" : "number");
		}
		p = end;
	}
	return 0;
}

static int plug_one(struct rl_engine *e, const char *spec, struct rl_err *err)
{
	char ifname[IF_NAMESIZE];
	const char *said;
	uint64_t mark;
	char name[64];
	int rc;

	vdev_name(spec, name, sizeof(name));
	if (!name[0])
		return rl_err_set(err, EINVAL, "vdev=\"%s\" names no device - " VDEV_HINT,
				  e->o.vdev);
	if (port_of_device(name, 0) >= 0)
		return 0; /* already plugged, by an earlier open */
	if (!strncmp(name, "net_null", 8) && null_args_ok(spec, err) < 0)
		return -EINVAL;
	if (iface_missing(name, spec, ifname, sizeof(ifname)))
		return rl_err_set(err, ENODEV, "vdev \"%s\": no interface named %s in this "
				  "network namespace - run ringlab where it is (`ringlab "
				  "testbed up`, then `ringlab --netns rl-lab`)", spec, ifname);
	mark = dpdk_log_mark();
	rc = rte_dev_probe(spec);
	said = dpdk_log_said(mark);
	if ((rc < 0 || port_of_device(name, 0) < 0) && rc != -EFAULT && said)
		return rl_err_set(err, rc == -ENODEV ? ENODEV : rc < 0 ? -rc : ENODEV,
				  "vdev \"%s\": DPDK could not create it - its driver said "
				  "\"%s\": check the device's arguments", spec, said);
	if (rc < 0 || port_of_device(name, 0) < 0)
		return rl_err_set(err, rc == -EFAULT || rc == -ENODEV ? ENODEV : -rc,
				  "vdev \"%s\": DPDK could not create it (%s) - check the driver "
				  "name and its arguments, " VDEV_HINT,
				  spec, rc == -EFAULT ? "no driver is called that" :
				  rte_strerror(rc < 0 ? -rc : ENODEV));
	if (e->nvdev_made < DPDK_MAX_VDEVS)
		snprintf(e->vdev_made[e->nvdev_made++], sizeof(e->vdev_made[0]), "%s", name);
	return 0;
}

/* The engine's port: the o.port-th port of its vdevs, in order. */
static int pick_port(struct rl_engine *e, struct rl_err *err)
{
	char buf[sizeof(e->o.vdev)], *save = NULL, *spec;
	unsigned k = 0;

	snprintf(buf, sizeof(buf), "%s", e->o.vdev);
	for (spec = strtok_r(buf, ";", &save); spec; spec = strtok_r(NULL, ";", &save)) {
		char name[64];
		int p;

		vdev_name(spec, name, sizeof(name));
		for (unsigned i = 0; (p = port_of_device(name, i)) >= 0; i++, k++) {
			if (k != e->o.port)
				continue;
			if (eal.port_taken[p])
				return rl_err_set(err, EBUSY,
						  "port %d (%s) is already driven by another open "
						  "dpdk engine - close it first, or use another vdev",
						  p, name);
			e->port = (uint16_t)p;
			snprintf(e->port_name, sizeof(e->port_name), "%s", name);
			eal.port_taken[p] = true;
			return 0;
		}
	}
	return rl_err_set(err, ENODEV, "port=%u: the vdevs \"%s\" have %u port(s) - use port=0..%u",
			  e->o.port, e->o.vdev, k, k ? k - 1 : 0);
}

/* A port made by the engine itself (peer.c), under a name of its own. */
int dpdk_port_claim(struct rl_engine *e, uint16_t port, const char *name,
		    struct rl_err *err)
{
	if (eal.port_taken[port])
		return rl_err_set(err, EBUSY, "port %u (%s) is driven by another engine",
				  port, name);
	eal.port_taken[port] = true;
	e->port = port;
	snprintf(e->port_name, sizeof(e->port_name), "%s", name);
	return 0;
}

int dpdk_vdevs_plug(struct rl_engine *e, struct rl_err *err)
{
	char buf[sizeof(e->o.vdev)], *save = NULL, *spec;
	int rc;

	if (!e->o.vdev[0])
		return rl_err_set(err, EINVAL, "the dpdk engine needs vdev= - " VDEV_HINT);
	snprintf(buf, sizeof(buf), "%s", e->o.vdev);
	for (spec = strtok_r(buf, ";", &save); spec; spec = strtok_r(NULL, ";", &save)) {
		rc = plug_one(e, spec, err);
		if (rc < 0) {
			dpdk_vdevs_unplug(e);
			return rc;
		}
	}
	rc = pick_port(e, err);
	if (rc < 0)
		dpdk_vdevs_unplug(e);
	return rc;
}

static bool device_in_use(const char *name)
{
	int p;

	for (unsigned i = 0; (p = port_of_device(name, i)) >= 0; i++)
		if (eal.port_taken[p])
			return true;
	return false;
}

static void unplug_unused(const char *name)
{
	if (name[0] && !device_in_use(name))
		rte_eal_hotplug_remove("vdev", name);
}

/* After the port is closed: give it back, and unplug the devices that no
 * open engine drives any more (a closed ethdev cannot be started again
 * without plugging its device anew). */
void dpdk_vdevs_unplug(struct rl_engine *e)
{
	char gone[sizeof(e->port_name)];

	if (e->port_name[0])
		eal.port_taken[e->port] = false;
	/* a port over rings (peer.c) is no hotplugged device: rte_eth_from_rings
	 * made it as the vdev net_ring_<name>, which closing the port leaves on
	 * the bus - and then the same name cannot be made again (peer= failed
	 * with EINVAL the second time in one process). Uninit that vdev. */
	if (!e->wire_tx) {
		unplug_unused(e->port_name);
	} else if (e->port_name[0]) {
		char vdev[sizeof(e->port_name) + 16];

		snprintf(vdev, sizeof(vdev), "net_ring_%s", e->port_name);
		rte_vdev_uninit(vdev);
	}
	memcpy(gone, e->port_name, sizeof(gone));
	e->port_name[0] = '\0';
	while (e->nvdev_made > 0) {
		const char *name = e->vdev_made[--e->nvdev_made];

		if (strcmp(name, gone) != 0) /* that one went just now */
			unplug_unused(name);
	}
}
