# lib-ovs.sh — the OVS test bed of DESIGN.md for tests and benches: a
# private ovsdb-server/ovs-vswitchd (userspace datapath), namespaces as
# VMs, veth pairs as their NICs, one mirror port, VND's two-table layout.
#
#   source lib-ovs.sh
#   ovs_bed_up || skip ...     # everything below, or 1 with $OVS_WHY
#   ovs_capture_rule COOKIE IN_PORT TAG...   # table 0: copy tagged to mirror, goto 1
#   ovs_rule_packets COOKIE    # n_packets of that rule
#   ovs_bed_down               # (also from the EXIT trap) removes all of it
#
# Names carry the shell's pid so parallel runs never collide.  Traffic goes
# only between the bed's namespaces.
B_ID=$$
B_DIR=
B_BR=vbr$B_ID
B_H1=vh1$B_ID B_H2=vh2$B_ID B_TB=vtb$B_ID        # namespaces: two VMs, the table server
B_P1=vp1$B_ID B_P2=vp2$B_ID B_PM=vpm$B_ID        # OVS ports (root namespace)
B_MIRROR=mirror0                                   # the capture end, inside $B_TB
B_IP1=10.77.0.1 B_IP2=10.77.0.2
B_OTHER_OVS=0

ofctl() { ovs-ofctl -O OpenFlow13 "$@"; }
vsctl() { ovs-vsctl --db="unix:$B_DIR/db.sock" --timeout=10 "$@"; }

_b_veth() {   # NS IFNAME-in-ns PEER-in-root
    ip link add "${3}n" type veth peer name "$3" || return 1
    ip link set "${3}n" netns "$1" && ip -n "$1" link set "${3}n" name "$2" || return 1
    local x="ip netns exec $1"
    $x ethtool -K "$2" tx off rx off >/dev/null 2>&1
    ethtool -K "$3" tx off rx off >/dev/null 2>&1
    $x ip link set "$2" up && ip link set "$3" up
}

# Another live ovs-vswitchd on the machine (zombies do not count).
_b_other_ovs() { ps -C ovs-vswitchd -o stat= 2>/dev/null | grep -qv '^Z'; }

ovs_bed_up() {
    OVS_WHY=
    local schema=/usr/share/openvswitch/vswitch.ovsschema
    if [ "$(id -u)" -ne 0 ]; then OVS_WHY="needs root"; return 1; fi
    for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl; do
        command -v $t >/dev/null || { OVS_WHY="$t is not installed"; return 1; }
    done
    [ -f "$schema" ] || { OVS_WHY="no $schema"; return 1; }
    bed_lock || { OVS_WHY="another OVS test bed held /tmp/vnd-ovs-bed.lock for 600 s"; return 1; }
    _b_other_ovs && B_OTHER_OVS=1
    B_DIR=$(mktemp -d /tmp/vnd-ovs.XXXXXX)
    export OVS_RUNDIR=$B_DIR OVS_LOGDIR=$B_DIR OVS_DBDIR=$B_DIR
    ovsdb-tool create "$B_DIR/conf.db" "$schema" >/dev/null || { OVS_WHY="ovsdb-tool create failed"; return 1; }
    ovsdb-server "$B_DIR/conf.db" --remote="punix:$B_DIR/db.sock" --pidfile="$B_DIR/ovsdb.pid" \
        --unixctl="$B_DIR/ovsdb.ctl" --log-file="$B_DIR/ovsdb.log" --detach --no-chdir 2>/dev/null 9>&- \
        || { OVS_WHY="ovsdb-server did not start"; return 1; }
    vsctl --no-wait init || { OVS_WHY="ovs-vsctl init failed"; return 1; }
    ovs-vswitchd "unix:$B_DIR/db.sock" --pidfile="$B_DIR/vswitchd.pid" \
        --unixctl="$B_DIR/vswitchd.ctl" --log-file="$B_DIR/vswitchd.log" --detach --no-chdir 2>/dev/null 9>&- \
        || { OVS_WHY="ovs-vswitchd did not start (see $B_DIR/vswitchd.log)"; return 1; }
    vsctl add-br "$B_BR" -- set bridge "$B_BR" datapath_type=netdev \
        || { OVS_WHY="cannot add a netdev bridge"; return 1; }
    for ns in $B_H1 $B_H2 $B_TB; do ip netns add $ns || { OVS_WHY="ip netns add failed"; return 1; }; done
    _b_veth $B_H1 eth0 $B_P1 && _b_veth $B_H2 eth0 $B_P2 && _b_veth $B_TB $B_MIRROR $B_PM \
        || { OVS_WHY="veth setup failed"; return 1; }
    ip -n $B_H1 addr add $B_IP1/24 dev eth0
    ip -n $B_H2 addr add $B_IP2/24 dev eth0
    for ns in $B_H1 $B_H2 $B_TB; do ip -n $ns link set lo up; done
    # IPv6 would add router/neighbour chatter to the counts.
    for ns in $B_H1 $B_H2; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
    ip netns exec $B_TB sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    vsctl add-port "$B_BR" $B_P1 -- set interface $B_P1 ofport_request=1 \
        -- add-port "$B_BR" $B_P2 -- set interface $B_P2 ofport_request=2 \
        -- add-port "$B_BR" $B_PM -- set interface $B_PM ofport_request=9 \
        || { OVS_WHY="cannot add ports"; return 1; }
    # Only tagged copies reach the mirror port: NORMAL would flood to it.
    # OpenFlow 1.0: 1.1+ have no NO_FLOOD bit, and `-O OpenFlow13 mod-port
    # ... no-flood` succeeds without setting anything.
    ovs-ofctl -O OpenFlow10 mod-port "$B_BR" $B_PM no-flood \
        && ovs-ofctl -O OpenFlow10 show "$B_BR" | grep -A1 "^ 9(" | grep -q NO_FLOOD \
        || { OVS_WHY="mod-port no-flood failed"; return 1; }
    ofctl del-flows "$B_BR"
    ofctl add-flow "$B_BR" "table=0,priority=0,actions=goto_table:1" \
        && ofctl add-flow "$B_BR" "table=1,priority=0,actions=NORMAL" \
        || { OVS_WHY="cannot install the two-table layout"; return 1; }
    return 0
}

# ovs_capture_rule COOKIE IN_PORT TAG [TAG...]: one copy per tag.
ovs_capture_rule() {
    local cookie=$1 port=$2; shift 2
    local a="" t
    for t in "$@"; do a="${a}push_vlan:0x8100,set_field:$((4096 + t))->vlan_vid,output:9,pop_vlan,"; done
    ofctl add-flow "$B_BR" "table=0,priority=100,cookie=$cookie,in_port=$port,actions=${a}goto_table:1"
}

ovs_del_rules() { ofctl del-flows "$B_BR" "cookie=$1/-1"; }

ovs_rule_packets() {
    ofctl dump-flows "$B_BR" "cookie=$1/-1" | grep -o 'n_packets=[0-9]*' | head -1 | cut -d= -f2
}

ovs_bed_down() {
    [ -z "$B_DIR" ] && return 0
    for p in vswitchd ovsdb; do
        [ -f "$B_DIR/$p.pid" ] && kill "$(cat "$B_DIR/$p.pid")" 2>/dev/null
    done
    sleep 0.3
    for p in vswitchd ovsdb; do
        [ -f "$B_DIR/$p.pid" ] && kill -9 "$(cat "$B_DIR/$p.pid")" 2>/dev/null
    done
    for ns in $B_H1 $B_H2 $B_TB; do ip netns del $ns 2>/dev/null; done
    for l in $B_P1 $B_P2 $B_PM $B_BR; do ip link del $l 2>/dev/null; done
    # The netdev datapath leaves ovs-netdev behind; another OVS may use it.
    [ "$B_OTHER_OVS" = 0 ] && ! _b_other_ovs && ip link del ovs-netdev 2>/dev/null
    rm -rf "$B_DIR"
    B_DIR=
}
