#!/bin/sh
# afxdp.sh - the AF_XDP benchmark: ringlab's C path, a ringlab Lua loop and
# dpdk-testpmd (net_af_xdp), on the same testbed veth in the same run.
#
#   sudo bench/afxdp.sh [build-dir] [seconds]
#
# txonly: each sender transmits 64-byte UDP frames on rlbench0 (lab side)
#         to a MAC nobody has, so the peer's kernel drops them at once.
# rxdrop: a traffic generator on the peer side - bench_afxdp_pps txonly,
#         an AF_XDP sender through ringlab's engine on rlbench1 - floods
#         rlbench0 with 64-byte frames; each receiver takes and drops them
#         (testpmd: --forward-mode=rxonly). The generator's own rate is
#         printed: no receiver can count more than it sends.
# Every ringlab run uses mode=copy (veth has no zero-copy); testpmd runs
# with its defaults (--no-huge -m 512 --no-pci, two lcores). Prints Mpps and
# the ratios C/testpmd and Lua/testpmd. Makes and always removes testbed
# "rlbench". Runs by hand, not in ctest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-3}
RINGLAB=$build/shell/ringlab
ENGINE=$build/engines/ringlab-engine-afxdp.so
PPS=$build/bench/bench_afxdp_pps
NAME=rlbench LAB=rlbench-lab PEER=rlbench-peer
TMP=$(mktemp -d)

[ "$(id -u)" = 0 ] || { echo "afxdp.sh needs root (AF_XDP, namespaces)"; exit 1; }
for f in "$RINGLAB" "$ENGINE" "$PPS"; do
	[ -e "$f" ] || { echo "missing $f - build first (cmake --build $build)"; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd not found (apt install dpdk)"; exit 1; }

down() {
	[ -n "${GEN:-}" ] && kill "$GEN" 2>/dev/null && wait "$GEN" 2>/dev/null
	"$RINGLAB" testbed down name=$NAME force=true >/dev/null
	rm -rf "$TMP"
}
trap down EXIT
trap 'exit 130' INT TERM
"$RINGLAB" testbed down name=$NAME force=true >/dev/null 2>&1
"$RINGLAB" testbed up name=$NAME >/dev/null || exit 1
LAB_MAC=$(ip -n $LAB -o link show dev ${NAME}0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

# testpmd MODE: the mean of its per-second Tx-pps (txonly) or Rx-pps
# (rxonly), leaving out the first two seconds (start-up).
testpmd() {
	key=$([ "$1" = txonly ] && echo Tx-pps || echo Rx-pps)
	timeout -s INT $((secs + 7)) ip netns exec $LAB dpdk-testpmd --no-huge -m 512 --no-pci \
		--file-prefix=rlbench -l 0-1 --vdev net_af_xdp0,iface=${NAME}0 -- \
		--forward-mode="$1" --txpkts=64 --stats-period=1 --total-num-mbufs=16384 \
		>"$TMP/testpmd.log" 2>&1
	grep -o "$key: *[0-9]*" "$TMP/testpmd.log" | awk -v m="$1" '
		{ n++; if (n > 2) { s += $2; k++ } }
		END { if (k) printf "dpdk-testpmd %s (net_af_xdp): %.3f Mpps (mean of %d 1-s samples)\n", m, s / k / 1e6, k
		      else print "dpdk-testpmd " m ": no figures (see its log)" }'
}

c_path() { ip netns exec $LAB "$PPS" "$ENGINE" "$1" ${NAME}0 "$secs" mode=copy steer=all; }
lua_path() { "$RINGLAB" --netns $LAB "$here/afxdp_pps.lua" "$1" ${NAME}0 "$secs" mode=copy steer=all; }

# The peer-side flood for rxdrop, for the receiver's whole run.
generator() {
	ip netns exec $PEER "$PPS" "$ENGINE" txonly ${NAME}1 "$1" mode=copy \
		dst_mac="$LAB_MAC" src_ip=198.18.0.2 dst_ip=198.18.0.1 dst_port=9000 \
		>"$TMP/gen.log" 2>&1 &
	GEN=$!
	sleep 0.5
}

gen_done() {
	wait "$GEN"; GEN=
	sed 's/^afxdp C txonly/  traffic: generator (ringlab C, AF_XDP txonly on the peer veth)/' "$TMP/gen.log"
}

echo "== txonly, 64-byte frames, ${secs} s each, on ${NAME}0"
{ c_path txonly; lua_path txonly; testpmd txonly; } | tee "$TMP/tx"
echo "== rxdrop, 64-byte frames, ${secs} s each, on ${NAME}0"
generator $((secs + 1)); c_path rxdrop >>"$TMP/rx"; gen_done >>"$TMP/rx"
generator $((secs + 1)); lua_path rxdrop >>"$TMP/rx"; gen_done >>"$TMP/rx"
generator $((secs + 8)); testpmd rxonly >>"$TMP/rx"; gen_done >>"$TMP/rx"
cat "$TMP/rx"

awk '
	FILENAME ~ /tx$/ && /afxdp C/ { ct = $(4) } FILENAME ~ /tx$/ && /afxdp Lua/ { lt = $(4) }
	FILENAME ~ /tx$/ && /dpdk-testpmd/ { dt = $(4) }
	FILENAME ~ /rx$/ && /afxdp C/ { cr = $(4) } FILENAME ~ /rx$/ && /afxdp Lua/ { lr = $(4) }
	FILENAME ~ /rx$/ && /dpdk-testpmd/ { dr = $(4) }
	END {
		printf "== ratios (targets: C >= 1.5x testpmd, Lua >= 1.2x)\n"
		if (dt > 0) printf "  txonly  C/testpmd %.2f   Lua/testpmd %.2f\n", ct / dt, lt / dt
		if (dr > 0) printf "  rxdrop  C/testpmd %.2f   Lua/testpmd %.2f\n", cr / dr, lr / dr
	}' "$TMP/tx" "$TMP/rx"
