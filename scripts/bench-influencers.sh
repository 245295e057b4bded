#!/usr/bin/env bash
# Speed of influencers (issue 14), side by side in one run on the same generated
# posts (scripts/gen_influencer_posts.py: N posts, default 1,000,000, by 50,000
# authors about 20 trends over a week):
#   - the Rust tool, NDJSON on stdin, 24h windows (release build);
#   - scripts/bench-influencers.py, the same computation with pandas and NetworkX;
#   - the outputs compared row by row (scripts/compare_influencers.py);
#   - SQL mode on the same posts in SQLite (written by a small loader in the
#     shape etl-to-sql stores), to measure its memory against NDJSON mode's.
# Both run on one core (taskset, when there is one). Prints wall seconds, peak RSS
# (/usr/bin/time -v's "Maximum resident set size", else Python's resource module)
# and the ratio. Nothing here is a test.
#
# Usage: N=200000 scripts/bench-influencers.sh   (POSTS=FILE reuses generated posts)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
python=${TRENDPIPE_PYTHON:-python3}

cargo build --release --quiet -p trendpipe-influencers
bin=${CARGO_TARGET_DIR:-target}/release/influencers
work=$(mktemp -d /tmp/influencers-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
one_core=()
command -v taskset >/dev/null && one_core=(taskset -c 0)

# measure LABEL OUTFILE INFILE CMD...: runs CMD < INFILE > OUTFILE, prints seconds and peak RSS.
measure() {
    local label=$1 out=$2 in=$3
    shift 3
    local start end rss cpu
    if [ -x /usr/bin/time ]; then
        start=$(date +%s.%N)
        /usr/bin/time -v -o "$work/time.txt" "${one_core[@]}" "$@" <"$in" >"$out" 2>"$work/stderr.txt"
        end=$(date +%s.%N)
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
        cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$work/time.txt")
    else
        cpu=nan
        start=$(date +%s.%N)
        rss=$("$python" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[3:], stdin=open(sys.argv[1]), stdout=open(sys.argv[2], "w"), stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$in" "$out" "${one_core[@]}" "$@")
        end=$(date +%s.%N)
    fi
    local secs
    secs=$(echo "$end - $start" | bc -l)
    printf '%-20s wall %8.2f s  cpu %8.2f s  peak RSS %7.0f MiB  rows %s\n' \
        "$label" "$secs" "$cpu" "$(echo "$rss / 1024" | bc -l)" "$(wc -l <"$out")"
    echo "$secs" >"$work/$label.secs"
    echo "$cpu" >"$work/$label.cpu"
}

echo "# machine: $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
posts=${POSTS:-$work/posts.ndjson} # POSTS: a file made earlier by gen_influencer_posts.py
if [ -z "${POSTS:-}" ]; then
    echo "# generating $N posts" >&2
    "$python" scripts/gen_influencer_posts.py "$N" >"$posts"
fi
echo "# input: $(wc -l <"$posts") lines, $(du -m "$posts" | cut -f1) MiB"

measure rust "$work/rust.ndjson" "$posts" "$bin" --reject "$work/rejects.ndjson"
measure python "$work/python.ndjson" "$posts" "$python" scripts/bench-influencers.py
printf 'speed-up (python / rust): wall %.1fx, cpu %.1fx\n' \
    "$(echo "$(cat "$work/python.secs") / $(cat "$work/rust.secs")" | bc -l)" \
    "$(echo "$(cat "$work/python.cpu") / $(cat "$work/rust.cpu")" | bc -l)"
"$python" scripts/compare_influencers.py "$work/rust.ndjson" "$work/python.ndjson"
rm -f "$work/rust.ndjson" "$work/python.ndjson" # large, and the disk may be shared

# SQL mode: the schema from the tool itself, the rows as etl-to-sql stores them.
db="$work/posts.db"
"$bin" --db "sqlite:$db" --trend none-at-all 2>/dev/null
"$python" - "$db" "$posts" <<'PY'
import json, sqlite3, sys
db, path = sys.argv[1], sys.argv[2]
posts, trends, authors = {}, {}, {}
for line in open(path):
    r = json.loads(line)
    key = r["id"]
    trends.setdefault(key, set()).add(r["trend"])
    if key not in posts or r["observed_at"] >= posts[key]["observed_at"]:
        posts[key] = r
    a = r["author"]
    authors[a["id"]] = (a.get("handle"), a.get("followers"), r["observed_at"])
t = lambda s: s.replace("Z", "+00:00") if s else None
con = sqlite3.connect(db)
con.executemany("INSERT INTO authors (source, author_id, handle, followers, updated_at) VALUES ('x', ?, ?, ?, ?)",
                ((k, h, f, t(at)) for k, (h, f, at) in authors.items()))
ids = dict(con.execute("SELECT author_id, id FROM authors"))
con.executemany(
    "INSERT INTO posts (source, post_id, author, text, created_at, observed_at, reposts, likes, replies, quotes, "
    "parent_id, quote_of, repost_of) VALUES ('x', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ((k, ids[r["author"]["id"]], r["text"], t(r["created_at"]), t(r["observed_at"]), r["metrics"]["reposts"],
      r["metrics"]["likes"], r["metrics"]["replies"], r["metrics"]["quotes"], r["parent_id"], r["quote_of"],
      r["repost_of"]) for k, r in posts.items()))
pid = dict(con.execute("SELECT post_id, id FROM posts"))
con.executemany("INSERT INTO post_trends (post, trend_key) VALUES (?, ?)",
                ((pid[k], tr) for k, ts in trends.items() for tr in ts))
con.commit()
PY
echo "# SQLite: $(du -m "$db" | cut -f1) MiB"
measure rust-db-sqlite "$work/sql.out" /dev/null "$bin" --db "sqlite:$db"
grep -h "largest window" "$work/stderr.txt" || true
