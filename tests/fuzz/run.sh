#!/bin/sh
# Run the libFuzzer harnesses: tests/fuzz/run.sh SECONDS [-b BUILD/tests/fuzz] [NAME...]
# NAME is dissect, segment, tcp or reader (all four when none is given);
# each runs SECONDS seconds, one after another. New inputs the fuzzer finds
# are kept in BUILD/tests/fuzz/corpus-NAME (grown from the seeds in
# tests/fuzz/corpus/NAME); a crash is written there as crash-* and the run
# stops with its report. Exit status: 0 when every harness ran clean.
set -u
here=$(cd "$(dirname "$0")" && pwd)
usage() {
	echo "usage: $0 SECONDS [-b BUILD_DIR/tests/fuzz] [dissect|segment|tcp|reader ...]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
secs=$1
shift
case $secs in '' | *[!0-9]*) usage ;; esac
bin=$here/../../build/tests/fuzz
if [ "${1:-}" = -b ]; then
	[ $# -ge 2 ] || usage
	bin=$2
	shift 2
fi
[ $# -ge 1 ] || set -- dissect segment tcp reader
status=0
for name in "$@"; do
	exe=$bin/fuzz_$name
	if [ ! -x "$exe" ]; then
		echo "run.sh: $exe is not built - configure with clang installed (RINGLAB_FUZZ=ON) and build" >&2
		exit 2
	fi
	corpus=$bin/corpus-$name
	mkdir -p "$corpus" "$bin/artifacts"
	log=$(mktemp) || exit 2
	"$exe" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$bin/artifacts/$name-" "$corpus" "$here/corpus/$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "fuzz_$name: ${runs:-?} runs in ${secs}s (${rate:-?}/s), $cov, no crash"
	else
		cat "$log" >&2
		echo "fuzz_$name: FAILED (exit $rc) - the input is in $bin/artifacts/$name-*" >&2
		status=1
	fi
	rm -f "$log"
done
exit $status
