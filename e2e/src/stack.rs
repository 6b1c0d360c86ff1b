//! One isolated world per test: a sandbox portal (in this process, `127.0.0.1:<free port>`), a
//! `b24pay serve` process (`localhost:<free port>`, its own data), and the handler and pay
//! system registered in the sandbox by the real `b24pay register` command.

use crate::companion::{Companion, CompanionConfig};
use crate::store::{Ledger, StoreKind};
use b24pay_companion::store::StoreLocation;
use b24pay_protocol::api::{path, API_PREFIX};
use b24pay_sandbox::{NewPayment, PaymentSnapshot, Sandbox, SandboxHandle};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::OnceCell;

#[derive(Clone, Debug)]
pub struct StackOptions {
    pub store: StoreKind,
    /// Serve the real widget (`dist/`, which must be built). Without it the companion serves an
    /// empty directory: enough for API-only drills, and faster to start.
    pub widget: bool,
    /// Also register a pay system for legacy CRM invoices.
    pub invoices: bool,
    /// Also register an order pay system in LIVE mode (person type 2): it charges through the
    /// companion's live acquirer, configured through [`env`](Self::env).
    pub live: bool,
    /// Extra `B24PAY_*` variables for the companion.
    pub env: Vec<(String, String)>,
    /// Serve this build of the widget instead of [`crate::widget::dist_dir`].
    pub dist: Option<std::path::PathBuf>,
}

impl StackOptions {
    pub fn new(store: StoreKind) -> StackOptions {
        StackOptions {
            store,
            widget: false,
            invoices: false,
            live: false,
            env: Vec::new(),
            dist: None,
        }
    }

    pub fn with_widget(mut self) -> StackOptions {
        self.widget = true;
        self
    }

    pub fn with_invoices(mut self) -> StackOptions {
        self.invoices = true;
        self
    }

    pub fn with_live(mut self) -> StackOptions {
        self.live = true;
        self
    }

    /// Serves the widget from `dir` (a build with `index.html`).
    pub fn with_dist(mut self, dir: std::path::PathBuf) -> StackOptions {
        self.widget = true;
        self.dist = Some(dir);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> StackOptions {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

pub struct Stack {
    pub sandbox: SandboxHandle,
    /// Behind a lock so a drill can kill and restart it while clients keep calling [`base`]
    /// (the port never changes).
    pub companion: Mutex<Companion>,
    /// `http://127.0.0.1:PORT` of the companion's API.
    pub base: String,
    /// `http://localhost:PORT/`: the widget (ACTION_URI).
    pub public_url: String,
    /// The ORDER pay system `register` created.
    pub paysystem_id: u64,
    /// The CRM_INVOICE pay system, with [`StackOptions::with_invoices`].
    pub invoice_paysystem_id: Option<u64>,
    /// The LIVE order pay system, with [`StackOptions::with_live`].
    pub live_paysystem_id: Option<u64>,
    pub store: StoreLocation,
    pub http: reqwest::Client,
    ledger: OnceCell<Ledger>,
    // Last: the data directory outlives the process using it.
    pub dir: tempfile::TempDir,
}

impl Stack {
    pub async fn start(options: StackOptions) -> Stack {
        let sandbox = Sandbox::builder().start().await.expect("sandbox starts");
        let dir = tempfile::Builder::new()
            .prefix("b24pay-e2e-")
            .tempdir()
            .expect("temp dir");
        let dist_dir = if let Some(dir) = &options.dist {
            dir.clone()
        } else if options.widget {
            crate::widget::dist_dir()
        } else {
            let empty = dir.path().join("no-widget");
            std::fs::create_dir_all(&empty).expect("empty dist");
            empty
        };
        let store = crate::store::location(options.store, dir.path()).await;
        let companion = Companion::start(CompanionConfig {
            webhook_url: sandbox.webhook_url(),
            allowed_origins: sandbox.base_url(),
            dist_dir,
            store: store.clone(),
            log_dir: dir.path().to_path_buf(),
            env: options.env.clone(),
        });
        let paysystem_id = register(&sandbox, &companion, "ORDER", 1, "TEST");
        let invoice_paysystem_id = options
            .invoices
            .then(|| register(&sandbox, &companion, "CRM_INVOICE", 3, "TEST"));
        let live_paysystem_id = options
            .live
            .then(|| register(&sandbox, &companion, "ORDER", 2, "LIVE"));
        Stack {
            sandbox,
            base: companion.base(),
            public_url: companion.public_url(),
            companion: Mutex::new(companion),
            paysystem_id,
            invoice_paysystem_id,
            live_paysystem_id,
            store,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            ledger: OnceCell::new(),
            dir,
        }
    }

    /// SIGKILL the companion and start it again on the same port and data; blocks until it
    /// listens (call through `tokio::task::block_in_place` from async code).
    pub fn kill_and_restart(&self) {
        self.companion.lock().expect("companion lock").restart();
    }

    /// A new order payment bound to our pay system; its payment id.
    pub fn order(&self, sum: &str, currency: &str) -> u64 {
        self.sandbox
            .create_payment(NewPayment::order(sum, currency).with_pay_system(self.paysystem_id))
            .expect("payment created")
            .payment_id
    }

    /// A new order payment bound to the LIVE pay system ([`StackOptions::with_live`]).
    pub fn live_order(&self, sum: &str, currency: &str) -> u64 {
        let ps = self.live_paysystem_id.expect("a stack started with_live()");
        self.sandbox
            .create_payment(NewPayment::order(sum, currency).with_pay_system(ps))
            .expect("payment created")
            .payment_id
    }

    /// The store's payment page for a payment, in a theme (`light` or `dark`).
    pub fn pay_page(&self, payment_id: u64, theme: &str) -> String {
        format!("{}?theme={theme}", self.sandbox.pay_page_url(payment_id))
    }

    /// Forces the widget's language for the next page loads, as a portal admin does: the pay
    /// system's `B24PAY_LANGUAGE` setting, which the portal passes as the FIELD `lang`.
    pub async fn set_language(&self, lang: &str) {
        self.set_setting("B24PAY_LANGUAGE", lang).await;
    }

    /// Changes one setting of the ORDER pay system, as a portal admin does (the portal passes
    /// the mapped ones to the widget as FIELDS; the companion reads the rest itself).
    pub async fn set_setting(&self, code: &str, value: &str) {
        let body = json!({
            "ID": self.paysystem_id,
            "PERSON_TYPE_ID": 1,
            "SETTINGS": {code: {"TYPE": "VALUE", "VALUE": value}},
        });
        let reply: Value = self
            .http
            .post(format!(
                "{}sale.paysystem.settings.update",
                self.sandbox.webhook_url()
            ))
            .json(&body)
            .send()
            .await
            .expect("settings.update")
            .json()
            .await
            .expect("settings.update reply");
        assert_eq!(reply["result"], json!(true), "settings.update: {reply}");
    }

    pub fn payment(&self, payment_id: u64) -> PaymentSnapshot {
        self.sandbox.payment(payment_id).expect("payment exists")
    }

    /// The API body confirming an order payment with a card.
    pub fn confirm_body(&self, payment_id: u64, sum: &str, currency: &str, number: &str) -> Value {
        json!({
            "payment_id": payment_id.to_string(),
            "paysystem_id": self.paysystem_id.to_string(),
            "amount": sum,
            "currency": currency,
            "card": {
                "number": number,
                "exp_month": 12,
                "exp_year": 2034,
                "cvc": if number.starts_with("37") { "1234" } else { "123" },
            }
        })
    }

    /// The companion's `POST /api/v1/payments` URL.
    pub fn payments_url(&self) -> String {
        let (prefix, payments) = (API_PREFIX, path::PAYMENTS);
        format!("{}{prefix}{payments}", self.base)
    }

    /// `POST /api/v1/payments`; `Err` for connection failures (a dead companion).
    pub async fn confirm(&self, key: &str, body: &Value) -> Result<(u16, Value), reqwest::Error> {
        let response = self
            .http
            .post(self.payments_url())
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// The companion's `GET /metrics`, as `(series, value)` pairs.
    pub async fn metrics(&self) -> Vec<(String, f64)> {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                Some((series.to_string(), value.parse().ok()?))
            })
            .collect()
    }

    /// Sum of the metric series whose text contains every one of `parts`.
    pub async fn metric_sum(&self, parts: &[&str]) -> f64 {
        self.metrics()
            .await
            .iter()
            .filter(|(s, _)| parts.iter().all(|p| s.contains(p)))
            .map(|(_, v)| v)
            .sum()
    }

    /// The acquirer's ledger in the companion's store.
    pub async fn ledger(&self) -> &Ledger {
        self.ledger.get_or_init(|| Ledger::open(&self.store)).await
    }

    /// Charges recorded for one of our order payments.
    pub async fn charges(&self, payment_id: u64) -> i64 {
        self.ledger()
            .await
            .charges(self.paysystem_id, payment_id)
            .await
    }

    /// Waits until the sandbox shows the payment paid.
    pub async fn wait_paid(&self, payment_id: u64, timeout: Duration) -> PaymentSnapshot {
        crate::wait::until(
            &format!("payment {payment_id} paid in the sandbox"),
            timeout,
            || async {
                let p = self.payment(payment_id);
                if p.paid {
                    Ok(p)
                } else {
                    Err(p)
                }
            },
        )
        .await
    }
}

/// `b24pay register` for one registry and mode; the pay system's id from its report.
fn register(
    sandbox: &SandboxHandle,
    companion: &Companion,
    registry: &str,
    person_type: u64,
    mode: &str,
) -> u64 {
    let output = Command::new(crate::binary::b24pay())
        .env_clear()
        .env("B24PAY_LOG", "warn")
        .env("B24PAY_SECRET_KEY", "e2e-secret-key-never-in-the-browser")
        .args(["register", "--webhook"])
        .arg(sandbox.webhook_url())
        .args(["--widget-url", &companion.public_url()])
        .args(["--registry", registry])
        .args(["--person-type", &person_type.to_string()])
        .args(["--mode", mode, "--shop-id", "e2e-shop"])
        .output()
        .expect("b24pay register runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "b24pay register failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "pay system: created (id 1, person type 1)"
    stdout
        .lines()
        .find(|l| l.starts_with("pay system:"))
        .and_then(|l| l.split("(id ").nth(1))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no pay system id in the register report:\n{stdout}"))
}
