#!/bin/sh
# queues_case.sh NAME - AF_XDP on two queues (issue 14.3) on testbed NAME
# (its own, made with queues=2 and removed here): the veths have 2 RX and 2
# TX queues (ethtool -l); queues.lua opens afxdp queues=2 (one socket per
# queue on one UMEM), receives the peer's 16 UDP flows on both queues,
# sends on each queue and spread, checks owners and one-line errors; the
# peer's kernel must receive every datagram sent. Nothing may be left
# behind. Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
case_trap queues_case

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" queues=2 >"$TMP/up" || exit 1
grep -q "up, mtu 1500, 2 queues" "$TMP/up" || { cat "$TMP/up"; echo "FAIL: status does not say 2 queues"; exit 1; }
ip -n "$LAB" -d link show dev "$IF" | grep -q "numtxqueues 2 numrxqueues 2" ||
	{ echo "FAIL: $IF does not have 2 RX and 2 TX queues"; ip -n "$LAB" -d link show dev "$IF"; exit 1; }
if command -v ethtool >/dev/null; then
	ip netns exec "$LAB" ethtool -l "$IF" | awk '/Current/ { c = 1 } c && /^RX:/ { rx = $2 } c && /^TX:/ { tx = $2 }
		END { exit !(rx == 2 && tx == 2) }' || { echo "FAIL: ethtool -l $IF does not say RX 2 TX 2"; exit 1; }
fi
PEER_MAC=$(ip -n "$PEERNS" -o link show dev "$PIF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$PEER_MAC" ] || { echo "FAIL: no MAC for $PIF"; exit 1; }

# the peer: 16 flows to the lab until STOP appears, and a kernel UDP
# socket on 9998 counting what the lab sends; prints the count at the end
ip netns exec "$PEERNS" "$PYTHON" -c '
import os, socket, sys, threading, time
ready, stop, done = sys.argv[1], sys.argv[2], sys.argv[3]
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("198.18.0.2", 9998)); rx.settimeout(0.2)
got = [0]
def count():
    while not os.path.exists(done):
        try:
            d, src = rx.recvfrom(2048)
        except socket.timeout:
            continue
        if src[0] == "198.18.0.1" and d.startswith(b"queue test "):
            got[0] += 1
t = threading.Thread(target=count); t.start()
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
open(ready, "w").close()
t0 = time.time()
while not os.path.exists(stop) and time.time() - t0 < 30:
    for port in range(9000, 9016):
        tx.sendto(b"flow %d" % port, ("198.18.0.1", port))
    time.sleep(0.005)
t.join()
print("peer: received %d" % got[0])' "$TMP/ready" "$TMP/stop" "$TMP/done" >"$TMP/peer.log" 2>&1 &
BG=$!
wait_for "$TMP/ready" 50 || exit 1

"$RINGLAB" --netns "$LAB" "$HERE/queues.lua" "$IF" "$PEER_MAC" "$TMP/stop" >"$TMP/out" 2>&1
src=$?
cat "$TMP/out"
[ $src = 0 ] || { echo "FAIL: queues.lua exited with $src"; exit 1; }
sleep 0.5
touch "$TMP/done"
wait "$BG"; BG=
cat "$TMP/peer.log"
sent=$(sed -n 's/^sent \([0-9]*\)$/\1/p' "$TMP/out")
got=$(sed -n 's/^peer: received \([0-9]*\)$/\1/p' "$TMP/peer.log")
[ -n "$sent" ] && [ "$sent" = "$got" ] ||
	{ echo "FAIL: the lab sent ${sent:-?} datagrams, the peer's kernel received ${got:-?}"; exit 1; }
echo "the peer's kernel received all $got datagrams sent on queues 0 and 1"
