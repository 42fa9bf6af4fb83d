/*
 * loader.c - find the engines this ringlab can use.
 *
 * Built-in engines come first (the simulator is linked into the program).
 * Then every shared object called ringlab-engine-NAME.so found, in order,
 * in the directories of $RINGLAB_ENGINE_PATH (colon-separated), the build
 * tree's engine directory - only when this program is the one in that
 * build tree (/proc/self/exe under it): an installed ringlab never looks
 * into the directory it was built in - and the install directory; the
 * first one found for a name wins.
 *
 * Loading a shared object runs its code (its constructors), so:
 *   - a file (and its directory) must be owned by root or by the user
 *     running ringlab and writable by no one else (group/other); anything
 *     else is refused with one line saying why, and not loaded;
 *   - listing (lab.engines(), `engines`) loads only the engines this
 *     ringlab knows by name (KNOWN); another ringlab-engine-NAME.so is
 *     listed by name and loaded only when lab.open("NAME") asks for it.
 * A loaded one is opened with dlopen(RTLD_NOW | RTLD_LOCAL), asked for its
 * ops table through RL_ENGINE_SYMBOL and checked for the ABI version; then
 * its probe() says whether it can open here (root, a NIC).
 * Handles are never closed: engines may be in use until the program ends.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shell.h"
#include "sim.h"

#define PREFIX "ringlab-engine-"
#define SUFFIX ".so"

static bool known(const struct lab_engine_entry *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

static void probe(struct lab_engine_entry *ent)
{
	struct rl_err err;

	rl_err_clear(&err);
	ent->available = true;
	if (ent->ops->probe && ent->ops->probe(&err) < 0) {
		ent->available = false;
		snprintf(ent->why, sizeof(ent->why), "%s",
		         err.msg[0] ? err.msg : "its probe failed without saying why");
	}
}

/* The engines built with ringlab: listing loads these, and only these. */
static const char *const KNOWN[] = {"afxdp", "dpdk"};

static bool is_known(const char *name)
{
	for (size_t i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); i++)
		if (!strcmp(KNOWN[i], name))
			return true;
	return false;
}

/* 0 when path may be loaded: owned by root or by us, writable by no one
 * else; else -1 and why says what is wrong and what to do. */
static int trusted(const char *path, const char *what, char *why, size_t n)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(why, n, "cannot look at %s %s (%s)", what, path, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != getuid()) {
		snprintf(why, n,
		         "refused: %s %s belongs to uid %u, neither root nor you - "
		         "only load engines you or root installed",
		         what, path, (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, n,
		         "refused: %s %s is writable by %s (mode %04o) - chmod go-w it",
		         what, path, st.st_mode & S_IWOTH ? "everyone" : "its group",
		         (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static void load(struct lab_engine_entry *ent, const char *dir)
{
	void *h;
	rl_engine_entry_fn fn;

	if (trusted(dir, "the engine directory", ent->why, sizeof(ent->why)) < 0 ||
	    trusted(ent->path, "the engine file", ent->why, sizeof(ent->why)) < 0)
		return;
	h = dlopen(ent->path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(ent->why, sizeof(ent->why),
		         "cannot load %s (%s) - install the libraries it needs",
		         ent->path, dlerror());
		return;
	}
	fn = (rl_engine_entry_fn)dlsym(h, RL_ENGINE_SYMBOL);
	if (!fn) {
		snprintf(ent->why, sizeof(ent->why),
		         "%s has no %s symbol - it is not a ringlab engine", ent->path,
		         RL_ENGINE_SYMBOL);
		return;
	}
	ent->ops = fn();
	if (!ent->ops || ent->ops->abi != RL_ENGINE_ABI) {
		snprintf(ent->why, sizeof(ent->why),
		         "%s speaks engine ABI %u, this ringlab speaks %u - rebuild the "
		         "engine",
		         ent->path, ent->ops ? ent->ops->abi : 0, RL_ENGINE_ABI);
		ent->ops = NULL;
		return;
	}
	probe(ent);
}

/* want: only the engine of that name (NULL: all). Loading an engine runs
 * its probe, which may be slow (DPDK starts its EAL in a child), so
 * lab.open() loads just the one it asks for. */
static int scan_dir(const char *dir, struct lab_engine_entry *v, int n, int max,
		    const char *want)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return n;
	while ((de = readdir(d)) != NULL && n < max) {
		size_t len = strlen(de->d_name), pl = strlen(PREFIX), sl = strlen(SUFFIX);
		char name[32];

		if (len <= pl + sl || strncmp(de->d_name, PREFIX, pl) != 0 ||
		    strcmp(de->d_name + len - sl, SUFFIX) != 0 ||
		    len - pl - sl >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - pl - sl),
		         de->d_name + pl);
		if (known(v, n, name) || (want && strcmp(name, want) != 0))
			continue;
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].name, sizeof(v[n].name), "%s", name);
		snprintf(v[n].path, sizeof(v[n].path), "%s/%s", dir, de->d_name);
		if (want || is_known(name))
			load(&v[n], dir);
		else /* listed by name: its code runs only if asked for */
			snprintf(v[n].why, sizeof(v[n].why),
			         "not loaded just to list it: an engine file this ringlab "
			         "does not know - open %s (lab.open(\"%s\")) loads it",
			         name, name);
		n++;
	}
	closedir(d);
	return n;
}

static int scan_path(const char *path, struct lab_engine_entry *v, int n, int max,
		     const char *want)
{
	char *copy, *dir, *save = NULL;

	if (!path || !*path)
		return n;
	copy = strdup(path);
	if (!copy)
		return n;
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
		n = scan_dir(dir, v, n, max, want);
	free(copy);
	return n;
}

/* This program is the one built in the build tree (its engines beside
 * it), not an installed copy: /proc/self/exe lies under the directory
 * that holds RINGLAB_ENGINE_BUILD_DIR. */
static bool in_build_tree(void)
{
	char exe[4096], root[sizeof(RINGLAB_ENGINE_BUILD_DIR)];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	size_t rl;

	if (len <= 0)
		return false;
	exe[len] = 0;
	snprintf(root, sizeof(root), "%s", RINGLAB_ENGINE_BUILD_DIR);
	slash = strrchr(root, '/');
	if (!slash || slash == root)
		return false;
	*slash = 0; /* the build directory */
	rl = strlen(root);
	return strncmp(exe, root, rl) == 0 && exe[rl] == '/';
}

static int list(struct lab_engine_entry *v, int max, const char *want)
{
	int n = 0;

	if (max < 1)
		return 0;
	memset(&v[0], 0, sizeof(v[0]));
	v[0].ops = rl_sim_engine();
	snprintf(v[0].name, sizeof(v[0].name), "%s", v[0].ops->name);
	probe(&v[0]);
	n = 1;
	n = scan_path(getenv("RINGLAB_ENGINE_PATH"), v, n, max, want);
	if (in_build_tree())
		n = scan_dir(RINGLAB_ENGINE_BUILD_DIR, v, n, max, want);
	n = scan_dir(RINGLAB_ENGINE_INSTALL_DIR, v, n, max, want);
	return n;
}

int loader_list(struct lab_engine_entry *v, int max)
{
	return list(v, max, NULL);
}

int loader_find(const char *name, struct lab_engine_entry *out)
{
	struct lab_engine_entry v[LAB_ENGINES_MAX];
	int n = list(v, LAB_ENGINES_MAX, name);
	size_t used = 0;

	for (int i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0) {
			*out = v[i];
			return 0;
		}
	}
	/* Not found: name every engine there is (this loads them all). */
	n = loader_list(v, LAB_ENGINES_MAX);
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n && used < sizeof(out->why); i++)
		used += snprintf(out->why + used, sizeof(out->why) - used, "%s%s",
		                 i ? ", " : "", v[i].name);
	return -ENOENT;
}
