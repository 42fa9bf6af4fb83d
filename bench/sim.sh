#!/bin/sh
# sim.sh - the simulator benchmark: C API and Lua loops (lab.batch, and one
# handle per packet), against a memcpy-only loop, all in one run.
# Usage: bench/sim.sh [build-dir] [seconds]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-2}
# The figures go to files in a directory of our own (mktemp -d), never to a
# predictable name in /tmp.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bench/bench_sim_pps" "$secs" 64 | tee "$tmp/c"
for mode in copy zerocopy; do
	for style in batch packets; do
		"$build/shell/ringlab" "$here/sim_pps.lua" "$secs" 64 $mode $style |
			tee -a "$tmp/lua"
	done
done
awk '
	{ v = ""; for (i = 2; i <= NF; i++) if ($i == "Mpps") v = $(i - 1) }
	/sim copy mode, C API/               { c_copy = v }
	/sim zerocopy mode, C API/           { c_zc = v }
	/memcpy only, 5 copies/             { m5 = v }
	/memcpy only, 3 copies/             { m3 = v }
	/lua batch loop, sim copy mode/      { l_copy = v }
	/lua batch loop, sim zerocopy mode/  { l_zc = v }
	/lua packets loop, sim copy mode/    { p_copy = v }
	/lua packets loop, sim zerocopy mode/ { p_zc = v }
	END {
		printf "  ratio lua batch/C:       copy %.3f  zerocopy %.3f\n", l_copy / c_copy, l_zc / c_zc
		printf "  ratio lua batch/memcpy:  copy %.3f  zerocopy %.3f\n", l_copy / m5, l_zc / m3
		printf "  ratio lua packets/C:     copy %.3f  zerocopy %.3f\n", p_copy / c_copy, p_zc / c_zc
		printf "  target lua batch >= 0.8x C: copy %s  zerocopy %s (one run each; bench/lua.sh pairs them in rounds)\n",
		    (l_copy / c_copy >= 0.8 ? "PASS" : "MISS"), (l_zc / c_zc >= 0.8 ? "PASS" : "MISS")
	}' "$tmp/c" "$tmp/lua"
