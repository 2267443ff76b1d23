#!/usr/bin/env bash
# parse_errors.sh — `vnd parse` on what a new user writes: SQL keywords as
# column names, names SQLite keeps for itself, too many columns, file names
# too long for a table name; and --replace/--append/drop on tables that
# several traces share (exact row counts against vnd_meta).
source "$(dirname "$0")/../lib.sh"
GEN="$VND_BUILD/bench/gen_capture"
W=$(mktemp -d /tmp/vnd-pe.XXXXXX)
trap 'rm -rf "$W"' EXIT
q() { "$VND" query -d "$1" -f csv "$2" | tail -n +2; }

"$GEN" "$W/x.pcap" 2000 4 >/dev/null

# --- column names that are SQL keywords simply work
printf 'Trace ID all\nTable ID k\nFields: ip.src as select, ip.dst as primary,\n  tcp.flags as check, timestamp as order\n' > "$W/kw.conf"
"$VND" parse -q -c "$W/kw.conf" -o "$W/kw.db" "$W/x.pcap" 2>"$W/err"
check "columns named select, primary, check, order: parse exits 0" test $? -eq 0
check_eq "... and the columns hold the rows" \
    "$(q "$W/kw.db" 'select count(*), count("select"), count("check") from k')" "2000,2000,2000"
"$VND" parse -q --append -c "$W/kw.conf" -o "$W/kw.db" "$W/x.pcap" 2>"$W/err"
check_eq "... and --append finds the same columns" \
    "$(q "$W/kw.db" 'select count(*) from k')" "4000"

# --- table names of SQLite's own tables: refused at their place
for name in dbstat json_each pragma_table_info json_tree; do
    printf 'Trace ID all\nTable ID %s\nFields: ip.src\n' "$name" > "$W/r.conf"
    "$VND" parse -q -c "$W/r.conf" -o "$W/r.db" "$W/x.pcap" 2>"$W/err"
    check "Table ID $name is refused (status 1)" test $? -eq 1
    check "... at r.conf:2:10, saying why" grep -q "r.conf:2:10: table name '$name' is reserved (SQLite's own tables" "$W/err"
done
check "... and nothing is written" test ! -e "$W/r.db"
printf 'Trace ID all\nFields: ip.src as rowid\n' > "$W/r.conf"
"$VND" parse -q -c "$W/r.conf" -o "$W/r.db" "$W/x.pcap" 2>"$W/err"
check "a column named rowid is refused at its place" grep -q "r.conf:2:19: column name 'rowid' is reserved" "$W/err"

# --- 1999 columns work, 2000 are refused at the field that makes one too many
python3 - "$W" <<'EOF'
import sys
w = sys.argv[1]
cols = ["ip.src as c0"] + ["tcp.src as c%d" % i for i in range(1, 1999)]
open(w + "/wide.conf", "w").write("Trace ID all\nTable ID wide\nFields: " + ",\n  ".join(cols) + "\n")
open(w + "/wider.conf", "w").write("Trace ID all\nTable ID wide\nFields: " + ",\n  ".join(cols)
                                   + ",\n  tcp.dst as c1999, tcp.dst as c2000\n")
EOF
"$VND" parse -q -c "$W/wide.conf" -o "$W/wide.db" "$W/x.pcap" 2>"$W/err"
check "1999 columns: parse exits 0" test $? -eq 0
check_eq "... every row, the last column filled" "$(q "$W/wide.db" 'select count(*), min(c1998) from wide')" "2000,80"
"$VND" parse -q -c "$W/wider.conf" -o "$W/wider.db" "$W/x.pcap" 2>"$W/err"
check "2001 columns: refused" test $? -eq 1
check "... at the field that makes column 2000, naming the limit" \
    grep -q "wider.conf:2002:14: too many columns: c1999 would be column 2000, and a table holds at most 1999" "$W/err"

# --- a file name too long for a table name: shortened, and said so
long=capture_from_the_second_mirror_port_of_the_rack_switch_in_row_seven_2026_11_30
cp "$W/x.pcap" "$W/$long.pcap"
"$VND" parse -q -o "$W/long.db" "$W/$long.pcap" 2>"$W/err"
check "a 79-character file stem parses (status 0)" test $? -eq 0
tbl=$(q "$W/long.db" "select tbl from vnd_meta where trace = '$long'")
check_eq "... into a table of 63 characters: the first 54, _ and a hash" \
    "${#tbl}:${tbl:0:55}" "63:${long:0:54}_"
check_eq "... holding its rows" "$(q "$W/long.db" "select count(*) from $tbl")" 2000
check "... and stderr names the table and how to choose one" \
    grep -q "the table of trace $long is named $tbl (a table name holds at most 63 characters); to choose the name, give the file as NAME=" "$W/err"
"$VND" parse -q -o "$W/long.db" "${long}_b=$W/$long.pcap" 2>/dev/null
check_eq "two long ids that share their first 54 characters get two tables" \
    "$(q "$W/long.db" "select count(distinct tbl) from vnd_meta")" 2

# --- traces that share a table: --replace and --append touch exactly their rows
cat > "$W/shared.conf" <<'EOF'
Trace ID all
Table ID A
Fields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip,
        ip.proto as proto, tcp.src as src_port, udp.src as src_port,
        tcp.dst as dst_port, udp.dst as dst_port, tcp.seq as seq, tcp.ack as ack,
        tcp.flags as flags, payload.len as payload_len
EOF
# rows in A, what vnd_meta says A holds, and per trace
rows() {
    q "$1" "select (select count(*) from A) n, (select sum(packets_stored) from vnd_meta where tbl = 'A') m,
            (select group_concat(trace || ':' || packets_stored, ' ') from
             (select * from vnd_meta where tbl = 'A' order by trace)) t"
}
shared() {
    rm -f "$1"*
    "$VND" parse -q -o "$1" A="$W/x.pcap" && "$VND" parse -q -c "$W/shared.conf" -o "$1" B="$W/x.pcap"
}
shared "$W/s.db"
check_eq "A=x.pcap, then B=x.pcap with Table ID A: 4000 rows" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"
"$VND" parse -q --replace -o "$W/s.db" A="$W/x.pcap"
check_eq "--replace A: B's rows stay (4000 rows, as vnd_meta says)" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"
shared "$W/s.db"
"$VND" parse -q --replace -c "$W/shared.conf" -o "$W/s.db" B="$W/x.pcap"
check_eq "--replace B: B's old rows go (4000 rows, not 6000)" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"
"$VND" parse -q --append -c "$W/shared.conf" -o "$W/s.db" B="$W/x.pcap"
check_eq "--append B: 6000 rows, B:4000" "$(rows "$W/s.db")" "6000,6000,A:2000 B:4000"
"$VND" parse -q --replace -o "$W/s.db" A="$W/x.pcap"
check_eq "--replace A after that: still A:2000 B:4000" "$(rows "$W/s.db")" "6000,6000,A:2000 B:4000"
check_eq "... every packet's row 3 times (A once, B twice)" \
    "$(q "$W/s.db" "select count(*) from (select count(*) n from A group by id, ts, seq having n = 3)")" 2000
"$VND" parse -q --replace -c "$W/shared.conf" -o "$W/s.db" B="$W/x.pcap" A="$W/x.pcap"
check_eq "--replace of both traces of A in one run: 4000 rows" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"
"$VND" parse -q --replace -o "$W/s.db" B="$W/x.pcap"
check_eq "--replace B into a table of its own: B's rows leave A" "$(rows "$W/s.db")" "2000,2000,A:2000"
check_eq "... and are in B" "$(q "$W/s.db" "select count(*) from B")" 2000

head -c 24 "$W/x.pcap" > "$W/empty.pcap"
shared "$W/s.db"
"$VND" parse -q --replace -c "$W/shared.conf" -o "$W/s.db" B="$W/empty.pcap"
check_eq "--replace B with an empty capture: B's rows go" "$(rows "$W/s.db")" "2000,2000,A:2000 B:0"

printf 'Trace ID all\nFields: ip.src\n' > "$W/small.conf"
rm -f "$W/c.db"*
"$VND" parse -q -o "$W/c.db" A="$W/x.pcap"
"$VND" parse -q --replace -c "$W/small.conf" -o "$W/c.db" A="$W/x.pcap"
check_eq "--replace with other columns for a table of the trace alone: made anew" \
    "$("$VND" query -d "$W/c.db" -f csv "select * from A limit 0"):$(q "$W/c.db" "select (select count(*) from A), (select packets_stored from vnd_meta)")" \
    "ip_src:2000,2000"
printf 'Trace ID all\nTable ID A\nFields: ip.src\n' > "$W/small-a.conf"
shared "$W/s.db"
"$VND" parse -q --replace -c "$W/small-a.conf" -o "$W/s.db" B="$W/x.pcap" 2>"$W/err"
check "... but not for a table other traces' rows are in" grep -q "table A exists with other columns" "$W/err"
check_eq "... which stays as it was" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"

# Two rules of one trace into one table (spelled T and t): one slot, one
# vnd_meta row counting both
cat > "$W/two.conf" <<'EOF'
Trace ID all
Table ID T
Filter: tcp.dst = 40002
Fields: ip.src as src_ip, tcp.dst as port
Trace ID all
Table ID t
Filter: tcp.dst = 40003
Fields: ip.src as src_ip, tcp.dst as port
EOF
two() { q "$W/two.db" "select (select count(*) from T) n, (select group_concat(trace || ':' || tbl || ':' || packets_stored, ' ') from (select * from vnd_meta order by trace)) m"; }
rm -f "$W/two.db"*
"$VND" parse -q -c "$W/two.conf" -o "$W/two.db" x="$W/x.pcap" y="$W/x.pcap"
want=$(q "$W/two.db" "select count(*) from T where port in (40002, 40003)")
check "two rules into one table: rows of both filters ($want of 4000)" test "$want" -gt 0 -a "$want" -lt 4000
check_eq "... one vnd_meta row per trace, counting both rules" "$(two)" "$want,x:T:$((want / 2)) y:T:$((want / 2))"
"$VND" parse -q --replace -c "$W/two.conf" -o "$W/two.db" x="$W/x.pcap"
check_eq "... --replace x" "$(two)" "$want,x:T:$((want / 2)) y:T:$((want / 2))"
"$VND" parse -q --append -c "$W/two.conf" -o "$W/two.db" y="$W/x.pcap"
check_eq "... --append y" "$(two)" "$((want * 3 / 2)),x:T:$((want / 2)) y:T:$want"
sed 's/Table ID A/Table ID a/' "$W/shared.conf" > "$W/shared-a.conf"
shared "$W/s.db"
"$VND" parse -q --append -c "$W/shared-a.conf" -o "$W/s.db" B="$W/x.pcap"
check_eq "--append B with Table ID a for table A: one vnd_meta row" "$(rows "$W/s.db")" "6000,6000,A:2000 B:4000"

# A parse killed before its first batch is committed leaves the old rows:
# their deletion commits with the first new rows, not before.
shared "$W/s.db"
mkfifo "$W/fifo"
"$VND" parse -q --replace -c "$W/shared.conf" -o "$W/s.db" B=- <"$W/fifo" & pid=$!
exec 3>"$W/fifo"
head -c 30000 "$W/x.pcap" >&3
sleep 1.5
kill -9 $pid; wait $pid 2>/dev/null
exec 3>&-
check_eq "--replace B killed mid-parse: the old rows and counts, 4000" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"

# Two traces into one table in one run; then replace one of them
rm -f "$W/s.db"*
"$VND" parse -q -c "$W/shared.conf" -o "$W/s.db" A="$W/x.pcap" B="$W/x.pcap"
"$VND" parse -q --replace -c "$W/shared.conf" -o "$W/s.db" A="$W/x.pcap"
check_eq "A and B into A in one run, then --replace A: 4000 rows" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"

# Another program adds a trace to the table while a parse of A waits for
# its first packet: A's rows may not take rowids in B's slot; the batch
# fails instead, and nothing is mixed.
rm -f "$W/s.db"* "$W/fifo2"
mkfifo "$W/fifo2"
"$VND" parse -q -c "$W/shared.conf" -o "$W/s.db" A=- <"$W/fifo2" 2>"$W/err" & pid=$!
exec 4>"$W/fifo2"
head -c 24 "$W/x.pcap" >&4          # the header: A is registered, waits for packets
for i in $(seq 50); do [ -s "$W/s.db-wal" ] || [ -s "$W/s.db" ] && break; sleep 0.1; done
sleep 0.5
"$VND" parse -q -c "$W/shared.conf" -o "$W/s.db" B="$W/x.pcap"
tail -c +25 "$W/x.pcap" >&4
exec 4>&-
wait $pid
check_eq "a trace added by another program mid-parse: the parse fails (1)" "$?" 1
check "... saying why" grep -q "another program added a trace to it while trace A" "$W/err"
check_eq "... B's rows are all there, A's are not mixed in" "$(rows "$W/s.db")" "2000,2000,A:0 B:2000"
"$VND" parse -q --replace -c "$W/shared.conf" -o "$W/s.db" A="$W/x.pcap"
check_eq "... and --replace A then gives 4000" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"
"$VND" parse -q --replace -c "$W/shared.conf" -o "$W/s.db" B="$W/x.pcap"
check_eq "... as does --replace B" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"

# A database of an older VND (no vnd_slots): rows of two traces in one
# table cannot be told apart; a table of one trace works as before.
shared "$W/s.db"
sqlite3 "$W/s.db" "UPDATE A SET rowid = rowid - (1 << 44) + 2000 WHERE rowid > (1 << 44); DROP TABLE vnd_slots"
"$VND" parse -q --replace -o "$W/s.db" A="$W/x.pcap" 2>"$W/err"
check "old database, two traces in A: --replace A is refused" test $? -eq 1
check "... saying why" grep -q "table A holds rows of traces A and B that an older VND wrote" "$W/err"
check_eq "... and nothing changed" "$(rows "$W/s.db")" "4000,4000,A:2000 B:2000"
rm -f "$W/o.db"*
"$VND" parse -q -o "$W/o.db" A="$W/x.pcap" && sqlite3 "$W/o.db" "DROP TABLE vnd_slots"
"$VND" parse -q --append -o "$W/o.db" A="$W/x.pcap"
"$VND" parse -q --append -o "$W/o.db" A="$W/x.pcap"
check_eq "old database, A alone: --append twice gives 6000" "$(rows "$W/o.db")" "6000,6000,A:6000"
"$VND" parse -q --replace -o "$W/o.db" A="$W/x.pcap"
check_eq "... and --replace 2000" "$(rows "$W/o.db")" "2000,2000,A:2000"

done_testing
