#!/usr/bin/env bash
# Benchmarks `report serve` on a year of 30-minute snapshots of 50 places (over 10
# million observations, SQLite or PostgreSQL): p50/p95/p99 of `/` and of trend pages,
# and requests per second with 4 clients. The database is generated once (a few
# minutes) into target/bench-report/year.db, deterministic; delete it to regenerate.
# With --postgres URL, the same rows are copied into that PostgreSQL database (it must
# exist and hold no observations; it is migrated and filled once, then reused) and the
# server reads it instead.
#   scripts/bench-report.sh                                  # SQLite
#   BENCH_DAYS=30 scripts/bench-report.sh                    # a smaller database
#   scripts/bench-report.sh --postgres postgres://u@host/db  # PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
dir=${BENCH_DIR:-target/bench-report}
days=${BENCH_DAYS:-365}
db=${BENCH_DB:-$dir/year-$days.db}
pg=
if [ "${1:-}" = "--postgres" ]; then
    pg=${2:?--postgres needs a URL}
    shift 2
fi
mkdir -p "$dir"

cargo build --release -p trendpipe-report >&2
bin=$target/release/report
if [ ! -s "$db" ]; then
    rm -f "$db" && touch "$db"
    # An empty file: the report applies the migrations to it and finds no data.
    "$bin" top --db "sqlite:$db" >/dev/null
    /usr/bin/time -f "bench-report: generated in %e s" python3 scripts/gen_report_bench.py "$db" --days "$days" >&2
fi

url="sqlite:$db"
count() { sqlite3 "$db" 'SELECT COUNT(*) FROM trend_observations' 2>/dev/null || echo '?'; }
if [ -n "$pg" ]; then
    url=$pg
    count() { psql -X -At "$pg" -c 'SELECT COUNT(*) FROM trend_observations' 2>/dev/null || echo '?'; }
    # `report` applies the migrations; an empty database gives an empty report.
    "$bin" top --db "$pg" >/dev/null
    if [ "$(psql -X -At "$pg" -c 'SELECT COUNT(*) FROM (SELECT 1 FROM trend_observations LIMIT 1) x')" = 0 ]; then
        /usr/bin/time -f "bench-report: copied into PostgreSQL in %e s" python3 scripts/bench_report_to_pg.py "$db" "$pg" >&2
    fi
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --db "$url" --addr "127.0.0.1:$port" 2>"$dir/serve.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    # Any answer will do: /healthz says 503 when the generated data is older than 2 h.
    curl -sS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    sleep 0.1
done
echo "bench-report: $(count) observations, $(nproc) cores" >&2
python3 scripts/bench_report_client.py "http://127.0.0.1:$port" "$@"
