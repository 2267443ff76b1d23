#!/usr/bin/env bash
# simulate_cli.sh — `vnd simulate`: formats, option errors, determinism,
# the measured-executor conversion, and the full 10,000-server run's time.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-build/vnd}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

SMALL=(--servers 300 --util 0.1,0.5)

# --help states every modelling choice.
"$VND" simulate --help >"$TMP/help"
check "--help exits 0" test $? -eq 0
for w in --flows --place --switch-load --order --stop --executor-pps "allocation round" \
         "capture point" "co-located"; do
    check "--help explains $w" grep -q -- "$w" "$TMP/help"
done

# Formats.
"$VND" simulate "${SMALL[@]}" -f csv >"$TMP/a.csv"
check_eq "csv: exit 0" $? 0
check_eq "csv: header" "$(head -1 "$TMP/a.csv")" \
  "target_util_pct,tenants,vms,flows,link_util_pct,collected_pct,queried_pct,queried_link_pct,collect_limit,query_limit,allocation"
check_eq "csv: one row per utilization" "$(wc -l <"$TMP/a.csv")" 3
check_eq "csv: 11 fields per row" "$(awk -F, 'NF != 11' "$TMP/a.csv" | wc -l)" 0
check_eq "csv: 10% row is all diagnosed" "$(awk -F, 'NR==2 {print $1, $6, $7, $11}' "$TMP/a.csv")" \
  "10.0 100.0 100.0 threshold"
"$VND" simulate "${SMALL[@]}" -f json >"$TMP/a.json"
check_eq "json: exit 0" $? 0
check "json: an array of objects" grep -q '^{"target_util_pct":' "$TMP/a.json"
check_eq "json: opens and closes the array" "$(head -1 "$TMP/a.json")$(tail -1 "$TMP/a.json")" "[]"
check_eq "json: two rows" "$(grep -o '"tenants":' "$TMP/a.json" | wc -l)" 2
"$VND" simulate "${SMALL[@]}" >"$TMP/a.txt"
check "table: has the header" grep -q '^target_util_pct  *tenants' "$TMP/a.txt"

# Determinism.
"$VND" simulate "${SMALL[@]}" -f csv --seed 1 >"$TMP/b.csv"
check "same seed, same output" cmp -s "$TMP/a.csv" "$TMP/b.csv"
"$VND" simulate "${SMALL[@]}" -f csv --seed 7 >"$TMP/c.csv"
check "another seed, another output" bash -c "! cmp -s '$TMP/a.csv' '$TMP/c.csv'"
"$VND" simulate "${SMALL[@]}" -f csv --order random --seed 7 >"$TMP/d1.csv"
"$VND" simulate "${SMALL[@]}" -f csv --order random --seed 7 >"$TMP/d2.csv"
check "random order is seeded too" cmp -s "$TMP/d1.csv" "$TMP/d2.csv"
"$VND" simulate "${SMALL[@]}" -f csv --util=10%,50% >"$TMP/e.csv"
check "--util=10%,50% is --util 0.1,0.5" cmp -s "$TMP/a.csv" "$TMP/e.csv"

# --executor-pps: 250,000 packets/s of 1500 bytes = 3 Gbit/s.
"$VND" simulate "${SMALL[@]}" -f csv --executor-pps 250000 >"$TMP/f.csv"
check "--executor-pps 250000 equals --executor-gbps 3" cmp -s "$TMP/a.csv" "$TMP/f.csv"
"$VND" simulate "${SMALL[@]}" -f csv --executor-pps 500000 --packet-bytes 750 >"$TMP/g.csv"
check "--packet-bytes scales it" cmp -s "$TMP/a.csv" "$TMP/g.csv"
# A huge executor: queries succeed exactly when captures do.
"$VND" simulate "${SMALL[@]}" -f csv --executor-gbps 100 >"$TMP/h.csv"
check_eq "no executor limit: queried = collected" \
  "$(awk -F, 'NR>1 && $6 != $7' "$TMP/h.csv" | wc -l)" 0
q50=$(awk -F, 'NR==3 {print $7}' "$TMP/a.csv")
check "3 Gbit/s executor at 50%: 50-60% queried (got $q50)" \
  awk -v q="$q50" 'BEGIN { exit !(q >= 50 && q <= 60) }'

# Bad options: exit 2 and name the option and what it takes.
bad() {
    local desc=$1 want=$2; shift 2
    "$VND" simulate "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" -eq 2 ] && grep -q -- "$want" "$TMP/err" && [ ! -s "$TMP/out" ]; then
        ok "$desc"
    else
        not_ok "$desc"; echo "#   rc=$rc stderr: $(cat "$TMP/err")"
    fi
}
bad "--servers abc" "--servers takes a whole number" --servers abc
bad "--servers 0" "--servers takes a whole number" --servers 0
bad "--util 1.5" "--util takes a comma-separated list" --util 0.1,1.5
bad "--util empty item" "--util takes" --util 0.1,,0.3
bad "--vms 1:5" "--vms takes MIN:MAX" --vms 1:5
bad "--vms 5:2" "--vms takes MIN:MAX" --vms 5:2
bad "--flow-mbps 10" "--flow-mbps takes MIN:MAX" --flow-mbps 10
bad "--flows star" "--flows takes random, ring, chain or pairs" --flows star
bad "--place best" "--place takes" --place best
bad "--stop never" "--stop takes first-reject or all" --stop never
bad "--executor-gbps 0" "--executor-gbps takes Gbit/s" --executor-gbps 0
bad "--switch-gbps -3" "--switch-gbps takes Gbit/s" --switch-gbps -3
bad "--seed x" "--seed takes a whole number" --seed x
bad "-f xml" "-f takes table, csv or json" -f xml
bad "unknown option" "unknown option '--frobnicate'" --frobnicate 1
bad "missing value" "--servers needs a value" --servers
bad "stray argument" "unexpected 'foo'" foo
bad "gbps and pps together" "not both" --executor-gbps 3 --executor-pps 1000
bad "--packet-bytes alone" "only applies to --executor-pps" --packet-bytes 1500
bad "flow faster than NIC" "faster than the NIC" --nic-gbps 0.05

# The paper's data center: 10,000 servers, five utilizations, in seconds.
t0=$(date +%s%N)
"$VND" simulate -f csv >"$TMP/full.csv"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# full 10,000-server run (5 utilizations): ${ms} ms"
check_eq "full run exits 0" "$rc" 0
check "full run under 60 s (${ms} ms)" test "$ms" -lt 60000
check_eq "full run: 18K tenants at 10%" "$(awk -F, 'NR==2 {print int($2 / 1000)}' "$TMP/full.csv")" 18
check_eq "full run: 162K tenants at 90%" "$(awk -F, 'NR==6 {print int($2 / 1000)}' "$TMP/full.csv")" 162

done_testing
