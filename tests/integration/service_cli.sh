#!/usr/bin/env bash
# service_cli.sh — the control server's commands without a control server:
# each one's --help, usage errors, a missing token or URL, and "cannot
# reach the control server at URL" when nobody listens (port 1).  The
# end-to-end run against vnd-controld is another test.
source "$(dirname "$0")/../lib.sh"
VND=${VND:-build/vnd}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset VND_URL VND_TOKEN VND_ADMIN_SECRET_FILE
DOWN=http://127.0.0.1:1

# run NAME CMD...: stdout, stderr and status of one run into $TMP/NAME.*
run() { local n=$1; shift; "$@" >"$TMP/$n.out" 2>"$TMP/$n.err"; echo $? >"$TMP/$n.rc"; }
rc() { cat "$TMP/$1.rc"; }
err_has() { grep -qF -- "$2" "$TMP/$1.err"; }

# The commands are listed by `vnd --help`.
"$VND" --help >"$TMP/top"
for c in submit list status stop fetch-pcap admin; do
    check "vnd --help lists $c" grep -q "^  $c " "$TMP/top"
done

# --help: exit 0, a usage line, the options.
for c in submit list status stop fetch-pcap admin; do
    run help "$VND" $c --help
    check_eq "$c --help exits 0" "$(rc help)" 0
    check "$c --help: usage line" grep -q "^usage: vnd $c" "$TMP/help.out"
    check "$c --help: --url" grep -q -- "--url URL" "$TMP/help.out"
done
for c in submit list status stop fetch-pcap; do
    run help "$VND" $c --help
    check "$c --help: --token and VND_TOKEN" bash -c "grep -q -- '--token T' '$TMP/help.out' && grep -q VND_TOKEN '$TMP/help.out'"
done
for c in submit list status stop admin; do
    run help "$VND" $c --help
    check "$c --help: --format table|csv|json" grep -q -- "--format FMT.*table.*csv.*json" "$TMP/help.out"
done
run help "$VND" submit --help
for w in "-c, --collect" "-p, --parse" "--duration S" "collect.conf:3:7"; do
    check "submit --help: $w" grep -qF -- "$w" "$TMP/help.out"
done
run help "$VND" status --help
for w in seen stored sampled_out dropped_queue dropped_kernel complete; do
    check "status --help explains $w" grep -q "^  $w " "$TMP/help.out"
done
run help "$VND" admin --help
check "admin --help: policy ID and --secret-file" \
    bash -c "grep -q 'policy ID' '$TMP/help.out' && grep -q -- '--secret-file' '$TMP/help.out' && grep -q VND_ADMIN_SECRET_FILE '$TMP/help.out'"
run help "$VND" query --help
check "query --help: --diagnosis ID" grep -q -- "--diagnosis ID" "$TMP/help.out"
run help "$VND" diag --help
check "diag --help: --diagnosis ID" grep -q -- "--diagnosis ID" "$TMP/help.out"

# Usage errors exit 2 and say what is wrong.
run u "$VND" submit
check_eq "submit without -c: exit 2" "$(rc u)" 2
check "submit without -c: says -c is required" err_has u "-c COLLECT.conf is required"
run u "$VND" submit -c x.conf --duration 0
check_eq "submit --duration 0: exit 2" "$(rc u)" 2
check "submit --duration 0: said" err_has u "--duration takes seconds > 0"
run u "$VND" status
check_eq "status without ID: exit 2" "$(rc u)" 2
run u "$VND" status a b
check "status with two ids: unexpected 'b'" err_has u "unexpected 'b'"
run u env VND_URL=$DOWN VND_TOKEN=t "$VND" status ../etc
check_eq "status ../etc: exit 2" "$(rc u)" 2
check "status ../etc: not an id" err_has u "diagnosis id '../etc' is not one"
run u "$VND" list -f xml
check "list -f xml: refused" bash -c "[ $(rc u) = 2 ] && grep -q 'table, csv or json' '$TMP/u.err'"
run u "$VND" fetch-pcap d1 tr
check "fetch-pcap without -o: -o FILE is required" err_has u "-o FILE is required"
run u "$VND" fetch-pcap d1 -o x
check_eq "fetch-pcap without a trace: exit 2" "$(rc u)" 2
run u "$VND" admin
check_eq "admin without a subcommand: exit 2" "$(rc u)" 2
run u "$VND" admin frobnicate
check "admin frobnicate: no such subcommand" err_has u "no subcommand 'frobnicate'"
run u "$VND" admin policy
check "admin policy without ID: said" err_has u "policy needs a diagnosis id"
run u "$VND" query 'select 1'
check "query without -d or --diagnosis: said" err_has u "-d TRACES.db or --diagnosis ID is required"
run u "$VND" query -d x.db --diagnosis d1 'select 1'
check "query -d and --diagnosis: not both" err_has u "not both"
run u "$VND" query --diagnosis d1 --tenant t 'select 1'
check "query --diagnosis --tenant: refused" bash -c "[ $(rc u) = 2 ] && grep -q -- '--tenant' '$TMP/u.err'"
run u "$VND" diag rtt -t A
check "diag without -d or --diagnosis: said" err_has u "-d TRACES.db or --diagnosis ID is required"
run u "$VND" diag rtt -t A --diagnosis d1 --show-sql
check "diag --diagnosis --show-sql: refused" bash -c "[ $(rc u) = 2 ] && grep -q -- '--show-sql' '$TMP/u.err'"
run u "$VND" diag groups --fields a --diagnosis d1 --follow
check "diag --diagnosis --follow needs a timed app" err_has u "--follow needs an app with time slots"

# No token, no URL: exit 1, telling what to set.
printf 'VM Node : web1\nCap input\n' >"$TMP/collect.conf"
for cmd in "list" "status d1" "stop d1" "fetch-pcap d1 tr -o $TMP/p.pcap" \
           "submit -c $TMP/collect.conf" "query --diagnosis d1 select" \
           "diag rtt -t A --diagnosis d1"; do
    run t env VND_URL=$DOWN "$VND" $cmd
    check_eq "$cmd without a token: exit 1" "$(rc t)" 1
    check "$cmd without a token: set VND_TOKEN or --token" \
        err_has t "no tenant token: set VND_TOKEN or give --token"
    run t env VND_TOKEN=t "$VND" $cmd
    check "$cmd without a URL: set VND_URL or --url" \
        err_has t "no control server: set VND_URL or give --url"
done
run t "$VND" list --url ftp://x --token t
check "list --url ftp://x: must be http(s)" err_has t "must start with http:// or https://"
run t env VND_URL=$DOWN "$VND" admin list
check "admin list without a secret: --secret-file or VND_ADMIN_SECRET_FILE" \
    err_has t "no admin secret: give --secret-file or set VND_ADMIN_SECRET_FILE"
run t env VND_URL=$DOWN "$VND" admin policy d1 --secret-file "$TMP/nonexistent"
check "admin policy with a missing secret file: cannot read it" \
    err_has t "cannot read the admin secret $TMP/nonexistent"
run t env VND_URL=$DOWN VND_TOKEN=t "$VND" submit -c "$TMP/nonexistent.conf"
check "submit with a missing file: cannot read it" \
    bash -c "[ $(rc t) = 1 ] && grep -qF 'cannot read $TMP/nonexistent.conf' '$TMP/t.err'"

# Nobody at the URL: "cannot reach the control server at URL: ...", exit 1.
echo secret >"$TMP/secret"
for cmd in "list" "status d1" "stop d1" "fetch-pcap d1 tr -o $TMP/p.pcap" \
           "submit -c $TMP/collect.conf --duration 5" "query --diagnosis d1 select" \
           "diag rtt -t A --diagnosis d1" "diag rtt -t A --diagnosis d1 --follow" \
           "admin list --secret-file $TMP/secret" "admin policy d1 --secret-file $TMP/secret"; do
    run r env VND_URL=$DOWN VND_TOKEN=t "$VND" $cmd
    check_eq "$cmd, nobody listening: exit 1" "$(rc r)" 1
    check "$cmd, nobody listening: cannot reach the control server at $DOWN" \
        err_has r "cannot reach the control server at $DOWN: "
done
run r "$VND" list --url $DOWN/ --token t
check "--url and --token work as VND_URL and VND_TOKEN (trailing / dropped)" \
    err_has r "cannot reach the control server at $DOWN: "
check "fetch-pcap that failed leaves no file" bash -c "! ls '$TMP'/p.pcap* 2>/dev/null"

done_testing
