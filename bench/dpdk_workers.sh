#!/bin/sh
# dpdk_workers.sh - the dpdk engine's workers (e:workers): 1 worker against
# 2, each a C loop on its own lcore, on net_null0 with queues=2 (issue
# 14.3). No hugepages, no root needed beyond what DPDK's --no-huge wants.
#
#   bench/dpdk_workers.sh [build-dir] [seconds] [rounds] [loops...]
#
# loops: txonly rxdrop fwd (default all). net_null frees what it is sent
# and "receives" by taking mbufs from the pool, so each figure is the cost
# of the loop itself and of ringlab's mempool driver: with 2 workers it
# takes a spinlock around every get and put that misses the lcore's mempool
# cache (dpdk.md: A worker per lcore). The 2 workers run on the 2 CPUs of
# this machine, which other work shares: the scaling factor is what one
# shared 2-core VM gives. Runs by hand, not in ctest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-2}
rounds=${3:-3}
[ $# -ge 3 ] && shift 3 || shift $#
RINGLAB=$build/shell/ringlab
for f in "$RINGLAB" "$build/engines/ringlab-engine-dpdk.so"; do
	[ -e "$f" ] || { echo "missing $f - build first (cmake --build $build)"; exit 1; }
done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
"$RINGLAB" "$here/dpdk_workers.lua" "$secs" "$rounds" "$@"
