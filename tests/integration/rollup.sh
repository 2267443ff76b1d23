#!/usr/bin/env bash
# rollup.sh — answers from a table's rollup against the same answers from
# its rows (--no-rollup), on `vnd demo --generate-only` output and on the
# golden captures: counts, sums, min and max equal, means to 1e-9
# (relative), p50 and p99 within the sketch's 1%; --show-sql says which
# each came from, and why not the rollup; a rollup that no longer holds
# the table's rows (--append) is not used; VND_ROLLUP=0 keeps none.
source "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/vnd-rollup.XXXXXX)
trap 'rm -rf "$T"' EXIT
TOP=$(cd "$(dirname "$0")/../.." && pwd)

"$VND" demo --generate-only --dir "$T" --duration 4 --join 1.5 --seed 7 >/dev/null
"$VND" parse -q -o "$T/t.db" "A=$T/A.pcap" "B=$T/B.pcap" "C=$T/C.pcap"

# same NAME: the two CSVs (rollup, rows) agree as the header says
same() {
    awk -F, -v name="$1" '
        FNR == 1 { f++; if (f == 1) { for (i = 1; i <= NF; i++) col[i] = $i; nc = NF } else if ($0 != hdr) bad = "columns differ"; hdr = $0; next }
        f == 1 { a[FNR] = $0; n1 = FNR; next }
        { n2 = FNR; split(a[FNR], x, ","); for (i = 1; i <= nc; i++) {
              if (col[i] == "p50_ms" || col[i] == "p99_ms") { d = x[i] - $i; if (d < 0) d = -d; if (d > 0.01 * ($i < 0 ? -$i : $i) + 1e-12) bad = bad " " col[i] "@" FNR ": " x[i] " vs " $i }
              else if (col[i] == "mean_ms") { d = x[i] - $i; if (d < 0) d = -d; if (d > 1e-9 * ($i < 0 ? -$i : $i) + 1e-15) bad = bad " mean@" FNR ": " x[i] " vs " $i }
              else if (x[i] != $i) bad = bad " " col[i] "@" FNR ": " x[i] " vs " $i } }
        END { if (n1 != n2) bad = bad " rows " n1 " vs " n2; if (bad != "") { print name ":" substr(bad, 1, 300); exit 1 } }' "$T/r.csv" "$T/n.csv"
}

# compare DB WANT APP...: WANT rollup|rows is where --show-sql says it comes from
compare() {
    local db=$1 want=$2; shift 2
    local first
    first=$("$VND" diag "$@" -d "$db" --show-sql | head -1)
    case "$want:$first" in
    "rollup:/* answered from the rollup"*|"rows:/* from the rows, not the rollup"*) ;;
    *) not_ok "$*: --show-sql's first line: want $want, got: $first"; return ;;
    esac
    if ! "$VND" diag "$@" -d "$db" -f csv >"$T/r.csv" 2>"$T/err" \
       || ! "$VND" diag "$@" -d "$db" -f csv --no-rollup >"$T/n.csv" 2>>"$T/err"; then
        not_ok "$*: failed: $(head -c 300 "$T/err")"; return
    fi
    local n; n=$(($(wc -l <"$T/n.csv") - 1))
    if [ "$n" -lt 1 ]; then not_ok "$*: no rows to compare"; return; fi
    if msg=$(same "$*"); then ok "$*: $want gives the rows' $n rows"; else not_ok "$msg"; fi
}

for t in A B C; do
    compare "$T/t.db" rollup throughput -t $t
    compare "$T/t.db" rollup throughput -t $t --by-flow --slot 2
    compare "$T/t.db" rollup groups -t $t --fields src_ip,dst_ip,src_port,dst_port,proto
    compare "$T/t.db" rollup rtt -t $t
    compare "$T/t.db" rollup rtt -t $t --by-flow --slot 3
done
compare "$T/t.db" rollup groups -t B --fields dst_port --where 'tcp.dst = 80 or ip.src = 10.0.0.10'
compare "$T/t.db" rollup distribution -t A --field dst_port
compare "$T/t.db" rollup distribution -t C --field src_ip --where 'tcp.dst = 80'
compare "$T/t.db" rollup throughput -t B --by-flow
compare "$T/t.db" rollup throughput -t A --where 'ip.src = 10.0.0.10 and tcp.dst = 40001' --by-flow
compare "$T/t.db" rollup rtt -t B --kind handshake --by-flow
compare "$T/t.db" rollup rtt -t C --kind data --slot 2
# questions the rollup does not fit: the rows answer
compare "$T/t.db" rows throughput -t A --slot 0.5
compare "$T/t.db" rows throughput -t A --where 'payload.len > 100'
compare "$T/t.db" rows groups -t B --fields src_ip,flags
compare "$T/t.db" rows distribution -t B --field flags
compare "$T/t.db" rows rtt -t A --where 'ip.src = 10.0.0.1 or ip.dst = 10.0.0.1'
compare "$T/t.db" rows rtt -t A --slot 1.5

# SACK and copies: a lossy capture whose ACKs carry SACK blocks, with the
# sack column; every frame of A twice (two interfaces): RTT samples the
# rollup takes from the same machine as the rows
mkdir "$T/s"
"$VND" demo --generate-only --dir "$T/s" --duration 3 --join 1.5 --seed 6 --re-loss 0.01 --sack >/dev/null
printf 'Trace ID all\nFields: timestamp as ts, ip.id as id, ip.src as src_ip, ip.dst as dst_ip,\n  ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port, tcp.seq as seq,\n  tcp.ack as ack, tcp.flags as flags, payload.len as payload_len, tcp.sack as sack\n' >"$T/sack.conf"
"$VND" parse -q -c "$T/sack.conf" -o "$T/s.db" "A=$T/s/A.pcap" "B=$T/s/B.pcap"
compare "$T/s.db" rollup rtt -t A --by-flow
compare "$T/s.db" rollup rtt -t B --slot 2
if command -v mergecap >/dev/null; then
    mergecap -F pcap -w "$T/dup.pcap" "$T/A.pcap" "$T/A.pcap"
    "$VND" parse -q -o "$T/d.db" "D=$T/dup.pcap"
    compare "$T/d.db" rollup rtt -t D --by-flow
    compare "$T/d.db" rollup throughput -t D
else
    skip "copies of frames: mergecap not installed"
fi

# --since/--until (the API's, and --follow's) on slot boundaries: the
# rollup; inside a slot: the rows
# at TABLE D: the ts D seconds after the table's first
at() {
    awk -v t="$("$VND" query -d "$T/t.db" -f csv "select min(ts) from $1" | tail -1)" -v d="$2" \
        'BEGIN { printf "%.17g", t + d }'
}
compare "$T/t.db" rollup throughput -t A --by-flow --since "$(at A 1)" --until "$(at A 3)"
compare "$T/t.db" rollup rtt -t B --since "$(at B 2)"
compare "$T/t.db" rollup groups -t C --fields src_ip,dst_port --until "$(at C 2)"
compare "$T/t.db" rows throughput -t A --since "$(at A 1.5)"
compare "$T/t.db" rows rtt -t B --until "$(at B 2.25)"

# --follow reads the rollup's newest slot: its rows are those of the rows
timeout -k 10 8 "$VND" diag throughput -t A -d "$T/t.db" -f csv --follow --interval 0.2 >"$T/f.csv" 2>"$T/f.err" &
fpid=$!
sleep 3; kill -INT $fpid 2>/dev/null; wait $fpid 2>/dev/null
"$VND" diag throughput -t A -d "$T/t.db" -f csv --no-rollup >"$T/all.csv"
# follow prints the complete slots (all but the last)
check_eq "--follow (rollup): the complete slots' rows" "$(grep -v '^t,' "$T/f.csv")" \
    "$(sed '1d;$d' "$T/all.csv")"

# golden captures: every table with a rollup, every app
args=(); i=0
for f in "$TOP"/tests/golden/captures/*.pcap; do i=$((i + 1)); args+=("g$i=$f"); done
"$VND" parse -q -o "$T/g.db" "${args[@]}" 2>/dev/null
rolled=$("$VND" query -d "$T/g.db" -f csv "select count(*) from vnd_meta where rollup_status = 'rollup'" | tail -1)
check "golden captures: $rolled of $i tables have a full rollup" test "$rolled" -ge $((i - 2))
for ((k = 1; k <= i; k++)); do
    st=$("$VND" query -d "$T/g.db" -f csv "select rollup_status from vnd_meta where tbl = 'g$k'" | tail -1)
    [ "$st" = rollup ] || continue
    n=$("$VND" query -d "$T/g.db" -f csv "select count(*) from g$k" | tail -1)
    r=$("$VND" query -d "$T/g.db" -f csv "select sum(packets) from g${k}__rollup" | tail -1)
    check_eq "g$k: the rollup counts the table's $n rows" "$r" "$n"
    compare "$T/g.db" rollup groups -t g$k --fields src_ip,dst_ip,src_port,dst_port,proto
    compare "$T/g.db" rollup throughput -t g$k --by-flow
    if [ "$("$VND" diag rtt -t g$k -d "$T/g.db" -f csv --no-rollup | wc -l)" -gt 1 ]; then
        compare "$T/g.db" rollup rtt -t g$k --by-flow
    fi
done

# --append adds rows the rollup did not see: the rows answer
"$VND" parse -q --append -o "$T/t.db" "A=$T/B.pcap"
first=$("$VND" diag throughput -t A -d "$T/t.db" --show-sql | head -1)
check "--append: the rollup is not used ($first)" test "${first:0:3}" != "/* "
check_eq "--append: ... and it is gone" \
    "$("$VND" query -d "$T/t.db" -f csv "select count(*) from sqlite_schema where name = 'A__rollup'" | tail -1)" 0
# a second trace into a table (a shared Table ID) stops the first's rollup
cat >"$T/shared.conf" <<'EOF'
Trace ID all
Table ID shared
Fields: timestamp as ts, ip.id as id, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port, tcp.seq as seq, tcp.ack as ack, tcp.flags as flags, payload.len as payload_len
EOF
"$VND" parse -q -c "$T/shared.conf" -o "$T/s.db" "A=$T/A.pcap"
compare "$T/s.db" rollup throughput -t shared
"$VND" parse -q -c "$T/shared.conf" -o "$T/s.db" "B=$T/B.pcap"
first=$("$VND" diag throughput -t shared -d "$T/s.db" --show-sql | head -1)
check "two traces in one table: the first's rollup is not used ($first)" \
    grep -q 'does not hold the table' <<<"$first"
compare "$T/s.db" rows throughput -t shared --by-flow
# a trace whose table is named like a rollup keeps it: X's rollup is not made
"$VND" parse -q -o "$T/x.db" "X__rollup=$T/B.pcap" "X=$T/A.pcap"
check_eq "a trace table named X__rollup keeps its rows; X has no rollup" \
    "$("$VND" query -d "$T/x.db" -f csv "select (select count(*) from X__rollup) = (select packets_stored from vnd_meta where tbl = 'X__rollup'), (select rollup from vnd_meta where tbl = 'X')" | tail -1)" "1,"
# VND_ROLLUP=0: no rollup at all, and the rows' SQL has no comment
VND_ROLLUP=0 "$VND" parse -q -o "$T/n.db" "A=$T/A.pcap"
check_eq "VND_ROLLUP=0: no rollup in vnd_meta" \
    "$("$VND" query -d "$T/n.db" -f csv "select count(*) from vnd_meta where rollup is not null" | tail -1)" 0
check "VND_ROLLUP=0: the SQL is the rows'" \
    bash -c "'$VND' diag throughput -t A -d '$T/n.db' --show-sql | head -1 | grep -q '^WITH vnd_origin'"
# Many flows, few of them live: 90,000 short TCP connections, 1,500 a
# second for 60 s (SYN, SYN/ACK, 100 bytes of data, its ACK, 0.1 ms apart).
# Past 16,384 interned flows with under half of them in the slots kept, a
# batch starts the rollup's flows afresh (rollup.c, FLOWS_FLOOR): with
# batches of 65,536 packets that is the second batch's end (32,768 flows,
# at most 4,500 live) and each one after.  Those batches end between
# connections (4 packets each), so no RTT sample is in flight at a
# restart: the rollup must still give the rows' answers exactly.
python3 - "$T/churn.pcap" <<'PY2'
import struct, sys
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def pkt(t, src, dst, sp, dp, seq, ack, flags, payload, ipid):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), ipid, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    frame = b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + b'\x08\x00' + ip + tcp
    sec, usec = int(t), int(round((t - int(t)) * 1e6))
    out.write(struct.pack('<IIII', sec, usec, len(frame), len(frame)) + frame)
server = bytes([10, 9, 0, 1])
for i in range(90000):
    t = 1700000000 + i / 1500.0
    client = bytes([10, 8, (i >> 8) & 255, i & 255])
    sp = 1024 + i % 60000               # with the address: each connection its own
    c, s_ = 1000 * i, 5000
    pkt(t, client, server, sp, 80, c, 0, 0x02, b'', i & 0xffff)
    pkt(t + 0.0001, server, client, 80, sp, s_, c + 1, 0x12, b'', (i + 1) & 0xffff)
    pkt(t + 0.0002, client, server, sp, 80, c + 1, s_ + 1, 0x18, b'x' * 100, (i + 2) & 0xffff)
    pkt(t + 0.0003, server, client, 80, sp, s_ + 1, c + 101, 0x10, b'', (i + 3) & 0xffff)
PY2
"$VND" parse -q -o "$T/churn.db" "churn=$T/churn.pcap"
check_eq "many flows: the table holds the 360,000 packets" \
    "$("$VND" query -d "$T/churn.db" -f csv "select count(*) from churn" | tail -1)" 360000
compare "$T/churn.db" rollup throughput -t churn --slot 5
compare "$T/churn.db" rollup groups -t churn --fields dst_port,proto
compare "$T/churn.db" rollup rtt -t churn --slot 10
compare "$T/churn.db" rollup rtt -t churn --kind handshake --slot 10

# packet sampling separates segments from their ACKs: the rollup of a
# sampled trace keeps no RTT samples (the rtt app refuses such a table),
# and its packets and bytes as before
"$VND" parse -q --sampling 4 -o "$T/sampled.db" "A=$T/A.pcap"
check_eq "--sampling 4: the rollup says it has no RTT, and why" \
    "$("$VND" query -d "$T/sampled.db" -f csv "select rollup_status from vnd_meta where tbl = 'A'" | tail -1)" \
    "rollup-no-rtt: packets sampled 1 in 4 (few segments keep their ACK)"
check_eq "... it keeps no RTT sample, and counts every stored packet" \
    "$("$VND" query -d "$T/sampled.db" -f csv "select (select count(*) from A__rollup where kind is not null),
        (select sum(packets) from A__rollup) = (select count(*) from A)" | tail -1)" "0,1"
done_testing
