#!/bin/sh
# dpdk_kill9_stale_dir.sh RINGLAB - a ringlab killed with SIGKILL leaves its
# DPDK runtime directory (ringlab-PID, no atexit ran); the next ringlab that
# starts DPDK removes it, and leaves the one of a ringlab still running.
# As root the directories are in /var/run/dpdk; otherwise in a fresh
# XDG_RUNTIME_DIR of this test's own.
set -u
RINGLAB=$1
TMP=$(mktemp -d) || exit 1
if [ "$(id -u)" = 0 ]; then
	base=/var/run/dpdk
else
	XDG_RUNTIME_DIR=$TMP/run
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	export XDG_RUNTIME_DIR
	base=$XDG_RUNTIME_DIR/dpdk
fi
LIVE= DEAD=
finish() {
	rc=$?
	[ -n "$DEAD" ] && { kill -KILL "$DEAD" 2>/dev/null; wait "$DEAD" 2>/dev/null; }
	[ -n "$LIVE" ] && { kill -TERM "$LIVE" 2>/dev/null; wait "$LIVE" 2>/dev/null; }
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "dpdk_kill9_stale_dir: PASS" || echo "dpdk_kill9_stale_dir: FAIL"
	exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

cat >"$TMP/hold.lua" <<'EOF2'
local e = lab.open("dpdk", { vdev = "net_null0", log = "emergency" })
io.open(arg[1], "w"):close()
lab.sleep(60)
EOF2
hold() { # READY_FILE: a ringlab holding DPDK, in the background
	"$RINGLAB" "$TMP/hold.lua" "$1" >"$1.log" 2>&1 &
}
wait_for() {
	for _ in $(seq 150); do [ -e "$1" ] && return 0; sleep 0.1; done
	echo "FAIL: $1 did not appear"; cat "$1.log"; return 1
}

hold "$TMP/dead.ready"; DEAD=$!
hold "$TMP/live.ready"; LIVE=$!
wait_for "$TMP/dead.ready" || exit 1
wait_for "$TMP/live.ready" || exit 1
kill -KILL "$DEAD"; wait "$DEAD" 2>/dev/null
[ -d "$base/ringlab-$DEAD" ] || { echo "FAIL: SIGKILL left no $base/ringlab-$DEAD (nothing to test)"; exit 1; }
echo "kill -9 left $base/ringlab-$DEAD"
dead=$DEAD; DEAD=
"$RINGLAB" -e 'local e = lab.open("dpdk", { vdev = "net_null0", log = "emergency" }) e:close()' ||
	{ echo "FAIL: the fresh start failed"; exit 1; }
[ -d "$base/ringlab-$dead" ] && { echo "FAIL: $base/ringlab-$dead is still there after a fresh start"; exit 1; }
echo "the fresh start removed $base/ringlab-$dead"
[ -d "$base/ringlab-$LIVE" ] || { echo "FAIL: the running ringlab's $base/ringlab-$LIVE was removed"; exit 1; }
echo "and kept $base/ringlab-$LIVE of the ringlab still running"
exit 0
