#!/usr/bin/env bash
# The README's benchmark command: sets up what is missing, builds the widget and the companion
# in release mode, starts a throwaway PostgreSQL, then measures
#   - the widget's weight (each file raw, gzip, brotli; the total against the 64 KB target and
#     the 90 KB hard limit, above which this command fails) and what the wasm is made of (twiggy),
#   - the widget's speed in headless Chromium against a plain-JavaScript baseline page,
#   - the companion's throughput, latency and peak memory with SQLite and PostgreSQL,
#   - throughput within the portal's rate limit (the sandbox's bucket on, 50/200/1000
#     simultaneous customers, batching off and on; alone: scripts/bench.sh --only throughput),
#     and the sustained rate (payments/s paid within 10 s, each level held a minute; part of
#     throughput, alone: --only sustained),
# prints the figures with their targets and writes them into BENCHMARKS.md.
# Extra arguments go to the benchmark (e.g. --runs 10, --only weight,speed, --no-write); the
# widget is built only for the parts that measure it (weight, speed). The companion and the
# benchmark are always release builds.
# Takes about 10 minutes on a 2-core machine after the release builds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$B24PAY_ROOT"

# The parts asked for (`--only a,b` or `--only=a,b`); none: all of them.
only=""
prev=""
for arg in "$@"; do
  case "$arg" in
    --only=*) only="${arg#--only=}" ;;
    *) [ "$prev" = "--only" ] && only="$arg" ;;
  esac
  prev="$arg"
done
wants() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

if wants weight || wants speed; then
  step "building the widget (trunk, release)"
  trunk build --release
fi

if wants weight; then
  # twiggy reads the wasm's size by crate and function for the breakdown.
  twiggy_version="0.8.0"
  if [ "$(twiggy --version 2>/dev/null | awk '{print $2}')" != "$twiggy_version" ]; then
    step "installing twiggy $twiggy_version (first time: ~2 min)"
    cargo install --locked twiggy --version "$twiggy_version" --force
  fi

  step "building the widget with its names kept, for the size breakdown (the same code as the release)"
  cargo build --locked -p b24pay-widget --bin b24pay-widget --target wasm32-unknown-unknown --profile wasm-names
fi

step "building the companion and the benchmark (cargo, release; the first build takes a few minutes)"
cargo build --release --locked -p b24pay-companion --bin b24pay -p b24pay-e2e --bin b24pay-bench
release="${CARGO_TARGET_DIR:-$B24PAY_ROOT/target}/release"

if wants load; then
  step "starting a throwaway PostgreSQL for the store comparison"
  export B24PAY_PG_DIR="${B24PAY_PG_DIR:-/tmp/b24pay-bench-pg}"
  eval "$(bash scripts/pg.sh start)"
  unset DATABASE_URL
  trap 'bash scripts/pg.sh stop' EXIT
fi

step "benchmarks"
B24PAY_BIN="$release/b24pay" "$release/b24pay-bench" "$@"
