#!/usr/bin/env bash
# diag_sampling.sh — results say how they were obtained (docs/capture.md,
# "How results account for sampling"), through the real chain: the chain
# model writes captures, `vnd parse` stores them whole and with --sampling
# N, `vnd diag` measures.
#  - throughput of a 1-in-N table, scaled: its 95% interval holds the
#    whole table's throughput for N = 2, 10, 100 (whole trace; and most
#    1 s slots), the half-width grows with N; a history of two rates
#    (vnd_sampling rows made here as the contract says) likewise;
#  - --show-sql shows the factor and that no rollup answers; JSON, CSV
#    and the table say the sampling;
#  - delay, loss and rtt refuse a count-sampled table with a message
#    naming it; delay and loss accept a 'hash' one at one N on both
#    points (tables made here by a hash of pkt.id and tcp.ack, the same
#    packets at both), say so, and measure the delay and loss rate of the
#    whole within bounds.
source "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/vnd-diag-samp.XXXXXX)
trap 'rm -rf "$T"' EXIT

# the hop A>B loses 1% (re-loss), as diag_accuracy's lossy-re set
if ! "$VND" demo --generate-only --dir "$T" --duration 6 --join 3 --seed 3 --ids-pps 60000 \
        --re-loss 0.01 --turnaround 0.0003 >/dev/null; then
    not_ok "generate the captures"; done_testing; exit 1
fi
DB=$T/t.db
check "parse A and B whole" "$VND" parse -q -o "$DB" "A=$T/A.pcap" "B=$T/B.pcap"
for N in 2 10 100; do
    check "parse A with --sampling $N" "$VND" parse -q --sampling "$N" -o "$DB" "S$N=$T/A.pcap"
done

# csv_rows: the rows of a CSV result (no header, no # lines)
csv_rows() { grep -v '^#' | tail -n +2; }
# inside LO X HI
inside() { awk -v l="$1" -v x="$2" -v h="$3" 'BEGIN { exit !(l <= x && x <= h) }'; }

# ---- throughput: scaled, with an interval that holds the truth ----
TRUTH=$("$VND" diag throughput -d "$DB" -t A --slot 1000 -f csv | csv_rows | cut -d, -f4)
check "the whole table's throughput ($TRUTH bit/s)" test -n "$TRUTH"
prev=0
for N in 2 10 100; do
    IFS=, read -r t pk by bps lo hi < <("$VND" diag throughput -d "$DB" -t "S$N" --slot 1000 -f csv | csv_rows)
    check "1-in-$N: $bps bit/s, 95% interval [$lo, $hi] holds $TRUTH" inside "$lo" "$TRUTH" "$hi"
    hw=$(awk -v l="$lo" -v h="$hi" 'BEGIN { printf "%.0f", (h - l) / 2 }')
    check "1-in-$N: the half-width $hw grows with N (was $prev)" test "$hw" -gt "$prev"
    prev=$hw
    # per 1 s slot: the same first packet, so the same slots
    "$VND" diag throughput -d "$DB" -t A -f csv | csv_rows | cut -d, -f1,4 | sort >"$T/truth.csv"
    "$VND" diag throughput -d "$DB" -t "S$N" -f csv | csv_rows | cut -d, -f1,5,6 | sort >"$T/s.csv"
    read -r held all < <(join -t, "$T/truth.csv" "$T/s.csv" |
        awk -F, '{ n++; if ($3 <= $2 && $2 <= $4) k++ } END { print k + 0, n + 0 }')
    check "1-in-$N: the intervals of $held of $all slots hold the slot's truth (at least all but one)" \
        test "$all" -ge 6 -a "$held" -ge $((all - 1))
done

# a history: 1-in-2 until MID, 1-in-10 from MID (rows chosen as count
# sampling would, vnd_sampling rows as the contract says)
MID=$(sqlite3 "$DB" 'SELECT min(ts) + 3 FROM A')
sqlite3 "$DB" "CREATE TABLE V AS SELECT * FROM A WHERE (ts < $MID AND rowid % 2 = 0) OR (ts >= $MID AND rowid % 10 = 0);
INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling) VALUES ('V', 'V', 'vnd-tabled', 10, 1);
CREATE TABLE IF NOT EXISTS vnd_sampling(trace TEXT NOT NULL, tbl TEXT NOT NULL, from_ts REAL NOT NULL,
  sampling INTEGER NOT NULL, method TEXT NOT NULL, flow_sampling REAL NOT NULL, reason TEXT,
  PRIMARY KEY (trace, tbl, from_ts));
INSERT INTO vnd_sampling (trace, tbl, from_ts, sampling, method, flow_sampling, reason) VALUES ('V', 'V', 0, 2, 'count', 1, 'configured'),
  ('V', 'V', $MID, 10, 'count', 1, 'budget: test');"
IFS=, read -r t pk by bps lo hi < <("$VND" diag throughput -d "$DB" -t V --slot 1000 -f csv | csv_rows)
check "a history of 1-in-2 then 1-in-10: [$lo, $hi] holds $TRUTH" inside "$lo" "$TRUTH" "$hi"
sql=$("$VND" diag throughput -d "$DB" -t V --show-sql)
check "--show-sql: not from the rollup, and why" grep -q '^/\* from the rows, not a rollup: table V is sampled' <<<"$sql"
check "--show-sql: each row's factor from its interval" grep -qF "CASE WHEN s.ts >= $MID" <<<"$sql"
check "--show-sql runs unchanged in vnd query" test "$("$VND" query -d "$DB" -f csv "$sql")" = \
    "$("$VND" diag throughput -d "$DB" -t V -f csv | grep -v '^#')"
j=$("$VND" diag throughput -d "$DB" -t V -f json)
check "JSON: the rows, then the table's sampling, its history varied" \
    grep -q '^],"sampling":\[{"table":"V","mode":"mirror","sampling":10,"method":"count","flow_sampling":1.0,"varied":true,"history":true,"intervals":\[{"from_ts":0.0,"sampling":2,' <<<"$j"
check "JSON: rows carry bps_low and bps_high" grep -q '"bps_low":.*"bps_high":' <<<"$j"
# flows kept whole, 1 in 2 by their ports (both directions alike): each
# slot says how many sampled flows its interval rests on
sqlite3 "$DB" "CREATE TABLE F2 AS SELECT * FROM A WHERE (src_port + dst_port) % 2 = 1;
INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling) VALUES ('F2', 'F2', 'vnd-tabled', 1, 2);"
NF=$(sqlite3 "$DB" 'SELECT count(*) FROM (SELECT DISTINCT src_ip, src_port, dst_ip, dst_port FROM F2)')
check_eq "flow sampling: a column flows_sampled, the directed flows the slot's estimate rests on" \
    "$("$VND" diag throughput -d "$DB" -t F2 --slot 1000 -f csv | grep -v '^#' | tail -1 | awk -F, '{ print $NF }')" "$NF"
check "... named in the header" grep -q '^t,packets,bytes,bps,bps_low,bps_high,flows_sampled$' \
    <<<"$("$VND" diag throughput -d "$DB" -t F2 -f csv | head -1)"
check "table: a note names the table and its sampling" \
    grep -q '^sampling: S10 (file: 1-in-10 packets at the table server (method count)); scaled' \
    <<<"$("$VND" diag throughput -d "$DB" -t S10)"
check "CSV of a sampled table: a last line '# sampling: [...]'" \
    grep -q '^# sampling: \[{"table":"S10","mode":"file","sampling":10,' \
    <<<"$("$VND" diag throughput -d "$DB" -t S10 -f csv | tail -1)"
check "CSV of a whole table: the rows alone" \
    test "$("$VND" diag throughput -d "$DB" -t A -f csv | grep -c '^#')" -eq 0
check "groups on a sampled table: scaled, said so" \
    grep -q '^sampling: S10 .*scaled by each row.s rate, 95% interval in packets_low..packets_high and bytes_low..bytes_high' \
    <<<"$("$VND" diag groups -d "$DB" -t S10 --fields dst_port)"
# groups of V (1-in-2, then 1-in-10) by protocol: each group's intervals
# hold the packets and bytes of the same group of every packet (A)
"$VND" diag groups -d "$DB" -t A --fields proto -f csv | csv_rows >"$T/gA.csv"
"$VND" diag groups -d "$DB" -t V --fields proto -f csv | csv_rows >"$T/gV.csv"
check "groups of a sampled table: the columns of the estimates and their intervals" \
    grep -q '^proto,packets,bytes,packets_low,packets_high,bytes_low,bytes_high$' \
    <<<"$("$VND" diag groups -d "$DB" -t V --fields proto -f csv)"
held=$(awk -F, 'NR == FNR { p[$1] = $2; b[$1] = $3; next }
    { n++; if ($4 <= p[$1] && p[$1] <= $5 && $6 <= b[$1] && b[$1] <= $7) ok++ }
    END { printf "%d of %d", ok, n }' "$T/gA.csv" "$T/gV.csv")
check_eq "groups of a sampled table: every group's intervals hold its truth ($held)" "$held" \
    "$(wc -l <"$T/gV.csv") of $(wc -l <"$T/gV.csv")"
check "... and there are groups" test -s "$T/gV.csv"
# distribution of V's protocols: each value's count interval holds A's
"$VND" diag distribution -d "$DB" -t A --field proto -f csv | csv_rows >"$T/dA.csv"
"$VND" diag distribution -d "$DB" -t V --field proto -f csv | csv_rows >"$T/dV.csv"
check "distribution of a sampled table: count, fraction and the count's interval" \
    grep -q '^proto,count,fraction,count_low,count_high$' \
    <<<"$("$VND" diag distribution -d "$DB" -t V --field proto -f csv)"
held=$(awk -F, 'NR == FNR { c[$1] = $2; next }
    { n++; if ($4 <= c[$1] && c[$1] <= $5) ok++ } END { printf "%d of %d", ok, n }' \
    "$T/dA.csv" "$T/dV.csv")
check_eq "distribution of a sampled table: every value's interval holds its count ($held)" \
    "$held" "$(wc -l <"$T/dV.csv") of $(wc -l <"$T/dV.csv")"

# ---- the apps that pair packets ----
# refuse: EXPECTED-PART APP ARGS...
refuse() {
    local want=$1; shift
    if "$VND" diag "$@" -d "$DB" >/dev/null 2>"$T/err"; then
        not_ok "$*: refused"; return
    fi
    if grep -q "vnd diag $1: table $want is sampled (file: 1-in-10 packets at the table server (method count)): .*Capture with Sampling 1" "$T/err"; then
        ok "$*: refused, naming $want, its sampling and what to do"
    else
        not_ok "$*: the message: $(cat "$T/err")"
    fi
}
sqlite3 "$DB" "CREATE TABLE SB AS SELECT * FROM B WHERE rowid % 10 = 1;
INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling) VALUES ('SB', 'SB', 'B.pcap', 10, 1);"
refuse S10 delay --in S10 --out SB
refuse S10 loss --in S10 --out B
refuse SB correlate --in A --out SB --by id
refuse S10 rtt -t S10
refuse S10 bottleneck --path A,S10
check "the message says what consistent sampling is" \
    grep -q "method 'hash' at the same 1-in-N on both capture points" <<<"$("$VND" diag delay --in S10 --out SB -d "$DB" 2>&1)"

# consistent: the same packets kept at both points (a hash of pkt.id, which
# is ip.id and tcp.seq, and tcp.ack: the hop keeps them), method 'hash' at
# 1-in-4
H='((id % 1000003) * 7919 + coalesce(ack, 0) % 1000003) % 4 = 0'
sqlite3 "$DB" "CREATE TABLE HA AS SELECT * FROM A WHERE $H; CREATE TABLE HB AS SELECT * FROM B WHERE $H;
INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling) VALUES ('HA', 'HA', 'vnd-tabled', 4, 1), ('HB', 'HB', 'vnd-tabled', 4, 1);
INSERT INTO vnd_sampling (trace, tbl, from_ts, sampling, method, flow_sampling, reason) VALUES ('HA', 'HA', 0, 4, 'hash', 1, 'configured'), ('HB', 'HB', 0, 4, 'hash', 1, 'configured');"
out=$("$VND" diag delay --in HA --out HB --slot 1000 -d "$DB" 2>&1)
check "delay on 'hash' 1-in-4 at both points: runs, says it measured on consistent samples" \
    grep -q '^sampling: HA (mirror: 1-in-4 packets at the table server (method hash)); measured on consistent 1-in-4 samples' <<<"$out"
whole=$("$VND" diag delay --in A --out B --slot 1000 -d "$DB" -f csv | csv_rows | awk -F, '$1 == "A>B" { print $4 }')
samp=$("$VND" diag delay --in HA --out HB --slot 1000 -d "$DB" -f csv | csv_rows | awk -F, '$1 == "HA>HB" { print $4 }')
check "delay: the samples' mean $samp ms is the whole's $whole ms within 3%" \
    awk -v a="$samp" -v b="$whole" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 0.03 * b) }'
rate() { "$VND" diag loss --in "$1" --out "$2" --slot 1000 -d "$DB" -f csv | csv_rows | awk -F, -v k="$3" '$2 == k { print $NF }'; }
wr=$(rate A B 'A>B'); sr=$(rate HA HB 'HA>HB')
check "loss: the samples' rate $sr estimates the whole's $wr (within 40%, and both > 0)" \
    awk -v a="$sr" -v b="$wr" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && b > 0 && d <= 0.4 * b) }'
check "loss: JSON says consistent" grep -q '"treatment":"consistent"' \
    <<<"$("$VND" diag loss --in HA --out HB -d "$DB" -f json)"
# 'hash' at another N on the other point: not the same packets
sqlite3 "$DB" "UPDATE vnd_sampling SET sampling = 8 WHERE tbl = 'HB'; UPDATE vnd_meta SET sampling = 8 WHERE tbl = 'HB';"
check "delay on 'hash' 1-in-4 against 1-in-8: refused" \
    bash -c "! '$VND' diag delay --in HA --out HB -d '$DB' >/dev/null 2>&1"

done_testing
