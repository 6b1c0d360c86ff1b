//! Real browsers through their WebDriver servers: headless Chromium via `chromedriver`, headless
//! Firefox ESR via `geckodriver`. Each [`Browser`] is its own driver process on an OS-assigned
//! port and its own fresh profile, so tests run in parallel without sharing anything.
//!
//! A missing browser or driver fails the test with what to install: CI installs them, so a
//! silent skip would hide a broken setup.

use fantoccini::{Client, ClientBuilder};
use serde_json::Value;
use std::process::Child;
use std::time::Duration;

mod driver;
mod image;
use driver::{start_chromium, start_firefox};
pub use image::{contrast, luminance, parse_rgb, Image};

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
