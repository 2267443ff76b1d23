# lib-pg.sh — private PostgreSQL instances for a test (sourced after
# lib.sh): each in a directory of the test's own, listening on a Unix
# socket only, run as the postgres user, stopped by pg_stop_all (call it
# from the test's exit trap, failure included).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DIRS=()
pg() { runuser -u postgres -- "$@"; }

# pg_need WHAT [fdw]: skips the whole test unless PostgreSQL (and its
# postgres_fdw, with fdw) can run here.
pg_need() {
    local fdw_ok=yes
    if [ "${2:-}" = fdw ] &&
       ! ls /usr/share/postgresql/*/extension/postgres_fdw.control >/dev/null 2>&1; then
        fdw_ok=
    fi
    if [ -z "$PGBIN" ] || ! id postgres >/dev/null 2>&1 || [ "$(id -u)" != 0 ] || [ -z "$fdw_ok" ]; then
        skip "$1 (needs the postgresql package${2:+ with postgres_fdw} and root to run it as postgres)"
        done_testing; exit
    fi
}

# The server's options: a socket in DIR only, no durability (a test's data).
pg_opts() { echo "-k $1 -c listen_addresses='' -c fsync=off -c full_page_writes=off"; }

# pg_start WHAT DATADIR SOCKDIR [-c name=value ...]: initdb (superuser vnd,
# trust) and start; skips the test when it cannot.  Logs: DATADIR.log
# (the server's) and DATADIR.initdb.log.
pg_start() {
    local what=$1 d=$2 s=$3
    shift 3
    mkdir -p "$d" "$s" && chown postgres "$d" "$s"
    PG_DIRS+=("$d")
    if ! pg "$PGBIN/initdb" -D "$d" -A trust -U vnd --no-sync >"$d.initdb.log" 2>&1 ||
       ! pg "$PGBIN/pg_ctl" -D "$d" -w -t 30 -l "$d.log" -o "$(pg_opts "$s") $*" start >/dev/null 2>&1; then
        skip "$what (PostgreSQL did not start: $(tail -1 "$d.log" "$d.initdb.log" 2>/dev/null | tr '\n' ' '))"
        done_testing; exit
    fi
}

pg_stop_all() {
    local d
    for d in "${PG_DIRS[@]}"; do
        [ -f "$d/postmaster.pid" ] && pg "$PGBIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1
    done
    return 0
}
