//! The real `b24pay` binary dies right after Stripe (localstripe) approved a charge, before
//! recording anything (the `after_charge` crash point); nobody retries. Restarted, with the
//! reconciler's poll far away (10 min) and its first pass over before the dead holder's lease
//! runs out, only localstripe's single signed `payment_intent.succeeded` (sent 1 s after the
//! event) can settle the payment: paid in the sandbox exactly once, charged exactly once.
//!
//! localstripe delivers to a fixed address; a small relay in the test stands there (as a load
//! balancer would) and holds the delivery until the restarted companion listens, so the test
//! does not depend on how fast a loaded machine restarts a process.

use crate::common::*;
use crate::live::{subscribe, WEBHOOK_SECRET};
use crate::localstripe::{LocalStripe, PUBLISHABLE_KEY, SECRET_KEY};
use crate::support::APPROVED;
use b24pay_companion::portal::Mode;
use b24pay_companion::register::{register, RegisterOptions};
use b24pay_companion::store::{self, StoreLocation};
use b24pay_sandbox::{NewPayment, Sandbox};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub struct Companion {
    pub child: Child,
    pub addr: SocketAddr,
}

/// The real `b24pay serve` configured for Stripe against `ls`; `extra` environment variables
/// override the defaults below.
pub fn spawn(
    sandbox: &b24pay_sandbox::SandboxHandle,
    ls: &LocalStripe,
    dir: &std::path::Path,
    location: &StoreLocation,
    crash_point: Option<&str>,
    extra: &[(&str, &str)],
) -> Companion {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b24pay"));
    cmd.arg("serve")
        .env_clear()
        .env("B24PAY_LOG", "warn")
        .env("B24PAY_LISTEN", "127.0.0.1:0")
        .env("B24PAY_WEBHOOK_URL", sandbox.webhook_url())
        .env("B24PAY_ALLOWED_ORIGINS", sandbox.base_url())
        .env("B24PAY_DIST_DIR", dir.join("dist"))
        .env("B24PAY_PORTAL_RATE_LIMIT", "off")
        .env("B24PAY_RECONCILE_POLL_MS", "600000")
        .env("B24PAY_CHARGE_LEASE_MS", "10000")
        .env("B24PAY_PORTAL_TIMEOUT_MS", "1500")
        .env("B24PAY_OUTBOX_BASE_BACKOFF_MS", "50")
        .env("B24PAY_OUTBOX_MAX_BACKOFF_MS", "400")
        .env("B24PAY_MASTER_KEY", TEST_MASTER_KEY)
        .env("B24PAY_STRIPE_SECRET_KEY", SECRET_KEY)
        .env("B24PAY_STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
        .env("B24PAY_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("B24PAY_STRIPE_API_BASE", &ls.base)
        .env(
            "B24PAY_STRIPE_JS_URL",
            format!("{}/js.stripe.com/v3/", ls.base),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    match location {
        StoreLocation::DataDir(d) => cmd.env("B24PAY_DATA_DIR", d),
        StoreLocation::Url(u) => cmd.env("DATABASE_URL", u),
    };
    if let Some(point) = crash_point {
        cmd.env("B24PAY_CRASH_POINT", point);
    }
    cmd.envs(extra.iter().copied());
    let mut child = cmd.spawn().expect("b24pay starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("b24pay prints its address");
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Companion { child, addr }
}

/// A relay on a fixed address to whichever companion runs now; a connection waits (up to 60 s)
/// for one to be there.
pub async fn relay(backend: watch::Receiver<Option<SocketAddr>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let backend = backend.clone();
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut outbound = loop {
                    let target = *backend.borrow();
                    if let Some(target) = target {
                        if let Ok(s) = tokio::net::TcpStream::connect(target).await {
                            break s;
                        }
                    }
                    if Instant::now() > deadline {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                };
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    addr
}

async fn the_webhook_settles_a_charge_whose_companion_died(kind: StoreKind) {
    let ls = LocalStripe::start();
    let sandbox = Sandbox::builder().start().await.unwrap();
    let mut o = RegisterOptions::new(
        url::Url::parse("http://localhost:8080/").unwrap(),
        Mode::Live,
    );
    o.person_type = Some(1);
    let ps = register(&webhook_client(&sandbox), &o)
        .await
        .unwrap()
        .paysystem_id;
    let dir = tempfile::tempdir().unwrap();
    fake_dist(dir.path());
    let location = match kind {
        StoreKind::Sqlite => StoreLocation::DataDir(dir.path().join("data")),
        StoreKind::Postgres => StoreLocation::Url(fresh_pg_database().await),
    };
    let (backend, watch_backend) = watch::channel(None);
    let relay = relay(watch_backend).await;
    subscribe(&ls, &format!("http://{relay}/webhooks/stripe")).await;

    let id = sandbox
        .create_payment(NewPayment::order("19.99", "EUR").with_pay_system(ps))
        .unwrap()
        .payment_id;
    let mut c = spawn(
        &sandbox,
        &ls,
        dir.path(),
        &location,
        Some("after_charge"),
        &[],
    );
    backend.send_replace(Some(c.addr));
    let body = json!({
        "payment_id": id.to_string(), "paysystem_id": ps.to_string(), "amount": "19.99",
        "currency": "EUR",
        "card": {"number": APPROVED, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    });
    let http = reqwest::Client::new();
    let k = key();
    let sent = http
        .post(format!("http://{}/api/v1/payments", c.addr))
        .header("Idempotency-Key", &k)
        .json(&body)
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    assert!(sent.is_err(), "no answer: it died ({sent:?})");
    let started = Instant::now();
    while c.child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(10), "still alive");
        std::thread::sleep(Duration::from_millis(10));
    }
    let c = spawn(&sandbox, &ls, dir.path(), &location, None, &[]);
    backend.send_replace(Some(c.addr));

    let started = Instant::now();
    while !sandbox.payment(id).unwrap().paid {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the webhook never settled the payment: {:?}",
            sandbox.payment(id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let store = store::open(&location).await.unwrap();
    let mut charged = store
        .charged_attempts(b24pay_protocol::ids::PaymentId::from_u64(id).unwrap(), None)
        .await
        .unwrap();
    assert_eq!(charged.len(), 1);
    let a = charged.remove(0);
    let log = store.attempt_log(&a.id).await.unwrap();
    assert!(
        log.iter().any(|l| l
            .note
            .as_deref()
            .unwrap_or("")
            .contains("after the acquirer's event")),
        "settled by the event, not the reconciler: {log:?}"
    );
    let p = sandbox.payment(id).unwrap();
    assert_eq!(
        p.ps.invoice_id, a.acquirer_ref,
        "PS_INVOICE_ID is the PaymentIntent"
    );
    assert_eq!(p.pay_calls, 1);
    let requests = ls
        .requests_until(|r| r.iter().filter(|r| r.path.ends_with("/confirm")).count() >= 1)
        .await;
    let posts = |suffix: &str| {
        requests
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
            .count()
    };
    assert_eq!(
        (posts("/payment_intents"), posts("/confirm")),
        (1, 1),
        "charged once"
    );
    // The customer's late retry hears the recorded result; nothing is charged again.
    let resp = http
        .post(format!("http://{}/api/v1/payments", c.addr))
        .header("Idempotency-Key", &k)
        .json(&body)
        .send()
        .await
        .unwrap();
    let view: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(view["state"], "succeeded", "{view}");
    let requests = ls.requests_until(|_| true).await;
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/confirm"))
            .count(),
        1
    );
    let mut c = c;
    let _ = c.child.kill();
    let _ = c.child.wait();
    sandbox.shutdown().await;
}

both_stores!(the_webhook_settles_a_charge_whose_companion_died);
