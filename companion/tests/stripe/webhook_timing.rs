//! localstripe's own signed webhooks racing the customer's synchronous answers: an event that
//! arrives after the answer changes nothing; one that arrives before the customer's resume
//! settles the attempt, and the resume then hears the same result. Either way the portal is
//! told exactly once. Also: the widget page of a companion with Stripe allows Stripe.js.

use crate::common::*;
use crate::live::{settled_after_event, Live};
use crate::support::{authenticate, stripe_get, APPROVED, THREE_DS};
use b24pay_companion::store::AttemptState;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Waits until `count` deliveries went through the relay (localstripe sends them about a
/// second after the event), then a moment more for the companion to handle the last one.
async fn wait_deliveries(count: &std::sync::atomic::AtomicUsize, at_least: usize) {
    let started = Instant::now();
    while count.load(Ordering::SeqCst) < at_least {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "localstripe delivered {} of {at_least} webhooks",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// 4242…: the confirm request answers `succeeded` first; `payment_intent.succeeded` (and the
/// charge's events) arrive afterwards and change nothing.
async fn the_event_after_the_answer_changes_nothing(kind: StoreKind) {
    let live = Live::start(kind).await;
    let deliveries = live.subscribe_counted().await;
    let id = live.order("42.00", "EUR");
    let (status, view) = live.pay(id, "42.00", "EUR", APPROVED).await;
    assert_eq!((status, view["state"].as_str()), (200, Some("succeeded")));
    let attempt = view["id"].as_str().unwrap().to_string();
    let settled = live.env.attempt(&attempt).await;
    live.env.wait_paid(id, Duration::from_secs(20)).await;
    wait_deliveries(&deliveries, 1).await;
    let after = live.env.attempt(&attempt).await;
    assert_eq!(after.state, AttemptState::Succeeded);
    assert_eq!(after.transaction_id, settled.transaction_id);
    let log = live.env.store().attempt_log(&after.id).await.unwrap();
    assert!(
        !log.iter()
            .any(|l| l.note.as_deref().unwrap_or("").contains("acquirer's event")),
        "the late event settled nothing: {log:?}"
    );
    assert_eq!(live.env.payment(id).pay_calls, 1, "the portal told once");
    live.env.stop().await;
}

/// 3-D Secure completed in Stripe.js, then the customer's tab is slow: localstripe's
/// `payment_intent.succeeded` settles the attempt first; the resume that follows hears
/// `succeeded` and asks nothing more of Stripe's money.
async fn the_event_before_the_resume_settles_it(kind: StoreKind) {
    let live = Live::start(kind).await;
    let deliveries = live.subscribe_counted().await;
    let id = live.order("18.00", "EUR");
    let (_, view) = live.pay(id, "18.00", "EUR", THREE_DS).await;
    assert_eq!(view["state"], "requires_action", "{view}");
    let attempt = view["id"].as_str().unwrap().to_string();
    let secret = view["action"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(authenticate(&live.ls, &secret, true).await, 200);
    let a = live
        .env
        .wait_attempt(&attempt, Duration::from_secs(20), |a| {
            a.state != AttemptState::RequiresAction
        })
        .await;
    assert_eq!(a.state, AttemptState::Succeeded, "{:?}", a.note);
    assert!(deliveries.load(Ordering::SeqCst) >= 1);
    let log = live.env.store().attempt_log(&a.id).await.unwrap();
    assert!(settled_after_event(&log), "settled by the event: {log:?}");
    let (status, view) = live.resume(&attempt, &key()).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("succeeded")),
        "{view}"
    );
    assert!(view.get("action").is_none(), "{view}");
    let paid = live.env.wait_paid(id, Duration::from_secs(20)).await;
    let pi = a.acquirer_ref.clone().unwrap();
    assert_eq!(paid.ps.invoice_id.as_deref(), Some(pi.as_str()));
    let at_stripe = stripe_get(&live.ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(at_stripe["status"], "succeeded");
    // Whatever else localstripe sends about it is handled by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(live.env.payment(id).pay_calls, 1, "the portal told once");
    live.env.stop().await;
}

/// The widget page's CSP of a companion with Stripe names localstripe (standing in for
/// js.stripe.com and api.stripe.com) for Stripe.js's script, frames and calls; the page of one
/// without Stripe names nothing of the kind (`tests/it/serving.rs`).
async fn the_page_allows_stripe_js(kind: StoreKind) {
    let live = Live::start(kind).await;
    let resp = live
        .env
        .http
        .get(format!("{}/", live.env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let policy = resp
        .headers()
        .get("content-security-policy")
        .expect("the page has a CSP")
        .to_str()
        .unwrap()
        .to_string();
    let origin = live.ls.base.trim_end_matches('/');
    for directive in ["script-src", "frame-src", "connect-src"] {
        let sources = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with(directive))
            .unwrap_or_else(|| panic!("no {directive} in {policy}"));
        assert!(
            sources.split_whitespace().any(|s| s == origin),
            "{directive} lacks {origin}: {policy}"
        );
    }
    assert!(policy.contains("default-src 'none'"), "{policy}");
    live.env.stop().await;
}

both_stores!(
    the_event_after_the_answer_changes_nothing,
    the_event_before_the_resume_settles_it,
    the_page_allows_stripe_js,
);
