#!/usr/bin/env bash
# testbed.sh — the VND test bed (DESIGN.md "The test bed"; docs/testbed.md):
# two hosts as two Open vSwitch bridges joined like a physical link, two
# tenants with the same addresses, each with a client VM, an IDS (a router
# with tc netem delay and loss) and a server VM, a table server per host, a
# control server, the NIB file and an env file.  Like OVS's ovs-sandbox it
# is a script driving ip, ovs-vsctl, ovs-ofctl and tc.
#
#   testbed.sh up [--dir DIR] [--delay MS] [--loss PCT] [--port-base N] [--no-controld]
#   testbed.sh down --dir DIR
#
# `vnd testbed ...` runs this script (src/cli/cmd_testbed.c).  Every name
# carries a short id made from DIR, so two beds never collide; DIR/state
# lists everything made, so `down` removes exactly that, also after a
# partial `up` (which cleans up by itself on any failure).
set -u
PROG="vnd testbed"

usage() {
    cat <<'EOF'
usage: vnd testbed up [--dir DIR] [--delay MS] [--loss PCT] [--port-base N] [--no-controld]
                     [--chain MBIT] [--pg] [--budget PCT]
       vnd testbed down --dir DIR

Builds (up) or removes (down) the VND test bed on this machine (root only):

  hv1, hv2      two "hosts": Open vSwitch bridges (userspace datapath) of a
                private ovsdb-server/ovs-vswitchd (run directory DIR/ovs),
                joined by a veth pair on OpenFlow port 10 of each (a trunk:
                tenant VLAN tags cross it).  Table 0 holds only
                `priority=0,actions=goto_table:1`, table 1 `NORMAL`.
                OpenFlow port 9 of each is the mirror port (no-flood, access
                port of the unused VLAN 4094); its other end stays in the
                root namespace for the table server.
  alice, bob    two tenants with the SAME addresses, kept apart by VLANs
                (alice 101/102, bob 201/202):
                  client  10.0.1.2/24   namespace on hv1, via the ids
                  ids     10.0.1.1 "in", 10.0.2.1 "out": a router on hv1
                          whose "out" has tc netem delay and loss (where
                          the kernel lacks netem: a delay line, a small
                          python3 program between "out" and OVS)
                  server  10.0.2.2/24   namespace on hv2
  table servers vnd-tabled per host on 127.0.0.1:PORT_BASE+1 (hv1) and
                PORT_BASE+2 (hv2), capturing that host's mirror port, with
                their sFlow collector on UDP port +10 and IPFIX on +20
  control       vnd-controld on 127.0.0.1:PORT_BASE (unless --no-controld)
  DIR/nib.json  the NIB (src/control/nib.h) describing all of it
  DIR/env       sourceable: VND_URL, VND_TOKEN_ALICE, VND_TOKEN_BOB,
                VND_ADMIN_SECRET_FILE and TB_* names for tests
  DIR/state     what was made, for `down`

options of up:
  --dir DIR       where the bed lives (must be new or empty; default:
                  mktemp -d /tmp/vnd-testbed.XXXXXX, printed)
  --delay MS      delay on each ids' output, in ms (default 5)
  --loss PCT      loss on each ids' output, in percent (default 1)
  --port-base N   TCP ports N (control), N+1, N+2 (table servers)
                  on 127.0.0.1 (default 7440)
  --no-controld   do not start the control server
  --chain MBIT    also tenant carol, the middlebox chain of paper §5.1.1:
                  clients c1, c2 -> re -> ids -> server, the ids limited
                  to MBIT Mbit/s toward the clients, the re to twice that
                  (tc tbf); what `vnd demo --live` runs on
  --pg            the distributed mode (docs/distributed.md): a PostgreSQL
                  per host that its table server writes the traces into
                  (--trace-store), and a coordinator PostgreSQL the control
                  server runs tenant SQL and the apps on (--coordinator);
                  each prepared with vnd-pg-setup, Unix sockets only (in
                  a directory of /tmp that PostgreSQL's user can reach;
                  DIR/pg links to it)
  --budget PCT    a CPU budget on each host in the NIB: ovs-vswitchd and the
                  table server together may take PCT% of one core; the
                  control server adapts the switch's flow sampling and
                  sFlow rate of the running traces to it (docs/cost.md)

down removes every namespace, link, bridge, daemon and file of the bed in
DIR, then DIR.

Programs: vnd-tabled and vnd-controld are $VND_TABLED / $VND_CONTROLD, else
next to the vnd binary, else on PATH.  Needs openvswitch-switch, iproute2,
ethtool, curl (and python3 without netem); --pg needs postgresql and
postgresql-contrib (postgres_fdw).  docs/testbed.md has the details.
EOF
}

say() { echo "$PROG: $*"; }
die() { echo "$PROG: $*" >&2; exit 1; }

# ------------------------------------------------------------------ options
CMD=${1:-}
[ $# -gt 0 ] && shift
DIR= DELAY=5 LOSS=1 PORT_BASE=7440 CONTROLD=1 CHAIN= PG=0 BUDGET=
case $CMD in
-h|--help|help) usage; exit 0 ;;
up|down) ;;
"") usage >&2; exit 2 ;;
*) echo "$PROG: unknown command '$CMD' (up or down; try --help)" >&2; exit 2 ;;
esac
while [ $# -gt 0 ]; do
    case $1 in
    -h|--help) usage; exit 0 ;;
    --dir) DIR=${2:?--dir needs a directory}; shift ;;
    --delay) DELAY=${2:?--delay needs milliseconds}; shift ;;
    --loss) LOSS=${2:?--loss needs a percentage}; shift ;;
    --port-base) PORT_BASE=${2:?--port-base needs a port}; shift ;;
    --no-controld) CONTROLD=0 ;;
    --chain) CHAIN=${2:?--chain needs the IDS capacity in Mbit/s}; shift ;;
    --pg) PG=1 ;;
    --budget) BUDGET=${2:?--budget needs a percentage of one core}; shift ;;
    *) echo "$PROG: unexpected '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || die "must run as root (it creates namespaces, links and an Open vSwitch)"
[[ $DELAY =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--delay takes milliseconds, e.g. 5 or 0.5"
[[ $LOSS =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk "BEGIN{exit !($LOSS <= 100)}" \
    || die "--loss takes a percentage from 0 to 100"
{ [ -z "$CHAIN" ] || { [[ $CHAIN =~ ^[0-9]+$ ]] && [ "$CHAIN" -ge 1 ]; }; } \
    || die "--chain takes the ids's capacity in Mbit/s, e.g. 60"
[[ $PORT_BASE =~ ^[0-9]+$ ]] && [ "$PORT_BASE" -ge 1 ] && [ "$PORT_BASE" -le 65533 ] \
    || die "--port-base takes a TCP port from 1 to 65533"

# --------------------------------------------------------------- the names
# set_names: every name of the bed from DIR (absolute) and its id.
set_names() {
    ID=$(printf %s "$DIR" | sha256sum | cut -c1-5)
    OVSDIR=$DIR/ovs
    BR1=vnd${ID}h1 BR2=vnd${ID}h2                      # the hosts' bridges
    TRK1=vnd${ID}trk1 TRK2=vnd${ID}trk2                # the "physical link"
    MIR1=vnd${ID}mir1 MIR2=vnd${ID}mir2                # OVS ends of the mirror ports
    CAP1=vnd${ID}cap1 CAP2=vnd${ID}cap2                # capture ends (root namespace)
    OFCTL1=unix:$OVSDIR/$BR1.mgmt OFCTL2=unix:$OVSDIR/$BR2.mgmt
    OVSDB=unix:$OVSDIR/db.sock
    NS_PREFIX=vnd$ID
}

# ----------------------------------------------------------------- teardown
# A pid is ours only while its command line names DIR (every daemon of the
# bed has DIR in its arguments): a stale pid reused by another process is
# never signalled.
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$DIR/"; }

stop_pid() {  # PID: TERM, up to 3 s, then KILL
    local p=$1 i
    ours "$p" || return 0
    kill -TERM "$p" 2>/dev/null
    for i in $(seq 30); do ours "$p" || return 0; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    for i in $(seq 20); do ours "$p" || return 0; sleep 0.1; done
}

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

# Another live ovs-vswitchd on the machine (zombies do not count).
other_ovs() { ps -C ovs-vswitchd -o stat= 2>/dev/null | grep -qv '^Z'; }

# teardown: removes what DIR/state lists, in an order that works: daemons,
# Open vSwitch, namespaces (their veth ends go with them), root links, the
# netdev datapath's tap devices, then DIR.
teardown() {
    local st=$DIR/state kind name pid p
    [ -f "$st" ] || return 0
    while read -r kind name pid; do
        [ "$kind" = pid ] && stop_pid "$pid"
    done <"$st"
    while read -r kind name pid; do    # PostgreSQL instances: pg DATADIR
        [ "$kind" = pg ] && [ -f "$name/postmaster.pid" ] &&
            runuser -u postgres -- "$PGBIN/pg_ctl" -D "$name" -m fast -w -t 10 stop >/dev/null 2>&1
    done <"$st"
    while read -r kind name pid; do    # their directory, outside DIR
        [ "$kind" = pgroot ] && case $name in /tmp/vnd-testbed-pg.*) rm -rf "$name" ;; esac
    done <"$st"
    if grep -q '^ovs ' "$st"; then
        for p in vswitchd ovsdb; do
            [ -f "$OVSDIR/$p.pid" ] && stop_pid "$(cat "$OVSDIR/$p.pid")"
        done
    fi
    while read -r kind name pid; do
        [ "$kind" = ns ] && ip netns del "$name" 2>/dev/null
    done <"$st"
    while read -r kind name pid; do
        case $kind in
        link|bridge) ip link del "$name" 2>/dev/null ;;   # bridge: the tap named after it
        esac
    done <"$st"
    # The netdev datapath leaves ovs-netdev behind; another OVS may use it.
    grep -q '^ovs ' "$st" && ! other_ovs && ip link del ovs-netdev 2>/dev/null
    rm -rf "$DIR"
}

# ------------------------------------------------------------------- down
if [ "$CMD" = down ]; then
    [ -n "$DIR" ] || die "down needs --dir DIR"
    [ -d "$DIR" ] || die "$DIR: no such directory"
    DIR=$(cd "$DIR" && pwd)
    [ -f "$DIR/state" ] || die "$DIR is not a test bed (no $DIR/state)"
    set_names
    say "removing the bed in $DIR (id $ID)"
    teardown
    [ -e "$DIR" ] && die "could not remove $DIR"
    say "removed"
    exit 0
fi

# --------------------------------------------------------------------- up
for t in ip tc ethtool curl sha256sum ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl ovs-appctl; do
    command -v "$t" >/dev/null || die "$t is not installed (scripts/install-deps.sh)"
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[ -f "$SCHEMA" ] || die "no $SCHEMA: is openvswitch-switch installed?"

# find_prog NAME VAR: $VAR, else next to vnd ($VND_BIN_DIR), else PATH.
find_prog() {
    local name=$1 given=${!2:-}
    if [ -n "$given" ]; then [ -x "$given" ] && echo "$given"; return; fi
    if [ -n "${VND_BIN_DIR:-}" ] && [ -x "$VND_BIN_DIR/$name" ]; then echo "$VND_BIN_DIR/$name"; return; fi
    command -v "$name"
}
TABLED=$(find_prog vnd-tabled VND_TABLED) \
    || die "vnd-tabled not found (set VND_TABLED, build it next to vnd, or put it on PATH)"
if [ "$CONTROLD" = 1 ]; then
    CONTROLD_BIN=$(find_prog vnd-controld VND_CONTROLD) \
        || die "vnd-controld not found (set VND_CONTROLD, build it next to vnd, or put it on PATH; --no-controld builds the bed without it)"
fi
if [ "$PG" = 1 ]; then
    [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || die "--pg: PostgreSQL is not installed (postgresql)"
    ls /usr/share/postgresql/*/extension/postgres_fdw.control >/dev/null 2>&1 \
        || die "--pg: postgres_fdw is not installed (postgresql-contrib)"
    id postgres >/dev/null 2>&1 || die "--pg: no postgres user to run PostgreSQL as"
    PG_SETUP=$(dirname "$0")/vnd-pg-setup
    [ -x "$PG_SETUP" ] || PG_SETUP=$(command -v vnd-pg-setup) \
        || die "--pg: vnd-pg-setup not found (next to this script or on PATH)"
fi
for p in $PORT_BASE $((PORT_BASE + 1)) $((PORT_BASE + 2)); do
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . \
        && die "127.0.0.1:$p is in use (another bed? choose --port-base)"
done

if [ -z "$DIR" ]; then
    DIR=$(mktemp -d /tmp/vnd-testbed.XXXXXX) || die "mktemp failed"
else
    if [ -e "$DIR" ]; then
        [ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ] || die "$DIR exists and is not an empty directory"
    else
        mkdir -p "$DIR" || die "cannot create $DIR"
    fi
    chmod 700 "$DIR"
fi
DIR=$(cd "$DIR" && pwd)
umask 077   # the bed's files hold secrets and tokens
# DIR goes into JSON and shell files as it is: keep it plain.
[[ $DIR =~ ^[A-Za-z0-9._/+-]+$ ]] || { rmdir "$DIR"; die "$DIR: use a directory path of letters, digits and ._+-/"; }
set_names
for n in $BR1 $BR2 $TRK1 $MIR1 $CAP1; do
    ip link show "$n" >/dev/null 2>&1 && { rmdir "$DIR"; die "interface $n exists already (a bed of id $ID is up?)"; }
done
: >"$DIR/state"

# From here on any failure (or ^C) removes what was made.
DONE=0
fail() {
    echo "$PROG: $*" >&2
    echo "$PROG: up failed; removing what was made" >&2
    trap - EXIT INT TERM
    teardown
    exit 1
}
trap '[ "$DONE" = 1 ] || fail "interrupted"' EXIT
trap 'fail "interrupted"' INT TERM
record() { echo "$*" >>"$DIR/state"; }   # KIND NAME [PID], before making it
# alive PID: running, not a zombie.
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^Z'; }
# daemon NAME LOG PROG ARGS...: in the background, in a session of its own
# (it outlives this script); its pid goes into DIR/state.  The subshell
# execs setsid, which execs PROG (no fork: not a group leader), so $! is PROG.
daemon() {
    local name=$1 log=$2; shift 2
    ( exec setsid "$@" </dev/null >>"$log" 2>&1 ) &
    DPID=$!
    record pid "$name" "$DPID"
}

say "building the bed in $DIR (id $ID)"

# --- Open vSwitch, private to the bed
mkdir -p "$OVSDIR" "$DIR/hv1" "$DIR/hv2"
export OVS_RUNDIR=$OVSDIR OVS_LOGDIR=$OVSDIR OVS_DBDIR=$OVSDIR
vsctl() { ovs-vsctl --db="$OVSDB" --timeout=10 "$@"; }
ofctl() { ovs-ofctl -O OpenFlow13 "$@"; }
record ovs "$OVSDIR"
ovsdb-tool create "$OVSDIR/conf.db" "$SCHEMA" >/dev/null || fail "ovsdb-tool create failed"
ovsdb-server "$OVSDIR/conf.db" --remote="punix:$OVSDIR/db.sock" --pidfile="$OVSDIR/ovsdb.pid" \
    --unixctl="$OVSDIR/ovsdb.ctl" --log-file="$OVSDIR/ovsdb.log" --detach --no-chdir 2>/dev/null \
    || fail "ovsdb-server did not start (see $OVSDIR/ovsdb.log)"
vsctl --no-wait init || fail "ovs-vsctl init failed"
ovs-vswitchd "$OVSDB" --pidfile="$OVSDIR/vswitchd.pid" --unixctl="$OVSDIR/vswitchd.ctl" \
    --log-file="$OVSDIR/vswitchd.log" --detach --no-chdir 2>/dev/null \
    || fail "ovs-vswitchd did not start (see $OVSDIR/vswitchd.log)"
say "Open vSwitch: a private ovsdb-server and ovs-vswitchd in $OVSDIR (userspace datapath)"

# The kernel must send nothing on its own into the bridges: no IPv6 (router
# solicitations, DAD, MLD) on the root-namespace ends.
noipv6() { sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" 2>/dev/null; }
# veth checksum offload gives wrong TCP checksums on the netdev datapath.
nooffload() { ethtool -K "$1" tx off rx off >/dev/null 2>&1; }

for b in 1 2; do
    br=BR$b
    record bridge "${!br}"
    vsctl add-br "${!br}" -- set bridge "${!br}" datapath_type=netdev \
        || fail "cannot add the netdev bridge ${!br}"
done

# link_root A B: a veth pair with both ends in the root namespace.
link_root() {
    record link "$1"
    ip link add "$1" type veth peer name "$2" || fail "ip link add $1 failed"
    for e in "$1" "$2"; do noipv6 "$e"; nooffload "$e"; ip link set "$e" up || fail "cannot set $e up"; done
}
# add_port BRIDGE IFACE OFPORT [TAG]: an OVS port at a fixed OpenFlow port.
add_port() {
    vsctl add-port "$1" "$2" ${4:+tag=$4} -- set interface "$2" ofport_request="$3" \
        || fail "cannot add $2 to $1 as port $3"
}

# --- the physical link between the hosts: a trunk on port 10 of each
link_root "$TRK1" "$TRK2"
add_port "$BR1" "$TRK1" 10
add_port "$BR2" "$TRK2" 10
say "hosts: bridges $BR1 (hv1) and $BR2 (hv2), joined by $TRK1<->$TRK2 on port 10 (VLAN trunk)"

# --- mirror ports: port 9, no-flood; the capture end stays in the root namespace.
# no-flood alone still lets NORMAL flood some broadcasts (ARP) there, and on
# a trunk they would arrive with a tenant's VLAN tag, which a trace's tag
# may equal.  As an access port of VLAN 4094, which no tenant uses, the
# mirror port gets nothing from NORMAL; capture rules output to it directly.
link_root "$MIR1" "$CAP1"
link_root "$MIR2" "$CAP2"
# A copy carries the trace's VLAN tag over the tenant's own (a frame from
# the trunk is tagged already): two tags on a full-size frame pass a veth
# only with a larger MTU.  (Real mirror ports need the same: tenant MTU + 8.)
for e in "$MIR1" "$CAP1" "$MIR2" "$CAP2"; do
    ip link set "$e" mtu 9000 || fail "cannot set the MTU of $e"
done
add_port "$BR1" "$MIR1" 9 4094
add_port "$BR2" "$MIR2" 9 4094
# OpenFlow 1.0: OF 1.1+ have no NO_FLOOD bit, and `ovs-ofctl -O OpenFlow13
# mod-port ... no-flood` succeeds without setting anything.
for b in 1 2; do
    of=OFCTL$b mir=MIR$b
    ovs-ofctl -O OpenFlow10 mod-port "${!of}" "${!mir}" no-flood \
        && ovs-ofctl -O OpenFlow10 show "${!of}" | grep -A1 "^ 9(" | grep -q NO_FLOOD \
        || fail "cannot make ${!mir} no-flood"
done
say "mirror ports: port 9 ($MIR1, $MIR2; no-flood, VLAN 4094), captured on $CAP1 and $CAP2"

# --- VND's two-table layout: capture rules will go into table 0
for t in "$OFCTL1" "$OFCTL2"; do
    ofctl del-flows "$t" \
        && ofctl add-flow "$t" "table=0,priority=0,actions=goto_table:1" \
        && ofctl add-flow "$t" "table=1,priority=0,actions=NORMAL" \
        || fail "cannot install the two-table layout on $t"
done
say "flows: table 0 goto_table:1 (capture rules go here), table 1 NORMAL"

# --- tenants
# make_ns NAME: a namespace with lo up and no IPv6.
make_ns() {
    record ns "$1"
    ip netns add "$1" || fail "ip netns add $1 failed"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$1" link set lo up
}
# nic NS IFNAME MAC ADDR/LEN BRIDGE ROOTNAME OFPORT VLAN: a NIC of a
# namespace, its peer an OVS access port.
nic() {
    local ns=$1 ifn=$2 mac=$3 addr=$4 br=$5 rn=$6 ofp=$7 vlan=$8
    record link "$rn"
    ip link add "$rn" type veth peer name "$ifn" netns "$ns" || fail "ip link add $rn failed"
    noipv6 "$rn"; nooffload "$rn"
    ip netns exec "$ns" ethtool -K "$ifn" tx off rx off >/dev/null 2>&1
    if [ -n "$mac" ]; then
        ip -n "$ns" link set "$ifn" address "$mac" || fail "cannot set $ns $ifn address $mac"
    fi
    if [ -n "$addr" ]; then
        ip -n "$ns" addr add "$addr" dev "$ifn" || fail "cannot add $addr to $ns $ifn"
    fi
    ip link set "$rn" up && ip -n "$ns" link set "$ifn" up || fail "cannot set $rn up"
    add_port "$br" "$rn" "$ofp" "$vlan"
}

# This machine's kernel may lack sch_netem (tc says "Specified qdisc kind is
# unknown").  Then each ids gets a delay line instead: a bump in the wire
# between its "out" and OVS, a small Python program reading frames from one
# veth (AF_PACKET) and writing them to the other after DELAY ms, dropping
# LOSS% at random, in the out direction only, as netem on "out" would.
#
#   netem:      ids[out] ----------------------------- OVS port 4
#   delay line: ids[out]-[out-dl] =delayline.py= [out-wire]-- OVS port 4
write_delayline() {
    cat >"$DIR/delayline.py" <<'PY'
# delayline.py A B DELAY_MS LOSS_PCT: frames in on A go out on B after
# DELAY_MS, LOSS_PCT of them dropped at random; frames in on B go out on A
# at once.  Written by vnd testbed (scripts/testbed.sh) where tc netem is
# missing.
import collections, random, select, socket, sys, time
a_name, b_name, delay, loss = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1e3, float(sys.argv[4])
OUTGOING = socket.PACKET_OUTGOING
def sock(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind((name, 0))
    s.setblocking(False)
    return s
a, b = sock(a_name), sock(b_name)
queue = collections.deque()         # (due, frame): one delay, so FIFO
poll = select.poll()
poll.register(a, select.POLLIN)
poll.register(b, select.POLLIN)
def frames(s):
    while True:
        try:
            frame, addr = s.recvfrom(65535)
        except BlockingIOError:
            return
        if addr[2] != OUTGOING:     # our own sends come back as outgoing
            yield frame
def send(s, frame):
    try:
        s.send(frame)
    except OSError:                 # ENOBUFS and friends: a lost frame
        pass
while True:
    timeout = None
    if queue:
        timeout = max(0, (queue[0][0] - time.monotonic()) * 1e3)
    for fd, _ in poll.poll(timeout):
        if fd == a.fileno():
            now = time.monotonic()
            for f in frames(a):
                if loss <= 0 or random.random() * 100 >= loss:
                    queue.append((now + delay, f))
        else:
            for f in frames(b):
                send(a, f)
    now = time.monotonic()
    while queue and queue[0][0] <= now:
        send(b, queue.popleft()[1])
PY
}

# netem_works NS: can this kernel's tc add a netem qdisc (tried on a
# throw-away veth pair inside NS)?
netem_works() {
    ip -n "$1" link add nprobe0 type veth peer name nprobe1 || return 1
    tc -n "$1" qdisc add dev nprobe0 root netem delay 1ms >/dev/null 2>&1
    local ok=$?
    ip -n "$1" link del nprobe0
    return $ok
}

# ids_out NS MAC ADDR/LEN BRIDGE ROOTNAME OFPORT VLAN: the ids' "out", with
# netem or a delay line (METHOD).
ids_out() {
    local ns=$1 mac=$2 addr=$3 br=$4 rn=$5 ofp=$6 vlan=$7
    if [ "$METHOD" = netem ]; then
        nic "$ns" out "$mac" "$addr" "$br" "$rn" "$ofp" "$vlan"
        tc -n "$ns" qdisc add dev out root netem delay "${DELAY}ms" loss "${LOSS}%" limit 10000 \
            || fail "tc netem on $ns out failed"
        return
    fi
    nic "$ns" out-wire "" "" "$br" "$rn" "$ofp" "$vlan"
    ip -n "$ns" link add out type veth peer name out-dl || fail "ip link add out in $ns failed"
    local e
    for e in out out-dl; do
        ip netns exec "$ns" ethtool -K "$e" tx off rx off >/dev/null 2>&1
    done
    ip -n "$ns" link set out address "$mac" && ip -n "$ns" addr add "$addr" dev out \
        || fail "cannot address $ns out"
    for e in out-dl out-wire; do ip -n "$ns" link set "$e" promisc on; done
    ip -n "$ns" link set out-dl up && ip -n "$ns" link set out up || fail "cannot set $ns out up"
    daemon "delayline-$ns" "$DIR/delayline-$ns.log" nsenter --net="/run/netns/$ns" \
        python3 "$DIR/delayline.py" out-dl out-wire "$DELAY" "$LOSS"
    sleep 0.2
    alive "$DPID" || { cat "$DIR/delayline-$ns.log" >&2; fail "the delay line of $ns exited"; }
}

# tenant NAME LETTER MACBYTE VLAN1 VLAN2 PORT_CLIENT PORT_IN PORT_OUT PORT_SERVER
tenant() {
    local t=$1 l=$2 m=02:00:00:$3:00 v1=$4 v2=$5
    local cl=$NS_PREFIX-$t-client ids=$NS_PREFIX-$t-ids srv=$NS_PREFIX-$t-server
    make_ns "$cl"; [ -e "/run/netns/$ids" ] || make_ns "$ids"; make_ns "$srv"
    nic "$cl"  eth0 "$m:02" 10.0.1.2/24 "$BR1" "vnd$ID${l}cli" "$6" "$v1"
    nic "$ids" in   "$m:01" 10.0.1.1/24 "$BR1" "vnd$ID${l}in"  "$7" "$v1"
    ids_out "$ids"  "$m:11" 10.0.2.1/24 "$BR1" "vnd$ID${l}out" "$8" "$v2"
    nic "$srv" eth0 "$m:12" 10.0.2.2/24 "$BR2" "vnd$ID${l}srv" "$9" "$v2"
    ip -n "$cl" route add default via 10.0.1.1 || fail "no default route in $cl"
    ip -n "$srv" route add default via 10.0.2.1 || fail "no default route in $srv"
    ip netns exec "$ids" sysctl -qw net.ipv4.ip_forward=1 || fail "ip_forward in $ids"
    say "tenant $t: $cl 10.0.1.2 (hv1 port $6) -> $ids in 10.0.1.1 (port $7) / out 10.0.2.1 (port $8, $METHOD ${DELAY} ms ${LOSS}%) -> $srv 10.0.2.2 (hv2 port $9); VLANs $v1/$v2"
}
make_ns "$NS_PREFIX-alice-ids"
if netem_works "$NS_PREFIX-alice-ids"; then
    METHOD=netem
else
    METHOD=delayline
    command -v python3 >/dev/null || fail "this kernel has no tc netem, and the delay line standing in for it needs python3"
    write_delayline
    say "this kernel has no tc netem: each ids delays and drops in a delay line (DIR/delayline.py) between its out and OVS"
fi
tenant alice a a1 101 102 1 3 4 1
tenant bob   b b1 201 202 5 6 7 2

# --- with --chain: tenant carol, the middlebox chain of paper §5.1.1
#
#   c1, c2 (10.0.1.2, .3) -- [out] re [in] -- [out] ids [in] -- server 10.0.3.2
#           net1 VLAN 301   10.0.1.1  10.0.2.1  10.0.2.2  10.0.3.1   net3 VLAN 303 (hv2)
#                                      net2 VLAN 302
#
# The clients download from the server, so data enters each middlebox at
# its "in" (server side) and leaves at its "out".  The ids forwards at most
# CHAIN Mbit/s toward the clients (tc tbf on its out, a 20 ms queue), the
# re twice that: one client at CHAIN/2 fits, two saturate the ids.
# Everything but the server is on hv1, so one table server holds the
# tables a path query joins.
chain() {
    local m=02:00:00:c1:00 re=$NS_PREFIX-carol-re ids=$NS_PREFIX-carol-ids
    local c1=$NS_PREFIX-carol-c1 c2=$NS_PREFIX-carol-c2 srv=$NS_PREFIX-carol-server
    for ns in "$c1" "$c2" "$re" "$ids" "$srv"; do make_ns "$ns"; done
    nic "$c1"  eth0 "$m:02" 10.0.1.2/24 "$BR1" "vnd${ID}cc1"  11 301
    nic "$c2"  eth0 "$m:03" 10.0.1.3/24 "$BR1" "vnd${ID}cc2"  12 301
    nic "$re"  out  "$m:01" 10.0.1.1/24 "$BR1" "vnd${ID}cro"  13 301
    nic "$re"  in   "$m:21" 10.0.2.1/24 "$BR1" "vnd${ID}cri"  14 302
    nic "$ids" out  "$m:22" 10.0.2.2/24 "$BR1" "vnd${ID}cio"  15 302
    nic "$ids" in   "$m:31" 10.0.3.1/24 "$BR1" "vnd${ID}cii"  16 303
    nic "$srv" eth0 "$m:32" 10.0.3.2/24 "$BR2" "vnd${ID}csrv" 3  303
    for c in "$c1" "$c2"; do ip -n "$c" route add default via 10.0.1.1 || fail "no route in $c"; done
    ip -n "$re" route add 10.0.3.0/24 via 10.0.2.2 || fail "no route in $re"
    ip -n "$ids" route add 10.0.1.0/24 via 10.0.2.1 || fail "no route in $ids"
    ip -n "$srv" route add default via 10.0.3.1 || fail "no route in $srv"
    for r in "$re" "$ids"; do ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 || fail "ip_forward in $r"; done
    tc -n "$ids" qdisc add dev out root tbf rate "${CHAIN}mbit" burst 32kb latency 20ms \
        || fail "tc tbf on $ids out failed"
    tc -n "$re" qdisc add dev out root tbf rate "$((CHAIN * 2))mbit" burst 64kb latency 20ms \
        || fail "tc tbf on $re out failed"
    say "tenant carol (--chain): $c1, $c2 -> re -> ids (${CHAIN} Mbit/s) -> $srv; VLANs 301-303"
}
[ -n "$CHAIN" ] && chain

# --- secrets and tokens
rand_b64() { head -c 24 /dev/urandom | base64; }
rand_hex() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
rand_b64 >"$DIR/hv1/secret" && rand_b64 >"$DIR/hv2/secret" && rand_b64 >"$DIR/admin.secret" \
    || fail "cannot write the secrets"
chmod 600 "$DIR/hv1/secret" "$DIR/hv2/secret" "$DIR/admin.secret"
TOKEN_ALICE=$(rand_hex) TOKEN_BOB=$(rand_hex) TOKEN_CAROL=$(rand_hex)

# --- table servers, one per host, in the root namespace
# wait_http NAME PID URL HEADER LOG...: until URL answers 200, while PID
# lives; else the end of its logs (removed with the bed) and fail.
wait_http() {
    local name=$1 pid=$2 url=$3 hdr=$4 i code=; shift 4
    for i in $(seq 100); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -H "$hdr" "$url")
        [ "$code" = 200 ] && return 0
        alive "$pid" || break
        sleep 0.1
    done
    for f in "$@"; do [ -s "$f" ] && { echo "--- the end of ${f#"$DIR"/}:"; tail -5 "$f"; } >&2; done
    if alive "$pid"; then
        fail "$name does not answer 200 at $url after 10 s (last answer: ${code:-none})"
    fi
    fail "$name exited"
}
# --- with --pg: a PostgreSQL per host and the coordinator's
# pg_start NAME: an instance in PGROOT/NAME, its socket in PGROOT/s-NAME;
# the superuser vnd by trust on the socket, every other role by password.
pg_start() {
    local n=$1 d=$PGROOT/$1
    mkdir -p "$d" "$PGROOT/s-$n" && chown postgres "$d" "$PGROOT/s-$n" || fail "cannot make $d"
    record pg "$d"
    runuser -u postgres -- "$PGBIN/initdb" -D "$d" -A trust -U vnd --no-sync >"$PGROOT/$n.initdb.log" 2>&1 \
        || fail "initdb $n: $(tail -2 "$PGROOT/$n.initdb.log")"
    printf 'local all vnd trust\nlocal all all scram-sha-256\n' >"$d/pg_hba.conf"
    : >"$PGROOT/$n.log"
    chown postgres "$d/pg_hba.conf" "$PGROOT/$n.log"
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$d" -w -t 30 -l "$PGROOT/$n.log" \
        -o "-k $PGROOT/s-$n -c listen_addresses='' -c fsync=off -c full_page_writes=off" start >/dev/null 2>&1 \
        || fail "PostgreSQL $n did not start: $(tail -2 "$PGROOT/$n.log")"
}
if [ "$PG" = 1 ]; then
    # PostgreSQL runs as postgres, which must reach its directory: DIR may
    # lie under a private one, so the instances live in /tmp.
    PGROOT=$(mktemp -d /tmp/vnd-testbed-pg.XXXXXX) || fail "mktemp failed"
    record pgroot "$PGROOT"
    chmod 711 "$PGROOT"
    ln -s "$PGROOT" "$DIR/pg"
    rand_hex >"$PGROOT/coord.pw"; rand_hex >"$PGROOT/fdw.pw"
    for n in hv1 hv2 coord; do pg_start $n; done
    for n in hv1 hv2; do
        PGHOST=$PGROOT/s-$n PGUSER=vnd "$PG_SETUP" table-server --role vnd_fdw --db vnd \
            --password-file "$PGROOT/fdw.pw" --from local --hba "$PGROOT/$n/pg_hba.conf" \
            >"$PGROOT/$n.setup.log" 2>&1 || fail "vnd-pg-setup $n: $(tail -2 "$PGROOT/$n.setup.log")"
    done
    PGHOST=$PGROOT/s-coord PGUSER=vnd "$PG_SETUP" coordinator --role vnd_coord --db vnd_coord \
        --password-file "$PGROOT/coord.pw" --from local --hba "$PGROOT/coord/pg_hba.conf" \
        >"$PGROOT/coord.setup.log" 2>&1 || fail "vnd-pg-setup coord: $(tail -2 "$PGROOT/coord.setup.log")"
    say "PostgreSQL: hv1, hv2 (the table servers' stores) and the coordinator, sockets in $DIR/pg"
fi

for h in 1 2; do
    port=$((PORT_BASE + h)) cap=CAP$h
    store=()
    [ "$PG" = 1 ] && store=(--trace-store "pg:host=$PGROOT/s-hv$h dbname=vnd user=vnd")
    daemon tabled-hv$h "$DIR/hv$h/tabled.stderr" "$TABLED" --interface "${!cap}" \
        --db "$DIR/hv$h/traces.db" --listen "127.0.0.1:$port" --secret-file "$DIR/hv$h/secret" \
        --log-file "$DIR/hv$h/tabled.log" --sflow-listen "127.0.0.1:$((port + 10))" \
        --ipfix-listen "127.0.0.1:$((port + 20))" --ovs-pidfile "$OVSDIR/vswitchd.pid" \
        "${store[@]}"
    wait_http "vnd-tabled of hv$h" "$DPID" "http://127.0.0.1:$port/v1/traces" \
        "Authorization: Bearer $(cat "$DIR/hv$h/secret")" "$DIR/hv$h/tabled.log" "$DIR/hv$h/tabled.stderr"
    say "table server hv$h: $TABLED on 127.0.0.1:$port capturing ${!cap} (pid $DPID)"
done

# --- the NIB
# port NAME HOST OFPORT MAC IP
port() { printf '{"name": "%s", "host": "%s", "ofport": %s, "mac": "%s", "ip": "%s"}' "$@"; }
host() {
    local h=$1 br=BR$1 of=OFCTL$1
    cat <<EOF
    {"name": "hv$h", "bridge": "${!br}", "ofctl": "${!of}", "ovsdb": "$OVSDB",
     "mirror_port": 9,$(nib_budget)
     "table_server": {"url": "http://127.0.0.1:$((PORT_BASE + h))",
                      "secret_file": "$DIR/hv$h/secret"$(nib_postgres "$h")}}
EOF
}
nib_budget() {  # with --budget, each host's CPU budget
    [ -n "$BUDGET" ] || return 0
    printf '\n     "budget": {"cpu_pct": %s},' "$BUDGET"
}
nib_postgres() {  # HOST: with --pg, where the coordinator reads its tables
    [ "$PG" = 1 ] || return 0
    printf ',\n                      "postgres": {"conninfo": "host=%s dbname=vnd user=vnd_fdw",\n                                   "password_file": "%s"}' \
        "$PGROOT/s-hv$1" "$PGROOT/fdw.pw"
}
nib_tenant() {  # NAME TOKEN MACBYTE OFPORT_CLIENT IN OUT SERVER
    local m=02:00:00:$3:00
    cat <<EOF
    {"id": "$1",
     "token_sha256": "$(sha "$2")",
     "quota": {"live_diagnoses": 8},
     "nodes": [
       {"name": "client", "kind": "vm",
        "ports": [$(port eth0 hv1 "$4" "$m:02" 10.0.1.2)]},
       {"name": "ids", "kind": "appliance", "input": "in", "output": "out",
        "ports": [$(port in hv1 "$5" "$m:01" 10.0.1.1),
                  $(port out hv1 "$6" "$m:11" 10.0.2.1)]},
       {"name": "server", "kind": "vm",
        "ports": [$(port eth0 hv2 "$7" "$m:12" 10.0.2.2)]}
     ],
     "links": [{"name": "l1", "ends": ["client.eth0", "ids.in"]},
               {"name": "l2", "ends": ["ids.out", "server.eth0"]}]}
EOF
}
nib_carol() {
    local m=02:00:00:c1:00
    cat <<EOF
    {"id": "carol",
     "token_sha256": "$(sha "$TOKEN_CAROL")",
     "quota": {"live_diagnoses": 8},
     "nodes": [
       {"name": "c1", "kind": "vm", "ports": [$(port eth0 hv1 11 "$m:02" 10.0.1.2)]},
       {"name": "c2", "kind": "vm", "ports": [$(port eth0 hv1 12 "$m:03" 10.0.1.3)]},
       {"name": "re", "kind": "appliance", "input": "in", "output": "out",
        "ports": [$(port in hv1 14 "$m:21" 10.0.2.1), $(port out hv1 13 "$m:01" 10.0.1.1)]},
       {"name": "ids", "kind": "appliance", "input": "in", "output": "out",
        "ports": [$(port in hv1 16 "$m:31" 10.0.3.1), $(port out hv1 15 "$m:22" 10.0.2.2)]},
       {"name": "server", "kind": "vm", "ports": [$(port eth0 hv2 3 "$m:32" 10.0.3.2)]}
     ],
     "links": [{"name": "l1", "ends": ["c1.eth0", "re.out"]},
               {"name": "l2", "ends": ["c2.eth0", "re.out"]},
               {"name": "l3", "ends": ["re.in", "ids.out"]},
               {"name": "l4", "ends": ["ids.in", "server.eth0"]}]}
EOF
}
{
    echo '{'
    echo '  "hosts": ['
    host 1; echo '    ,'; host 2
    echo '  ],'
    echo '  "tenants": ['
    nib_tenant alice "$TOKEN_ALICE" a1 1 3 4 1; echo '    ,'
    nib_tenant bob "$TOKEN_BOB" b1 5 6 7 2
    [ -n "$CHAIN" ] && { echo '    ,'; nib_carol; }
    echo '  ]'
    echo '}'
} >"$DIR/nib.json" || fail "cannot write $DIR/nib.json"
say "NIB: $DIR/nib.json (hosts hv1, hv2; tenants alice, bob with nodes client, ids, server)"

# --- the control server
URL=http://127.0.0.1:$PORT_BASE
if [ "$CONTROLD" = 1 ]; then
    coord=()
    [ "$PG" = 1 ] && coord=(--coordinator "host=$PGROOT/s-coord dbname=vnd_coord user=vnd_coord"
                            --coordinator-password-file "$PGROOT/coord.pw")
    daemon controld "$DIR/controld.stderr" "$CONTROLD_BIN" --nib "$DIR/nib.json" \
        --state "$DIR/controld.db" --listen "127.0.0.1:$PORT_BASE" \
        --admin-secret-file "$DIR/admin.secret" --log-file "$DIR/controld.log" "${coord[@]}"
    wait_http "vnd-controld" "$DPID" "$URL/v1/diagnoses" "Authorization: Bearer $TOKEN_ALICE" \
        "$DIR/controld.log" "$DIR/controld.stderr"
    say "control server: $CONTROLD_BIN on $URL (pid $DPID)"
else
    say "control server: not started (--no-controld)"
fi

# --- the env file
{
    q() { printf "export %s='%s'\n" "$1" "$2"; }
    echo "# VND test bed $ID: source this file.  vnd testbed down --dir $DIR removes the bed."
    q VND_URL "$URL"
    q VND_TOKEN_ALICE "$TOKEN_ALICE"
    q VND_TOKEN_BOB "$TOKEN_BOB"
    q VND_ADMIN_SECRET_FILE "$DIR/admin.secret"
    q TB_DIR "$DIR"
    q TB_ID "$ID"
    q TB_NIB "$DIR/nib.json"
    q TB_CONTROLD "$CONTROLD"
    q TB_DELAY_MS "$DELAY"
    q TB_LOSS_PCT "$LOSS"
    q TB_DELAY_METHOD "$METHOD"
    for t in ALICE BOB; do
        lt=$(tr 'A-Z' 'a-z' <<<"$t")
        q TB_${t}_CLIENT "$NS_PREFIX-$lt-client"
        q TB_${t}_IDS "$NS_PREFIX-$lt-ids"
        q TB_${t}_SERVER "$NS_PREFIX-$lt-server"
    done
    if [ -n "$CHAIN" ]; then
        q VND_TOKEN_CAROL "$TOKEN_CAROL"
        q TB_CHAIN_MBIT "$CHAIN"
        for n in c1 c2 re ids server; do q "TB_CAROL_$(tr a-z A-Z <<<"$n")" "$NS_PREFIX-carol-$n"; done
    fi
    q TB_BRIDGE_HV1 "$BR1"
    q TB_BRIDGE_HV2 "$BR2"
    q TB_OFCTL_HV1 "$OFCTL1"
    q TB_OFCTL_HV2 "$OFCTL2"
    q TB_OVSDB "$OVSDB"
    q TB_MIRROR_HV1 "$CAP1"
    q TB_MIRROR_HV2 "$CAP2"
    q TB_TABLED_URL_HV1 "http://127.0.0.1:$((PORT_BASE + 1))"
    q TB_TABLED_URL_HV2 "http://127.0.0.1:$((PORT_BASE + 2))"
    q TB_TABLED_SECRET_HV1 "$DIR/hv1/secret"
    q TB_TABLED_SECRET_HV2 "$DIR/hv2/secret"
    q TB_PG "$PG"
    if [ "$PG" = 1 ]; then
        q TB_PG_HV1 "host=$PGROOT/s-hv1 dbname=vnd user=vnd"
        q TB_PG_HV2 "host=$PGROOT/s-hv2 dbname=vnd user=vnd"
        q TB_PG_COORD "host=$PGROOT/s-coord dbname=vnd_coord user=vnd"
    fi
} >"$DIR/env" || fail "cannot write $DIR/env"
chmod 600 "$DIR/env"

DONE=1
trap - EXIT INT TERM
say "ready in ${SECONDS}s.  Use it:"
echo "  source $DIR/env"
echo "  ip netns exec \$TB_ALICE_CLIENT ping 10.0.2.2     # through alice's ids"
echo "  ovs-ofctl -O OpenFlow13 dump-flows \$TB_OFCTL_HV1"
echo "  vnd testbed down --dir $DIR                       # removes all of it"
echo "$DIR"
