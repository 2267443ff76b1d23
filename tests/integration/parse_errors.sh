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

# --- 2000 columns work, 2001 are refused at the field that makes one too many
python3 - "$W" <<'EOF'
import sys
w = sys.argv[1]
cols = ["ip.src as c0"] + ["tcp.src as c%d" % i for i in range(1, 2000)]
open(w + "/wide.conf", "w").write("Trace ID all\nTable ID wide\nFields: " + ",\n  ".join(cols) + "\n")
open(w + "/wider.conf", "w").write("Trace ID all\nTable ID wide\nFields: " + ",\n  ".join(cols)
                                   + ",\n  tcp.dst as c2000\n")
EOF
"$VND" parse -q -c "$W/wide.conf" -o "$W/wide.db" "$W/x.pcap" 2>"$W/err"
check "2000 columns: parse exits 0" test $? -eq 0
check_eq "... every row, the last column filled" "$(q "$W/wide.db" 'select count(*), min(c1999) from wide')" "2000,80"
"$VND" parse -q -c "$W/wider.conf" -o "$W/wider.db" "$W/x.pcap" 2>"$W/err"
check "2001 columns: refused" test $? -eq 1
check "... at the field that makes column 2001, naming the limit" \
    grep -q "wider.conf:2003:14: too many columns: c2000 would be column 2001, and a table holds at most 2000" "$W/err"

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

done_testing
