#!/usr/bin/env bash
# run.sh — the whole suite: unit tests, fuzz replays and golden tests
# against build/ and against the sanitizer build (build-san/); each
# integration test once: under the sanitizer build, except those that
# measure rates, delays or accuracy under load (MEASURING: the sanitizer
# slows the programs past what they measure), which run against build/;
# the multi-threaded ones again against the thread-sanitizer build
# (build-tsan/); then short libFuzzer runs.  What shares nothing with
# another test runs two at a time (one a core): the fuzzers, and the tests
# in PAIRED.
# With -b, every test runs against each build named.  Ends with the line
# "N passed, N failed, N skipped".
#
#   tests/run.sh                 everything
#   tests/run.sh -b build        one build only
#   tests/run.sh -k PATTERN      only tests whose name matches PATTERN
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
BUILDS=()
PATTERN=
FUZZ_SECONDS=${FUZZ_SECONDS:-6}
while getopts "b:k:" o; do
    case $o in
    b) BUILDS+=("$OPTARG") ;;
    k) PATTERN=$OPTARG ;;
    *) echo "usage: tests/run.sh [-b BUILD]... [-k PATTERN]" >&2; exit 2 ;;
    esac
done
# The thread-sanitizer build (make TSAN=1), when there is
# one, runs only the tests whose programs use several threads.
if [ ${#BUILDS[@]} -eq 0 ]; then
    BUILDS=(build build-san)
    [ -x build-tsan/vnd ] && BUILDS+=(build-tsan)
fi
THREADED=(integration/diag_parallel.sh integration/parse_query.sh integration/controld_e2e.sh
          integration/parse_pg_restart.sh integration/tap_tabled.sh)
MEASURING=(budget.sh correlate_haproxy.sh demo_live.sh diag_postgres.sh host_budget.sh rtt_diff.sh testbed_pg.sh)
# ... and those with a check of their own for the optimized build (peak
# memory) run against both
BOTH=(parse_query.sh)
# Tests that share nothing with another (no OVS bed, namespace, fixed port,
# several threads or timing under load; their PostgreSQL instances their
# own, on Unix sockets or a free port): run two at a time, longest first
PAIRED=(distributed_pg.sh diag_cli.sh rollup.sh parse_errors.sh diag_accuracy.sh
        parse_pg_restart.sh distributed_tls.sh diag_lb_order.sh openapi_check_self.sh
        simulate_cli.sh man_pages.sh diag_sampling.sh golden.sh ipfix_tshark.sh sflow_tshark.sh
        tshark_diff.sh)
# integration tests split between build/ and build-san/ when both run
SPLIT=
if [[ " ${BUILDS[*]} " == *" build "* && " ${BUILDS[*]} " == *" build-san "* ]]; then SPLIT=1; fi
# listed NAME WORD...: NAME is one of the words
listed() { local n=$1; shift; [[ " $* " == *" $n "* ]]; }

PASSED=0 FAILED=0 SKIPPED=0
FAILED_NAMES=()
LOG=$(mktemp -d /tmp/vnd-tests.XXXXXX)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}

# run_one NAME CMD...: runs a test program, counts its TAP lines.
run_one() {
    local name=$1; shift
    if [ -n "$PATTERN" ] && [[ $name != *$PATTERN* ]]; then return; fi
    local out="$LOG/$(echo "$name" | tr '/ ' '__').log"
    local t0=${RUN_T0:-$SECONDS}
    "$@" >"$out" 2>&1 </dev/null
    local rc=$?
    local p f s
    p=$(grep -c '^ok ' "$out" | head -1); s=$(grep -c '^ok .*# SKIP' "$out" | head -1)
    f=$(grep -c '^not ok ' "$out" | head -1)
    p=$((p - s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; echo "not ok - $name exited with status $rc" >>"$out"
    fi
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); SKIPPED=$((SKIPPED + s))
    printf '%-50s %4d passed %3d failed %3d skipped  %3ds\n' "$name" "$p" "$f" "$s" $((SECONDS - t0))
    if [ "$f" -gt 0 ]; then
        FAILED_NAMES+=("$name")
        grep -E '^not ok|^#' "$out" | head -40 | sed 's/^/    /'
        tail -20 "$out" | sed 's/^/    | /'
    fi
}

# Two at a time: pool_start NAME CMD... starts a test in the background
# once fewer than two run; pool_reap counts the next one to end (run_one on
# its output); pool_drain waits for all.
declare -A POOL_NAME=() POOL_T0=()
raw_of() { echo "$LOG/raw-$(echo "$1" | tr '/ ' '__')"; }
ended() { cat "$1"; return "$(cat "$1.rc")"; }
pool_reap() {
    local pid=
    wait -n -p pid
    [ -n "$pid" ] && [ -n "${POOL_NAME[$pid]:-}" ] || return 0
    RUN_T0=${POOL_T0[$pid]} run_one "${POOL_NAME[$pid]}" ended "$(raw_of "${POOL_NAME[$pid]}")"
    unset "POOL_NAME[$pid]" "POOL_T0[$pid]"
}
pool_start() {
    local name=$1 raw; shift
    if [ -n "$PATTERN" ] && [[ $name != *$PATTERN* ]]; then return; fi
    while [ ${#POOL_NAME[@]} -ge 2 ]; do pool_reap; done
    raw=$(raw_of "$name")
    ("$@" >"$raw" 2>&1 </dev/null; echo $? >"$raw.rc") &
    POOL_NAME[$!]=$name
    POOL_T0[$!]=$SECONDS
}
pool_drain() { while [ ${#POOL_NAME[@]} -gt 0 ]; do pool_reap; done; }

# replay NAME BIN DIR...: a fuzz target on every stored input.
replay() {
    local bin=$2; shift 2
    local files=()
    for d in "$@"; do [ -d "$d" ] && while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$d" -type f -print0); done
    [ ${#files[@]} -gt 0 ] || { echo "ok 1 - no stored inputs # SKIP"; return 0; }
    if "$bin" "${files[@]}"; then echo "ok 1 - replayed ${#files[@]} inputs"; else echo "not ok 1 - replay crashed"; return 1; fi
}

for B in "${BUILDS[@]}"; do
    [ -x "$B/vnd" ] || { echo "missing $B/vnd: run make (and make SAN=1)"; FAILED=$((FAILED + 1)); continue; }
    export VND="$TOP/$B/vnd" VND_TABLED="$TOP/$B/vnd-tabled" VND_BUILD="$TOP/$B"
    if [ "$B" = build-tsan ]; then
        for s in "${THREADED[@]}"; do run_one "$B/$s" timeout -k 10 "${TEST_SECONDS:-900}" bash "tests/$s"; done
        continue
    fi
    for t in "$B"/tests/test_*; do
        [ -x "$t" ] && run_one "$B/unit/$(basename "$t")" "$t"
    done
    for r in "$B"/tests/replay_fuzz_*; do
        [ -x "$r" ] || continue
        n=${r##*/replay_fuzz_}
        run_one "$B/fuzz-replay/$n" replay "$n" "$r" "tests/fuzz/crashers/$n" "tests/fuzz/seeds/$n"
    done
    scripts=()
    for s in tests/golden/*.sh tests/integration/*.sh; do
        n=$(basename "$s")
        [[ $n == lib-* ]] && continue   # sourced by tests, not one
        if [ -n "$SPLIT" ] && [[ $s == tests/integration/* ]] && ! listed "$n" "${BOTH[@]}"; then
            if listed "$n" "${MEASURING[@]}"; then [ "$B" = build ] || continue; else [ "$B" = build-san ] || continue; fi
        fi
        [ -f "$s" ] && scripts+=("$s")
    done
    # a backstop: a test that hangs (seen: LeakSanitizer's exit-time
    # stop-the-world, google/sanitizers#777) fails after TEST_SECONDS
    # instead of stalling the suite; status 124
    for n in "${PAIRED[@]}"; do
        for s in "${scripts[@]}"; do
            [ "$(basename "$s")" = "$n" ] && pool_start "$B/${s#tests/}" timeout -k 10 "${TEST_SECONDS:-900}" bash "$s"
        done
    done
    pool_drain
    for s in "${scripts[@]}"; do
        listed "$(basename "$s")" "${PAIRED[@]}" && continue
        run_one "$B/${s#tests/}" timeout -k 10 "${TEST_SECONDS:-900}" bash "$s"
    done
done

# Short coverage-guided runs of every fuzz target (clang libFuzzer build),
# two at a time (a fuzzer keeps one core busy).
if [ -d build-fuzz/fuzz ] && [ "$FUZZ_SECONDS" -gt 0 ]; then
    for f in build-fuzz/fuzz/fuzz_*; do
        [ -x "$f" ] && pool_start "fuzz/${f##*/}" tests/fuzz/run-libfuzzer.sh "$f" "$FUZZ_SECONDS"
    done
    pool_drain
fi

echo
[ ${#FAILED_NAMES[@]} -gt 0 ] && echo "failed: ${FAILED_NAMES[*]}" && echo "logs in $LOG"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ] && rm -rf "$LOG"   # logs are kept only when something failed
[ "$FAILED" -eq 0 ]
