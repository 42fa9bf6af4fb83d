#!/bin/sh
# lua.sh - the Lua loop against the C path, on every engine, in one run:
# the same packets moved by a Lua script over lab.batch and by a C
# program through the engine's ops table, each engine's pair back to back.
#
#   bench/lua.sh [build-dir] [seconds] [rounds]      (defaults: build 2 3)
#
#   sim    bench_sim_pps (C) against bench/sim_pps.lua (batch style): two
#          simulators back to back, copy and zerocopy mode, batch 64
#   afxdp  bench_afxdp_pps against bench/afxdp_pps.lua on testbed veth
#          rlBl0 (copy mode, batch 256, CPU 1): txonly, and rxdrop fed by
#          the AF_XDP generator of bench/lib.sh on rlBl1 (CPU 0), whose
#          rate bounds both receivers (as in bench/afxdp.sh). Root only.
#   dpdk   bench_dpdk_pps against bench/dpdk_pps.lua, --no-huge, CPU 1
#          (lcores=1): net_null0 txonly and rxonly, the net_ring0 pair
#          (txrx), at DPDK_BATCHES (default "32 256"; 32 = testpmd's burst).
#          Root only (DPDK's EAL), and only where the dpdk engine is built.
# Every round runs each pair back to back (odd rounds C first, even rounds
# Lua first) and takes the ratio Lua/C per round, wall-clock and per
# CPU-second (packets over the CPU time the process used: steadier when
# other work shares the machine); then the median over the rounds against
# the issue's target, Lua >= 0.8x C with lab.batch: PASS or MISS.
# LUA_ENGINES="dpdk" (any of sim afxdp dpdk; default all) runs only those.
# Makes and always removes testbed rlBl. Runs by hand, not in ctest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-2}
rounds=${3:-3}
DPDK_BATCHES=${DPDK_BATCHES:-32 256}
LUA_ENGINES=${LUA_ENGINES:-sim afxdp dpdk}
RINGLAB=$build/shell/ringlab
AFXDP=$build/engines/ringlab-engine-afxdp.so
DPDK=$build/engines/ringlab-engine-dpdk.so
NAME=rlBl LAB=rlBl-lab PEER=rlBl-peer
TMP=$(mktemp -d)
GEN=
GENPPS=$build/bench/bench_afxdp_pps GENENGINE=$AFXDP TESTPMD_PREFIX=rlBl
[ -x "$RINGLAB" ] && [ -x "$build/bench/bench_sim_pps" ] ||
	{ echo "lua.sh: missing $RINGLAB or $build/bench/bench_sim_pps - build first (cmake --build $build)"; exit 2; }
. "$here/lib.sh"
tb=0
down() {
	[ -n "${GEN:-}" ] && kill "$GEN" 2>/dev/null && wait "$GEN" 2>/dev/null
	[ $tb = 1 ] && "$RINGLAB" testbed down name=$NAME force=true >/dev/null 2>&1
	rm -rf "$TMP"
}
trap down EXIT
trap 'exit 130' INT TERM

# pair ENGINE LABEL ROUND: runs c_run and lua_run (set by the caller) in
# this round's order; appends "engine|label|c|lua|c_cpu|lua_cpu".
mpps() { awk '{ for (i = 2; i <= NF; i++) if ($i == "Mpps") { print $(i - 1); exit } }' "$1"; }
cpus() { awk '{ for (i = 2; i < NF; i++) if ($i == "Mpps" && $(i + 1) == "per") { print $(i - 1); exit } }' "$1"; }
pair() {
	if [ $(($3 % 2)) = 1 ]; then
		c_run >"$TMP/c" 2>&1 || true; lua_run >"$TMP/l" 2>&1 || true
	else
		lua_run >"$TMP/l" 2>&1 || true; c_run >"$TMP/c" 2>&1 || true
	fi
	c=$(mpps "$TMP/c") l=$(mpps "$TMP/l")
	if [ -z "$c" ] || [ -z "$l" ]; then
		echo "  $1 $2 round $3: no figure - C: $(tail -1 "$TMP/c"); Lua: $(tail -1 "$TMP/l")"
		return 0
	fi
	cc=$(cpus "$TMP/c") lc=$(cpus "$TMP/l")
	echo "$1|$2|$c|$l|${cc:-0}|${lc:-0}" >>"$TMP/rounds"
	awk -v e="$1" -v m="$2" -v r="$3" -v c="$c" -v l="$l" -v cc="${cc:-0}" -v lc="${lc:-0}" 'BEGIN {
		printf "  %-5s %-24s round %d: C %7.3f Mpps  Lua %7.3f Mpps  Lua/C %.3f%s\n",
		    e, m, r, c, l, l / c, (cc > 0 ? sprintf(" (per CPU-s %.3f)", lc / cc) : "") }'
}

# sim: the C program prints both modes at once; run it per mode by
# picking its line (it measures copy and zerocopy one after the other).
sim_c() { "$build/bench/bench_sim_pps" "$secs" 64 | grep "sim $1 mode, C API" | sed 's/$/ (C)/'; }
sim_lua() { "$RINGLAB" "$here/sim_pps.lua" "$secs" 64 "$1" batch; }

engines="sim"
why_afxdp= why_dpdk=
case " $LUA_ENGINES " in *" sim "*) ;; *) engines= ;; esac
case " $LUA_ENGINES " in *" afxdp "*) ;; *) why_afxdp="not in LUA_ENGINES" ;; esac
case " $LUA_ENGINES " in *" dpdk "*) ;; *) why_dpdk="not in LUA_ENGINES" ;; esac
if [ "$(id -u)" != 0 ]; then
	why_afxdp=${why_afxdp:-"needs root (AF_XDP on a testbed veth)"} why_dpdk=${why_dpdk:-"needs root (DPDK's EAL)"}
else
	[ -n "$why_afxdp" ] || { [ -e "$AFXDP" ] && [ -x "$GENPPS" ]; } || why_afxdp="the afxdp engine or bench_afxdp_pps is not built in $build"
	[ -n "$why_dpdk" ] || { [ -e "$DPDK" ] && [ -x "$build/bench/bench_dpdk_pps" ]; } || why_dpdk="the dpdk engine or bench_dpdk_pps is not built in $build"
fi
if [ -z "$why_afxdp" ]; then
	"$RINGLAB" testbed down name=$NAME force=true >/dev/null 2>&1 || true
	tb=1
	if "$RINGLAB" testbed up name=$NAME >"$TMP/tb" 2>&1; then
		LAB_MAC=$(ip -n $LAB -o link show dev ${NAME}0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
		engines="$engines afxdp"
	else
		why_afxdp="testbed $NAME: $(tail -1 "$TMP/tb")"
	fi
fi
[ -z "$why_dpdk" ] && engines="$engines dpdk"

: >"$TMP/rounds"
echo "== Lua (lab.batch) against C, ${secs} s each, $rounds rounds: $engines"
[ -n "$why_afxdp" ] && echo "afxdp skipped: $why_afxdp"
[ -n "$why_dpdk" ] && echo "dpdk skipped: $why_dpdk"
for r in $(seq "$rounds"); do
	case " $engines " in *" sim "*)
		for mode in copy zerocopy; do
			c_run() { sim_c $mode; }
			lua_run() { sim_lua $mode; }
			pair sim "$mode batch=64" "$r"
		done
	esac
	case " $engines " in *" afxdp "*)
		c_run() { ip netns exec $LAB taskset -c 1 "$GENPPS" "$AFXDP" txonly ${NAME}0 "$secs" mode=copy steer=all; }
		lua_run() { taskset -c 1 "$RINGLAB" --netns $LAB "$here/afxdp_pps.lua" txonly ${NAME}0 "$secs" mode=copy steer=all; }
		pair afxdp "txonly batch=256" "$r"
		c_run() { generator $((secs + 1)); ip netns exec $LAB taskset -c 1 "$GENPPS" "$AFXDP" rxdrop ${NAME}0 "$secs" mode=copy steer=all; wait "$GEN"; GEN=; }
		lua_run() { generator $((secs + 1)); taskset -c 1 "$RINGLAB" --netns $LAB "$here/afxdp_pps.lua" rxdrop ${NAME}0 "$secs" mode=copy steer=all; wait "$GEN"; GEN=; }
		pair afxdp "rxdrop batch=256" "$r"
	esac
	case " $engines " in *" dpdk "*)
		for b in $DPDK_BATCHES; do
			for t in "txonly net_null0" "rxonly net_null0" "txrx net_ring0"; do
				m=${t% *} v=${t#* }
				c_run() { taskset -c 1 "$build/bench/bench_dpdk_pps" "$DPDK" $m "$secs" vdev=$v lcores=1 batch=$b; }
				lua_run() { taskset -c 1 "$RINGLAB" "$here/dpdk_pps.lua" $m "$secs" vdev=$v lcores=1 batch=$b; }
				pair dpdk "$v $m batch=$b" "$r"
			done
		done
	esac
done

echo "== medians of $rounds rounds (target: Lua >= 0.8x C with lab.batch)"
cut -d'|' -f1,2 "$TMP/rounds" | awk '!seen[$0]++' | while IFS='|' read -r eng label; do
	awk -F'|' -v e="$eng" -v m="$label" '$1 == e && $2 == m {
		print $3, $4, $4 / $3, ($5 > 0 ? $6 / $5 : 0) }' "$TMP/rounds" >"$TMP/sel"
	for col in 1 2 3 4; do awk -v c=$col '{ print $c }' "$TMP/sel" | med; done | paste -sd' ' |
		awk -v e="$eng" -v m="$label" '{ printf "  %-5s %-24s C %7.3f Mpps  Lua %7.3f Mpps  Lua/C %.3f%s  %s\n",
			e, m, $1, $2, $3, ($4 > 0 ? sprintf(" (per CPU-s %.3f)", $4) : ""), ($3 >= 0.8 ? "PASS" : "MISS") }'
done
