//! The nobody-retries drill: every customer sends its request once and never comes back, while
//! the companion is killed and restarted; the companion must settle everything alone.

use super::{drill_seed, plan_payments, Planned};
use b24pay_e2e::cards;
use b24pay_e2e::say;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::{pg_url, StoreKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 6;

fn card(rng: &mut StdRng) -> (&'static str, bool) {
    match rng.random_range(0..10) {
        0..=6 => (cards::APPROVED, true),
        7 => (cards::PROCESSING_ERROR, false),
        _ => (cards::DECLINED, false),
    }
}

/// How one customer's single request ended, as far as the drill cares.
fn once_outcome(answer: &Result<(u16, Value), reqwest::Error>) -> String {
    match answer {
        Err(_) => "no answer".into(),
        Ok((200, v)) => v["state"].as_str().unwrap_or("?").to_string(),
        Ok((status, v)) => format!("{status} {}", v["error"]["code"].as_str().unwrap_or("?")),
    }
}

async fn drill(kind: StoreKind) {
    let kills: usize = std::env::var("B24PAY_DRILL_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed = drill_seed();
    say(format!(
        "nobody-retries drill ({}): {kills} kills, seed {seed} (replay with B24PAY_DRILL_SEED={seed})",
        kind.name()
    ));
    let mut rng = StdRng::seed_from_u64(seed);
    let stack = Stack::start(StackOptions::new(kind)).await;
    let payments = kills * CUSTOMERS;
    let plan = Arc::new(plan_payments(&stack, &mut rng, payments, card));
    let stack = Arc::new(stack);
    let outcomes = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let started = Instant::now();
    let mut customers = spawn_customers(seed, &stack, &plan, &outcomes);
    for kill in 1..=kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..400))).await;
        tokio::task::block_in_place(|| stack.kill_and_restart());
        if kill % 10 == 0 {
            say(format!("  {kill} kills"));
        }
    }
    while let Some(result) = customers.join_next().await {
        result.expect("customer task");
    }
    let streamed = started.elapsed();
    // From here on no customer does anything: the companion must finish on its own.
    wait_settled(&stack).await;
    let settled_in = started.elapsed() - streamed;
    let (paid_once, not_charged) = check_outcomes(&stack, &plan).await;
    say(format!(
        "nobody-retries drill ({}): {payments} payments sent once each, {kills} kills in {:.1} s; \
         settled alone {:.1} s after the last kill: {paid_once} charged and paid exactly once, \
         {not_charged} not charged and unpaid, nothing charged twice, nothing left unsettled; \
         first answers {:?}; companion started {} times",
        kind.name(),
        streamed.as_secs_f64(),
        settled_in.as_secs_f64(),
        outcomes.lock().unwrap(),
        stack.companion.lock().unwrap().starts()
    ));
}

/// `CUSTOMERS` customers, each sending its share of the plan once, counting the answers.
fn spawn_customers(
    seed: u64,
    stack: &Arc<Stack>,
    plan: &Arc<Vec<Planned>>,
    outcomes: &Arc<Mutex<BTreeMap<String, usize>>>,
) -> tokio::task::JoinSet<()> {
    let mut customers = tokio::task::JoinSet::new();
    for customer in 0..CUSTOMERS {
        let (stack, plan, outcomes) = (stack.clone(), plan.clone(), outcomes.clone());
        let mut pace = StdRng::seed_from_u64(seed ^ (customer as u64 + 1));
        customers.spawn(async move {
            for p in plan.iter().skip(customer).step_by(CUSTOMERS) {
                // Paced so that the stream lasts about as long as the kills.
                tokio::time::sleep(Duration::from_millis(pace.random_range(0..600))).await;
                let answer = stack.confirm(&p.key, &p.body).await;
                *outcomes
                    .lock()
                    .unwrap()
                    .entry(once_outcome(&answer))
                    .or_default() += 1;
            }
        });
    }
    customers
}

/// Waits (at most 90 s) until no attempt is unsettled and the outbox is empty.
async fn wait_settled(stack: &Stack) {
    let ledger = stack.ledger().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let unsettled = ledger.unsettled().await;
        if unsettled.is_empty() && ledger.outbox_depth().await == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not settled 90 s after the last kill: {unsettled:?}, outbox {}",
            ledger.outbox_depth().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Each payment was either charged once and marked paid once (and its card could be approved),
/// or not charged and not paid. Returns (paid once, not charged).
async fn check_outcomes(stack: &Stack, plan: &[Planned]) -> (usize, usize) {
    let ledger = stack.ledger().await;
    let (mut paid_once, mut not_charged) = (0, 0);
    for p in plan {
        let sandbox = stack.payment(p.payment_id);
        match ledger.charges(stack.paysystem_id, p.payment_id).await {
            1 => {
                let body = &p.body;
                assert!(
                    p.approvable,
                    "a card that cannot be approved was charged: {body}"
                );
                assert!(
                    sandbox.paid && sandbox.pay_calls == 1,
                    "charged, paid once: {sandbox:?}"
                );
                paid_once += 1;
            }
            0 => {
                assert!(
                    !sandbox.paid && sandbox.pay_calls == 0,
                    "not charged, not paid: {sandbox:?}"
                );
                not_charged += 1;
            }
            n => panic!("payment {} charged {n} times", p.payment_id),
        }
    }
    let all = ledger.all_charges().await;
    assert_eq!(all, paid_once as i64, "no charge outside the plan");
    (paid_once, not_charged)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nobody_retries_drill_sqlite() {
    drill(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nobody_retries_drill_postgres() {
    if pg_url().is_some() {
        drill(StoreKind::Postgres).await;
    }
}
