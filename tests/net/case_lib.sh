# case_lib.sh - what the namespace test cases share; sourced, not run, by
# net_case.sh, host_case.sh, tcp_case.sh and ../dpdk/dpdk_net.sh once they
# have set NAME (the testbed's name).
#
# Exits 77 (ctest's "skipped") with "SKIP: needs root" unless root. Sets
# LAB and PEERNS (the namespaces), IF and PIF (the lab and peer veths), TMP
# (a fresh directory). Provides:
#   tb ARGS...           the testbed plugin through lua5.4 (TESTBED_LUA,
#                        PLUGIN_DIR come from CMake)
#   no_xdp               fails if an XDP program is still on the lab veth
#   leftovers [LINK...]  fails if a namespace, a link (IF, PIF, LINK...) or
#                        an XDP program of the testbed is left anywhere
#   wait_for FILE TENTHS waits for FILE to appear, up to TENTHS/10 s
#   case_trap LABEL      on exit: stop the background job $BG (if any),
#                        check no XDP program, take the testbed down, check
#                        nothing is left, remove TMP, say LABEL NAME CASE:
#                        PASS or FAIL; Ctrl-C/SIGTERM exit 130 through it

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root"
	exit 77
fi
LAB=$NAME-lab PEERNS=$NAME-peer IF=${NAME}0 PIF=${NAME}1
TMP=$(mktemp -d)

tb() { lua5.4 "$TESTBED_LUA" "$PLUGIN_DIR" "$@"; }

no_xdp() {
	if ip -n "$LAB" -d link show dev "$IF" 2>/dev/null | grep -q 'prog/xdp'; then
		echo "FAIL: an XDP program is still attached to $IF:"
		ip -n "$LAB" -d link show dev "$IF"
		return 1
	fi
	return 0
}

leftovers() {
	links="$IF|$PIF"
	for l in "$@"; do links="$links|$l"; done
	bad=0
	if ip netns list | grep -Eq "^($LAB|$PEERNS)( |\$)"; then
		echo "FAIL: a namespace of testbed $NAME is left:"; ip netns list; bad=1
	fi
	if ip -d -o link show | grep -Eq ": ($links)[@:]"; then
		echo "FAIL: a link of testbed $NAME is left in the root namespace"; bad=1
	fi
	if ip -d -o link show | grep -E ": ($links)[@:]" | grep -q xdp; then
		echo "FAIL: an XDP program of testbed $NAME is left"; bad=1
	fi
	return $bad
}

wait_for() {
	for _ in $(seq "$2"); do [ -e "$1" ] && return 0; sleep 0.1; done
	echo "FAIL: $1 did not appear"; return 1
}

BG=
case_finish() {
	rc=$?
	if [ -n "$BG" ]; then kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
	no_xdp || rc=1
	tb down name="$NAME" force=true >/dev/null || rc=1
	leftovers || rc=1
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "$CASE_LABEL $NAME ${CASE:-}: PASS" || echo "$CASE_LABEL $NAME ${CASE:-}: FAIL ($rc)"
	exit $rc
}
case_trap() {
	CASE_LABEL=$1
	trap case_finish EXIT
	trap 'exit 130' INT TERM
}
