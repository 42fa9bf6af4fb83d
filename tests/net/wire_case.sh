#!/bin/sh
# wire_case.sh - what the prompt tells a user on a real wire, in its own
# testbed.
#
#   wire_case.sh NAME CASE
#
# CASE is one of
#   hostup    the lab veth's address is changed to 198.18.0.7: `host up`
#             takes it from the interface and says what to run in the peer
#             namespace of this testbed (NAME-peer, from ringlab running in
#             NAME-lab), `serve ping 4` answers the peer's real ping (after
#             real ARP: neigh=false), the peer learns the lab's MAC;
#             lab.netns is found both with --netns and under ip netns exec
#   noregion  `send tcp|udp` on afxdp and on dpdk net_af_packet without a
#             region: one line naming `region ...` with the frame size that
#             engine needs (4096 on net_af_packet); then `region` alone on
#             net_af_packet gives 4096-byte frames and a datagram reaches a
#             kernel socket in the peer namespace (dpdk part skipped
#             without a usable dpdk engine)
#   tmux80    at 80x24 in tmux, `send tcp` with nothing listening: the
#             error's one line is cut between words on the screen (no word
#             broken, nothing past column 80) and names this testbed's peer
#             namespace and scripts/tcp_sink.py; a second tcp_sink.py on the
#             same port says so in one line (no traceback)
#   tcp_arp   no static neighbours (neigh=false): `send tcp 198.18.0.2:8080
#             size=64k` (sg) with no MAC given reaches scripts/tcp_sink.py in
#             the peer namespace, whose CRC-32 of the 65536 bytes equals
#             ours; the peer learned the lab's MAC by ARP (no PERMANENT
#             entry; the lab found the peer's by ARP too, there being no
#             entry to read); no frame left held (show owners); to
#             198.18.0.9, which nobody has, one line says no ARP reply
#   udp_arp   no static neighbours: `send udp 198.18.0.2:9999 size=64k`
#             (sg) reaches a kernel UDP socket in the peer namespace as 46
#             datagrams of at most 1448 bytes whose 65536 bytes, in order,
#             are the lab's pattern (each 16 bytes name their offset);
#             show arp then lists the peer's MAC the send found by ARP
# The testbed is always taken down, then nothing of it may be left: no
# namespace, no link, no XDP program. Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
PEER=$PEERNS
case_trap wire_case

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" neigh=false >/dev/null || exit 1
LAB_MAC=$(ip -n "$LAB" -o link show dev "$IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

# want FILE TEXT: FILE has the line fragment TEXT (fixed string)
want() {
	grep -qF -- "$2" "$1" || { echo "FAIL: no '$2' in:"; cat "$1"; return 1; }
}

# one_line FILE TEXT: FILE (a refused command's stderr) is exactly one line,
# with TEXT in it
one_line() {
	n=$(wc -l <"$1")
	[ "$n" = 1 ] || { echo "FAIL: want one line, got $n:"; cat "$1"; return 1; }
	want "$1" "$2"
}

case_hostup() {
	ip -n "$LAB" addr flush dev "$IF" && ip -n "$LAB" addr add 198.18.0.7/24 dev "$IF" || return 1
	"$RINGLAB" --netns "$LAB" -c "open afxdp ifname=$IF steer=all" -c "region frames=64" \
		-c "host up" -c "serve ping 4" >"$TMP/out" 2>&1 &
	BG=$!
	for _ in $(seq 40); do grep -q "answering ARP" "$TMP/out" && break; sleep 0.1; done
	ip netns exec "$PEER" ping -c 2 -i 0.3 -W 2 198.18.0.7 || { cat "$TMP/out"; return 1; }
	wait "$BG"; prc=$?; BG=
	cat "$TMP/out"
	[ $prc = 0 ] || { echo "FAIL: ringlab exited with $prc"; return 1; }
	want "$TMP/out" "198.18.0.7 is up" || return 1
	want "$TMP/out" "(try: ip netns exec $PEER ping 198.18.0.7)" || return 1
	want "$TMP/out" "echo request from 198.18.0.2" || return 1
	want "$TMP/out" "host 198.18.0.7 ($LAB_MAC)" || return 1
	grep -q "rl-peer" "$TMP/out" && { echo "FAIL: names rl-peer, not $PEER"; return 1; }
	ip -n "$PEER" neigh show 198.18.0.7 | tee "$TMP/neigh"
	want "$TMP/neigh" "lladdr $LAB_MAC" || return 1
	got=$(ip netns exec "$LAB" "$RINGLAB" -e 'io.write(tostring(lab.netns))')
	echo "lab.netns under ip netns exec $LAB: $got"
	[ "$got" = "$LAB" ] || { echo "FAIL: want $LAB"; return 1; }
	got=$("$RINGLAB" --netns "$PEER" -e 'io.write(tostring(lab.netns))')
	echo "lab.netns with --netns $PEER: $got"
	[ "$got" = "$PEER" ] || { echo "FAIL: want $PEER"; return 1; }
}

case_noregion() {
	for proto in "tcp 198.18.0.2:8080 size=64k" "udp 198.18.0.2:9999 size=64k" "udp 198.18.0.2:9999 hi"; do
		"$RINGLAB" --netns "$LAB" -c "open afxdp ifname=$IF" -c "send $proto" >"$TMP/out" 2>"$TMP/err" &&
			{ echo "FAIL: send $proto without a region went through"; return 1; }
		echo "afxdp, send $proto: $(cat "$TMP/err")"
		one_line "$TMP/err" "has no region - make one: region frames=4096 size=2048" || return 1
		want "$TMP/err" "ringlab: send ${proto%% *}: afxdp#1" || return 1
	done
	no_xdp || return 1
	if ! "$RINGLAB" -e 'for _, x in ipairs(lab.engines()) do
		if x.name == "dpdk" and x.available then os.exit(0) end end os.exit(1)'; then
		echo "no usable dpdk engine here: its part is skipped"
		return 0
	fi
	"$RINGLAB" --netns "$LAB" -c "open dpdk vdev=net_af_packet0,iface=$IF" \
		-c "send tcp 198.18.0.2:8080 size=64k" >"$TMP/out" 2>"$TMP/err" &&
		{ echo "FAIL: send tcp on dpdk without a region went through"; return 1; }
	cat "$TMP/out"
	echo "dpdk net_af_packet, send tcp: $(cat "$TMP/err")"
	want "$TMP/out" "next: region frames=4096 size=4096" || return 1
	one_line "$TMP/err" "ringlab: send tcp: dpdk#1 has no region - make one: region frames=4096 size=4096" ||
		return 1
	rm -f "$TMP/ready"
	ip netns exec "$PEER" "$PYTHON" "$HERE/udp_expect_peer.py" 198.18.0.2 9999 "$TMP/ready" 10 \
		"region alone on net_af_packet" >"$TMP/peer.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 50 || return 1
	"$RINGLAB" --netns "$LAB" -c "open dpdk vdev=net_af_packet0,iface=$IF" -c "region" \
		-c "send udp 198.18.0.2:9999 region alone on net_af_packet" >"$TMP/out" 2>&1 ||
		{ cat "$TMP/out"; return 1; }
	cat "$TMP/out"
	want "$TMP/out" "4096 frames x 4096 bytes" || return 1
	wait "$BG"; prc=$?; BG=
	cat "$TMP/peer.log"
	[ $prc = 0 ] || { echo "FAIL: the peer's socket did not get the datagram"; return 1; }
}

case_tmux80() {
	command -v tmux >/dev/null || { echo "SKIP: needs tmux"; exit 77; }
	sink=$HERE/../../scripts/tcp_sink.py
	sock=$TMP/tmux.sock
	tmux -S "$sock" new-session -d -x 80 -y 24 "$RINGLAB --netns $LAB" || return 1
	tmux -S "$sock" send-keys "open afxdp ifname=$IF" Enter
	tmux -S "$sock" send-keys "region frames=256" Enter
	tmux -S "$sock" send-keys "send tcp 198.18.0.2:8080 size=64k" Enter
	for _ in $(seq 80); do
		tmux -S "$sock" capture-pane -p | grep -q "^error: " && break
		sleep 0.1
	done
	sleep 0.3
	tmux -S "$sock" capture-pane -p >"$TMP/screen"
	tmux -S "$sock" kill-server
	cat "$TMP/screen"
	sed -n '/^error: /,/^ringlab/p' "$TMP/screen" | sed '$d' >"$TMP/error"
	[ -s "$TMP/error" ] || { echo "FAIL: no error on the screen"; return 1; }
	awk 'length($0) >= 80 { bad = 1 } END { exit bad }' "$TMP/error" ||
		{ echo "FAIL: a line reaches column 80 (cut mid-word by the terminal)"; return 1; }
	joined=$(tr '\n' ' ' <"$TMP/error" | tr -s ' ')
	echo "the error, joined: $joined"
	case $joined in
	*"nothing listens there - start a listener: ip netns exec $PEER python3 "*"/tcp_sink.py 198.18.0.2 8080 ") ;;
	*) echo "FAIL: not the listener hint for $PEER"; return 1 ;;
	esac
	ip netns exec "$PEER" "$PYTHON" "$sink" 198.18.0.2 8080 >"$TMP/sink1" 2>&1 &
	BG=$!
	for _ in $(seq 50); do grep -q listening "$TMP/sink1" && break; sleep 0.1; done
	ip netns exec "$PEER" "$PYTHON" "$sink" 198.18.0.2 8080 >"$TMP/sink2" 2>&1 &&
		{ echo "FAIL: a second sink on the same port started"; return 1; }
	cat "$TMP/sink2"
	one_line "$TMP/sink2" "tcp_sink.py: cannot listen on 198.18.0.2:8080: Address already in use - is a sink already running?"
}

case_tcp_arp() {
	sink=$HERE/../../scripts/tcp_sink.py
	ip -n "$PEER" neigh show | grep -q PERMANENT && { echo "FAIL: the peer has static entries"; return 1; }
	ip netns exec "$PEER" "$PYTHON" "$sink" 198.18.0.2 8080 >"$TMP/sink" 2>&1 &
	BG=$!
	for _ in $(seq 50); do grep -q listening "$TMP/sink" && break; sleep 0.1; done
	printf '%s\n' "open afxdp ifname=$IF sg=true" "region" "send tcp 198.18.0.2:8080 size=64k" \
		"show owners" >"$TMP/in"
	"$RINGLAB" --netns "$LAB" <"$TMP/in" >"$TMP/out" 2>&1 || { cat "$TMP/out"; return 1; }
	grep -v '^ *[0-9]\+  ' "$TMP/out"
	kill "$BG"; wait "$BG" 2>/dev/null; BG=
	cat "$TMP/sink"
	want "$TMP/out" "strategy sg, from afxdp#1" || return 1
	crc=$(sed -n 's/.* sent 65536 bytes crc32 \([0-9a-f]*\)$/\1/p' "$TMP/sink")
	[ -n "$crc" ] || { echo "FAIL: the sink got no 65536-byte body"; return 1; }
	want "$TMP/out" "receiver: 65536 bytes arrived intact (the peer's crc32 $crc is ours)" || return 1
	want "$TMP/out" "(held 0 + free" || return 1
	want "$TMP/out" "(conserved)" || return 1
	grep -q "^ringlab:\|^error" "$TMP/out" && { echo "FAIL: an error above"; return 1; }
	ip -n "$PEER" neigh show 198.18.0.1 | tee "$TMP/neigh"
	want "$TMP/neigh" "lladdr $LAB_MAC" || return 1
	grep -q PERMANENT "$TMP/neigh" && { echo "FAIL: a static entry on the peer"; return 1; }
	# an address nobody on the wire has: one line saying so
	"$RINGLAB" --netns "$LAB" -c "open afxdp ifname=$IF" -c "region frames=256" \
		-c "send tcp 198.18.0.9:8080 size=64k" >"$TMP/out" 2>"$TMP/err" &&
		{ echo "FAIL: a send to 198.18.0.9 went through"; return 1; }
	one_line "$TMP/err" "ringlab: send tcp: no ARP reply for 198.18.0.9 through afxdp#1 - nothing on this wire has that address"
}

case_udp_arp() {
	rm -f "$TMP/ready"
	ip netns exec "$PEER" "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(('198.18.0.2', 9999))
s.settimeout(10)
open('$TMP/ready', 'w').close()
got = []
while sum(map(len, got)) < 65536:
    d, src = s.recvfrom(65536)
    if src != ('198.18.0.1', 9000):
        sys.exit('from %s:%d, not the lab' % src)
    got.append(d)
blob = b''.join(got)
want = b''.join(b'%015x\\n' % (i * 16) for i in range(4096))
print('peer kernel socket: %d datagrams, %d bytes, largest %d, equal to the pattern: %s'
      % (len(got), len(blob), max(map(len, got)), blob == want))
sys.exit(0 if blob == want and len(got) == 46 and max(map(len, got)) <= 1448 else 1)
" >"$TMP/peer.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 50 || return 1
	printf '%s\n' "open afxdp ifname=$IF sg=true" "region" "send udp 198.18.0.2:9999 size=64k" \
		"show owners" "show arp" >"$TMP/in"
	"$RINGLAB" --netns "$LAB" <"$TMP/in" >"$TMP/out" 2>&1 || { cat "$TMP/out"; return 1; }
	grep -v '^ *[0-9]\+  ' "$TMP/out"
	wait "$BG"; prc=$?; BG=
	cat "$TMP/peer.log"
	[ $prc = 0 ] || { echo "FAIL: the peer's socket did not get the 64 KiB as sent"; return 1; }
	want "$TMP/out" "46 datagrams in " || return 1
	peer_mac=$(ip -n "$PEER" -o link show dev "$PIF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	want "$TMP/out" "neighbours this engine sent to (ip, mac; no host runs: host up answers ARP):" || return 1
	want "$TMP/out" "  198.18.0.2      $peer_mac" || return 1
	want "$TMP/out" "(conserved)" || return 1
	grep -q "^ringlab:\|^error" "$TMP/out" && { echo "FAIL: an error above"; return 1; }
	return 0
}

case $CASE in
udp_arp) case_udp_arp ;;
tcp_arp) case_tcp_arp ;;
tmux80) case_tmux80 ;;
hostup) case_hostup ;;
noregion) case_noregion ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
