#!/bin/sh
# kernel.sh - the kernel's own send paths (lab.kernel.send: write, writev,
# sendfile, splice, vmsplice, msg_zerocopy, udp, udp_gso) over a testbed
# veth in one run: MiB/s and CPU-seconds per GiB, with ratios against
# `write` measured in the same run.
#
#   sudo bench/kernel.sh [build-dir] [MiB] [rounds]     (defaults: build 64 3)
#
# Each path sends a body of MiB mebibytes from rlkb-lab to the Linux stack
# in rlkb-peer (one TCP connection per send; udp/udp_gso: datagrams), the
# peer checks its sha256; only rounds whose body arrived intact count (UDP
# over a veth may drop under load - the line says how many were intact).
# Per path: the best of `rounds` by MiB/s, the CPU-s/GiB of that round, and
# the lowest CPU-s/GiB of all rounds. CPU is getrusage of the sending
# process only (docs/kernel.md): on a veth the receive softirq work is
# often charged to the sender too, so it is an upper bound of the send
# side's cost. "x write": MiB/s over write's; "CPU/write": min CPU-s/GiB
# over write's (below 1: cheaper than write).
#
# Then the lab's own strategies (copy, reuse, born, sg, extbuf, gso, tso)
# over AF_XDP (copy mode: veth has no zero-copy) on the same veth
# (bench/kernel_afxdp.lua): the lab's userspace TCP in Lua POSTs a body of
# AFXDP_MIB (default 4: born/sg/gso keep the whole body in the region) to
# tests/net/http_sha_server.py in the peer namespace, with the peer's TSO/GSO
# off as in scripts/strategies_by_engine.lua. Its MiB/s includes the
# connection and the HTTP answer, its CPU is the whole ringlab process: a
# different program (one Lua loop, the lab's TCP) from the kernel's, so the
# ratios say what the whole path costs, not the strategy alone.
#
# Makes and always removes testbed "rlkb". Runs by hand as root, not in ctest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
mib=${2:-64}
rounds=${3:-3}
afxdp_mib=${AFXDP_MIB:-4}
RINGLAB=$build/shell/ringlab
NAME=rlkb
TMP=$(mktemp -d)

[ "$(id -u)" = 0 ] || { echo "kernel.sh needs root (namespaces, setns)"; exit 1; }
[ -e "$RINGLAB" ] || { echo "missing $RINGLAB - build first (cmake --build $build)"; exit 1; }
case "$mib" in ''|*[!0-9]*) echo "kernel.sh: MiB is a whole number, e.g. 64"; exit 1;; esac

SRV=
tb_down() { "$RINGLAB" testbed down name=$NAME force=true >/dev/null 2>&1; }
down() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
	tb_down
	rm -rf "$TMP"
}
trap down EXIT
trap 'exit 130' INT TERM
tb_down
"$RINGLAB" testbed up name=$NAME >/dev/null || exit 1

echo "== kernel send paths, $mib MiB body, best of $rounds, testbed veth ${NAME}0 -> ${NAME}1"
echo "   $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$RINGLAB" "$here/kernel.lua" $NAME $((mib * 1048576)) "$rounds" "$TMP/write" $((afxdp_mib * 1048576))
[ -s "$TMP/write" ] || { echo "no write baseline - the AF_XDP part is skipped"; exit 1; }
read -r w_mibs w_cpu sha <"$TMP/write"
echo "== the lab's strategies over AF_XDP (copy mode) on ${NAME}0, $afxdp_mib MiB POSTed by the lab's TCP, best of $rounds"
echo "   (ratios against the kernel's write above; see the header: a different, whole path)"
ip netns exec $NAME-peer ethtool -K ${NAME}1 tso off gso off >/dev/null 2>&1
ip netns exec $NAME-peer python3 "$here/../tests/net/http_sha_server.py" 198.18.0.2 8080 "$TMP/ready" 600 \
	>/dev/null 2>&1 &
SRV=$!
i=0
while [ ! -e "$TMP/ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$RINGLAB" --netns $NAME-lab "$here/kernel_afxdp.lua" ${NAME}0 $((afxdp_mib * 1048576)) "$rounds" \
	"$w_mibs" "$w_cpu" "$sha"
