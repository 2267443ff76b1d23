#!/usr/bin/env bash
# budget.sh — the table server's CPU budget (--cpu-budget, docs/cost.md):
# traffic that fits at 1:1, then four times as much; the table server's
# CPU share stays under the budget, the rate it picked is in vnd_sampling
# (rising when the traffic rose) and the bytes estimated from the samples
# (frame.len x the sampling of the row's interval, a SQL join on
# vnd_sampling) are within 10% of the bytes sent.  Without a budget the
# same traffic keeps sampling 1.  No OVS: frames are sent tagged on a veth
# of the test's own namespace, as a capture rule would push them.
#
# The budget is calibrated on this machine first (the run without a
# budget): BUDGET = the table server's share at rate R over 0.5, so R
# runs at half of it (between the controller's 40% and 90% marks, with
# room for a shared machine: CI once measured R's share 23% above the
# calibration, and a 2 s period more than that, and the controller rose
# before the traffic did), or
# lower when 4R costs less than that over again (a sanitizer's build, whose
# fixed cost per wakeup is large): halfway between the two shares, R still
# under 80% of it.  4R at
# 1:1 must cost more than the budget (checked: the table server's cost
# grows slower than its traffic, as more frames share each wakeup and
# commit).  The parse configuration writes three tables, as an operator's
# might: sampling saves their rows, not the capture of every frame.  Shares are CPU time (/proc/PID/stat) over
# wall time, so a loaded machine slows the test but does not change them.
# Tolerance: the share over the last phase, after two periods to settle,
# may exceed the budget by 15% (the controller aims under 90% of it; a
# period's commits and checkpoints land unevenly).
#
#   BUDGET_RATE  R, frames per second of the first phase (default 20000;
#                5000 for a sanitizer build)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
SEND="$VND_BUILD/bench/pktsend"
tabled_setup budget 7433 600
# a sanitizer's build costs several times more per frame: a quarter of it
if [[ $VND_BUILD == *san* ]]; then R=${BUDGET_RATE:-5000}; else R=${BUDGET_RATE:-20000}; fi
P1=8 P2=12 MULT=4
CLK=$(getconf CLK_TCK)
MSECRET=$(head -c 24 /dev/urandom | base64); printf '%s\n' "$MSECRET" >"$W/msecret"
chmod 600 "$W/msecret"
PARSE='Trace ID all\nFields: timestamp as ts, frame.len as len, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto, udp.src as src_port, udp.dst as dst_port, ip.id as id\n\nTrace ID all\nTable ID b_flows\nFields: timestamp as ts, ip.src as src_ip, ip.dst as dst_ip, udp.src as src_port, udp.dst as dst_port, ip.len as ip_len, ip.ttl as ttl, payload.len as payload_len, payload.hash as payload_hash\n\nTrace ID all\nTable ID b_eth\nFields: timestamp as ts, eth.src as eth_src, eth.dst as eth_dst, eth.type as eth_type, frame.caplen as caplen, ip.id as id, ip.dscp as dscp\n'

# Random-sized UDP frames (64..1514 bytes, 16 flows), FRAMES of them,
# sent again from the start until a phase has its count (pktsend -l):
# systematic 1-in-N sampling of a periodic pattern would be biased; this
# traffic is not.  bytes FILE N: the bytes of N frames sent so.
FRAMES=50000
gen() {
    python3 - "$1" "$FRAMES" "$2" <<'PY'
import random, struct, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
out = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
sizes = []
for i in range(n):
    size = rnd.randint(64, 1514)
    flow = rnd.randrange(16)
    pl = size - 42
    eth = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0])
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 28 + pl, i & 0xffff, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1 + flow]), bytes([10, 0, 1, 1]))
    udp = struct.pack('>HHHH', 1000 + flow, 5001, 8 + pl, 0)
    out.append(struct.pack('<IIII', i // 1000000, i % 1000000, size, size) + eth + ip + udp
               + rnd.randbytes(pl))
    sizes.append(size)
open(path, 'wb').write(b''.join(out))
open(path + '.sizes', 'w').write('\n'.join(map(str, sizes)) + '\n')
PY
}
bytes() { awk -v n="$2" -v f="$FRAMES" '{ s[NR] = $1; t += $1 }
    END { full = int(n / f); r = n - full * f; b = full * t; for (i = 1; i <= r; i++) b += s[i]; printf "%.0f", b }' "$1.sizes"; }
gen "$W/p1.pcap" 1
gen "$W/p2.pcap" 2
SENT=$((R * P1 + MULT * R * P2))
SENT_BYTES=$(( $(bytes "$W/p1.pcap" $((R * P1))) + $(bytes "$W/p2.pcap" $((MULT * R * P2))) ))

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
now() { date +%s.%N; }
tdb() { "$VND" query -d "$W/t.db" --tenant default -f csv "$1" | tail -n +2; }
# share PID T0 C0: the CPU share of PID since (T0, C0 ticks)
share() { awk -v c0="$3" -v c1="$(cpu_ticks "$1")" -v t0="$2" -v t1="$(now)" -v hz="$CLK" \
              'BEGIN { printf "%.4f", (c1 - c0) / hz / (t1 - t0) }'; }

# run_traffic: phase 1 (R for P1 s) then phase 2 (MULT x R for P2 s).
# Sets S1 (share in phase 1 after 2 s), S2 (in phase 2 after 4 s: two
# periods), T_P2 (when phase 2 started), NSENT (frames sent).
run_traffic() {
    local n1 n2 c0 t0 spid
    sleep 1
    (sleep 2; echo "$(now) $(cpu_ticks "$PID")" >"$W/mark1") &
    n1=$(nsx "$SEND" -i va -t 10 -p "$R" -l -n $((R * P1)) "$W/p1.pcap")
    read -r t0 c0 <"$W/mark1"
    S1=$(share "$PID" "$t0" "$c0")
    T_P2=$(now)
    nsx "$SEND" -i va -t 10 -p $((MULT * R)) -l -n $((MULT * R * P2)) "$W/p2.pcap" >"$W/n2" &
    spid=$!
    sleep 4
    t0=$(now) c0=$(cpu_ticks "$PID")
    wait $spid
    S2=$(share "$PID" "$t0" "$c0")
    n2=$(cat "$W/n2")
    NSENT=$((n1 + n2))
    sleep 1.5       # the last rows committed (every 0.5 s)
}

create() {
    api POST /v1/traces "{\"id\": \"b\", \"tag\": 10, \"sampling\": 1, \"parse\": \"$PARSE\"}"
    [ "$CODE" = 201 ]
}

# --- the request's sampling_method, checked before any traffic
check "vnd-tabled starts (no budget)" tabled_start 2>"$W/err1"
api POST /v1/traces '{"id": "h", "tag": 11, "sampling": 8, "sampling_method": "hash"}'
check_eq "a trace with sampling_method hash: 201" "$CODE" 201
check "... shown with its method and its rate now" \
    bash -c 'grep -q "\"sampling_method\": *\"hash\"" <<<"$1" && grep -q "\"sampling_now\": *8" <<<"$1"' _ "$BODY"
check_eq "... and its vnd_sampling row" "$(tdb "select sampling, method, reason from vnd_sampling where trace = 'h'")" \
    "8,hash,configured"
# (a second trace keeps the tenant's store open: with its last trace the
# whole database goes, tabled_api.sh)
api POST /v1/traces '{"id": "h_keep", "tag": 13}'
api DELETE /v1/traces/h
check_eq "... deleted: its vnd_sampling rows go" "$CODE,$(tdb "select count(*) from vnd_sampling where trace = 'h'")" "200,0"
api DELETE /v1/traces/h_keep
api POST /v1/traces '{"id": "h2", "tag": 12, "sampling_method": "often"}'
check "sampling_method other than count or hash: 400 saying so" \
    bash -c '[ "$1" = 400 ] && grep -q "must be \\\\\"count\\\\\"" <<<"$2"' _ "$CODE" "$BODY"
api POST /v1/traces '{"id": "h2", "tag": 12, "mode": "ipfix", "sampling_method": "hash"}'
check "hash with mode ipfix: 400 (the switch samples)" \
    bash -c '[ "$1" = 400 ] && grep -q "mode mirror only" <<<"$2"' _ "$CODE" "$BODY"

# --- without a budget: calibration, and sampling stays 1
check "a mirror trace b, sampling 1: 201" create
run_traffic
echo "# no budget: share ${S1} at $R/s, ${S2} at $((MULT * R))/s"
check_eq "no budget: all $SENT frames sent" "$NSENT" "$SENT"
check_eq "no budget: sampling stays 1 (one vnd_sampling row)" \
    "$(tdb "select count(*), max(sampling) from vnd_sampling where trace = 'b' and tbl = 'b'")" "1,1"
got=$(tdb "select (select count(*) from b) + dropped_kernel + dropped_queue as n, (select sum(len) from b) as bytes
           from vnd_meta where trace = 'b' and tbl = 'b'")
check "no budget: every frame stored or counted as dropped ($got of $SENT, $SENT_BYTES bytes)" \
    test "${got%%,*}" = "$SENT"
BUDGET=$(awk -v s="$S1" -v s2="$S2" 'BEGIN { b = s / 0.5; m = (s + s2) / 2; if (m < b) b = m;
                                             if (b < s / 0.8) b = s / 0.8; b *= 100; printf "%.1f", b < 1 ? 1 : b }')
check "calibration: ${MULT}x the traffic costs more than the budget of ${BUDGET}% at 1:1 (${S2})" \
    awk -v s="$S2" -v b="$BUDGET" 'BEGIN { exit !(100 * s > 1.1 * b) }'
kill "$PID"; wait "$JOB"
rm -rf "$W"/t.db*

# --- with the budget
check "vnd-tabled starts with --cpu-budget $BUDGET" \
    tabled_start --cpu-budget "$BUDGET" --metrics-secret-file "$W/msecret" --log-level ${BUDGET_LOG:-info} 2>"$W/err2"
check "the trace again: 201" create
run_traffic
echo "# budget ${BUDGET}%: share ${S1} at $R/s, ${S2} at $((MULT * R))/s after two periods"
check_eq "budget: all $SENT frames sent" "$NSENT" "$SENT"
check "the table server's share in the last phase (${S2}) stays under the budget (${BUDGET}% + 15%)" \
    awk -v s="$S2" -v b="$BUDGET" 'BEGIN { exit !(100 * s <= 1.15 * b) }'
rows=$(tdb "select count(*) from vnd_sampling where trace = 'b' and tbl = 'b'")
tdb "select from_ts, sampling, method, reason from vnd_sampling where trace = 'b' and tbl = 'b' order by from_ts" | sed 's/^/#   /'
check "vnd_sampling has at least 2 rows for the trace ($rows)" test "$rows" -ge 2
check_eq "... 1:1 until the traffic rose, then higher (first rise after phase 2 began)" \
    "$(tdb "select min(sampling), max(sampling) > 1, (select min(from_ts) from vnd_sampling where trace = 'b' and tbl = 'b' and sampling > 1) >= $T_P2 - 0.5 as rose
            from vnd_sampling where trace = 'b' and tbl = 'b'")" "1,1,1"
check "... each rise says why (the share and the budget)" \
    test "$(tdb "select count(*) from vnd_sampling where trace = 'b' and tbl = 'b' and from_ts > 0 and reason like 'budget: %of a core%'")" -eq $((rows - 1))
# the estimate: every row counts for the sampling of its interval
est=$(tdb "select sum(len * (select sampling from vnd_sampling s where s.trace = 'b' and s.tbl = 'b' and s.from_ts <= t.ts
           order by s.from_ts desc limit 1)) as est from b t")
drop=$(tdb "select dropped_kernel + dropped_queue from vnd_meta where trace = 'b' and tbl = 'b'")
# frames the table server dropped before sampling are in no estimate:
# compared with what reached it (their share of the bytes sent off)
want=$(awk -v b="$SENT_BYTES" -v d="$drop" -v n="$SENT" 'BEGIN { printf "%.0f", b * (1 - d / n) }')
check "bytes estimated from the samples ($est) within 10% of the bytes sent ($SENT_BYTES; $drop frames dropped)" \
    awk -v e="$est" -v w="$want" 'BEGIN { d = e - w; if (d < 0) d = -d; exit !(w > 0 && d <= 0.1 * w) }'
# groups (as `vnd diag` runs them on the trace's table): the packets
# estimated from the samples, each row scaled by its interval's rate
G=$("$VND" diag groups -d "$W/t.db.tenants/default.db" -t b_flows --fields dst_port -f csv 2>&1)
gest=$(grep -v '^#' <<<"$G" | awk -F, 'NR > 1 { p += $2; lo += $4; hi += $5 } END { printf "%.0f %.0f %.0f", p, lo, hi }')
echo "# groups: $gest (estimate, 95% low, high) of $((SENT - drop)) frames that reached the table server"
check "groups: the packets estimated from the samples within 10% of the frames received ($gest)" \
    awk -v e="${gest%% *}" -v w="$((SENT - drop))" 'BEGIN { d = e - w; if (d < 0) d = -d; exit !(w > 0 && d <= 0.1 * w) }'
check "groups: said scaled by each row's rate" grep -q "scaled by each row's rate" <<<"$G"
api GET /v1/traces
check "GET /v1/traces: the trace samples more now, and the budget's state" \
    bash -c 'grep -qE "\"sampling_now\": *([2-9]|[1-9][0-9]+)[,}]" <<<"$1" && grep -qE "\"budget\": *\{" <<<"$1"' _ "$BODY"
check "the log has each change" grep -q "budget: trace b sampling 1/1 -> 1/" "$W/log"
M=$(nsx curl -s --max-time 20 -H "Authorization: Bearer $MSECRET" "$URL/metrics")
check "metrics: vnd_budget_cpu_share, vnd_budget_limit, vnd_trace_sampling{trace=\"b\"} > 1" \
    bash -c 'grep -q "^vnd_budget_cpu_share " <<<"$1" && grep -q "^vnd_budget_limit " <<<"$1" &&
             awk "/^vnd_trace_sampling\\{trace=\"b\"\\}/ { exit !(\$2 > 1) }" <<<"$1" &&
             grep -q "^vnd_trace_sampling{trace=\"b\"}" <<<"$1"' _ "$M"
ovh=$(grep -o '"overhead_cpu_s": *[0-9.e-]*' <<<"$BODY" | grep -o '[0-9.e-]*$')
echo "# controller overhead: ${ovh} CPU s over the run"
check "the controller's own CPU is negligible (${ovh} s < 0.05 s)" \
    awk -v o="$ovh" 'BEGIN { exit !(o != "" && o < 0.05) }'
kill "$PID"; wait "$JOB"
check_eq "SIGTERM: exits 0" "$?" 0
check "no sanitizer report from either table server" \
    bash -c '! grep -qE "Sanitizer|runtime error" "$1" "$2"' _ "$W/err1" "$W/err2"
done_testing
