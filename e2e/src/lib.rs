//! Shared harness for the end-to-end tests, fault drills and benchmarks.
//!
//! Everything runs as it does for a customer: the portal sandbox (in-process, on
//! `127.0.0.1:<free port>`), the real `b24pay` binary as a child process (its widget on
//! `http://localhost:<port>/`, a different origin), the handler registered through the real
//! `b24pay register` command, and real browsers through their WebDriver servers.
//!
//! | file | concern |
//! |---|---|
//! | `binary.rs` | finding (or building) the `b24pay` binary |
//! | `companion.rs` | one `b24pay serve` process: start, SIGKILL, restart on the same port and data |
//! | `store.rs` | SQLite or PostgreSQL for the companion; the acquirer's ledger (charges per payment) |
//! | `stack.rs` | sandbox + companion + registration: one isolated world per test |
//! | `browser/` | headless Chromium / Firefox ESR through chromedriver / geckodriver (`driver.rs`), and screenshots as pixels (`image.rs`) |
//! | `widget.rs` | the widget's build (`dist/`) and its frame on the store page |
//! | `wait.rs` | explicit waits with timeouts |
//! | `cards.rs` | the test acquirer's card numbers |
//! | `localstripe.rs` | localstripe (Stripe's stand-in) started on 127.0.0.1: the Stripe tests' own launcher |

pub mod binary;
pub mod browser;
pub mod cards;
pub mod companion;
/// The companion's Stripe tests start localstripe with this; one launcher for both.
#[path = "../../companion/tests/stripe/localstripe.rs"]
pub mod localstripe;
pub mod stack;
pub mod store;
pub mod wait;
pub mod widget;

/// Writes straight to stderr, bypassing the test harness's capture, for what must be seen even
/// when a test passes (seeds, skips, build steps).
pub fn say(text: impl AsRef<str>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{}", text.as_ref());
}

/// The repository's root (the workspace).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ has a parent")
        .to_path_buf()
}

/// A free TCP port on 127.0.0.1 (bound, read, released). Only for tools that cannot report
/// the port they bound themselves.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
