# lib.sh - what bench/afxdp.sh and bench/dpdk.sh share; sourced, not run.
#
# They set RINGLAB, NAME, LAB, PEER, TMP, GENPPS (bench_afxdp_pps),
# GENENGINE (ringlab-engine-afxdp.so) and TESTPMD_PREFIX (testpmd's
# --file-prefix) first. Provides:
#   bench_testbed_up     a fresh testbed $NAME; sets LAB_MAC
#   bench_down           kill the generator, take the testbed down, remove
#                        TMP and the runtime directory testpmd leaves
#   ticks PID            CPU ticks (user + system, all threads) of a process
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
