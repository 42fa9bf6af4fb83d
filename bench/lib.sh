# lib.sh - what bench/afxdp.sh and bench/dpdk.sh share; sourced, not run.
#
# They set RINGLAB, NAME, LAB, PEER, TMP, GENPPS (bench_afxdp_pps),
# GENENGINE (ringlab-engine-afxdp.so) and TESTPMD_PREFIX (testpmd's
# --file-prefix) first. Provides:
#   bench_testbed_up     a fresh testbed $NAME; sets LAB_MAC
#   bench_down           kill the generator, take the testbed down, remove
#                        TMP and the runtime directory testpmd leaves
#   ticks PID            CPU ticks (user + system, all threads) of a process
#   testpmd_window TP    the measuring window of a running dpdk-testpmd
#   generator SECS       flood ${NAME}0 from the peer side for SECS seconds:
#                        an AF_XDP txonly sender on ${NAME}1, on CPU 0
#   gen_done             wait for it and print its own rate
#   med                  the median of the numbers on standard input

bench_testbed_up() {
	"$RINGLAB" testbed down name=$NAME force=true >/dev/null 2>&1
	"$RINGLAB" testbed up name=$NAME >/dev/null || exit 1
	LAB_MAC=$(ip -n $LAB -o link show dev ${NAME}0 |
		sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
}

bench_down() {
	[ -n "${GEN:-}" ] && kill "$GEN" 2>/dev/null && wait "$GEN" 2>/dev/null
	"$RINGLAB" testbed down name=$NAME force=true >/dev/null
	rm -rf "/var/run/dpdk/$TESTPMD_PREFIX" "$TMP"
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# testpmd_window TP: dpdk-testpmd runs in the background (TP: the timeout
# that started it, under stdbuf -oL) with --stats-period=1, writing
# $TMP/testpmd.log. Its start-up takes 2-4 s here and varies, and it prints
# a statistics block about every 2 s (its stats loop sleeps a whole second
# between looks at the clock), each with the rate since the one before. So
# the window runs from its second block (the first shows the port still
# idle) to the first block printed at least $secs seconds later: the
# blocks TP_FROM+1..TP_TO cover exactly it. TP_CPU: testpmd's CPU ticks
# over it, TP_SECS its length. Then testpmd is stopped (SIGINT).
tw_blocks() {
	tw_n=$(grep -c "Port statistics =" "$TMP/testpmd.log" 2>/dev/null)
	echo "${tw_n:-0}"
}
tw_await() { # N TP: until N blocks are printed (or testpmd is gone, or 30 s)
	tw_i=0
	while [ "$(tw_blocks)" -lt "$1" ] && [ $tw_i -lt 300 ] && kill -0 "$2" 2>/dev/null; do
		sleep 0.05
		tw_i=$((tw_i + 1))
	done
}
testpmd_window() {
	tw_await 2 "$1"
	tw_pid=$(pgrep -P "$1" -x dpdk-testpmd | head -1)
	TP_FROM=$(tw_blocks)
	tw_c0=$(ticks "${tw_pid:-0}")
	tw_t0=$(date +%s.%N)
	sleep "$secs"
	tw_await $(($(tw_blocks) + 1)) "$1"
	tw_c1=$(ticks "${tw_pid:-0}")
	TP_SECS=$(echo "$tw_t0 $(date +%s.%N)" | awk '{ printf "%.3f", $2 - $1 }')
	TP_TO=$(tw_blocks)
	TP_CPU=$((tw_c1 - tw_c0))
	[ -n "$tw_pid" ] && kill -INT "$tw_pid" 2>/dev/null
	wait "$1"
}

# On veth the receiver's XDP work and the copy into its UMEM run on the
# sender's CPU, so no receiver can count more than this sends.
generator() {
	ip netns exec $PEER taskset -c 0 "$GENPPS" "$GENENGINE" txonly ${NAME}1 "$1" mode=copy \
		dst_mac="$LAB_MAC" src_ip=198.18.0.2 dst_ip=198.18.0.1 dst_port=9000 \
		>"$TMP/gen.log" 2>&1 &
	GEN=$!
	sleep 0.5
}

gen_done() {
	wait "$GEN"; GEN=
	sed 's/^afxdp C txonly/  traffic: generator (ringlab C, AF_XDP txonly on the peer veth)/' "$TMP/gen.log"
}

med() {
	sort -n | awk '{ v[NR] = $1 }
		END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "-" }'
}
