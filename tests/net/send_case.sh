#!/bin/sh
# send_case.sh NAME CASE - `send tcp DST size=` typed at the prompt on afxdp
# against the Linux kernel of testbed NAME (its own, made and removed here):
#   refused   nothing listens on the peer: one line that says what to run
#             there (scripts/tcp_sink.py with the peer namespace's name),
#             and no frame left held
#   sink      scripts/tcp_sink.py in the peer: reuse count=3 (staged once,
#             copied 65536 in all) and born 1 MiB (copied 0) arrive intact -
#             the sink's CRC-32 equals the prompt's, and the sink's own log
#             shows the byte counts
# Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON SINK
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
case_trap send_case

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" >/dev/null || exit 1

# prompt FILE: the lines of FILE typed at the prompt in the lab namespace
prompt() {
	"$RINGLAB" --netns "$LAB" <"$1" >"$TMP/out" 2>&1
	prc=$?
	grep -v '^ *[0-9]\+  ' "$TMP/out"
	[ $prc = 0 ] || { echo "FAIL: ringlab exited with $prc"; return 1; }
	grep -q 'held 0 + free' "$TMP/out" || { echo "FAIL: frames left held by the program"; return 1; }
	grep -q '(conserved)' "$TMP/out" || { echo "FAIL: owners not shown conserved"; return 1; }
}

expect() {
	grep -qF -- "$1" "$TMP/out" || { echo "FAIL: the output lacks: $1"; return 1; }
}

case_refused() {
	cat >"$TMP/in" <<-EOF2
	open afxdp ifname=$IF sg=true
	region
	send tcp 198.18.0.2:8080 size=64k strategy=sg
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	expect "error: send tcp: 198.18.0.2:8080 refused the connection (RST): nothing listens there - start a listener: ip netns exec $NAME-peer python3 $SINK 198.18.0.2 8080" || return 1
	[ "$(grep -c '^error:' "$TMP/out")" = 1 ] || { echo "FAIL: more than one error line"; return 1; }
}

case_sink() {
	ip netns exec "$PEERNS" "$PYTHON" "$SINK" 198.18.0.2 8080 >"$TMP/sink.log" 2>&1 &
	BG=$!
	for _ in $(seq 50); do grep -q listening "$TMP/sink.log" 2>/dev/null && break; sleep 0.1; done
	cat >"$TMP/in" <<-EOF2
	open afxdp ifname=$IF sg=true
	region
	send tcp 198.18.0.2:8080 size=64k strategy=reuse count=3
	send tcp 198.18.0.2:8080 size=1m strategy=born
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	cat "$TMP/sink.log"
	expect "  send 1: 45 segments in 45 descriptors to the NIC, all ACKed - copied 65536" || return 1
	expect "  send 3: 45 segments in 45 descriptors to the NIC, all ACKed - copied 0" || return 1
	expect "ledger: copied 65536  referenced 131072" || return 1
	expect "receiver: 196608 bytes arrived intact (the peer's crc32" || return 1
	expect "ledger: copied 0  referenced 1048576" || return 1
	expect "receiver: 1048576 bytes arrived intact (the peer's crc32" || return 1
	grep -q "sent 196608 bytes crc32" "$TMP/sink.log" || { echo "FAIL: the sink did not get 196608 bytes"; return 1; }
	grep -q "sent 1048576 bytes crc32" "$TMP/sink.log" || { echo "FAIL: the sink did not get 1 MiB"; return 1; }
	if grep -q '^error:' "$TMP/out"; then echo "FAIL: an error above"; return 1; fi
}

"case_$CASE"
