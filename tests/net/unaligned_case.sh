#!/bin/sh
# unaligned_case.sh NAME - AF_XDP unaligned chunks (open afxdp
# unaligned=true, issue 14.2) on testbed NAME (its own, made and removed
# here): 46 born UDP segments (64 KiB at 1448), each straddling a frame
# boundary, go out in one descriptor each (unaligned_send.lua); a kernel
# UDP socket in the peer namespace receives all 46 and their bytes equal
# the body; owners conserved, nothing left in flight, no XDP program, link
# or namespace left. When the kernel refuses the flag: its one line, SKIP.
# Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
case_trap unaligned_case

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" >/dev/null || exit 1
PEER_MAC=$(ip -n "$PEERNS" -o link show dev "$PIF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$PEER_MAC" ] || { echo "FAIL: no MAC for $PIF"; exit 1; }

# the peer: a kernel UDP socket that must get the 64 KiB body in 46
# datagrams, in order, from 198.18.0.1
ip netns exec "$PEERNS" "$PYTHON" "$HERE/udp_body_peer.py" "$TMP/ready" 9998 \
	>"$TMP/peer.log" 2>&1 &
BG=$!
wait_for "$TMP/ready" 50 || exit 1

"$RINGLAB" --netns "$LAB" "$HERE/unaligned_send.lua" "$IF" "$PEER_MAC" 9998 >"$TMP/out" 2>&1
src=$?
cat "$TMP/out"
if [ $src = 3 ]; then
	grep -q '^REFUSED: ' "$TMP/out" && [ "$(grep -c . "$TMP/out")" = 1 ] ||
		{ echo "FAIL: the refusal is not one line"; exit 1; }
	echo "SKIP: this kernel refuses unaligned chunks"
	exit 77
fi
[ $src = 0 ] || { echo "FAIL: unaligned_send.lua exited with $src"; exit 1; }
wait "$BG"; prc=$?; BG=
cat "$TMP/peer.log"
[ $prc = 0 ] || { echo "FAIL: the peer did not get the body intact"; exit 1; }
grep -q "46 segments in 46 descriptors, 45 straddling" "$TMP/out" ||
	{ echo "FAIL: not one descriptor per straddling segment"; exit 1; }
