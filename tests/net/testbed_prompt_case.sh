#!/bin/sh
# testbed_prompt_case.sh - the testbed from the prompt: `testbed up name=X
# queues=2` makes both namespaces and a two-queue veth, `testbed status`
# says so, `kernel send` uses it from where ringlab runs, `testbed down`
# removes it all; a wrong word is one line, and `ringlab testbed up` typed
# at the prompt says to drop the word. Needs root (else exit 77).
#   testbed_prompt_case.sh NAME
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR
set -u
NAME=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
case_trap testbed_prompt
tb down name="$NAME" force=true >/dev/null 2>&1

fail() { echo "FAIL: $*"; cat "$TMP/out"; exit 1; }

NO_COLOR=1 "$RINGLAB" -c "testbed up name=$NAME queues=2" -c "testbed status name=$NAME" \
	-c "kernel send write size=64k testbed=$NAME" >"$TMP/out" 2>&1 || fail "ringlab exited $?"
cat "$TMP/out"
grep -q "^testbed $NAME: up, mtu 1500, 2 queues" "$TMP/out" || fail "status does not say up with 2 queues"
grep -q "ringlab --netns $NAME-lab" "$TMP/out" || fail "no line on how to start inside it"
ip netns list | grep -q "^$LAB\\b" || fail "no namespace $LAB"
ip netns list | grep -q "^$PEERNS\\b" || fail "no namespace $PEERNS"
ip -n "$LAB" -d link show dev "$IF" | grep -q "numtxqueues 2 numrxqueues 2" || fail "$IF has not 2 queues"
grep -q "^write  *64 KiB intact" "$TMP/out" || fail "kernel send: the peer did not get the 64 KiB intact"

NO_COLOR=1 "$RINGLAB" -c "testbed down name=$NAME" >"$TMP/out" 2>&1 || fail "down exited $?"
cat "$TMP/out"
grep -q "^testbed $NAME: down" "$TMP/out" || fail "down did not say down"
if ip netns list | grep -Eq "^($LAB|$PEERNS)( |\$)"; then fail "a namespace is left"; fi

NO_COLOR=1 "$RINGLAB" -c "testbed bogus" >"$TMP/out" 2>&1 && fail "testbed bogus was accepted"
[ "$(wc -l <"$TMP/out")" = 1 ] || fail "testbed bogus: not one line"
grep -q "say testbed up, testbed down or testbed status" "$TMP/out" || fail "testbed bogus: no hint"
printf 'ringlab testbed up name=%s\n' "$NAME" | NO_COLOR=1 "$RINGLAB" >"$TMP/out" 2>&1
grep -q "is for your shell - here drop the word: testbed up" "$TMP/out" || fail "no hint for 'ringlab ...' typed"
if ip netns list | grep -Eq "^($LAB|$PEERNS)( |\$)"; then fail "'ringlab testbed up' at the prompt made something"; fi
exit 0
