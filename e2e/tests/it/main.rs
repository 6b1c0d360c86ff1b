//! The end-to-end tests, in one test binary (one link instead of three on a 2-core machine), a
//! module per suite; every test's name starts with its suite's:
//!
//! | module | what |
//! |---|---|
//! | `browser` | the whole product in headless Chromium and Firefox ESR (`browser::chromium::…`, `browser::firefox::…`) |
//! | `fault_drills` | the real `b24pay` process killed, flooded and abandoned (`scripts/drill.sh` runs `fault_drills::` with more kills) |
//! | `preview` | `b24pay preview` as a new user runs it |
//!
//! One suite alone: `cargo test -p b24pay-e2e --test it -- fault_drills::`.

mod browser;
mod fault_drills;
mod preview;
