#!/usr/bin/env bash
# Benchmark of `clean` in filter mode against the jq filter it replaces in ad hoc
# pipelines, `jq -c 'select(.volume != null)'` (issue 4). A benchmark, not a test:
# it prints figures and checks nothing.
#
#   scripts/bench-clean.sh [LINES] [LINES...]    default: 1000000
#
# For each size it generates a raw input (scripts/gen-clean-bench.py: trends in
# snapshots of 20 places, one line in ten a post, null volumes, counts as strings,
# repeated observations, re-fetched posts, HTML entities), then runs the release
# `clean` and jq on it under /usr/bin/time -v and prints wall time and peak RSS.
# Give several sizes to see that clean's peak RSS does not grow with the input.
# Needs jq and GNU time (`apt-get install jq time`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("${@:-1000000}")
for tool in jq /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "bench-clean: $tool is missing (apt-get install jq time python3)" >&2; exit 2; }
done

echo "bench-clean: building clean (release)" >&2
(cd "$root" && cargo build --release --quiet -p trendpipe-clean)
target="${CARGO_TARGET_DIR:-$root/target}"
clean="$target/release/clean"
work="$target/bench-clean"
mkdir -p "$work"

# measure OUT CMD...: runs CMD under GNU time; prints "seconds KB".
measure() {
    local out=$1; shift
    # clean exits 1 when it rejected records; the figures are what matter here.
    /usr/bin/time -v -o "$work/time.txt" "$@" > "$out" 2>"$work/stderr.txt" || true
    local wall kb
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    # m:ss.cc or h:mm:ss to seconds
    wall=$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }')
    echo "$wall $kb"
}

printf '%-10s %-6s %10s %12s %10s\n' lines tool "wall (s)" "peak RSS" "lines out"
for lines in "${sizes[@]}"; do
    input="$work/raw-$lines.ndjson"
    if [[ ! -s "$input" ]]; then
        echo "bench-clean: generating $lines lines" >&2
        python3 "$root/scripts/gen-clean-bench.py" "$lines" > "$input.tmp" && mv "$input.tmp" "$input"
    fi
    rm -f "$work/rejects.ndjson"
    read -r c_wall c_kb < <(measure "$work/clean.out" "$clean" --reject "$work/rejects.ndjson" < "$input")
    grep -v '^clean: warning' "$work/stderr.txt" >&2 || true
    read -r j_wall j_kb < <(measure "$work/jq.out" jq -c 'select(.volume != null)' "$input")
    printf '%-10s %-6s %10s %9s MB %10s\n' "$lines" clean "$c_wall" "$((c_kb / 1024))" "$(wc -l < "$work/clean.out")"
    printf '%-10s %-6s %10s %9s MB %10s\n' "$lines" jq "$j_wall" "$((j_kb / 1024))" "$(wc -l < "$work/jq.out")"
    awk -v c="$c_wall" -v j="$j_wall" 'BEGIN { printf "           clean is %.1fx faster than jq\n", j / c }'
done
