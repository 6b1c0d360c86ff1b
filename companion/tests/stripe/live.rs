//! A companion with `[acquirer.stripe]` pointed at localstripe, a sandbox portal with a LIVE
//! pay system (and the harness's TEST ones), and the calls a customer's widget and Stripe.js
//! make, over the companion's real HTTP API.

use crate::common::*;
use crate::localstripe::LocalStripe;
use b24pay_companion::portal::Mode;
use b24pay_sandbox::NewPayment;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The webhook signing secret the harness configures (localstripe signs with it too).
pub const WEBHOOK_SECRET: &str = "whsec_b24pay_localstripe";

pub struct Live {
    pub env: Env,
    pub ls: LocalStripe,
    /// The LIVE pay system (orders, person type 2).
    pub ps: u64,
}

impl Live {
    pub async fn start(kind: StoreKind) -> Live {
        let ls = LocalStripe::start();
        let mut env = Env::start(kind).await;
        env.stop_server().await;
        env.file_config.acquirer.stripe = Some(ls.file_settings());
        env.start_server().await;
        let ps = register_paysystem(&env.sandbox, Mode::Live, 2, None).await;
        Live { env, ls, ps }
    }

    /// An order payment bound to the LIVE pay system.
    pub fn order(&self, sum: &str, currency: &str) -> u64 {
        self.env
            .sandbox
            .create_payment(NewPayment::order(sum, currency).with_pay_system(self.ps))
            .expect("payment created")
            .payment_id
    }

    pub async fn pay(&self, payment: u64, sum: &str, currency: &str, card: &str) -> (u16, Value) {
        let body = self.env.body(payment, self.ps, sum, currency, card);
        self.env.confirm(&key(), &body).await
    }

    /// `POST /payments/{id}/resume`, as the widget calls it after the Stripe.js step.
    pub async fn resume(&self, attempt: &str, key: &str) -> (u16, Value) {
        self.env
            .post(
                &format!("/api/v1/payments/{attempt}/resume"),
                Some(key),
                &json!({}),
            )
            .await
    }

    /// Subscribes the companion's `/webhooks/stripe` to localstripe's events.
    pub async fn subscribe_webhooks(&self) {
        subscribe(&self.ls, &format!("{}/webhooks/stripe", self.env.base)).await;
    }

    /// The `action` column exactly as stored.
    pub async fn raw_action(&self, attempt: &str) -> Option<String> {
        raw_column(&self.env.store_location, attempt).await
    }
}

/// localstripe's webhook configuration: every event goes to `url`, signed with
/// [`WEBHOOK_SECRET`].
pub async fn subscribe(ls: &LocalStripe, url: &str) {
    let registered = reqwest::Client::new()
        .post(format!("{}/_config/webhooks/b24pay", ls.base))
        .form(&[("url", url), ("secret", WEBHOOK_SECRET)])
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());
}

/// The stored `action` of an attempt, read with SQL rather than through the store's types.
pub async fn raw_column(
    location: &b24pay_companion::store::StoreLocation,
    attempt: &str,
) -> Option<String> {
    use b24pay_companion::store::StoreLocation;
    use sqlx::Connection;
    match location {
        StoreLocation::DataDir(dir) => {
            let url = format!("sqlite:{}?mode=ro", dir.join("b24pay.sqlite3").display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar("SELECT action FROM attempts WHERE id = ?1")
                .bind(attempt)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
        StoreLocation::Url(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar("SELECT action FROM attempts WHERE id = $1")
                .bind(attempt)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    }
}

/// A body signed the way Stripe signs it, with `secret`, `age_s` seconds ago.
pub fn signed(secret: &str, age_s: i64, body: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    b24pay_companion::acquirer::stripe::webhook::signature_header(secret, now - age_s, body)
}

/// An event of `kind` about `object`, as Stripe's (and localstripe's) bodies are shaped.
pub fn event(kind: &str, object: Value) -> Vec<u8> {
    let id = format!("evt_{:016x}", rand::random::<u64>());
    serde_json::to_vec(&json!({
        "id": id, "object": "event", "type": kind, "livemode": false,
        "created": 1_700_000_000, "data": {"object": object}
    }))
    .unwrap()
}

/// Posts a webhook to the companion with the given `Stripe-Signature`.
pub async fn deliver(env: &Env, signature: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut req = env
        .http
        .post(format!("{}/webhooks/stripe", env.base))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A relay to `target` on an address of its own, counting the connections it forwards: which
/// deliveries localstripe made (its webhooks are fire-and-forget).
pub async fn counting_relay(target: std::net::SocketAddr) -> (String, std::sync::Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("http://{addr}/webhooks/stripe"), count)
}

impl Live {
    /// Subscribes the companion's `/webhooks/stripe` through a [`counting_relay`]; the count
    /// is of deliveries.
    pub async fn subscribe_counted(&self) -> std::sync::Arc<AtomicUsize> {
        let target = self
            .env
            .base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("the companion listens on an IP address");
        let (url, count) = counting_relay(target).await;
        subscribe(&self.ls, &url).await;
        count
    }
}

/// Whether an attempt's log shows it settled by asking Stripe after one of its events (the
/// note `payments/settle.rs` writes), rather than by the customer's answer or the reconciler.
pub fn settled_after_event(log: &[b24pay_companion::store::LogEntry]) -> bool {
    log.iter().any(|l| {
        l.note
            .as_deref()
            .unwrap_or("")
            .contains("after the acquirer's event")
    })
}
