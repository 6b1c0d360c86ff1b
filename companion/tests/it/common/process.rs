//! `b24pay serve` as its own process (the real binary), for the tests that run several.

use super::{start_listening, TEST_MASTER_KEY};
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
    /// for its address.
    pub fn start(cmd: &mut Command) -> ServeProcess {
        let (child, base) = start_listening(cmd, Duration::from_secs(60));
        ServeProcess { child, base }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `b24pay serve` with nothing from the test's environment but what every multi-process test
/// shares: quiet logs, the widget's build `dist`, the store `database` and the test master key,
/// test mode allowed, no client-side rate limit, short portal timeouts and outbox backoffs.
/// The caller adds where it listens and its portal's (or app's) settings.
pub fn serve_command(dist: &Path, database: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b24pay"));
    cmd.arg("serve")
        .env_clear()
        .env("B24PAY_LOG", "warn")
        .env("B24PAY_DIST_DIR", dist)
        .env("DATABASE_URL", database)
        .env("B24PAY_MASTER_KEY", TEST_MASTER_KEY)
        .env("B24PAY_ALLOW_TEST_MODE", "true")
        .env("B24PAY_PORTAL_RATE_LIMIT", "off")
        .env("B24PAY_PORTAL_TIMEOUT_MS", "3000")
        .env("B24PAY_OUTBOX_LEASE_MS", "4000")
        .env("B24PAY_OUTBOX_BASE_BACKOFF_MS", "50")
        .env("B24PAY_OUTBOX_MAX_BACKOFF_MS", "400")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}
