#!/usr/bin/env bash
# Load benchmark of etl-to-sql (issue 5), side by side in one run on the same
# generated posts (N, default 1,000,000):
#   - etl-to-sql into SQLite and into PostgreSQL (release build, NDJSON on stdin);
#   - a bare COPY of the same rows into PostgreSQL (psql \copy of a CSV);
#   - a straightforward Python loader (pymongo + psycopg executemany) reading the
#     same posts from MongoDB.
# Prints rows/s for each. Uses the services of scripts/services.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}

source scripts/services.sh
trap services_stop EXIT
services_start
"$TRENDPIPE_PYTHON" -m pip install --quiet --disable-pip-version-check "psycopg[binary]==3.2.*" >/dev/null

cargo build --release --locked --quiet -p trendpipe-etl-to-sql
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d /tmp/trendpipe-bench.XXXXXX)
trap 'rm -rf "$work"; services_stop' EXIT

echo "generating $N posts" >&2
python3 scripts/gen_posts.py "$N" ndjson >"$work/posts.ndjson"
python3 scripts/gen_posts.py "$N" csv >"$work/posts.csv"

pg=$TRENDPIPE_TEST_DATABASE_URL
pg_base=${pg%/*}
newdb() {
    local name="bench_$1_$$"
    psql -q "$pg" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
    echo "$pg_base/$name"
}
now() { date +%s.%N; }
# rate ROWS SECONDS | rate ROWS T0 T1
rate() {
    python3 -c "import sys; a = sys.argv[1:]; n = int(a[0]); s = float(a[1]) if len(a) == 2 else float(a[2]) - float(a[1]); print(f'{n / s:,.0f} rows/s ({s:.2f} s)')" "$@"
}

results=()

t0=$(now)
"$bin/etl-to-sql" --db "sqlite:$work/bench.db" --batch-size 5000 <"$work/posts.ndjson" 2>/dev/null
t1=$(now)
results+=("etl-to-sql → SQLite          $(rate "$N" "$t0" "$t1")")

db=$(newdb etl)
t0=$(now)
"$bin/etl-to-sql" --db "$db" --batch-size 5000 <"$work/posts.ndjson" 2>/dev/null
t1=$(now)
results+=("etl-to-sql → PostgreSQL      $(rate "$N" "$t0" "$t1")")

db=$(newdb copy)
psql -q "$db" -c "CREATE TABLE posts_copy (source text, post_id text, author_id text, url text, text text, lang text,
    created_at timestamptz, observed_at timestamptz, reposts bigint, likes bigint, replies bigint, quotes bigint,
    parent_id text, quote_of text)"
t0=$(now)
psql -q "$db" -c "\\copy posts_copy FROM '$work/posts.csv' WITH (FORMAT csv)"
t1=$(now)
results+=("bare COPY → PostgreSQL       $(rate "$N" "$t0" "$t1")")

echo "loading the posts into MongoDB for the Python loader (untimed)" >&2
"$TRENDPIPE_PYTHON" - "$TRENDPIPE_TEST_MONGODB_URI" "$work/posts.ndjson" <<'PY'
import json, sys
from datetime import datetime
from pymongo import MongoClient
coll = MongoClient(sys.argv[1])["bench"]["posts"]
coll.drop()
batch = []
for line in open(sys.argv[2]):
    d = json.loads(line)
    for f in ("created_at", "observed_at"):
        d[f] = datetime.fromisoformat(d[f].replace("Z", "+00:00"))
    batch.append(d)
    if len(batch) == 10000:
        coll.insert_many(batch); batch = []
if batch:
    coll.insert_many(batch)
PY
db=$(newdb python)
"$bin/etl-to-sql" --db "$db" </dev/null 2>/dev/null # creates the schema
read -r rows secs < <("$TRENDPIPE_PYTHON" scripts/bench_pyloader.py "$TRENDPIPE_TEST_MONGODB_URI" bench "$db")
results+=("Python pymongo+psycopg       $(rate "$rows" "$secs")")

echo
echo "load of $N generated posts, $(nproc) cores:"
printf '  %s\n' "${results[@]}"
