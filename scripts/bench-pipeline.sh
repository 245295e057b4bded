#!/usr/bin/env bash
# One run of the whole pipeline on saved X v1.1 search pages (made by
# `gen-data x-v1`), in Rust or in Python, into a fresh SQLite file; for the side by
# side figures of scripts/bench.sh (BENCHMARKS.md, "Whole pipeline").
#
#   scripts/bench-pipeline.sh rust|python PAGES_DIR WORK_DIR
#
# rust:   fetch-posts --source x-v1 | clean | sentiment | etl-to-sql, then
#         sentiment --db (the per-trend windows), influencers --db, alerts --db and
#         report --format html, as the README chains them; release binaries from
#         $BIN (default: $CARGO_TARGET_DIR/release, else target/release).
# python: scripts/bench_pipeline.py, the same steps with json, pandas,
#         vaderSentiment, LeIA, NetworkX and sqlite3 ($TRENDPIPE_PYTHON).
# Each step's wall time goes to stderr, then the posts and influencer rows the run
# left in its file (`bench-pipeline rust: 960334 posts, 311097 influencer rows`), the
# two figures that must agree between the sides; nothing is checked here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
side=${1:?rust or python} pages=${2:?PAGES_DIR} work=${3:?WORK_DIR}
bin=${BIN:-${CARGO_TARGET_DIR:-$root/target}/release}
mkdir -p "$work"
db="$work/$side.db"
rm -f "$db" "$db-wal" "$db-shm"

step() {
    local name=$1 start
    shift
    start=$(date +%s.%N)
    # A stage exits 1 when it set records aside and alerts 3 when it raised alerts:
    # both are finished runs.
    "$@" || {
        local rc=$?
        [ "$rc" -le 1 ] || { [ "$name" = alerts ] && [ "$rc" -eq 3 ]; } || {
            echo "bench-pipeline $side: $name failed (exit $rc)" >&2
            exit "$rc"
        }
    }
    printf 'bench-pipeline %s: %-12s %7.2f s\n' "$side" "$name" "$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')" >&2
}

case $side in
rust)
    import_to_load() {
        "$bin/fetch-posts" --source x-v1 --limit 4294967295 --file "$pages" \
            | "$bin/clean" --reject "$work/rejects.ndjson" \
            | "$bin/sentiment" \
            | "$bin/etl-to-sql" --db "sqlite:$db"
    }
    step import-to-load import_to_load
    step windows "$bin/sentiment" --db "sqlite:$db"
    step influencers "$bin/influencers" --db "sqlite:$db"
    step alerts "$bin/alerts" --db "sqlite:$db" --metric sentiment >"$work/rust-alerts.ndjson"
    step report "$bin/report" --db "sqlite:$db" --format html --output "$work/rust-report.html"
    ;;
python)
    step all "${TRENDPIPE_PYTHON:-python3}" "$root/scripts/bench_pipeline.py" "$pages" "$db" "$work/python-report.html"
    ;;
*)
    echo "bench-pipeline: rust or python, not $side" >&2
    exit 2
    ;;
esac

# The end state that both sides must share, read with Python's sqlite3 module (the
# sqlite3 shell is not on every machine).
count() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$db" "$1"
}
posts=$(count 'SELECT count(*) FROM posts')
scores=$(count 'SELECT count(*) FROM influencer_scores')
echo "bench-pipeline $side: $posts posts, $scores influencer rows" >&2
