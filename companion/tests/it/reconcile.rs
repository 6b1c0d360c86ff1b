//! Attempts nobody comes back for: the reconciler settles them from the acquirer's records, an
//! answer that is not final keeps the payment blocked, and a slow acquirer never leads to a
//! second charge. SQLite and PostgreSQL.

use crate::common::stubs::{LostCharge, SlowConfirm, Stub};
use crate::common::*;
use b24pay_companion::operator;
use b24pay_companion::store::{AttemptFilter, AttemptState};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The acquirer answers 40 s after it is asked, with a 30 s lease: the customer's request gives
/// up at 15 s and the attempt stays `unknown`, blocking every other attempt of the payment, until
/// the reconciler finds the charge approved and the portal is told, once.
async fn slow_acquirer_never_charges_twice(kind: StoreKind) {
    let mut o = EnvOptions::new(kind)
        .acquirer(|inner| {
            Stub::arc(SlowConfirm {
                inner,
                delay: Duration::from_secs(40),
            })
        })
        .configure(|f| f.payments.cancel_after_ms = Some(10 * 60_000));
    o.charge_lease_ms = 30_000;
    let env = Env::start_with(o).await;
    let id = env.order("3000", "RUB");
    let body = env.body(id, env.ps_order, "3000", "RUB", APPROVED);
    let first = key();
    assert_error(&env.confirm(&first, &body).await, 504, "timeout");

    // Another attempt for the payment (a second tab, a new key) is refused, not charged.
    assert_error(
        &env.confirm(&key(), &body).await,
        409,
        "payment_in_progress",
    );
    // The same request again hears that it is still being worked on.
    let (status, view) = env.confirm(&first, &body).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("processing")),
        "{view}"
    );
    let attempt = view["id"].as_str().unwrap().to_string();
    assert_eq!(env.attempt(&attempt).await.state, AttemptState::Unknown);

    let paid = env.wait_paid(id, Duration::from_secs(60)).await;
    assert_eq!(paid.pay_calls, 1);
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    let settled = env.attempt(&attempt).await;
    assert_eq!(settled.state, AttemptState::Succeeded);
    let history = operator::show_attempt(&env.store(), &attempt)
        .await
        .unwrap();
    assert!(
        history.contains("unknown") && history.contains("reconciled"),
        "{history}"
    );
    env.stop().await;
}

/// The acquirer loses the answer and then has no record of the charge: "not found" is not "not
/// charged". The attempt stays `unknown` and blocks the payment, is listed for review, and is
/// settled when the charge turns up.
async fn a_lost_charge_blocks_until_it_turns_up(kind: StoreKind) {
    let landed = Arc::new(AtomicBool::new(false));
    let flag = landed.clone();
    let o = EnvOptions::new(kind)
        .acquirer(move |inner| {
            Stub::arc(LostCharge {
                inner,
                landed: flag.clone(),
            })
        })
        .configure(|f| f.payments.review_after_ms = Some(1_000));
    let env = Env::start_with(o).await;
    let id = env.order("3000", "RUB");
    let body = env.body(id, env.ps_order, "3000", "RUB", APPROVED);
    let (status, _) = env.confirm(&key(), &body).await;
    assert_eq!(status, 504);
    assert_error(
        &env.confirm(&key(), &body).await,
        409,
        "payment_in_progress",
    );
    let listed = env
        .store()
        .list_attempts(AttemptFilter::Unsettled, 10)
        .await
        .unwrap();
    let attempt = listed[0].id.to_string();
    let flagged = env
        .wait_attempt(&attempt, Duration::from_secs(10), |a| a.review_at.is_some())
        .await;
    assert_eq!(flagged.state, AttemptState::Unknown);
    let review = operator::list_attempts(&env.store(), AttemptFilter::Review, 10)
        .await
        .unwrap();
    assert!(
        review.contains(&attempt) && review.contains("NEEDS REVIEW"),
        "{review}"
    );
    assert!(env
        .metrics()
        .await
        .contains("b24pay_attempts_review_total 1"));
    assert!(!env.payment(id).paid);

    landed.store(true, Ordering::SeqCst);
    let paid = env.wait_paid(id, Duration::from_secs(20)).await;
    assert_eq!(paid.pay_calls, 1);
    assert_eq!(paid.ps.invoice_id.as_deref(), Some("tx_landed_late"));
    env.stop().await;
}

/// A challenge nobody answers stops blocking once its hold is over: the reconciler cancels it
/// at the acquirer, and the payment can be paid from another page.
async fn an_abandoned_challenge_is_cancelled(kind: StoreKind) {
    let o = EnvOptions::new(kind).configure(|f| f.payments.action_hold_ms = Some(1_000));
    let env = Env::start_with(o).await;
    let id = env.order("3000", "RUB");
    let (status, view) = env.pay_order(id, "3000", "RUB", CHALLENGE).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("requires_action"))
    );
    let attempt = view["id"].as_str().unwrap().to_string();
    let ended = env
        .wait_attempt(&attempt, Duration::from_secs(10), |a| {
            a.state == AttemptState::Declined
        })
        .await;
    assert_eq!(
        ended.decline_code,
        Some(b24pay_protocol::api::DeclineCode::ChallengeFailed)
    );
    // Too late for the code now.
    assert_error(
        &env.challenge(&attempt, &key(), "123").await,
        409,
        "invalid_state",
    );
    assert_succeeded(&env.pay_order(id, "3000", "RUB", APPROVED).await);
    env.wait_paid(id, PAID_WITHIN).await;
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    env.stop().await;
}

/// The customer who gave up on a challenge and pays again from the same page replaces it at
/// once; from another page they wait for the hold.
async fn the_same_page_replaces_its_own_challenge(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    let session = "page-session-0123456789";
    let mut challenged = env.body(id, env.ps_order, "3000", "RUB", CHALLENGE);
    challenged["session"] = json!(session);
    let (_, view) = env.confirm(&key(), &challenged).await;
    assert_eq!(view["state"], "requires_action");
    let first = view["id"].as_str().unwrap().to_string();

    let other_page = env.body(id, env.ps_order, "3000", "RUB", APPROVED);
    assert_error(
        &env.confirm(&key(), &other_page).await,
        409,
        "payment_in_progress",
    );

    let mut same_page = other_page.clone();
    same_page["session"] = json!(session);
    assert_succeeded(&env.confirm(&key(), &same_page).await);
    assert_eq!(env.attempt(&first).await.state, AttemptState::Declined);
    env.wait_paid(id, PAID_WITHIN).await;
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    env.stop().await;
}

const PAID_WITHIN: Duration = Duration::from_secs(10);

both_stores!(
    slow_acquirer_never_charges_twice,
    a_lost_charge_blocks_until_it_turns_up,
    an_abandoned_challenge_is_cancelled,
    the_same_page_replaces_its_own_challenge,
);
