#!/usr/bin/env bash
# golden.sh — every line of MANIFEST: parse the capture with the
# configuration, dump the table as CSV, compare with the expected rows.
#   tests/golden/golden.sh          run (TAP lines)
#   tests/golden/golden.sh -u       rewrite the expected files (review the diff!)
source "$(dirname "$0")/../lib.sh"
G=$(cd "$(dirname "$0")" && pwd)
VND=${VND:-$G/../../build/vnd}
update=0; [ "${1:-}" = -u ] && update=1
W=$(mktemp -d /tmp/vnd-golden.XXXXXX)
trap 'rm -rf "$W"' EXIT
while read -r name cap conf expected; do
    [[ -z $name || $name == \#* ]] && continue
    args=(); [ "$conf" != - ] && args=(-c "$G/$conf")
    if ! "$VND" parse -q "${args[@]}" -o "$W/$name.db" "$name=$G/$cap" 2>"$W/err"; then
        not_ok "$name: vnd parse failed: $(cat "$W/err")"; continue
    fi
    "$VND" query -d "$W/$name.db" -f csv "select * from \"$name\"" > "$W/$name.csv"
    if [ $update = 1 ]; then
        cp "$W/$name.csv" "$G/$expected"; ok "$name: expected rows rewritten"
    elif diff -u "$G/$expected" "$W/$name.csv" > "$W/diff"; then
        ok "$name: $(($(wc -l < "$W/$name.csv") - 1)) rows as expected"
    else
        not_ok "$name: rows differ from $expected"; sed 's/^/#   /' "$W/diff" | head -30
    fi
done < "$G/MANIFEST"
done_testing
