//! Finding and starting a browser's WebDriver server, with a fresh profile of its own.

use super::CHROMIUM_ARGS;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `$var`, else the first of `candidates` that exists; panics with `hint` when none does.
fn locate(var: &str, candidates: &[PathBuf], hint: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{var}={} does not exist. {hint}",
            path.display()
        );
        return path;
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "not found: {} (or set {var}). {hint}",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn on_path(name: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        found.push(PathBuf::from(home).join(".cargo/bin").join(name));
    }
    found
}

/// Starts a driver on port 0 and reads the port it reports.
fn start_driver(mut cmd: Command, marker: &str) -> (Child, u16) {
    let program = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    fn pump(stream: impl Read + Send + 'static, tx: std::sync::mpsc::Sender<String>) {
        std::thread::spawn(move || {
            // Keeps draining after the port is found, so the driver never blocks on a full pipe.
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    pump(child.stdout.take().expect("piped"), tx.clone());
    pump(child.stderr.take().expect("piped"), tx);
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                if let Some(rest) = line.split(marker).nth(1) {
                    let digits: String = rest
                        .trim_start_matches(|c: char| !c.is_ascii_digit())
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    if let Ok(port) = digits.parse() {
                        return (child, port);
                    }
                }
                seen.push(line);
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{program} did not report its port; it said:\n{}",
                    seen.join("\n")
                );
            }
        }
    }
}

/// Starts chromedriver on a free port; the session's capabilities for headless Chromium with
/// its profile in `profile`.
pub(super) fn start_chromium(profile: &Path) -> (Child, u16, Value) {
    let hint = "Install Debian's `chromium` and `chromium-driver` (scripts/setup.sh does; CI installs them).";
    let browser = locate(
        "B24PAY_CHROMIUM",
        &[PathBuf::from("/usr/bin/chromium")],
        hint,
    );
    let chromedriver = locate(
        "CHROMEDRIVER",
        &[PathBuf::from("/usr/bin/chromedriver")],
        hint,
    );
    let mut cmd = Command::new(chromedriver);
    cmd.arg("--port=0");
    let (driver, port) = start_driver(cmd, "started successfully on port");
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": browser,
            "args": args,
            "prefs": {"intl.accept_languages": "en-US"},
        },
    });
    (driver, port, caps)
}

/// Starts geckodriver on a free port; the session's capabilities for headless Firefox ESR with
/// its profiles under `profile`.
pub(super) fn start_firefox(profile: &Path) -> (Child, u16, Value) {
    let hint = "Install Debian's `firefox-esr` and `cargo install geckodriver` (scripts/setup.sh does; CI installs them).";
    let browser = locate(
        "B24PAY_FIREFOX",
        &[PathBuf::from("/usr/bin/firefox-esr")],
        hint,
    );
    let geckodriver = locate("GECKODRIVER", &on_path("geckodriver"), hint);
    let mut cmd = Command::new(geckodriver);
    cmd.args(["--port", "0", "--websocket-port", "0", "--log", "info"])
        .arg("--profile-root")
        .arg(profile);
    let (driver, port) = start_driver(cmd, "Listening on 127.0.0.1:");
    let caps = json!({
        "browserName": "firefox",
        "moz:firefoxOptions": {
            "binary": browser,
            "args": ["-headless", "--width=1000", "--height=900"],
            "prefs": {
                "intl.accept_languages": "en-US",
                "browser.shell.checkDefaultBrowser": false,
                "app.update.disabledForTesting": true,
                "datareporting.policy.dataSubmissionEnabled": false,
                "toolkit.telemetry.enabled": false,
                "network.captive-portal-service.enabled": false,
                "network.connectivity-service.enabled": false,
                "browser.safebrowsing.malware.enabled": false,
                "browser.safebrowsing.phishing.enabled": false,
                "extensions.update.enabled": false,
            },
        },
    });
    (driver, port, caps)
}
