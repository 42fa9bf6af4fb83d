#!/bin/sh
# fault_case.sh - faults injected under a running ringlab, in its own testbed.
#
#   fault_case.sh NAME CASE
#
# CASE is one of
#   veth_deleted   a script loops rx/tx on afxdp; the lab veth is deleted
#                  under it: the script ends with one line saying the
#                  interface went away (exit 1), nothing of it left
#   peer_deleted_mid_tcp   `send tcp size=16m` at the prompt to a kernel
#                  listener; the peer's veth and namespace are deleted
#                  mid-send: one error line, the prompt goes on, owners
#                  conserved and no frame left held by the program
#   full_disk      a capture (lab.pcap) onto a 64 KiB tmpfs mounted in a
#                  mount namespace of its own fills it: one line saying the
#                  write failed and the capture is incomplete (exit 1)
# The testbed is always taken down, then nothing of it may be left: no
# namespace, no link, no XDP program. Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
BG= SINK_PID=

finish() {
	rc=$?
	if [ -n "$BG" ]; then kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
	if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; fi
	tb down name="$NAME" force=true >/dev/null 2>&1
	leftovers || rc=1
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "fault_case $NAME $CASE: PASS" || echo "fault_case $NAME $CASE: FAIL ($rc)"
	exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" >/dev/null || exit 1

one_line() { # FILE WORDS: FILE is one line holding WORDS
	cat "$1"
	[ "$(wc -l <"$1")" = 1 ] || { echo "FAIL: want one line"; return 1; }
	grep -qF -- "$2" "$1" || { echo "FAIL: the line lacks: $2"; return 1; }
}

case_veth_deleted() {
	cat >"$TMP/loop.lua" <<-EOF
	local e = lab.open("afxdp", { ifname = "$IF" })
	e:region { frames = 4096 }
	e:fill(2048)
	io.open("$TMP/ready", "w"):close()
	local t0 = lab.now()
	while lab.now() - t0 < 20 do
	  for _, p in ipairs(e:rx(64)) do p:release() end
	  e:tx(lab.packet.udp { dst = "198.18.0.2:9", payload = "x" })
	  e:kick()
	  e:complete()
	  lab.sleep(0.01)
	end
	print("FAIL: the loop never noticed")
	EOF
	"$RINGLAB" --netns "$LAB" "$TMP/loop.lua" >"$TMP/out" 2>"$TMP/err" &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	sleep 0.3
	ip -n "$LAB" link del "$IF" || return 1
	wait "$BG"; rc=$?; BG=
	echo "ringlab exited with $rc"
	[ "$rc" = 1 ] || { echo "FAIL: want exit status 1"; cat "$TMP/out"; return 1; }
	one_line "$TMP/err" "interface $IF went away under this engine" || return 1
	[ -s "$TMP/out" ] && { echo "FAIL: it printed:"; cat "$TMP/out"; return 1; }
	return 0
}

case_peer_deleted_mid_tcp() {
	ip netns exec "$PEERNS" "$PYTHON" "$HERE/tcp_sha_sink.py" 198.18.0.2 8080 "$TMP/sready" \
		16777216 60 >"$TMP/sink.log" 2>&1 &
	SINK_PID=$!
	wait_for "$TMP/sready" 100 || return 1
	printf '%s\n' "open afxdp ifname=$IF" region \
		"send tcp 198.18.0.2:8080 size=16m strategy=copy" "show owners" >"$TMP/in"
	"$RINGLAB" --netns "$LAB" <"$TMP/in" >"$TMP/out" 2>&1 &
	BG=$!
	sleep 0.7
	kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null; SINK_PID=
	ip -n "$PEERNS" link del "$PIF" || return 1
	ip netns del "$PEERNS" || return 1
	wait "$BG"; rc=$?; BG=
	grep -v '^ *[0-9]\+  ' "$TMP/out"
	[ "$rc" = 0 ] || { echo "FAIL: ringlab exited with $rc"; return 1; }
	grep '^error:' "$TMP/out" >"$TMP/err"
	one_line "$TMP/err" "went away under this engine" || return 1
	grep -q '(conserved)' "$TMP/out" || { echo "FAIL: owners not shown conserved"; return 1; }
	grep -q 'held 0 + free' "$TMP/out" || { echo "FAIL: frames left held by the program"; return 1; }
}

case_full_disk() {
	mkdir "$TMP/mnt"
	cat >"$TMP/cap.lua" <<-'EOF'
	local a = lab.open("sim")
	a:region { frames = 256 }
	local b = lab.open("sim", { peer = a })
	local r = b:region { frames = 256 }
	local cap = lab.pcap(b, arg[1] .. "/trace.pcap")
	for _ = 1, 400 do
	  b:tx(lab.packet.udp { dst = "198.18.0.2:9", region = r, payload = string.rep("x", 1400) })
	  b:kick()
	  b:complete()
	end
	cap:flush()
	print("FAIL: a full disk was not noticed")
	EOF
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m sh -c 'mount -t tmpfs -o size=64k ringlab-full "$1" && "$2" "$3" "$1"' \
		full_disk "$TMP/mnt" "$RINGLAB" "$TMP/cap.lua" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	echo "ringlab exited with $rc"
	[ "$rc" = 1 ] || { echo "FAIL: want exit status 1"; cat "$TMP/out" "$TMP/err"; return 1; }
	one_line "$TMP/err" "No space left on device - the capture is incomplete" || return 1
	[ -s "$TMP/out" ] && { echo "FAIL: it printed:"; cat "$TMP/out"; return 1; }
	mountpoint -q "$TMP/mnt" && { echo "FAIL: the tmpfs is mounted outside its namespace"; return 1; }
	return 0
}

case $CASE in
veth_deleted) case_veth_deleted ;;
peer_deleted_mid_tcp) case_peer_deleted_mid_tcp ;;
full_disk) case_full_disk ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
