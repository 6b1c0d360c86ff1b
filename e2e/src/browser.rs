//! Real browsers through their WebDriver servers: headless Chromium via `chromedriver`, headless
//! Firefox ESR via `geckodriver`. Each [`Browser`] is its own driver process on an OS-assigned
//! port and its own fresh profile, so tests run in parallel without sharing anything.
//!
//! A missing browser or driver fails the test with what to install: CI installs them, so a
//! silent skip would hide a broken setup.

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserKind {
    Chromium,
    Firefox,
}

impl BrowserKind {
    pub fn name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "Chromium",
            BrowserKind::Firefox => "Firefox ESR",
        }
    }

    /// Whether the portal's `BX_COMPUTED_STYLE` carries values in this browser (Firefox's
    /// `JSON.stringify(getComputedStyle(…))` keeps only the index keys).
    pub fn sends_computed_style(self) -> bool {
        self == BrowserKind::Chromium
    }
}

/// Chromium's switches: headless, no sandbox (root in containers), nothing that phones home.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=en-US",
    "--window-size=1000,900",
];

pub struct Browser {
    pub kind: BrowserKind,
    pub client: Client,
    driver: Child,
    // Dropped after the driver is gone.
    _profile: tempfile::TempDir,
}

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
fn start_chromium(profile: &Path) -> (Child, u16, Value) {
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
fn start_firefox(profile: &Path) -> (Child, u16, Value) {
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

impl Browser {
    pub async fn start(kind: BrowserKind) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("b24pay-e2e-browser-")
            .tempdir()
            .expect("profile dir");
        let (driver, port, capabilities) = match kind {
            BrowserKind::Chromium => start_chromium(profile.path()),
            BrowserKind::Firefox => start_firefox(profile.path()),
        };
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("{} session did not start: {e}", kind.name()));
        Browser {
            kind,
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("navigating to {url}: {e}"));
    }

    /// Runs a script in the current frame; its `return` value.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls a script in the current frame until it returns something other than `null`,
    /// `undefined` or `false`; that value.
    pub async fn wait_js(&self, what: &str, timeout: Duration, script: &str) -> Value {
        crate::wait::until(what, timeout, || async {
            match self.client.execute(script, vec![]).await {
                Ok(Value::Null) | Ok(Value::Bool(false)) => Err("nothing yet".to_string()),
                Ok(v) => Ok(v),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// Switches into the widget's frame on the store page (from the top document).
    pub async fn enter_widget(&self) {
        let frame = crate::wait::until(
            "the payment iframe on the store page",
            Duration::from_secs(10),
            || async {
                self.client
                    .find(fantoccini::Locator::Id(crate::widget::FRAME_ID))
                    .await
            },
        )
        .await;
        frame.enter_frame().await.expect("switch into the iframe");
    }

    /// Back to the store page from the widget's frame.
    pub async fn leave_widget(&self) {
        self.client
            .enter_parent_frame()
            .await
            .expect("switch to the parent frame");
    }

    /// A PNG of the whole viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("screenshot")
    }

    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reaches quit(): the driver must not outlive it (the browser
        // exits with its driver's session pipe).
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A decoded screenshot (8-bit RGBA).
pub struct Image {
    pub width: u32,
    pub height: u32,
    rgba: Vec<u8>,
}

impl Image {
    pub fn decode(png_bytes: &[u8]) -> Image {
        let mut decoder = png::Decoder::new(png_bytes);
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("PNG frame");
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf[..info.buffer_size()].to_vec(),
            png::ColorType::Rgb => buf[..info.buffer_size()]
                .chunks(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            other => panic!("unexpected screenshot colour type {other:?}"),
        };
        Image {
            width: info.width,
            height: info.height,
            rgba,
        }
    }

    /// `[r, g, b]` at a pixel (clamped to the image).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let x = x.min(self.width - 1);
        let y = y.min(self.height - 1);
        let i = ((y * self.width + x) * 4) as usize;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]]
    }

    /// The most frequent colour in a rectangle (device pixels): the background under text.
    pub fn dominant(&self, x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
        let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                *counts.entry(self.pixel(xx, yy)).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(c, _)| c)
            .expect("a non-empty rectangle")
    }
}

/// WCAG relative luminance of an sRGB colour.
pub fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG contrast ratio of two colours.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Parses `rgb(r, g, b)` / `rgba(r, g, b, a)` as the browser serialises computed colours;
/// `None` for anything else or a fully transparent colour.
pub fn parse_rgb(text: &str) -> Option<[u8; 3]> {
    let inner = text
        .trim()
        .strip_prefix("rgba(")
        .or_else(|| text.trim().strip_prefix("rgb("))?
        .strip_suffix(')')?;
    let parts: Vec<f64> = inner
        .split([',', ' ', '/'])
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<f64>().ok())
        .collect::<Option<_>>()?;
    if parts.len() == 4 && parts[3] == 0.0 {
        return None;
    }
    (parts.len() >= 3).then(|| {
        [
            parts[0].round() as u8,
            parts[1].round() as u8,
            parts[2].round() as u8,
        ]
    })
}
