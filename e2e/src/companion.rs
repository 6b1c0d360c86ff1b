//! One `b24pay serve` process: started with its configuration in environment variables, on an
//! OS-assigned port first and on the same port after a restart, with the same data; killed with
//! SIGKILL (`Child::kill` on Unix), as a crash or an OOM kill would end it.

use b24pay_companion::store::StoreLocation;
use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How a companion is configured; the same for every (re)start.
#[derive(Clone, Debug)]
pub struct CompanionConfig {
    pub webhook_url: String,
    /// Portal origins allowed to embed the widget (space-separated exact origins).
    pub allowed_origins: String,
    pub dist_dir: PathBuf,
    pub store: StoreLocation,
    /// Where each start's stderr (the logs) is written.
    pub log_dir: PathBuf,
    /// `B24PAY_*` variables on top of [`CompanionConfig::test_tuning`] (later ones win).
    pub env: Vec<(String, String)>,
}

impl CompanionConfig {
    /// Short timeouts and backoffs, so that recovery happens within a test's patience. No
    /// client-side rate limit (the sandbox has none either unless a test turns it on).
    pub fn test_tuning() -> Vec<(String, String)> {
        [
            ("B24PAY_PORTAL_RATE_LIMIT", "off"),
            ("B24PAY_PORTAL_TIMEOUT_MS", "2000"),
            ("B24PAY_OUTBOX_LEASE_MS", "3000"),
            ("B24PAY_CHARGE_LEASE_MS", "2000"),
            ("B24PAY_OUTBOX_BASE_BACKOFF_MS", "50"),
            ("B24PAY_OUTBOX_MAX_BACKOFF_MS", "500"),
            // The sandbox's pay systems are TEST ones.
            ("B24PAY_ALLOW_TEST_MODE", "true"),
            // Every request of a test comes from 127.0.0.1; the limits have tests of their own.
            ("B24PAY_CLIENT_RATE", "off"),
            ("B24PAY_PAYMENT_RATE", "off"),
            ("B24PAY_RECONCILE_POLL_MS", "100"),
            ("B24PAY_OUTBOX_AMBIGUOUS_WAIT_MS", "1000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

/// A running (or killed) `b24pay serve`.
pub struct Companion {
    config: CompanionConfig,
    child: Option<Child>,
    port: u16,
    starts: usize,
    log: PathBuf,
}

static INSTANCE: AtomicUsize = AtomicUsize::new(0);

/// The master key of every companion the tests start.
const E2E_MASTER_KEY: &str = "0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e";

impl Companion {
    /// Starts `b24pay serve` on an OS-assigned port and waits until it listens.
    pub fn start(config: CompanionConfig) -> Companion {
        let instance = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let log = config
            .log_dir
            .join(format!("companion-{}-{instance}.log", std::process::id()));
        let mut companion = Companion {
            config,
            child: None,
            port: 0,
            starts: 0,
            log,
        };
        companion.spawn("127.0.0.1:0");
        companion
    }

    fn spawn(&mut self, listen: &str) {
        let mut cmd = Command::new(crate::binary::b24pay());
        let (store_key, store_value) = crate::store::env(&self.config.store);
        cmd.arg("serve")
            .env_clear()
            .env("B24PAY_LOG", "warn")
            .env("B24PAY_LISTEN", listen)
            .env("B24PAY_WEBHOOK_URL", &self.config.webhook_url)
            .env("B24PAY_ALLOWED_ORIGINS", &self.config.allowed_origins)
            .env("B24PAY_DIST_DIR", &self.config.dist_dir)
            .env(store_key, store_value)
            // Required with PostgreSQL (every instance must share it); with SQLite it replaces
            // the generated key file.
            .env("B24PAY_MASTER_KEY", E2E_MASTER_KEY);
        if self.port != 0 {
            cmd.env("B24PAY_PUBLIC_URL", self.public_url());
        }
        for (k, v) in CompanionConfig::test_tuning()
            .iter()
            .chain(&self.config.env)
        {
            cmd.env(k, v);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("companion log file");
        let mut log_out = log.try_clone().expect("companion log file");
        cmd.stdout(Stdio::piped()).stderr(log);
        let mut child = cmd.spawn().expect("b24pay starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // The companion logs to stdout: once its start is seen, the rest goes on into the
            // log file (rather than a closed pipe).
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(sender) = &tx {
                    if sender.send(line.clone()).is_err() {
                        tx = None;
                    }
                }
                if tx.is_none() {
                    let _ = writeln!(log_out, "{line}");
                }
            }
        });
        self.starts += 1;
        // "b24pay listening on http://127.0.0.1:PORT (widget at …)"
        let address = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        break rest
                            .split(|c: char| c.is_whitespace() || c == '/')
                            .next()
                            .unwrap_or_default()
                            .to_string();
                    }
                }
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "b24pay serve (listen {listen}) did not report its address ({}); its log:\n{}",
                        status.map_or("still running".to_string(), |s| s.to_string()),
                        self.log_tail()
                    );
                }
            }
        };
        let port = address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no port in {address:?}"));
        self.port = port;
        self.child = Some(child);
    }

    /// `http://127.0.0.1:PORT`: where the API is called.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://localhost:PORT/`: the widget's URL (the handler's ACTION_URI), an origin other
    /// than the sandbox's `127.0.0.1`.
    pub fn public_url(&self) -> String {
        format!("http://localhost:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// How many times the process was started.
    pub fn starts(&self) -> usize {
        self.starts
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGKILL, then reap. No chance to flush or finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port with the same data (after [`kill`](Self::kill)).
    pub fn restart(&mut self) {
        self.kill();
        let listen = format!("127.0.0.1:{}", self.port);
        self.spawn(&listen);
    }

    /// Peak resident memory so far (`VmHWM` of `/proc/<pid>/status`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The last lines of the logs of every start.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Companion {
    fn drop(&mut self) {
        self.kill();
    }
}
