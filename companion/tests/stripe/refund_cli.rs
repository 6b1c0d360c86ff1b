//! `b24pay refund` (the real binary) against the store of a running companion and localstripe:
//! a full refund, then partial ones on another payment, each visible at localstripe, in the store
//! and (its status) in the sandbox's payment, which stays paid; repeats never refund twice; more
//! than was charged is refused; the test acquirer's ledger refunds too.

use crate::common::*;
use crate::live::Live;
use crate::localstripe::{PUBLISHABLE_KEY, SECRET_KEY};
use crate::support::{stripe_get, APPROVED};
use b24pay_companion::store::{RefundOrigin, RefundState, StoreLocation};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `b24pay refund ARGS` with the companion's store and Stripe settings; (success, output).
fn refund(live: &Live, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b24pay"));
    cmd.arg("refund")
        .args(args)
        .env_clear()
        .env("B24PAY_LOG", "warn")
        .env("B24PAY_STRIPE_SECRET_KEY", SECRET_KEY)
        .env("B24PAY_STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
        .env("B24PAY_STRIPE_WEBHOOK_SECRET", crate::live::WEBHOOK_SECRET)
        .env("B24PAY_STRIPE_API_BASE", &live.ls.base)
        .env(
            "B24PAY_STRIPE_JS_URL",
            format!("{}/js.stripe.com/v3/", live.ls.base),
        );
    match &live.env.store_location {
        StoreLocation::DataDir(d) => cmd.env("B24PAY_DATA_DIR", d),
        StoreLocation::Url(u) => cmd.env("DATABASE_URL", u),
    };
    let out = cmd.output().expect("b24pay runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The refunds localstripe holds for a PaymentIntent: their amounts, smallest first.
async fn at_stripe(live: &Live, pi: &str) -> Vec<i64> {
    let list = stripe_get(&live.ls, &format!("refunds?payment_intent={pi}")).await;
    let mut amounts: Vec<i64> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .collect();
    amounts.sort_unstable();
    amounts
}

/// Waits until the sandbox's payment carries this status code (the refund's pay.payment).
async fn wait_status(live: &Live, payment: u64, code: &str) -> b24pay_sandbox::PaymentSnapshot {
    let started = Instant::now();
    loop {
        let p = live.env.payment(payment);
        if p.ps.status_code.as_deref() == Some(code) {
            return p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "payment {payment} never got status {code}: {p:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn paid(live: &Live, sum: &str, currency: &str) -> (u64, String, String) {
    let id = live.order(sum, currency);
    let (status, view) = live.pay(id, sum, currency, APPROVED).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("succeeded")),
        "{view}"
    );
    let attempt = view["id"].as_str().unwrap().to_string();
    live.env.wait_paid(id, Duration::from_secs(20)).await;
    let pi = live.env.attempt(&attempt).await.acquirer_ref.unwrap();
    (id, attempt, pi)
}

async fn full_then_partial_refunds(kind: StoreKind) {
    let live = Live::start(kind).await;
    let (a, attempt_a, pi_a) = paid(&live, "30.00", "EUR").await;
    let a_text = a.to_string();

    // Full: everything charged.
    let (ok, out) = refund(&live, &["--payment", &a_text]);
    assert!(ok, "{out}");
    assert!(out.contains("of 30.00 EUR: succeeded"), "{out}");
    assert_eq!(at_stripe(&live, &pi_a).await, [3000]);
    // Repeated: the same refund, nothing new at Stripe.
    let (ok, again) = refund(&live, &["--payment", &a_text]);
    assert!(ok, "{again}");
    assert!(again.contains("recorded by an earlier run"), "{again}");
    assert_eq!(at_stripe(&live, &pi_a).await, [3000]);
    // Nothing left.
    let (ok, out) = refund(
        &live,
        &[
            "--payment",
            &a_text,
            "--amount",
            "1",
            "--key",
            "one-more-euro",
        ],
    );
    assert!(!ok && out.contains("more than is left to refund"), "{out}");
    assert_eq!(at_stripe(&live, &pi_a).await, [3000]);
    let store = live.env.store();
    let id_a = b24pay_protocol::ids::AttemptId::parse(&attempt_a).unwrap();
    let refunds = store.refunds_of(&id_a).await.unwrap();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let r = &refunds[0];
    assert_eq!(
        (r.state, r.origin, r.amount.minor),
        (RefundState::Succeeded, RefundOrigin::Operator, 3000)
    );
    assert!(r.acquirer_refund_id.as_deref().unwrap().starts_with("re_"));
    let p = wait_status(&live, a, "refunded").await;
    assert!(p.paid, "the payment stays paid in Bitrix24");
    let description = p.ps.status_description.unwrap_or_default();
    assert!(
        description.contains("30.00 EUR of 30.00 EUR"),
        "{description}"
    );
    assert_eq!(p.ps.invoice_id.as_deref(), Some(pi_a.as_str()));
    let shown = b24pay_companion::operator::show_attempt(&store, &attempt_a)
        .await
        .unwrap();
    assert!(
        shown.contains("refunds:")
            && shown.contains("succeeded")
            && shown.contains("refund:succeeded"),
        "{shown}"
    );

    // Partial ones on another payment.
    let (b, attempt_b, pi_b) = paid(&live, "50.00", "EUR").await;
    let b_text = b.to_string();
    let (ok, out) = refund(&live, &["--payment", &b_text, "--amount", "20.00"]);
    assert!(
        ok && out.contains("refunded so far: 20.00 EUR of 50.00 EUR"),
        "{out}"
    );
    let p = wait_status(&live, b, "partially_refunded").await;
    assert!(p.paid);
    // More than is left is refused, and asks nothing of Stripe.
    let (ok, out) = refund(&live, &["--payment", &b_text, "--amount", "40.00"]);
    assert!(
        !ok && out.contains("more than is left to refund: 30.00 EUR"),
        "{out}"
    );
    // The same partial again is the same refund; a second one of that amount takes a new key.
    let (ok, out) = refund(&live, &["--payment", &b_text, "--amount", "20.00"]);
    assert!(ok && out.contains("recorded by an earlier run"), "{out}");
    assert_eq!(at_stripe(&live, &pi_b).await, [2000]);
    let (ok, out) = refund(
        &live,
        &[
            "--payment",
            &b_text,
            "--amount",
            "20.00",
            "--key",
            "second-twenty",
        ],
    );
    assert!(
        ok && out.contains("refunded so far: 40.00 EUR of 50.00 EUR"),
        "{out}"
    );
    let (ok, out) = refund(&live, &["--payment", &b_text]);
    assert!(ok && out.contains("of 10.00 EUR: succeeded"), "{out}");
    assert_eq!(at_stripe(&live, &pi_b).await, [1000, 2000, 2000]);
    let (ok, out) = refund(
        &live,
        &[
            "--payment",
            &b_text,
            "--amount",
            "0.01",
            "--key",
            "one-cent-more",
        ],
    );
    assert!(!ok, "{out}");
    let id_b = b24pay_protocol::ids::AttemptId::parse(&attempt_b).unwrap();
    let refunds = store.refunds_of(&id_b).await.unwrap();
    let amounts: Vec<(u64, RefundState)> =
        refunds.iter().map(|r| (r.amount.minor, r.state)).collect();
    assert_eq!(
        amounts,
        [
            (2000, RefundState::Succeeded),
            (2000, RefundState::Succeeded),
            (1000, RefundState::Succeeded)
        ]
    );
    let p = wait_status(&live, b, "refunded").await;
    assert!(p.paid);
    // One paid call and one status call per refund, in that order.
    assert_eq!(p.pay_calls, 4, "{p:?}");

    // A TEST payment refunds through the test acquirer's ledger.
    let t = live.env.order("300", "RUB");
    let (_, view) = live
        .env
        .confirm(
            &key(),
            &live.env.body(t, live.env.ps_order, "300", "RUB", APPROVED),
        )
        .await;
    assert_eq!(view["state"], "succeeded");
    let (ok, out) = refund(&live, &["--payment", &t.to_string(), "--amount", "100"]);
    assert!(ok && out.contains("re_test_"), "{out}");
    let tr = live.env.attempt(view["id"].as_str().unwrap()).await;
    let ledger = store
        .ledger_get(tr.acquirer_ref.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ledger.refunded_minor, 10_000);
    let (ok, out) = refund(&live, &["--payment", "999999"]);
    assert!(!ok && out.contains("no charged attempt"), "{out}");
    live.env.stop().await;
}

both_stores!(full_then_partial_refunds);
