#!/usr/bin/env bash
# tso_mirror.sh — does Open vSwitch's userspace TSO make a mirror, or one
# cut to 128 bytes in the switch, cheap for the tenant flow?  A private
# OVS (userspace datapath), one netdev bridge, a client and a server
# namespace on veths, a mirror port (a veth whose peer tcpdump reads,
# snaplen 256), one iperf3 TCP flow for SECONDS; the same four rule sets
# with userspace TSO off (offloads off on every veth, as the test bed runs)
# and on (other_config:userspace-tso-enable: 64 KB segments cross the
# switch whole):
#   none        client -> server
#   full        client -> server, mirror
#   trunc128    client -> server, mirror cut to 128 bytes (max_len=128)
#   truncfirst  the cut mirror output first, then the server's
# Prints the median of REPS runs (round-robin) of the tenant's Mbit/s,
# ovs-vswitchd's CPU and the copies the mirror port sent (a 64 KB segment
# is one copy), and each configuration's drop against none.
#   bench/tso_mirror.sh [REPS] [SECONDS]      (root; OVS, iperf3, tcpdump, jq)
set -u
REPS=${1:-3}
SECS=${2:-4}
[ "$(id -u)" -eq 0 ] || { echo "tso_mirror: needs root"; exit 0; }
for t in ovs-vswitchd ovsdb-server iperf3 tcpdump jq ethtool; do
    command -v $t >/dev/null || { echo "tso_mirror: $t is not installed"; exit 0; }
done
exec 9>/tmp/vnd-ovs-bed.lock
flock 9                          # one OVS bed at a time on this machine
D=$(mktemp -d /tmp/vnd-tso.XXXXXX)
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D    # the OVS tools talk to this bed
PIDS=()
V() { ovs-vsctl --db="unix:$D/db.sock" "$@"; }
down() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in vswitchd ovsdb; do [ -f "$D/$p.pid" ] && kill "$(cat "$D/$p.pid")" 2>/dev/null; done
    PIDS=()
    sleep 0.5
    rm -f "$D"/*.pid
    ip netns del vndtso-a 2>/dev/null; ip netns del vndtso-b 2>/dev/null
    ip link del vndtso-ra 2>/dev/null; ip link del vndtso-rb 2>/dev/null
    ip link del vndtso-m0 2>/dev/null
}
trap 'down; rm -rf "$D"' EXIT
offloads_off() { ethtool -K "$1" tx off rx off >/dev/null 2>&1; }

# up TSO: the bed, with userspace TSO true or false
up() {
    local tso=$1 x
    rm -f "$D/conf.db"
    ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb.pid" \
        --unixctl="$D/ovsdb.ctl" --detach --no-chdir --log-file="$D/ovsdb.log" 2>/dev/null
    V --no-wait init
    V --no-wait set Open_vSwitch . other_config:userspace-tso-enable="$tso"
    ovs-vswitchd "unix:$D/db.sock" --pidfile="$D/vswitchd.pid" --unixctl="$D/vswitchd.ctl" \
        --log-file="$D/vswitchd.log" --detach --no-chdir 2>/dev/null
    V add-br vndtsobr -- set bridge vndtsobr datapath_type=netdev
    for x in a b; do
        ip netns add vndtso-$x
        ip link add vndtso-r$x type veth peer name eth0 netns vndtso-$x
        ip -n vndtso-$x addr add "10.99.0.$([ $x = a ] && echo 1 || echo 2)/24" dev eth0
        ip -n vndtso-$x link set eth0 up
        ip -n vndtso-$x link set lo up
        ip link set vndtso-r$x up
        if [ "$tso" = false ]; then
            offloads_off vndtso-r$x
            ip netns exec vndtso-$x ethtool -K eth0 tx off rx off >/dev/null 2>&1
        fi
        V add-port vndtsobr vndtso-r$x
    done
    ip link add vndtso-m0 type veth peer name vndtso-m1
    ip link set vndtso-m0 up
    ip link set vndtso-m1 up
    [ "$tso" = false ] && { offloads_off vndtso-m0; offloads_off vndtso-m1; }
    V add-port vndtsobr vndtso-m0 -- set interface vndtso-m0 ofport_request=9
    PA=$(V get interface vndtso-ra ofport)
    PB=$(V get interface vndtso-rb ofport)
    ip netns exec vndtso-b iperf3 -s -D -p 5299 --pidfile "$D/iperf.pid"
    sleep 0.5
    PIDS+=("$(cat "$D/iperf.pid")")
}

# run RULES: "Mbit/s cores" of one iperf3 run under the forward rule RULES
run() {
    ovs-ofctl del-flows vndtsobr || exit 1
    ovs-ofctl add-flows vndtsobr - <<<"in_port=$PA,actions=$1
in_port=$PB,actions=output:$PA
priority=0,actions=drop"
    tcpdump -i vndtso-m1 -s 256 -w /dev/null -n 2>/dev/null &
    local t=$! vs c0 c1 mbit k0 k1
    sleep 0.5
    k0=$(V get interface vndtso-m0 statistics:tx_packets)
    vs=$(cat "$D/vswitchd.pid")
    c0=$(awk '{print $14 + $15}' "/proc/$vs/stat")
    mbit=$(ip netns exec vndtso-a iperf3 -c 10.99.0.2 -p 5299 -t "$SECS" -J 2>/dev/null \
        | jq '.end.sum_received.bits_per_second / 1e6')
    c1=$(awk '{print $14 + $15}' "/proc/$vs/stat")
    sleep 5.5                   # the interface statistics' refresh
    k1=$(V get interface vndtso-m0 statistics:tx_packets)
    kill "$t"; wait "$t" 2>/dev/null
    awk -v m="${mbit:-0}" -v c=$((c1 - c0)) -v s="$SECS" -v k="$(getconf CLK_TCK)" \
        -v n=$((k1 - k0)) 'BEGIN { printf "%.0f %.2f %d\n", m, c / k / s, n }'
}

NAMES=(none full trunc128 truncfirst)
median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "# tso_mirror: one iperf3 flow for $SECS s, median of $REPS runs; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-5s %-11s %10s %9s %9s %8s\n' TSO rules "Mbit/s" "vswitchd" "copies" "drop"
for tso in false true; do
    up "$tso"
    RULES=("output:$PB" "output:$PB,output:9" "output:$PB,output(port=9,max_len=128)"
           "output(port=9,max_len=128),output:$PB")
    for r in $(seq "$REPS"); do
        for i in "${!NAMES[@]}"; do run "${RULES[$i]}" >>"$D/$tso-${NAMES[$i]}"; done
    done
    base=$(cut -d' ' -f1 "$D/$tso-none" | median)
    for n in "${NAMES[@]}"; do
        m=$(cut -d' ' -f1 "$D/$tso-$n" | median)
        c=$(cut -d' ' -f2 "$D/$tso-$n" | median)
        k=$(cut -d' ' -f3 "$D/$tso-$n" | median)
        printf '%-5s %-11s %10s %9s %9s %7s%%\n' "$tso" "$n" "$m" "$c" "$k" \
            "$(awk -v b="$base" -v m="$m" 'BEGIN { printf "%.1f", b ? 100 * (b - m) / b : 0 }')"
    done
    down
done
