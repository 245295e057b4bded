#!/usr/bin/env bash
# Fuzzes every target of fuzz/ for SECONDS seconds each (default 60), seeded from
# fixtures/ (the SEEDS of fuzz/src/lib.rs) and from what earlier runs found
# (fuzz/corpus/, kept between runs, not committed).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# A crash is copied into fuzz/regressions/<target>/, where the stable test
# tests/fuzz_regressions.rs replays it on every `scripts/test.sh`: fix it, commit the
# file. The exit status is 1 when a target crashed.
#
# Needs the nightly toolchain (libFuzzer's instrumentation); installs cargo-fuzz when
# it is missing. The targets are built without a sanitizer by default: the workspace
# forbids unsafe code, and AddressSanitizer makes each run several times slower on
# small machines; FUZZ_SANITIZER=address brings it back.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }
sanitizer=${FUZZ_SANITIZER:-none}
# The fuzz workspace builds into its own target dir (a nightly, instrumented build
# that shares nothing with the main one).
target_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/fuzz}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

# The seed directories of each target, from fuzz/src/lib.rs's SEEDS table.
seeds_of() {
    sed -n "s/^ *(\"$1\", \"\\(fixtures\\/[^\"]*\\)\"),\$/\\1/p" fuzz/src/lib.rs
}

echo "== building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)" >&2

(cd fuzz && cargo +nightly fuzz build -s "$sanitizer" --target-dir "$target_dir")

crashed=()
for t in "${targets[@]}"; do
    corpus=fuzz/corpus/$t
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    for dir in $(seeds_of "$t"); do
        cp -n "$dir"/* "$corpus"/ 2>/dev/null || true
    done
    echo "== $t: ${seconds}s" >&2
    before=$(find "fuzz/artifacts/$t" -type f | sort)
    if ! (cd fuzz && cargo +nightly fuzz run -s "$sanitizer" --target-dir "$target_dir" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 2>&1 | tail -n 40 >&2); then
        :
    fi
    after=$(find "fuzz/artifacts/$t" -type f | sort)
    new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
    if [[ -n $new ]]; then
        mkdir -p "fuzz/regressions/$t"
        while read -r f; do
            cp "$f" "fuzz/regressions/$t/"
            echo "!! $t crashed: fuzz/regressions/$t/$(basename "$f")" >&2
        done <<<"$new"
        crashed+=("$t")
    fi
done

if [[ ${#crashed[@]} -gt 0 ]]; then
    echo "== crashes in: ${crashed[*]} (replay: cargo test -p trendpipe-pipeline-tests --test fuzz_regressions)" >&2
    exit 1
fi
echo "== no crash in ${#targets[@]} targets" >&2
