#!/usr/bin/env bash
# The README's full fault drill: the nobody-retries SIGKILL drill with B24PAY_DRILL_KILLS kills
# per store (default 50: 100 in all, against SQLite and a throwaway PostgreSQL), then the
# retrying SIGKILL drill. The test command runs the same drill with 10 kills per store.
# Takes a few minutes after the builds. Extra arguments go to the test harness.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$B24PAY_ROOT"

step "starting a throwaway PostgreSQL"
export B24PAY_PG_DIR="${B24PAY_PG_DIR:-/tmp/b24pay-drill-pg}"
eval "$(bash scripts/pg.sh start)"
unset DATABASE_URL
trap 'bash scripts/pg.sh stop' EXIT

step "fault drills (${B24PAY_DRILL_KILLS:=50} kills per store)"
export B24PAY_DRILL_KILLS
cargo test --locked -p b24pay-e2e --test it -- --nocapture --test-threads 1 "$@" fault_drills::
