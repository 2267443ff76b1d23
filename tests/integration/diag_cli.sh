#!/usr/bin/env bash
# diag_cli.sh — `vnd diag` and `vnd demo` from the outside: the printed SQL
# gives the same rows through `vnd query`, missing columns are named with
# their parse field, --plot draws, --follow reports slots as rows arrive
# and stops on SIGINT, and the demo names the IDS from when client 2 joins.
source "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/vnd-diag-cli.XXXXXX)
FPID=
trap '[ -n "$FPID" ] && kill "$FPID" 2>/dev/null; rm -rf "$T"' EXIT

"$VND" demo --generate-only --dir "$T" --duration 3 --join 1.5 --seed 5 >/dev/null
"$VND" parse -q -o "$T/t.db" "A=$T/A.pcap" "B=$T/B.pcap" "C=$T/C.pcap"

# every app with a C step: its rows are the printed SQL's
for app in "rtt -t B" "rtt -t A --by-flow --slot 0.1" "rtt -t B --kind handshake" \
           "rtt -t A --by-flow --kind data" "loss --in B --out C" \
           "loss --in C --out B --slot 0.1" "delay --in A --out B --by-flow" "delay --in B --out C" \
           "throughput -t A --where 'ip.src = 10.0.0.10 and tcp.dst = 40001'" \
           "throughput -t B --by-flow --slot 0.25" "distribution -t A --field dst_port" \
           "distribution -t C --field src_ip" "groups -t B --fields src_ip,dst_port,flags" \
           "correlate --in B --out C --by id" "correlate --in A --out B --by id" \
           "bottleneck --path A,B,C"; do
    eval "set -- $app"
    sql=$("$VND" diag "$@" -d "$T/t.db" --show-sql)
    if [ "$1" = bottleneck ]; then
        want=$("$VND" diag "$@" -d "$T/t.db" -f csv | grep -v '^# verdict: ')
    else
        want=$("$VND" diag "$@" -d "$T/t.db" -f csv)
    fi
    got=$("$VND" query -d "$T/t.db" -f csv "$sql")
    if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "$app: --show-sql runs unchanged in vnd query"
    else not_ok "$app: --show-sql output differs in vnd query"; fi
done

# the bottleneck's verdict is part of the result: JSON {"rows":[...],"verdict":{...}},
# CSV a last line "# verdict: {...}" (the same object), the table a sentence
j=$("$VND" diag bottleneck --path A,B,C -d "$T/t.db" -f json 2>"$T/err")
check "bottleneck -f json: rows, then the verdict naming B>C" \
    grep -q '^],"verdict":{"hop":1,"span":"B>C","from":"B","to":"C","since_s":[0-9.]*,"base_ms":' <<<"$j"
check "bottleneck -f json: starts with the rows" test "$(head -1 <<<"$j")" = '{"rows":['
check "bottleneck -f json: the verdict's sentence" \
    grep -q '"text":"bottleneck: the hop between B and C, from t = ' <<<"$j"
check_eq "bottleneck -f json: nothing on stderr" "$(cat "$T/err")" ""
c=$("$VND" diag bottleneck --path A,B,C -d "$T/t.db" -f csv)
check "bottleneck -f csv: the last line is the verdict" \
    grep -q '^# verdict: {"hop":1,"span":"B>C","from":"B","to":"C",' <<<"$(tail -1 <<<"$c")"
check_eq "bottleneck -f csv: one verdict line, after the rows" "$(grep -n '^#' <<<"$c" | cut -d: -f1)" \
    "$(wc -l <<<"$c" | tr -d ' ')"
check "bottleneck -f table: the sentence under the table" \
    grep -q '^bottleneck: the hop between B and C, from t = ' \
    <<<"$("$VND" diag bottleneck --path A,B,C -d "$T/t.db")"
check "bottleneck without one: the verdict says so, hop null" \
    grep -q '"verdict":{"hop":null,.*"text":"no bottleneck: ' \
    <<<"$("$VND" diag bottleneck --path A,B -d "$T/t.db" -f json)"
# every app's JSON: {"rows":[...],"sampling":[...]}, one object per table read
check "other apps' JSON: the rows, then how each table was sampled" \
    test "$("$VND" diag throughput -t A -d "$T/t.db" -f json | head -1)" = '{"rows":['
check "delay -f json: the sampling of --in and --out, every packet" \
    grep -q '^],"sampling":\[{"table":"A","mode":"file","sampling":1,.*"treatment":"exact".*{"table":"B",' \
    <<<"$("$VND" diag delay --in A --out B -d "$T/t.db" -f json)"
check "throughput -f table: a note under the rows" \
    grep -q '^sampling: A (file: every packet)$' <<<"$("$VND" diag throughput -t A -d "$T/t.db")"
check_eq "throughput -f csv of an unsampled table: the rows alone" \
    "$("$VND" diag throughput -t A -d "$T/t.db" -f csv | grep -c '^#')" 0
if command -v python3 >/dev/null; then
    check "bottleneck: JSON parses; its verdict equals the CSV's" python3 -c '
import json, sys
j = json.loads(sys.argv[1]); c = sys.argv[2].splitlines()
v = json.loads(c[-1][len("# verdict: "):])
assert j["verdict"] == v and v["hop"] == 1 and len(j["rows"]) == len(c) - 2
assert all(r["hop"] in (0, 1) for r in j["rows"])' "$j" "$c"
else
    skip "bottleneck JSON parsed (python3 not installed)"
fi

# SACK: a lossy capture whose ACKs carry SACK blocks, parsed with a sack
# column; rtt's step and its SQL (which then reads the blocks) agree
mkdir "$T/s"
"$VND" demo --generate-only --dir "$T/s" --duration 3 --join 1.5 --seed 6 --re-loss 0.01 --sack >/dev/null
printf 'Trace ID all\nFields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip,\n  ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port, tcp.seq as seq,\n  tcp.ack as ack, tcp.flags as flags, payload.len as payload_len, tcp.sack as sack\n' >"$T/sack.conf"
"$VND" parse -q -c "$T/sack.conf" -o "$T/s.db" "A=$T/s/A.pcap" "B=$T/s/B.pcap" "C=$T/s/C.pcap"
check "the sack column holds SACK blocks" \
    test "$("$VND" query -d "$T/s.db" -f csv "select count(*) from B where sack like '%-%'" | tail -1)" -gt 100
for app in "rtt -t B" "rtt -t A --by-flow --slot 0.1" "rtt -t C --by-flow --where 'tcp.dst = 40001 or tcp.src = 40001'" \
           "rtt -t B --slot 0.25" "bottleneck --path A,B,C"; do
    eval "set -- $app"
    sql=$("$VND" diag "$@" -d "$T/s.db" --show-sql --no-rollup)
    want=$("$VND" diag "$@" -d "$T/s.db" -f csv --no-rollup | grep -v '^# verdict: ')
    got=$("$VND" query -d "$T/s.db" -f csv "$sql")
    if [ -n "$want" ] && [ "$got" = "$want" ] && [[ "$sql" == *vnd_kb* ]]; then
        ok "sack $app: the step's rows are the SACK SQL's"
    else not_ok "sack $app: the step and the SACK SQL differ"; fi
done
check "--show-sql --pg parses SACK text with strpos" \
    bash -c "'$VND' diag rtt -d '$T/s.db' -t B --show-sql --pg | grep -q 'strpos(rest'"
check "--show-sql --pg prints the PostgreSQL dialect" \
    bash -c "'$VND' diag loss -d '$T/t.db' --in A --out B --show-sql --pg | grep -q 'IS NOT DISTINCT FROM'"

# a table without seq: made by a parse configuration
printf 'Trace ID all\nFields: timestamp as ts, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto,\n  tcp.src as src_port, tcp.dst as dst_port, tcp.ack as ack, tcp.flags as flags, payload.len as payload_len\n' >"$T/noseq.conf"
"$VND" parse -q -c "$T/noseq.conf" -o "$T/n.db" "N=$T/A.pcap"
err=$("$VND" diag rtt -d "$T/n.db" -t N 2>&1 >/dev/null); rc=$?
check_eq "missing column: exit status" "$rc" 1
check_eq "missing column: message" "$err" "vnd diag rtt: table N has no column 'seq' (parse field tcp.seq provides it; add \`tcp.seq as seq\` to the Fields: line)"
"$VND" diag nosuch -d "$T/t.db" >/dev/null 2>&1
check_eq "unknown app: usage error" "$?" 2

out=$("$VND" diag rtt -d "$T/t.db" -t C --plot)
check "--plot draws a chart with axis and legend" \
    bash -c "echo '$out' | grep -q 'mean RTT (ms)' && echo '$out' | grep -q 't (s)' && echo '$out' | grep -q '^  \* '"

# --follow: rows arrive in two parses; each complete slot is reported once
if command -v editcap >/dev/null; then
    n=$(tshark -r "$T/A.pcap" 2>/dev/null | wc -l)
    editcap -r "$T/A.pcap" "$T/a1.pcap" "1-$((n / 2))" 2>/dev/null
    editcap -r "$T/A.pcap" "$T/a2.pcap" "$((n / 2 + 1))-$n" 2>/dev/null
    "$VND" parse -q -o "$T/f.db" "F=$T/a1.pcap"
    "$VND" diag throughput -d "$T/f.db" -t F --slot 0.5 --follow --interval 0.2 -f csv >"$T/follow.csv" &
    FPID=$!
    sleep 1.5
    first=$(grep -c '^[0-9]' "$T/follow.csv")
    "$VND" parse -q --append -o "$T/f.db" "F=$T/a2.pcap"
    sleep 1.5
    kill -INT "$FPID"; wait "$FPID"; rc=$?; FPID=
    check_eq "--follow stops cleanly on SIGINT" "$rc" 0
    total=$(grep -c '^[0-9]' "$T/follow.csv")
    dup=$(grep '^[0-9]' "$T/follow.csv" | cut -d, -f1 | sort | uniq -d | wc -l)
    check "--follow reported slots before the second parse ($first)" test "$first" -ge 1
    check "--follow reported new slots after it ($total > $first)" test "$total" -gt "$first"
    check_eq "--follow reports each slot once" "$dup" 0
    # the followed slots equal a one-shot run over the finished table
    want=$("$VND" diag throughput -d "$T/f.db" -t F --slot 0.5 -f csv | grep '^[0-9]' | head -n "$total")
    check_eq "--follow rows equal the one-shot rows" "$(grep '^[0-9]' "$T/follow.csv")" "$want"
else
    skip "--follow (editcap not installed)"
fi

# loss on tables still being stored: B last stored half a second before
# its newest row (as a live trace's other side, or another table server
# whose last batch is not in), so A's rows of the last window are not
# judged yet, and the output says how many
cp "$T/t.db" "$T/w.db"
U=$(sqlite3 "$T/w.db" "select max(ts) - 0.5 from B")
sqlite3 "$T/w.db" "UPDATE vnd_meta SET updated = $U WHERE tbl = 'B'"
WAIT=$(sqlite3 "$T/w.db" "select count(*) from A where id is not null and ts + 1.0 > $U")
check_eq "loss -f json: \"waiting\" counts A's rows after B's last store less the window" \
    "$("$VND" diag loss -d "$T/w.db" --in A --out B -f json | jq -c '[.waiting[] | [.table, .other, .rows]]')" \
    "[[\"A\",\"B\",$WAIT]]"
check "... the table says so under the rows" \
    bash -c "'$VND' diag loss -d '$T/w.db' --in A --out B | grep -q '^not judged yet: $WAIT rows of A, less than the window before B'"
check_eq "... CSV in a comment line after the rows" \
    "$("$VND" diag loss -d "$T/w.db" --in A --out B -f csv | tail -1 | jq -Rr 'sub("^# waiting: "; "") | fromjson | .[0].rows')" "$WAIT"
JUDGED=$("$VND" diag loss -d "$T/w.db" --in A --out B -f csv | awk -F, '$2 == "A>B" { n += $3 } END { print n }')
ALL=$("$VND" diag loss -d "$T/t.db" --in A --out B -f csv | awk -F, '$2 == "A>B" { n += $3 } END { print n }')
check "... and loss judged fewer of A's packets than when B was stored whole ($JUDGED < $ALL)" \
    test "$JUDGED" -lt "$ALL"
check_eq "stored whole (a file parsed after the fact): nothing waits" \
    "$("$VND" diag loss -d "$T/t.db" --in A --out B -f json | jq -c '.waiting')" null
# what the captures dropped, from vnd_meta: a packet whose copy B's capture
# missed counts as lost, so loss says so beside its rows
cp "$T/t.db" "$T/d.db"
sqlite3 "$T/d.db" "UPDATE vnd_meta SET dropped_kernel = 3, dropped_queue = 2 WHERE tbl = 'B'"
DROPS='.capture_drops | map([.table, .dropped_kernel, .dropped_queue])'
check_eq "loss -f json: \"capture_drops\" names B's dropped frames" \
    "$("$VND" diag loss -d "$T/d.db" --in A --out B -f json | jq -c "$DROPS")" '[["B",3,2]]'
check "... the table says what they may count" \
    bash -c "'$VND' diag loss -d '$T/d.db' --in A --out B | grep -q '^the capture of B dropped frames (3 in the kernel.s ring, counted for its whole interface; 2 in the table server.s queue): a packet whose copy it missed counts as lost on its way to B'"
check_eq "... CSV in a comment line after the rows" \
    "$("$VND" diag loss -d "$T/d.db" --in A --out B -f csv | tail -1 | jq -Rr 'sub("^# capture_drops: "; "") | fromjson | .[0].dropped_queue')" 2
check_eq "... the same rows as without the drops (they are said, not guessed away)" \
    "$("$VND" diag loss -d "$T/d.db" --in A --out B -f csv | grep -v '^#')" \
    "$("$VND" diag loss -d "$T/t.db" --in A --out B -f csv | grep -v '^#')"
check_eq "no frame dropped: nothing said" \
    "$("$VND" diag loss -d "$T/t.db" --in A --out B -f json | jq -c '.capture_drops')" null
check_eq "bottleneck -f json: the path's drops, beside its verdict" \
    "$("$VND" diag bottleneck --path A,B,C -d "$T/d.db" -f json | jq -c "[($DROPS), (.verdict | type)]")" \
    '[[["B",3,2]],"object"]'
check "... and a sentence under its table" \
    bash -c "'$VND' diag bottleneck --path A,B,C -d '$T/d.db' | grep -q '^the capture of B dropped frames'"
check_eq "... none where the captures dropped nothing" \
    "$("$VND" diag bottleneck --path A,B,C -d "$T/t.db" -f json | jq -c '.capture_drops')" null
check_eq "throughput on B says its rows lack them" \
    "$("$VND" diag throughput -t B -d "$T/d.db" -f json | jq -r '.capture_drops[0].text')" \
    "the capture of B dropped frames (3 in the kernel's ring, counted for its whole interface; 2 in the table server's queue): its rows lack them: counts and rates are low by up to as many frames"
check_eq "... delay through B, that it has fewer samples" \
    "$("$VND" diag delay --in A --out B -d "$T/d.db" -f json | jq -r '.capture_drops[0].text | sub(".*: "; "")')" \
    "fewer samples, none of them changed"
check_eq "... throughput on A, whose capture dropped nothing: nothing" \
    "$("$VND" diag throughput -t A -d "$T/d.db" -f json | jq -c '.capture_drops')" null

# --follow at a slot's edge: 7 x 787 us after t0 is, in doubles, in the
# slot before (floor((ts - t0) / slot) = 6) yet not before t0 + 7 slots;
# the complete slots are bounded as the slots are computed, so that row is
# reported in its slot (it was cut off: 8 packets where the table has 9)
if command -v sqlite3 >/dev/null; then
    sqlite3 "$T/t.db" "CREATE TABLE E AS SELECT * FROM A WHERE 0;
        WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 100 FROM k WHERE n < 6000)
        INSERT INTO E (ts, payload_len) SELECT 1700000000.123456 + n * 1e-6, 10 FROM k
            UNION ALL SELECT 1700000000.123456 + 5509 * 1e-6, 10;"
    "$VND" diag throughput -d "$T/t.db" -t E --slot 0.000787 --follow --interval 0.2 -f csv \
        >"$T/edge.csv" &
    FPID=$!
    sleep 1.5
    kill -INT "$FPID"; wait "$FPID"; FPID=
    want=$("$VND" diag throughput -d "$T/t.db" -t E --slot 0.000787 -f csv | grep '^[0-9]' | head -n 7)
    check_eq "--follow: a row at a slot's edge in its slot, as the one-shot run has it" \
        "$(grep '^[0-9]' "$T/edge.csv")" "$want"
    check_eq "... the seventh slot's 9 packets" "$(sed -n 8p "$T/edge.csv" | cut -d, -f2)" 9
    # rtt keeps a sample by its data packet's slot: a segment at that edge
    # (acked 50 us later) is the seventh slot's ninth sample; a time bound
    # at t0 + 7 slots leaves 8 (the edge is real in doubles)
    sqlite3 "$T/t.db" "CREATE TABLE R AS SELECT * FROM A WHERE 0;
        WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 100 FROM k WHERE n < 6000),
        d AS (SELECT n, row_number() OVER (ORDER BY n) AS i FROM (SELECT n FROM k UNION ALL SELECT 5509))
        INSERT INTO R (ts, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags, payload_len)
            SELECT 1700000000.123456 + n * 1e-6, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 1000 + 10 * i, 1, 24, 10 FROM d
            UNION ALL SELECT 1700000000.123456 + (n + 50) * 1e-6, '10.0.0.2', '10.0.0.1', 6, 80, 1000, 1,
                             1010 + 10 * i, 16, 0 FROM d;"
    "$VND" diag rtt -d "$T/t.db" -t R --slot 0.000787 --no-rollup --follow --interval 0.2 -f csv \
        >"$T/rtt-edge.csv" &
    FPID=$!
    sleep 1.5
    kill -INT "$FPID"; wait "$FPID"; FPID=
    check_eq "--follow rtt: 7 complete slots, the seventh's 9 samples (one at its edge)" \
        "$(awk -F, 'NR > 1 && $1 ~ /^[0-9]/ { n++; p = $2 } END { print n "," p }' "$T/rtt-edge.csv")" "7,9"
    check_eq "... where a time bound at t0 + 7 slots keeps 8" \
        "$("$VND" diag rtt -d "$T/t.db" -t R --slot 0.000787 --no-rollup --until 1700000000.128965 -f csv | tail -1 | cut -d, -f2)" 8
else
    skip "--follow at a slot's edge (sqlite3 not installed)"
fi

out=$("$VND" demo --duration 4 --join 2 --no-plot --seed 3)
check "demo names the IDS as the bottleneck from when client 2 joins" \
    bash -c "echo '$out' | grep -q 'the IDS (between B and C) is the bottleneck from t = 2 s'"
done_testing
