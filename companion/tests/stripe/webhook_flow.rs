//! `POST /webhooks/stripe` on a running companion: forged, stale and unsigned deliveries are
//! refused with 400 and change nothing; events it does not handle are acknowledged; an event
//! the acquirer does not confirm (the PaymentIntent is re-read) changes nothing; a failed 3-D
//! Secure charge is settled by localstripe's own signed event before the customer comes back;
//! a refund made at Stripe outside b24pay is recorded from `charge.refunded`.

use crate::common::*;
use crate::live::{deliver, event, settled_after_event, signed, Live, WEBHOOK_SECRET};
use crate::localstripe::SECRET_KEY;
use crate::support::{authenticate, APPROVED, THREE_DS, THREE_DS_THEN_DECLINED};
use b24pay_companion::store::{AttemptState, RefundOrigin, RefundState};
use serde_json::json;
use std::time::Duration;

fn secret_of(view: &serde_json::Value) -> String {
    view["action"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn forged_and_replayed_events_change_nothing(kind: StoreKind) {
    let live = Live::start(kind).await;
    let id = live.order("25.00", "EUR");
    let (_, view) = live.pay(id, "25.00", "EUR", THREE_DS).await;
    let attempt = view["id"].as_str().unwrap().to_string();
    let secret = secret_of(&view);
    let pi = secret.split("_secret_").next().unwrap().to_string();
    let before = live.env.attempt(&attempt).await;
    // A "succeeded" event for it, as an attacker would like it to read.
    let body = event(
        "payment_intent.succeeded",
        json!({"id": pi, "object": "payment_intent", "status": "succeeded", "amount": 2500,
               "currency": "eur", "metadata": {"attempt_id": attempt}}),
    );
    for (signature, code) in [
        (
            Some(signed("whsec_not_the_real_one", 0, &body)),
            "bad_signature",
        ),
        (Some(signed(WEBHOOK_SECRET, 3600, &body)), "stale_signature"),
        (None, "missing_signature"),
        (Some("t=1,v1=zz".to_string()), "malformed_signature"),
    ] {
        let (status, answer) = deliver(&live.env, signature.as_deref(), &body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{answer}"
        );
    }
    // Signed correctly, but the PaymentIntent still waits for the customer: nothing changes.
    let (status, answer) = deliver(&live.env, Some(&signed(WEBHOOK_SECRET, 0, &body)), &body).await;
    assert_eq!(status, 200, "{answer}");
    let after = live.env.attempt(&attempt).await;
    assert_eq!(after.state, AttemptState::RequiresAction);
    assert_eq!(
        (after.updated_at, after.action_rounds, after.note.clone()),
        (before.updated_at, before.action_rounds, before.note.clone())
    );
    assert!(!live.env.payment(id).paid);
    // An event it does not handle is acknowledged.
    let other = event(
        "customer.created",
        json!({"id": "cus_1", "object": "customer"}),
    );
    let (status, answer) =
        deliver(&live.env, Some(&signed(WEBHOOK_SECRET, 0, &other)), &other).await;
    assert_eq!(status, 200);
    assert!(
        answer["outcome"].as_str().unwrap().starts_with("ignored"),
        "{answer}"
    );
    // The customer is not blocked by the event's look: the Stripe.js step and resume still work.
    assert_eq!(authenticate(&live.ls, &secret, true).await, 200);
    assert_succeeded(&live.resume(&attempt, &key()).await);
    live.env.wait_paid(id, Duration::from_secs(20)).await;
    // The same event again, now true: settled already, the portal told once.
    let (status, _) = deliver(&live.env, Some(&signed(WEBHOOK_SECRET, 0, &body)), &body).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(live.env.payment(id).pay_calls, 1);
    live.env.stop().await;
}

/// localstripe's own `payment_intent.payment_failed` (after a 3-D Secure step whose charge was
/// declined) settles the attempt while the customer is gone: declined, PaymentIntent cancelled.
async fn a_failed_charge_is_settled_by_its_event(kind: StoreKind) {
    let live = Live::start(kind).await;
    live.subscribe_webhooks().await;
    let id = live.order("25.00", "EUR");
    let (_, view) = live.pay(id, "25.00", "EUR", THREE_DS_THEN_DECLINED).await;
    let attempt = view["id"].as_str().unwrap().to_string();
    assert_eq!(authenticate(&live.ls, &secret_of(&view), true).await, 402);
    // No resume: the customer closed the tab.
    let a = live
        .env
        .wait_attempt(&attempt, Duration::from_secs(15), |a| {
            a.state != AttemptState::RequiresAction
        })
        .await;
    assert_eq!(a.state, AttemptState::Declined, "{:?}", a.note);
    let log = live.env.store().attempt_log(&a.id).await.unwrap();
    assert!(settled_after_event(&log), "{log:?}");
    // The customer's late resume hears how it ended.
    let (status, view) = live.resume(&attempt, &key()).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("declined")),
        "{view}"
    );
    assert!(!live.env.payment(id).paid);
    live.env.stop().await;
}

/// A refund made at Stripe (its Dashboard) is recorded from `charge.refunded` (localstripe
/// sends none: the event is signed here), by re-reading Stripe's refunds.
async fn a_refund_made_at_stripe_is_recorded(kind: StoreKind) {
    let live = Live::start(kind).await;
    let id = live.order("60.00", "EUR");
    let (_, view) = live.pay(id, "60.00", "EUR", APPROVED).await;
    let attempt = live.env.attempt(view["id"].as_str().unwrap()).await;
    let pi = attempt.acquirer_ref.clone().unwrap();
    live.env.wait_paid(id, Duration::from_secs(20)).await;
    let made = reqwest::Client::new()
        .post(format!("{}/v1/refunds", live.ls.base))
        .bearer_auth(SECRET_KEY)
        .form(&[("payment_intent", pi.as_str()), ("amount", "1500")])
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success());
    // The event's body claims a different amount: only Stripe's own records count.
    let body = event(
        "charge.refunded",
        json!({"id": "ch_1", "object": "charge", "amount": 6000, "amount_refunded": 6000,
               "currency": "eur", "refunded": true, "payment_intent": pi}),
    );
    let signature = signed(WEBHOOK_SECRET, 0, &body);
    let (status, answer) = deliver(&live.env, Some(&signature), &body).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = deliver(&live.env, Some(&signature), &body).await;
    assert_eq!(status, 200, "a replay");
    let refunds = live.env.store().refunds_of(&attempt.id).await.unwrap();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let r = &refunds[0];
    assert_eq!(
        (r.amount.minor, r.state, r.origin),
        (1500, RefundState::Succeeded, RefundOrigin::Acquirer)
    );
    let started = std::time::Instant::now();
    loop {
        let p = live.env.payment(id);
        if p.ps.status_code.as_deref() == Some("partially_refunded") {
            assert!(p.paid);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{p:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    live.env.stop().await;
}

both_stores!(
    forged_and_replayed_events_change_nothing,
    a_failed_charge_is_settled_by_its_event,
    a_refund_made_at_stripe_is_recorded,
);
