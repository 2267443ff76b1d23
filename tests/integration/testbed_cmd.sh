#!/usr/bin/env bash
# testbed_cmd.sh — `vnd testbed up/down` (scripts/testbed.sh,
# docs/testbed.md): the bed comes up without a control server, alice's
# client reaches alice's server through alice's ids with its delay in the
# RTT while bob's identical addresses work at the same time, an iperf3 run
# crosses it, nothing of a tenant reaches a mirror port; a second `up` on
# the same folder is refused without harm, `down` leaves no namespace,
# link, bridge, process or file, and a failed `up` (its control server
# exits) cleans up by itself.  Skips without root or when OVS cannot start.
source "$(dirname "$0")/../lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export VND_TABLED=${VND_TABLED:-$VND_BUILD/vnd-tabled}
# The script of this tree, whichever build the vnd binary is from.
export VND_TESTBED_SCRIPT=${VND_TESTBED_SCRIPT:-$TOP/scripts/testbed.sh}

if [ "$(id -u)" -ne 0 ]; then
    skip "vnd testbed: needs root"
    done_testing; exit 0
fi
for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl ip ethtool iperf3 ping jq; do
    if ! command -v $t >/dev/null; then
        skip "vnd testbed: $t is not installed"
        done_testing; exit 0
    fi
done

DIR=$(mktemp -u /tmp/vnd-tbtest.XXXXXX)      # up makes it
DIR2=$(mktemp -u /tmp/vnd-tbtest.XXXXXX)     # the failing up's
PB=$((20000 + $$ % 10000 * 3))               # ports PB..PB+2, PB+3..PB+5
LOG=$(mktemp /tmp/vnd-tbtest-log.XXXXXX)
PIDS=
cleanup() {
    local p
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for d in "$DIR" "$DIR2"; do
        [ -f "$d/state" ] && "$VND" testbed down --dir "$d" >/dev/null 2>&1
    done
    rm -f "$LOG"
}
bed_lock || { not_ok "the OVS bed lock was not free in 600 s"; done_testing; exit 1; }
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 150 >/dev/null & s=$!; wait $s
  echo "not ok - testbed_cmd.sh timed out"; kill -TERM $$ ) 2>/dev/null &
WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null; cleanup' EXIT

DELAY=20
t0=$(date +%s.%N)
"$VND" testbed up --no-controld --dir "$DIR" --delay "$DELAY" --port-base "$PB" >"$LOG" 2>&1 9>&-
rc=$?
t1=$(date +%s.%N)
if [ $rc -ne 0 ] && grep -qE 'did not start|is not installed|ovs-vsctl init failed|cannot add the netdev bridge' "$LOG"; then
    sed 's/^/# /' "$LOG"
    skip "vnd testbed: Open vSwitch cannot start here ($(grep -m1 -oE '[^:]*(did not start|is not installed|init failed|netdev bridge)[^(]*' "$LOG"))"
    done_testing; exit 0
fi
check_eq "vnd testbed up --no-controld" "$rc" 0
if [ "$rc" -ne 0 ]; then
    sed 's/^/# /' "$LOG"; done_testing; exit 1
fi
echo "# up took $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
check "up tells how to use the bed" grep -q "source $DIR/env" "$LOG"
check "up tells how to remove the bed" grep -q "vnd testbed down --dir $DIR" "$LOG"

# --- the files
check_eq "DIR/env is mode 600" "$(stat -c %a "$DIR/env")" 600
# shellcheck disable=SC1091
source "$DIR/env"
for k in VND_URL VND_TOKEN_ALICE VND_TOKEN_BOB VND_ADMIN_SECRET_FILE TB_DELAY_MS TB_LOSS_PCT \
         TB_ALICE_CLIENT TB_ALICE_IDS TB_ALICE_SERVER TB_BOB_CLIENT TB_BOB_IDS TB_BOB_SERVER \
         TB_BRIDGE_HV1 TB_BRIDGE_HV2 TB_OFCTL_HV1 TB_OFCTL_HV2 TB_TABLED_URL_HV1 TB_TABLED_URL_HV2 \
         TB_TABLED_SECRET_HV1 TB_TABLED_SECRET_HV2 TB_ID; do
    [ -n "${!k:-}" ] || missing="${missing:-} $k"
done
check_eq "DIR/env sets VND_URL, both tokens and the TB_* names" "${missing:-}" ""
check_eq "env: VND_URL and the delay" "$VND_URL,$TB_DELAY_MS" "http://127.0.0.1:$PB,$DELAY"
check_eq "the tokens differ" "$([ "$VND_TOKEN_ALICE" != "$VND_TOKEN_BOB" ] && echo yes)" yes
NIB=$DIR/nib.json
check_eq "nib.json: hosts and tenants" "$(jq -c '[.hosts[].name, .tenants[].id]' "$NIB")" \
    '["hv1","hv2","alice","bob"]'
check_eq "nib.json: alice's token hash" "$(jq -r '.tenants[0].token_sha256' "$NIB")" \
    "$(printf %s "$VND_TOKEN_ALICE" | sha256sum | cut -d' ' -f1)"
check_eq "nib.json: hv1 talks to the bed's OVS" \
    "$(jq -r '.hosts[0] | "\(.ofctl) \(.ovsdb) \(.mirror_port) \(.table_server.url)"' "$NIB")" \
    "$TB_OFCTL_HV1 unix:$DIR/ovs/db.sock 9 $TB_TABLED_URL_HV1"
check_eq "nib.json: bob's ports (node.port host ofport mac)" \
    "$(jq -r '.tenants[1].nodes[] | .name as $n | .ports[] | "\($n).\(.name) \(.host) \(.ofport) \(.mac)"' "$NIB" | tr '\n' ' ')" \
    "client.eth0 hv1 5 02:00:00:b1:00:02 ids.in hv1 6 02:00:00:b1:00:01 ids.out hv1 7 02:00:00:b1:00:11 server.eth0 hv2 2 02:00:00:b1:00:12 "
check_eq "nib.json: links" "$(jq -c '[.tenants[0].links[] | .ends]' "$NIB")" \
    '[["client.eth0","ids.in"],["ids.out","server.eth0"]]'

# --- OVS
flows() { ovs-ofctl -O OpenFlow13 dump-flows "$1" --no-stats | sed 's/^ *//' | tr '\n' ';'; }
check_eq "hv1 flows: table 0 goto 1, table 1 NORMAL" "$(flows "$TB_OFCTL_HV1")" \
    "priority=0 actions=goto_table:1;table=1, priority=0 actions=NORMAL;"
check_eq "hv2 flows: the same" "$(flows "$TB_OFCTL_HV2")" \
    "priority=0 actions=goto_table:1;table=1, priority=0 actions=NORMAL;"
nf() { ovs-ofctl -O OpenFlow10 show "$1" | grep -A1 '^ 9(' | grep -c NO_FLOOD; }
check_eq "the mirror ports (9) are no-flood" "$(nf "$TB_OFCTL_HV1") $(nf "$TB_OFCTL_HV2")" "1 1"
for h in 1 2; do
    u=TB_TABLED_URL_HV$h s=TB_TABLED_SECRET_HV$h
    check_eq "table server hv$h answers" \
        "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "${!s}")" "${!u}/v1/traces")" 200
done

# --- traffic: both tenants at the same time, same addresses
nx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
W=$(mktemp -d /tmp/vnd-tbtest-w.XXXXXX)
nx "$TB_ALICE_CLIENT" ping -n -q -c 30 -i 0.05 -W 2 10.0.2.2 >"$W/alice" 2>&1 &
PA=$!
nx "$TB_BOB_CLIENT" ping -n -q -c 30 -i 0.05 -W 2 10.0.2.2 >"$W/bob" 2>&1 &
PBOB=$!
PIDS="$PA $PBOB"
wait $PA; wait $PBOB; PIDS=
recv() { grep -o '[0-9]* received' "$1" | cut -d' ' -f1; }
# the least RTT: the delay line's delay shows in every reply, while a
# stalled CPU (a sanitizer build beside) can push the mean up by seconds
mn() { sed -n 's|.*= \([0-9.]*\)/[0-9.]*/.*|\1|p' "$1"; }
echo "# alice: $(tail -2 "$W/alice" | tr '\n' ' ')"
echo "# bob:   $(tail -2 "$W/bob" | tr '\n' ' ')"
check "alice client -> 10.0.2.2 through alice's ids (>= 25 of 30 answered)" test "$(recv "$W/alice")" -ge 25
check "bob client -> 10.0.2.2 at the same time (>= 25 of 30 answered)" test "$(recv "$W/bob")" -ge 25
check "alice's RTT holds the ${DELAY} ms delay (least $(mn "$W/alice") ms)" \
    awk "BEGIN{exit !($(mn "$W/alice") >= $DELAY && $(mn "$W/alice") < $DELAY + 30)}"
check "bob's RTT holds the ${DELAY} ms delay (least $(mn "$W/bob") ms)" \
    awk "BEGIN{exit !($(mn "$W/bob") >= $DELAY && $(mn "$W/bob") < $DELAY + 30)}"
mac() { nx "$1" ip neigh show "$2" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2; }
check_eq "alice's client and server know alice's ids" \
    "$(mac "$TB_ALICE_CLIENT" 10.0.1.1) $(mac "$TB_ALICE_SERVER" 10.0.2.1)" "02:00:00:a1:00:01 02:00:00:a1:00:11"
check_eq "bob's client and server know bob's ids" \
    "$(mac "$TB_BOB_CLIENT" 10.0.1.1) $(mac "$TB_BOB_SERVER" 10.0.2.1)" "02:00:00:b1:00:01 02:00:00:b1:00:11"

iperf3_server "$TB_ALICE_SERVER"; PIDS=$IPERF_SRV
nx "$TB_ALICE_CLIENT" timeout 20 iperf3 -c 10.0.2.2 -t 2 >"$W/iperf" 2>&1
check "iperf3 -t 2 alice client -> server ($(grep receiver "$W/iperf" | grep -o '[0-9.]* [MG]bits/sec'))" test $? -eq 0
wait $PIDS 2>/dev/null; PIDS=
# No tenant frame reaches a mirror port without a capture rule (no-flood,
# VLAN 4094): what the table servers saw is nothing.
for h in 1 2; do
    u=TB_TABLED_URL_HV$h s=TB_TABLED_SECRET_HV$h
    got=$(curl -s -H "Authorization: Bearer $(cat "${!s}")" "${!u}/v1/traces" | jq -c '[.capture[] | .received] | add')
    check_eq "mirror port of hv$h: nothing flooded to it" "$got" 0
done
rm -rf "$W"

# --- a second up on the same folder is refused and harms nothing
"$VND" testbed up --no-controld --dir "$DIR" --port-base $((PB + 3)) >"$LOG" 2>&1 9>&-
check "up on a folder holding a bed is refused" test $? -ne 0
check "... with a reason" grep -q "not an empty directory" "$LOG"
nx "$TB_ALICE_CLIENT" ping -n -q -c 3 -i 0.1 -W 2 10.0.2.2 >/dev/null
check "... and the bed still works" test $? -eq 0

# --- down
# what_is_left ID DIR: namespaces, links, live processes of the bed.
what_is_left() {
    ip netns list | grep -F "vnd$1" | sed 's/^/netns /'
    ip -o link show | grep -oE "vnd$1[a-z0-9]*" | sed 's/^/link /'
    local p
    for p in $(ps -eo pid=,stat= | awk '$2 !~ /^Z/ {print $1}'); do
        tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$2/" && echo "process $p $(cat "/proc/$p/comm")"
    done
    [ -e "$2" ] && echo "file $2"
}
check_eq "the bed's names and processes exist before down" \
    "$(what_is_left "$TB_ID" "$DIR" | cut -d' ' -f1 | sort | uniq -c | awk '{print $2 "=" ($1 > 0)}' | tr '\n' ' ')" \
    "file=1 link=1 netns=1 process=1 "
# another OVS (another test's bed) running while down runs keeps ovs-netdev
other_ovs() { ps -C ovs-vswitchd -o stat= | grep -qv '^Z'; }
OTHER=0
t0=$(date +%s.%N)
"$VND" testbed down --dir "$DIR" >"$LOG" 2>&1 &
DOWN=$!
while kill -0 "$DOWN" 2>/dev/null; do
    # ours stops during down: count only an ovs-vswitchd not of this bed
    pgrep -f "ovs-vswitchd.*$DIR" >/dev/null || ! other_ovs || OTHER=1
    sleep 0.05
done
wait "$DOWN"; rc=$?
t1=$(date +%s.%N)
check_eq "vnd testbed down" "$rc" 0
echo "# down took $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
check_eq "nothing of the bed remains (namespaces, links, bridges, processes, files)" \
    "$(what_is_left "$TB_ID" "$DIR")" ""
if [ "$OTHER" = 0 ] && ! other_ovs; then
    check "no ovs-netdev left (no other OVS runs)" bash -c '! ip link show ovs-netdev >/dev/null 2>&1'
fi

# --- a failing up removes what it made
VND_CONTROLD=/bin/false "$VND" testbed up --dir "$DIR2" --port-base $((PB + 3)) >"$LOG" 2>&1 9>&-
rc=$?
check "up fails when the control server exits" test $rc -ne 0
check "... saying so" grep -q "vnd-controld exited" "$LOG"
ID2=$(printf %s "$DIR2" | sha256sum | cut -c1-5)
check_eq "... and leaves nothing behind" "$(what_is_left "$ID2" "$DIR2")" ""
done_testing
