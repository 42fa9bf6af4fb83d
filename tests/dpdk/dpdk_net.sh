#!/bin/sh
# dpdk_net.sh - the DPDK engine on a real wire, in a testbed of its own.
#
#   dpdk_net.sh NAME CASE
#
# Makes testbed NAME (NAME-lab with veth NAME0 198.18.0.1, NAME-peer with
# NAME1 198.18.0.2), runs CASE, always takes the testbed down and checks
# nothing is left. Needs root (else "SKIP", exit 77). CASE:
#   af_xdp       UDP echo through net_af_xdp on NAME0 (objects layout)
#   af_packet    UDP echo through net_af_packet on NAME0
#   tap          UDP echo through net_tap: its interface NAMEt is bridged
#                with NAME0 in the lab namespace (NAMEbr), and the peer's
#                neighbour entry for 198.18.0.1 points at the DPDK port
#   tap_too_few  a region smaller than net_tap's descriptors: clear error
#   shared       a frame in several descriptors (issue 14.1): 64 KiB of sg
#                UDP over net_af_packet on NAME0 in at most 2 kicks, the
#                frames where segments meet in an mbuf and aux mbufs at
#                once; a kernel UDP socket in the peer namespace gets the
#                body intact (tests/net/shared_send.lua)
#   http_post    the lab's TCP/HTTP over net_af_packet on NAME0: a 64 KiB
#                POST to http_sha_server.py in the peer namespace with copy,
#                sg, extbuf and gso, digest compared. net_af_packet is a tap:
#                the lab kernel sees the same frames and, owning no socket
#                for the lab's connection, would answer them with RST. So
#                the lab's address is taken off NAME0 for the test: the
#                kernel then drops those frames (not for it, no forwarding)
#                and 198.18.0.1 is the lab stack's alone (it answers ARP).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON PEER
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../net/case_lib.sh"
BG=

finish() {
	rc=$?
	if [ -n "$BG" ]; then kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
	tb down name="$NAME" || rc=1
	leftovers "${NAME}t" || rc=1
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "dpdk_net $NAME $CASE: PASS" || echo "dpdk_net $NAME $CASE: FAIL ($rc)"
	exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" || exit 1
mac() { ip -n "$1" -o link show dev "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
LAB_MAC=$(mac "$LAB" "$IF") PEER_MAC=$(mac "$PEERNS" "$PIF")

# echo VDEV SRC_MAC SIZE COUNT FRAMES FRAME_SIZE FILL [PLUMB]
echo_case() {
	ip netns exec "$PEERNS" "$PYTHON" "$PEER" "$3" "$4" "$TMP/ready" 20 &
	BG=$!
	for _ in $(seq 50); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
	[ -e "$TMP/ready" ] || { echo "FAIL: the python peer did not start"; return 1; }
	"$RINGLAB" --netns "$LAB" "$HERE/dpdk_udp_echo.lua" "$1" "$2" "$PEER_MAC" "$3" "$4" \
		"$5" "$6" "$7" "${8:-}" || return 1
	wait "$BG" || { BG=; echo "FAIL: the python peer failed"; return 1; }
	BG=
}

TAP_MAC=02:00:5e:00:52:01
case $CASE in
af_xdp)
	echo_case "net_af_xdp0,iface=$IF" "$LAB_MAC" 1400 8 4096 4096 2200 &&
	! ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL (or an XDP program left on $IF)"; exit 1; } ;;
af_packet)
	echo_case "net_af_packet0,iface=$IF" "$LAB_MAC" 1400 8 1024 4096 256 ;;
tap)
	# net_tap's interface NAMEt appears in the lab namespace when the
	# engine opens, with the DPDK port's MAC (net_tap sets it again when
	# the port starts). A bridge with NAME0 would take frames for that MAC
	# as its own, so the kernel's end is in the lab namespace itself:
	# NAMEt gets 198.18.1.1/24, the DPDK port is 198.18.1.2 (a static
	# neighbour entry), and a kernel UDP socket on 198.18.1.1:9999 echoes.
	T=${NAME}t
	"$RINGLAB" --netns "$LAB" "$HERE/dpdk_udp_echo.lua" "net_tap0,iface=$T,mac=$TAP_MAC" \
		"$TAP_MAC" "$TAP_MAC" 1400 8 1024 2048 512 \
		"ip addr add 198.18.1.1/24 dev $T && ip link set $T up && ip neigh replace 198.18.1.2 lladdr $TAP_MAC dev $T nud permanent && ($PYTHON $PEER --at 198.18.1.1 1400 8 $TMP/ready 20 &) && for i in \$(seq 50); do [ -e $TMP/ready ] && break; sleep 0.1; done" \
		198.18.1.2 198.18.1.1 ;;
http_post)
	ip -n "$LAB" addr flush dev "$IF"
	ip netns exec "$PEERNS" ethtool -K "$PIF" tso off gso off >/dev/null 2>&1
	ip netns exec "$PEERNS" "$PYTHON" "$HERE/../net/http_sha_server.py" 198.18.0.2 8080 \
		"$TMP/ready" 60 >"$TMP/peer.log" 2>&1 &
	BG=$!
	for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
	RINGLAB_PLUGIN_PATH= "$RINGLAB" --netns "$LAB" "$HERE/dpdk_http_post.lua" \
		"net_af_packet0,iface=$IF" "$IF" || { cat "$TMP/peer.log"; exit 1; }
	echo "the peer's server saw:"; cat "$TMP/peer.log" ;;
shared)
	ip netns exec "$PEERNS" "$PYTHON" "$HERE/../net/udp_body_peer.py" "$TMP/ready" 9998 any-source \
		>"$TMP/peer.log" 2>&1 &
	BG=$!
	for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
	RINGLAB_PLUGIN_PATH= "$RINGLAB" --netns "$LAB" "$HERE/../net/shared_send.lua" "$IF" \
		"$PEER_MAC" 9998 "net_af_packet0,iface=$IF" "$LAB_MAC" >"$TMP/out" 2>&1
	src=$?
	cat "$TMP/out"
	[ $src = 0 ] || { echo "FAIL: shared_send.lua exited with $src"; exit 1; }
	wait "$BG"; prc=$?; BG=
	cat "$TMP/peer.log"
	[ $prc = 0 ] || { echo "FAIL: the peer did not get the body intact"; exit 1; }
	grep -q "46 segments, [0-9]* sharing a chunk, sent in [12] kicks" "$TMP/out" ||
		{ echo "FAIL: the shared frames did not go together"; exit 1; } ;;
tap_too_few)
	out=$("$RINGLAB" --netns "$LAB" -e "
		local e = lab.open('dpdk', {vdev='net_tap0,iface=${NAME}t', log='emergency'})
		local ok, err = pcall(e.region, e, {frames=256, frame_size=2048})
		print(err) assert(not ok) e:close()" 2>&1)
	echo "$out"
	echo "$out" | grep -q "frames=256 is too few for net_tap" &&
		echo "$out" | grep -q "make frames=576 or more" ||
		{ echo "FAIL: want the numbers and the fix"; exit 1; } ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
