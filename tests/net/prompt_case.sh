#!/bin/sh
# prompt_case.sh - packets typed at the prompt reach the peer's kernel, with
# no MAC address given: the source is the interface's own, the neighbour is
# resolved (the testbed's static entries, or real ARP), in a testbed of its own.
#
#   prompt_case.sh NAME CASE
#
# CASE is one of
#   udp_static  static neighbours: `send udp` (-c and stdin), lab.packet.udp
#               without region=, lab.batch(n) and lab.segment{proto="udp"}
#               reach a kernel UDP socket in the peer, content compared;
#               `send icmp` gets the peer kernel's echo reply
#   udp_arp     neigh=false: the lab namespace knows no neighbour, so the
#               MAC is asked for by ARP; the peer learns ours from it
#   udp_host    neigh=false, `host up` first: the host resolves and learns
#   unresolved  neigh=false, an address nobody has: one line that says what
#               to do (host up, dst_mac=); explicit addresses always win
#   tcp_sg      `send tcp DST size=64k strategy=sg` to a python3 TCP server
#               in the peer that compares the sha256 of the body
#   tcp_lua     the same 64 KiB with lab.tcp from -e Lua, tcp.stack(e) given
#               no address at all
#   dpdk_udp    `send udp` on dpdk net_af_packet iface= (skipped without dpdk)
#   dpdk_tcp    `send tcp DST size=64k strategy=sg` on dpdk net_af_packet, the
#               lab's address taken off the veth (else its kernel answers the
#               peer's SYN-ACK with RST: net_af_packet copies, does not steal)
# Every case checks the owners are conserved (show owners) and, at the
# end, that no namespace, link or XDP program of the testbed is left.
# Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
PEER=$PEERNS
case_trap prompt_case

case $CASE in dpdk_*) DPDK=1 ;; *) DPDK= ;; esac
if [ -n "$DPDK" ] && ! "$RINGLAB" -e 'for _, x in ipairs(lab.engines()) do
	if x.name == "dpdk" and x.available then os.exit(0) end end os.exit(1)'; then
	echo "SKIP: this build has no usable dpdk engine"
	trap - EXIT
	rm -rf "$TMP"
	exit 77
fi

tb down name="$NAME" force=true >/dev/null 2>&1
case $CASE in
udp_arp|udp_host|unresolved) tb up name="$NAME" neigh=false >/dev/null || exit 1 ;;
*) tb up name="$NAME" >/dev/null || exit 1 ;;
esac
LAB_MAC=$(ip -n "$LAB" -o link show dev "$IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

# peer_udp EXPECTED...: the peer's socket on 198.18.0.2:9999, in the background
peer_udp() {
	rm -f "$TMP/ready"
	ip netns exec "$PEER" "$PYTHON" "$HERE/udp_expect_peer.py" 198.18.0.2 9999 "$TMP/ready" 10 "$@" \
		>"$TMP/peer.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 50
}

peer_done() {
	wait "$BG"; prc=$?; BG=
	cat "$TMP/peer.log"
	[ $prc = 0 ] || { echo "FAIL: the peer's socket did not get what was sent"; return 1; }
}

# prompt FILE: the prompt fed FILE on stdin, in the lab namespace; its output
# in $TMP/out (shown); fails on any error line and unless owners were conserved
prompt() {
	"$RINGLAB" --netns "$LAB" <"$1" >"$TMP/out" 2>&1
	prc=$?
	grep -v '^ *[0-9]\+  ' "$TMP/out" # the owner map's rows are left out
	[ $prc = 0 ] || { echo "FAIL: ringlab exited with $prc"; return 1; }
	grep -q '(conserved)' "$TMP/out" || { echo "FAIL: owners not shown conserved"; return 1; }
}

no_errors() {
	if grep -q '^ringlab:\|rror' "$TMP/out"; then echo "FAIL: an error above"; return 1; fi
}

case_udp_static() {
	peer_udp "hello from -c" "hello from stdin" "no region given" "to the peer" "to the peer" \
		"to the peer" "0123456789*100" "0123456789*100" "0123456789*100" || return 1
	"$RINGLAB" --netns "$LAB" -c "open afxdp ifname=$IF" -c "region frames=256" \
		-c "send udp 198.18.0.2:9999 hello from -c" -c "show owners" >"$TMP/c.out" 2>&1 ||
		{ cat "$TMP/c.out"; return 1; }
	grep -v '^ *[0-9]\+  ' "$TMP/c.out"
	grep -q '(conserved)' "$TMP/c.out" || { echo "FAIL: -c: owners not conserved"; return 1; }
	cat >"$TMP/in" <<-EOF2
	open afxdp ifname=$IF
	region frames=256
	send udp 198.18.0.2:9999 hello from stdin
	local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = "no region given" } local d = p:dissect() print("built:", d.eth.src, d.eth.dst, d.ip.src) e:tx(p) e:kick()
	local bt = lab.batch(3) assert(bt:udp { dst = "198.18.0.2:9999", payload = "to the peer" } == 3) assert(bt:tx() == 3) e:kick()
	local s = lab.segment(string.rep("0123456789", 300), { proto = "udp", mss = 1000, dst = "198.18.0.2:9999" }) print("segment sent", s:send(e))
	complete
	fill 16
	send icmp 198.18.0.2
	lab.sleep(0.3)
	recv
	release
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	no_errors || return 1
	peer_done || return 1
	grep -q "built:	$LAB_MAC	" "$TMP/out" ||
		{ echo "FAIL: the source MAC is not the interface's ($LAB_MAC)"; return 1; }
	grep -q "icmp echo reply 198.18.0.2 > 198.18.0.1 .*checksums ok" "$TMP/out" ||
		{ echo "FAIL: the peer's kernel did not answer the ping typed at the prompt"; return 1; }
}

case_udp_arp() {
	ip -n "$LAB" neigh show 198.18.0.2 | grep -q . &&
		{ echo "FAIL: the lab namespace already knows 198.18.0.2"; return 1; }
	peer_udp "hello over ARP" "and again" || return 1
	cat >"$TMP/in" <<-EOF2
	open afxdp ifname=$IF
	region frames=256
	send udp 198.18.0.2:9999 hello over ARP
	send udp 198.18.0.2:9999 and again
	complete
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	no_errors || return 1
	peer_done || return 1
	echo "the peer's neighbour entry for the lab, learned from our ARP request:"
	ip -n "$PEER" neigh show 198.18.0.1 | tee "$TMP/neigh"
	grep -q "lladdr $LAB_MAC" "$TMP/neigh" && ! grep -q PERMANENT "$TMP/neigh" ||
		{ echo "FAIL: the peer did not learn $LAB_MAC by ARP"; return 1; }
}

case_udp_host() {
	peer_udp "the host resolved it" || return 1
	cat >"$TMP/in" <<-EOF2
	open afxdp ifname=$IF
	region frames=256
	host up
	send udp 198.18.0.2:9999 the host resolved it
	show arp
	host down
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	no_errors || return 1
	peer_done || return 1
	grep -q "198.18.0.2.*$(ip -n "$PEER" -o link show dev "$PIF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')" "$TMP/out" ||
		{ echo "FAIL: show arp does not list the peer the host learned"; return 1; }
}

case_unresolved() {
	cat >"$TMP/in" <<-EOF2
	open afxdp ifname=$IF
	region frames=256
	send udp 198.18.0.9:9999 to nobody
	local ok, err = pcall(lab.packet.udp, { dst = "198.18.0.9:9999", payload = "x" }) print("lua:", ok, err)
	local p = lab.packet.udp { dst = "198.18.0.9:9999", src = "198.18.0.77:7", src_mac = "02:aa:00:00:00:01", dst_mac = "02:bb:00:00:00:02", payload = "x" } local d = p:dissect() print("explicit:", d.eth.src, d.eth.dst, d.ip.src) p:release()
	show owners
	H = require "ringlab.host" was = H.addresses H.addresses = function(x) x:close() return "198.18.0.1", "02:00:00:00:00:01", "02:00:00:00:00:02" end
	bt = lab.batch(e, 4) b = r:alloc(3000)
	print("hostile packet:", pcall(lab.packet.udp, { dst = "198.18.0.2:9999", payload = b }))
	e = lab.open("afxdp", { ifname = "$IF" }) r = e:region { frames = 64 } print("hostile segment:", pcall(lab.segment, "x", { dst = "198.18.0.2:9999", region = r }))
	e = lab.open("afxdp", { ifname = "$IF" }) r = e:region { frames = 64 } bt = lab.batch(e, 4) print("hostile batch:", pcall(bt.udp, bt, { dst = "198.18.0.2:9999" }))
	H.addresses = was e = lab.open("afxdp", { ifname = "$IF" }) r = e:region { frames = 64 } print("after:", e:owners().free, lab.packet.udp { dst = "198.18.0.2:9999" })
	EOF2
	prompt "$TMP/in" || return 1
	n=$(grep -c 'no MAC for 198.18.0.9' "$TMP/out")
	[ "$n" = 2 ] || { echo "FAIL: want the error from send and from lab.packet.udp, got $n"; return 1; }
	grep 'no MAC for 198.18.0.9' "$TMP/out" | grep -v '^lua:' | grep -q 'host up.*dst_mac=' ||
		{ echo "FAIL: the error does not say what to do (host up, dst_mac=)"; return 1; }
	grep -q 'explicit:	02:aa:00:00:00:01	02:bb:00:00:00:02	198.18.0.77' "$TMP/out" ||
		{ echo "FAIL: explicit addresses did not win"; return 1; }
	grep -q 'owners: app [0-9]* (held 0 + ' "$TMP/out" ||
		{ echo "FAIL: frames are held after the failed sends"; return 1; }
	# Lua run while addresses are resolved closes the engine: an error, no crash
	grep -q 'hostile packet:	false	udp: its engine was closed' "$TMP/out" ||
		{ echo "FAIL: closing the engine during resolution was not refused"; return 1; }
	grep -q 'hostile segment:	false	segment: its engine was closed' "$TMP/out" &&
		grep -q 'hostile batch:	false	udp: its engine was closed' "$TMP/out" &&
		grep -q 'after:	64	udp 198.18.0.1' "$TMP/out" ||
		{ echo "FAIL: lab.segment or bt:udp did not refuse a closed engine"; return 1; }
}

sink() { # PORT
	rm -f "$TMP/ready"
	ip netns exec "$PEER" "$PYTHON" "$HERE/tcp_sha_sink.py" 198.18.0.2 "$1" "$TMP/ready" 65536 20 \
		>"$TMP/peer.log" 2>&1 &
	BG=$!
	wait_for "$TMP/ready" 50
}

case_tcp_sg() {
	sink 8080 || return 1
	cat >"$TMP/in" <<-EOF2
	open afxdp ifname=$IF sg=true
	region
	send tcp 198.18.0.2:8080 size=64k strategy=sg
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	no_errors || return 1
	peer_done || return 1
	grep -q 'arrived intact' "$TMP/out" || { echo "FAIL: send tcp did not report the body intact"; return 1; }
}

case_tcp_lua() {
	sink 8081 || return 1
	"$RINGLAB" --netns "$LAB" -e "
local tcp = require 'ringlab.tcp'
local e = lab.open('afxdp', { ifname = '$IF', sg = true })
local r = e:region { frames = 4096 }
local st = tcp.stack(e) -- no ip=, ifname= or mac=: the engine's interface
print('stack', st.ip, st.mac)
assert(st.mac == '$LAB_MAC', 'the stack took the interface MAC')
local t = {}
for i = 0, 4095 do t[#t + 1] = string.format('%015x\n', i * 16) end
local b = r:alloc(65536)
b:write(0, table.concat(t))
local c = tcp.connect(e, '198.18.0.2:8081')
local l = c:send(b, { strategy = 'sg' })
c:flush()
print('sent with sg: copied', l.copied, 'referenced', l.referenced)
local v = c:recv(nil, 5)
local reply = v and v:string() or ''
c:release()
c:close()
print('peer said:', reply)
tcp.wait(function() return e:owners().nic == 0 end, 5, 'frames still in the NIC')
local o = e:owners()
assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, 'owners conserved')
print('owners conserved:', o.frames, 'frames')
assert(reply:find(' intact'), 'the peer found the body intact')
assert(l.copied == 0 and l.referenced == 65536, 'sg copied nothing')
" || { cat "$TMP/peer.log"; return 1; }
	peer_done
}

case_dpdk_udp() {
	peer_udp "hello through net_af_packet" || return 1
	cat >"$TMP/in" <<-EOF2
	open dpdk vdev=net_af_packet0,iface=$IF
	region frames=1024 size=4096
	send udp 198.18.0.2:9999 hello through net_af_packet
	complete
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	no_errors || return 1
	peer_done
}

case_dpdk_tcp() {
	ip netns exec "$LAB" ip addr flush dev "$IF"
	sink 8080 || return 1
	cat >"$TMP/in" <<-EOF2
	open dpdk vdev=net_af_packet0,iface=$IF
	region frames=4096 size=4096
	print("wire:", e:info().caps.wire, e:info().ifname)
	send tcp 198.18.0.2:8080 size=64k strategy=sg
	show owners
	EOF2
	prompt "$TMP/in" || return 1
	no_errors || return 1
	peer_done || return 1
	grep -q "wire:	true	$IF" "$TMP/out" || { echo "FAIL: e:info() does not say it is on $IF"; return 1; }
	grep -q 'arrived intact' "$TMP/out" || { echo "FAIL: send tcp did not report the body intact"; return 1; }
}

case $CASE in
udp_static) case_udp_static ;;
udp_arp) case_udp_arp ;;
udp_host) case_udp_host ;;
unresolved) case_unresolved ;;
tcp_sg) case_tcp_sg ;;
tcp_lua) case_tcp_lua ;;
dpdk_udp) case_dpdk_udp ;;
dpdk_tcp) case_dpdk_tcp ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
