/*
 * netns.c - the name of the network namespace this process runs in: the
 * entry of /var/run/netns that is the same namespace file as
 * /proc/self/ns/net (same device and inode). See ringlab/netns.h.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ringlab/netns.h"

int rl_netns_name(char *out, size_t len)
{
	struct stat self, st;
	struct dirent *d;
	DIR *dir;
	int found = 0;

	if (len)
		out[0] = '\0';
	if (stat("/proc/self/ns/net", &self) < 0 || !(dir = opendir("/var/run/netns")))
		return 0;
	while (!found && (d = readdir(dir))) {
		char path[300];

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/var/run/netns/%s", d->d_name);
		if (stat(path, &st) == 0 && st.st_ino == self.st_ino &&
		    st.st_dev == self.st_dev) {
			snprintf(out, len, "%s", d->d_name);
			found = 1;
		}
	}
	closedir(dir);
	return found;
}
