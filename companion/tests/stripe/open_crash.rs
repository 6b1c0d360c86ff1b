//! The real `b24pay` binary dies between creating the PaymentIntent and confirming it (the
//! `after_open` crash point): its id is in the store, no money moved. Restarted, the
//! reconciler finds the dead holder's attempt, retrieves and cancels that PaymentIntent by its
//! stored id (creating none), and the attempt ends `failed`: nothing charged. The customer's
//! retry with the same key is then charged once, as the attempt's next round.

use crate::common::*;
use crate::crash_support::CrashWorld;
use crate::localstripe::Request;
use crate::support::{adapter_posts, posts_to, stripe_get};
use b24pay_companion::store::{self, AttemptFilter, AttemptState};
use std::time::{Duration, Instant};

fn creates(requests: &[Request]) -> usize {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/v1/payment_intents"))
        .count()
}

async fn killed_between_open_and_confirm(kind: StoreKind) {
    let world = CrashWorld::start(kind).await;
    let (ls, sandbox, location) = (&world.ls, &world.sandbox, &world.location);
    let (id, body) = world.order("23.50", "EUR");
    let poll = [("B24PAY_RECONCILE_POLL_MS", "200")];
    let mut c = world.spawn(Some("after_open"), &poll);
    let k = key();
    let sent = c.confirm(&k, &body).await;
    assert!(sent.is_err(), "no answer: it died ({sent:?})");
    let _ = c.child.wait();
    let requests = ls.requests_until(|r| creates(r) >= 1).await;
    assert_eq!(
        (creates(&requests), posts_to(&requests, "/confirm")),
        (1, 0)
    );

    // The PaymentIntent's id was recorded before the confirm that never happened.
    let store = store::open(location).await.unwrap();
    let attempts = store
        .list_attempts(AttemptFilter::Recent, 10)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    let first = attempts[0].clone();
    assert_eq!(first.state, AttemptState::Processing);
    let pi = first
        .acquirer_ref
        .clone()
        .expect("the PaymentIntent id is stored");
    let at_stripe = stripe_get(ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(at_stripe["status"], "requires_confirmation");

    let c = world.spawn(None, &poll);
    let started = Instant::now();
    let failed = loop {
        let a = store.attempt(&first.id).await.unwrap().unwrap();
        if a.state != AttemptState::Processing {
            break a;
        }
        // The dead holder's lease (10 s) runs out first.
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "never reconciled: {a:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failed.state, AttemptState::Failed, "{:?}", failed.note);
    let at_stripe = stripe_get(ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(
        at_stripe["status"], "canceled",
        "cancelled by its stored id"
    );
    let requests = ls.requests_until(|_| true).await;
    assert_eq!(
        (creates(&requests), posts_to(&requests, "/confirm")),
        (1, 0),
        "recovery created no PaymentIntent and confirmed none"
    );
    assert!(!sandbox.payment(id).unwrap().paid);

    // The customer tries again with the same key: the next round, charged once.
    let resp = c.confirm(&k, &body).await.unwrap();
    let view: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(view["state"], "succeeded", "{view}");
    assert_eq!(
        view["id"],
        first.id.as_str(),
        "the same attempt, its next round"
    );
    let charged = store.attempt(&first.id).await.unwrap().unwrap();
    let second = charged.acquirer_ref.clone().unwrap();
    assert_ne!(second, pi, "a new PaymentIntent for the new round");
    let started = Instant::now();
    while !sandbox.payment(id).unwrap().paid {
        assert!(started.elapsed() < Duration::from_secs(20), "never paid");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let p = sandbox.payment(id).unwrap();
    assert_eq!(p.ps.invoice_id.as_deref(), Some(second.as_str()));
    assert_eq!(p.pay_calls, 1);
    let requests = ls.requests_until(|r| posts_to(r, "/confirm") >= 1).await;
    assert_eq!(
        (creates(&requests), posts_to(&requests, "/confirm")),
        (2, 1)
    );
    for r in adapter_posts(&requests) {
        let k = r
            .key
            .as_deref()
            .unwrap_or_else(|| panic!("no Idempotency-Key: {r:?}"));
        assert!(k.starts_with(&format!("{}:", first.id)), "{k} for {r:?}");
    }
    c.kill();
    world.sandbox.shutdown().await;
}

both_stores!(killed_between_open_and_confirm);
