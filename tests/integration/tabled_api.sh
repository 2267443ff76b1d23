#!/usr/bin/env bash
# tabled_api.sh — vnd-tabled without OVS: a veth pair in a namespace of the
# test's own, tagged frames sent on one end (bench/pktsend, as a capture
# rule would push them), the table server capturing the other.  Covers the
# control API (and every refusal), tag demultiplexing, sampling, snaplen,
# raw retention, counters in vnd_meta, diagnostic apps where the tables are
# (POST /v1/diag, compared with `vnd diag`), SIGKILL + restart, SIGTERM,
# SIGHUP.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
GEN="$VND_BUILD/bench/gen_capture"
SEND="$VND_BUILD/bench/pktsend"
tabled_setup api 7420 150
start() { tabled_start "$@"; }
num() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }
# The Content-Type of an answer to POST PATH BODY.
ctype() { nsx curl -s --max-time 30 -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $SECRET" --data-binary "$2" "$URL$1"; }
qcount() { api POST /v1/query "{\"sql\": \"select count(*) from $1\", \"format\": \"csv\"}"; sed -n 2p <<<"$BODY"; }
# Traces created without a tenant live in the tenant "default"'s database;
# the registry (vnd_traces, vnd_capture) stays in t.db.
meta() { "$VND" query -d "$W/t.db" --tenant default -f csv "$1" | tail -n +2; }
reg() { "$VND" query -d "$W/t.db" -f csv "$1" | tail -n +2; }

"$GEN" "$W/in.pcap" 3000 4 >/dev/null
check "vnd-tabled starts and answers" start

# --- authentication
api GET /v1/traces "" "X-Nothing: 1"
check_eq "no Authorization header: 401" "$CODE" 401
check "... with a JSON message" grep -q '"error":"missing' <<<"$BODY"
api GET /v1/traces "" "Authorization: Bearer wrong-secret-0123456789"
check_eq "wrong secret: 401" "$CODE" 401

# --- creating traces, and refusals
api POST /v1/traces '{"id": "tr_1", "tag": 7}'
check_eq "create tr_1 (default parse configuration): 201" "$CODE" 201
api POST /v1/traces '{"id": "tr_2", "tag": 8, "snaplen": 64, "sampling": 10, "retain_mb": 1,
  "parse": "Trace ID all\nFields: timestamp as ts, frame.caplen as caplen, frame.len as len, ip.src as src\n"}'
check_eq "create tr_2 (snaplen 64, 1-in-10, raw kept, own columns): 201" "$CODE" 201
api POST /v1/traces '{"id": "tr_3", "tag": 7}'
check_eq "a tag in use: 409" "$CODE" 409
api POST /v1/traces '{"id": "tr_1", "tag": 11}'
check_eq "an id in use: 409" "$CODE" 409
api POST /v1/traces '{"id": "tr_3", "tag": 12,'
check_eq "malformed JSON: 400" "$CODE" 400
check "... says where" grep -q 'body:1:' <<<"$BODY"
api POST /v1/traces '{"id": "tr_3", "tag": 12, "snaplne": 5}'
check "a misspelt member: 400 naming it" bash -c '[ "$1" = 400 ] && grep -q snaplne <<<"$2"' _ "$CODE" "$BODY"
api POST /v1/traces '{"id": "../etc", "tag": 12}'
check_eq "an id that is not a name: 400" "$CODE" 400
api POST /v1/traces '{"id": "tr_3", "tag": 4095}'
check_eq "a reserved VLAN id: 400" "$CODE" 400
api POST /v1/traces '{"id": "tr_3", "tag": 12, "parse": "Trace ID all\nFilter: ip.proto = \nFields: ip.src\n"}'
check_eq "parse rules with an error: 400" "$CODE" 400
check "... and the message names line and column" grep -q '"error":"parse:2:' <<<"$BODY"
api POST /v1/traces '{"id": "tr_3", "tag": 12, "parse": "Trace ID other\nFields: ip.src\n"}'
check "parse rules that do not cover the trace: 400" bash -c '[ "$1" = 400 ] && grep -q "covers" <<<"$2"' _ "$CODE" "$BODY"
api POST /v1/traces '{"id": "tr_3", "tag": 12, "parse": "Trace ID all\nTable ID tr_1\nFields: ip.src\n"}'
check "a table another trace writes, with other columns: 400 naming them" \
    bash -c '[ "$1" = 400 ] && grep -q "exists with other columns" <<<"$2"' _ "$CODE" "$BODY"
# With the same columns it is shared (a Table ID of several traces, Fig. 7).
STD=$(printf '%s' "Trace ID all\nTable ID tr_1\nFields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto, tcp.src as src_port, udp.src as src_port, tcp.dst as dst_port, udp.dst as dst_port, tcp.seq as seq, tcp.ack as ack, tcp.flags as flags, payload.len as payload_len\n")
api POST /v1/traces "{\"id\": \"tr_4\", \"tag\": 14, \"parse\": \"$STD\"}"
check_eq "a trace sharing tr_1's table (same columns): 201" "$CODE" 201
for name in dbstat json_each pragma_table_info; do
    api POST /v1/traces "{\"id\": \"tr_3\", \"tag\": 12, \"parse\": \"Trace ID all\\nTable ID $name\\nFields: ip.src\\n\"}"
    check "a table named $name (SQLite's own): 400 at its place" \
        bash -c '[ "$1" = 400 ] && grep -q "parse:2:" <<<"$2"' _ "$CODE" "$BODY"
done
api POST /v1/traces '{"id": "dbstat", "tag": 12}'
check "a trace whose default table would be dbstat: 400 saying why" \
    bash -c '[ "$1" = 400 ] && grep -q "SQLite" <<<"$2"' _ "$CODE" "$BODY"
api POST /v1/traces '{"id": "tr_3", "tag": 12, "parse": "Trace ID all\nFields: ip.src as select, ip.dst as primary, ip.proto as check\n"}'
check_eq "columns named select, primary, check: 201" "$CODE" 201
api DELETE /v1/traces/tr_3
api GET /v1/traces/nope
check_eq "GET an unknown trace: 404" "$CODE" 404
api DELETE /v1/traces/nope
check_eq "DELETE an unknown trace: 404" "$CODE" 404
# --- PATCH: the switch's flow sampling of a mirror trace (a host budget's)
api POST /v1/traces '{"id": "tr_p", "tag": 15}'
check_eq "create tr_p: 201" "$CODE" 201
api PATCH /v1/traces/tr_p '{"flow_sampling": 4}'
check "PATCH without from_ts: 400 saying so" bash -c '[ "$1" = 400 ] && grep -q from_ts <<<"$2"' _ "$CODE" "$BODY"
api PATCH /v1/traces/tr_p '{"flow_sampling": 512, "from_ts": 1700000000}'
check_eq "PATCH flow_sampling past 256: 400" "$CODE" 400
api PATCH /v1/traces/nope '{"flow_sampling": 4, "from_ts": 1700000000}'
check_eq "PATCH an unknown trace: 404" "$CODE" 404
api PATCH /v1/traces/tr_p '{"sampling": 8, "from_ts": 1700000000}'
check "PATCH an sFlow agent's rate onto a mirror trace: 409 saying why" \
    bash -c '[ "$1" = 409 ] && grep -q "sflow or ipfix trace only" <<<"$2"' _ "$CODE" "$BODY"
api PATCH /v1/traces/nope '{"flow_sampling": 4, "from_ts": 1700000000}'
check_eq "PATCH an unknown trace: 404" "$CODE" 404
api PATCH /v1/traces/tr_p '{"flow_sampling": 4, "from_ts": 1700000000.5, "reason": "test budget"}'
check_eq "PATCH tr_p flow_sampling 4 from a moment: 200" "$CODE" 200
check "... the trace says so" grep -q '"flow_sampling":4' <<<"$BODY"
check_eq "... and the registry keeps it for a restart" "$(reg "select flow_sampling from vnd_traces where id = 'tr_p'")" "4.0"
api PATCH /v1/traces/tr_p '{"snaplen": 10, "from_ts": 1700000001}'
check "PATCH snaplen 10 (no Ethernet header): 400 saying why" \
    bash -c '[ "$1" = 400 ] && grep -q "Ethernet header" <<<"$2"' _ "$CODE" "$BODY"
api PATCH /v1/traces/tr_p '{"snaplen": "128", "from_ts": 1700000001}'
check_eq "PATCH snaplen as a string: 400" "$CODE" 400
api PATCH /v1/traces/tr_p '{"snaplen": 128, "from_ts": 1700000001, "reason": "test budget"}'
check_eq "PATCH tr_p snaplen 128 (the switch cuts its copies): 200" "$CODE" 200
check "... the trace says so, its flow sampling as it was" \
    bash -c 'grep -q "\"snaplen\":128" <<<"$1" && grep -q "\"flow_sampling\":4" <<<"$1"' _ "$BODY"
check_eq "... kept for a restart" "$(reg "select snaplen from vnd_traces where id = 'tr_p'")" "128"
api PATCH /v1/traces/tr_p '{"snaplen": 0, "from_ts": 1700000002}'
check "PATCH snaplen 0: whole packets again" bash -c '[ "$1" = 200 ] && grep -q "\"snaplen\":0" <<<"$2"' _ "$CODE" "$BODY"
api DELETE /v1/traces/tr_p
api GET /v1/traces/nope/pcap
check_eq "pcap of an unknown trace: 404" "$CODE" 404
api GET /v1/traces/tr_1/pcap
check "pcap of a trace that keeps none: 404, says retain_mb" \
    bash -c '[ "$1" = 404 ] && grep -q retain_mb <<<"$2"' _ "$CODE" "$BODY"
api PUT /v1/traces/tr_1
check_eq "a wrong method: 405" "$CODE" 405
api GET /v2/anything
check_eq "an unknown path: 404" "$CODE" 404

# --- traffic: tags 7, 8, 9 in turn (9 has no trace)
sent=$(nsx "$SEND" -i va -t 7 -t 8 -t 9 "$W/in.pcap")
check_eq "pktsend sent every frame" "$sent" 3000
t0=$(date +%s.%N)
for _ in $(seq 40); do [ "$(qcount tr_1)" = 1000 ] && break; sleep 0.05; done
t1=$(date +%s.%N)
check_eq "tr_1 holds its 1000 frames" "$(qcount tr_1)" 1000
check "... stored within a second of the last frame" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1.0) }'
api GET /v1/traces/tr_2
check_eq "tr_2 saw 1000" "$(num seen "$BODY")" 1000
check_eq "tr_2 stored 1 in 10" "$(num stored "$BODY")" 100
check_eq "tr_2 sampled out the rest" "$(num sampled_out "$BODY")" 900
check_eq "snaplen: no row keeps more than 64 bytes" "$(qcount 'tr_2 where caplen > 64')" 0
long=$(qcount "tr_2 where len > 64")
check "snaplen: frame.len is still the wire length ($long rows > 64)" test "${long:-0}" -gt 0
api GET /v1/traces
check_eq "unknown tag 9: counted, not stored" "$(num unknown_tag "$BODY")" 1000
sleep 0.7
check_eq "vnd_meta: seen, matched, stored, sampled out, drops of tr_2" \
    "$(meta "select packets_seen, packets_matched, packets_stored, sampled_out, dropped_kernel, dropped_queue, sampling, snaplen from vnd_meta where trace = 'tr_2'")" \
    "1000,100,100,900,0,0,10,64"
check_eq "vnd_capture: the interface's counters" \
    "$(reg "select received - untagged, unknown_tag, queue_dropped, kernel_dropped from vnd_capture where interface = 'vb'")" \
    "3000,1000,0,0"
nsx curl -s --max-time 10 -H "Authorization: Bearer $SECRET" -o "$W/raw.pcap" "$URL/v1/traces/tr_2/pcap"
check_eq "raw packets of tr_2: the 100 stored, as pcap" "$(tcpdump -nr "$W/raw.pcap" 2>/dev/null | wc -l)" 100
check_eq "... untagged and cut to 64 bytes" \
    "$(tcpdump -enr "$W/raw.pcap" 2>/dev/null | grep -c -e 802.1Q)" 0

# --- queries: JSON, CSV, containment
api POST /v1/query '{"sql": "select src_ip, proto from tr_1 order by ts limit 2"}'
check "JSON is an array of objects" bash -c '[ "$1" = 200 ] && [ "$(grep -c "^{\"src_ip\":\"10\.[0-9.]*\",\"proto\":6}" <<<"$2")" = 2 ] && [ "$(head -1 <<<"$2")" = "[" ]' _ "$CODE" "$BODY"
for sql in "attach database '/tmp/x' as x" "pragma table_info(tr_1)" "delete from tr_1" \
           "select load_extension('x')" "create table z(a)"; do
    api POST /v1/query "{\"sql\": \"$sql\"}"
    check "refused SQL: $sql → 403" bash -c '[ "$1" = 403 ] && grep -q error <<<"$2"' _ "$CODE" "$BODY"
done
api POST /v1/query '{"sql": "select * from vnd_traces"}'
check "the registry is not in a tenant's database: 400 no such table" \
    bash -c '[ "$1" = 400 ] && grep -q "no such table: vnd_traces" <<<"$2"' _ "$CODE" "$BODY"
api POST /v1/query '{"sql": "select group_concat(trace, char(32)) from (select distinct trace from vnd_meta order by 1)", "format": "csv"}'
check_eq "the tenant's own vnd_meta: its traces only" "$(sed -n 2p <<<"$BODY")" "tr_1 tr_2 tr_4"
api POST /v1/query '{"sql": "select count(*) from tr_2", "traces": ["tr_1"]}'
check "a query limited to tr_1 cannot read tr_2: 400 no such table" \
    bash -c '[ "$1" = 400 ] && grep -q "no such table: tr_2" <<<"$2"' _ "$CODE" "$BODY"
api POST /v1/query '{"sql": "select count(*) from tr_1", "traces": ["tr_1"], "format": "csv"}'
check_eq "... and can read tr_1" "$(sed -n 2p <<<"$BODY")" 1000
api POST /v1/query '{"sql": "select count(*) from tr_1", "traces": ["nope"]}'
check_eq "a query naming an unknown trace: 404" "$CODE" 404
api POST /v1/query '{"sql": "select nosuchcol from tr_1"}'
check_eq "SQL errors: 400" "$CODE" 400
api POST /v1/query '{"sql": "select 1; select 2"}'
check "two statements: refused" bash -c '[ "$1" -ge 400 ] && [ "$1" -lt 500 ]' _ "$CODE"

api POST /v1/query '{"sql": "select src_ip, count(*) as n from tr_1 group by 1 order by 1", "format": "table"}'
check_eq "format table on /v1/query: as vnd query -f table" "$CODE ${BODY%$'\n'}" \
    "200 $("$VND" query -d "$W/t.db.tenants/default.db" -f table "select src_ip, count(*) as n from tr_1 group by 1 order by 1")"
check_eq "... as text/plain" "$(ctype /v1/query '{"sql": "select 1", "format": "table"}')" "text/plain; charset=utf-8"

# --- diagnostic apps on the table server: the rows of `vnd diag` on the same tables
TDB="$W/t.db.tenants/default.db"
# POST /v1/diag BODY (@S: the slot), the answer without its last newline
# as $(vnd ...) gives it
dg() { local b=${1//@S/$S}; api POST /v1/diag "${b//@M/$M}"; BODY=${BODY%$'\n'}; }
# tr_1's frames came in a burst: slots of a tenth of it
S=$("$VND" query -d "$TDB" -f csv "select printf('%.6f', (max(ts) - min(ts)) / 10) from tr_1" | tail -1)
M=$(awk -v s="$S" 'BEGIN { print 3 * s }')     # min_t: from the fourth slot on
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": @S}, "format": "csv", "traces": ["tr_1"]}'
want=$("$VND" diag throughput -d "$TDB" -t tr_1 --slot $S -f csv)
check_eq "diag throughput (CSV): the rows of vnd diag throughput" "$CODE $BODY" "200 $want"
check "... several slots of them ($(wc -l <<<"$want") lines)" test "$(wc -l <<<"$want")" -gt 2
# a live trace's table has its rollup, which a trace-restricted guard may
# read: a whole-second slot is answered from it (docs/rollups.md)
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": 1, "by_flow": true}, "show_sql": true, "traces": ["tr_1"]}'
check "diag throughput, slot 1 s, through the API: from the rollup" grep -q "answered from the rollup" <<<"$BODY"
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": 1, "by_flow": true}, "format": "csv", "traces": ["tr_1"]}'
check_eq "... the rows of --no-rollup" "$CODE $BODY" \
    "200 $("$VND" diag throughput -d "$TDB" -t tr_1 --slot 1 --by-flow -f csv --no-rollup)"
check_eq "... as text/csv" "$(ctype /v1/diag '{"app": "throughput", "options": {"table": "tr_1"}, "format": "csv"}')" "text/csv"
# "complete": only the slots no later row can change (runner.h): every
# slot but the one of the newest packet
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": @S}, "format": "csv", "complete": true}'
last=$(awk -F, 'NR > 1 && $1 ~ /^[0-9]/ { t = $1 } END { print t }' <<<"$want")
check_eq "diag \"complete\": true: the rows of every slot but the newest's ($last)" "$CODE $BODY" \
    "200 $(awk -F, -v l="$last" '!($1 ~ /^[0-9]/ && $1 == l)' <<<"$want")"
dg '{"app": "throughput", "options": {"table": "tr_1"}, "complete": 1}'
check_eq "... \"complete\" of another type: 400 saying so" "$CODE $BODY" \
    '400 {"error":"\"complete\" must be true or false"}'
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": @S, "by_flow": true}, "format": "csv"}'
check_eq "diag throughput by flow: the same as --by-flow" "$CODE $BODY" \
    "200 $("$VND" diag throughput -d "$TDB" -t tr_1 --slot $S --by-flow -f csv)"
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": @S}}'
check_eq "diag in JSON (the default): as vnd diag -f json" "$CODE $BODY" \
    "200 $("$VND" diag throughput -d "$TDB" -t tr_1 --slot $S -f json)"
check "... with how tr_1 was sampled: a mirror trace of the table server, every packet" \
    jq -e '.sampling == [.sampling[0]] and (.sampling[0] | .table == "tr_1" and .mode == "mirror"
           and .sampling == 1 and .treatment == "exact")' <<<"$BODY"
check_eq "... as application/json" "$(ctype /v1/diag '{"app": "throughput", "options": {"table": "tr_1"}}')" "application/json"
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": @S}, "format": "table"}'
check_eq "diag in format table: as vnd diag" "$CODE $BODY" \
    "200 $("$VND" diag throughput -d "$TDB" -t tr_1 --slot $S)"
check_eq "... as text/plain" "$(ctype /v1/diag '{"app": "throughput", "options": {"table": "tr_1"}, "format": "table"}')" "text/plain; charset=utf-8"
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": @S}, "format": "table", "plot": true}'
check "... with the plot under it" bash -c '[ "$1" = 200 ] && grep -q "throughput" <<<"$2" && [ "$(wc -l <<<"$2")" -gt "$3" ]' _ "$CODE" "$BODY" "$(wc -l <<<"$want")"
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": @S}, "format": "csv", "min_t": @M}'
check_eq "min_t leaves out the rows before it" "$CODE $BODY" \
    "200 $(awk -F, -v m="$M" 'NR == 1 || $1 >= m + 0' <<<"$want")"
dg '{"app": "distribution", "options": {"table": "tr_1", "field": "dst_port", "where": "tcp.src = 80 or tcp.dst = 80"}, "format": "csv"}'
check_eq "distribution with --where: as vnd diag" "$CODE $BODY" \
    "200 $("$VND" diag distribution -d "$TDB" -t tr_1 --field dst_port --where 'tcp.src = 80 or tcp.dst = 80' -f csv)"
dg '{"app": "bottleneck", "options": {"path": ["tr_1", "tr_1"]}}'
check "bottleneck: JSON rows and its verdict" bash -c '[ "$1" = 200 ] && jq -e ".rows and .verdict.text" <<<"$2" >/dev/null' _ "$CODE" "$BODY"
check_eq "... the verdict of vnd diag bottleneck" "$(jq -c .verdict <<<"$BODY")" \
    "$("$VND" diag bottleneck -d "$TDB" --path tr_1,tr_1 -f json | jq -c .verdict)"
dg '{"app": "bottleneck", "options": {"path": ["tr_1", "tr_1"]}, "format": "table"}'
check "... and in format table, its sentence" bash -c '[ "$1" = 200 ] && grep -q "bottleneck" <<<"$(tail -1 <<<"$2")"' _ "$CODE" "$BODY"

# --- diag refusals
dg '{"app": "thruput", "options": {"table": "tr_1"}}'
check "an unknown app: 400 naming it" bash -c '[ "$1" = 400 ] && grep -q thruput <<<"$2"' _ "$CODE" "$BODY"
dg '{"app": "throughput", "options": {"table": "tr_1", "slot": 0}}'
check "slot 0: 400 naming slot" bash -c '[ "$1" = 400 ] && grep -q "slot" <<<"$2"' _ "$CODE" "$BODY"
dg '{"app": "throughput", "options": {"tabel": "tr_1"}}'
check "a misspelt option: 400 naming it" bash -c '[ "$1" = 400 ] && grep -q tabel <<<"$2"' _ "$CODE" "$BODY"
dg '{"app": "throughput", "options": {"table": "tr_1"}, "format": "csv", "plot": true}'
check_eq "plot needs the table format: 400" "$CODE" 400
dg '{"app": "throughput", "options": {}}'
check "an app without its table: 400 saying so" bash -c '[ "$1" = 400 ] && grep -q "needs -t" <<<"$2"' _ "$CODE" "$BODY"
dg '{"app": "rtt", "options": {"table": "tr_2"}}'
check "a table without the app's columns: 400 naming the column" \
    bash -c '[ "$1" = 400 ] && grep -q "has no column" <<<"$2"' _ "$CODE" "$BODY"
dg '{"app": "rtt", "options": {"table": "tr_1", "where": "ip.src ="}}'
check_eq "a --where that does not compile: 400" "$CODE" 400
dg '{"app": "throughput", "options": {"table": "nosuch"}}'
nosuch=$BODY
check "a table that does not exist: 400 no such table, as /v1/query says" \
    bash -c '[ "$1" = 400 ] && grep -q "no such table: nosuch" <<<"$2"' _ "$CODE" "$BODY"
dg '{"app": "throughput", "options": {"table": "tr_2"}, "traces": ["tr_1"]}'
check_eq "a table outside the listed traces: 400 as one that does not exist" \
    "$CODE ${BODY//tr_2/nosuch}" "400 ${nosuch}"
api POST /v1/traces '{"id": "tr_t2", "tag": 20, "tenant": "t2"}'
check_eq "a trace of tenant t2: 201" "$CODE" 201
dg '{"app": "throughput", "options": {"table": "tr_1"}, "traces": ["nope"]}'
missing="$CODE ${BODY//nope/X}"
check "a trace that does not exist: 404 no trace" bash -c '[ "$1" = 404 ] && grep -q "no trace nope" <<<"$2"' _ "$CODE" "$BODY"
dg '{"app": "throughput", "options": {"table": "tr_1"}, "traces": ["tr_t2"]}'
check_eq "another tenant's trace: 404 exactly as a missing one" "$CODE ${BODY//tr_t2/X}" "$missing"
dg '{"app": "throughput", "options": {"table": "tr_1"}, "tenant": "t2"}'
other=$BODY
dg '{"app": "throughput", "options": {"table": "nosuch"}, "tenant": "t2"}'
check_eq "another tenant's table: 400 exactly as a missing one" "$CODE ${other//tr_1/nosuch}" "400 $BODY"
dg '{"app": "throughput", "options": {"table": "tr_1"}, "tenant": "t3"}'
check_eq "a tenant with no traces here: 404" "$CODE" 404
threads=$(ls "/proc/$PID/task" | wc -l)
check "tenant t2's database is there while it has a trace" test -f "$W/t.db.tenants/t2.db"
api DELETE /v1/traces/tr_t2
# its last trace gone, the tenant's store closes: its writer and
# checkpoint threads end and its files go (a diagnosis's store, kept open,
# left them all behind for every diagnosis ever deleted)
check_eq "DELETE tenant t2's last trace: 200" "$CODE" 200
check "... and its database goes" bash -c '! ls "$1"/t.db.tenants/t2.db* 2>/dev/null | grep -q .' _ "$W"
check_eq "... and its two threads end" "$(ls "/proc/$PID/task" | wc -l)" "$((threads - 2))"
dg '{"app": "throughput", "options": {"table": "tr_1"}, "tenant": "t2"}'
check_eq "... and it is a tenant with no traces here: 404" "$CODE" 404
api POST /v1/traces '{"id": "tr_t2", "tag": 20, "tenant": "t2"}'
check_eq "a new trace of t2 opens a new store: 201" "$CODE $(test -f "$W/t.db.tenants/t2.db" && echo file)" "201 file"
api DELETE /v1/traces/tr_t2

# --- SIGKILL: committed batches stay, the traces come back
kill -9 "$PID"; wait "$JOB" 2>/dev/null; PID=
check "restart after SIGKILL" start
check_eq "tr_1's rows survived" "$(qcount tr_1)" 1000
api GET /v1/traces/tr_2
check_eq "tr_2's settings survived" "$(num sampling "$BODY"),$(num snaplen "$BODY"),$(num seen "$BODY")" "10,64,1000"
check "integrity check of the store" bash -c '[ "$(sqlite3 "$1" "pragma integrity_check")" = ok ]' _ "$W/t.db.tenants/default.db"
nsx "$SEND" -i va -t 7 -n 300 "$W/in.pcap" >/dev/null
for _ in $(seq 40); do [ "$(qcount tr_1)" = 1300 ] && break; sleep 0.05; done
check_eq "capture continues into the same table" "$(qcount tr_1)" 1300
sleep 0.7
check_eq "... and vnd_meta counts on from before" \
    "$(meta "select packets_seen, packets_stored from vnd_meta where trace = 'tr_1'")" "1300,1300"

# --- SIGHUP reopens the log
mv "$W/log" "$W/log.1"
kill -HUP "$PID"; sleep 0.3
check "SIGHUP: a new log file" grep -q "log reopened" "$W/log"

# --- DELETE: tables and raw files go
api DELETE /v1/traces/tr_2
check_eq "DELETE tr_2: 200" "$CODE" 200
check_eq "its table is gone" "$(meta "select count(*) from sqlite_master where name = 'tr_2'")" 0
check_eq "its vnd_meta rows are gone" "$(meta "select count(*) from vnd_meta where trace = 'tr_2'")" 0
check "its raw files are gone" test ! -e "$W/t.db.raw/tr_2"
api GET /v1/traces/tr_2
check_eq "GET tr_2 now: 404" "$CODE" 404
check_eq "tr_1 untouched" "$(qcount tr_1)" 1300
api DELETE /v1/traces/tr_4
check_eq "deleting the trace that shares tr_1's table: 200" "$CODE" 200
check_eq "tr_1's rows stay in the shared table" "$(qcount tr_1)" 1300

# --- SIGTERM: clean exit
kill -TERM "$PID"; wait "$JOB"; rc=$?; PID=
check_eq "SIGTERM: exit status 0" "$rc" 0
check "... logged as a clean stop" grep -q "stopped$" "$W/log"
done_testing
