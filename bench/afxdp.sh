#!/bin/sh
# afxdp.sh - the AF_XDP benchmark: ringlab's C path, a ringlab Lua loop and
# dpdk-testpmd (net_af_xdp), on the same testbed veth in the same run.
#
#   sudo bench/afxdp.sh [build-dir] [seconds] [rounds]
#
# txonly: each sender transmits 64-byte UDP frames on rlbench0 (lab side)
#         to a MAC nobody has, so the peer's kernel drops them at once
#         (ringlab: 02:00:00:00:00:02, testpmd's txonly default:
#         02:00:00:00:00:00; both 198.18.0.1 -> 198.18.0.2, UDP).
# rxdrop: a traffic generator on the peer side - bench_afxdp_pps txonly,
#         an AF_XDP sender through ringlab's engine on rlbench1, pinned to
#         CPU 0 - floods rlbench0 with 64-byte frames; each receiver, on
#         CPU 1, takes and drops them (testpmd: --forward-mode=rxonly). On
#         veth the receive side's XDP program and the copy into the
#         receiver's UMEM run on the *sender's* CPU, so the generator's rate
#         bounds every receiver; it is printed next to each.
# xdp-trafficgen (Debian's xdp-tools) is a second txonly peer where it
# runs: `xdp-trafficgen udp` on rlbench0 in the lab namespace (ip netns
# exec, an argument vector), the same frame to the same MAC; it sends with
# BPF_PROG_RUN's live frames, so its figure is counted where the packets
# arrive (the peer veth's rx_packets over the window) and its CPU is the
# process's (all threads; the kernel's work runs in its system calls).
# Where it cannot run (not installed, or it fails to load on this kernel)
# the script says why once and goes on without it.
# Every ringlab run uses mode=copy (veth has no zero-copy) and batches of
# 256; testpmd runs as a user would run it: defaults (burst 32) with
# --txpkts=64, --no-huge -m 512 --no-pci, lcores 0-1 (its worker on CPU 1,
# where the ringlab senders are pinned too). BURSTS="32 256" adds testpmd
# runs with other --burst values (the ratios use the first).
#
# The machine may be busy, so every round runs all tools back to back and
# the ratios are taken per round, then the median over the rounds. Each
# line also gives Mpps per CPU-second: packets over the CPU time the tool
# used (testpmd: all its threads), which other load disturbs much less
# than the wall-clock rate. Makes and always removes testbed "rlbench".
# Runs by hand, not in ctest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-3}
rounds=${3:-3}
BURSTS=${BURSTS:-32}
RINGLAB=$build/shell/ringlab
ENGINE=$build/engines/ringlab-engine-afxdp.so
PPS=$build/bench/bench_afxdp_pps
NAME=rlbench LAB=rlbench-lab PEER=rlbench-peer
TMP=$(mktemp -d)
HZ=$(getconf CLK_TCK)

[ "$(id -u)" = 0 ] || { echo "afxdp.sh needs root (AF_XDP, namespaces)"; exit 1; }
for f in "$RINGLAB" "$ENGINE" "$PPS"; do
	[ -e "$f" ] || { echo "missing $f - build first (cmake --build $build)"; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd not found (apt install dpdk)"; exit 1; }

GENPPS=$PPS GENENGINE=$ENGINE TESTPMD_PREFIX=rlbench
. "$here/lib.sh"
trap bench_down EXIT
trap 'exit 130' INT TERM
bench_testbed_up

# testpmd MODE BURST: the mean of its per-second Tx-pps (txonly) or Rx-pps
# (rxonly) over $secs seconds once it forwards (lib.sh: testpmd_window),
# and its CPU time over the same seconds.
testpmd() {
	key=$([ "$1" = txonly ] && echo Tx-pps || echo Rx-pps)
	timeout -s INT $((secs + 25)) ip netns exec $LAB stdbuf -oL dpdk-testpmd --no-huge -m 512 --no-pci \
		--file-prefix=$TESTPMD_PREFIX -l 0-1 --vdev net_af_xdp0,iface=${NAME}0 -- \
		--forward-mode="$1" --burst="$2" --txpkts=64 --stats-period=1 \
		--total-num-mbufs=16384 >"$TMP/testpmd.log" 2>&1 &
	tp=$!
	testpmd_window $tp
	awk -v m="$1" -v b="$2" -v cpu=$TP_CPU -v hz="$HZ" -v secs="$TP_SECS" \
		-v key="$key:" -v from=$TP_FROM -v to=$TP_TO '
		/Port statistics =/ { n++ }
		$1 == key && n > from && n <= to { s += $2; k++ }
		END { if (k) printf "dpdk-testpmd %s burst=%d (net_af_xdp): %.3f Mpps (mean of %d samples over %.1f s; %.3f Mpps per CPU-second)\n",
		                    m, b, s / k / 1e6, k, secs, (cpu > 0 ? s / k * secs / (cpu / hz) / 1e6 : 0)
		      else print "dpdk-testpmd " m " burst=" b ": no figures (see its log)" }' \
		"$TMP/testpmd.log"
}

# xdp-trafficgen: can it run here? (it loads its BPF programs first)
XTG_WHY=
if ! command -v xdp-trafficgen >/dev/null; then
	XTG_WHY="not installed (apt install xdp-tools)"
else
	timeout -s INT 3 ip netns exec $LAB xdp-trafficgen udp -m 02:00:00:00:00:02 -M "$LAB_MAC" \
		-A 198.18.0.1 -a 198.18.0.2 -p 9 -P 9000 ${NAME}0 >"$TMP/xtg.log" 2>&1
	[ $? = 124 ] || XTG_WHY="it does not run here: $(grep -v '^ *$' "$TMP/xtg.log" | tail -3 | tr -s ' \n' ' ')"
fi
[ -n "$XTG_WHY" ] && echo "xdp-trafficgen skipped: $XTG_WHY"

peer_rx() { ip netns exec $PEER cat /sys/class/net/${NAME}1/statistics/rx_packets; }

# trafficgen: xdp-trafficgen udp on CPU 1 for $secs seconds (after a
# second to start), counted at the peer; its CPU ticks over the window.
trafficgen() {
	[ -n "$XTG_WHY" ] && return 0
	timeout -s INT $((secs + 10)) ip netns exec $LAB taskset -c 1 xdp-trafficgen udp \
		-m 02:00:00:00:00:02 -M "$LAB_MAC" -A 198.18.0.1 -a 198.18.0.2 -p 9 -P 9000 ${NAME}0 \
		>"$TMP/xtg.log" 2>&1 &
	xt=$!
	sleep 1
	xp=$(pgrep -P $xt -x xdp-trafficgen | head -1)
	if [ -z "$xp" ]; then
		wait $xt
		echo "xdp-trafficgen udp: no figures ($(tail -1 "$TMP/xtg.log"))"
		return 0
	fi
	c0=$(ticks "$xp") p0=$(peer_rx) t0=$(date +%s.%N)
	sleep "$secs"
	c1=$(ticks "$xp") p1=$(peer_rx) t1=$(date +%s.%N)
	kill -INT "$xp" 2>/dev/null
	wait $xt
	awk -v p=$((p1 - p0)) -v t0="$t0" -v t1="$t1" -v cpu=$((c1 - c0)) -v hz="$HZ" 'BEGIN {
		printf "xdp-trafficgen udp (BPF_PROG_RUN live frames): %.3f Mpps (%d packets at the peer in %.2f s; %.3f Mpps per CPU-second)\n",
		    p / (t1 - t0) / 1e6, p, t1 - t0, (cpu > 0 ? p / (cpu / hz) / 1e6 : 0) }'
}

c_path() { ip netns exec $LAB taskset -c 1 "$PPS" "$ENGINE" "$1" ${NAME}0 "$secs" mode=copy steer=all; }
lua_path() { taskset -c 1 "$RINGLAB" --netns $LAB "$here/afxdp_pps.lua" "$1" ${NAME}0 "$secs" mode=copy steer=all; }



for r in $(seq "$rounds"); do
	echo "== round $r: txonly, 64-byte frames, ${secs} s each, on ${NAME}0"
	{ c_path txonly; lua_path txonly
	  for b in $BURSTS; do testpmd txonly "$b"; done
	  trafficgen; } | tee "$TMP/tx.$r"
	echo "== round $r: rxdrop, 64-byte frames, ${secs} s each, on ${NAME}0"
	{ generator $((secs + 1)); c_path rxdrop; gen_done
	  generator $((secs + 1)); lua_path rxdrop; gen_done
	  generator $((secs + 12)); testpmd rxonly 32; gen_done; } | tee "$TMP/rx.$r"
done

# Per round: C/testpmd and Lua/testpmd, wall-clock and per CPU-second;
# then the median of each over the rounds.
for r in $(seq "$rounds"); do
	for kind in tx rx; do
		awk -v kind=$kind '
			function mpps() { for (i = 2; i <= NF; i++) if ($i == "Mpps") return $(i - 1); return 0 }
			function cpu() { for (i = 2; i < NF; i++) if ($i == "Mpps" && $(i + 1) == "per") return $(i - 1); return 0 }
			/^afxdp C/ { c = mpps(); cc = cpu() }
			/^afxdp Lua/ { l = mpps(); lc = cpu() }
			/^dpdk-testpmd/ && !d { d = mpps(); dc = cpu() }
			END { if (d > 0 && dc > 0 && c > 0 && cc > 0) printf "%s %.3f %.3f %.3f %.3f %.3f %.3f\n", kind, c / d, l / d, cc / dc, lc / dc, l / c, lc / cc }' \
			"$TMP/$kind.$r"
	done
done >"$TMP/ratios"
echo "== ratios, median of $rounds rounds (targets: C >= 1.5x testpmd, Lua >= 1.2x)"
echo "   (wall: Mpps / Mpps; cpu: Mpps per CPU-second / the same for testpmd)"
for kind in tx rx; do
	label=$([ $kind = tx ] && echo txonly || echo rxdrop)
	for col in 2 3 4 5; do
		grep "^$kind " "$TMP/ratios" | awk -v c=$col '{ print $c }' | med
	done | paste -sd' ' | awk -v l=$label '{ printf "  %s  C/testpmd wall %s cpu %s   Lua/testpmd wall %s cpu %s\n", l, $1, $3, $2, $4 }'
done

echo "== Lua / C, median of $rounds rounds (target: the Lua loop >= 0.8x the C path)"
for kind in tx rx; do
	label=$([ $kind = tx ] && echo txonly || echo rxdrop)
	for col in 6 7; do
		grep "^$kind " "$TMP/ratios" | awk -v c=$col '{ print $c }' | med
	done | paste -sd' ' | awk -v l=$label '{ printf "  %s  Lua/C wall %s cpu %s  %s\n", l, $1, $2, ($1 != "-" && $1 >= 0.8 ? "PASS" : "MISS") }'
done

# Mpps per CPU-second of every tool, the median over the rounds.
echo "== Mpps per CPU-second, every tool, median of $rounds rounds (packets over the CPU time the tool used)"
for kind in tx rx; do
	cat "$TMP/$kind".* 2>/dev/null | awk -v kind=$kind '
		function cpu() { for (i = 2; i < NF; i++) if ($i == "Mpps" && $(i + 1) == "per") return $(i - 1); return "" }
		/^afxdp C/ { print "ringlab C|" cpu() }
		/^afxdp Lua/ { print "ringlab Lua|" cpu() }
		/^dpdk-testpmd/ { split($0, w, " "); print "dpdk-testpmd " w[3] "|" cpu() }
		/^xdp-trafficgen/ { print "xdp-trafficgen|" cpu() }
		/traffic: generator/ { print "generator (ringlab C, peer)|" cpu() }' >"$TMP/cpu.$kind"
	label=$([ $kind = tx ] && echo txonly || echo rxdrop)
	cut -d'|' -f1 "$TMP/cpu.$kind" | awk '!seen[$0]++' | while read -r tool; do
		v=$(awk -F'|' -v t="$tool" '$1 == t && $2 != "" { print $2 }' "$TMP/cpu.$kind" | med)
		printf '  %s  %-34s %s Mpps per CPU-second\n' "$label" "$tool" "$v"
	done
done
