//! Test harness: a real sandbox portal over HTTP, the handler and pay systems registered through
//! the real `register` path and client, and a companion server on an OS-assigned port, with
//! SQLite or PostgreSQL (`B24PAY_TEST_DATABASE_URL`; skipped loudly when unset).
#![allow(dead_code, unused_imports)]

mod dist;
mod env;
mod env_api;
mod process;
mod reply;
pub mod spec;
pub mod stubs;

pub use dist::fake_dist;
pub use env::{Env, EnvOptions, WrapAcquirer, WrapPortal};
pub use process::{serve_command, start_listening, ServeProcess};
pub use reply::{assert_declined, assert_error, assert_succeeded};

use b24pay_companion::config::{FileConfig, FileOAuth, FilePayments, FilePortal, Secret};
use b24pay_companion::portal::Mode;
use b24pay_companion::register::{register, RegisterOptions};
use b24pay_companion::store::StoreLocation;
use b24pay_sandbox::SandboxHandle;
use bitrix24_client::{Auth, Client};
use serde_json::{json, Value};
use std::path::Path;

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

/// The configuration of a companion on an OS-assigned port with its store in `data`, reaching
/// `sandbox` as its OAuth app with the tokens given (`None`: not configured), test mode allowed
/// and no client-side rate limit.
pub fn oauth_file_config(
    sandbox: &SandboxHandle,
    data: std::path::PathBuf,
    dist: std::path::PathBuf,
    access_token: Option<String>,
    refresh_token: String,
) -> FileConfig {
    FileConfig {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data),
        dist_dir: Some(dist),
        portal: FilePortal {
            oauth: Some(FileOAuth {
                portal_url: Some(sandbox.base_url()),
                client_id: Some(sandbox.oauth_client_id()),
                client_secret: Some(Secret::new(sandbox.oauth_client_secret())),
                access_token: access_token.map(Secret::new),
                refresh_token: Some(Secret::new(refresh_token)),
                token_endpoint: Some(sandbox.oauth_token_endpoint()),
            }),
            rate_limit_per_second: Some(0.0),
            timeout_ms: Some(2000),
            ..FilePortal::default()
        },
        payments: FilePayments {
            allow_test_mode: Some(true),
            ..FilePayments::default()
        },
        ..FileConfig::default()
    }
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

/// Sends [`confirm_request`] to the companion at `base`, waiting up to `within`: the status and
/// the JSON body (`null` when there is none). The companion must answer.
pub async fn confirm_at(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &Value,
    within: std::time::Duration,
) -> (u16, Value) {
    let response = confirm_request(http, base, key, body)
        .timeout(within)
        .send()
        .await
        .expect("the companion answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GETs `url` and reads its JSON body (failing the test if it is not JSON).
pub async fn get_json(http: &reqwest::Client, url: String) -> Value {
    let response = http.get(url).send().await.expect("request sent");
    response.json().await.expect("a JSON body")
}

pub fn key() -> String {
    format!("{:032x}", rand::random::<u128>())
}
