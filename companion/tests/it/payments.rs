//! The payment API against the sandbox portal over HTTP, through the real client: the happy
//! path, every decline, the challenge, tampering, already-paid. Idempotency and concurrency are in
//! `idempotency.rs`. Each scenario runs with SQLite and with PostgreSQL.

use crate::common::*;
use serde_json::json;
use std::time::Duration;

const PAID_WITHIN: Duration = Duration::from_secs(10);

async fn happy_path(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("1250.50", "EUR");
    let (status, view) = env.pay_order(id, "1250.50", "EUR", APPROVED).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "succeeded");
    assert_eq!(view["amount"], "1250.50");
    assert_eq!(view["currency"], "EUR");
    assert_eq!(view["card"], json!({"brand": "visa", "last4": "4242"}));
    let attempt = view["id"].as_str().unwrap().to_string();

    let paid = env.wait_paid(id, PAID_WITHIN).await;
    assert_eq!(paid.pay_calls, 1);
    assert_eq!(paid.ps.sum.as_deref(), Some("1250.50"));
    assert_eq!(paid.ps.currency.as_deref(), Some("EUR"));
    assert_eq!(paid.ps.card_number.as_deref(), Some("•••• 4242"));
    assert_eq!(paid.ps.status_code.as_deref(), Some("succeeded"));
    assert!(paid
        .ps
        .invoice_id
        .as_deref()
        .unwrap()
        .starts_with("tx_test_"));
    assert!(paid.ps.status_message.is_some());
    env.wait_notified(&attempt, PAID_WITHIN).await;
    let (status, view) = env.status(&attempt).await;
    assert_eq!(status, 200);
    assert_eq!(view["portal_notified"], true);
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    env.stop().await;
}

async fn legacy_invoice(kind: StoreKind) {
    let env = Env::start(kind).await;
    let (id, invoice) = env.invoice("990", "USD");
    let (other_id, other_invoice) = env.invoice("990", "USD");
    let mut body = env.body(id, env.ps_invoice, "990.00", "USD", "5555555555554444");
    // Without the invoice id, or with another invoice's, the payment cannot be verified.
    assert_error(
        &env.confirm(&key(), &body).await,
        404,
        "payment_unavailable",
    );
    body["invoice_id"] = json!(other_invoice.to_string());
    assert_error(
        &env.confirm(&key(), &body).await,
        404,
        "payment_unavailable",
    );
    assert!(!env.payment(other_id).paid);
    body["invoice_id"] = json!(invoice.to_string());
    let (status, view) = env.confirm(&key(), &body).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "succeeded");
    let paid = env.wait_paid(id, PAID_WITHIN).await;
    assert_eq!(paid.order_id, invoice);
    assert_eq!(paid.pay_calls, 1);
    assert_eq!(env.sandbox.method_calls("sale.paysystem.pay.invoice"), 1);
    assert_eq!(env.sandbox.method_calls("sale.paysystem.pay.payment"), 0);
    env.stop().await;
}

async fn every_decline(kind: StoreKind) {
    let env = Env::start(kind).await;
    for (card, state, code) in [
        (DECLINED, "declined", "generic_decline"),
        (INSUFFICIENT, "declined", "insufficient_funds"),
        (EXPIRED, "declined", "expired_card"),
        (INCORRECT_CVC, "declined", "incorrect_cvc"),
        (PROCESSING_ERROR, "failed", "processing_error"),
    ] {
        let id = env.order("3000", "RUB");
        let (status, view) = env.pay_order(id, "3000", "RUB", card).await;
        assert_eq!(status, 200, "{card}: {view}");
        assert_eq!(view["state"], state, "{card}");
        assert_eq!(view["decline_code"], code, "{card}");
        assert_eq!(view["portal_notified"], false);
        assert_eq!(env.charges(env.ps_order, id).await, 0, "{card}");
        // A declined payment can still be paid with another card.
        let (status, view) = env.pay_order(id, "3000", "RUB", APPROVED).await;
        assert_eq!(
            (status, view["state"].clone()),
            (200, json!("succeeded")),
            "{card}"
        );
        env.wait_paid(id, PAID_WITHIN).await;
        assert_eq!(env.charges(env.ps_order, id).await, 1);
    }
    env.stop().await;
}

async fn processing_error_retry_never_charges(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("10", "USD");
    let k = key();
    let body = env.body(id, env.ps_order, "10", "USD", PROCESSING_ERROR);
    for _ in 0..3 {
        let (status, view) = env.confirm(&k, &body).await;
        assert_eq!(status, 200);
        assert_eq!(view["state"], "failed");
    }
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    assert!(!env.payment(id).paid);
    env.stop().await;
}

async fn challenge_path(kind: StoreKind) {
    let env = Env::start(kind).await;
    // The right code.
    let id = env.order("4500", "JPY");
    let (status, view) = env.pay_order(id, "4500", "JPY", CHALLENGE).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "requires_action");
    assert_eq!(
        view["action"],
        json!({"type": "challenge", "code_length": 3})
    );
    let attempt = view["id"].as_str().unwrap().to_string();
    assert_eq!(
        env.charges(env.ps_order, id).await,
        0,
        "no charge before the code"
    );
    // Another attempt for the same payment waits for this challenge.
    assert_error(
        &env.pay_order(id, "4500", "JPY", APPROVED).await,
        409,
        "payment_in_progress",
    );
    let ck = key();
    let (status, view) = env.challenge(&attempt, &ck, "123").await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "succeeded");
    assert!(view.get("action").is_none());
    env.wait_paid(id, PAID_WITHIN).await;
    // The same challenge call again is a replay; another code under that key is refused.
    assert_succeeded(&env.challenge(&attempt, &ck, "123").await);
    assert_error(
        &env.challenge(&attempt, &ck, "999").await,
        409,
        "idempotency_key_reused",
    );
    assert_error(
        &env.challenge(&attempt, &key(), "123").await,
        409,
        "invalid_state",
    );
    assert_eq!(env.charges(env.ps_order, id).await, 1);

    // The wrong code.
    let id = env.order("4500", "JPY");
    let (_, view) = env.pay_order(id, "4500", "JPY", CHALLENGE).await;
    let attempt = view["id"].as_str().unwrap().to_string();
    let (status, view) = env.challenge(&attempt, &key(), "000").await;
    assert_eq!(status, 200);
    assert_eq!(view["state"], "declined");
    assert_eq!(view["decline_code"], "challenge_failed");
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    assert!(!env.payment(id).paid);
    env.stop().await;
}

async fn tampering_is_refused(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    // A wrong amount or currency gets the same answer as a payment that does not exist, with no
    // field named: the answer must not tell which payments exist or what they cost.
    for (amount, currency) in [
        ("1", "RUB"),
        ("2999.99", "RUB"),
        ("3000.01", "RUB"),
        ("3000", "USD"),
        ("3000", "EUR"),
    ] {
        let (status, err) = env.pay_order(id, amount, currency, APPROVED).await;
        assert_eq!(status, 404, "{amount} {currency}: {err}");
        assert_eq!(err["error"]["code"], "payment_unavailable");
        assert!(err["error"].get("field").is_none(), "{err}");
    }
    // Equal amounts written differently are the same amount.
    assert_succeeded(&env.pay_order(id, "3000.0", "rub", APPROVED).await);
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    env.stop().await;
}

async fn unknown_and_foreign(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    // A payment that does not exist.
    assert_error(
        &env.pay_order(999_999, "3000", "RUB", APPROVED).await,
        404,
        "payment_unavailable",
    );
    // A pay system that does not exist.
    assert_error(
        &env.confirm(&key(), &env.body(id, 424_242, "3000", "RUB", APPROVED))
            .await,
        404,
        "payment_unavailable",
    );
    // The payment under another (our invoice) pay system.
    let (status, err) = env
        .confirm(
            &key(),
            &env.body(id, env.ps_invoice, "3000", "RUB", APPROVED),
        )
        .await;
    assert_eq!(status / 100, 4, "{err}");
    assert_eq!(
        env.charges(env.ps_order, id).await + env.charges(env.ps_invoice, id).await,
        0
    );
    assert_eq!(env.sandbox.method_calls("sale.paysystem.pay.payment"), 0);
    env.stop().await;
}

async fn already_paid(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("49.99", "USD");
    let (status, _) = env.pay_order(id, "49.99", "USD", APPROVED).await;
    assert_eq!(status, 200);
    env.wait_paid(id, PAID_WITHIN).await;
    // Once the portal says paid, and also while only our store knows.
    assert_error(
        &env.pay_order(id, "49.99", "USD", APPROVED).await,
        409,
        "already_paid",
    );
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    assert_eq!(env.payment(id).pay_calls, 1);
    env.stop().await;
}

async fn live_mode_is_refused(kind: StoreKind) {
    let env = Env::start(kind).await;
    let client = webhook_client(&env.sandbox);
    let mut settings = bitrix24_client::Settings::new();
    settings.insert(
        "B24PAY_MODE".into(),
        bitrix24_client::SettingValue::value("LIVE"),
    );
    client
        .settings_update(&bitrix24_client::SettingsUpdate {
            id: env.ps_order,
            person_type_id: Some(1),
            settings,
        })
        .await
        .unwrap();
    let id = env.order("3000", "RUB");
    assert_error(
        &env.pay_order(id, "3000", "RUB", APPROVED).await,
        422,
        "live_mode_unavailable",
    );
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    env.stop().await;
}

async fn status_of_unknown_attempt(kind: StoreKind) {
    let env = Env::start(kind).await;
    assert_error(
        &env.status("pa_00000000000000000000000000000000").await,
        404,
        "not_found",
    );
    assert_error(&env.status("nonsense").await, 404, "not_found");
    env.stop().await;
}

both_stores!(
    happy_path,
    legacy_invoice,
    every_decline,
    processing_error_retry_never_charges,
    challenge_path,
    tampering_is_refused,
    unknown_and_foreign,
    already_paid,
    live_mode_is_refused,
    status_of_unknown_attempt,
);
