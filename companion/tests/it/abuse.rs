//! Someone hostile on the other end: made-up requests do not spend the portal's request budget,
//! the answers tell nothing about which payments exist, declines and challenge codes are capped,
//! TEST pay systems are not paid unless the companion allows test payments.

use crate::common::stubs::{PatientChallenge, Stub};
use crate::common::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Portal calls that verify payments (the pay-system list and the payment's settings).
fn verifications(env: &Env) -> u64 {
    env.sandbox
        .method_calls("sale.paysystem.settings.payment.get")
        + env.sandbox.method_calls("sale.paysystem.list")
}

/// Thirty requests with made-up payment ids from one client: only the client's burst reaches the
/// portal; the rest are refused with 429 and a Retry-After, before any portal call.
async fn made_up_ids_do_not_spend_the_portal(kind: StoreKind) {
    let o = EnvOptions::new(kind).configure(|f| {
        // Five at once, then one a minute: none refills during the test.
        f.payments.client_per_minute = Some(1);
        f.payments.client_burst = Some(5);
    });
    let env = Env::start_with(o).await;
    let before = verifications(&env);
    let mut refused = 0;
    for n in 0..30u64 {
        let body = env.body(900_000 + n, env.ps_order, "3000", "RUB", APPROVED);
        let resp = confirm_request(&env.http, &env.base, &key(), &body)
            .send()
            .await
            .unwrap();
        match resp.status().as_u16() {
            404 => {}
            429 => {
                assert!(resp.headers().get("retry-after").is_some());
                let v: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(v["error"]["code"], "too_many_attempts");
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, 25);
    // Each of the five admitted requests cost at most two portal calls (the list is cached).
    let spent = verifications(&env) - before;
    assert!(spent <= 6, "{spent} portal calls for 30 made-up requests");
    env.stop().await;
}

/// The same refused request again and again is answered from memory.
async fn repeated_refusals_are_remembered(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    let (_, view) = env.pay_order(id, "3000", "RUB", APPROVED).await;
    // Delivered and re-read: the portal is quiet from here on.
    env.wait_notified(
        view["id"].as_str().unwrap(),
        std::time::Duration::from_secs(10),
    )
    .await;
    let before = env
        .sandbox
        .method_calls("sale.paysystem.settings.payment.get");
    for _ in 0..20 {
        assert_error(
            &env.pay_order(id, "3000", "RUB", APPROVED).await,
            409,
            "already_paid",
        );
        assert_error(
            &env.pay_order(424_242, "3000", "RUB", APPROVED).await,
            404,
            "payment_unavailable",
        );
    }
    let spent = env
        .sandbox
        .method_calls("sale.paysystem.settings.payment.get")
        - before;
    assert!(spent <= 2, "{spent} portal calls for 40 repeated refusals");
    env.stop().await;
}

/// An existing payment with a wrong amount and a payment that does not exist get the very same
/// answer.
async fn existing_and_missing_payments_look_alike(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    let (s1, wrong_amount) = env.pay_order(id, "2999", "RUB", APPROVED).await;
    let (s2, missing) = env.pay_order(777_777, "2999", "RUB", APPROVED).await;
    assert_eq!((s1, &wrong_amount), (s2, &missing));
    assert_eq!(wrong_amount["error"]["code"], "payment_unavailable");
    env.stop().await;
}

/// After five declines in a row the payment cools off.
async fn declines_are_capped(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    for _ in 0..5 {
        let (_, v) = env.pay_order(id, "3000", "RUB", DECLINED).await;
        assert_eq!(v["state"], "declined", "{v}");
    }
    assert_error(
        &env.pay_order(id, "3000", "RUB", APPROVED).await,
        429,
        "too_many_attempts",
    );
    assert!(!env.payment(id).paid);
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    env.stop().await;
}

/// An acquirer that lets the customer retype a wrong code still gets at most five answers per
/// attempt: the sixth ends it (declined, cancelled at the acquirer).
async fn challenge_answers_are_capped(kind: StoreKind) {
    let wrong = Arc::new(AtomicU32::new(0));
    let counter = wrong.clone();
    let o = EnvOptions::new(kind).acquirer(move |inner| {
        Stub::arc(PatientChallenge {
            inner,
            wrong_answers: counter.clone(),
        })
    });
    let env = Env::start_with(o).await;
    let id = env.order("3000", "RUB");
    let (_, view) = env.pay_order(id, "3000", "RUB", CHALLENGE).await;
    let attempt = view["id"].as_str().unwrap().to_string();
    for _ in 0..5 {
        let (status, v) = env.challenge(&attempt, &key(), "000").await;
        assert_eq!(
            (status, v["state"].as_str()),
            (200, Some("requires_action")),
            "{v}"
        );
    }
    let (status, v) = env.challenge(&attempt, &key(), "123").await;
    assert_eq!(
        (status, v["state"].as_str()),
        (200, Some("declined")),
        "{v}"
    );
    assert_eq!(v["decline_code"], "challenge_failed");
    assert_eq!(wrong.load(Ordering::SeqCst), 5);
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    env.stop().await;
}

/// A TEST pay system on a companion that does not take test payments: refused with a clear
/// code, nothing charged, nothing paid.
async fn test_mode_is_refused_unless_allowed(kind: StoreKind) {
    let o = EnvOptions::new(kind).configure(|f| f.payments.allow_test_mode = Some(false));
    let env = Env::start_with(o).await;
    let id = env.order("3000", "RUB");
    assert_error(
        &env.pay_order(id, "3000", "RUB", APPROVED).await,
        422,
        "test_mode_not_allowed",
    );
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    assert!(!env.payment(id).paid);
    env.stop().await;
}

both_stores!(
    made_up_ids_do_not_spend_the_portal,
    repeated_refusals_are_remembered,
    existing_and_missing_payments_look_alike,
    declines_are_capped,
    challenge_answers_are_capped,
    test_mode_is_refused_unless_allowed,
);
