#!/usr/bin/env bash
# metrics.sh — Prometheus metrics of both daemons (docs/metrics.md).
#
#   1. vnd-tabled without OVS (a veth pair in a namespace of the test's own,
#      tagged frames from bench/pktsend): /metrics is 404 without
#      --metrics-secret-file, refused at start when that secret is the API's,
#      401 for no token, the API secret or a wrong one; scraped while frames
#      arrive and after: every per-trace counter equals vnd_meta and
#      GET /v1/traces; request, query and batch counters move as the
#      requests made; route labels are templates; no tenant name appears.
#   2. vnd-controld on the real test bed (`vnd testbed up`, under the
#      machine's OVS bed lock): 404 without the secret; restarted with it
#      (and hv1's table server too), a tenant's token, the admin secret and
#      the table server's secret get 401; live diagnoses by opaque tenant id,
#      OVS rules per host against `ovs-ofctl dump-flows`, reconcile runs and
#      fixes, query latency by app, hv1's table server's counters for the
#      diagnosis's traces against its vnd_meta during a ping through the ids.
#
# Every scrape is read by a well-kept parser (Debian's python3-prometheus-
# client) and checked for the conventions (HELP and TYPE, _total counters,
# cumulative buckets, +Inf = _count, no repeated series); `promtool check
# metrics` too when Debian's prometheus package happens to be installed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
VND=${VND:-$VND_BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
GEN="$VND_BUILD/bench/gen_capture"
SEND="$VND_BUILD/bench/pktsend"
PY=/usr/bin/python3
tabled_setup metrics 7410 900

if ! "$PY" -c 'import prometheus_client' 2>/dev/null; then
    skip "metrics: python3-prometheus-client is not installed (scripts/install-deps.sh)"
    done_testing; exit 0
fi

# The format check: parser + conventions.  FILE → exit 0, or the problems.
cat >"$W/check.py" <<'PY'
import math, re, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
errs = []
try:
    fams = list(text_string_to_metric_families(text))
except Exception as e:
    print("parser: %s" % e); sys.exit(1)
if not fams:
    errs.append("no metric families")
types, helps, seen = {}, set(), set()
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in text.splitlines():
    if line.startswith("# HELP "):
        helps.add(line.split(" ", 3)[2]); continue
    if line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        if n in types: errs.append("TYPE twice: " + n)
        types[n] = t; continue
    if not line or line.startswith("#"):
        continue
    m = line_re.match(line)
    if not m:
        errs.append("not a sample line: " + line); continue
    name, labels, val = m.groups()
    base = name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[: -len(suf)]) == "histogram":
            base = name[: -len(suf)]
    if base not in types: errs.append("no TYPE before " + name)
    if base not in helps: errs.append("no HELP for " + base)
    if types.get(base) == "counter" and not name.endswith("_total"):
        errs.append("a counter not named *_total: " + name)
    if types.get(base) != "histogram" and ("seconds" in name):
        errs.append("a latency that is not a histogram: " + name)
    key = (name, labels or "")
    if key in seen: errs.append("series twice: " + line)
    seen.add(key)
    v = float(val)
    if types.get(base) == "counter" and not v >= 0: errs.append("negative counter: " + line)
for f in fams:
    if f.type != "histogram":
        continue
    series = {}
    for s in f.samples:
        k = tuple(sorted((a, b) for a, b in s.labels.items() if a != "le"))
        series.setdefault(k, {"b": [], "count": None})
        if s.name.endswith("_bucket"):
            series[k]["b"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            series[k]["count"] = s.value
    for k, d in series.items():
        les = [le for le, _ in d["b"]]
        vals = [v for _, v in d["b"]]
        if les != sorted(les) or not les or les[-1] != math.inf:
            errs.append("%s%s: buckets not sorted or no +Inf" % (f.name, k))
        if vals != sorted(vals):
            errs.append("%s%s: buckets not cumulative" % (f.name, k))
        if vals and vals[-1] != d["count"]:
            errs.append("%s%s: +Inf bucket != _count" % (f.name, k))
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
PY
# fmt_ok DESC FILE: the parser's and the conventions' verdict.
fmt_ok() {
    local out rc
    out=$("$PY" "$W/check.py" "$2" 2>&1); rc=$?
    check_eq "$1" "$rc" 0
    [ "$rc" = 0 ] || sed 's/^/#   /' <<<"$out" | head -20
    if command -v promtool >/dev/null; then
        out=$(promtool check metrics <"$2" 2>&1); rc=$?
        check_eq "$1 (promtool check metrics)" "$rc" 0
        [ "$rc" = 0 ] || sed 's/^/#   /' <<<"$out" | head -20
    fi
}
# val FILE 'name{labels}': the sample's value ("" when absent).
val() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# scrape URL TOKEN FILE [NSX]: the body to FILE, the status in CODE.
scrape() {
    local pre=()
    [ "${4:-}" = ns ] && pre=(nsx)
    CODE=$("${pre[@]}" curl -s --max-time 20 -o "$3" -w '%{http_code} %{content_type}' \
           ${2:+-H "Authorization: Bearer $2"} "$1/metrics")
    CTYPE=${CODE#* }; CODE=${CODE%% *}
}
num() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }

# ===================== 1. the table server, without OVS ===================
"$GEN" "$W/in.pcap" 4000 4 >/dev/null
check "vnd-tabled starts without --metrics-secret-file" tabled_start
scrape "$URL" "$SECRET" "$W/m0" ns
check_eq "without --metrics-secret-file, /metrics is 404 (with the API secret)" "$CODE" 404
check "... and says why" grep -q 'metrics-secret-file' "$W/m0"
scrape "$URL" "" "$W/m0" ns
check_eq "... and 404 without a token" "$CODE" 404
kill "$PID"; wait "$JOB" 2>/dev/null; PID=

head -c 24 /dev/urandom | base64 >"$W/msecret"; chmod 600 "$W/msecret"
MSECRET=$(cat "$W/msecret")
nsx timeout 10 "$TABLED" --interface vb --db "$W/same.db" --listen 127.0.0.1:7411 \
    --secret-file "$W/secret" --metrics-secret-file "$W/secret" >"$W/same.out" 2>&1
check_eq "a metrics secret equal to the API secret: refused at start (exit 1)" "$?" 1
check "... saying so" grep -q 'metrics secret must differ' "$W/same.out"

check "vnd-tabled starts with --metrics-secret-file" tabled_start --metrics-secret-file "$W/msecret" \
    --queue-mb 16 2>>"$W/stderr"
scrape "$URL" "" "$W/m" ns
check_eq "/metrics without a token: 401" "$CODE" 401
scrape "$URL" "$SECRET" "$W/m" ns
check_eq "/metrics with the control server's secret: 401" "$CODE" 401
scrape "$URL" "wrong-wrong-wrong-wrong-wrong" "$W/m" ns
check_eq "/metrics with a wrong secret: 401" "$CODE" 401
api GET /v1/traces "" "Authorization: Bearer $MSECRET"
check_eq "the metrics secret does not open the API: 401" "$CODE" 401
scrape "$URL" "$MSECRET" "$W/m1" ns
check_eq "/metrics with the metrics secret: 200" "$CODE" 200
check_eq "... as the text exposition format 0.0.4" "$CTYPE" "text/plain; version=0.0.4; charset=utf-8"
fmt_ok "an idle table server's metrics parse and follow the conventions" "$W/m1"
check_eq "vnd_tabled_traces 0" "$(val "$W/m1" vnd_tabled_traces)" 0
check_eq "queue capacity = --queue-mb batches of 1 MiB" "$(val "$W/m1" vnd_tabled_queue_capacity_batches)" 16

api POST /v1/traces '{"id": "tr_1", "tag": 7}'
check_eq "create tr_1 (tenant default)" "$CODE" 201
api POST /v1/traces '{"id": "tr_2", "tag": 8, "snaplen": 64, "sampling": 10, "retain_mb": 1, "tenant": "acme"}'
check_eq "create tr_2 (tenant acme, 1 in 10, snaplen 64, raw kept)" "$CODE" 201

# 4000 frames, tags 7 and 8 in turn, at 2000 frames/s: a scrape mid-capture.
nsx "$SEND" -i va -t 7 -t 8 -p 2000 "$W/in.pcap" >"$W/sent" 2>&1 &
SENDER=$!
CLEANUP_PIDS="$SENDER"
sleep 0.8
scrape "$URL" "$MSECRET" "$W/mid" ns
check_eq "a scrape during the capture: 200" "$CODE" 200
fmt_ok "... parses and follows the conventions" "$W/mid"
MID=$(val "$W/mid" 'vnd_tabled_packets_seen_total{trace="tr_1"}')
check "... tr_1 seen so far is between 1 and 1999 ($MID)" test "${MID:-0}" -gt 0 -a "${MID:-0}" -lt 2000
wait "$SENDER"
check_eq "pktsend sent 4000 frames" "$(cat "$W/sent")" 4000
for _ in $(seq 60); do
    api GET /v1/traces/tr_1; [ "$(num seen "$BODY")" = 2000 ] && break; sleep 0.1
done
sleep 1.2     # a commit (every 0.5 s) writes the counters to vnd_meta
scrape "$URL" "$MSECRET" "$W/m2" ns
fmt_ok "the scrape after the capture parses and follows the conventions" "$W/m2"
api GET /v1/traces
printf '%s\n' "$BODY" >"$W/traces.json"
meta() { "$VND" query -d "$W/t.db" --tenant "$1" -f csv "$2" | tail -n +2; }
for tr in tr_1:default tr_2:acme; do
    id=${tr%%:*} tn=${tr#*:}
    m=$(for k in seen matched stored sampled_out; do
            n=vnd_tabled_packets_${k}_total; val "$W/m2" "$n{trace=\"$id\"}"; done
        val "$W/m2" "vnd_tabled_packets_dropped_total{trace=\"$id\",reason=\"kernel\"}"
        val "$W/m2" "vnd_tabled_packets_dropped_total{trace=\"$id\",reason=\"queue\"}")
    m=$(tr '\n' , <<<"$m"); m=${m%,}
    v=$(meta "$tn" "select packets_seen, packets_matched, packets_stored, sampled_out, dropped_kernel, dropped_queue from vnd_meta where trace = '$id'")
    a=$(jq -r --arg id "$id" '.traces[] | select(.id == $id) | [.seen, .matched, .stored, .sampled_out, .dropped_kernel, .dropped_queue] | map(tostring) | join(",")' "$W/traces.json")
    check_eq "$id: seen, matched, stored, sampled out, dropped kernel/queue on /metrics = vnd_meta" "$m" "$v"
    check_eq "$id: ... = GET /v1/traces" "$m" "$a"
done
check_eq "tr_1 saw its 2000 frames" "$(val "$W/m2" 'vnd_tabled_packets_seen_total{trace="tr_1"}')" 2000
check_eq "tr_2 sampled out 1800 of 2000" "$(val "$W/m2" 'vnd_tabled_packets_sampled_out_total{trace="tr_2"}')" 1800
check_eq "tr_2's raw bytes = retained_bytes of the API" \
    "$(val "$W/m2" 'vnd_tabled_retained_bytes{trace="tr_2"}')" \
    "$(jq '.traces[] | select(.id == "tr_2") | .retained_bytes' "$W/traces.json")"
check_eq "vnd_tabled_traces 2" "$(val "$W/m2" vnd_tabled_traces)" 2
check_eq "the interface's counter = vnd_capture.received" \
    "$(val "$W/m2" 'vnd_tabled_capture_received_total{interface="vb"}')" \
    "$("$VND" query -d "$W/t.db" -f csv "select received from vnd_capture where interface = 'vb'" | tail -1)"
check_eq "the interface is up" "$(val "$W/m2" 'vnd_tabled_capture_up{interface="vb"}')" 1
B=$(val "$W/m2" vnd_tabled_ingest_batch_seconds_count)
check "ingest batches were counted and timed ($B)" test "${B:-0}" -gt 0
check "commits were timed" test "$(val "$W/m2" vnd_tabled_commit_seconds_count)" -gt 0
check_eq "the queue is empty again" "$(val "$W/m2" vnd_tabled_queue_batches)" 0
check "no tenant name in the table server's metrics" bash -c '! grep -q "acme\|default" "$1"' _ "$W/m2"

# Requests between two scrapes: counted by route template, method, code.
scrape "$URL" "$MSECRET" "$W/a" ns
for _ in 1 2 3; do api POST /v1/query '{"sql": "select count(*) from tr_1"}'; done
api POST /v1/query '{"tenant": "acme", "sql": "select count(*) from tr_2"}'
api POST /v1/query '{"sql": "select nonsense from"}'
check_eq "a bad query: 400" "$CODE" 400
api POST /v1/diag '{"app": "throughput", "options": {"table": "tr_1"}}'
check_eq "a throughput app: 200" "$CODE" 200
api GET /v1/traces/tr_1
api GET /v1/traces/nope
nsx curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $SECRET" "$URL/v1/traces/tr_2/pcap"
api GET /v2/anything
api GET /v1/traces "" "Authorization: Bearer wrong-wrong-wrong-wrong"
scrape "$URL" "$MSECRET" "$W/b" ns
fmt_ok "the scrape after the requests parses" "$W/b"
d0() { local v; v=$(val "$W/a" "$1"); echo $(( $(val "$W/b" "$1") - ${v:-0} )); }
check_eq "POST /v1/query 200: +4" "$(d0 'vnd_http_requests_total{route="/v1/query",method="POST",code="200"}')" 4
check_eq "POST /v1/query 400: +1" "$(d0 'vnd_http_requests_total{route="/v1/query",method="POST",code="400"}')" 1
check_eq "POST /v1/diag 200: +1" "$(d0 'vnd_http_requests_total{route="/v1/diag",method="POST",code="200"}')" 1
check_eq "GET /v1/traces/{id} 200: +1 (a template, not tr_1)" "$(d0 'vnd_http_requests_total{route="/v1/traces/{id}",method="GET",code="200"}')" 1
check_eq "GET /v1/traces/{id} 404: +1" "$(d0 'vnd_http_requests_total{route="/v1/traces/{id}",method="GET",code="404"}')" 1
check_eq "GET /v1/traces/{id}/pcap 200: +1" "$(d0 'vnd_http_requests_total{route="/v1/traces/{id}/pcap",method="GET",code="200"}')" 1
check_eq "an unknown path counts as route=\"other\"" "$(d0 'vnd_http_requests_total{route="other",method="GET",code="404"}')" 1
check_eq "a wrong secret: GET /v1/traces 401 +1" "$(d0 'vnd_http_requests_total{route="/v1/traces",method="GET",code="401"}')" 1
check_eq "the scrape before: GET /metrics 200 +1" "$(d0 'vnd_http_requests_total{route="/metrics",method="GET",code="200"}')" 1
check "the refused scrapes are counted as /metrics 401" test "$(val "$W/b" 'vnd_http_requests_total{route="/metrics",method="GET",code="401"}')" -ge 3
check_eq "vnd_query_seconds{app=\"sql\"}: +5 (the bad one too)" "$(d0 'vnd_query_seconds_count{app="sql"}')" 5
check_eq "vnd_query_seconds{app=\"throughput\"}: +1" "$(d0 'vnd_query_seconds_count{app="throughput"}')" 1
check "no raw path in a route label" bash -c '! grep -q "route=\"[^\"]*\(tr_\|nope\|v2\)" "$1"' _ "$W/b"
api DELETE /v1/traces/tr_2
scrape "$URL" "$MSECRET" "$W/c" ns
check_eq "a deleted trace's series go" "$(grep -c 'trace="tr_2"' "$W/c")" 0
kill "$PID"; wait "$JOB" 2>/dev/null; PID=
check "vnd-tabled with metrics ends cleanly (SIGTERM: exit 0)" test "$(tail -1 "$W/log" | grep -c stopped)" = 1
SAN=$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$W/stderr" 2>/dev/null | head -3)
check_eq "no sanitizer report from the table server" "$SAN" ""

# ===================== 2. the control server, on the OVS test bed =========
if ! command -v ovs-vswitchd >/dev/null || ! command -v jq >/dev/null; then
    skip "control server metrics: needs Open vSwitch and jq"; done_testing; exit
fi
BED=$W/bed
NEWPIDS=
bed_down() {
    local p
    for p in $NEWPIDS; do kill "$p" 2>/dev/null; done
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
}
trap 'kill $WATCHDOG 2>/dev/null; bed_down; tabled_cleanup' EXIT
# One OVS bed at a time on this machine: hold the lock until the end (the
# daemons started below do not inherit it).
bed_lock || { not_ok "the OVS bed lock (/tmp/vnd-ovs-bed.lock) was not free in 600 s"; done_testing; exit 1; }
if ! "$VND" testbed up --dir "$BED" --port-base 7500 >"$W/up.log" 2>&1 9>&-; then
    if grep -qi 'ovs\|open vswitch' "$W/up.log"; then
        skip "control server metrics: OVS bed: $(tail -1 "$W/up.log")"; done_testing; exit
    fi
    not_ok "vnd testbed up"; sed 's/^/#   /' "$W/up.log"; done_testing; exit 1
fi
ok "vnd testbed up --port-base 7500"
source "$BED/env"
ADMIN=$(cat "$VND_ADMIN_SECRET_FILE")
TSSECRET=$(cat "$TB_TABLED_SECRET_HV1")
scrape "$VND_URL" "$ADMIN" "$W/c0"
check_eq "the bed's control server (no --metrics-secret-file): /metrics 404" "$CODE" 404

# Both restarted with a metrics secret: the control server and hv1's table server.
head -c 24 /dev/urandom | base64 >"$BED/metrics.secret"; chmod 600 "$BED/metrics.secret"
CM=$(cat "$BED/metrics.secret")
pid_of() { awk -v n="$1" '$1 == "pid" && $2 == n { p = $3 } END { print p }' "$BED/state"; }
stop() { kill "$1"; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; }
stop "$(pid_of controld)"
stop "$(pid_of tabled-hv1)"
TS1=${TB_TABLED_URL_HV1#http://}
( exec setsid "$VND_TABLED" --interface "$TB_MIRROR_HV1" --db "$BED/hv1/traces.db" --listen "$TS1" \
      --secret-file "$TB_TABLED_SECRET_HV1" --log-file "$BED/hv1/tabled.log" \
      --metrics-secret-file "$BED/metrics.secret" </dev/null 9>&- >>"$BED/hv1/tabled.stderr" 2>&1 ) &
NEWPIDS="$NEWPIDS $!"; echo "pid tabled-hv1b $!" >>"$BED/state"
( exec setsid "$VND_CONTROLD" --nib "$BED/nib.json" --state "$BED/controld.db" \
      --listen "${VND_URL#http://}" --admin-secret-file "$BED/admin.secret" \
      --log-file "$BED/controld.log" --reconcile-interval 3600 \
      --metrics-secret-file "$BED/metrics.secret" </dev/null 9>&- >>"$BED/controld.stderr" 2>&1 ) &
NEWPIDS="$NEWPIDS $!"; echo "pid controld2 $!" >>"$BED/state"
for _ in $(seq 100); do
    curl -s -o /dev/null -H "Authorization: Bearer $VND_TOKEN_ALICE" "$VND_URL/v1/diagnoses" \
        && curl -s -o /dev/null -H "Authorization: Bearer $TSSECRET" "$TB_TABLED_URL_HV1/v1/traces" && break
    sleep 0.1
done
scrape "$VND_URL" "$CM" "$W/c1"
check_eq "restarted with --metrics-secret-file: /metrics 200" "$CODE" 200
fmt_ok "the control server's metrics parse and follow the conventions" "$W/c1"
for who in "alice's token:$VND_TOKEN_ALICE" "bob's token:$VND_TOKEN_BOB" \
           "the admin secret:$ADMIN" "a table server's secret:$TSSECRET" "no token:"; do
    scrape "$VND_URL" "${who#*:}" "$W/x"
    check_eq "control server /metrics with ${who%%:*}: 401" "$CODE" 401
done
scrape "$TB_TABLED_URL_HV1" "$TSSECRET" "$W/x"
check_eq "hv1's table server /metrics with its API secret: 401" "$CODE" 401
check_eq "the metrics secret is not a tenant token: GET /v1/diagnoses 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $CM" "$VND_URL/v1/diagnoses")" 401
HA=$(printf %s alice | sha256sum | cut -c1-8)
HB=$(printf %s bob | sha256sum | cut -c1-8)
check_eq "live diagnoses of alice (as ${HA}): 0" "$(val "$W/c1" "vnd_controld_live_diagnoses{tenant=\"$HA\"}")" 0
check_eq "the reconcile at start: runs 1" "$(val "$W/c1" vnd_controld_reconcile_runs_total)" 1

rules() { ovs-ofctl -O OpenFlow13 dump-flows "$1" table=0 | grep -c 'cookie=0x564e'; }
printf 'Appliance Node : ids\nCap input\nproto=ICMP\nCap output\nproto=ICMP\n' >"$W/alice.conf"
printf 'VM Node : server\nCap input\n' >"$W/bob.conf"
VND_TOKEN=$VND_TOKEN_ALICE "$VND" submit -c "$W/alice.conf" 9>&- >"$W/alice.out" 2>&1
check "alice submits a diagnosis of her ids (input, output)" test $? -eq 0
ID=$(head -1 "$W/alice.out" | grep -o 'd[0-9]*' | head -1)
VND_TOKEN=$VND_TOKEN_BOB "$VND" submit -c "$W/bob.conf" 9>&- >"$W/bob.out" 2>&1
check "bob submits one of his server" test $? -eq 0
ip netns exec "$TB_ALICE_CLIENT" ping -c 20 -i 0.1 -q 10.0.2.2 >"$W/ping" 2>&1 &
PING=$!
sleep 1
scrape "$VND_URL" "$CM" "$W/c2"
scrape "$TB_TABLED_URL_HV1" "$CM" "$W/t2"
check_eq "scrapes of both daemons during the capture: 200" "$CODE" 200
fmt_ok "the control server's metrics during a capture" "$W/c2"
fmt_ok "hv1's table server's metrics during a capture" "$W/t2"
wait "$PING"
check "the ping through alice's ids got answers" grep -q ' 0% packet loss\| [1-9][0-9]* received' "$W/ping"
sleep 1.5    # OVS counters lag; the table server commits every 0.5 s
scrape "$VND_URL" "$CM" "$W/c3"
check_eq "live diagnoses: alice ($HA) 1" "$(val "$W/c3" "vnd_controld_live_diagnoses{tenant=\"$HA\"}")" 1
check_eq "live diagnoses: bob ($HB) 1" "$(val "$W/c3" "vnd_controld_live_diagnoses{tenant=\"$HB\"}")" 1
check_eq "diagnoses running: 2" "$(val "$W/c3" 'vnd_controld_diagnoses{state="running"}')" 2
check_eq "OVS rules installed on hv1 = ovs-ofctl dump-flows ($(rules "$TB_OFCTL_HV1"))" \
    "$(val "$W/c3" 'vnd_controld_ovs_rules_installed{host="hv1"}')" "$(rules "$TB_OFCTL_HV1")"
check_eq "OVS rules installed on hv2 = ovs-ofctl dump-flows ($(rules "$TB_OFCTL_HV2"))" \
    "$(val "$W/c3" 'vnd_controld_ovs_rules_installed{host="hv2"}')" "$(rules "$TB_OFCTL_HV2")"
check "no tenant name in the control server's metrics" bash -c '! grep -qw "alice\|bob" "$1"' _ "$W/c3"

# hv1's table server: its counters of alice's traces against its vnd_meta.
scrape "$TB_TABLED_URL_HV1" "$CM" "$W/t3"
TSDB_TENANT=alice-$ID
for i in 1 2; do
    tr=${ID}_$i
    m=$(for k in seen matched stored sampled_out; do val "$W/t3" "vnd_tabled_packets_${k}_total{trace=\"$tr\"}"; done
        val "$W/t3" "vnd_tabled_packets_dropped_total{trace=\"$tr\",reason=\"queue\"}")
    m=$(tr '\n' , <<<"$m"); m=${m%,}
    v=$("$VND" query -d "$BED/hv1/traces.db" --tenant "$TSDB_TENANT" -f csv \
        "select packets_seen, packets_matched, packets_stored, sampled_out, dropped_queue from vnd_meta where trace = '$tr'" | tail -n +2)
    check_eq "hv1's table server, trace $tr: /metrics = its vnd_meta ($v)" "$m" "$v"
done
S1=$(val "$W/t3" "vnd_tabled_packets_seen_total{trace=\"${ID}_1\"}")
check "... and it saw the ping (${S1:-0} frames)" test "${S1:-0}" -ge 20
check "no tenant name in the table server's metrics on the bed" bash -c '! grep -qw "alice\|bob\|alice-'"$ID"'" "$1"' _ "$W/t3"

# Queries and apps through the control server; reconcile runs and fixes.
auth() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" ${3:+-d "$3"} -X "${4:-POST}" "$VND_URL$2"; }
auth "$VND_TOKEN_ALICE" "/v1/diagnoses/$ID/query" '{"sql": "select count(*) from ids_in"}' >/dev/null
auth "$VND_TOKEN_ALICE" "/v1/diagnoses/$ID/query" '{"sql": "select count(*) from ids_out"}' >/dev/null
check_eq "a throughput app through the control server: 200" \
    "$(auth "$VND_TOKEN_ALICE" "/v1/diagnoses/$ID/diag" '{"app": "throughput", "options": {"table": "ids_in"}}')" 200
check_eq "bob asking for alice's diagnosis: 404" "$(auth "$VND_TOKEN_BOB" "/v1/diagnoses/$ID" "" GET)" 404
COOKIE=$(ovs-ofctl -O OpenFlow13 dump-flows "$TB_OFCTL_HV1" table=0 | grep -o 'cookie=0x564e[0-9a-f]*' | head -1 | cut -d= -f2)
ovs-ofctl -O OpenFlow13 del-flows "$TB_OFCTL_HV1" "cookie=$COOKIE/-1"
check_eq "a rule deleted by hand; POST /v1/admin/reconcile: 200" "$(auth "$ADMIN" /v1/admin/reconcile '')" 200
scrape "$VND_URL" "$CM" "$W/c4"
fmt_ok "the control server's metrics after queries and a reconcile" "$W/c4"
check_eq "vnd_query_seconds{app=\"sql\"}: 2" "$(val "$W/c4" 'vnd_query_seconds_count{app="sql"}')" 2
check_eq "vnd_query_seconds{app=\"throughput\"}: 1" "$(val "$W/c4" 'vnd_query_seconds_count{app="throughput"}')" 1
check_eq "reconcile runs: 2" "$(val "$W/c4" vnd_controld_reconcile_runs_total)" 2
F1=$(val "$W/c1" vnd_controld_reconcile_fixes_total)
check_eq "reconcile fixes: +1 (the rule put back)" "$(( $(val "$W/c4" vnd_controld_reconcile_fixes_total) - ${F1:-0} ))" 1
check_eq "reconcile timed twice" "$(val "$W/c4" vnd_controld_reconcile_seconds_count)" 2
check_eq "OVS rules on hv1 = dump-flows after reconcile" \
    "$(val "$W/c4" 'vnd_controld_ovs_rules_installed{host="hv1"}')" "$(rules "$TB_OFCTL_HV1")"
check_eq "requests by template: POST /v1/diagnoses/{id}/query 200 = 2" \
    "$(val "$W/c4" 'vnd_http_requests_total{route="/v1/diagnoses/{id}/query",method="POST",code="200"}')" 2
check_eq "... GET /v1/diagnoses/{id} 404 = 1 (bob)" \
    "$(val "$W/c4" 'vnd_http_requests_total{route="/v1/diagnoses/{id}",method="GET",code="404"}')" 1
check_eq "... POST /v1/admin/reconcile 200 = 1" \
    "$(val "$W/c4" 'vnd_http_requests_total{route="/v1/admin/reconcile",method="POST",code="200"}')" 1
check "... and never a diagnosis id in a route" bash -c '! grep -q "route=\"/v1/diagnoses/d[0-9]" "$1"' _ "$W/c4"

check_eq "alice stops her diagnosis: 200" "$(auth "$VND_TOKEN_ALICE" "/v1/diagnoses/$ID" "" DELETE)" 200
scrape "$VND_URL" "$CM" "$W/c5"
check_eq "live diagnoses: alice 0 after stopping" "$(val "$W/c5" "vnd_controld_live_diagnoses{tenant=\"$HA\"}")" 0
check_eq "OVS rules on hv1 = dump-flows after the stop ($(rules "$TB_OFCTL_HV1"))" \
    "$(val "$W/c5" 'vnd_controld_ovs_rules_installed{host="hv1"}')" "$(rules "$TB_OFCTL_HV1")"

# docs/metrics.md lists every family scraped; the dashboard uses only those.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
fams() { sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' "$@" | sort -u; }
UNDOC=$(for f in $(fams "$W/m2" "$W/c4" "$W/t3"); do grep -qF "\`$f\`" "$TOP/docs/metrics.md" || echo "$f"; done)
check_eq "docs/metrics.md lists every metric both daemons expose ($(fams "$W/m2" "$W/c4" | wc -l))" "$UNDOC" ""
UNKNOWN=$(for f in $(jq -r '.. | .expr? // empty' "$TOP/docs/grafana-vnd.json" | grep -o 'vnd_[a-z_]*' \
                     | sed -E 's/_(bucket|count|sum)$//' | sort -u); do
              fams "$W/m2" "$W/c4" | grep -qx "$f" || echo "$f"; done)
check_eq "docs/grafana-vnd.json uses only metrics the daemons expose" "$UNKNOWN" ""

# The daemons end cleanly (the sanitizer builds report here).
for p in $NEWPIDS; do stop "$p"; done
NEWPIDS=
sleep 0.5
SAN=$(cat "$BED/controld.stderr" "$BED/hv1/tabled.stderr" 2>/dev/null \
      | grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' | head -3)
check_eq "no sanitizer report from vnd-controld or hv1's table server" "$SAN" ""
[ -n "$SAN" ] && cat "$BED/controld.stderr" "$BED/hv1/tabled.stderr" | head -60 | sed 's/^/#   /'
done_testing
