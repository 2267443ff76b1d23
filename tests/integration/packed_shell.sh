#!/usr/bin/env bash
# packed_shell.sh — SQLite's own shell reads a table server's packed table
# with the loadable extension vnd_packed.so (src/ext/).  A vnd-tabled
# collects IPFIX records (bench/flowsend over the namespace's loopback)
# into a packed trace table; while it runs, `sqlite3 -readonly` with
# `.load vnd_packed` must see every row with the values `vnd query` reads
# (each row's every value quoted by SQLite, compared line by line), and
# without the extension it must fail on the module, not on the file.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-tabled.sh"
EXT=${VND_BUILD:-build}/vnd_packed.so
SEND=${VND_BUILD:-build}/bench/flowsend
VND=${VND_BUILD:-build}/vnd
if ! command -v sqlite3 >/dev/null; then skip "sqlite3 (SQLite's shell) not installed"; done_testing; exit; fi
for f in "$EXT" "$SEND" "$VND"; do
    [ -e "$f" ] || { not_ok "$f is not built (make)"; done_testing; exit 1; }
done
tabled_setup packedsh 47431 120
tabled_start --ipfix-listen 127.0.0.1:47432
check "vnd-tabled collects IPFIX" test $? -eq 0
api POST /v1/traces '{"id":"flows","tag":1,"mode":"ipfix"}'
check_eq "an ipfix trace: 201" "$CODE" 201
# 300 messages of 16 records, observation point 1 (the trace's tag)
nsx "$SEND" -k ipfix -d 127.0.0.1:47432 -n 300 -p 3000 -i 1 -s 5 -f 40 >/dev/null
check "flowsend sent its records" test $? -eq 0
DB=$W/t.db.tenants/default.db
blocks() { sqlite3 -readonly "$DB" 'select coalesce(sum(n), 0) from "flows:packed"' 2>/dev/null; }
for _ in $(seq 50); do [ "$(blocks)" = 4800 ] && break; sleep 0.2; done
check_eq "the table server stored 4,800 rows in blocks" "$(blocks)" 4800

ROW="quote(rowid) || ',' || quote(ts) || ',' || quote(src_ip) || ',' || quote(dst_ip) || ','
  || quote(proto) || ',' || quote(src_port) || ',' || quote(dst_port) || ',' || quote(flags)
  || ',' || quote(start_ts) || ',' || quote(end_ts) || ',' || quote(packets) || ','
  || quote(bytes) || ',' || quote(l2_bytes)"
sqlite3 -readonly -cmd ".load ${EXT%.so}" "$DB" "select $ROW from flows order by rowid" \
    >"$W/shell.txt" 2>"$W/shell.err"
check "sqlite3 -readonly loads vnd_packed and reads the table" test $? -eq 0 \
    || sed 's/^/#   /' "$W/shell.err"
"$VND" query -d "$W/t.db" --tenant default -f csv "select $ROW as r from flows order by rowid" \
    | sed 1d | tr -d '"' >"$W/vnd.txt"
check "vnd query reads it" test "${PIPESTATUS[0]}" -eq 0
check_eq "the shell sees 4,800 rows" "$(wc -l <"$W/shell.txt")" 4800
check "row for row, value for value, the shell and vnd query agree" cmp -s "$W/shell.txt" "$W/vnd.txt" \
    || diff "$W/shell.txt" "$W/vnd.txt" | head -4 | sed 's/^/#   /'
check_eq "count(*) counts the blocks' rows" \
    "$(sqlite3 -readonly -cmd ".load ${EXT%.so}" "$DB" 'select count(*) from flows')" 4800
check_eq "a filter and an aggregate, as vnd query has them" \
    "$(sqlite3 -readonly -csv -cmd ".load ${EXT%.so}" "$DB" \
        'select count(*), sum(bytes), sum(packets) from flows where proto = 6')" \
    "$("$VND" query -d "$W/t.db" --tenant default -f csv \
        'select count(*), sum(bytes), sum(packets) from flows where proto = 6' | sed 1d | tr -d '"')"
out=$(sqlite3 -readonly "$DB" 'select count(*) from flows' 2>&1)
check "without the extension: SQLite names the missing module ($out)" \
    grep -q "no such module: vnd_packed" <<<"$out"
# the extension reads; it writes nothing
out=$(sqlite3 -cmd ".load ${EXT%.so}" "$DB" "insert into flows (ts) values (1)" 2>&1)
check "the packed table takes no INSERT through the extension ($out)" \
    grep -qi "read-only\|readonly\|may not be modified" <<<"$out"
check_eq "and the rows are as they were" "$(blocks)" 4800
done_testing
