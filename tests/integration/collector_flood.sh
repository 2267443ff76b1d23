#!/usr/bin/env bash
# collector_flood.sh — hostile datagrams must not starve a table server's
# other exporters or its tenants (issue 16: "no datagram may starve the
# other clients of a daemon").  One vnd-tabled collecting IPFIX and sFlow,
# alice's and bob's ipfix traces, and while each flood runs bob asks the
# API (his query, the trace list) every 0.2 s:
#   - an exporter defining 172 new templates a message, 1,000 messages a
#     second, beside alice's exporter (bench/flowsend, 12,800 records):
#     the kernel drops none, every record of alice's is stored, none of her
#     data is of an unknown template (the flood's templates evict its own:
#     capture/ipfix.h), the flood's 172,000 templates are counted; before
#     the cache evicted in O(1), 2,000 such messages a second took a core
#     and 80 of 16,000 records were stored;
#   - the same from 16 ports (16 exporters, each within its share of the
#     cache, twice the cache together) beside alice's: all her records
#     stored (the templates in use are evicted last; 640 of 12,800 before);
#   - 8,000 malformed IPFIX and 8,000 malformed sFlow datagrams
#     (tests/integration/flood_datagrams.py: lying lengths, cut headers,
#     wrong versions) beside bob's exporter: each counted as malformed by
#     its collector, bob's 6,400 records all stored, the daemon alive;
#   - 80 records a day long each (5 messages): stored, the table server's
#     memory as it was (the records rollup spread each over 86,400 cells,
#     120 MB and 1.3 s a message), bob's rollup stops saying why;
#   - every answer bob got was right, each within 2 s.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
SEND=${VND_BUILD:-build}/bench/flowsend
FLOOD="$(dirname "$0")/flood_datagrams.py"
for f in "$SEND"; do
    [ -e "$f" ] || { not_ok "$f is not built (make)"; done_testing; exit 1; }
done
command -v python3 >/dev/null || { skip "collector flood: needs python3"; done_testing; exit 0; }
tabled_setup flood 47461 240
tabled_start --ipfix-listen 127.0.0.1:47462 --sflow-listen 127.0.0.1:47463
check "vnd-tabled collects IPFIX and sFlow" test $? -eq 0
api POST /v1/traces '{"id":"flows","tag":1,"mode":"ipfix","tenant":"alice"}'
check_eq "alice's ipfix trace: 201" "$CODE" 201
api POST /v1/traces '{"id":"calm","tag":2,"mode":"ipfix","tenant":"bob"}'
check_eq "bob's: 201" "$CODE" 201

# capture COUNTER...: the IPFIX source's counters (GET /v1/traces), or the
# sFlow source's with KIND=sflow
source_counts() {
    api GET /v1/traces
    local q=
    for c in "$@"; do q="$q\(.$c) "; done
    jq -r --arg k "${KIND:-ipfix}" ".capture[] | select(.kind == \$k) | \"${q% }\"" <<<"$BODY"
}
# rows TENANT TABLE: the rows its tenant reads in it
rows() {
    api POST /v1/query "{\"tenant\": \"$1\", \"sql\": \"select count(*) as n from $2\"}"
    jq -r '.[0].n' <<<"$BODY"
}
# settled TENANT TABLE WANT: its rows once they are WANT (10 s at most)
settled() {
    local got
    for _ in $(seq 50); do
        got=$(rows "$1" "$2")
        [ "$got" = "$3" ] && break
        sleep 0.2
    done
    echo "$got"
}

# bob's 1,600 records, then his questions while the floods run
nsx "$SEND" -k ipfix -d 127.0.0.1:47462 -n 100 -p 1000 -i 2 -s 5 >/dev/null
check_eq "bob's exporter: 1,600 records stored" "$(settled bob calm 1600)" 1600
# probe OUT: bob's query and the trace list every 0.2 s until $W/stop;
# each line "seconds code answer"
probe() {
    rm -f "$W/stop"
    while [ ! -e "$W/stop" ]; do
        nsx curl -s --max-time 10 -o "$W/pb" -w '%{time_total} %{http_code}' \
            -H "Authorization: Bearer $SECRET" \
            --data-binary '{"tenant": "bob", "sql": "select count(*) as n from calm"}' \
            "$URL/v1/query" >"$W/pl"
        echo "$(cat "$W/pl") $(jq -r '.[0].n' "$W/pb" 2>/dev/null)" >>"$1"
        nsx curl -s --max-time 10 -o /dev/null -w '%{time_total} %{http_code} list\n' \
            -H "Authorization: Bearer $SECRET" "$URL/v1/traces" >>"$1"
        sleep 0.2
    done
}
# answered OUT WANT: "N slowest" when every answer in OUT was 200 and
# right (the count WANT, or the list), else what was wrong
answered() {
    awk -v want="$2" '{ n++; if ($1 > max) max = $1
        if ($2 != 200 || ($3 != "list" && $3 != want)) bad = bad " [" $0 "]" }
        END { if (bad != "") print "wrong:" bad; else printf "%d %.2f\n", n, max }' "$1"
}
within() { awk -v s="${1#* }" 'BEGIN { exit !(s < 2) }'; }

# ---- an exporter of ever new templates beside alice's ----
probe "$W/probe1" &
PROBE=$!
CLEANUP_PIDS="$PROBE"
nsx python3 "$FLOOD" templates 127.0.0.1 47462 6 1000 >"$W/flood1" &
FPID=$!
sleep 1
nsx "$SEND" -k ipfix -d 127.0.0.1:47462 -n 800 -p 200 -i 1 -s 7 >/dev/null
wait "$FPID"
touch "$W/stop"
wait "$PROBE"
SENT=$(cat "$W/flood1")
echo "# the template flood: $SENT messages, $((SENT * 172)) templates"
check "the flood sent about 6,000 messages" test "${SENT:-0}" -gt 3000
check_eq "alice's 12,800 records all stored beside it" "$(settled alice flows 12800)" 12800
check_eq "the kernel dropped no datagram; all received, none of an unknown template" \
    "$(source_counts kernel_received kernel_dropped unknown_template)" "$((SENT + 900)) 0 0"
check_eq "the flood's templates are counted (with flowsend's 9)" \
    "$(source_counts templates)" "$((SENT * 172 + 9))"
check_eq "the cache holds the flood's share, alice's and bob's; it evicted the rest of the flood's" \
    "$(source_counts templates_cached templates_evicted)" "514 $((SENT * 172 - 512))"
A=$(answered "$W/probe1" 1600)
echo "# bob during the template flood: $A (answers, slowest s)"
check "bob's every answer right" test "${A%% *}" != wrong: -a "${A%% *}" -gt 10
check "each within 2 s" within "$A"

# ---- the same from 16 ports beside alice's ----
# Each port is an exporter within its share (512 templates), together
# twice the cache: a full cache evicts the templates no data set has used
# first, so alice's, the oldest, stays (evicting the oldest whatever its
# use, 640 of these 12,800 records of hers were stored)
read -r R0 U0 C0 E0 < <(source_counts kernel_received unknown_template templates_cached \
    templates_evicted)
nsx python3 "$FLOOD" templates 127.0.0.1 47462 6 1000 16 >"$W/flood3" &
FPID=$!
sleep 1
nsx "$SEND" -k ipfix -d 127.0.0.1:47462 -n 800 -p 200 -i 1 -s 8 >/dev/null
wait "$FPID"
SENT3=$(cat "$W/flood3")
echo "# the template flood from 16 ports: $SENT3 messages, $((SENT3 * 172)) templates"
check_eq "alice's 12,800 more records all stored beside it" "$(settled alice flows 25600)" 25600
read -r R1 U1 C1 E1 < <(source_counts kernel_received unknown_template templates_cached \
    templates_evicted)
check_eq "all received, none of alice's data of an unknown template" \
    "$((R1 - R0)) $((U1 - U0))" "$((SENT3 + 800)) 0"
# (alice's exporter comes from a new port: one template more)
check_eq "a full cache (4,096) that evicted every flood template it could not hold" \
    "$C1 $((E1 - E0))" "4096 $((C0 + SENT3 * 172 + 1 - C1))"

# ---- malformed datagrams to both collectors beside bob's exporter ----
probe "$W/probe2" &
PROBE=$!
CLEANUP_PIDS="$PROBE"
K0=$(source_counts malformed)
S0=$(KIND=sflow source_counts malformed)
nsx python3 "$FLOOD" junk 127.0.0.1 47462 8000 4000 ipfix >"$W/junk1" &
J1=$!
nsx python3 "$FLOOD" junk 127.0.0.1 47463 8000 4000 sflow >"$W/junk2" &
J2=$!
nsx "$SEND" -k ipfix -d 127.0.0.1:47462 -n 400 -p 200 -i 2 -s 9 >/dev/null
wait "$J1" "$J2"
touch "$W/stop"
wait "$PROBE"
check_eq "bob's 6,400 more records all stored beside them" "$(settled bob calm 8000)" 8000
check_eq "8,000 malformed IPFIX datagrams, each counted, none dropped by the kernel" \
    "$(source_counts malformed kernel_dropped)" "$((K0 + 8000)) 0"
check_eq "8,000 malformed sFlow datagrams, each counted" \
    "$(KIND=sflow source_counts malformed kernel_dropped)" "$((S0 + 8000)) 0"
trace_malformed() {
    api GET /v1/traces
    jq -r '.traces[] | select(.id == "flows") | .malformed' <<<"$BODY"
}
for _ in $(seq 25); do [ "$(trace_malformed)" = "$((K0 + 8000))" ] && break; sleep 0.2; done
check_eq "alice's trace says how many malformed messages came while it ran" \
    "$(trace_malformed)" "$((K0 + 8000))"
A=$(answered "$W/probe2" 8000)
# (the count moves while bob's records come: an answer is right when it is
# one of the counts his trace went through)
if [ "${A%% *}" = wrong: ]; then
    A=$(awk '$3 != "list" && ($3 < 1600 || $3 > 8000 || $2 != 200) { print "wrong: [" $0 "]"; bad = 1 }
             { n++; if ($1 > max) max = $1 } END { if (!bad) printf "%d %.2f\n", n, max }' "$W/probe2" | head -1)
fi
echo "# bob during the malformed flood: $A (answers, slowest s)"
check "bob's every answer right" test "${A%% *}" != wrong: -a "${A%% *}" -gt 10
check "each within 2 s" within "$A"

# ---- records a day long: the rollup would spread each over 86,400 cells ----
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$PID/status"; }
M0=$(hwm)
nsx python3 "$FLOOD" longspan 127.0.0.1 47462 5 86000 2 >/dev/null
check_eq "bob's 80 records of a day's span stored" "$(settled bob calm 8080)" 8080
M1=$(hwm)
echo "# the table server's peak memory: $((M0 / 1024)) MB before, $((M1 / 1024)) MB after"
check "its memory did not grow with their spans (+$(((M1 - M0) / 1024)) MB; it was +120 MB a message)" \
    test $((M1 - M0)) -lt 65536
meta_status() {
    api POST /v1/query '{"tenant": "bob", "sql": "select rollup_status from vnd_meta where trace = '"'calm'"'"}'
    jq -r '.[0].rollup_status' <<<"$BODY"
}
for _ in $(seq 25); do [[ $(meta_status) == rollup-none* ]] && break; sleep 0.2; done
check_eq "bob's rollup gives up, saying why; throughput reads his records" "$(meta_status)" \
    "rollup-none: a record spans 86000 s, more than the 3660 s the rollup spreads (throughput reads the records)"
check "vnd-tabled lives" kill -0 "$PID"
done_testing
