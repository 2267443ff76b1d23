#!/usr/bin/env bash
# run.sh — every benchmark, each printing its figures beside its reference
# run (tshark, a plain libpcap loop, the papers' figures) in the same
# invocation.  `make bench` runs it.  Machines are shared and noisy: read
# the ratios, not the absolute numbers.
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
run() { echo; echo "=== $*"; "$@"; }
run bench/parse_bench.sh 1000000 "$B"
cap=$(mktemp /tmp/vnd-bench-XXXXXX.pcap)
"$B/bench/gen_capture" "$cap" 300000 64
run "$B/bench/decode_bench" "$cap"
rm -f "$cap"
run "$B/bench/retain_bench" /var/tmp 2000000 5 128
run "$B/bench/retain_bench" /var/tmp 400000 5 1514
run "$B/bench/packed_bench" 2000000 3 /var/tmp
[ -x bench/diag_bench.sh ] && run bench/diag_bench.sh
run bench/guard_bench.sh 1000000 "$B"
[ -x bench/simulate.sh ] && run bench/simulate.sh
[ -x bench/tabled_capture.sh ] && [ "$(id -u)" = 0 ] && run bench/tabled_capture.sh
[ -x bench/correlate_bench.sh ] && [ "$(id -u)" = 0 ] && run bench/correlate_bench.sh "$B"
[ -x bench/capture_overhead.sh ] && [ "$(id -u)" = 0 ] && run bench/capture_overhead.sh "$B"
[ -x bench/controld_bench.sh ] && [ "$(id -u)" = 0 ] && run bench/controld_bench.sh "$B"
[ -x bench/collector_bench.sh ] && [ "$(id -u)" = 0 ] && run bench/collector_bench.sh 300000 "$B"
exit 0
