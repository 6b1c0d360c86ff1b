#!/usr/bin/env bash
# The README's test command: sets up what is missing, then runs every check and test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$B24PAY_ROOT"

step "format"
cargo fmt --all --check

step "clippy (native)"
cargo clippy --workspace --exclude b24pay-widget --all-targets --locked -- -D warnings

step "clippy (the production companion: no preview, no crash points)"
cargo clippy -p b24pay-companion --bin b24pay --locked -- -D warnings

step "clippy (wasm32: widget)"
cargo clippy -p b24pay-widget --target wasm32-unknown-unknown --all-targets --locked -- -D warnings

step "build the widget (trunk, release)"
trunk build --release

step "tests (wasm32, headless Chromium)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test -p b24pay-widget --target wasm32-unknown-unknown --tests --locked

step "tests (wasm32, headless Firefox ESR: the same build, another engine)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  GECKODRIVER="$(command -v geckodriver)" \
  cargo test -p b24pay-widget --target wasm32-unknown-unknown --tests --locked

step "starting a throwaway PostgreSQL (the store's tests run against SQLite and PostgreSQL)"
eval "$(bash scripts/pg.sh start)"
# Only the tests that ask for PostgreSQL get it; everything else keeps its SQLite default.
unset DATABASE_URL
trap 'bash scripts/pg.sh stop' EXIT

step "tests (native: protocol, REST client, sandbox, companion, end-to-end in Chromium and Firefox, fault drills)"
cargo test --workspace --exclude b24pay-widget --locked

step "all checks and tests passed"
