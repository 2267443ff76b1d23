#!/usr/bin/env bash
# openapi_check_self.sh — the checker of captured API answers
# (tests/integration/openapi_check.py) against docs/api/controld.yaml, fed
# exchanges written here: it accepts the valid ones (a list, a diagnosis
# with traces, a create answer, errors, a pcap, CSV, text, a bottleneck
# verdict, the admin routes, a 405) and refuses each wrong one (a missing
# required key, a wrong type, an undocumented status, path or method, a
# wrong content type, a body that is not JSON), so that it cannot pass
# everything unnoticed.  Skips without python3-yaml or python3-jsonschema.
source "$(dirname "$0")/../lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$TOP/tests/integration/openapi_check.py
SPEC=$TOP/docs/api/controld.yaml
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null; then skip "openapi_check.py: no $PY"; done_testing; exit 0; fi
for m in yaml jsonschema; do
    if ! "$PY" -c "import $m" 2>/dev/null; then
        skip "openapi_check.py: python module $m is missing (apt-get install python3-yaml python3-jsonschema)"
        done_testing; exit 0
    fi
done
W=$(mktemp -d /tmp/vnd-oacheck.XXXXXX)
trap 'rm -rf "$W"' EXIT

# ex DIR NAME "METHOD PATH STATUS TYPE" BODY: one captured exchange.
ex() { mkdir -p "$1"; printf '%s\n%s' "$3" "$4" >"$1/$2"; }

SUM='{"id":"d1","state":"running","created":"2026-12-01T02:30:00Z","ends":null,"stopped":null,"reason":null,"traces":3}'
DONE='{"id":"d2","state":"done","created":"2026-12-01T02:30:00Z","ends":"2026-12-01T02:31:00Z","stopped":"2026-12-01T02:31:00Z","reason":"its duration ended","traces":1}'
TR='"name":"ids_in","node":"ids","point":"input","direction":"in","pattern":"srcIP=10.0.1.2/32, proto=TCP","tables":["ids_in"],"sampling":1,"snaplen":0'
TR2='"name":"ids.a_out_rev","node":"ids.a","point":"output","direction":"in","pattern":"proto=TCP","tables":["t1","t2"],"sampling":4,"snaplen":96'
CNT='"seen":10,"matched":9,"stored":9,"sampled_out":0,"sampling_now":4,"dropped_kernel":0,"dropped_queue":0,"first_ts":1764556200.25,"last_ts":1764556201.5,"retained_bytes":1400'
NOCNT='"seen":0,"matched":0,"stored":0,"sampled_out":0,"sampling_now":null,"dropped_kernel":0,"dropped_queue":0,"first_ts":null,"last_ts":null,"retained_bytes":0'
SHOW_HEAD='"id":"d3","state":"running","created":"2026-12-01T02:30:00Z","ends":null,"stopped":null,"reason":null'
E='{"error":"no diagnosis d9"}'

G=$W/good
ex "$G" 01 "GET /v1/diagnoses 200 application/json" "{\"diagnoses\":[$SUM,$DONE]}"
ex "$G" 02 "GET /v1/diagnoses/d3 200 application/json" \
   "{$SHOW_HEAD,\"traces\":[{$TR,$CNT},{$TR2,$NOCNT},{$TR,\"counters\":\"unavailable: its capture host did not answer\"}]}"
ex "$G" 03 "POST /v1/diagnoses 201 application/json" "{$SHOW_HEAD,\"traces\":[{$TR},{$TR2}]}"
ex "$G" 04 "GET /v1/diagnoses/d9 404 application/json" "$E"
ex "$G" 05 "GET /v1/diagnoses/d3/traces/ids_in/pcap?x=1 200 application/vnd.tcpdump.pcap" ""
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00' >>"$G/05"    # binary, NULs too
ex "$G" 06 "POST /v1/diagnoses/d3/query 200 text/csv" $'ts,src\n1.5,10.0.1.2\n'
ex "$G" 07 "POST /v1/diagnoses/d3/query 200 text/plain; charset=utf-8" $' n\n---\n 1\n(1 row)\n'
ex "$G" 08 "POST /v1/diagnoses/d3/query 200 application/json" '[{"n":1,"s":"x","z":null}]'
ex "$G" 09 "POST /v1/diagnoses/d3/diag 200 application/json" \
   '{"rows":[{"t":0,"ms":5.1}],"verdict":{"hop":null,"span":null,"from":null,"to":null,"since_s":null,"base_ms":null,"peak_ms":null,"lost":null,"text":"no bottleneck"},"sampling":[{"table":"A","mode":"mirror","sampling":10,"method":"hash","flow_sampling":1.0,"varied":false,"history":true,"intervals":[{"from_ts":0.0,"sampling":10,"method":"hash","flow_sampling":1.0}],"treatment":"consistent","text":"A (mirror: 1-in-10 packets at the table server (method hash))"}]}'
ex "$G" 10 "POST /v1/admin/reconcile 200 application/json" '{"fixes":2}'
ex "$G" 11 "GET /v1/admin/diagnoses 200 application/json" \
   '{"diagnoses":[{"id":"d1","tenant":"alice","state":"starting","created":"2026-12-01T02:30:00Z","ends":null,"stopped":null,"reason":null,"traces":0}]}'
ex "$G" 12 "PUT /v1/diagnoses 405 application/json" '{"error":"use GET or POST on /v1/diagnoses"}'
ex "$G" 13 "GET /v1/diagnoses 401 application/json" '{"error":"unknown token"}'
ex "$G" 14 "DELETE /v1/diagnoses/d3 200 application/json" '{"id":"d3","state":"deleted"}'
ex "$G" 15 "GET /v1/admin/diagnoses/d3/policy 200 text/plain; charset=utf-8" $'# collection policy\n'
ex "$G" 16 "POST /v1/diagnoses/d3/diag 502 application/json" '{"error":"the capture host of this trace failed to answer; try again later"}'
ex "$G" 17 "POST /v1/diagnoses/d3/diag 200 application/json" \
   '{"rows":[{"t":0,"dir":"A>B","packets":9,"lost":1,"loss_rate":0.111}],"sampling":[],"waiting":[{"table":"A","other":"B","other_stored":1764556201.25,"rows":3}],"capture_drops":[{"table":"B","dropped_kernel":0,"dropped_queue":2,"text":"the capture of B dropped frames (0 in the kernel'"'"'s ring, counted for its whole interface; 2 in the table server'"'"'s queue): a packet whose copy it missed counts as lost on its way to B"}]}'
out=$("$PY" "$CHECK" "$SPEC" "$G" 2>&1); rc=$?
check_eq "the valid exchanges pass (exit status)" "$rc" 0
check_eq "one ok line per exchange (loss's waiting and capture_drops too)" "$(grep -c '^ok ' <<<"$out")" 17
check "TAP names the template: GET /v1/diagnoses/{id}/traces/{name}/pcap 200" \
    grep -q '^ok 5 - GET /v1/diagnoses/{id}/traces/{name}/pcap 200$' <<<"$out"
check "the final line counts the checks" grep -qx '# 17 checks, 0 failed' <<<"$out"
check "documented answers never exercised are listed" \
    grep -q '^#   POST /v1/diagnoses 503$' <<<"$out"
[ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"

# bad NAME EXPECTED "FIRST LINE" BODY: one wrong exchange alone in a
# directory; the checker must exit 1 with "not ok" naming EXPECTED.
bad() {
    local d=$W/bad-$1
    ex "$d" x "$3" "$4"
    local o r
    o=$("$PY" "$CHECK" "$SPEC" "$d" 2>&1); r=$?
    if [ "$r" -eq 1 ] && grep -q '^not ok 1 - ' <<<"$o" && grep -qF -- "$2" <<<"$o"; then
        ok "refused: $1"
    else
        not_ok "refused: $1 (exit $r)"; sed 's/^/#   /' <<<"$o"
    fi
}
bad "a summary without its required state" "'state' is a required property" \
    "GET /v1/diagnoses 200 application/json" \
    '{"diagnoses":[{"id":"d1","created":"2026-12-01T02:30:00Z","ends":null,"stopped":null,"reason":null,"traces":3}]}'
bad "traces as a string in a summary" "is not of type 'integer'" \
    "GET /v1/diagnoses 200 application/json" "{\"diagnoses\":[${SUM/\"traces\":3/\"traces\":\"3\"}]}"
bad "created not a date-time" "is not a 'date-time'" \
    "GET /v1/diagnoses 200 application/json" "{\"diagnoses\":[${SUM/2026-12-01T02:30:00Z/yesterday}]}"
bad "a key the schema does not have" "Additional properties are not allowed" \
    "GET /v1/diagnoses 200 application/json" "{\"diagnoses\":[${SUM/\"id\"/\"host\":\"hv1\",\"id\"}]}"
bad "reason a number (nullable is string or null only)" "at /diagnoses/0/reason" \
    "GET /v1/diagnoses 200 application/json" "{\"diagnoses\":[${SUM/\"reason\":null/\"reason\":5}]}"
bad "counters that lack one" "/traces/0" \
    "GET /v1/diagnoses/d3 200 application/json" "{$SHOW_HEAD,\"traces\":[{$TR,${CNT/\"seen\":10,/}}]}"
bad "create's traces with counters" "Additional properties are not allowed" \
    "POST /v1/diagnoses 201 application/json" "{$SHOW_HEAD,\"traces\":[{$TR,$CNT}]}"
bad "an error body without error" "'error' is a required property" \
    "GET /v1/diagnoses/d9 404 application/json" '{"message":"no diagnosis d9"}'
bad "an undocumented status" "undocumented status 418" \
    "GET /v1/diagnoses 418 application/json" "$E"
bad "an undocumented path" "undocumented path /v1/nothing" \
    "GET /v1/nothing 200 application/json" '{}'
bad "an undocumented method on an admin route" "undocumented status 405" \
    "PATCH /v1/admin/diagnoses 405 application/json" "$E"
bad "a pcap as text/html" "content type 'text/html' is not documented" \
    "GET /v1/diagnoses/d3/traces/ids_in/pcap 200 text/html" '<html>'
bad "a JSON answer that is not JSON" "the body is not JSON" \
    "GET /v1/diagnoses/d3 200 application/json" '{"id":"d3",'
bad "a first line without a status" "cannot check" \
    "GET /v1/diagnoses" '{}'
mkdir -p "$W/empty"
o=$("$PY" "$CHECK" "$SPEC" "$W/empty" 2>&1); r=$?
check_eq "an empty directory is a failure, not a pass" "$r" 1
o=$("$PY" "$CHECK" "$SPEC" 2>&1); r=$?
check_eq "usage error without DIR" "$r" 2
done_testing
