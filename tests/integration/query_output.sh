#!/usr/bin/env bash
# query_output.sh — `vnd query` writes every column of every row
# (docs/output.md): repeated names in JSON get _2, _3; text keeps a NUL
# and bytes that are not UTF-8 (as \xNN); a BLOB is x'...'; JSON, CSV and
# table alike; and the table server's POST /v1/query answers the same.
source "$(dirname "$0")/../lib.sh"
W=$(mktemp -d /tmp/vnd-qout.XXXXXX)
NS=
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
CAP=$(cd "$(dirname "$0")/../golden/captures" && pwd)

"$VND" parse -q -o "$W/t.db" "T=$CAP/basic.pcap"
check "a database to query" test "$("$VND" query -d "$W/t.db" -f csv 'select count(*) > 0 from T' | tail -1)" = 1
j() { "$VND" query -d "$W/t.db" -f json "$1"; }
c() { "$VND" query -d "$W/t.db" -f csv "$1"; }

# repeated names: both columns, the second as a_2
src=$(c "select src_ip from T order by ts limit 1" | tail -1)
dst=$(c "select dst_ip from T order by ts limit 1" | tail -1)
check_eq "json: src_ip as a, dst_ip as a keeps both" \
    "$(j "select src_ip as a, dst_ip as a from T order by ts limit 1")" \
    "$(printf '[\n{"a":"%s","a_2":"%s"}\n]' "$src" "$dst")"
check_eq "json: select 1 as a, 2 as a" "$(j "select 1 as a, 2 as a")" "$(printf '[\n{"a":1,"a_2":2}\n]')"
check_eq "json: a.proto, b.proto of a join" \
    "$(j "select a.proto, b.proto from T a, T b where a.rowid = 1 and b.rowid = 1")" \
    "$(printf '[\n{"proto":%s,"proto_2":%s}\n]' "$(c 'select proto from T where rowid = 1' | tail -1)" \
        "$(c 'select proto from T where rowid = 1' | tail -1)")"
check_eq "csv: the header keeps the names as given" "$(c "select 1 as a, 2 as a")" "$(printf 'a,a\n1,2')"

# text that is not UTF-8, a NUL, a BLOB
check_eq "json: invalid UTF-8 is escaped, not dropped" \
    "$(j "select cast(x'41ff42' as text) as t")" "$(printf '[\n{"t":"A\\\\xffB"}\n]')"
check_eq "csv: invalid UTF-8 is escaped" "$(c "select cast(x'41ff42' as text) as t" | tail -1)" 'A\xffB'
check_eq "json: a NUL does not cut the string" \
    "$(j "select 'a'||char(0)||'b' as n")" "$(printf '[\n{"n":"a\\u0000b"}\n]')"
check_eq "csv: a NUL is \\x00" "$(c "select 'a'||char(0)||'b' as n" | tail -1)" 'a\x00b'
check "table: a NUL is \\x00" grep -q '^a\\x00b *$' <<<"$("$VND" query -d "$W/t.db" "select 'a'||char(0)||'b' as n")"
check_eq "json: a text \\x reads back (\\x5c)" "$(j "select '\\x41' as s" | sed -n 2p)" '{"s":"\\x5cx41"}'
check_eq "json: a blob is hex" "$(j "select x'0a0b' as b" | sed -n 2p)" "{\"b\":\"x'0a0b'\"}"
check_eq "csv: a blob is hex" "$(c "select x'0a0b' as b" | tail -1)" "x'0a0b'"
check "table: a blob is hex" grep -q "^x'0a0b'" <<<"$("$VND" query -d "$W/t.db" "select x'0a0b' as b")"
# a result that fails part way never looks whole
CUT="select 1 as a union all select length(printf('%.*c', 900000000, 'x'))"
check "table: a failed result says it was cut short, not (1 row)" \
    grep -q "^(cut short after 1 row)" <<<"$("$VND" query -d "$W/t.db" "$CUT" 2>/dev/null)"
check "json: a failed result is not valid JSON" \
    bash -c '! "$1" query -d "$2" -f json "$3" 2>/dev/null | jq . >/dev/null 2>&1' _ "$VND" "$W/t.db" "$CUT"

# every row, every column, read back by a JSON parser
if command -v python3 >/dev/null; then
    out=$(j "select src_ip as a, dst_ip as a, cast(x'ff' as text) as a, 'x'||char(0) as b, x'00' as b from T")
    check "json: every row and column parses, values read back" python3 -c '
import json, sys
rows = json.loads(sys.argv[1])
assert len(rows) == int(sys.argv[2]), len(rows)
for r in rows:
    assert list(r) == ["a", "a_2", "a_3", "b", "b_2"], list(r)
    assert r["a_3"] == "\\xff" and r["b"] == "x\0" and r["b_2"] == "x'"'"'00'"'"'"' \
        "$out" "$(c 'select count(*) from T' | tail -1)"
else
    skip "json parsed back (python3 not installed)"
fi

# the table server writes rows as `vnd query` does (a trace of its own,
# in a network namespace of the test's own, as tabled_api.sh)
TABLED=${VND_TABLED:-$VND_BUILD/vnd-tabled}
if [ "$(id -u)" -ne 0 ] || [ ! -x "$TABLED" ] || ! ip netns add "vndqout$$" 2>/dev/null; then
    skip "POST /v1/query writes as vnd query (needs root, network namespaces, vnd-tabled)"
    skip "POST /v1/query CSV"
else
    NS=vndqout$$
    nsx() { ip netns exec "$NS" "$@"; }
    nsx ip link set lo up
    head -c 24 /dev/urandom | base64 >"$W/secret"
    chmod 600 "$W/secret"
    AUTH="Authorization: Bearer $(cat "$W/secret")"
    URL=http://127.0.0.1:7410
    nsx sh -c 'echo $$ >"$0"; exec "$@"' "$W/pid" "$TABLED" --interface lo --db "$W/api.db" \
        --listen 127.0.0.1:7410 --secret-file "$W/secret" --log-file "$W/log" &
    for _ in $(seq 20); do [ -s "$W/pid" ] && break; sleep 0.05; done
    PID=$(cat "$W/pid")
    for _ in $(seq 50); do nsx curl -s -o /dev/null --max-time 1 "$URL/v1/traces" && break; sleep 0.1; done
    nsx curl -s -o /dev/null --max-time 10 -H "$AUTH" --data-binary '{"id":"qo","tag":7}' "$URL/v1/traces"
    SQL="select 1 as a, 2 as a, cast(x'41ff42' as text) as t, 'a'||char(0)||'b' as n, x'0a0b' as b"
    for f in json csv; do
        got=$(nsx curl -s --max-time 10 -H "$AUTH" \
              --data-binary "{\"sql\":\"$SQL\",\"traces\":[\"qo\"],\"format\":\"$f\"}" "$URL/v1/query")
        check_eq "POST /v1/query $f: every column, as vnd query writes it" "$got" \
            "$("$VND" query -d "$W/t.db" -f "$f" "$SQL")"
    done
fi
done_testing
