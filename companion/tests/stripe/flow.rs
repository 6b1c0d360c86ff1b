//! LIVE pay systems charged through Stripe (localstripe) by the companion, over its real HTTP
//! API, with a sandbox portal: approved, declined, 3-D Secure through localstripe's Stripe.js
//! stand-in (completed, failed, declined after it), the client secret never at rest, and every
//! answer in the OpenAPI contract.

use crate::common::spec::{check, spec};
use crate::common::*;
use crate::live::Live;
use crate::support::{
    authenticate, stripe_get, APPROVED, DECLINED_ON_CHARGE, THREE_DS, THREE_DS_THEN_DECLINED,
};
use b24pay_companion::store::{AttemptFilter, AttemptState};
use serde_json::{json, Value};
use std::time::Duration;

const PAID_WITHIN: Duration = Duration::from_secs(20);

/// The Stripe.js action of a `requires_action` answer: its client secret, checked against
/// what the configuration says.
fn stripe_js(live: &Live, view: &Value) -> String {
    assert_eq!(view["state"], "requires_action", "{view}");
    let action = &view["action"];
    assert_eq!(action["type"], "stripe_js", "{view}");
    assert_eq!(
        action["publishable_key"],
        crate::localstripe::PUBLISHABLE_KEY
    );
    assert_eq!(
        action["js_url"],
        format!("{}/js.stripe.com/v3/", live.ls.base)
    );
    let secret = action["client_secret"].as_str().unwrap().to_string();
    assert!(secret.contains("_secret_"), "{secret}");
    secret
}

/// Approved, declined at charge time, and the TEST pay system beside it still on the test
/// acquirer.
async fn approved_and_declined(kind: StoreKind) {
    let live = Live::start(kind).await;
    let spec = spec();
    let id = live.order("30.00", "EUR");
    let (status, view) = live.pay(id, "30.00", "EUR", APPROVED).await;
    check(&spec, "/payments", "post", status, &view);
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("succeeded")),
        "{view}"
    );
    assert_eq!(view["test_mode"], false);
    let attempt = live.env.attempt(view["id"].as_str().unwrap()).await;
    let pi = attempt
        .acquirer_ref
        .clone()
        .expect("the PaymentIntent id is recorded");
    assert!(pi.starts_with("pi_"), "{pi}");
    let paid = live.env.wait_paid(id, PAID_WITHIN).await;
    assert_eq!(
        paid.ps.invoice_id.as_deref(),
        Some(pi.as_str()),
        "PS_INVOICE_ID"
    );
    let at_stripe = stripe_get(&live.ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(at_stripe["status"], "succeeded");
    assert_eq!(at_stripe["amount"], 3000);
    assert_eq!(at_stripe["metadata"]["attempt_id"], attempt.id.as_str());
    assert_eq!(at_stripe["metadata"]["payment_id"], id.to_string());

    let declined = live.order("30.00", "EUR");
    let (status, view) = live.pay(declined, "30.00", "EUR", DECLINED_ON_CHARGE).await;
    check(&spec, "/payments", "post", status, &view);
    assert_declined(&(status, view.clone()), "generic_decline");
    let a = live.env.attempt(view["id"].as_str().unwrap()).await;
    let pi = a.acquirer_ref.unwrap();
    let at_stripe = stripe_get(&live.ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(
        at_stripe["status"], "canceled",
        "a declined PaymentIntent is cancelled"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!live.env.payment(declined).paid);

    // The TEST pay system of the same companion still goes through the test acquirer.
    let test = live.env.order("30.00", "EUR");
    let (_, view) = live
        .env
        .confirm(
            &key(),
            &live
                .env
                .body(test, live.env.ps_order, "30.00", "EUR", APPROVED),
        )
        .await;
    assert_eq!(view["test_mode"], true, "{view}");
    let listing =
        b24pay_companion::operator::list_attempts(&live.env.store(), AttemptFilter::Recent, 10)
            .await
            .unwrap();
    let acquirers: Vec<&str> = listing
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(acquirers, ["test", "stripe", "stripe"], "{listing}");
    live.env.stop().await;
}

/// 3-D Secure completed in localstripe's Stripe.js stand-in, then the widget's resume: paid.
/// The client secret reaches the customer but is not stored; a status poll or a replay of the
/// confirm gets it again from Stripe.
async fn three_d_secure_completed(kind: StoreKind) {
    let live = Live::start(kind).await;
    let spec = spec();
    let id = live.order("12.50", "EUR");
    let confirm_key = key();
    let body = live.env.body(id, live.ps, "12.50", "EUR", THREE_DS);
    let (status, view) = live.env.confirm(&confirm_key, &body).await;
    check(&spec, "/payments", "post", status, &view);
    let secret = stripe_js(&live, &view);
    let attempt = view["id"].as_str().unwrap().to_string();
    let stored = live
        .raw_action(&attempt)
        .await
        .expect("the action is stored");
    assert!(stored.contains("stripe_js"), "{stored}");
    assert!(
        !stored.contains("secret"),
        "the client secret is not at rest: {stored}"
    );
    let (status, polled) = live.env.status(&attempt).await;
    check(&spec, "/payments/{id}", "get", status, &polled);
    assert_eq!(stripe_js(&live, &polled), secret);
    let (_, replayed) = live.env.confirm(&confirm_key, &body).await;
    assert_eq!(stripe_js(&live, &replayed), secret);
    // The widget cannot answer a Stripe.js action with a code.
    assert_error(
        &live.env.challenge(&attempt, &key(), "123").await,
        409,
        "invalid_state",
    );

    assert_eq!(authenticate(&live.ls, &secret, true).await, 200);
    let resume_key = key();
    let (status, view) = live.resume(&attempt, &resume_key).await;
    check(&spec, "/payments/{id}/resume", "post", status, &view);
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("succeeded")),
        "{view}"
    );
    let pi = secret.split("_secret_").next().unwrap().to_string();
    let paid = live.env.wait_paid(id, PAID_WITHIN).await;
    assert_eq!(paid.ps.invoice_id.as_deref(), Some(pi.as_str()));
    // The same answer again is a replay; an answer of the wrong shape is refused.
    assert_succeeded(&live.resume(&attempt, &resume_key).await);
    let resp = live
        .env
        .http
        .post(format!(
            "{}/api/v1/payments/{attempt}/resume",
            live.env.base
        ))
        .header("Idempotency-Key", key())
        .json(&json!({"done": true}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let err: Value = resp.json().await.unwrap();
    check(&spec, "/payments/{id}/resume", "post", status, &err);
    assert_error(&(status, err), 400, "invalid_json");
    live.env.stop().await;
}

/// 3-D Secure failed in Stripe.js: declined (`challenge_failed`), the payment unpaid and
/// payable again; 3-D Secure passed but the card declined when charged: declined.
async fn three_d_secure_failed_or_declined(kind: StoreKind) {
    let live = Live::start(kind).await;
    let spec = spec();
    let id = live.order("40", "USD");
    let (_, view) = live.pay(id, "40", "USD", THREE_DS).await;
    let secret = stripe_js(&live, &view);
    let attempt = view["id"].as_str().unwrap().to_string();
    assert_eq!(authenticate(&live.ls, &secret, false).await, 200);
    let (status, view) = live.resume(&attempt, &key()).await;
    check(&spec, "/payments/{id}/resume", "post", status, &view);
    assert_declined(&(status, view.clone()), "challenge_failed");
    let pi = secret.split("_secret_").next().unwrap();
    let at_stripe = stripe_get(&live.ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(at_stripe["status"], "canceled");
    assert!(!live.env.payment(id).paid);
    // Payable again, with another card.
    assert_succeeded(&live.pay(id, "40", "USD", APPROVED).await);
    live.env.wait_paid(id, PAID_WITHIN).await;

    let id = live.order("40", "USD");
    let (_, view) = live.pay(id, "40", "USD", THREE_DS_THEN_DECLINED).await;
    let secret = stripe_js(&live, &view);
    let attempt = view["id"].as_str().unwrap().to_string();
    // localstripe charges after the authentication and answers the decline (402).
    assert_eq!(authenticate(&live.ls, &secret, true).await, 402);
    let (status, view) = live.resume(&attempt, &key()).await;
    assert_declined(&(status, view.clone()), "generic_decline");
    let a = live.env.attempt(&attempt).await;
    assert_eq!(a.state, AttemptState::Declined);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!live.env.payment(id).paid);
    live.env.stop().await;
}

/// A Stripe.js step the customer did not finish: resume answers the action again (a new
/// round); answers stop at the cap, which cancels the PaymentIntent.
async fn unfinished_action_and_the_cap(kind: StoreKind) {
    let live = Live::start(kind).await;
    let id = live.order("5.00", "EUR");
    let (_, view) = live.pay(id, "5.00", "EUR", THREE_DS).await;
    let secret = stripe_js(&live, &view);
    let attempt = view["id"].as_str().unwrap().to_string();
    let (status, view) = live.resume(&attempt, &key()).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        stripe_js(&live, &view),
        secret,
        "still waiting for the customer"
    );
    let rounds = live.env.attempt(&attempt).await.action_rounds;
    assert_eq!(rounds, 1);
    let mut last = view;
    for _ in 0..10 {
        let (_, v) = live.resume(&attempt, &key()).await;
        last = v;
        if last["state"] != "requires_action" {
            break;
        }
    }
    assert_eq!(
        (last["state"].as_str(), last["decline_code"].as_str()),
        (Some("declined"), Some("challenge_failed")),
        "{last}"
    );
    let pi = secret.split("_secret_").next().unwrap();
    let at_stripe = stripe_get(&live.ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(at_stripe["status"], "canceled");
    live.env.stop().await;
}

both_stores!(
    approved_and_declined,
    three_d_secure_completed,
    three_d_secure_failed_or_declined,
    unfinished_action_and_the_cap,
);
