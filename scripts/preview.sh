#!/usr/bin/env bash
# The README's preview command: sets up what is missing, builds the widget and the companion,
# then runs the whole product on this machine — two sandbox portals (local stand-ins for
# Bitrix24 portals) that install the companion as a Market application, and the companion
# serving each one's widget — with embedded defaults and no configuration. Ctrl-C stops
# everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$B24PAY_ROOT"

step "building the widget (trunk, release; the first build takes a few minutes)"
trunk build --release

step "building the companion (cargo, release; the first build takes a few minutes)"
cargo build --release --locked -p b24pay-companion --features preview --bin b24pay

step "starting the sandbox portals and the companion"
exec "${CARGO_TARGET_DIR:-$B24PAY_ROOT/target}/release/b24pay" preview --dist-dir "$B24PAY_ROOT/dist" "$@"
