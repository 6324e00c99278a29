#!/usr/bin/env bash
# Runs a command with a PostgreSQL server for the tests, named by the URL in
# CORDON_TEST_PG (a database the tests connect to in order to create and drop
# their own databases, each test its own, so that they run in parallel):
#
#   scripts/pg.sh cargo nextest run -p cordon-store --test postgres
#
# - CORDON_TEST_PG already set: that server is used as it is.
# - Else a server answering on 127.0.0.1:5432 is used (user postgres, trust).
# - Else Debian's `postgresql` is installed (apt-get) when no `initdb` is
#   found, and a throwaway cluster is started in a temporary directory as an
#   unprivileged user, listening on 127.0.0.1 only; it is stopped and removed
#   when the command ends.
#
# CORDON_TEST_PG_THROWAWAY=1 skips the first two (to try the third).
# CORDON_TEST_PG_OPTIONS adds server options to the throwaway cluster's
# (`-c name=value ...`, the last of a name wins; its default turns fsync
# off, which a benchmark turns back on: see bench/postgres/run.sh).
#
# Test databases left behind (named `cordon_t_…`) are dropped at the end.
# Exits with the command's status; fails (never skips) when no server can be
# had.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: scripts/pg.sh COMMAND [ARGS...]" >&2
    exit 2
fi

cluster=""
cleanup() {
    local status=$?
    if [[ -n "${CORDON_TEST_PG:-}" ]] && command -v psql >/dev/null; then
        # Best effort: a database still in use belongs to a run that goes on.
        psql "$CORDON_TEST_PG" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'cordon\_t\_%'" 2>/dev/null |
            while read -r name; do
                psql "$CORDON_TEST_PG" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
            done
    fi
    if [[ -n "$cluster" ]]; then
        runuser -u "$pg_user" -- "$bindir/pg_ctl" -D "$cluster/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$cluster"
    fi
    exit "$status"
}
trap cleanup EXIT

find_bindir() {
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
        return
    fi
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n "$found" && -x "$found/initdb" ]] && echo "$found"
}

start_cluster() {
    bindir=$(find_bindir || true)
    if [[ -z "$bindir" ]]; then
        echo "pg.sh: installing Debian's postgresql" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
        bindir=$(find_bindir)
    fi
    # The server refuses to run as root: an unprivileged user owns the cluster.
    if [[ $(id -u) -eq 0 ]]; then
        pg_user=cordon-pg
        id "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
    else
        pg_user=$(id -un)
    fi
    cluster=$(mktemp -d /tmp/cordon-pg.XXXXXX)
    chown "$pg_user" "$cluster"
    local port=55432
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    run_as() { if [[ $(id -u) -eq 0 ]]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }
    run_as "$bindir/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    run_as "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c max_connections=300 -c fsync=off ${CORDON_TEST_PG_OPTIONS:-}" start >/dev/null
    export CORDON_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
}

answers() {
    if command -v pg_isready >/dev/null; then
        pg_isready -q -d "$1" -t 3
    else
        (echo >/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

if [[ -n "${CORDON_TEST_PG:-}" ]]; then
    answers "$CORDON_TEST_PG" || { echo "pg.sh: CORDON_TEST_PG ($CORDON_TEST_PG) does not answer" >&2; exit 1; }
elif [[ -z "${CORDON_TEST_PG_THROWAWAY:-}" ]] && answers "postgres://postgres@127.0.0.1:5432/postgres"; then
    export CORDON_TEST_PG="postgres://postgres@127.0.0.1:5432/postgres"
else
    start_cluster
    answers "$CORDON_TEST_PG" || { echo "pg.sh: the throwaway cluster did not start" >&2; exit 1; }
fi
echo "pg.sh: tests use $CORDON_TEST_PG" >&2
"$@"
