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
use crate::crash_support::CrashWorld;
use crate::live::{settled_after_event, subscribe};
use b24pay_companion::store;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A relay on a fixed address to whichever companion runs now; a connection waits (up to 60 s)
/// for one to be there.
async fn relay(backend: watch::Receiver<Option<SocketAddr>>) -> SocketAddr {
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
    let world = CrashWorld::start(kind).await;
    let (ls, sandbox, location) = (&world.ls, &world.sandbox, &world.location);
    let (backend, watch_backend) = watch::channel(None);
    let relay = relay(watch_backend).await;
    subscribe(ls, &format!("http://{relay}/webhooks/stripe")).await;

    let (id, body) = world.order("19.99", "EUR");
    let mut c = world.spawn(Some("after_charge"), &[]);
    backend.send_replace(Some(c.addr));
    let k = key();
    let sent = c.confirm(&k, &body).await;
    assert!(sent.is_err(), "no answer: it died ({sent:?})");
    let started = Instant::now();
    while c.child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(10), "still alive");
        std::thread::sleep(Duration::from_millis(10));
    }
    let c = world.spawn(None, &[]);
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
    let store = store::open(location).await.unwrap();
    let mut charged = store
        .charged_attempts(b24pay_protocol::ids::PaymentId::from_u64(id).unwrap(), None)
        .await
        .unwrap();
    assert_eq!(charged.len(), 1);
    let a = charged.remove(0);
    let log = store.attempt_log(&a.id).await.unwrap();
    assert!(
        settled_after_event(&log),
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
    let resp = c.confirm(&k, &body).await.unwrap();
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
    c.kill();
    world.sandbox.shutdown().await;
}

both_stores!(the_webhook_settles_a_charge_whose_companion_died);
