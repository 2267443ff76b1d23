#!/usr/bin/env bash
# man_pages.sh — the man pages stay true to --help: every subcommand of
# `vnd --help` has its section in man/vnd.1 and every long option its
# --help prints appears in that section; the same for vnd-tabled(8) and
# vnd-controld(8); every key of dist/*.conf is an option of its daemon;
# every page renders without groff warnings.  (man/help2roff.py remakes
# vnd.1's COMMANDS section; docs/packaging.md.)
source "$(dirname "$0")/../lib.sh"
VND=${VND:-build/vnd}
BIN=$(dirname "$VND")
TABLED=${VND_TABLED:-$BIN/vnd-tabled}
CONTROLD=${VND_CONTROLD:-$BIN/vnd-controld}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

longopts() { grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
# The roff source as plain text: \- and \e unescaped, fonts dropped.
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' "$1"; }
# One subsection (.SS "vnd SUB") of vnd.1, up to the next .SS or .SH.
section() { plain man/vnd.1 | awk -v h=".SS \"vnd $1\"" '$0 == h {on=1; next} on && /^\.S[SH] / {exit} on'; }

cmds=$("$VND" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
check "vnd --help lists commands" test -n "$cmds"
for c in $cmds "demo lb"; do
    # shellcheck disable=SC2086
    "$VND" $c --help >"$TMP/help" 2>&1
    section "$c" >"$TMP/sec"
    if [ ! -s "$TMP/sec" ]; then not_ok "vnd.1 has a section for vnd $c"; continue; fi
    missing=$(longopts <"$TMP/help" | while read -r o; do grep -q -- "$o" "$TMP/sec" || echo "$o"; done)
    check_eq "vnd.1: every option of vnd $c --help is in its section" "$missing" ""
done

for d in "$TABLED:man/vnd-tabled.8:dist/tabled.conf" "$CONTROLD:man/vnd-controld.8:dist/controld.conf"; do
    IFS=: read -r prog page conf <<<"$d"
    n=$(basename "$prog")
    "$prog" --help >"$TMP/help" 2>&1
    plain "$page" >"$TMP/page"
    missing=$(longopts <"$TMP/help" | while read -r o; do grep -q -- "$o" "$TMP/page" || echo "$o"; done)
    check_eq "$page: every option of $n --help" "$missing" ""
    # Every key of the shipped configuration (set or commented) is an option.
    keys=$(sed -n 's/^#\{0,1\}\([a-z][a-z-]*\) = .*/\1/p' "$conf")
    unknown=$(for k in $keys; do grep -q -- "--$k\b" "$TMP/help" || echo "$k"; done)
    check_eq "$conf: every key is an option of $n" "$unknown" ""
    check "$conf names options ($n)" test -n "$keys"
done

if command -v man >/dev/null; then
    for p in man/*.[158]; do
        w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
        check_eq "$p renders without warnings" "$w" ""
    done
    # The rendered page, not only the source, shows every option.
    LC_ALL=C MANWIDTH=250 man -l man/vnd.1 2>/dev/null >"$TMP/rendered"
    missing=$(for c in $cmds "demo lb"; do "$VND" $c --help 2>&1; done | longopts |
              while read -r o; do grep -q -- "$o" "$TMP/rendered" || echo "$o"; done)
    check_eq "man -l man/vnd.1 shows every option" "$missing" ""
else
    skip "man not installed"
fi
done_testing
