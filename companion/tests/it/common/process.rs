//! `b24pay serve` as its own process (the real binary), for the tests that run several or kill
//! it.

use super::TEST_MASTER_KEY;
use b24pay_companion::store::StoreLocation;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A started `b24pay serve`, killed when dropped.
pub struct ServeProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl ServeProcess {
    /// Starts `cmd` (from [`serve_command`], with the caller's portal settings added) and waits
    /// up to `within` for its address.
    pub fn start_within(cmd: &mut Command, within: Duration) -> ServeProcess {
        let (child, base) = start_listening(cmd, within);
        ServeProcess { child, base }
    }

    /// [`ServeProcess::start_within`] a minute.
    pub fn start(cmd: &mut Command) -> ServeProcess {
        ServeProcess::start_within(cmd, Duration::from_secs(60))
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `b24pay serve` with nothing from the test's environment but what every multi-process test
/// shares: quiet logs, the widget's build `dist`, the `store` (a data directory, or a database
/// with the test master key), test mode allowed, no client-side rate limit, short portal
/// timeouts and outbox backoffs. The caller adds where it listens and its portal's (or app's)
/// settings, and may set any of these again (a later value wins).
pub fn serve_command(dist: &Path, store: &StoreLocation) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b24pay"));
    cmd.arg("serve")
        .env_clear()
        .env("B24PAY_LOG", "warn")
        .env("B24PAY_DIST_DIR", dist)
        .env("B24PAY_ALLOW_TEST_MODE", "true")
        .env("B24PAY_PORTAL_RATE_LIMIT", "off")
        .env("B24PAY_PORTAL_TIMEOUT_MS", "3000")
        .env("B24PAY_OUTBOX_LEASE_MS", "4000")
        .env("B24PAY_OUTBOX_BASE_BACKOFF_MS", "50")
        .env("B24PAY_OUTBOX_MAX_BACKOFF_MS", "400")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    match store {
        StoreLocation::DataDir(d) => cmd.env("B24PAY_DATA_DIR", d),
        StoreLocation::Url(u) => cmd
            .env("DATABASE_URL", u)
            .env("B24PAY_MASTER_KEY", TEST_MASTER_KEY),
    };
    cmd
}

/// Starts a `b24pay serve` command whose stdout is piped and waits (up to `within`) for the
/// line with its address; the process and its base URL (`http://127.0.0.1:PORT`). Its stdout
/// keeps being drained, so it never blocks on a full pipe.
pub fn start_listening(cmd: &mut Command, within: Duration) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = cmd.spawn().expect("b24pay starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(within).expect("b24pay prints its address");
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, base)
}
