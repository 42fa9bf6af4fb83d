#!/bin/sh
# kernel_case.sh NAME CASE - the kernel's own send paths (lab.kernel,
# `kernel` at the prompt) on testbed NAME (its own, made and removed here):
#   paths    kernel_paths.lua, run in NAME-lab: every path sends 64 KiB and
#            1 MiB, the peer's sha256 equals python3's of the same body, each
#            ledger sane for its path; then again with testbed= from the
#            root namespace (a write of 64 KiB only)
#   strategies  scripts/strategies_by_engine.lua kernel: eight intact rows
#            (its own testbed rlsk, taken down after)
#   wire     the peer's capture (AF_PACKET in NAME-peer): UDP GSO with the
#            veth's offloads off gives 44 datagrams of 1472 B + 1 of 768 on
#            the wire, on one GSO packet of 64768 B; TCP with TSO/GSO off
#            45 segments of 1448 B (the MSS) + 1 of 376, on larger ones; a
#            pcap file (capture=FILE) that tshark reads with the same sizes;
#            an existing file refused in one line; at the prompt the wire
#            line, and `compare` with kernel:PATH columns beside an engine
#   lesson   lesson 12 afxdp --check in NAME-lab: every check held, its
#            last part on AF_XDP on the same veth (sg, the kernel's copy of
#            copy mode in words), the sizes on the wire in part 5
#   prompt   kernel compare / send / tls typed at the prompt: a table of six
#            intact rows, one line per send; a bad path, a bad size, a
#            missing testbed and a typo each give one error line
# Needs root (else exit 77).
# Environment (set by CMake): RINGLAB TESTBED_LUA PLUGIN_DIR PYTHON
set -u
NAME=$1 CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/case_lib.sh"
case_trap kernel_case

tb down name="$NAME" force=true >/dev/null 2>&1
tb up name="$NAME" >/dev/null || exit 1

# the sha256 of the `send tcp` body of N bytes, by python3
body_sha() {
	"$PYTHON" -c 'import hashlib, sys
n = int(sys.argv[1])
b = b"".join(b"%015x\n" % (i * 16) for i in range(n // 16)) + b"#" * (n % 16)
print(hashlib.sha256(b).hexdigest())' "$1"
}

expect() {
	grep -qF -- "$1" "$TMP/out" || { echo "FAIL: the output lacks: $1"; cat "$TMP/out"; return 1; }
}

case_paths() {
	s64=$(body_sha 65536) s1m=$(body_sha 1048576)
	"$RINGLAB" --netns "$LAB" "$HERE/kernel_paths.lua" "$s64" "$s1m" || return 1
	"$RINGLAB" -e "local r = lab.kernel.send{path='write', size=65536, testbed='$NAME'}
		print(r.path, r.received, r.sha256, r.intact)
		assert(r.intact and r.sha256 == '$s64' and r.lab == '$NAME-lab')" || return 1
	# TSO/GSO off on the lab veth: the peer sees MSS-sized segments; on: larger ones
	"$RINGLAB" -e "for _, o in ipairs{'off', 'on'} do
		local r = lab.kernel.send{path='write', size=1048576, testbed='$NAME', offload=o}
		print(o, r.intact, r.peer_segments, r.peer_min_segment, r.peer_max_segment)
		assert(r.intact and r.offload == o and r.capture_error == nil)
		if o == 'off' then assert(r.peer_max_segment == 1448 and r.peer_segments >= 725, 'off')
		else assert(r.peer_max_segment > 1448 and r.peer_segments < 725, 'on') end
		end" || return 1
	# the peer receives with splice socket -> pipe -> file: intact, a few calls
	"$RINGLAB" -e "for _, p in ipairs{'write', 'writev', 'sendfile'} do
		local r = lab.kernel.send{path=p, size=1048576, testbed='$NAME', recv='splice'}
		print(p, r.peer_recv, r.intact, r.peer_calls, r.peer_cpu_ms_per_mib)
		assert(r.intact and r.peer_recv == 'splice' and r.peer_calls >= 2 and r.peer_cpu_ms_per_mib >= 0)
		end" || return 1
	# TCP_ZEROCOPY_RECEIVE: intact; mapped + copied (its report) + read = all
	"$RINGLAB" -e "for _, p in ipairs{'write', 'sendfile'} do
		local r = lab.kernel.send{path=p, size=1048576, testbed='$NAME', recv='zerocopy'}
		print(p, r.peer_recv, r.intact, r.peer_zc_mapped, r.peer_zc_copied, r.peer_zc_read)
		assert(r.intact and r.peer_recv == 'zerocopy')
		assert(r.peer_zc_mapped + r.peer_zc_copied + r.peer_zc_read == r.received, 'the sum')
		assert(r.peer_zc_mapped > 0 or r.peer_why:find('mapped nothing'), 'the why')
		end" || return 1
	ip netns exec "$LAB" ethtool -k "$IF" | grep -q '^tcp-segmentation-offload: on' ||
		{ echo "FAIL: TSO not restored on $IF"; return 1; }
}

case_prompt() {
	cat >"$TMP/in" <<-EOF2
	kernel compare size=64k
	kernel send sendfile size=1m
	kernel send msg_zerocopy size=64k
	kernel send udp_gso size=64k
	kernel tls
	kernel send bogus size=64k
	kernel send write size=12q
	kernel send write
	kernel sned
	kernel send write size=64k testbed=nosuch
	EOF2
	"$RINGLAB" --netns "$LAB" <"$TMP/in" >"$TMP/out" 2>&1
	prc=$?
	cat "$TMP/out"
	[ $prc = 0 ] || { echo "FAIL: ringlab exited with $prc"; return 1; }
	for p in write writev sendfile splice vmsplice msg_zerocopy udp udp_gso; do
		grep -Eq "^$p +64 KiB +0 B .* intact$" "$TMP/out" ||
			{ echo "FAIL: no intact row for $p in the table"; return 1; }
	done
	expect "write         64 KiB     0 B    64 KiB derived" || return 1
	expect "sendfile     1 MiB intact: program copied 0 B, kernel copied 0 B (derived)" || return 1
	expect "udp_gso      64 KiB intact: program copied 0 B, kernel copied 64 KiB (derived), 4 calls" || return 1
	expect "45 datagrams of 768..1472 B at the peer" || return 1
	grep -Eq "^msg_zerocopy 64 KiB intact: .*kernel copied [0-9]+ KiB \(measured\).* [0-9]+/[0-9]+ completions, [0-9]+ copied" "$TMP/out" ||
		{ echo "FAIL: no msg_zerocopy line with its completions"; return 1; }
	grep -Eq "^kTLS: (not )?in this kernel \(TCP_ULP tls" "$TMP/out" || { echo "FAIL: no kTLS line"; return 1; }
	expect "error: kernel send: no path 'bogus' - give one of write, writev, sendfile, splice, vmsplice, msg_zerocopy, udp, udp_gso" || return 1
	expect "error: kernel send: size=12q is not a size - say e.g. size=64k, size=1m or size=65536" || return 1
	expect "error: kernel send: say how much - e.g. kernel send write size=64k" || return 1
	expect "error: kernel: no 'sned' - did you mean kernel send?" || return 1
	expect "error: kernel send write: there is no namespace nosuch-lab - make the testbed: testbed up name=nosuch" || return 1
	[ "$(grep -c '^error:' "$TMP/out")" = 5 ] || { echo "FAIL: not one line per error"; return 1; }
	if grep -q 'traceback' "$TMP/out"; then echo "FAIL: a traceback"; return 1; fi
}

case_strategies() {
	"$RINGLAB" "$HERE/../../scripts/strategies_by_engine.lua" kernel >"$TMP/out" 2>&1
	prc=$?
	cat "$TMP/out"
	[ $prc = 0 ] || { echo "FAIL: strategies_by_engine.lua kernel exited with $prc"; return 1; }
	expect "kernel paths (TCP over the veth to the peer's kernel; raw body)" || return 1
	expect "  write            2       0   65536 deri.          0" || return 1
	expect "  sendfile         2       0       0 deri.      65536" || return 1
	grep -Eq "^  msg_zerocopy +[0-9]+ +0 +[0-9]+ meas\. +[0-9]+ +[0-9.]+  yes$" "$TMP/out" ||
		{ echo "FAIL: no measured msg_zerocopy row"; return 1; }
	[ "$(grep -c '  yes$' "$TMP/out")" = 8 ] || { echo "FAIL: not eight intact rows"; return 1; }
	if ip netns list | grep -q '^rlsk-'; then echo "FAIL: testbed rlsk left"; return 1; fi
}

# the sizes in a lab.kernel.send result's wire table, "COUNTxSIZE ..."
wire_of() {
	"$RINGLAB" -e "local r = lab.kernel.send{path='$1', size=65536, testbed='$NAME', offload='$2',
		capture='$3'}
		assert(r.intact, 'not intact')
		local t = {} for _, w in ipairs(r.wire) do t[#t + 1] = w.count .. 'x' .. w.size end
		print(table.concat(t, ' ') .. ' records=' .. tostring(r.capture_records) .. ' file=' .. tostring(r.capture_file))"
}

case_wire() {
	out=$(wire_of udp_gso off true) || return 1
	echo "udp_gso off: $out"
	case "$out" in "44x1472 1x768 records=nil file=nil") ;; *) echo "FAIL: UDP GSO, offload off"; return 1 ;; esac
	out=$(wire_of udp_gso on true) || return 1
	echo "udp_gso on: $out"
	case "$out" in "1x64768 1x768 "*) ;; *) echo "FAIL: UDP GSO over the veth: one GSO packet"; return 1 ;; esac
	out=$(wire_of udp off true) || return 1
	echo "udp off: $out"
	case "$out" in "44x1472 1x768 "*) ;; *) echo "FAIL: plain UDP"; return 1 ;; esac
	out=$(wire_of write off "$TMP/off.pcap") || return 1
	echo "write off: $out"
	case "$out" in "45x1448 1x376 records="*" file=$TMP/off.pcap") ;; *) echo "FAIL: TSO off: MSS-sized"; return 1 ;; esac
	# tshark (when there) reads the pcap: the same data segments
	if command -v tshark >/dev/null 2>&1; then
		# (a retransmission - a tail loss probe on a loaded machine - is in
		# the pcap but not in the sizes: both leave it out)
		tshark -r "$TMP/off.pcap" -Y 'tcp.len > 0 && !tcp.analysis.retransmission && !tcp.analysis.spurious_retransmission' \
			-T fields -e tcp.len 2>/dev/null | sort -n | uniq -c |
			awk '{printf "%sx%s ", $1, $2}' >"$TMP/ts"
		echo "tshark: $(cat "$TMP/ts")"
		[ "$(cat "$TMP/ts")" = "1x376 45x1448 " ] ||
			{ echo "FAIL: tshark reads other sizes"; tshark -r "$TMP/off.pcap" 2>/dev/null | tail -8; return 1; }
	else
		echo "(no tshark: the pcap's reading by tshark is not checked)"
	fi
	out=$(wire_of write on "$TMP/on-XXXXXX.pcap") || return 1
	echo "write on: $out"
	case "$out" in *"file=$TMP/on-"??????".pcap") ;; *) echo "FAIL: a mkstemps name"; return 1 ;; esac
	max=$(echo "$out" | tr ' ' '\n' | sed -n 's/^[0-9]*x\([0-9]*\)$/\1/p' | sort -n | tail -1)
	[ "$max" -gt 1448 ] || { echo "FAIL: TSO on over the veth: larger than the MSS"; return 1; }
	# an existing file is never written over
	if "$RINGLAB" -e "lab.kernel.send{path='write', size=65536, testbed='$NAME', capture='$TMP/off.pcap'}" \
		>"$TMP/out" 2>&1; then echo "FAIL: an existing pcap written over"; return 1; fi
	cat "$TMP/out"
	expect "capture=$TMP/off.pcap: that file exists - give a new name" || return 1
	cat >"$TMP/in" <<-EOF2
	open sim name=copy
	kernel send udp_gso size=64k offload=off
	kernel send write size=64k offload=off
	kernel send sendfile size=64k capture=true
	compare copy kernel:write kernel:sendfile kernel:udp_gso
	compare kernel:splice
	compare kernel:nosuch
	kernel send write size=64k capture=
	kernel compare size=64k capture=$TMP/x.pcap
	EOF2
	COLUMNS=80 "$RINGLAB" --netns "$LAB" <"$TMP/in" >"$TMP/out" 2>&1
	cat "$TMP/out"
	expect "  on the wire (TSO/GSO off): 44 UDP packets of 1472 B + 1 of 768 B" || return 1
	expect "  on the wire (TSO/GSO off): 45 TCP segments of 1448 B + 1 of 376 B" || return 1
	grep -Eq "^engine +copy +write +sendfile +udp_gso$" "$TMP/out" || { echo "FAIL: compare's columns"; return 1; }
	grep -Eq "^packets sent +0 +46 +[0-9]+ +45$" "$TMP/out" || { echo "FAIL: packets on the wire"; return 1; }
	grep -Eq "^kernel_copied +0 +65536 +0 +65536$" "$TMP/out" || { echo "FAIL: kernel copies"; return 1; }
	grep -Eq "^  peer sha256 +- +intact +intact +intact$" "$TMP/out" || { echo "FAIL: peer row"; return 1; }
	expect "error: compare: no result for kernel:splice yet - run kernel send splice size=64k first" || return 1
	expect "error: compare: no kernel path 'nosuch' - say kernel:PATH with one of" || return 1
	expect "error: kernel send: capture= is true, false or a new file for the pcap" || return 1
	expect "error: kernel compare: capture= is true or false here" || return 1
	[ "$(grep -c '^error:' "$TMP/out")" = 4 ] || { echo "FAIL: not one line per error"; return 1; }
	# the compare table, from its first row to its last note, fits 80 columns
	if awk '/^engine   /{t=1} t && length > 80 {print; bad=1} /^peer.s capture saw/{t=0} END{exit !bad}' "$TMP/out"; then
		echo "FAIL: compare wider than 80 columns"; return 1
	fi
}

case_lesson() {
	"$RINGLAB" --netns "$LAB" "$HERE/../../scripts/lessons/12-kernel-paths.lua" afxdp --check >"$TMP/out" 2>&1
	prc=$?
	cat "$TMP/out"
	[ $prc = 0 ] || { echo "FAIL: lesson 12 afxdp exited with $prc"; return 1; }
	expect "lesson 12: every check held" || return 1
	grep -Eq "^ +sg \(afxdp\) +write +sendfile +msg_zerocopy$" "$TMP/out" || { echo "FAIL: the table's columns"; return 1; }
	grep -Eq "^   copied by the program +0 +0 +0 +0$" "$TMP/out" || { echo "FAIL: nothing copied by the program"; return 1; }
	tr -s ' \n' ' ' <"$TMP/out" | grep -q "AF_XDP on a veth is copy mode" || { echo "FAIL: copy mode in words"; return 1; }
	tr -s ' \n' ' ' <"$TMP/out" | grep -q "Off: 44 UDP packets of 1472 B + 1 of 768 B." || { echo "FAIL: UDP GSO sizes"; return 1; }
	if grep -q 'traceback' "$TMP/out"; then echo "FAIL: a traceback"; return 1; fi
}

case "$CASE" in
lesson) case_lesson ;;
wire) case_wire ;;
paths) case_paths ;;
strategies) case_strategies ;;
prompt) case_prompt ;;
*) echo "kernel_case.sh: no case $CASE"; exit 2 ;;
esac
