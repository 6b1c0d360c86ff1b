//! A headless Chromium driven over WebDriver (`chromedriver`, or `$CHROMEDRIVER`).

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

/// A headless Chromium driven over WebDriver (`chromedriver`, or `$CHROMEDRIVER`).
pub struct Browser {
    driver: std::process::Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Browser {
    pub async fn start() -> Browser {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {chromedriver} (set CHROMEDRIVER): {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let capabilities = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1000,900",
        ]}}}});
        let mut session = None;
        for _ in 0..100 {
            if let Ok(response) = http
                .post(format!("{base}/session"))
                .json(&capabilities)
                .send()
                .await
            {
                let body: Value = response.json().await.unwrap();
                session = Some(
                    body["value"]["sessionId"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no session: {body}"))
                        .to_string(),
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Browser {
            driver,
            base,
            session: session.expect("chromedriver answers"),
            http,
        }
    }

    pub async fn command(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/session/{}/{path}", self.base, self.session))
            .json(&body)
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["value"].clone()
    }

    pub async fn open(&self, url: &str) {
        self.command("url", json!({"url": url})).await;
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.command("execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// The payment iframe's inline style, once `done` accepts it (or after 10 s).
    pub async fn iframe_style_when(&self, done: impl Fn(&str) -> bool) -> String {
        let mut style = String::new();
        for _ in 0..100 {
            style = self
                .eval("return document.getElementById('rest-payment-frame').getAttribute('style');")
                .await
                .as_str()
                .unwrap_or_default()
                .to_string();
            if done(&style) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        style
    }

    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
