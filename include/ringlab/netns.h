/*
 * netns.h - the name of the network namespace this process runs in.
 *
 * ringlab runs inside a testbed's namespace (--netns NAME, ip netns exec):
 * the prompt names the peer side (X-lab -> X-peer) and an error names the
 * ip command for another terminal (ip -n NAME ...) from it.
 */
#ifndef RINGLAB_NETNS_H
#define RINGLAB_NETNS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The name in /var/run/netns (as `ip netns` lists them) of the network
 * namespace this process is in, into out (len bytes); "" and 0 when it has
 * none there (the machine's own, or one made without ip netns), 1 when
 * found. */
int rl_netns_name(char *out, size_t len);

#ifdef __cplusplus
}
#endif

#endif
