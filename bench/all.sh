#!/bin/sh
# all.sh - every benchmark in bench/ in one run, and one markdown table of
# their figures, ratios and verdicts, ready for docs/benchmarks.md.
#
#   sudo bench/all.sh [build-dir] [quick|full]  >table.md
#
# Runs, in this order (each says in its own header what its figures mean):
#   sim.sh      two simulators back to back: C API, Lua loops, memcpy only
#   lua.sh      the Lua loop (lab.batch) against the C path, every engine
#   watch.sh    the live dashboard's cost: pps with it drawing and without
#   segment.sh  lab.segment of 1 MiB, every strategy, against a memcpy
#   afxdp.sh    AF_XDP on a testbed veth: ringlab C and Lua, dpdk-testpmd,
#               xdp-trafficgen where it runs; Mpps per CPU-second
#   dpdk.sh     the dpdk engine against dpdk-testpmd on the same vdevs
#   queues.sh   AF_XDP receive on 1 queue against 2 (where it exists)
#   kernel.sh   the kernel's send paths over a veth, ratios to write
# quick (the default) runs each for a short time and one round or a few
# (about 6-8 minutes here); full uses the scripts' own defaults (much
# longer; steadier figures). What cannot run here (not root, an engine not
# built, a tool missing) is skipped with a line that says why.
#
# Each script's whole output goes to standard error as it runs; standard
# output gets only the markdown: the date, the machine (kernel, CPU, cores,
# load), the command, then one table row per figure: what was measured,
# its value, the baseline measured in the same run, their ratio, the
# target where the issue sets one, and the verdict the script printed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
mode=${2:-quick}
case $mode in quick | full) ;; *) echo "all.sh: mode '$mode' - give quick or full" >&2; exit 2 ;; esac
[ -x "$build/shell/ringlab" ] || { echo "all.sh: no $build/shell/ringlab - build first (cmake --build $build)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
root=$([ "$(id -u)" = 0 ] && echo yes || echo no)
start=$(date -u '+%Y-%m-%d %H:%M UTC')
load=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)

: >"$tmp/rows"
: >"$tmp/skips"
row() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@" >>"$tmp/rows"; }
skip() { echo "- \`$1\`: $2" >>"$tmp/skips"; echo "== $1 skipped: $2" >&2; }

# run NAME ARGS...: bench/NAME with ARGS, its output to $tmp/NAME and to
# standard error; false (with a skip line) when it fails.
run() {
	name=$1
	shift
	echo "== bench/$name $*" >&2
	{
		rc=0
		"$here/$name" "$@" 2>&1 || rc=$?
		echo $rc >"$tmp/rc"
	} | tee "$tmp/$name" >&2
	[ "$(cat "$tmp/rc")" = 0 ] && return 0
	skip "$name" "failed: $(grep -v '^ *$' "$tmp/$name" | tail -1)"
	return 1
}
q() { [ "$mode" = quick ]; }

# -- sim.sh
if run sim.sh "$build" "$(q && echo 1 || echo 2)"; then
	awk -F'  +' '
		function num(s) { n = split(s, w, " "); for (i = 1; i <= n; i++) if (w[i] == "Mpps") return w[i - 1]; return "" }
		/sim copy mode, C API/ { c = num($0) } /sim zerocopy mode, C API/ { z = num($0) }
		/memcpy only, 5 copies/ { m5 = num($0) } /memcpy only, 3 copies/ { m3 = num($0) }
		/lua batch loop, sim copy/ { lc = num($0) } /lua batch loop, sim zerocopy/ { lz = num($0) }
		END {
			printf "| sim.sh | two sims, C API, copy mode | %s Mpps | memcpy only, 5 copies: %s Mpps | %.2f | | |\n", c, m5, c / m5
			printf "| sim.sh | two sims, C API, zerocopy | %s Mpps | memcpy only, 3 copies: %s Mpps | %.2f | | |\n", z, m3, z / m3
			printf "| sim.sh | Lua lab.batch, copy mode | %s Mpps | C API: %s Mpps | %.2f | | |\n", lc, c, lc / c
			printf "| sim.sh | Lua lab.batch, zerocopy | %s Mpps | C API: %s Mpps | %.2f | | |\n", lz, z, lz / z
		}' "$tmp/sim.sh" >>"$tmp/rows"
fi

# -- lua.sh
if run lua.sh "$build" "$(q && echo 1 || echo 2)" "$(q && echo 3 || echo 5)"; then
	grep -i "skipped" "$tmp/lua.sh" | while read -r l; do skip lua.sh "$l"; done
	sed -n '/== medians/,$p' "$tmp/lua.sh" | awk '/ Lua\/C / {
		for (i = 1; i <= NF; i++) { if ($i == "C" && $(i + 2) == "Mpps") c = $(i + 1); if ($i == "Lua" && $(i + 2) == "Mpps") l = $(i + 1); if ($i == "Lua/C") r = $(i + 1) }
		label = $0; sub(/^ +/, "", label); sub(/ +C +[0-9.]+ Mpps.*/, "", label); gsub(/  +/, " ", label)
		cpu = ""; if (match($0, /per CPU-s [0-9.]+/)) cpu = " (per CPU-s " substr($0, RSTART + 10, RLENGTH - 10) ")"
		printf "| lua.sh | Lua loop vs C path: %s | %s Mpps | C: %s Mpps | %s%s | >= 0.8 | %s |\n", label, l, c, r, cpu, $NF }' >>"$tmp/rows"
fi

# -- watch.sh
if command -v tmux >/dev/null; then
	if q; then set -- "$build" 2 3; ws="80x24"; else set -- "$build" 3 5; ws="80x24 160x48"; fi
	if SIZES=$ws run watch.sh "$@"; then
		grep -i "skipped" "$tmp/watch.sh" | while read -r l; do skip watch.sh "$l"; done
		awk '/ draw [0-9]+x[0-9]+: / { e = $1; s = $3; sub(":", "", s)
			printf "| watch.sh | one dashboard frame, %s, %s (CPU, in the process) | %s ms | | %s of a CPU at 5 frames/s | | |\n", e, s, $4, $9 }
		     / interleaved [0-9]+x[0-9]+: / { e = $1; s = $3; sub(":", "", s); r = $5; sub(",", "", r); l = $7; sub(",", "", l); c = $10; sub(/\),?/, "", c)
			v[e " " s] = sprintf("| watch.sh | pps with the dashboard drawing / without, %s %s, interleaved 0.25 s slices in one process | | | %s: lost %s (per CPU-s %s) | < 5%% lost |", e, s, r, l, c) }
		     /^== medians/ { med = 1 }
		     /^== verdict/ { med = 0; ver = 1 }
		     med && / without .* with .* lost / { for (i = 1; i <= NF; i++) { if ($i == "without") w0 = $(i + 1); if ($i == "with") w1 = $(i + 1); if ($i == "lost" && !l2) l2 = $(i + 1); if ($i == "CPU-second" && $(i + 1) == "lost") cl = $(i + 2) }
			printf "| watch.sh | pps with the dashboard drawing, %s %s, separate runs in tmux | %s Mpps | without: %s Mpps | lost %s (per CPU-s %s) | | |\n", $1, $2, w1, w0, l2, cl; l2 = "" }
		     ver && /(PASS|MISS)$/ { print v[$1 " " $2] " " $NF " |" }' \
			"$tmp/watch.sh" >>"$tmp/rows"
	fi
else
	skip watch.sh "tmux is not installed"
fi

# -- segment.sh
if run segment.sh "$build" "$(q && echo 5 || echo 20)"; then
	awk '/^limit memcpy/ { printf "| segment.sh | the limit: memcpy of 1 MiB into frames, MSS by MSS | %s us/MiB | | | | |\n", $3 }
	     /^ +(C|sim|dpdk) +(software|offload) +sg / { e = $1; c = $2
		for (i = 3; i <= NF; i++) { if ($i == "sg") sg = $(i + 1); if ($i == "born") bn = $(i + 1); if ($i == "copy" && $(i + 1) ~ /^x/) lim = $(i + 1) }
		n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^\(/) { v[++n] = $i; while ($i !~ /\)$/) { i++; v[n] = v[n] " " $i } }
		printf "| segment.sh | %s csum=%s: sg faster than copy | %s | copy | | >= 5x | %s |\n", e, c, sg, v[1]
		printf "| segment.sh | %s csum=%s: born faster than copy | %s | copy | | >= 5x | %s |\n", e, c, bn, v[2]
		printf "| segment.sh | %s csum=%s: copy against the limit | %s | memcpy limit | | <= x1.3 | %s |\n", e, c, lim, v[3] }' \
		"$tmp/segment.sh" | tr -d '()' >>"$tmp/rows"
	grep "skipped" "$tmp/segment.sh" | while read -r l; do skip segment.sh "$l"; done
fi

# -- the root-only ones
if [ $root = no ]; then
	for s in afxdp.sh dpdk.sh queues.sh kernel.sh; do skip $s "needs root (namespaces, AF_XDP, DPDK)"; done
else
	if [ ! -e "$build/engines/ringlab-engine-afxdp.so" ]; then
		skip afxdp.sh "the afxdp engine is not built in $build"
	elif ! command -v dpdk-testpmd >/dev/null; then
		skip afxdp.sh "dpdk-testpmd is not installed (its baseline)"
	elif run afxdp.sh "$build" "$(q && echo 2 || echo 3)" "$(q && echo 1 || echo 3)"; then
		grep "skipped" "$tmp/afxdp.sh" | while read -r l; do skip afxdp.sh "$l"; done
		awk '/^  (txonly|rxdrop) +C\/testpmd/ {
			printf "| afxdp.sh | %s, ringlab C / dpdk-testpmd (net_af_xdp) | | | wall %s, per CPU-s %s | >= 1.5 | %s |\n", $1, $4, $6, ($4 >= 1.5 ? "PASS" : "MISS")
			printf "| afxdp.sh | %s, ringlab Lua / dpdk-testpmd (net_af_xdp) | | | wall %s, per CPU-s %s | >= 1.2 | %s |\n", $1, $9, $11, ($9 >= 1.2 ? "PASS" : "MISS") }
		     /^  (txonly|rxdrop) .* Mpps per CPU-second$/ { k = $1; t = $0; sub(/^  (txonly|rxdrop) +/, "", t); sub(/ +[0-9.]+ Mpps per CPU-second$/, "", t)
			printf "| afxdp.sh | %s, %s | %s Mpps per CPU-second | | | | |\n", k, t, $(NF - 3) }' "$tmp/afxdp.sh" >>"$tmp/rows"
	fi
	if [ ! -e "$build/engines/ringlab-engine-dpdk.so" ]; then
		skip dpdk.sh "the dpdk engine is not built in $build"
	elif ! command -v dpdk-testpmd >/dev/null; then
		skip dpdk.sh "dpdk-testpmd is not installed (its baseline)"
	elif run dpdk.sh "$build" "$(q && echo 2 || echo 3)" "$(q && echo 1 || echo 5)"; then
		awk '/^  net_(null|ring|af_xdp) .* ratio wall/ { t = $1 " " $2
			printf "| dpdk.sh | %s, ringlab dpdk engine (C) / dpdk-testpmd | %s Mpps | testpmd: %s Mpps | wall %s, per CPU-s %s | >= 0.95 | %s |\n", t, $4, $6, $10, $12, ($10 >= 0.95 ? "PASS" : "MISS") }' \
			"$tmp/dpdk.sh" >>"$tmp/rows"
	fi
	if [ ! -x "$here/queues.sh" ]; then
		skip queues.sh "not in bench/ yet"
	elif run queues.sh "$build" "$(q && echo 2 || echo 3)" "$(q && echo 1 || echo 3)"; then
		awk '/1 queue .* 2 queues .*: x/ { t = $0; sub(/^ +/, "", t); sub(/ +1 queue.*/, "", t)
			for (i = 1; i <= NF; i++) { if ($i == "queue") a = $(i + 1); if ($i == "queues") b = $(i + 1); if ($i ~ /^x[0-9]/) x = $i }
			printf "| queues.sh | AF_XDP receive, %s: 2 queues / 1 queue | %s Mpps | 1 queue: %s Mpps | %s | | |\n", t, b, a, x }' \
			"$tmp/queues.sh" >>"$tmp/rows"
	fi
	if q; then set -- "$build" 16 1; else set -- "$build" 64 3; fi
	if run kernel.sh "$@"; then
		awk '/^(write|writev|sendfile|splice|vmsplice|msg_zerocopy|udp|udp_gso) / {
			if ($2 == "-") { printf "| kernel.sh | send path %s | - | | | | %s |\n", $1, substr($0, index($0, $7)); next }
			printf "| kernel.sh | send path %s, MiB/s (CPU-s per GiB) | %s (%s) | write | x%s (CPU x%s) | | |\n", $1, $2, $3, $5, $6 }
		     /^afxdp (copy|reuse|born|sg) / && $3 != "-" {
			printf "| kernel.sh | lab TCP over AF_XDP, strategy %s, MiB/s (CPU-s per GiB) | %s (%s) | kernel write | x%s (CPU x%s) | | |\n", $2, $3, $4, $6, $7 }' \
			"$tmp/kernel.sh" >>"$tmp/rows"
	fi
fi

mins=$((($(date +%s) - t0 + 30) / 60))
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "### bench/all.sh ($mode), $start"
echo
echo "Kernel $(uname -r); $cpu, $(nproc) cores; load average $load at the start;"
echo "commit $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo '?'); took about $mins minutes."
echo "Command: \`$([ $root = yes ] && echo 'sudo ')bench/all.sh $build $mode\`."
echo
echo "| script | figure | measured | baseline (same run) | ratio | target | verdict |"
echo "|---|---|---|---|---|---|---|"
cat "$tmp/rows"
if [ -s "$tmp/skips" ]; then
	echo
	echo "Skipped or not measured:"
	echo
	cat "$tmp/skips"
fi
