#!/usr/bin/env bash
# Load benchmark of etl-to-sql (issue 5), side by side in one run on the same
# generated posts (N, default 1,000,000):
#   - etl-to-sql into SQLite and into PostgreSQL (release build, NDJSON on stdin);
#   - a bare COPY of the same rows into PostgreSQL (psql \copy of CSV files): the
#     rows etl-to-sql stored (authors, posts, trend links, exported from its
#     database) into the same tables of a fresh schema, and the posts alone into a
#     table without index, key or constraint (PostgreSQL's raw ingest speed);
#   - a straightforward Python loader (pymongo + psycopg executemany) reading the
#     same posts from MongoDB.
# Prints records/s for each, and rows/s where rows are the rows stored in the
# tables (each generated record is a post, its author and its trend link; authors
# repeat, so there are fewer author rows than records). Uses the services of
# scripts/services.sh.
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
python3 scripts/gen_posts.py "$N" csv >"$work/posts-raw.csv"

pg=$TRENDPIPE_TEST_DATABASE_URL
pg_base=${pg%/*}
newdb() {
    local name="bench_$1_$$"
    psql -q "$pg" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
    echo "$pg_base/$name"
}
now() { date +%s.%N; }

# stored DB: "posts authors links" rows in the loaded database.
stored() {
    case $1 in
    sqlite:*) python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(*[c.execute(f'SELECT count(*) FROM {t}').fetchone()[0] for t in ('posts', 'authors', 'post_trends')])" "${1#sqlite:}" ;;
    *) psql -qAt "$1" -c "SELECT (SELECT count(*) FROM posts) || ' ' || (SELECT count(*) FROM authors) || ' ' || (SELECT count(*) FROM post_trends)" ;;
    esac
}
# report WHAT SECONDS DB: records/s and stored rows/s.
report() {
    local what=$1 secs=$2 p a l
    read -r p a l < <(stored "$3")
    python3 -c "import sys; what, n, s, p, a, l = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), *map(int, sys.argv[4:]); r = p + a + l; print(f'{what:<34} {n / s:>9,.0f} records/s {r / s:>9,.0f} rows/s ({s:.2f} s; {p:,} posts, {a:,} authors, {l:,} links)')" "$what" "$N" "$secs" "$p" "$a" "$l"
}
elapsed() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$@"; }

results=()

t0=$(now)
"$bin/etl-to-sql" --db "sqlite:$work/bench.db" --batch-size 5000 <"$work/posts.ndjson" 2>/dev/null
t1=$(now)
results+=("$(report "etl-to-sql → SQLite" "$(elapsed "$t0" "$t1")" "sqlite:$work/bench.db")")

t0=$(now)
taskset -c 0 "$bin/etl-to-sql" --db "sqlite:$work/bench1.db" --batch-size 5000 <"$work/posts.ndjson" 2>/dev/null
t1=$(now)
results+=("$(report "etl-to-sql → SQLite, one core" "$(elapsed "$t0" "$t1")" "sqlite:$work/bench1.db")")

loaded=$(newdb etl)
t0=$(now)
"$bin/etl-to-sql" --db "$loaded" --batch-size 5000 <"$work/posts.ndjson" 2>/dev/null
t1=$(now)
results+=("$(report "etl-to-sql → PostgreSQL" "$(elapsed "$t0" "$t1")" "$loaded")")

# The same rows, as etl-to-sql stored them, copied into the same tables.
for t in authors posts post_trends; do
    psql -q "$loaded" -c "\\copy $t TO '$work/$t.csv' WITH (FORMAT csv)"
done
db=$(newdb same)
"$bin/etl-to-sql" --db "$db" </dev/null 2>/dev/null # creates the schema
t0=$(now)
psql -q "$db" -v ON_ERROR_STOP=1 -c "\\copy authors FROM '$work/authors.csv' WITH (FORMAT csv)" \
    -c "\\copy posts FROM '$work/posts.csv' WITH (FORMAT csv)" \
    -c "\\copy post_trends FROM '$work/post_trends.csv' WITH (FORMAT csv)"
t1=$(now)
results+=("$(report "bare COPY, same rows, same tables" "$(elapsed "$t0" "$t1")" "$db")")

db=$(newdb copy)
psql -q "$db" -c "CREATE TABLE posts_copy (source text, post_id text, author_id text, url text, text text, lang text,
    created_at timestamptz, observed_at timestamptz, reposts bigint, likes bigint, replies bigint, quotes bigint,
    parent_id text, quote_of text)"
t0=$(now)
psql -q "$db" -c "\\copy posts_copy FROM '$work/posts-raw.csv' WITH (FORMAT csv)"
t1=$(now)
s=$(elapsed "$t0" "$t1")
results+=("$(python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print(f'{sys.argv[3]:<34} {n / s:>9,.0f} records/s {n / s:>9,.0f} rows/s ({s:.2f} s)')" "$N" "$s" "bare COPY, posts, unindexed table")")

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
results+=("$(report "Python pymongo+psycopg" "$secs" "$db")")

echo
echo "load of $N generated post records, $(nproc) cores:"
printf '  %s\n' "${results[@]}"
