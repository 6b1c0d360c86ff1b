//! The outbox under injected portal faults: 503 bursts, 429 with `operating_reset_at`, a hang
//! past the client's timeout, dropped connections before and after the portal acted. Every
//! charged payment ends paid, and `pay.payment` takes effect exactly once. `true` is not
//! believed without re-reading PAID; a call the portal runs late is never repeated; a permanent
//! refusal ends in the dead state until an operator re-queues it. SQLite and PostgreSQL.

use crate::common::stubs::RefusingPortal;
use crate::common::*;
use b24pay_companion::operator::{self, OutboxListing};
use b24pay_sandbox::Fault;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAY: &str = "sale.paysystem.pay.payment";

/// Charges a fresh order with faults armed on `pay.payment`, then waits for it to be paid.
async fn pay_through(
    env: &Env,
    fault: Fault,
    count: u32,
) -> (b24pay_sandbox::PaymentSnapshot, Duration) {
    let id = env.order("3000", "RUB");
    env.sandbox.inject_for(fault, count, [PAY]);
    let started = Instant::now();
    let (status, view) = env.pay_order(id, "3000", "RUB", APPROVED).await;
    assert_eq!(status, 200, "{view}");
    // The customer is told at once: the charge is durable, the portal call is the outbox's.
    assert_eq!(view["state"], "succeeded");
    let attempt = view["id"].as_str().unwrap().to_string();
    let paid = env.wait_paid(id, Duration::from_secs(20)).await;
    let took = started.elapsed();
    env.wait_notified(&attempt, Duration::from_secs(10)).await;
    assert_eq!(paid.pay_calls, 1, "pay.payment took effect exactly once");
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    (paid, took)
}

async fn metric(env: &Env, name: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", env.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn query_limit_burst(kind: StoreKind) {
    let env = Env::start(kind).await;
    let (paid, _) = pay_through(&env, Fault::QueryLimitExceeded, 8).await;
    assert_eq!(paid.ps.sum.as_deref(), Some("3000.00"));
    assert!(metric(&env, "b24pay_outbox_retries_total").await >= 1.0);
    assert!(
        metric(
            &env,
            "b24pay_portal_errors_total{code=\"QUERY_LIMIT_EXCEEDED\"}"
        )
        .await
            >= 1.0
    );
    env.stop().await;
}

async fn operation_time_limit(kind: StoreKind) {
    let env = Env::start(kind).await;
    let reset_after = Duration::from_secs(2);
    let (_, took) = pay_through(&env, Fault::OperationTimeLimit { reset_after }, 3).await;
    // Retried when the portal said it would accept calls again: three 429s would be used up in
    // well under a second by a loop that ignored operating_reset_at.
    assert!(took >= Duration::from_millis(1500), "paid after {took:?}");
    env.stop().await;
}

async fn internal_errors(kind: StoreKind) {
    let env = Env::start(kind).await;
    pay_through(&env, Fault::InternalServerError, 3).await;
    env.stop().await;
}

async fn hang_past_timeout(kind: StoreKind) {
    let env = Env::start(kind).await;
    let (_, took) = pay_through(&env, Fault::Hang(Duration::from_secs(3)), 1).await;
    assert!(
        took >= Duration::from_millis(1400),
        "the first call timed out: {took:?}"
    );
    // After the timeout the worker re-read PAID before calling again.
    assert!(
        env.sandbox
            .method_calls("sale.paysystem.settings.payment.get")
            >= 2
    );
    env.stop().await;
}

async fn dropped_connection(kind: StoreKind) {
    let env = Env::start(kind).await;
    pay_through(&env, Fault::DropConnection, 2).await;
    env.stop().await;
}

async fn lost_reply_is_not_repeated(kind: StoreKind) {
    let env = Env::start(kind).await;
    // The portal marks the payment paid, then the reply is lost: calling again would repeat
    // a call that took effect. The worker re-reads PAID instead.
    let before = env.sandbox.method_calls(PAY);
    pay_through(&env, Fault::DropAfterExecution, 1).await;
    assert_eq!(
        env.sandbox.method_calls(PAY) - before,
        1,
        "no second pay.payment"
    );
    // A reply slower than the client's timeout is the same story.
    let before = env.sandbox.method_calls(PAY);
    pay_through(&env, Fault::SlowReply(Duration::from_secs(3)), 1).await;
    assert_eq!(
        env.sandbox.method_calls(PAY) - before,
        1,
        "no second pay.payment"
    );
    env.stop().await;
}

async fn outage_then_restart(kind: StoreKind) {
    // The portal is down while the companion stops and starts again: nothing is lost.
    let mut env = Env::start(kind).await;
    let id = env.order("1250.50", "EUR");
    env.sandbox
        .inject_for(Fault::InternalServerError, 1000, [PAY]);
    assert_succeeded(&env.pay_order(id, "1250.50", "EUR", APPROVED).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!env.payment(id).paid);
    env.stop_server().await;
    env.sandbox.clear_faults();
    env.start_server().await;
    let paid = env.wait_paid(id, Duration::from_secs(20)).await;
    assert_eq!(paid.pay_calls, 1);
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    env.stop().await;
}

/// The portal answers `true` without saving: the worker re-reads PAID, sees it unpaid, calls
/// again (the portal provably did not act), and counts it.
async fn true_but_not_saved(kind: StoreKind) {
    let env = Env::start(kind).await;
    let (paid, _) = pay_through(&env, Fault::TrueWithoutSaving, 1).await;
    assert_eq!(paid.unsaved_pay_calls, 1);
    assert_eq!(metric(&env, "b24pay_outbox_unsaved_total").await, 1.0);
    // The portal is told it was a test payment.
    let description = paid.ps.status_description.unwrap_or_default();
    assert!(description.contains("TEST payment"), "{description}");
    env.stop().await;
}

/// The portal cuts the request (no reply) but runs `pay.payment` a second later: the worker
/// waits the portal's execution limit (here 2 s) before re-reading PAID, finds it paid, and never
/// asks the portal a second time.
async fn a_late_execution_is_not_repeated(kind: StoreKind) {
    let o = EnvOptions::new(kind).configure(|f| f.outbox.ambiguous_wait_ms = Some(2_000));
    let env = Env::start_with(o).await;
    let before = env.sandbox.method_calls(PAY);
    let fault = Fault::DelayedExecution {
        delay: Duration::from_millis(1_000),
        cut_after: Duration::ZERO,
    };
    let started = Instant::now();
    pay_through(&env, fault, 1).await;
    // Delivered (notified) only after the wait and the re-read.
    let notified = started.elapsed();
    assert_eq!(
        env.sandbox.method_calls(PAY) - before,
        1,
        "no second pay.payment"
    );
    assert!(notified >= Duration::from_millis(2_000), "{notified:?}");
    env.stop().await;
}

/// The portal refuses `pay.payment` for good: retried for `dead_after`, then given up, counted,
/// listed; re-queued by an operator once the portal is fixed, it is delivered.
async fn a_permanent_refusal_ends_dead_until_requeued(kind: StoreKind) {
    let refusing = Arc::new(AtomicBool::new(true));
    let flag = refusing.clone();
    let o = EnvOptions::new(kind)
        .portal(move |inner| {
            Arc::new(RefusingPortal {
                inner,
                refusing: flag.clone(),
            })
        })
        .configure(|f| f.outbox.dead_after_ms = Some(1_000));
    let env = Env::start_with(o).await;
    let id = env.order("3000", "RUB");
    let (_, view) = env.pay_order(id, "3000", "RUB", APPROVED).await;
    assert_eq!(view["state"], "succeeded");
    let store = env.store();
    let started = Instant::now();
    while store.outbox_dead_count().await.unwrap() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never given up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metric(&env, "b24pay_outbox_dead ").await, 1.0);
    assert_eq!(metric(&env, "b24pay_outbox_dead_letters_total").await, 1.0);
    let listing = operator::list_outbox(&store, OutboxListing::Dead, 10)
        .await
        .unwrap();
    assert!(
        listing.contains("dead") && listing.contains("ACCESS_DENIED"),
        "{listing}"
    );
    // Dead means no more tries.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!env.payment(id).paid);

    refusing.store(false, Ordering::SeqCst);
    let row = store
        .outbox_list(Some(b24pay_companion::store::OutboxState::Dead), 1)
        .await
        .unwrap()
        .remove(0);
    operator::requeue(&store, row.id).await.unwrap();
    let paid = env.wait_paid(id, Duration::from_secs(10)).await;
    assert_eq!(paid.pay_calls, 1);
    env.stop().await;
}

both_stores!(
    true_but_not_saved,
    a_late_execution_is_not_repeated,
    a_permanent_refusal_ends_dead_until_requeued,
    query_limit_burst,
    operation_time_limit,
    internal_errors,
    hang_past_timeout,
    dropped_connection,
    lost_reply_is_not_repeated,
    outage_then_restart,
);
