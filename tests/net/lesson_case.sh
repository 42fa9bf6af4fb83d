#!/bin/sh
# lesson_case.sh - lessons 1, 3 and 4 on real AF_XDP, with their checks.
#
#   lesson_case.sh NAME
#
# Makes testbed NAME, runs in its lab namespace `lesson 1 afxdp`, `lesson 3
# afxdp` and `lesson 4 afxdp packets=200` (the scripts, --check), and
# checks that each ends with "every check held": lesson 1's packet crosses
# the veth and the peer's Linux answers it (ICMP port unreachable quoting
# it), lesson 3 runs its 8 frames dry and reaps them, lesson 4 carries its
# packets through 32 frames. Then the testbed goes down and nothing is left.
# Needs root (77 otherwise). Environment (CMake): RINGLAB TESTBED_LUA
# PLUGIN_DIR LESSONS
set -u
NAME=$1
. "$(dirname "$0")/case_lib.sh"
case_trap lesson_case

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" >/dev/null || exit 1

run() { # FILE ARGS...: the lesson with --check, its output in $TMP/out
	f=$1
	shift
	"$RINGLAB" --netns "$LAB" "$LESSONS/$f" afxdp ifname="$IF" "$@" --check >"$TMP/out" 2>&1 ||
		{ echo "FAIL: $f on afxdp:"; cat "$TMP/out"; exit 1; }
	grep -q "every check held" "$TMP/out" || { echo "FAIL: $f did not end:"; cat "$TMP/out"; exit 1; }
	if grep -q "^ *ok:" "$TMP/out"; then :; else echo "FAIL: $f --check printed no ok: line"; exit 1; fi
}

run 01-umem.lua
grep -q "ok: the peer's ICMP port unreachable quotes our packet" "$TMP/out" ||
	{ echo "FAIL: lesson 1 did not get the peer's answer:"; cat "$TMP/out"; exit 1; }
run 03-write-path.lua
grep -q "ok: a ninth packet cannot be built" "$TMP/out" || { echo "FAIL: lesson 3's pool did not run dry"; exit 1; }
run 04-mmap-per-packet.lua packets=200
grep -q "ok: ledger copied (one copy per packet) = 1400000" "$TMP/out" ||
	{ echo "FAIL: lesson 4's ledger:"; cat "$TMP/out"; exit 1; }
exit 0
