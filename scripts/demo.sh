#!/usr/bin/env bash
# See it work: builds the tools in release mode and runs the pipeline on the files in
# fixtures/ (saved X trend snapshots and searches, sample posts) into an SQLite file.
# No server, no API key. Writes out/report.html and prints the top-10 trends.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building (release)" >&2
cargo build --release --locked --bins --quiet
bin=target/release
out=out
mkdir -p "$out"
rm -f "$out"/trendpipe.db "$out"/trendpipe.db-* "$out"/*.rejects.ndjson

files=()
for f in fixtures/x-v1/*.json; do
    files+=(--file "$f")
done

echo "== fetch-trends | clean | etl-to-sql" >&2
"$bin/fetch-trends" --source x-v1 "${files[@]}" \
    | "$bin/clean" --reject "$out/clean.rejects.ndjson" \
    | "$bin/etl-to-sql" --db "sqlite:$out/trendpipe.db" --reject "$out/etl-to-sql.rejects.ndjson"

echo "== fetch-posts (saved X searches about the trends) | clean | sentiment | etl-to-sql" >&2
searches=()
for f in fixtures/posts-x-v1/*.json; do
    searches+=(--file "$f")
done
"$bin/fetch-posts" --source x-v1 "${searches[@]}" \
    | "$bin/clean" --reject "$out/clean.rejects.ndjson" \
    | "$bin/sentiment" --reject "$out/sentiment.rejects.ndjson" \
    | "$bin/etl-to-sql" --db "sqlite:$out/trendpipe.db" --reject "$out/etl-to-sql.rejects.ndjson"

echo "== sentiment (sample posts: as a filter, then in SQL with per-trend windows)" >&2
"$bin/sentiment" --reject "$out/sentiment.rejects.ndjson" \
    <fixtures/posts/sample-posts.ndjson >"$out/posts-scored.ndjson"
"$bin/etl-to-sql" --db "sqlite:$out/trendpipe.db" --reject "$out/etl-to-sql.rejects.ndjson" \
    <fixtures/posts/sample-posts.ndjson
"$bin/sentiment" --db "sqlite:$out/trendpipe.db"

echo "== influencers (who drives each trend, per day)" >&2
"$bin/influencers" --db "sqlite:$out/trendpipe.db" --window 24h --format table --top 3

echo "== alerts (exit 3 means some were raised)" >&2
status=0
"$bin/alerts" --db "sqlite:$out/trendpipe.db" --format table || status=$?
if [[ $status -ne 0 && $status -ne 3 ]]; then
    exit "$status"
fi

echo "== report" >&2
"$bin/report" --db "sqlite:$out/trendpipe.db" --format html --output "$out/report.html"
"$bin/report" --db "sqlite:$out/trendpipe.db" --format csv --output "$out/top10.csv"
"$bin/report" --db "sqlite:$out/trendpipe.db"

cat >&2 <<MSG

Open $out/report.html in a browser; $out/top10.csv loads into a spreadsheet.
Dropped records and their reasons: $out/clean.rejects.ndjson
Scored sample posts: $out/posts-scored.ndjson
MSG
