#!/bin/sh
# explain_case.sh - where did my packet go, on real AF_XDP (issue 12.4), in
# a testbed of its own.
#
#   explain_case.sh NAME CASE
#
# CASE is one of
#   fill_empty  nothing lent to the kernel: three 'send icmp' at the prompt,
#               the peer kernel's echo replies find the fill ring empty;
#               the kernel's XDP_STATISTICS count them (rx_dropped 3,
#               rx_fill_ring_empty_descs 3) and `explain` gives the fill
#               ring line (once: copy mode counts them in both) within 80
#               columns; after fill 8 a reply arrives and the count stays;
#               lab.drops names the same counter
#   lesson10    lesson 10 on afxdp with --check: the five drops made on
#               purpose with echo requests to the peer's Linux, each
#               explained by the kernel's counters (or ringlab's)
#   lesson11    testbed mtu=9000: lesson 11 on afxdp with --check - a
#               9000-byte echo request as 6 descriptors with XDP_PKT_CONTD,
#               the reply received as 6 frames, the 4-frame drop explained
# At the end no namespace, link or XDP program of the testbed is left.
# Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR LESSONS
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
case_trap explain_case

tb down name="$NAME" force=true >/dev/null 2>&1
case $CASE in
fill_empty)
	tb up name="$NAME" >/dev/null || exit 1
	"$RINGLAB" --netns "$LAB" -c "open afxdp ifname=$IF name=recv fill_size=8 comp_size=8 rx_size=8 tx_size=8" \
		-c "region frames=32" -c "send icmp 198.18.0.2" -c "send icmp 198.18.0.2" -c "send icmp 198.18.0.2" \
		-c "lua lab.sleep(0.3)" -c "explain" -c "lua print('drops', e:stats().rx_dropped, e:stats().rx_fill_ring_empty_descs)" \
		-c "fill 8" -c "send icmp 198.18.0.2" -c "lua lab.sleep(0.3)" -c "recv" -c "explain" \
		-c "lua for _, r in ipairs(lab.drops(e)) do print('row', r.counter, r.count, r.kind) end" \
		-c "show owners" >"$TMP/out" 2>&1 || { cat "$TMP/out"; echo "FAIL: the prompt failed"; exit 1; }
	cat "$TMP/out"
	grep -q "^recv (afxdp): 3 sent, 0 received; dropped:$" "$TMP/out" ||
		{ echo "FAIL: no 'dropped' heading for 3 sent"; exit 1; }
	grep -q "^  fill ring empty 3: times the kernel found no frame on the fill ring" "$TMP/out" ||
		{ echo "FAIL: no fill ring empty line"; exit 1; }
	# copy mode: rx_dropped counts the same 3, explain does not repeat them
	grep -q "^  rx dropped" "$TMP/out" && { echo "FAIL: rx_dropped repeated"; exit 1; }
	grep -q "^drops	3	3$" "$TMP/out" ||
		{ echo "FAIL: XDP_STATISTICS did not count the drops"; exit 1; }
	grep -q "^row	rx_fill_ring_empty_descs	3	drop$" "$TMP/out" ||
		{ echo "FAIL: lab.drops has no fill ring empty row after the fill"; exit 1; }
	grep -q "^recv (afxdp): 4 sent, 1 received; dropped:$" "$TMP/out" ||
		{ echo "FAIL: the reply after fill 8 did not arrive"; exit 1; }
	# explain's lines (its heading and its indented entries) fit 80 columns
	if awk '/^recv \(afxdp\)|^  [a-z]/ && length($0) > 80 { bad = 1 } END { exit !bad }' "$TMP/out"; then
		echo "FAIL: a line of explain wider than 80 columns"; exit 1
	fi
	;;
lesson10)
	tb up name="$NAME" >/dev/null || exit 1
	"$RINGLAB" --netns "$LAB" "$LESSONS/10-where-did-it-go.lua" afxdp ifname="$IF" --check >"$TMP/out" 2>&1 ||
		{ cat "$TMP/out"; echo "FAIL: lesson 10 on afxdp"; exit 1; }
	cat "$TMP/out"
	grep -q "^lesson 10: every check held$" "$TMP/out" || { echo "FAIL: not every check held"; exit 1; }
	for claim in "  fill ring empty 4: times the kernel found no frame" "  rx ring full 4: packets dropped" \
		"  tx ring full 4: packets a send could not queue" \
		"  tx waits 8: queued, but the NIC cannot send: the comp ring is full" \
		"  tx waits 4: queued, but the ring says NEED_WAKEUP and nobody kicked"; do
		grep -qF "$claim" "$TMP/out" || { echo "FAIL: lesson 10 did not say: $claim"; exit 1; }
	done
	;;
lesson11)
	tb up name="$NAME" mtu=9000 >/dev/null || exit 1
	"$RINGLAB" --netns "$LAB" "$LESSONS/11-jumbo-multibuffer.lua" afxdp ifname="$IF" --check >"$TMP/out" 2>&1 ||
		{ cat "$TMP/out"; echo "FAIL: lesson 11 on afxdp"; exit 1; }
	cat "$TMP/out"
	grep -q "^lesson 11: every check held$" "$TMP/out" || { echo "FAIL: not every check held"; exit 1; }
	for claim in "ok: rx descriptors = 6" "ok: CONTD on every rx descriptor but the last" \
		"ok: received length = 9014" "ok: the 8972 payload bytes arrived intact, in order" \
		"=> the echo reply: 6 frames, 5 CONTD; payload intact" "ok: the packet counted as dropped = 1"; do
		grep -qF "$claim" "$TMP/out" || { echo "FAIL: lesson 11 did not say: $claim"; exit 1; }
	done
	[ "$(grep -c '^  [1-3] .* CONTD  | [4-6] ' "$TMP/out")" -ge 4 ] ||
		{ echo "FAIL: the descriptor tables (CONTD) are not on screen"; exit 1; }
	;;
*)
	echo "explain_case.sh: which case? - fill_empty, lesson10, lesson11"; exit 2 ;;
esac
exit 0
