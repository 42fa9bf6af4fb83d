#!/bin/sh
# queues.sh - AF_XDP receive on 1 queue against 2 queues, on the two cores
# here, measured in the same run (issue 14.3).
#
#   sudo bench/queues.sh [build-dir] [seconds] [rounds]
#
# The testbed "rlqbench" is made with queues=1, then queues=2 (veths with
# that many RX and TX queues). On the peer side two kernel UDP senders
# (bench_udp_flood, one flow each, 64-byte frames) run pinned to CPU 0 and
# CPU 1; with 2 queues, XPS maps CPU k to TX queue k, so each sender's
# frames arrive on the lab's RX queue k. On veth the receive side's work -
# our XDP program, the redirect and the copy into the UMEM - runs in the
# NAPI of that RX queue, on the sending CPU: with one queue it is all
# serialised in one NAPI instance, with two each queue's runs on its own
# CPU. The receivers take and drop what arrives: ringlab's C path
# (bench_afxdp_pps rxdrop queues=N, the engine's ops) and a ringlab Lua
# loop (queues_rx.lua: e:rx spread over the queues, release, fill).
#
# Three busy threads (two senders, one receiver) share two cores, so the
# figures are what one machine with two cores gives, not a NIC's. Each
# round measures 1 and 2 queues back to back; the scaling factor (2 queues
# / 1 queue) is taken per round, then the median over the rounds.
# Makes and always removes testbed "rlqbench". Runs by hand, not in ctest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-3}
rounds=${3:-3}
RINGLAB=$build/shell/ringlab
ENGINE=$build/engines/ringlab-engine-afxdp.so
PPS=$build/bench/bench_afxdp_pps
FLOOD=$build/bench/bench_udp_flood
NAME=rlqbench LAB=rlqbench-lab PEER=rlqbench-peer
TMP=$(mktemp -d)

[ "$(id -u)" = 0 ] || { echo "queues.sh needs root (AF_XDP, namespaces)"; exit 1; }
for f in "$RINGLAB" "$ENGINE" "$PPS" "$FLOOD"; do
	[ -e "$f" ] || { echo "missing $f - build first (cmake --build $build)"; exit 1; }
done

cleanup() {
	for p in ${F0:-} ${F1:-}; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$RINGLAB" testbed down name=$NAME force=true >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

testbed() { # QUEUES
	"$RINGLAB" testbed down name=$NAME force=true >/dev/null 2>&1
	"$RINGLAB" testbed up name=$NAME queues="$1" >/dev/null || exit 1
	if [ "$1" = 2 ]; then # CPU 0 -> TX queue 0, CPU 1 -> TX queue 1 (XPS)
		ip netns exec $PEER sh -c "echo 1 > /sys/class/net/${NAME}1/queues/tx-0/xps_cpus &&
			echo 2 > /sys/class/net/${NAME}1/queues/tx-1/xps_cpus" || exit 1
	fi
}

floods() { # SECONDS: the two senders, in the background
	ip netns exec $PEER taskset -c 0 "$FLOOD" 198.18.0.1 9000 "$1" >"$TMP/f0" 2>&1 &
	F0=$!
	ip netns exec $PEER taskset -c 1 "$FLOOD" 198.18.0.1 9001 "$1" >"$TMP/f1" 2>&1 &
	F1=$!
}

floods_done() {
	wait "$F0" "$F1"; F0= F1=
	awk '/Mpps/ { gsub(/[()]/, ""); s += $(NF - 1) } END { printf "    peer: the two senders sent %.3f Mpps\n", s }' "$TMP/f0" "$TMP/f1"
}

mpps() { awk '{ for (i = 2; i <= NF; i++) if ($i == "Mpps" || $i == "Mpps,") { print $(i - 1); exit } }'; }

for r in $(seq "$rounds"); do
	echo "== round $r: 64-byte UDP frames, ${secs} s each, two senders on CPUs 0 and 1"
	for q in 1 2; do
		testbed $q
		floods $((secs + 2))
		sleep 0.5
		ip netns exec $LAB "$PPS" "$ENGINE" rxdrop ${NAME}0 "$secs" mode=copy steer=all queues=$q \
			| sed "s/^afxdp C rxdrop/afxdp C rxdrop, $q queue(s)/" | tee -a "$TMP/c.$q.$r"
		floods_done
		floods $((secs + 2))
		"$RINGLAB" --netns $LAB "$here/queues_rx.lua" ${NAME}0 $q "$secs" | sed 's/^rx/afxdp Lua rx/' |
			tee -a "$TMP/l.$q.$r"
		floods_done
	done
done

echo "== scaling, 2 queues / 1 queue, median of $rounds rounds"
for kind in c l; do
	for r in $(seq "$rounds"); do
		one=$(mpps <"$TMP/$kind.1.$r") two=$(mpps <"$TMP/$kind.2.$r")
		echo "$one $two" | awk '$1 > 0 { printf "%.3f %.3f %.2f\n", $1, $2, $2 / $1 }'
	done >"$TMP/ratio.$kind"
	sort -n -k3 "$TMP/ratio.$kind" | awk -v k=$kind -v n=$rounds '
		{ a[NR] = $0 }
		END { split(a[int((NR + 1) / 2)], m, " ")
		      printf "  %-9s 1 queue %s Mpps, 2 queues %s Mpps: x%s (median round)\n",
		             k == "c" ? "C path" : "Lua loop", m[1], m[2], m[3] }'
done
