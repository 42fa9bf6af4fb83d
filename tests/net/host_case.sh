#!/bin/sh
# host_case.sh - one test of ringlab on a real wire, in its own testbed.
#
#   host_case.sh NAME CASE
#
# CASE is one of
#   ping     the peer's kernel pings the lab (no static neighbours: it must
#            ARP first); ringlab.host answers on afxdp steer=all
#   udp      the lab resolves the peer's MAC by ARP and sends it UDP, which
#            a kernel socket in the peer namespace must receive
#   walk     one packet through fill/rx and tx/comp, indices and owners
#            checked after every step (walk_one_packet.lua)
#   sigint / sigterm   a ringlab script looping on afxdp gets the signal; it
#            must exit through close (130 / 143) and leave no XDP program
#   netns    `ringlab --netns` shows the namespace's own /sys/class/net
# The testbed is always taken down, then nothing of it may be left: no
# namespace, no link, no XDP program. Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
PEER=$PEERNS
BG=

finish() {
	rc=$?
	if [ -n "$BG" ]; then kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
	no_xdp || rc=1
	tb down name="$NAME" || rc=1
	leftovers || rc=1
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "host_case $NAME $CASE: PASS" || echo "host_case $NAME $CASE: FAIL ($rc)"
	exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

tb down name="$NAME" force=true >/dev/null 2>&1
case $CASE in
ping|udp) tb up name="$NAME" neigh=false || exit 1 ;;
*) tb up name="$NAME" || exit 1 ;;
esac
PEER_MAC=$(ip -n "$PEER" -o link show dev "$PIF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
LAB_MAC=$(ip -n "$LAB" -o link show dev "$IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

case_ping() {
	ip -n "$PEER" neigh show 198.18.0.1 | grep -q PERMANENT &&
		{ echo "FAIL: the peer has a static entry for the lab"; return 1; }
	"$RINGLAB" --netns "$LAB" "$HERE/host_ping.lua" "$IF" "$TMP/ready" 15 >"$TMP/lab.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	ip netns exec "$PEER" ping -c 3 -i 0.2 -W 2 198.18.0.1 || { cat "$TMP/lab.log"; return 1; }
	wait "$BG"; rc=$?; BG=
	cat "$TMP/lab.log"
	[ $rc = 0 ] || return 1
	echo "peer's neighbour entry, learned by ARP:"
	ip -n "$PEER" neigh show 198.18.0.1 | tee "$TMP/neigh"
	grep -q "lladdr $LAB_MAC" "$TMP/neigh" && ! grep -q PERMANENT "$TMP/neigh" ||
		{ echo "FAIL: the peer did not learn $LAB_MAC by ARP"; return 1; }
}

case_udp() {
	ip netns exec "$PEER" "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('198.18.0.2', 9999)); s.settimeout(10)
open('$TMP/ready', 'w').close()
data, src = s.recvfrom(2048)
print('peer kernel socket received %r from %s:%d' % (data, src[0], src[1]))
sys.exit(0 if data == b'hello over ARP' and src == ('198.18.0.1', 9000) else 1)
" &
	BG=$!
	wait_for "$TMP/ready" 50 || return 1
	"$RINGLAB" --netns "$LAB" "$HERE/host_udp.lua" "$IF" "$PEER_MAC" || return 1
	wait "$BG" || { BG=; echo "FAIL: the peer's socket got no datagram"; return 1; }
	BG=
}

case_walk() {
	"$RINGLAB" --netns "$LAB" "$HERE/walk_one_packet.lua" "$IF" "$PEER" "$PEER_MAC"
}

case_signal() { # SIGNAL EXPECTED_STATUS
	"$RINGLAB" --netns "$LAB" "$HERE/loop_until_signal.lua" "$IF" "$TMP/ready" &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	sleep 0.3
	ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL: no XDP program while the script runs"; return 1; }
	kill -"$1" "$BG"
	wait "$BG"; rc=$?; BG=
	echo "ringlab exited with $rc after SIG$1"
	[ "$rc" = "$2" ] || { echo "FAIL: want exit status $2"; return 1; }
	no_xdp || return 1
	echo "no XDP program on $IF after SIG$1"
	ip netns pids "$LAB" | grep -q . && { echo "FAIL: processes left in $LAB"; return 1; }
	return 0
}

case_netns() {
	got=$("$RINGLAB" --netns "$LAB" -e "io.write(io.open('/sys/class/net/$IF/address'):read('a'))") ||
		return 1
	echo "/sys/class/net/$IF/address inside --netns $LAB: $got (ip link: $LAB_MAC)"
	[ "$got" = "$LAB_MAC" ] || { echo "FAIL: want $LAB_MAC"; return 1; }
	[ -e "/sys/class/net/$IF" ] && { echo "FAIL: the remount leaked to the root namespace"; return 1; }
	return 0
}

case $CASE in
ping) case_ping ;;
udp) case_udp ;;
walk) case_walk ;;
sigint) case_signal INT 130 ;;
sigterm) case_signal TERM 143 ;;
netns) case_netns ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
