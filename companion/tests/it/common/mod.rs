//! Test harness: a real sandbox portal over HTTP, the handler and pay systems registered through
//! the real `register` path and client, and a companion server on an OS-assigned port, with
//! SQLite or PostgreSQL (`B24PAY_TEST_DATABASE_URL`; skipped loudly when unset).
#![allow(dead_code, unused_imports)]

mod process;
pub mod spec;
pub mod stubs;

pub use process::{serve_command, ServeProcess};

use b24pay_companion::acquirer::{Acquirer, TestAcquirer};
use b24pay_companion::config::{
    FileConfig, FileLimits, FileOutbox, FilePayments, FilePortal, FileSecurity, Secret,
};
use b24pay_companion::portal::Mode;
use b24pay_companion::portal::{Bitrix24Portal, Portal};
use b24pay_companion::register::{register, RegisterOptions};
use b24pay_companion::store::Attempt;
use b24pay_companion::store::{self, Registry, SharedStore, StoreLocation};
use b24pay_companion::{Parts, Server};
use b24pay_protocol::ids::AttemptId;
use b24pay_sandbox::{NewPayment, PaymentSnapshot, Sandbox, SandboxHandle};
use bitrix24_client::{Auth, Client};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A webhook client of `sandbox`, without the client-side rate limit.
pub fn webhook_client(sandbox: &SandboxHandle) -> Client {
    Client::builder(Auth::webhook(&sandbox.webhook_url()).unwrap())
        .rate_limit(None)
        .build()
        .unwrap()
}

/// Registers, through the real `register` path, a TEST pay system for orders (person type 1)
/// with the widget at `http://localhost:8080/`; its id.
pub async fn register_order_paysystem(sandbox: &SandboxHandle, secret_key: Option<&str>) -> u64 {
    register_paysystem(sandbox, Mode::Test, 1, secret_key).await
}

/// Registers the handler and an ORDER pay system in `mode` for `person_type` through the real
/// `register` path; the pay system's id.
pub async fn register_paysystem(
    sandbox: &SandboxHandle,
    mode: Mode,
    person_type: u64,
    secret_key: Option<&str>,
) -> u64 {
    let mut o = RegisterOptions::new(url::Url::parse("http://localhost:8080/").unwrap(), mode);
    o.person_type = Some(person_type);
    o.secret_key = secret_key.map(str::to_owned);
    register(&webhook_client(sandbox), &o)
        .await
        .unwrap_or_else(|e| panic!("register a {mode:?} pay system: {e}"))
        .paysystem_id
}

/// Where a test's store lives: SQLite under `dir`, or a fresh PostgreSQL database.
pub async fn store_location(kind: StoreKind, dir: &Path) -> StoreLocation {
    match kind {
        StoreKind::Sqlite => StoreLocation::DataDir(dir.join("data")),
        StoreKind::Postgres => StoreLocation::Url(fresh_pg_database().await),
    }
}

pub use b24pay_testkit::{both_stores, pg_url, StoreKind};

/// A fresh database on the test server, so tests never see each other's rows.
pub async fn fresh_pg_database() -> String {
    b24pay_testkit::fresh_pg_database(&pg_url().expect("checked by the caller")).await
}

/// The key the companion started with `config` encrypts its OAuth tokens with.
pub fn token_key(config: &b24pay_companion::Config) -> b24pay_companion::keys::Subkey {
    use b24pay_companion::keys::{MasterKey, Purpose};
    MasterKey::resolve(config.security.master_key.as_ref(), &config.store)
        .expect("a master key")
        .subkey(Purpose::TokenEncryption)
}

/// The master key of companions on PostgreSQL (required there; SQLite ones generate theirs).
pub const TEST_MASTER_KEY: &str =
    "6b3a0f1e9c2d4b5a8e7f60718293a4b5c6d7e8f90112233445566778899aabbc";

pub use b24pay_protocol::test_cards::{
    APPROVED, CHALLENGE, DECLINED, EXPIRED_CARD as EXPIRED, INCORRECT_CVC,
    INSUFFICIENT_FUNDS as INSUFFICIENT, PROCESSING_ERROR,
};

/// A tiny stand-in for trunk's `dist/`: an index with the meta tags and one inline module
/// loader, and hashed assets.
pub fn fake_dist(dir: &Path) -> PathBuf {
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="b24pay-allowed-origins" content="">
  <meta name="b24pay-api" content="/api/v1">
  <title>Payment</title>
  <script src="/loader-0123456789abcdef.js"></script>
  <link rel="stylesheet" href="/widget-fedcba9876543210.css">
<script type="module">import init, * as bindings from '/b24pay-widget-1a2b3c4d5e6f7a8b.js';
const wasm = await init({ module_or_path: '/b24pay-widget-1a2b3c4d5e6f7a8b_bg.wasm' });
window.wasmBindings = bindings;</script>
</head>
<body></body>
</html>
"#,
    )
    .unwrap();
    let js = "export default async function init() { return {}; }\n".repeat(40);
    std::fs::write(dist.join("b24pay-widget-1a2b3c4d5e6f7a8b.js"), js).unwrap();
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(0u8, 4096));
    std::fs::write(dist.join("b24pay-widget-1a2b3c4d5e6f7a8b_bg.wasm"), wasm).unwrap();
    std::fs::write(
        dist.join("widget-fedcba9876543210.css"),
        ":root { color-scheme: light dark; }\n".repeat(30),
    )
    .unwrap();
    std::fs::write(
        dist.join("loader-0123456789abcdef.js"),
        "window.b24payTakeMessages = function () {};\n".repeat(10),
    )
    .unwrap();
    precompress(&dist);
    dist
}

/// What the widget build's post_build hook (`tools/post-build.mjs`) does: a `.br` and a `.gz`
/// next to every file but `index.html` (which the companion rewrites and compresses itself).
fn precompress(dist: &Path) {
    use std::io::Write;
    for entry in std::fs::read_dir(dist).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "index.html") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let mut br = Vec::new();
        brotli::CompressorWriter::new(&mut br, 4096, 11, 22)
            .write_all(&data)
            .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        std::fs::write(dist.join(format!("{name}.br")), br).unwrap();
        std::fs::write(dist.join(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
    }
}

/// Wraps the companion's test acquirer (for acquirers that misbehave on purpose).
pub type WrapAcquirer = Arc<dyn Fn(Arc<dyn Acquirer>) -> Arc<dyn Acquirer> + Send + Sync>;
/// Wraps the companion's portal (for portals that refuse on purpose).
pub type WrapPortal = Arc<dyn Fn(Arc<dyn Portal>) -> Arc<dyn Portal> + Send + Sync>;

pub struct Env {
    pub sandbox: SandboxHandle,
    pub wrap_acquirer: Option<WrapAcquirer>,
    pub wrap_portal: Option<WrapPortal>,
    pub server: Option<Server>,
    pub http: reqwest::Client,
    pub base: String,
    pub ps_order: u64,
    pub ps_invoice: u64,
    pub store_location: StoreLocation,
    pub dir: tempfile::TempDir,
    pub file_config: FileConfig,
}

pub struct EnvOptions {
    pub kind: StoreKind,
    pub portal_timeout_ms: u64,
    pub outbox_lease_ms: u64,
    pub charge_lease_ms: u64,
    pub body_bytes: Option<usize>,
    /// Changes to the test configuration, applied last.
    pub configure: fn(&mut FileConfig),
    pub wrap_acquirer: Option<WrapAcquirer>,
    pub wrap_portal: Option<WrapPortal>,
}

impl EnvOptions {
    pub fn new(kind: StoreKind) -> EnvOptions {
        EnvOptions {
            kind,
            portal_timeout_ms: 1500,
            outbox_lease_ms: 4000,
            charge_lease_ms: 3000,
            body_bytes: None,
            configure: |_| {},
            wrap_acquirer: None,
            wrap_portal: None,
        }
    }

    pub fn configure(mut self, f: fn(&mut FileConfig)) -> EnvOptions {
        self.configure = f;
        self
    }

    pub fn acquirer(
        mut self,
        wrap: impl Fn(Arc<dyn Acquirer>) -> Arc<dyn Acquirer> + Send + Sync + 'static,
    ) -> EnvOptions {
        self.wrap_acquirer = Some(Arc::new(wrap));
        self
    }

    pub fn portal(
        mut self,
        wrap: impl Fn(Arc<dyn Portal>) -> Arc<dyn Portal> + Send + Sync + 'static,
    ) -> EnvOptions {
        self.wrap_portal = Some(Arc::new(wrap));
        self
    }
}

impl Env {
    pub async fn start(kind: StoreKind) -> Env {
        Env::start_with(EnvOptions::new(kind)).await
    }

    pub async fn start_with(o: EnvOptions) -> Env {
        if let Ok(filter) = std::env::var("B24PAY_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let sandbox = Sandbox::builder().start().await.expect("sandbox starts");
        let dir = tempfile::tempdir().unwrap();
        let dist = fake_dist(dir.path());
        let store_location = store_location(o.kind, dir.path()).await;
        let file_config = FileConfig {
            listen: Some("127.0.0.1:0".into()),
            public_url: Some("http://localhost:8080/".into()),
            allowed_origins: Some(vec![sandbox.base_url()]),
            data_dir: match &store_location {
                StoreLocation::DataDir(d) => Some(d.clone()),
                _ => None,
            },
            database_url: match &store_location {
                StoreLocation::Url(u) => Some(Secret::new(u.clone())),
                _ => None,
            },
            dist_dir: Some(dist),
            portal: FilePortal {
                webhook_url: Some(Secret::new(sandbox.webhook_url())),
                timeout_ms: Some(o.portal_timeout_ms),
                rate_limit_per_second: Some(0.0),
                ..FilePortal::default()
            },
            limits: FileLimits {
                body_bytes: o.body_bytes,
                ..FileLimits::default()
            },
            outbox: FileOutbox {
                lease_ms: Some(o.outbox_lease_ms),
                base_backoff_ms: Some(50),
                max_backoff_ms: Some(400),
                poll_ms: Some(100),
                ambiguous_wait_ms: Some(500),
                ..FileOutbox::default()
            },
            payments: FilePayments {
                charge_lease_ms: Some(o.charge_lease_ms),
                duplicate_wait_ms: Some(8000),
                allow_test_mode: Some(true),
                reconcile_poll_ms: Some(100),
                // Every test request comes from 127.0.0.1: the limits have tests of their own.
                client_per_minute: Some(0),
                payment_per_minute: Some(0),
                ..FilePayments::default()
            },
            security: FileSecurity {
                master_key: match &store_location {
                    StoreLocation::Url(_) => Some(Secret::new(TEST_MASTER_KEY)),
                    StoreLocation::DataDir(_) => None,
                },
            },
            ..FileConfig::default()
        };
        let mut file_config = file_config;
        (o.configure)(&mut file_config);
        let client = webhook_client(&sandbox);
        let widget_url = url::Url::parse("http://localhost:8080/").unwrap();
        let mut ids = Vec::new();
        for (registry, person_type) in [(Registry::Order, 1), (Registry::CrmInvoice, 3)] {
            let mut opts = RegisterOptions::new(widget_url.clone(), Mode::Test);
            opts.registry = registry;
            opts.person_type = Some(person_type);
            opts.secret_key = Some("topsecretkey".into());
            ids.push(
                register(&client, &opts)
                    .await
                    .expect("register")
                    .paysystem_id,
            );
        }
        let mut env = Env {
            sandbox,
            wrap_acquirer: o.wrap_acquirer,
            wrap_portal: o.wrap_portal,
            server: None,
            http: reqwest::Client::new(),
            base: String::new(),
            ps_order: ids[0],
            ps_invoice: ids[1],
            store_location,
            dir,
            file_config,
        };
        env.start_server().await;
        env
    }

    pub async fn start_server(&mut self) {
        let config = self.file_config.clone().validate().expect("valid config");
        let server = if self.wrap_acquirer.is_none() && self.wrap_portal.is_none() {
            Server::start(config).await.expect("server starts")
        } else {
            let store = store::open(&config.store).await.expect("store opens");
            let real: Arc<dyn Portal> = Arc::new(
                Bitrix24Portal::connect(&config.portal, store.clone(), token_key(&config))
                    .await
                    .expect("portal client"),
            );
            let portal = match &self.wrap_portal {
                Some(wrap) => wrap(real),
                None => real,
            };
            let mut parts = Parts::new(store.clone(), portal);
            if let Some(wrap) = &self.wrap_acquirer {
                parts.test_acquirer = Some(wrap(Arc::new(TestAcquirer::new(store))));
            }
            Server::start_with(config, parts)
                .await
                .expect("server starts")
        };
        self.base = server.url();
        self.server = Some(server);
    }

    /// The companion's `/metrics` text.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The stored attempt.
    pub async fn attempt(&self, id: &str) -> Attempt {
        self.store()
            .attempt(&AttemptId::parse(id).unwrap())
            .await
            .unwrap()
            .expect("attempt exists")
    }

    /// Waits until the stored attempt satisfies `done`.
    pub async fn wait_attempt(
        &self,
        id: &str,
        within: Duration,
        done: impl Fn(&Attempt) -> bool,
    ) -> Attempt {
        let started = Instant::now();
        loop {
            let a = self.attempt(id).await;
            if done(&a) {
                return a;
            }
            assert!(
                started.elapsed() < within,
                "attempt {id} not there within {within:?}: {:?} ({:?})",
                a.state,
                a.note
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("server running")
    }

    pub fn store(&self) -> SharedStore {
        self.server().services.store.clone()
    }

    pub async fn open_store(&self) -> SharedStore {
        store::open(&self.store_location)
            .await
            .expect("store opens")
    }

    /// An order payment bound to our ORDER pay system.
    pub fn order(&self, sum: &str, currency: &str) -> u64 {
        self.sandbox
            .create_payment(NewPayment::order(sum, currency).with_pay_system(self.ps_order))
            .expect("payment created")
            .payment_id
    }

    /// A legacy invoice bound to our CRM_INVOICE pay system; returns (payment id, invoice id).
    pub fn invoice(&self, sum: &str, currency: &str) -> (u64, u64) {
        let c = self
            .sandbox
            .create_payment(NewPayment::invoice(sum, currency).with_pay_system(self.ps_invoice))
            .expect("invoice created");
        (c.payment_id, c.order_id)
    }

    pub fn body(
        &self,
        payment_id: u64,
        ps: u64,
        amount: &str,
        currency: &str,
        number: &str,
    ) -> Value {
        confirm_body(payment_id, ps, amount, currency, number)
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn confirm(&self, key: &str, body: &Value) -> (u16, Value) {
        self.post("/api/v1/payments", Some(key), body).await
    }

    pub async fn challenge(&self, id: &str, key: &str, code: &str) -> (u16, Value) {
        self.post(
            &format!("/api/v1/payments/{id}/challenge"),
            Some(key),
            &json!({ "code": code }),
        )
        .await
    }

    pub async fn status(&self, id: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}/api/v1/payments/{id}", self.base))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub fn payment(&self, id: u64) -> PaymentSnapshot {
        self.sandbox.payment(id).expect("payment exists")
    }

    /// Waits until the sandbox shows the payment paid.
    pub async fn wait_paid(&self, id: u64, within: Duration) -> PaymentSnapshot {
        let started = Instant::now();
        loop {
            let p = self.payment(id);
            if p.paid {
                return p;
            }
            assert!(
                started.elapsed() < within,
                "payment {id} not paid within {within:?}: {p:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the status endpoint reports the portal notified.
    pub async fn wait_notified(&self, attempt: &str, within: Duration) {
        let started = Instant::now();
        loop {
            let (_, v) = self.status(attempt).await;
            if v["portal_notified"] == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < within,
                "attempt {attempt} not notified: {v}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Charges the test acquirer made for one portal payment.
    pub async fn charges(&self, ps: u64, payment_id: u64) -> i64 {
        self.store()
            .ledger_count(Some(&format!("{ps}/{payment_id}")))
            .await
            .unwrap()
    }

    pub async fn stop(mut self) {
        self.stop_server().await;
        self.sandbox.shutdown().await;
    }
}

/// The widget's confirm body for a payment and a card (expiry 12/2034; the CVC's length fits
/// the brand: four digits for American Express).
pub fn confirm_body(payment_id: u64, ps: u64, amount: &str, currency: &str, number: &str) -> Value {
    json!({
        "payment_id": payment_id.to_string(),
        "paysystem_id": ps.to_string(),
        "amount": amount,
        "currency": currency,
        "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": if number.starts_with("37") {"1234"} else {"123"}}
    })
}

/// The widget's confirm request to the companion at `base`: `POST /api/v1/payments` with the
/// idempotency key and the JSON body. The caller adds a timeout if it needs one, and sends it.
pub fn confirm_request(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    http.post(format!(
        "{base}{}/payments",
        b24pay_protocol::api::API_PREFIX
    ))
    .header("Idempotency-Key", key)
    .json(body)
}

/// Starts a `b24pay serve` command whose stdout is piped and waits (up to `within`) for the
/// line with its address; the process and its base URL (`http://127.0.0.1:PORT`). Its stdout
/// keeps being drained, so it never blocks on a full pipe.
pub fn start_listening(
    cmd: &mut std::process::Command,
    within: Duration,
) -> (std::process::Child, String) {
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

pub fn key() -> String {
    format!("{:032x}", rand::random::<u128>())
}
