#!/bin/sh
# tcp_case.sh - the lab's userspace TCP and HTTP against the Linux kernel,
# over AF_XDP on a real veth, in a testbed of its own.
#
#   tcp_case.sh NAME CASE
#
# CASE is one of
#   post     a 64 KiB POST from the lab (afxdp, steer=all, ringlab.host)
#            to a python3 http.server subclass in the peer namespace, with
#            each strategy copy/reuse/born/sg: the server's sha256 of the
#            body must equal ours, and the ledger figures hold
#   curl     curl in the peer namespace downloads a 1 MiB file from the
#            lab's HTTP server (reuse): sha256 equal
#   reuse5   5 curls one after the other against the reuse server: every
#            download intact, copied = the file size once
#   pcap     the post case captured with lab.pcap: tshark finds no bad
#            checksum
#   demo     scripts/http_strategies.lua afxdp, which is
#            scripts/strategies_by_engine.lua afxdp (its own testbed, rlsx)
#   by_dpdk  scripts/strategies_by_engine.lua dpdk-wire (testbed rlsd)
# The peer's veth sends real segments: TSO and GSO are turned off on it
# (the testbed already turns off its tx checksum offload). The testbed is
# always taken down. Needs root (else exit 77).
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
	for p in $(ip netns pids "$PEER" 2>/dev/null) $(ip netns pids "$LAB" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	tb down name="$NAME" force=true >/dev/null || rc=1
	leftovers || rc=1
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "tcp_case $NAME $CASE: PASS" || echo "tcp_case $NAME $CASE: FAIL ($rc)"
	exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

if [ "$CASE" = demo ]; then
	"$RINGLAB" "$HERE/../../scripts/http_strategies.lua" afxdp
	exit $?
fi
if [ "$CASE" = by_dpdk ]; then
	"$RINGLAB" "$HERE/../../scripts/strategies_by_engine.lua" dpdk-wire
	exit $?
fi

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" || exit 1
ip netns exec "$PEER" ethtool -K "$PIF" tso off gso off >/dev/null 2>&1
ip netns exec "$PEER" ethtool -k "$PIF" | grep -E "^(tcp-segmentation|generic-segmentation)"

post() { # [pcap file]
	ip netns exec "$PEER" "$PYTHON" "$HERE/http_sha_server.py" 198.18.0.2 8080 "$TMP/ready" 60 \
		>"$TMP/peer.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	"$RINGLAB" --netns "$LAB" "$HERE/tcp_post.lua" "$IF" "${1:-}" || { cat "$TMP/peer.log"; return 1; }
	echo "the peer's server saw:"; cat "$TMP/peer.log"
}

serve() { # clients
	head -c 1048576 /dev/urandom >"$TMP/file.bin"
	want=$(sha256sum <"$TMP/file.bin" | cut -d' ' -f1)
	"$RINGLAB" --netns "$LAB" "$HERE/tcp_serve.lua" "$IF" "$TMP/file.bin" "$1" "$TMP/ready" \
		>"$TMP/lab.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 100 || { cat "$TMP/lab.log"; return 1; }
	for i in $(seq "$1"); do
		ip netns exec "$PEER" curl -sS --max-time 20 -o "$TMP/got$i" \
			-w "curl $i: HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n" \
			http://198.18.0.1:8080/file || { cat "$TMP/lab.log"; return 1; }
		got=$(sha256sum <"$TMP/got$i" | cut -d' ' -f1)
		[ "$got" = "$want" ] || { echo "FAIL: download $i sha256 $got, want $want"; return 1; }
	done
	wait "$BG"; rc=$?; BG=
	cat "$TMP/lab.log"
	[ $rc = 0 ] || return 1
	echo "all $1 downloads have sha256 $want"
}

case $CASE in
post) post ;;
pcap)
	post "$TMP/lab.pcap" || exit 1
	bad=$(tshark -n -r "$TMP/lab.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-Y 'tcp.checksum.status == 0 || ip.checksum.status == 0 || _ws.malformed' \
		-T fields -e frame.number 2>/dev/null | wc -l)
	total=$(tshark -n -r "$TMP/lab.pcap" -Y tcp -T fields -e frame.number 2>/dev/null | wc -l)
	echo "tshark: $total TCP packets in the lab's capture, $bad with a bad checksum or malformed"
	[ "$total" -gt 100 ] && [ "$bad" = 0 ]
	;;
curl) serve 1 ;;
reuse5) serve 5 ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
