#!/bin/sh
# host_case.sh - one test of ringlab on a real wire, in its own testbed.
#
#   host_case.sh NAME CASE
#
# CASE is one of
#   ping     the peer's kernel pings the lab (no static neighbours: it must
#            ARP first); ringlab.host answers on afxdp steer=all
#   udp      the lab resolves the peer's MAC by ARP and sends it UDP, which
#            a kernel socket in the peer namespace must receive
#   walk     one packet through fill/rx and tx/comp, indices and owners
#            checked after every step (walk_one_packet.lua)
#   sigint / sigterm / sighup / sigquit   a ringlab script looping on afxdp
#            gets the signal; it must exit through close (130 / 143 / 129 /
#            131) and leave no XDP program
#   sighup_tmux   ringlab at the prompt in a tmux window, run from bash,
#            afxdp open and `serve ping 30` running: the window is closed
#            (SIGHUP, from the kernel and from bash); no XDP program may be
#            left and the next open of the interface must work
#   sigpipe  a script printing on afxdp into `head -n 2`: the closed pipe
#            stops it through close (141), no XDP program left
#   stuck_twice_int / stuck_twice_term   afxdp (and dpdk net_null0, when
#            built) open, Lua stuck in one long C call (a backtracking
#            string.find: no Lua instruction runs, so the first signal's
#            hook never does); a second SIGINT (SIGTERM) ends it at once:
#            exit 130 (143), and right away no XDP program on the
#            interface (a BPF link: the kernel detaches it) and no
#            /var/run/dpdk/ringlab-<pid> (removed from the handler)
#   kill9 / kill9_skb   SIGKILL (native / generic XDP) leaves no XDP
#            program (the kernel closes the BPF link), and the next open
#            of the interface works
#   stale / stale_skb   ringlab's program attached through netlink, as a
#            ringlab before BPF links (or ip link set ... obj) left it:
#            the next open removes it, saying so in one line, and works
#   live_holder   a live ringlab holds the interface: a second one's open
#            is refused in one line naming its pid; after it quits the
#            open works
#   foreign  another program (libxdp's xsk_def_xdp_prog.o) through
#            netlink: the open is refused in one line that says how to
#            take it off - the command it names is run as given, then the
#            open works
#   nohup    under nohup a SIGHUP is ignored (the script keeps its engine
#            and XDP program); SIGTERM then closes it (143), none left
#   netns    `ringlab --netns` shows the namespace's own /sys/class/net
# The testbed is always taken down, then nothing of it may be left: no
# namespace, no link, no XDP program. Needs root (else exit 77).
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
	no_xdp || rc=1
	tb down name="$NAME" || rc=1
	leftovers || rc=1
	rm -rf "$TMP"
	[ $rc = 0 ] && echo "host_case $NAME $CASE: PASS" || echo "host_case $NAME $CASE: FAIL ($rc)"
	exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

tb down name="$NAME" force=true >/dev/null 2>&1
case $CASE in
ping|udp) tb up name="$NAME" neigh=false || exit 1 ;;
*) tb up name="$NAME" || exit 1 ;;
esac
PEER_MAC=$(ip -n "$PEER" -o link show dev "$PIF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
LAB_MAC=$(ip -n "$LAB" -o link show dev "$IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

case_ping() {
	ip -n "$PEER" neigh show 198.18.0.1 | grep -q PERMANENT &&
		{ echo "FAIL: the peer has a static entry for the lab"; return 1; }
	"$RINGLAB" --netns "$LAB" "$HERE/host_ping.lua" "$IF" "$TMP/ready" 15 >"$TMP/lab.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	ip netns exec "$PEER" ping -c 3 -i 0.2 -W 2 198.18.0.1 || { cat "$TMP/lab.log"; return 1; }
	wait "$BG"; rc=$?; BG=
	cat "$TMP/lab.log"
	[ $rc = 0 ] || return 1
	echo "peer's neighbour entry, learned by ARP:"
	ip -n "$PEER" neigh show 198.18.0.1 | tee "$TMP/neigh"
	grep -q "lladdr $LAB_MAC" "$TMP/neigh" && ! grep -q PERMANENT "$TMP/neigh" ||
		{ echo "FAIL: the peer did not learn $LAB_MAC by ARP"; return 1; }
}

case_udp() {
	ip netns exec "$PEER" "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('198.18.0.2', 9999)); s.settimeout(10)
open('$TMP/ready', 'w').close()
data, src = s.recvfrom(2048)
print('peer kernel socket received %r from %s:%d' % (data, src[0], src[1]))
sys.exit(0 if data == b'hello over ARP' and src == ('198.18.0.1', 9000) else 1)
" &
	BG=$!
	wait_for "$TMP/ready" 50 || return 1
	"$RINGLAB" --netns "$LAB" "$HERE/host_udp.lua" "$IF" "$PEER_MAC" || return 1
	wait "$BG" || { BG=; echo "FAIL: the peer's socket got no datagram"; return 1; }
	BG=
}

case_walk() {
	"$RINGLAB" --netns "$LAB" "$HERE/walk_one_packet.lua" "$IF" "$PEER" "$PEER_MAC"
}

case_signal() { # SIGNAL EXPECTED_STATUS [HOW (loop_until_signal.lua) [twice]]
	"$RINGLAB" --netns "$LAB" "$HERE/loop_until_signal.lua" "$IF" "$TMP/ready" ${3:-main} &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	sleep 0.3
	ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL: no XDP program while the script runs"; return 1; }
	kill -"$1" "$BG"
	# a second signal at once: it must still close the engine
	[ "${4:-}" = twice ] && { sleep 0.05; kill -"$1" "$BG" 2>/dev/null; }
	wait "$BG"; rc=$?; BG=
	echo "ringlab exited with $rc after SIG$1"
	[ "$rc" = "$2" ] || { echo "FAIL: want exit status $2"; return 1; }
	no_xdp || return 1
	echo "no XDP program on $IF after SIG$1"
	ip netns pids "$LAB" | grep -q . && { echo "FAIL: processes left in $LAB"; return 1; }
	return 0
}

# No process left in the lab namespace within TENTHS/10 s.
lab_empty() {
	for _ in $(seq "$1"); do
		ip netns pids "$LAB" | grep -q . || return 0
		sleep 0.1
	done
	echo "FAIL: processes left in $LAB:"; ip netns pids "$LAB"
	return 1
}

# The interface takes an XDP program again: what a user does next.
reopen() {
	"$RINGLAB" --netns "$LAB" -c "open afxdp ifname=$IF" -c "region frames=64" \
		-e 'print("reopened " .. e:info().ifname .. ", bound in " .. e:stats().mode .. " mode")' || { echo "FAIL: the next open of $IF was refused"; return 1; }
}

case_sighup_tmux() {
	command -v tmux >/dev/null || { echo "SKIP: needs tmux"; exit 77; }
	sock=$TMP/tmux.sock
	tmux -S "$sock" new-session -d -x 80 -y 24 "sh -c 'exec bash --norc -i'" || return 1
	tmux -S "$sock" send-keys "$RINGLAB --netns $LAB" Enter
	sleep 1
	tmux -S "$sock" send-keys "open afxdp ifname=$IF steer=all" Enter
	tmux -S "$sock" send-keys "region frames=64" Enter
	tmux -S "$sock" send-keys "serve ping 30" Enter
	for _ in $(seq 50); do
		tmux -S "$sock" capture-pane -p | grep -q "answering ARP" && break
		sleep 0.1
	done
	tmux -S "$sock" capture-pane -p
	ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL: no XDP program while serve ping runs"; tmux -S "$sock" kill-server; return 1; }
	tmux -S "$sock" kill-server # the window closes: SIGHUP
	lab_empty 50 || return 1
	no_xdp || return 1
	echo "no XDP program on $IF after its tmux window closed"
	reopen
}

case_sigpipe() {
	cat >"$TMP/print.lua" <<-EOF
	local e = lab.open("afxdp", { ifname = "$IF", steer = "all" })
	e:region { frames = 64 }
	while true do print("a line nobody reads"); lab.sleep(0.01) end
	EOF
	{ "$RINGLAB" --netns "$LAB" "$TMP/print.lua" 2>"$TMP/err"; echo $? >"$TMP/rc"; } | head -n 2
	rc=$(cat "$TMP/rc")
	echo "ringlab exited with $rc after its pipe closed: $(cat "$TMP/err")"
	[ "$rc" = 141 ] || { echo "FAIL: want exit status 141"; return 1; }
	grep -q "stopped by Broken pipe; engines closed" "$TMP/err" ||
		{ echo "FAIL: want 'stopped by Broken pipe; engines closed'"; return 1; }
	no_xdp && lab_empty 10 && reopen
}

case_nohup() {
	nohup "$RINGLAB" --netns "$LAB" "$HERE/loop_until_signal.lua" "$IF" "$TMP/ready" \
		>"$TMP/nohup.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	kill -HUP "$BG"
	sleep 0.5
	kill -0 "$BG" 2>/dev/null || { echo "FAIL: a SIGHUP under nohup stopped ringlab"; cat "$TMP/nohup.log"; return 1; }
	ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL: the XDP program went away under nohup"; return 1; }
	echo "under nohup, SIGHUP ignored: still running, XDP program attached"
	kill -TERM "$BG"
	wait "$BG"; rc=$?; BG=
	cat "$TMP/nohup.log"
	echo "ringlab exited with $rc after SIGTERM"
	[ "$rc" = 143 ] || { echo "FAIL: want exit status 143"; return 1; }
	no_xdp && lab_empty 10
}

case_stuck_twice() { # SIGNAL EXPECTED_STATUS
	cat >"$TMP/stuck.lua" <<-EOF
	local e = lab.open("afxdp", { ifname = "$IF", steer = "all" })
	e:region { frames = 64 }
	local ok, d = pcall(lab.open, "dpdk", { vdev = "net_null0" })
	if ok then io.open("$TMP/dpdk", "w"):close() end
	io.open("$TMP/ready", "w"):close()
	-- one C call that runs for minutes: no Lua instruction, so no hook
	string.rep("a", 200):find(".-.-.-.-b")
	print("FAIL: the match ended")
	EOF
	"$RINGLAB" --netns "$LAB" "$TMP/stuck.lua" >"$TMP/out" 2>"$TMP/err" &
	BG=$!
	wait_for "$TMP/ready" 100 || return 1
	sleep 0.3
	ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL: no XDP program while the script runs"; return 1; }
	run=/var/run/dpdk/ringlab-$BG
	if [ -e "$TMP/dpdk" ]; then
		[ -d "$run" ] || { echo "FAIL: dpdk open but no $run"; return 1; }
	else
		echo "(no dpdk engine here: its runtime directory is not checked)"
	fi
	kill -"$1" "$BG"
	sleep 0.5
	kill -0 "$BG" 2>/dev/null ||
		{ echo "FAIL: the first SIG$1 ended it (the call was not stuck)"; cat "$TMP/err"; return 1; }
	echo "still running 0.5 s after the first SIG$1 (stuck in C); a second one:"
	kill -"$1" "$BG"
	wait "$BG"; rc=$?; BG=
	echo "ringlab exited with $rc"
	[ "$rc" = "$2" ] || { echo "FAIL: want exit status $2"; cat "$TMP/out" "$TMP/err"; return 1; }
	no_xdp || return 1
	echo "no XDP program on $IF right after it"
	if [ -e "$TMP/dpdk" ]; then
		[ -e "$run" ] && { echo "FAIL: $run is left"; rmdir "$run"; return 1; }
		echo "no $run left"
	fi
	lab_empty 10 && reopen
}

# A script that opens afxdp on IF with OPTIONS and holds it for a minute;
# READY appears once it is attached.
hold() { # OPTIONS
	cat >"$TMP/hold.lua" <<-EOF
	local e = lab.open("afxdp", { ifname = "$IF", $1 })
	e:region { frames = 64 }
	io.open("$TMP/ready", "w"):close()
	lab.sleep(60)
	EOF
	rm -f "$TMP/ready"
	"$RINGLAB" --netns "$LAB" "$TMP/hold.lua" >"$TMP/hold.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 100
}

case_kill9() { # ENGINE_OPTION (xdp=native|skb)
	hold "$1" || return 1
	ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL: no XDP program while it runs"; return 1; }
	kill -KILL "$BG"; wait "$BG" 2>/dev/null; BG=
	no_xdp || return 1
	echo "no XDP program on $IF right after kill -9"
	reopen
}

# One open of IF at the prompt: its stderr in $TMP/err, status returned.
open_err() {
	"$RINGLAB" --netns "$LAB" -c "open afxdp ifname=$IF" -c "region frames=64" \
		-e 'print("opened " .. e:info().ifname)' >"$TMP/out" 2>"$TMP/err"
}

case_stale() { # xdp|xdpgeneric
	obj=$(dirname "$ENGINE")/xdp_steer.bpf.o
	ip -n "$LAB" link set dev "$IF" "$1" obj "$obj" sec xdp || return 1
	id=$(ip -n "$LAB" -d -o link show dev "$IF" | sed -n 's/.*prog\/xdp id \([0-9]*\) name rl_xdp_steer.*/\1/p')
	[ -n "$id" ] || { echo "FAIL: the planted program is not there"; return 1; }
	echo "planted ringlab's program through netlink ($1): id $id"
	open_err; rc=$?
	cat "$TMP/err" "$TMP/out"
	[ "$rc" = 0 ] || { echo "FAIL: the open failed"; return 1; }
	[ "$(cat "$TMP/err")" = "removed a stale XDP program a killed ringlab left on $IF (id $id)" ] ||
		{ echo "FAIL: want the one line saying it was removed"; return 1; }
	grep -qx "opened $IF" "$TMP/out" || { echo "FAIL: the open did not go on"; return 1; }
	no_xdp
}

case_live_holder() {
	hold 'xdp = "skb"' || return 1
	open_err && { echo "FAIL: the second open was not refused"; return 1; }
	cat "$TMP/err"
	[ "$(wc -l <"$TMP/err")" = 1 ] || { echo "FAIL: want one line"; return 1; }
	grep -qF "held by a live process: pid $BG (ringlab) - quit that ringlab first" "$TMP/err" ||
		{ echo "FAIL: the line does not name pid $BG (ringlab)"; return 1; }
	ip -n "$LAB" -o link show dev "$IF" | grep -q prog/xdp ||
		{ echo "FAIL: the refusal took the live program off"; return 1; }
	kill -TERM "$BG"; wait "$BG"; BG=
	reopen
}

case_foreign() {
	obj=$(ls /usr/lib/*/bpf/xsk_def_xdp_prog.o 2>/dev/null | head -n 1)
	[ -n "$obj" ] || { echo "SKIP: libxdp's xsk_def_xdp_prog.o not found"; exit 77; }
	ip -n "$LAB" link set dev "$IF" xdpgeneric obj "$obj" sec xdp || return 1
	open_err && { echo "FAIL: the open was not refused"; return 1; }
	cat "$TMP/err"
	[ "$(wc -l <"$TMP/err")" = 1 ] || { echo "FAIL: want one line"; return 1; }
	fix=$(sed -n 's/.* - take it off if nothing needs it: \(ip .*\)$/\1/p' "$TMP/err")
	[ "$fix" = "ip -n $LAB link set dev $IF xdpgeneric off" ] ||
		{ echo "FAIL: no 'ip -n $LAB link set dev $IF xdpgeneric off' to run: '$fix'"; return 1; }
	echo "running what it says: $fix"
	# shellcheck disable=SC2086 # the words of the command, as a user types them
	$fix || { echo "FAIL: its command failed"; return 1; }
	reopen
}

case_netns() {
	got=$("$RINGLAB" --netns "$LAB" -e "io.write(io.open('/sys/class/net/$IF/address'):read('a'))") ||
		return 1
	echo "/sys/class/net/$IF/address inside --netns $LAB: $got (ip link: $LAB_MAC)"
	[ "$got" = "$LAB_MAC" ] || { echo "FAIL: want $LAB_MAC"; return 1; }
	[ -e "/sys/class/net/$IF" ] && { echo "FAIL: the remount leaked to the root namespace"; return 1; }
	return 0
}

case $CASE in
ping) case_ping ;;
udp) case_udp ;;
walk) case_walk ;;
sigint) case_signal INT 130 ;;
sigterm) case_signal TERM 143 ;;
sigint_task) case_signal INT 130 task ;;
sigterm_pcall) case_signal TERM 143 pcall ;;
sigint_twice_pcall) case_signal INT 130 pcall twice ;;
sigterm_twice_task) case_signal TERM 143 task twice ;;
sighup) case_signal HUP 129 && reopen ;;
sigquit) case_signal QUIT 131 && reopen ;;
sighup_tmux) case_sighup_tmux ;;
sigpipe) case_sigpipe ;;
nohup) case_nohup ;;
stuck_twice_int) case_stuck_twice INT 130 ;;
stuck_twice_term) case_stuck_twice TERM 143 ;;
kill9) case_kill9 'xdp = "native"' ;;
kill9_skb) case_kill9 'xdp = "skb"' ;;
stale) case_stale xdp ;;
stale_skb) case_stale xdpgeneric ;;
live_holder) case_live_holder ;;
foreign) case_foreign ;;
netns) case_netns ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
