//! The portal's request budget when it runs short, as customers notice it: a customer paying
//! while the outbox works through a backlog of charged payments (after the portal refused
//! `pay.payment` for a while) is answered, not told to try again because the outbox took every
//! slot; and one verification refused for the moment inside a coalesced batch costs its
//! customer nothing, while the others are answered from the batch. Outcomes and counts, not
//! timings.

use crate::common::*;
use b24pay_companion::portal::budget::StoreLevels;
use b24pay_sandbox::Fault;
use bitrix24_client::{Budget, RateLimit, Rules, SharedBudget};
use futures_util::future::join_all;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const READ: &str = "sale.paysystem.settings.payment.get";
const PAY: &str = "sale.paysystem.pay.payment";

/// Customers may wait the client's longest wait for a slot (10 s) rather than the tests' 1.5 s.
fn patient(kind: StoreKind) -> EnvOptions {
    EnvOptions {
        portal_timeout_ms: 12_000,
        // A lease outlives the call it covers.
        outbox_lease_ms: 13_000,
        ..EnvOptions::new(kind)
    }
}

/// Every portal call alone: each outbox row costs a `pay.payment` and a re-read.
fn unbatched(c: &mut b24pay_companion::config::FileConfig) {
    c.portal.batch = Some(false);
}

async fn pay(env: &Env, id: u64) -> (u16, Value) {
    let body = env.body(id, env.ps_order, "10", "USD", APPROVED);
    env.confirm(&key(), &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_customer_is_not_stuck_behind_the_outbox_backlog() {
    let mut env = Env::start_with(patient(StoreKind::Sqlite).configure(unbatched)).await;
    // Thirty customers are charged while the portal refuses every pay.payment: thirty rows
    // wait in the outbox, sixty portal requests' worth (30 s at 2/s).
    env.sandbox
        .inject_for(Fault::InternalServerError, 1_000_000, [PAY]);
    let backlog: Vec<u64> = (0..30).map(|_| env.order("10", "USD")).collect();
    let answers = join_all(backlog.iter().map(|id| pay(&env, *id))).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    env.stop_server().await;
    // The portal is healthy again, and the companion runs with a short budget (burst 4 at
    // 2/s, customers up to half of it): the outbox now owes more than the bucket holds.
    env.sandbox.clear_faults();
    env.file_config.portal.rate_limit_per_second = Some(2.0);
    env.file_config.portal.rate_limit_burst = Some(4);
    env.file_config.portal.customer_share = Some(0.5);
    let pays_before = env.sandbox.method_calls(PAY);
    env.start_server().await;
    let started = std::time::Instant::now();
    while env.sandbox.method_calls(PAY) == pays_before {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the outbox never resumed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A new customer pays while the outbox is catching up.
    let lone = env.order("10", "USD");
    let (status, view) = pay(&env, lone).await;
    assert_eq!(
        (status, view["state"].as_str()),
        (200, Some("succeeded")),
        "the customer was not served while the outbox caught up: {view}"
    );
    for id in backlog.iter().chain([&lone]) {
        let paid = env.wait_paid(*id, Duration::from_secs(90)).await;
        assert_eq!(paid.pay_calls, 1, "payment {id} marked paid exactly once");
    }
    env.stop().await;
}

/// A short budget (burst 4 at 2/s, customers up to 3 of it).
fn short_budget(c: &mut b24pay_companion::config::FileConfig) {
    c.portal.rate_limit_per_second = Some(2.0);
    c.portal.rate_limit_burst = Some(4);
}

/// Tells the companion's budget (the row in its store) that the portal's bucket is full, as
/// its first refusal would: customers' reads now wait for a slot, and gather meanwhile.
async fn fill_budget(env: &Env) {
    let key = format!(
        "portal_budget:{}",
        env.sandbox.base_url().trim_end_matches('/')
    );
    let store = env.store();
    assert!(
        store.meta_get(&key).await.unwrap().is_some(),
        "the budget row is {key}"
    );
    let rules = Rules::new(
        RateLimit {
            per_second: 2.0,
            burst: 4,
        },
        0.8,
    );
    let levels = StoreLevels::new(store, &env.sandbox.base_url());
    SharedBudget::new(Arc::new(levels), rules).mark_full().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_refused_for_the_moment_inside_a_batch_fails_no_customer() {
    let env = Env::start_with(patient(StoreKind::Sqlite).configure(short_budget)).await;
    let warm = env.order("10", "USD");
    assert_eq!(pay(&env, warm).await.0, 200);
    env.wait_paid(warm, Duration::from_secs(30)).await;
    // The outbox is idle; the bucket is full, so the next readers share one batch, and the
    // first settings read the portal runs in it is refused (500, not run).
    fill_budget(&env).await;
    env.sandbox
        .inject_for(Fault::InternalServerError, 1, [READ]);
    let batches_before = env.sandbox.method_calls("batch");
    let ids: Vec<u64> = (0..10).map(|_| env.order("10", "USD")).collect();
    let answers = join_all(ids.iter().map(|id| pay(&env, *id))).await;
    for (id, (status, view)) in ids.iter().zip(&answers) {
        assert_eq!(*status, 200, "payment {id}: {view}");
        assert_eq!(view["state"], "succeeded", "payment {id}: {view}");
    }
    assert!(
        env.sandbox.method_calls("batch") > batches_before,
        "the readers shared a batch"
    );
    for id in &ids {
        let paid = env.wait_paid(*id, Duration::from_secs(60)).await;
        assert_eq!(paid.pay_calls, 1, "payment {id} marked paid exactly once");
    }
    env.stop().await;
}
