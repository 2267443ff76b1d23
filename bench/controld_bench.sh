#!/usr/bin/env bash
# controld_bench.sh — what the control server costs, on the test bed
# (`vnd testbed up`: two OVS hosts, alice's client -> ids -> server).
#
#   1. latency: with a ping (100/s) already flowing through alice's ids,
#      POST /v1/diagnoses capturing `ids / Cap input / proto=ICMP`, then
#      poll POST /v1/diagnoses/ID/query `select count(*) from ids_in` until
#      it is > 0.  Split into the create call (curl's time_total: policy,
#      table server trace, OVS bundle) and the wait for the first row (the
#      table server commits every 0.5 s).  Median and min of RUNS.
#      Reference, same run: `ovs-ofctl --bundle add-flows` of one rule on
#      the same bridge (what controld execs per diagnosis), and a bare
#      GET /v1/diagnoses round trip.
#   2. churn: alice's quota lifted (nib.json live_diagnoses 0, SIGHUP),
#      LIVE diagnoses created (disjoint UDP ports), then CYCLES create+stop
#      cycles with those live: through curl (a process per call) and
#      through the CLI (`vnd submit` + `vnd stop`); then all LIVE stopped
#      (one curl process, keep-alive).
#      Reference, same run: `ovs-ofctl --bundle add-flows` + `del-flows`
#      cycles on the same bridge (what the switch side allows when driven
#      the way controld drives it).  Best of RUNS2.
# About 3 minutes with the defaults.  Takes the OVS bed lock (/tmp/vnd-ovs-bed.lock): one bed per machine.
#
#   bench/controld_bench.sh [BUILD=build] [RUNS=10] [LIVE=100] [CYCLES=50] [RUNS2=2]
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-10}
LIVE=${3:-100}
CYCLES=${4:-50}
RUNS2=${5:-2}
LOCK=/tmp/vnd-ovs-bed.lock
if [ "${VND_BED_LOCKED:-}" != "$LOCK" ]; then
    VND_BED_LOCKED=$LOCK exec flock "$LOCK" "$0" "$@"
fi
[ "$(id -u)" = 0 ] || { echo "controld_bench: needs root (the test bed)"; exit 0; }
for t in ovs-vswitchd ovs-ofctl curl jq ping; do
    command -v $t >/dev/null || { echo "controld_bench: $t is not installed"; exit 0; }
done
VND=$PWD/$BUILD/vnd
export VND_TABLED=$PWD/$BUILD/vnd-tabled VND_CONTROLD=$PWD/$BUILD/vnd-controld
W=$(mktemp -d /tmp/vnd-controld-bench.XXXXXX)
BED=$W/bed
PING=
cleanup() {
    [ -n "$PING" ] && kill "$PING" 2>/dev/null
    [ -f "$BED/state" ] && "$VND" testbed down --dir "$BED" >"$W/down.log" 2>&1
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! "$VND" testbed up --dir "$BED" --delay 1 --loss 0 --port-base 7480 >"$W/up.log" 2>&1; then
    echo "controld_bench: vnd testbed up failed:"; tail -5 "$W/up.log"; exit 0
fi
source "$BED/env"
export VND_URL
AUTH="Authorization: Bearer $VND_TOKEN_ALICE"
BR=$TB_OFCTL_HV1
ofctl() { ovs-ofctl -O OpenFlow14 --timeout=10 "$@"; }
# JSON body of a create request for a collect configuration
body() { jq -n --arg c "$1" '{collect: $c}'; }
# ms between two $EPOCHREALTIME values
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
# "median min" of the numbers on stdin
medmin() { sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                                               printf "%.1f %.1f", m, v[1] }'; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
best() { sort -g | tail -1; }
die() { echo "controld_bench: $*"; tail -5 "$TB_DIR/controld.log" | sed 's/^/#   /'; exit 1; }

# ---------------------------------------------------------------- 1. latency
ip netns exec "$TB_ALICE_CLIENT" ping -q -i 0.01 10.0.2.2 >/dev/null 2>&1 &
PING=$!
sleep 1
body $'Appliance Node : ids\nCap input\nproto=ICMP\n' >"$W/icmp.json"
QUERY='{"sql": "select count(*) from ids_in", "format": "csv"}'
: >"$W/create" >"$W/wait" >"$W/total" >"$W/polls" >"$W/ofadd" >"$W/get0" >"$W/ofver"
for r in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME
    out=$(curl -s -o "$W/c.json" -w '%{http_code} %{time_total}' -X POST -H "$AUTH" \
          -H 'Content-Type: application/json' --data-binary @"$W/icmp.json" "$VND_URL/v1/diagnoses")
    t1=$EPOCHREALTIME
    [ "${out%% *}" = 201 ] || die "create answered ${out%% *}: $(cat "$W/c.json")"
    id=$(jq -r .id "$W/c.json")
    n=0 polls=0
    until [ "${n:-0}" -gt 0 ]; do
        n=$(curl -s -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary "$QUERY" \
            "$VND_URL/v1/diagnoses/$id/query" | tail -1)
        case $n in ''|*[!0-9]*) n=0 ;; esac     # an error (no table yet) counts as none
        polls=$((polls + 1))
        [ "$polls" -gt 1000 ] && die "$id: no row in ids_in after 1000 polls"
    done
    t2=$EPOCHREALTIME
    echo "${out#* }" | awk '{ printf "%.1f\n", $1 * 1000 }' >>"$W/create"
    ms "$t1" "$t2" >>"$W/wait"; echo >>"$W/wait"
    ms "$t0" "$t2" >>"$W/total"; echo >>"$W/total"
    echo "$polls" >>"$W/polls"
    curl -s -o /dev/null -X DELETE -H "$AUTH" "$VND_URL/v1/diagnoses/$id"
    # references, interleaved with the runs
    a0=$EPOCHREALTIME
    echo "table=0,priority=100,cookie=0x42,in_port=1,udp,tp_dst=9,actions=goto_table:1" \
        | ofctl --bundle add-flows "$BR" - || die "ovs-ofctl add-flows failed"
    a1=$EPOCHREALTIME
    ofctl del-flows "$BR" "cookie=0x42/-1"
    ms "$a0" "$a1" >>"$W/ofadd"; echo >>"$W/ofadd"
    a0=$EPOCHREALTIME; ovs-ofctl --version >/dev/null; a1=$EPOCHREALTIME
    ms "$a0" "$a1" >>"$W/ofver"; echo >>"$W/ofver"
    curl -s -o /dev/null -w '%{time_total}\n' -H "$AUTH" "$VND_URL/v1/diagnoses" \
        | awk '{ printf "%.1f\n", $1 * 1000 }' >>"$W/get0"
    sleep 0.$((RANDOM % 5))      # not in step with the table server's commits
done
kill "$PING" 2>/dev/null; PING=
read -r CR_MED CR_MIN < <(medmin <"$W/create")
read -r WA_MED WA_MIN < <(medmin <"$W/wait")
read -r TO_MED TO_MIN < <(medmin <"$W/total")
read -r OF_MED OF_MIN < <(medmin <"$W/ofadd")
read -r G0_MED G0_MIN < <(medmin <"$W/get0")
read -r OV_MED OV_MIN < <(medmin <"$W/ofver")
PO_MED=$(medmin <"$W/polls" | cut -d' ' -f1)

# ---------------------------------------------------------------- 2. churn
PID=$(awk '$1 == "pid" && $2 == "controld" { print $3 }' "$TB_DIR/state")
[ -n "$PID" ] || die "no controld pid in $TB_DIR/state"
jq '(.tenants[] | select(.id == "alice") | .quota.live_diagnoses) = 0' "$TB_NIB" >"$W/nib.json" \
    && cat "$W/nib.json" >"$TB_NIB"
nrel=$(grep -c 'NIB reloaded' "$TB_DIR/controld.log")
kill -HUP "$PID"
for _ in $(seq 50); do
    [ "$(grep -c 'NIB reloaded' "$TB_DIR/controld.log")" -gt "$nrel" ] && break; sleep 0.1
done
[ "$(grep -c 'NIB reloaded' "$TB_DIR/controld.log")" -gt "$nrel" ] || die "SIGHUP: no 'NIB reloaded' in the log"

# curl_batch OUT ARGS...: one curl process, keep-alive; "code time_total" per request to OUT
curl_batch() { local out=$1; shift; curl -s "$@" >"$out"; }
create_args() {   # PORT: the arguments of one create request (+ --next)
    body "Appliance Node : ids"$'\n'"Cap input"$'\n'"proto=UDP"$'\n'"dstPort=$1"$'\n' >"$W/u$1.json"
    ARGS+=(-o /dev/null -w '%{http_code}\n' -X POST -H "$AUTH" -H 'Content-Type: application/json'
           --data-binary @"$W/u$1.json" "$VND_URL/v1/diagnoses" --next)
}
ARGS=()
for i in $(seq "$LIVE"); do create_args $((20000 + i)); done
unset 'ARGS[${#ARGS[@]}-1]'
c0=$EPOCHREALTIME
curl_batch "$W/live.codes" "${ARGS[@]}"
c1=$EPOCHREALTIME
[ "$(grep -c '^201$' "$W/live.codes")" = "$LIVE" ] \
    || die "creating $LIVE: $(sort "$W/live.codes" | uniq -c | tr '\n' ' ')"
NLIVE=$(VND_TOKEN=$VND_TOKEN_ALICE "$VND" list -f json | jq '[.diagnoses[] | select(.state == "running")] | length')
[ "$NLIVE" = "$LIVE" ] || die "vnd list shows $NLIVE running, not $LIVE"
LIVE_RATE=$(rate "$LIVE" "$c0" "$c1")
NRULES=$(ovs-ofctl -O OpenFlow13 dump-flows "$BR" table=0 | grep -c 'cookie=0x564e')
: >"$W/get100"
for _ in $(seq "$RUNS"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "$AUTH" "$VND_URL/v1/diagnoses" \
        | awk '{ printf "%.1f\n", $1 * 1000 }' >>"$W/get100"
done
read -r G1_MED G1_MIN < <(medmin <"$W/get100")

: >"$W/r_curl" >"$W/r_cli" >"$W/r_of"
printf 'Appliance Node : ids\nCap input\nproto=UDP\ndstPort=30000\n' >"$W/cyc.conf"
body "$(cat "$W/cyc.conf")" >"$W/u30000.json"
for _ in $(seq "$RUNS2"); do
    # curl, one process per call (the id of each create is needed for its stop)
    c0=$EPOCHREALTIME
    for _ in $(seq "$CYCLES"); do
        out=$(curl -s -X POST -H "$AUTH" -H 'Content-Type: application/json' \
              --data-binary @"$W/u30000.json" "$VND_URL/v1/diagnoses")
        [[ $out =~ \"id\":\ ?\"(d[0-9]+)\" ]] || die "curl cycle create: $out"
        code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" \
               "$VND_URL/v1/diagnoses/${BASH_REMATCH[1]}")
        [ "$code" = 200 ] || die "curl cycle stop ${BASH_REMATCH[1]}: $code"
    done
    c1=$EPOCHREALTIME
    rate "$CYCLES" "$c0" "$c1" >>"$W/r_curl"; echo >>"$W/r_curl"
    # the CLI, one process per call
    c0=$EPOCHREALTIME
    for _ in $(seq "$CYCLES"); do
        id=$(VND_TOKEN=$VND_TOKEN_ALICE "$VND" submit -c "$W/cyc.conf" -f json | jq -r .id)
        VND_TOKEN=$VND_TOKEN_ALICE "$VND" stop "$id" >/dev/null || die "vnd stop $id failed"
    done
    c1=$EPOCHREALTIME
    rate "$CYCLES" "$c0" "$c1" >>"$W/r_cli"; echo >>"$W/r_cli"
    # the switch alone, driven as controld drives it (one ovs-ofctl per step)
    c0=$EPOCHREALTIME
    for _ in $(seq "$CYCLES"); do
        echo "table=0,priority=100,cookie=0x42,reg7=0/0x1,in_port=3,udp,tp_dst=30001,actions=push_vlan:0x8100,set_field:8096->vlan_vid,output:9,pop_vlan,load:1->NXM_NX_REG7[0],resubmit(,0)" \
            | ofctl --bundle add-flows "$BR" - || die "ovs-ofctl add-flows failed"
        ofctl del-flows "$BR" "cookie=0x42/-1"
    done
    c1=$EPOCHREALTIME
    rate "$CYCLES" "$c0" "$c1" >>"$W/r_of"; echo >>"$W/r_of"
done
R_CURL=$(best <"$W/r_curl") R_CLI=$(best <"$W/r_cli") R_OF=$(best <"$W/r_of")

# stop all LIVE (one curl process, keep-alive)
ARGS=()
for id in $(VND_TOKEN=$VND_TOKEN_ALICE "$VND" list -f json | jq -r '.diagnoses[].id'); do
    ARGS+=(-o /dev/null -w '%{http_code}\n' -X DELETE -H "$AUTH" "$VND_URL/v1/diagnoses/$id" --next)
done
unset 'ARGS[${#ARGS[@]}-1]'
s0=$EPOCHREALTIME; curl_batch "$W/stop.codes" "${ARGS[@]}"; s1=$EPOCHREALTIME
[ "$(grep -c '^200$' "$W/stop.codes")" = "$LIVE" ] || die "stopping all: $(sort "$W/stop.codes" | uniq -c | tr '\n' ' ')"
STOP_S=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')
LEFT=$(ovs-ofctl -O OpenFlow13 dump-flows "$BR" table=0 | grep -c 'cookie=0x564e')

echo "control server on the test bed ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
echo
printf '%-48s %10s %10s\n' "1. submit -> first row (ms, $RUNS runs)" median min
printf '%-48s %10s %10s\n' "  create call (POST /v1/diagnoses, curl)" "$CR_MED" "$CR_MIN"
printf '%-48s %10s %10s\n' "  wait for the first row in ids_in" "$WA_MED" "$WA_MIN"
printf '%-48s %10s %10s\n' "  total, submit to first row" "$TO_MED" "$TO_MIN"
printf '%-48s %10s %10s\n' "  ref: ovs-ofctl --bundle add-flows, 1 rule" "$OF_MED" "$OF_MIN"
printf '%-48s %10s %10s\n' "  ref: ovs-ofctl --version (process start)" "$OV_MED" "$OV_MIN"
printf '%-48s %10s %10s\n' "  ref: bare GET /v1/diagnoses (curl)" "$G0_MED" "$G0_MIN"
printf '%-48s %10s %10s\n' "  ref: bare GET /v1/diagnoses, $LIVE live" "$G1_MED" "$G1_MIN"
echo "  (polls until the first row: median $PO_MED)"
echo
printf '%-48s %10s\n' "2. with $LIVE live diagnoses ($NRULES capture rules)" "per second"
printf '%-48s %10s\n' "  create $LIVE (curl, keep-alive)" "$LIVE_RATE"
printf '%-48s %10s\n' "  create+stop cycles, curl (best of $RUNS2)" "$R_CURL"
printf '%-48s %10s\n' "  create+stop cycles, vnd submit + vnd stop" "$R_CLI"
printf '%-48s %10s\n' "  ref: ovs-ofctl add-flows + del-flows cycles" "$R_OF"
printf '%-48s %9ss   (%s capture rules left)\n' "  stop all $LIVE (curl, keep-alive)" "$STOP_S" "$LEFT"
