#!/usr/bin/env bash
# rollup_bench.sh — answers from a table's rollup beside the scans they
# replace, on one capture of N TCP packets (bench/gen_capture: 64
# interleaved flows, snap length 128 so that 10M packets fit in 1.2 GB of
# /tmp; payload lengths are the packets' own), in one run:
#
#   ingest   `vnd parse` with rollups (default) beside VND_ROLLUP=0, best
#            of IRUNS (RUNS + 2) each, interleaved; packets per second
#   apps     throughput, throughput --by-flow, groups of the 5-tuple,
#            distribution of dst_port, rtt, rtt --by-flow: from the rollup
#            and from the rows (--no-rollup: the rows' SQL, or rtt's C
#            step), timed inside one process (bench/diag_time), and with
#            BASE, a vnd from before rollups (today's scans: the C steps of
#            throughput, groups, distribution, rtt), timed as `vnd diag`
#            less a program's start; best of RUNS, the speed-up of the
#            rollup over the fastest scan, and the answers compared (equal;
#            p50/p99 within the sketch's 1%, means 1e-9)
#   follow   the question --follow asks each slot (the last complete slot:
#            --since/--until) on a capture of N/10 packets and of N
#
#   bench/rollup_bench.sh [PACKETS=10000000] [RUNS=3]
# Environment: VND (default build/vnd), BASE (a vnd without rollups, e.g.
# of commit 0eabbd3: git archive 0eabbd3 | tar -x -C /tmp/ref && make -C
# /tmp/ref build/vnd; none by default), KEEP=1 keeps the work folder.
set -eu
cd "$(dirname "$0")/.."
N=${1:-10000000}
RUNS=${2:-3}
IRUNS=${IRUNS:-$((RUNS + 2))}
VND=${VND:-build/vnd}
GEN=$(dirname "$VND")/bench/gen_capture
BASE=${BASE:-none}
[ "$BASE" != none ] && [ -x "$BASE" ] || BASE=
W=$(mktemp -d /tmp/vnd-rollup-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a - b }'; }
minf() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }

"$GEN" "$W/cap.pcap" "$N" 64 128 >/dev/null
"$GEN" "$W/small.pcap" "$((N / 10))" 64 128 >/dev/null
cat "$W/cap.pcap" >/dev/null
echo "capture: $N packets, $(($(stat -c %s "$W/cap.pcap") / 1000000)) MB (bench/gen_capture, snap length 128)"

# ---- ingest, rollups on and off ----
on=""; off=""
for ((i = 0; i < IRUNS; i++)); do
    for r in 0 1; do
        rm -f "$W"/t.db*
        a=$(now); VND_ROLLUP=$r "$VND" parse -q -o "$W/t.db" "$W/cap.pcap"; e=$(now)
        if [ $r = 1 ]; then on=$(minf "$(sub "$e" "$a")" "$on"); else off=$(minf "$(sub "$e" "$a")" "$off"); fi
    done
done
# the last run kept its rollup: the database the apps read
rate() { awk -v n="$N" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
printf '\ningest (vnd parse, best of %d; load average %s)\n' "$IRUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  rollups off  %7.2f s  %9s packets/s\n' "$off" "$(rate "$off")"
printf '  rollups on   %7.2f s  %9s packets/s  (%+.1f%% time)\n' "$on" "$(rate "$on")" \
    "$(awk -v a="$on" -v b="$off" 'BEGIN { print 100 * (a - b) / b }')"
"$VND" query -d "$W/t.db" -f csv "select rollup_status, rollup_packets, packets_stored,
    (select count(*) from cap__rollup) from vnd_meta where tbl = 'cap'" | tail -1 \
    | awk -F, '{ printf "  rollup: %s, %s of %s rows, %s rollup rows\n", $1, $2, $3, $4 }'

# best CMD...: the best time of RUNS runs; the output of the last in $W/out
best() {
    local b="" a e i
    for ((i = 0; i < RUNS; i++)); do
        a=$(now); "$@" >"$W/out" 2>"$W/err" || { echo "failed: $*: $(head -c 200 "$W/err")" >&2; return 1; }
        e=$(now); b=$(minf "$(sub "$e" "$a")" "$b")
    done
    echo "$b"
}
# same A B: the two CSVs agree (quantiles within 1%, means to 1e-9)
same() {
    awk -F, 'FNR == 1 { f++; if (f == 1) for (i = 1; i <= NF; i++) col[i] = $i; next }
        f == 1 { a[FNR] = $0; n1 = FNR; next }
        { n2 = FNR; split(a[FNR], x, ","); for (i = 1; i <= NF; i++) {
              d = x[i] - $i; if (d < 0) d = -d; m = $i < 0 ? -$i : $i
              if (col[i] ~ /^p(50|99)_ms$/) { if (d > 0.01 * m + 1e-12) bad++ }
              else if (col[i] == "mean_ms") { if (d > 1e-9 * m) bad++ }
              else if (x[i] != $i) bad++ } }
        END { exit (bad || n1 != n2 || n1 < 2) }' "$1" "$2"
}

# the app's time inside one process (bench/diag_time): a program's start
# costs 60-90 ms here, more than a rollup's answer
DT=$(dirname "$VND")/bench/diag_time
floor=""
if [ -n "$BASE" ] && "$BASE" diag throughput -t cap -d "$W/t.db" --show-sql | grep -q "rollup"; then
    echo "BASE $BASE knows rollups: it is not today's scan (BASE: a vnd of 0eabbd3)" >&2
    BASE=
fi
if [ -n "$BASE" ]; then
    for ((i = 0; i < RUNS; i++)); do
        a=$(now); "$BASE" query -d "$W/t.db" -f csv "select 1" >/dev/null; e=$(now)
        floor=$(minf "$(sub "$e" "$a")" "$floor")
    done
fi
printf '\nanswers (seconds, best of %d, the rollup best of %d; rollup and rows inside the\n' \
    "$RUNS" $((RUNS * 7))
printf 'process; today: vnd diag of %s less its start, %.3f s)\n' "${BASE:-(none)}" "${floor:-0}"
printf '%-32s %8s %8s %8s %9s  %s\n' app rollup rows today speed-up "same answer"
for app in "throughput cap" "throughput cap by-flow" \
           "groups cap fields=src_ip,dst_ip,src_port,dst_port,proto" \
           "distribution cap field=dst_port" "rtt cap" "rtt cap by-flow"; do
    read -ra a <<<"$app"
    cli=(diag "${a[0]}" -t cap -d "$W/t.db" -f csv --timeout 0)
    case "$app" in *by-flow*) cli+=(--by-flow) ;; esac
    case "$app" in *fields=*) cli+=(--fields "${app#*fields=}") ;; esac
    case "$app" in *field=*) cli+=(--field "${app#*field=}") ;; esac
    first=$("$VND" "${cli[@]}" --show-sql | head -c 27)
    [ "$first" = "/* answered from the rollup" ] || echo "  ($app: not from the rollup: $first)"
    # the rollup's answer takes milliseconds: more tries against the noise
    r=$("$DT" "$W/t.db" $((RUNS * 7)) "${a[@]}")
    s=$("$DT" "$W/t.db" "$RUNS" "${a[@]}" no-rollup)
    "$VND" "${cli[@]}" >"$W/r.csv"
    "$VND" "${cli[@]}" --no-rollup >"$W/s.csv"
    verdict=yes
    same "$W/r.csv" "$W/s.csv" || verdict="NO (rows)"
    b=-; scan=$s
    if [ -n "$BASE" ]; then
        b=$(best "$BASE" "${cli[@]}"); cp "$W/out" "$W/b.csv"
        b=$(sub "$b" "$floor"); scan=$(minf "$b" "$s")
        same "$W/r.csv" "$W/b.csv" || verdict="$verdict, NO (today)"
    fi
    printf '%-32s %8.4f %8.3f %8s %8.0fx  %s (%d rows)\n' "${a[0]}${a[2]:+ ${a[2]%%=*}}" "$r" "$s" "$b" \
        "$(awk -v a="$scan" -v b="$r" 'BEGIN { print a / b }')" "$verdict" \
        "$(($(wc -l <"$W/r.csv") - 1))"
done

# ---- follow: the last complete slot, on N/10 packets and on N ----
VND_ROLLUP=1 "$VND" parse -q -o "$W/small.db" "small=$W/small.pcap"
printf '\nfollow (throughput --by-flow of the last complete slot, --since/--until)\n'
for t in small cap; do
    db="$W/$t.db"; [ $t = cap ] && db="$W/t.db"
    read -r t0 t1 < <("$VND" query -d "$db" -f csv "select min(ts), max(ts) from $t" | tail -1 | tr , ' ')
    read -r since until < <(awk -v a="$t0" -v b="$t1" 'BEGIN { k = int(b - a) - 1; printf "%.17g %.17g\n", a + k, a + k + 1 }')
    rows=$("$VND" query -d "$db" -f csv "select count(*) from $t" | tail -1)
    r=$("$DT" "$db" $((RUNS * 7)) throughput $t by-flow since="$since" until="$until")
    s=$("$DT" "$db" "$RUNS" throughput $t by-flow since="$since" until="$until" no-rollup)
    printf '  %9d rows, %5.0f s of capture: rollup %.4f s, rows %.3f s\n' "$rows" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$r" "$s"
done
