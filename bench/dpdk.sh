#!/bin/sh
# dpdk.sh - the DPDK benchmark: ringlab's dpdk engine from C (bench_dpdk_pps,
# through the ops table) against dpdk-testpmd on the same vdevs, in the
# same run.
#
#   sudo bench/dpdk.sh [build-dir] [seconds] [rounds]
#   TESTS="xdp_tx xdp_rx" sudo bench/dpdk.sh ...   only those (of null_tx
#                    null_rx ring_txrx xdp_tx xdp_rx; default: all)
#
# What each figure means (64-byte UDP frames throughout):
#   net_null txonly  ringlab: take frames, write the 42 header bytes, tx,
#                    complete; testpmd --forward-mode=txonly (which copies
#                    the same 42 bytes of header template per packet).
#                    net_null frees what it is sent inside tx_burst: the
#                    cost of making and handing over packets, nothing
#                    else. ringlab's frames are pinned external buffers of
#                    its mbufs; a plain packet goes to net_null with its
#                    mbuf marked direct, so DPDK's free takes its short
#                    path. A third line, testpmd --mp-alloc=xbuf (its
#                    mbufs with pinned external buffers), shows what the
#                    long one costs; it is not in the ratios.
#   net_null rxonly  ringlab: fill, rx, release; testpmd rxonly. net_null
#                    "receives" by taking mbufs from the pool and setting
#                    their length: the cost of taking packets in.
#   net_ring txrx    packets through an rte_ring between two ports, made
#                    and received in one loop, counted on receive. A
#                    net_ring vdev given on the command line is always a
#                    loopback (its TX ring is its RX ring; DPDK's ring PMD
#                    guide: "take no additional parameters") and testpmd's
#                    txonly never receives, so it stalls once the ring is
#                    full. testpmd: two vdevs, net_ring0 and net_ring1, in
#                    --forward-mode=flowgen, which per burst receives and
#                    frees, then makes (1024 flows, IP checksum per packet)
#                    and sends: stream 0 receives on port 0 and sends on
#                    port 1, stream 1 the other way, so each ring is fed by
#                    one port's TX and drained by the other stream's RX
#                    (the figure: Rx-pps of both ports). ringlab: two engines
#                    back to back over two rings (peer=), txonly on one and
#                    rxonly on the other; one ring carries the traffic.
#   net_af_xdp txonly / rxonly
#                    on testbed veth rlbench0 (lab side, copy mode: veth
#                    has no zero-copy), as bench/afxdp.sh: txonly to a MAC
#                    nobody has; rxonly fed by bench_afxdp_pps txonly (an
#                    AF_XDP sender through ringlab's afxdp engine) on
#                    rlbench1, pinned to CPU 0. On veth the receive side's
#                    work runs on the *sender's* CPU, so the generator's rate
#                    bounds both receivers; it is printed next to each.
#
# ringlab runs on CPU 1 (taskset, EAL lcores=1) in batches of 32 and 64
# (BATCHES; the ratios use the first, 32 = testpmd's burst). testpmd runs
# as a user would: defaults (burst 32) with --txpkts=64, --no-huge -m 512
# --no-pci, lcores 0-1 (its forwarding lcore is CPU 1), and
# --total-num-mbufs=16384: its default pool (155456 mbufs of 2176 bytes)
# does not fit in -m 512 and it would not start.
#
# The machine may be busy, so every round runs all tools back to back (odd
# rounds ringlab first, even rounds testpmd first) and the ratios are
# taken per round, then the median over the rounds. Each
# line also gives Mpps per CPU-second: packets over the CPU time the tool
# used (testpmd: all its threads), which other load disturbs much less
# than the wall-clock rate. Makes and always removes testbed "rlbench".
# Runs by hand, not in ctest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-3}
rounds=${3:-5}
BATCHES=${BATCHES:-32 64}
RINGLAB=$build/shell/ringlab
ENGINE=$build/engines/ringlab-engine-dpdk.so
AFXDP=$build/engines/ringlab-engine-afxdp.so
PPS=$build/bench/bench_dpdk_pps
GENPPS=$build/bench/bench_afxdp_pps
NAME=rlbench LAB=rlbench-lab PEER=rlbench-peer
TMP=$(mktemp -d)
HZ=$(getconf CLK_TCK)
MBUFS=16384

[ "$(id -u)" = 0 ] || { echo "dpdk.sh needs root (DPDK, AF_XDP, namespaces)"; exit 1; }
for f in "$RINGLAB" "$ENGINE" "$AFXDP" "$PPS" "$GENPPS"; do
	[ -e "$f" ] || { echo "missing $f - build first (cmake --build $build)"; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd not found (apt install dpdk)"; exit 1; }
TESTS=${TESTS:-null_tx null_rx ring_txrx xdp_tx xdp_rx}
for t in $TESTS; do
	case $t in
	null_tx | null_rx | ring_txrx | xdp_tx | xdp_rx) ;;
	*) echo "TESTS=\"$TESTS\": no test $t - pick from null_tx null_rx ring_txrx xdp_tx xdp_rx"; exit 2 ;;
	esac
done

GENENGINE=$AFXDP TESTPMD_PREFIX=rlbench-dpdk
. "$here/lib.sh"
trap bench_down EXIT
trap 'exit 130' INT TERM
bench_testbed_up
XDP=net_af_xdp0,iface=${NAME}0

# testpmd NETNS LABEL MODE KEY VDEV...: the mean of its per-second KEY
# (Rx-pps or Tx-pps, summed over its ports) over $secs seconds once it
# forwards (lib.sh: testpmd_window), and its CPU time over the same
# seconds. NETNS "-" runs it here (net_null, net_ring: no interface).
testpmd() {
	ns=$1 label=$2 mode=$3 key=$4
	shift 4
	vdevs=
	for v in "$@"; do vdevs="$vdevs --vdev $v"; done
	if [ "$ns" = - ]; then pre=; else pre="ip netns exec $ns"; fi
	# shellcheck disable=SC2086
	timeout -s INT $((secs + 25)) $pre stdbuf -oL dpdk-testpmd --no-huge -m 512 --no-pci \
		--file-prefix=$TESTPMD_PREFIX -l 0-1 $vdevs -- --forward-mode="$mode" \
		--txpkts=64 --stats-period=1 --total-num-mbufs=$MBUFS ${TP_EXTRA:-} >"$TMP/testpmd.log" 2>&1 &
	tp=$!
	testpmd_window $tp
	awk -v key="$key:" -v label="$label" -v m="$mode" -v cpu=$TP_CPU -v hz="$HZ" \
		-v secs="$TP_SECS" -v from=$TP_FROM -v to=$TP_TO '
		/Port statistics =/ { n++ }
		$1 == key { v[n] += $2 }
		END { for (i = from + 1; i <= to; i++) if (i in v) { s += v[i]; k++ }
		      if (k) printf "dpdk-testpmd %s %s (%s): %.3f Mpps (mean of %d samples of %s over %.1f s; %.3f Mpps per CPU-second)\n",
		                    label, m, (m == "flowgen" ? "2 ports" : "burst=32"), s / k / 1e6, k, substr(key, 1, 6), secs,
		                    (cpu > 0 ? s / k * secs / (cpu / hz) / 1e6 : 0)
		      else print "dpdk-testpmd " label " " m ": no figures (its log follows)" }' \
		"$TMP/testpmd.log"
	awk '/Port statistics =/ { n++ } END { exit n > 2 }' "$TMP/testpmd.log" &&
		sed 's/^/  | /' "$TMP/testpmd.log" | tail -15
}

# ringlab NETNS MODE [key=value...]: bench_dpdk_pps on CPU 1, once per batch.
ringlab() {
	ns=$1 mode=$2
	shift 2
	if [ "$ns" = - ]; then pre=; else pre="ip netns exec $ns"; fi
	for b in $BATCHES; do
		$pre taskset -c 1 "$PPS" "$ENGINE" "$mode" "$secs" lcores=1 batch="$b" "$@" \
			2>"$TMP/pps.err" || sed 's/^/  | /' "$TMP/pps.err"
	done
}



want() { case " $TESTS " in *" $1 "*) return 0 ;; esac; return 1; }

# The two sides of each test. A round runs them one after the other, and
# odd rounds ringlab first, even rounds testpmd first: a machine that
# slows down or speeds up during a round favours neither.
rl_null_tx() { ringlab - txonly vdev=net_null0; }
tp_null_tx() { testpmd - net_null txonly Tx-pps net_null0; }
rl_null_rx() { ringlab - rxonly vdev=net_null0; }
tp_null_rx() { testpmd - net_null rxonly Rx-pps net_null0; }
rl_ring_txrx() { ringlab - txrx vdev=net_ring0; }
tp_ring_txrx() { testpmd - net_ring flowgen Rx-pps net_ring0 net_ring1; }
rl_xdp_tx() { ringlab $LAB txonly vdev=$XDP fill=2048; }
tp_xdp_tx() { testpmd $LAB net_af_xdp txonly Tx-pps "$XDP"; }
rl_xdp_rx() {
	for b in $BATCHES; do
		generator $((secs + 3)); BATCHES=$b ringlab $LAB rxonly vdev=$XDP fill=2560; gen_done
	done
}
tp_xdp_rx() { generator $((secs + 12)); testpmd $LAB net_af_xdp rxonly Rx-pps "$XDP"; gen_done; }

for r in $(seq "$rounds"); do
	echo "== round $r: 64-byte frames, ${secs} s each"
	for t in null_tx null_rx ring_txrx xdp_tx xdp_rx; do
		want $t || continue
		if [ $((r % 2)) = 1 ]; then "rl_$t"; "tp_$t"; else "tp_$t"; "rl_$t"; fi |
			tee "$TMP/$t.$r"
		if [ $t = null_tx ]; then
			# for reference (not in the ratios): testpmd with pinned
			# external buffers, the layout of ringlab's own region -
			# what DPDK's free path for them costs (ringlab sends
			# plain packets with direct mbufs)
			TP_EXTRA=--mp-alloc=xbuf
			testpmd - "net_null(xbuf)" txonly Tx-pps net_null0
			TP_EXTRA=
		fi
	done
done

# Per round and test: ringlab (first batch) / testpmd, wall-clock and per
# CPU-second; then the median of each over the rounds.
first=${BATCHES%% *}
tests=$TESTS
for r in $(seq "$rounds"); do
	for t in $tests; do
		awk -v t=$t -v b="batch=$first:" '
			function mpps() { for (i = 2; i <= NF; i++) if ($i == "Mpps") return $(i - 1); return 0 }
			function cpu() { for (i = 2; i < NF; i++) if ($i == "Mpps" && $(i + 1) == "per") return $(i - 1); return 0 }
			/^ringlab C/ && index($0, b) && !c { c = mpps(); cc = cpu() }
			/^dpdk-testpmd/ { d = mpps(); dc = cpu() }
			END { if (d > 0 && dc > 0) printf "%s %.3f %.3f %.3f %.3f\n", t, c, d, c / d, cc / dc }' \
			"$TMP/$t.$r"
	done
done >"$TMP/ratios"
echo "== medians of $rounds rounds, ringlab batch=$first (target: ringlab >= 0.95x testpmd)"
echo "   (Mpps wall-clock; ratio wall: Mpps / Mpps; ratio cpu: Mpps per CPU-second / the same)"
for t in $tests; do
	case $t in
	null_tx) l="net_null   txonly" ;; null_rx) l="net_null   rxonly" ;;
	ring_txrx) l="net_ring   txrx  " ;; xdp_tx) l="net_af_xdp txonly" ;; *) l="net_af_xdp rxonly" ;;
	esac
	for col in 2 3 4 5; do
		grep "^$t " "$TMP/ratios" | awk -v c=$col '{ print $c }' | med
	done | paste -sd' ' | awk -v l="$l" '{ printf "  %s  ringlab %7.3f  testpmd %7.3f Mpps   ratio wall %s cpu %s\n", l, $1, $2, $3, $4 }'
done
