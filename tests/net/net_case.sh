#!/bin/sh
# net_case.sh - one network test in its own testbed.
#
#   net_case.sh NAME MTU CASE SIZE COUNT [engine key=value...]
#
# Makes testbed NAME (namespaces NAME-lab, NAME-peer; veth NAME0/NAME1) with
# the given MTU, starts the python3 UDP echo server in the peer namespace
# (when COUNT > 0), runs afxdp_drive CASE in the lab namespace, and always
# takes the testbed down again, then checks that no namespace, link or XDP
# program is left. CASE "testbed" only checks up/down/status themselves;
# CASE "lua" runs afxdp_echo.lua in the real ringlab program (--netns).
# Needs root: otherwise it prints "SKIP: needs root" and exits 77.
# Environment (set by CMake): DRIVE ENGINE PEER TESTBED_LUA PLUGIN_DIR PYTHON
# RINGLAB LUA_ECHO
set -u
NAME=$1 MTU=$2 CASE=$3 SIZE=$4 COUNT=$5
shift 5
. "$(dirname "$0")/case_lib.sh"
PEER_PID=

finish() {
	rc=$?
	if [ -n "$PEER_PID" ]; then kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null; fi
	tb down name="$NAME" || rc=1
	leftovers || rc=1
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "net_case $NAME: PASS" || echo "net_case $NAME: FAIL ($rc)"
	exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

# Start from nothing, even if an earlier run of this test was killed.
tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" mtu="$MTU" || exit 1

if [ "$CASE" = testbed ]; then
	# up again (idempotent, keeps the mtu), status, down twice.
	tb up name="$NAME" | grep -q "mtu $MTU" || { echo "FAIL: second up changed the mtu"; exit 1; }
	ip netns exec "$NAME-peer" ping -c 1 -W 2 198.18.0.1 >/dev/null ||
		{ echo "FAIL: no ping across the veth"; exit 1; }
	tb down name="$NAME" && tb down name="$NAME" | grep -q "down" ||
		{ echo "FAIL: down is not idempotent"; exit 1; }
	leftovers || exit 1
	tb status name="$NAME" | grep -q "down" || exit 1
	exit 0
fi

MAC=$(ip -n "$NAME-peer" -o link show dev "$NAME""1" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$MAC" ] || { echo "FAIL: no peer mac"; exit 1; }

if [ "$COUNT" -gt 0 ]; then
	ip netns exec "$NAME-peer" "$PYTHON" "$PEER" "$SIZE" "$COUNT" "$TMP/ready" 20 &
	PEER_PID=$!
	for _ in $(seq 50); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
	[ -e "$TMP/ready" ] || { echo "FAIL: the python peer did not start"; exit 1; }
fi

if [ "$CASE" = reopen ]; then
	# close, then open again at once, three times, in one ringlab process
	"$RINGLAB" --netns "$NAME-lab" -e "for i = 1, 3 do
		local e = lab.open('afxdp', {ifname='${NAME}0'})
		e:region{frames=64, frame_size=2048}
		assert(e:fill(32) == 32) e:close() print('open/close', i) end" || exit 1
	ip -n "$NAME-lab" -o link show dev "$NAME""0" | grep -q prog/xdp &&
		{ echo "FAIL: XDP program left after close"; exit 1; }
elif [ "$CASE" = lua ]; then
	"$RINGLAB" --netns "$NAME-lab" "$LUA_ECHO" "$NAME""0" "$MAC" "$SIZE" "$COUNT" "$@" || exit 1
else
	ip netns exec "$NAME-lab" "$DRIVE" "$ENGINE" "$CASE" "$NAME""0" "$MAC" "$SIZE" "$COUNT" "$@" || exit 1
fi

if [ -n "$PEER_PID" ]; then
	wait "$PEER_PID" || { PEER_PID=; echo "FAIL: the python peer failed"; exit 1; }
	PEER_PID=
fi
exit 0
