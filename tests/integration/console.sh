#!/usr/bin/env bash
# console.sh — the web console (www/, served by vnd-controld) in headless
# Chromium on the test bed (`vnd testbed up`):
#   - the static files: no token needed, the strict Content-Security-Policy,
#     nosniff, MIME types, no directory listing, no path traversal;
#   - tests/browser/console.mjs (playwright-core driving Debian's chromium):
#     tenant A signs in, sees its diagnosis and topology, runs throughput
#     and RTT (the chart has the API's points), follows (packets, and flow
#     records: the slots complete drawn with their final values), runs SQL, downloads
#     a pcap (read here by tshark); tenant B sees none of A's; a
#     configuration error is shown at its line; an injected <script> is
#     text; screenshots into docs/console-*.png with VND_SCREENSHOTS=1 (a
#     run of the suite leaves the tree as it was).
# Skips without root, OVS, chromium or node.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-$VND_BUILD/vnd}
BIN=$(cd "$(dirname "$VND")" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export VND_TABLED=${VND_TABLED:-$BIN/vnd-tabled} VND_CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
W=$(mktemp -d /tmp/vnd-console.XXXXXX)
BED=$W/bed
BG=
cleanup() {
    [ -n "$BG" ] && kill $BG 2>/dev/null
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then skip "web console: needs root (the test bed)"; done_testing; exit 0; fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { skip "web console: $CHROMIUM is not installed (apt-get install chromium)"; done_testing; exit 0; }
for t in node npm ovs-vswitchd iperf3 jq curl tshark; do
    command -v $t >/dev/null || { skip "web console: $t is not installed"; done_testing; exit 0; }
done
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$NODE_MAJOR" -ge 20 ] || { skip "web console: node $NODE_MAJOR is too old for playwright-core (needs 20)"; done_testing; exit 0; }
# the chart library (make www) and the driver's client library, pinned
[ -f "$TOP/www/vendor/uPlot.esm.js" ] || make -C "$TOP" www >"$W/www.log" 2>&1
check "the chart library is installed (make www: uPlot from www/package-lock.json)" test -f "$TOP/www/vendor/uPlot.esm.js"
if [ ! -d "$TOP/tests/browser/node_modules/playwright-core" ]; then
    (cd "$TOP/tests/browser" && npm ci --no-audit --no-fund --ignore-scripts) >"$W/npm.log" 2>&1 ||
        { skip "web console: npm ci in tests/browser failed: $(tail -1 "$W/npm.log")"; done_testing; exit 0; }
fi

bed_lock || { not_ok "the OVS bed lock was not free in 600 s"; done_testing; exit 1; }
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 400 >/dev/null & s=$!; wait $s
  echo "not ok - console.sh timed out"; kill -TERM $$ ) 2>/dev/null &
WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null; cleanup' EXIT
if ! "$VND" testbed up --dir "$BED" --delay 5 --loss 0 --port-base 7520 >"$W/up.log" 2>&1 9>&-; then
    if grep -q 'cannot\|did not start' "$W/up.log" && grep -qi 'ovs\|open vswitch' "$W/up.log"; then
        skip "web console: OVS bed: $(tail -1 "$W/up.log")"; done_testing; exit 0
    fi
    not_ok "vnd testbed up"; sed 's/^/#   /' "$W/up.log"; done_testing; exit 1
fi
ok "vnd testbed up (control server on 127.0.0.1:7520)"
source "$BED/env"

# ---- the static files ----
hdr() { curl -s -D - -o "$W/body" --path-as-is "$VND_URL$1"; }
H=$(hdr /)
check "GET / without a token: 200, the console's page" grep -q '^HTTP/1.1 200' <<<"$H"
check "Content-Security-Policy as docs/console.md says" grep -qF "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" <<<"$H"
check "X-Content-Type-Options: nosniff" grep -qi '^X-Content-Type-Options: nosniff' <<<"$H"
check "text/html" grep -qi '^Content-Type: text/html; charset=utf-8' <<<"$H"
check "no inline script in index.html" sh -c "! grep -q '<script>' '$W/body' && ! grep -qi 'style=' '$W/body'"
check "JavaScript modules as text/javascript" grep -qi '^Content-Type: text/javascript' <<<"$(hdr /console/app.js)"
check "CSS as text/css" grep -qi '^Content-Type: text/css' <<<"$(hdr /console/style.css)"
check "the chart library is served from the same origin" grep -q '^HTTP/1.1 200' <<<"$(hdr /console/vendor/uPlot.esm.js)"
code() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }
BAD=
for p in /console/../../../etc/passwd /console/..%2f..%2fetc/passwd /console/%2e%2e/%2e%2e/etc/passwd \
         /console/vendor/ /console/vendor /console//app.js /console/.hidden.js /console/app.js/ \
         /console/package.json /console/nothere.js '/console/a\b.js'; do
    c=$(code "$VND_URL$p"); [ "$c" = 404 ] || BAD="$BAD $p=$c"
done
check_eq "no path traversal, no listing, no hidden or unknown files (all 404)" "$BAD" ""
check_eq "POST on a console path is 405" "$(code -X POST "$VND_URL/console/app.js")" 405
check_eq "the API still wants a token" "$(code "$VND_URL/v1/diagnoses")" 401

# ---- tenant A's diagnosis, with traffic ----
cat >"$W/collect.conf" <<'CONF'
Appliance Node : ids
Cap input
proto=TCP
dualDirect=True
Cap output
proto=TCP
Snaplen 128
VM Node : client
Cap output
proto=TCP
Sampling 4
VM Node : server
Cap input
proto=TCP
Mode ipfix
Sampling 1
ActiveTimeout 5
CONF
# Each trace gets a table of the standard columns; both directions of the
# ids's input also go into ids_both, where RTT finds segments and their ACKs.
STD='Fields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto,
        tcp.src as src_port, udp.src as src_port, tcp.dst as dst_port, udp.dst as dst_port,
        tcp.seq as seq, tcp.ack as ack, tcp.flags as flags, payload.len as payload_len'
# The server's input is flow records (Mode ipfix): their own columns.
FLOW='Fields: timestamp as ts, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto,
        tcp.src as src_port, tcp.dst as dst_port, tcp.flags as flags, flow.start as start_ts,
        flow.end as end_ts, flow.packets as packets, flow.bytes as bytes, flow.bytes_sq as bytes_sq'
printf 'Trace ID ids_in, ids_in_rev, ids_out, client_out\n%s\nTrace ID ids_in, ids_in_rev\nTable ID ids_both\n%s\nTrace ID server_in\n%s\n' \
    "$STD" "$STD" "$FLOW" >"$W/parse.conf"
curl -s -H "Authorization: Bearer $VND_TOKEN_ALICE" -H 'Content-Type: application/json' \
    -d "{\"collect\": $(jq -Rs . "$W/collect.conf"), \"parse\": $(jq -Rs . "$W/parse.conf")}" \
    "$VND_URL/v1/diagnoses" >"$W/create.json"
ID=$(jq -r .id "$W/create.json")
check "tenant A's diagnosis ($ID)" test "$(jq -r .state "$W/create.json")" = running
[ "$ID" = null ] && sed 's/^/#   /' "$W/create.json"
# bob has one of his own too
curl -s -H "Authorization: Bearer $VND_TOKEN_BOB" -d "{\"collect\": \"Appliance Node : ids\\nCap input\\nproto=ICMP\\n\"}" \
    "$VND_URL/v1/diagnoses" >/dev/null
iperf3_server "$TB_ALICE_SERVER"; BG=$IPERF_SRV
ip netns exec "$TB_ALICE_CLIENT" timeout 30 iperf3 -c 10.0.2.2 -t 4 -b 20M >/dev/null 2>&1
check "iperf3 through alice's ids" test $? -eq 0
# a slow stream while the browser watches (follow mode), on a port of its own
iperf3_server "$TB_ALICE_SERVER" 5203; BG="$BG $IPERF_SRV"
ip netns exec "$TB_ALICE_CLIENT" timeout 200 iperf3 -c 10.0.2.2 -p 5203 -t 150 -b 2M >"$W/slow.out" 2>&1 &
SLOW=$!
BG="$BG $SLOW"
# and another, 2.5 s later: OVS times a flow's records from its start, so
# the two flows' records end at different times and each spreads back
# over slots the other's have already reached (server_in, Mode ipfix)
iperf3_server "$TB_ALICE_SERVER" 5204; BG="$BG $IPERF_SRV"
sleep 2.5
ip netns exec "$TB_ALICE_CLIENT" timeout 200 iperf3 -c 10.0.2.2 -p 5204 -t 150 -b 1M >"$W/slow2.out" 2>&1 &
BG="$BG $!"
sleep 2
check "the slow stream for follow mode runs" kill -0 "$SLOW"
kill -0 "$SLOW" 2>/dev/null || sed 's/^/#   /' "$W/slow.out" | tail -5

# ---- the browser ----
SHOTS=$W/shots
OUT=$SHOTS DL=$W/dl VND_URL=$VND_URL TOKEN_A=$VND_TOKEN_ALICE TOKEN_B=$VND_TOKEN_BOB DIAG=$ID \
DELAY_MS=$TB_DELAY_MS CHROMIUM=$CHROMIUM \
    timeout 300 node "$TOP/tests/browser/console.mjs" test >"$W/driver.out" 2>"$W/driver.err"
while IFS= read -r line; do
    case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        *) echo "$line" ;;
    esac
done <"$W/driver.out"
grep -q '^ok - \|^not ok - ' "$W/driver.out" || { not_ok "the browser driver ran"; sed 's/^/#   /' "$W/driver.err" | tail -20; }
if [ -s "$W/dl/ids_out.pcap" ]; then
    NP=$(tshark -r "$W/dl/ids_out.pcap" 2>/dev/null | wc -l)
    check "tshark reads the pcap the console downloaded ($NP packets)" test "$NP" -gt 0
else
    not_ok "the console downloaded a pcap"
fi
if [ "${VND_SCREENSHOTS:-0}" = 1 ] && ls "$SHOTS"/console-*.png >/dev/null 2>&1; then
    cp "$SHOTS"/console-*.png "$TOP/docs/"
    echo "# screenshots: $(cd "$SHOTS" && ls console-*.png | tr '\n' ' ')-> docs/"
fi
SAN_ERR=$(cat "$BED/controld.stderr" 2>/dev/null | grep -E 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error' | head -3)
check_eq "no sanitizer report from vnd-controld" "$SAN_ERR" ""
done_testing
