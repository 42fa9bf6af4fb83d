#!/bin/sh
# signal_loops.sh RINGLAB HOW SIGNAL STATUS [twice]
#
# Runs signal_loops.lua HOW (a loop in a coroutine, tcp tasks, a pcall
# loop, http.serve ...), sends SIGNAL once it is looping (twice: a second
# one 50 ms later), and checks that ringlab ends within 5 s with exit
# status STATUS and, on stderr, "interrupted" (SIGINT) or "stopped by ...;
# engines closed" (SIGTERM) - the loop did not swallow the interruption.
set -u
RINGLAB=$1 HOW=$2 SIG=$3 WANT=$4 TWICE=${5:-}
HERE=$(dirname "$0")
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
"$RINGLAB" "$HERE/signal_loops.lua" "$HOW" "$TMP/ready" >"$TMP/out" 2>"$TMP/err" &
BG=$!
i=0
while [ ! -e "$TMP/ready" ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "FAIL: $HOW never got going"; cat "$TMP/err"; kill -9 $BG; exit 1; }
	sleep 0.05
done
sleep 0.2
kill -"$SIG" $BG
[ "$TWICE" = twice ] && { sleep 0.05; kill -"$SIG" $BG 2>/dev/null; }
i=0
while kill -0 $BG 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "FAIL: $HOW still running 5 s after SIG$SIG (swallowed)"; kill -9 $BG; exit 1; }
	sleep 0.05
done
wait $BG; rc=$?
echo "$HOW: exit status $rc after SIG$SIG${TWICE:+ (twice)}; stderr:"; cat "$TMP/err"
[ "$rc" = "$WANT" ] || { echo "FAIL: want exit status $WANT"; exit 1; }
if [ "$SIG" = INT ]; then
	grep -qx "interrupted" "$TMP/err" || { echo "FAIL: want the line 'interrupted'"; exit 1; }
else
	grep -qx "ringlab: stopped by Terminated; engines closed" "$TMP/err" ||
		{ echo "FAIL: want the stopped line"; exit 1; }
fi
[ "$(wc -l <"$TMP/err")" = 1 ] || { echo "FAIL: want one line on stderr"; exit 1; }
echo "PASS"
