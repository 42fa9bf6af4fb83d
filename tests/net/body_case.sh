#!/bin/sh
# body_case.sh NAME CASE - 64 KiB born in the region, cut into 46 UDP
# segments at 1448 bytes, sent out of AF_XDP on testbed NAME (its own, made
# and removed here); a kernel UDP socket in the peer namespace receives all
# 46 and their bytes equal the body (udp_body_peer.py); owners conserved,
# nothing left in flight, no XDP program, link or namespace left. CASE:
#   shared     a UMEM chunk in several TX descriptors (issue 14.1): sg=true,
#              45 segments share a 2048-byte chunk with the one before, all
#              go in at most 2 kicks (shared_send.lua)
#   unaligned  open afxdp unaligned=true (issue 14.2): each segment
#              straddles a frame boundary and goes in one descriptor
#              (unaligned_send.lua)
# When the kernel refuses the mode: its one line, SKIP. Needs root (else 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
case $CASE in
shared)
	SCRIPT=shared_send.lua REFUSES="this kernel or link refuses multi-buffer (sg=true)"
	WANT="46 segments, 45 sharing a chunk, sent in [12] kicks"
	WRONG="the shared chunks did not go together" ;;
unaligned)
	SCRIPT=unaligned_send.lua REFUSES="this kernel refuses unaligned chunks"
	WANT="46 segments in 46 descriptors, 45 straddling"
	WRONG="not one descriptor per straddling segment" ;;
*) echo "usage: body_case.sh NAME shared|unaligned"; exit 2 ;;
esac
case_trap body_case

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

"$RINGLAB" --netns "$LAB" "$HERE/$SCRIPT" "$IF" "$PEER_MAC" 9998 >"$TMP/out" 2>&1
src=$?
cat "$TMP/out"
if [ $src = 3 ]; then
	grep -q '^REFUSED: ' "$TMP/out" && [ "$(grep -c . "$TMP/out")" = 1 ] ||
		{ echo "FAIL: the refusal is not one line"; exit 1; }
	echo "SKIP: $REFUSES"
	exit 77
fi
[ $src = 0 ] || { echo "FAIL: $SCRIPT exited with $src"; exit 1; }
wait "$BG"; prc=$?; BG=
cat "$TMP/peer.log"
[ $prc = 0 ] || { echo "FAIL: the peer did not get the body intact"; exit 1; }
grep -q "$WANT" "$TMP/out" || { echo "FAIL: $WRONG"; exit 1; }
