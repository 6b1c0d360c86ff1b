//! `batch` against the sandbox portal: concurrent customers' verifications share batches (and a
//! payment the portal does not know fails alone), a lone customer's read is the plain method,
//! the outbox marks many payments paid in a few batches with each payment's outcome on its own,
//! the `[portal] batch` switch turns it all off, and instances on one store share one request
//! budget. Counts, not timings: the machine may be loaded.

use crate::common::*;
use b24pay_companion::portal::budget::StoreLevels;
use b24pay_companion::store::{self, SharedStore};
use b24pay_sandbox::Fault;
use bitrix24_client::{Budget, Priority, RateLimit, Rules, SharedBudget};
use futures_util::future::join_all;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const READ: &str = "sale.paysystem.settings.payment.get";
const PAY: &str = "sale.paysystem.pay.payment";

/// The companion's budget short (burst 4 at 2/s), so concurrent reads wait and gather.
fn short_budget(c: &mut b24pay_companion::config::FileConfig) {
    c.portal.rate_limit_per_second = Some(2.0);
    c.portal.rate_limit_burst = Some(4);
}

fn unbatched(c: &mut b24pay_companion::config::FileConfig) {
    c.portal.batch = Some(false);
}

/// Confirms every payment at once; the answers in order.
async fn confirm_all(env: &Env, ids: &[u64]) -> Vec<(u16, Value)> {
    join_all(ids.iter().map(|id| async move {
        let body = env.body(*id, env.ps_order, "10", "USD", APPROVED);
        env.confirm(&key(), &body).await
    }))
    .await
}

async fn wait_all_paid(env: &Env, ids: &[u64]) {
    for id in ids {
        let paid = env.wait_paid(*id, Duration::from_secs(60)).await;
        assert_eq!(paid.pay_calls, 1, "payment {id} marked paid exactly once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_share_batches_and_fail_alone() {
    let env = Env::start_with(EnvOptions::new(StoreKind::Sqlite).configure(short_budget)).await;
    let mut ids: Vec<u64> = (0..20).map(|_| env.order("10", "USD")).collect();
    // Payments the portal does not have, among the others.
    ids.extend([900_001, 900_002, 900_003]);
    let before = env.sandbox.requests();
    let answers = confirm_all(&env, &ids).await;
    for (id, (status, view)) in ids.iter().zip(&answers) {
        if *id > 900_000 {
            assert_ne!(status / 100, 2, "an unknown payment is refused: {view}");
        } else {
            assert_eq!(*status, 200, "{view}");
            assert_eq!(view["state"], "succeeded", "{view}");
        }
    }
    let verifications = env.sandbox.requests() - before;
    assert!(env.sandbox.method_calls("batch") >= 1);
    // 23 reads and the pay-system list: without batches at least 24 requests.
    assert!(
        verifications <= 12,
        "{verifications} requests for 23 verifications"
    );
    wait_all_paid(&env, &ids[..20]).await;
    let total = env.sandbox.requests() - before;
    // Unbatched: 24 to verify, then a pay.payment and a re-read each (64 in all).
    assert!(total <= 24, "{total} requests for 20 payments");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_verification_is_the_plain_method() {
    let env = Env::start(StoreKind::Sqlite).await;
    let id = env.order("10", "USD");
    let (status, view) = confirm_all(&env, &[id]).await.remove(0);
    assert_eq!(status, 200, "{view}");
    wait_all_paid(&env, &[id]).await;
    env.wait_notified(view["id"].as_str().unwrap(), Duration::from_secs(10))
        .await;
    // The verification alone, then the outbox's one batch: the call and its re-read.
    assert_eq!(env.sandbox.method_calls("batch"), 1);
    assert_eq!(env.sandbox.method_calls(READ), 2);
    assert_eq!(env.sandbox.method_calls(PAY), 1);
    env.stop().await;
}

async fn outbox_batches_with_one_refusal(kind: StoreKind) {
    let env = Env::start(kind).await;
    let ids: Vec<u64> = (0..30).map(|_| env.order("10", "USD")).collect();
    // One pay.payment command refused (not run), one answered true without saving.
    env.sandbox.inject_for(Fault::InternalServerError, 1, [PAY]);
    env.sandbox.inject_for(Fault::TrueWithoutSaving, 1, [PAY]);
    let answers = confirm_all(&env, &ids).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    wait_all_paid(&env, &ids).await;
    // Every payment once; the refused one and the unsaved one again, on their own.
    assert_eq!(env.sandbox.method_calls(PAY), 31);
    assert!(env.sandbox.method_calls("batch") >= 2);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batching_off_sends_every_call_alone() {
    let env = Env::start_with(EnvOptions::new(StoreKind::Sqlite).configure(unbatched)).await;
    let ids: Vec<u64> = (0..5).map(|_| env.order("10", "USD")).collect();
    let answers = confirm_all(&env, &ids).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    wait_all_paid(&env, &ids).await;
    assert_eq!(env.sandbox.method_calls("batch"), 0);
    assert_eq!(env.sandbox.method_calls(PAY), 5);
    env.stop().await;
}

/// Two instances' budgets over one store: one bucket. Burst 4 at 1/s, customers up to 2.
async fn instances_share_one_budget(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let location = match kind {
        StoreKind::Sqlite => store::StoreLocation::DataDir(dir.path().to_path_buf()),
        StoreKind::Postgres => store::StoreLocation::Url(fresh_pg_database().await),
    };
    let rules = Rules::new(
        RateLimit {
            per_second: 1.0,
            burst: 4,
        },
        0.5,
    );
    let budget = |store: SharedStore| {
        let levels = StoreLevels::new(store, "https://shop.example/");
        SharedBudget::new(Arc::new(levels), rules)
    };
    let a = budget(store::open(&location).await.unwrap());
    let b = budget(store::open(&location).await.unwrap());
    a.acquire(Priority::Customer, Duration::ZERO).await.unwrap();
    b.acquire(Priority::Customer, Duration::ZERO).await.unwrap();
    // The customers' share is used up, whichever instance asks.
    assert!(a.wait_now(Priority::Customer).await > Duration::from_millis(500));
    assert!(b.acquire(Priority::Customer, Duration::ZERO).await.is_err());
    // The rest is the outbox's, in either instance; then the bucket is full.
    assert_eq!(b.wait_now(Priority::Background).await, Duration::ZERO);
    a.acquire(Priority::Background, Duration::ZERO)
        .await
        .unwrap();
    b.acquire(Priority::Background, Duration::ZERO)
        .await
        .unwrap();
    assert!(a
        .acquire(Priority::Background, Duration::ZERO)
        .await
        .is_err());
    assert!(b.wait_now(Priority::Background).await > Duration::from_millis(500));
}

both_stores!(outbox_batches_with_one_refusal, instances_share_one_budget);
