#!/bin/sh
# segment.sh - segmentation at memory speed: 1 MiB cut into 1448-byte TCP
# segments with every strategy, against the bare limit measured in the
# same run.
# Usage: bench/segment.sh [build-dir] [rounds]
#
# The limit (bench_segment, C): a plain memcpy of the same MiB into
# 2048-byte frames, MSS by MSS, nothing else; and the sum limit: the same
# bytes checksummed MSS by MSS, nothing else - born and sg with csum
# software must read every payload byte so, and cannot be faster. Then,
# each the best of `rounds`:
#   C ...      rl_segment() on a core region, no engine, no Lua
#   sim ...    lab.segment from Lua on the simulator (ringlab bench/segment.lua)
#   dpdk ...   the same on DPDK net_ring0 (--no-huge), where the dpdk engine
#              is built and runs here
# for csum software (the lab sums every payload byte) and offload (the
# NIC's job: only the pseudo-header sum is written). reuse is timed at its
# resend (headers rewritten in place, incremental checksums); tso and gso
# where the engine offers them (one packet per 64 KiB: the cutting happens
# later, in the NIC or the engine's send). Each line: microseconds per MiB,
# GB/s, how many times the limit, and (Lua lines) how many times faster
# than copy. Then the issue's targets, each with its verdict: sg and born at
# least 5x faster than copy, copy within 1.3x of the limit - for C (the
# core alone) and each engine (through lab.segment), each checksum mode
# compared with itself. With csum software, sg and born read every payload
# byte to sum it: the last line says how far the sum limit lets them get
# ahead of copy at best (the 5x is about offload: headers only).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
rounds=${2:-20}
bytes=1048576
# The figures go to files in a directory of our own (mktemp -d), never to a
# predictable name in /tmp.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/bench/bench_segment" "$rounds" $bytes 1448 >"$tmp/c"
limit=$(awk '/^limit memcpy/ { print $3 }' "$tmp/c")
sumlimit=$(awk '/^limit sum/ { print $3 }' "$tmp/c")
awk -v limit="$limit" '{ print $0 ($1 == "C" ? sprintf("  x%5.2f limit", $4 / limit) : "") }' "$tmp/c"
"$build/shell/ringlab" "$here/segment.lua" sim "$rounds" $bytes "$limit" | tee "$tmp/lua"
if [ -e "$build/engines/ringlab-engine-dpdk.so" ]; then
	if ! "$build/shell/ringlab" "$here/segment.lua" dpdk "$rounds" $bytes "$limit" \
		>"$tmp/dpdk" 2>&1; then
		echo "dpdk  skipped: $(tail -1 "$tmp/dpdk")"
	else
		cat "$tmp/dpdk"
		cat "$tmp/dpdk" >>"$tmp/lua"
	fi
else
	echo "dpdk  skipped: the dpdk engine is not built in $build"
fi
awk -v limit="$limit" -v sumlimit="$sumlimit" '
	$5 == "us/MiB" { us[$1 " " $2 " " $3] = $4; if (!($1 in eng)) order[++n] = $1; eng[$1] = 1 }
	function verdict(ok) { return ok ? "holds" : "does not hold" }
	END {
		print "targets (sg, born >= 5x faster than copy; copy <= 1.3x the limit):"
		for (k = 1; k <= n; k++)
			for (c = 0; c < 2; c++) {
				e = order[k]
				cs = c ? "offload" : "software"
				cp = us[e " copy " cs]
				if (cp == "") continue
				printf "  %-4s %-8s  sg %5.2fx copy (%s)  born %5.2fx copy (%s)  copy x%4.2f limit (%s)\n",
				    e, cs, cp / us[e " sg " cs], verdict(cp / us[e " sg " cs] >= 5),
				    cp / us[e " born " cs], verdict(cp / us[e " born " cs] >= 5),
				    cp / limit, verdict(cp / limit <= 1.3)
			}
		if (sumlimit != "" && us["C copy software"] != "")
			printf "  csum software: sg and born must sum every payload byte (the sum limit, %.1f us/MiB), so at best they are %.2fx copy (C)\n",
			    sumlimit, us["C copy software"] / sumlimit
	}' "$tmp/c" "$tmp/lua"
