#!/bin/sh
# sim.sh - the simulator benchmark: C API and a Lua batch loop, against a
# memcpy-only loop, all in one run. Usage: bench/sim.sh [build-dir] [seconds]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-2}
"$build/bench/bench_sim_pps" "$secs" 64 | tee /tmp/ringlab-bench-c.$$
for mode in copy zerocopy; do
	"$build/shell/ringlab" "$here/sim_pps.lua" "$secs" 64 $mode | tee -a /tmp/ringlab-bench-lua.$$
done
awk '
	{ v = ""; for (i = 2; i <= NF; i++) if ($i == "Mpps") v = $(i - 1) }
	/sim copy mode, C API/               { c_copy = v }
	/sim zerocopy mode, C API/           { c_zc = v }
	/lua batch loop, sim copy mode/      { l_copy = v }
	/lua batch loop, sim zerocopy mode/  { l_zc = v }
	END {
		printf "  ratio lua/C: copy %.3f  zerocopy %.3f\n", l_copy / c_copy, l_zc / c_zc
	}' /tmp/ringlab-bench-c.$$ /tmp/ringlab-bench-lua.$$
rm -f /tmp/ringlab-bench-c.$$ /tmp/ringlab-bench-lua.$$
