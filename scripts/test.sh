#!/usr/bin/env bash
# The test command: provides real MongoDB-protocol and PostgreSQL servers, then runs
# the formatter check, clippy and every test of the workspace against them.
# Tests that need a service are marked #[ignore = "needs …"] so that a plain
# `cargo test` lists them as ignored; here they run (--include-ignored), and fail
# rather than skip when their service is missing.
# --no-fail-fast: every failing test binary is reported, not only the first.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/services.sh
source scripts/services.sh
trap services_stop EXIT
trap 'exit 130' INT TERM

services_start

echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --locked --no-fail-fast -- --include-ignored
