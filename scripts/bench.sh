#!/usr/bin/env bash
# Scale benchmark of every stage, and the whole pipeline against its Python
# equivalent (issue 17; figures in BENCHMARKS.md, "Scale" and "Whole pipeline").
# A benchmark, not a test: it prints figures and checks nothing.
#
#   scripts/bench.sh [SIZES...]       default: 100000 1000000 (also 1e6, 10^7; 0: none)
#
# For each size N, deterministic inputs from `gen-data` (crates/gen): N trend
# records (snapshots every 30 minutes of 50 places; a year at 10^7) and N post
# records (a week of 20 trends). Every stage runs under GNU time (`/usr/bin/time -v`,
# installed with apt-get when missing): wall time, CPU time, peak RSS, records/s.
#   fetch-posts  imports N statuses saved as X v1.1 search pages
#   clean        the trends, then the posts (NDJSON filter)
#   sentiment    the posts (NDJSON filter)
#   etl-to-sql   the posts, then the trends, into one fresh SQLite file
#   sentiment    --db: scores the file's posts, computes the hourly and daily windows
#   influencers  the posts on stdin (NDJSON mode, 24h windows), then --db
#   alerts       --db (sentiment and volume)
#   report       --db --format html
# Sizes above FULL_MAX (default 10000000) skip the fetch-posts import (N statuses as
# JSON pages on disk: about 5.5 GB at 10^7). STAGES, an extended regular expression, keeps only
# the rows whose stage name matches (`STAGES='--db|influencers'`); the two etl-to-sql
# loads still run unmeasured when a later stage reads their file.
# Then the whole pipeline on PIPELINE posts (default 1000000; 0 skips it), RUNS times
# (default 1) in turn with its Python equivalent (scripts/bench-pipeline.sh), each
# run's wall and CPU time, the medians and the median of the per-pair ratios.
#
# BIN (default: the release directory of $CARGO_TARGET_DIR, else target/release)
# names prebuilt binaries and skips the release build (the tests use debug ones).
# Data goes to WORK (default $CARGO_TARGET_DIR/bench, else target/bench), one size
# at a time, and is deleted as soon as its runs are done (10^7 posts are 5 GB).
# Output: a Markdown table on stdout, progress on stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("${@:-100000 1000000}")
read -r -a sizes <<<"${sizes[*]}"
full_max=${FULL_MAX:-10000000}
pipeline=${PIPELINE:-1000000}
runs=${RUNS:-1}
python=${TRENDPIPE_PYTHON:-python3}
stages=${STAGES:-}
target=${CARGO_TARGET_DIR:-$root/target}
work=${WORK:-$target/bench}
bin=${BIN:-$target/release}
prebuilt=${BIN:+1}
export BIN="$bin"

if [ ! -x /usr/bin/time ]; then
    echo "bench: installing GNU time" >&2
    apt-get install -y -qq time >/dev/null
fi
if [ -z "$prebuilt" ]; then
    echo "bench: building the release binaries" >&2
    (cd "$root" && cargo build --release --quiet -p trendpipe-gen -p trendpipe-fetch-posts -p trendpipe-clean \
        -p trendpipe-sentiment -p trendpipe-etl-to-sql -p trendpipe-influencers -p trendpipe-alerts -p trendpipe-report)
fi
mkdir -p "$work"
gen="$bin/gen-data"

# count N: 1e6 and 10^6 as digits.
count() {
    case $1 in
    *e*) echo $(( ${1%e*} * 10 ** ${1#*e} )) ;;
    *^*) echo $(( ${1%^*} ** ${1#*^} )) ;;
    *) echo "$1" ;;
    esac
}

# wanted STAGE: whether STAGES keeps STAGE's row.
wanted() {
    [ -z "$stages" ] || grep -qE -- "$stages" <<<"$1"
}

# measure STAGE N IN OUT CMD...: runs CMD <IN >OUT under GNU time and prints a table
# row; a stage that STAGES leaves out is skipped, or run unmeasured when it is a load.
measure() {
    local stage=$1 n=$2 in=$3 out=$4 timed=(/usr/bin/time -v -o "$work/time.txt")
    shift 4
    if ! wanted "$stage"; then
        case $stage in
        etl-to-sql*) [ "$loads" = 1 ] && timed=() || return 0 ;;
        *) return 0 ;;
        esac
    fi
    echo "bench: $stage, $n records" >&2
    local rc=0
    "${timed[@]}" "$@" <"$in" >"$out" 2>"$work/stderr.txt" || rc=$?
    # 1: records set aside; 3: alerts raised. Both are complete runs.
    if [ "$rc" -gt 1 ] && [ "$rc" -ne 3 ]; then
        echo "bench: $stage failed (exit $rc):" >&2
        tail -5 "$work/stderr.txt" >&2
        return 1
    fi
    [ "${#timed[@]}" -gt 0 ] || return 0
    awk -F': ' -v stage="$stage" -v n="$n" '
        /Elapsed \(wall clock\)/ { k = split($2, p, ":"); for (i = 1; i <= k; i++) wall = wall * 60 + p[i] }
        /User time|System time/ { cpu += $2 }
        /Maximum resident set size/ { kb = $2 }
        END { printf "| %s | %\047d | %.2f | %.2f | %\047d | %\047d |\n", stage, n, wall, cpu, n / (wall > 0 ? wall : 0.01), kb / 1024 }
    ' "$work/time.txt"
}

echo "| stage | records | wall (s) | CPU (s) | records/s | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|"
for size in "${sizes[@]}"; do
    n=$(count "$size")
    [ "$n" -gt 0 ] || continue # `scripts/bench.sh 0`: the whole pipeline only
    full=$([ "$n" -le "$full_max" ] && echo 1 || echo 0)
    # The loads run when a row reads their file, measured or not.
    loads=0
    for s in "sentiment --db" "influencers --db" "alerts --db" "report --db" "etl-to-sql"; do
        if wanted "$s"; then loads=1; fi
    done
    trends="$work/trends-$n.ndjson" posts="$work/posts-$n.ndjson" db="$work/bench-$n.db"
    echo "bench: generating $n trend records and $n post records" >&2
    "$gen" trends --records "$n" >"$trends"
    "$gen" posts --records "$n" >"$posts"
    if [ "$full" = 1 ] && wanted "fetch-posts (x-v1 import)"; then
        pages="$work/pages-$n"
        rm -rf "$pages"
        "$gen" x-v1 --records "$n" --dir "$pages"
        # The directory: its pages in name order (100,010 files at 10^7 would pass the
        # OS limit on a command line's length as separate arguments).
        measure "fetch-posts (x-v1 import)" "$n" /dev/null /dev/null "$bin/fetch-posts" --source x-v1 --limit 4294967295 --file "$pages"
        rm -rf "$pages"
    fi
    measure "clean (trends)" "$n" "$trends" /dev/null "$bin/clean" --reject "$work/rejects.ndjson"
    measure "clean (posts)" "$n" "$posts" /dev/null "$bin/clean" --reject "$work/rejects.ndjson"
    measure "sentiment (filter)" "$n" "$posts" /dev/null "$bin/sentiment"
    rm -f "$db"
    measure "etl-to-sql (posts → SQLite)" "$n" "$posts" /dev/null "$bin/etl-to-sql" --db "sqlite:$db"
    measure "etl-to-sql (trends → SQLite)" "$n" "$trends" /dev/null "$bin/etl-to-sql" --db "sqlite:$db"
    measure "sentiment --db" "$n" /dev/null /dev/null "$bin/sentiment" --db "sqlite:$db"
    measure "influencers (NDJSON, 24h)" "$n" "$posts" /dev/null "$bin/influencers"
    measure "influencers --db (24h)" "$n" /dev/null /dev/null "$bin/influencers" --db "sqlite:$db"
    measure "alerts --db" "$n" /dev/null /dev/null "$bin/alerts" --db "sqlite:$db"
    measure "report --db (HTML)" "$n" /dev/null "$work/report.html" "$bin/report" --db "sqlite:$db" --format html
    if [ -f "$db" ]; then
        echo "bench: $(du -m "$db" | cut -f1) MiB of SQLite for $n posts and $n trend records" >&2
    fi
    rm -f "$trends" "$posts" "$db" "$db-wal" "$db-shm" "$work/rejects.ndjson"
done

[ "$pipeline" -gt 0 ] || exit 0
pages="$work/pipeline-pages"
rm -rf "$pages"
echo "bench: whole pipeline on $pipeline posts, $runs run(s) of each side in turn" >&2
"$gen" x-v1 --records "$pipeline" --dir "$pages"
: >"$work/pipeline.tsv"
for i in $(seq "$runs"); do
    for side in python rust; do
        /usr/bin/time -v -o "$work/time.txt" "$root/scripts/bench-pipeline.sh" "$side" "$pages" "$work/pipeline" 2>>"$work/pipeline.log"
        awk -F': ' -v side="$side" -v run="$i" '
            /Elapsed \(wall clock\)/ { k = split($2, p, ":"); for (j = 1; j <= k; j++) wall = wall * 60 + p[j] }
            /User time|System time/ { cpu += $2 }
            /Maximum resident set size/ { kb = $2 }
            END { printf "%s\t%s\t%.2f\t%.2f\t%d\n", run, side, wall, cpu, kb / 1024 }' "$work/time.txt" >>"$work/pipeline.tsv"
    done
done
grep 'bench-pipeline' "$work/pipeline.log" >&2 || true
echo
echo "| whole pipeline, $pipeline posts | runs | median wall (s) | median CPU (s) | largest process (MiB) |"
echo "|---|---:|---:|---:|---:|"
"$python" - "$work/pipeline.tsv" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {s: [r for r in rows if r[1] == s] for s in ("python", "rust")}
for side, label in (("python", "Python (json, pandas, vaderSentiment, LeIA, NetworkX, sqlite3)"), ("rust", "trendpipe")):
    r = by[side]
    print(f"| {label} | {len(r)} | {statistics.median(float(x[2]) for x in r):.1f} | "
          f"{statistics.median(float(x[3]) for x in r):.1f} | {max(int(x[4]) for x in r):,} |")
pairs = [float(p[2]) / float(q[2]) for p, q in zip(by["python"], by["rust"])]
cpu = [float(p[3]) / float(q[3]) for p, q in zip(by["python"], by["rust"])]
print(f"\nPython / trendpipe, median of {len(pairs)} per-pair ratio(s): wall {statistics.median(pairs):.1f}x, "
      f"CPU {statistics.median(cpu):.1f}x")
PY
rm -rf "$pages" "$work/pipeline"
