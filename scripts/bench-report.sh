#!/usr/bin/env bash
# Benchmarks `report serve` on a year of 30-minute snapshots of 50 places (over 10
# million observations, SQLite): p50/p95/p99 of `/` and of trend pages, and requests
# per second with 4 clients. The database is generated once (a few minutes) into
# target/bench-report/year.db, deterministic; delete it to regenerate.
#   scripts/bench-report.sh                 # SQLite
#   BENCH_DAYS=30 scripts/bench-report.sh   # a smaller database
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
dir=target/bench-report
days=${BENCH_DAYS:-365}
db=${BENCH_DB:-$dir/year-$days.db}
mkdir -p "$dir"

cargo build --release -p trendpipe-report >&2
bin=$target/release/report
if [ ! -s "$db" ]; then
    rm -f "$db" && touch "$db"
    # An empty file: the report applies the migrations to it and finds no data.
    "$bin" top --db "sqlite:$db" >/dev/null
    /usr/bin/time -f "bench-report: generated in %e s" python3 scripts/gen_report_bench.py "$db" --days "$days" >&2
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --db "sqlite:$db" --addr "127.0.0.1:$port" 2>"$dir/serve.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
echo "bench-report: $(sqlite3 "$db" 'SELECT COUNT(*) FROM trend_observations' 2>/dev/null || echo '?') observations, $(nproc) cores" >&2
python3 scripts/bench_report_client.py "http://127.0.0.1:$port" "$@"
