#!/usr/bin/env bash
# The test command: provides real MongoDB-protocol and PostgreSQL servers, then runs
# the formatter check, clippy and every test of the workspace against them.
# Tests that need a service fail (not skip) when it is missing here.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/services.sh
source scripts/services.sh
trap services_stop EXIT
trap 'exit 130' INT TERM

services_start
export TRENDPIPE_REQUIRE_SERVICES=1

echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
# Tests that need a service or Chromium are #[ignore]d for a plain `cargo test`.
cargo test --workspace --locked -- --include-ignored
