//! The SIGKILL drill: customers who retry until they have a final answer, while the companion
//! is killed and restarted under them.

use super::{confirm_until_final, drill_seed, plan_payments, Final, Planned};
use b24pay_e2e::cards;
use b24pay_e2e::say;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::{pg_url, StoreKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PAYMENTS: usize = 120;
const CLIENTS: usize = 6;
const KILLS: usize = 8;

/// The customers' shared progress through the plan.
#[derive(Default)]
struct Progress {
    next: AtomicUsize,
    completed: AtomicUsize,
    finals: Mutex<BTreeMap<u64, (Final, usize)>>,
}

fn card(rng: &mut StdRng) -> (&'static str, bool) {
    match rng.random_range(0..10) {
        0..=5 => (cards::APPROVED, true),
        6 => (cards::APPROVED_MASTERCARD, true),
        7 => (cards::DECLINED, false),
        8 => (cards::INSUFFICIENT_FUNDS, false),
        _ => (cards::INCORRECT_CVC, false),
    }
}

async fn drill(kind: StoreKind) {
    let seed = drill_seed();
    say(format!(
        "SIGKILL drill ({}): seed {seed} (replay with B24PAY_DRILL_SEED={seed})",
        kind.name()
    ));
    let mut rng = StdRng::seed_from_u64(seed);
    let stack = Stack::start(StackOptions::new(kind)).await;
    let plan = Arc::new(plan_payments(&stack, &mut rng, PAYMENTS, card));
    let kill_gaps: Vec<u64> = (0..KILLS).map(|_| rng.random_range(10..300)).collect();
    let stack = Arc::new(stack);
    let progress = Arc::new(Progress::default());
    let started = Instant::now();

    let mut clients = spawn_customers(seed, &stack, &plan, &progress);
    let kills = kill_while_paying(&stack, &kill_gaps, &progress).await;
    while let Some(result) = clients.join_next().await {
        result.expect("client task");
    }
    say(format!(
        "SIGKILL drill ({}): {PAYMENTS} payments by {CLIENTS} clients, {kills} kills, {:.1} s",
        kind.name(),
        started.elapsed().as_secs_f64()
    ));
    let finals = progress.finals.lock().unwrap().clone();
    let approved = check_outcomes(&stack, &plan, &finals).await;
    let tries: usize = finals.values().map(|(_, t)| t).sum();
    say(format!(
        "SIGKILL drill ({}): {approved} approved paid once each, {} declined unpaid, {tries} requests in all, companion started {} times",
        kind.name(),
        PAYMENTS as i64 - approved,
        stack.companion.lock().unwrap().starts()
    ));
}

/// `CLIENTS` customers taking the plan's payments in turn, each confirming until final.
fn spawn_customers(
    seed: u64,
    stack: &Arc<Stack>,
    plan: &Arc<Vec<Planned>>,
    progress: &Arc<Progress>,
) -> tokio::task::JoinSet<()> {
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        // Customers arrive at their own pace, so the kills land all along the stream.
        let mut pace = StdRng::seed_from_u64(seed ^ client as u64);
        let (stack, plan, progress) = (stack.clone(), plan.clone(), progress.clone());
        clients.spawn(async move {
            loop {
                let pause = pace.random_range(0..40);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                let i = progress.next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = plan.get(i) else {
                    break;
                };
                let answer = confirm_until_final(&stack, &p.key, &p.body, deadline).await;
                progress.finals.lock().unwrap().insert(p.payment_id, answer);
                progress.completed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    clients
}

/// Kills and restarts the companion after each gap, until every payment has its answer.
async fn kill_while_paying(stack: &Stack, gaps: &[u64], progress: &Progress) -> usize {
    let mut kills = 0;
    for gap in gaps {
        tokio::time::sleep(Duration::from_millis(*gap)).await;
        let at = progress.completed.load(Ordering::Relaxed);
        if at == PAYMENTS {
            break;
        }
        tokio::task::block_in_place(|| stack.kill_and_restart());
        kills += 1;
        say(format!(
            "  kill {kills} after {gap} ms, {at}/{PAYMENTS} payments answered"
        ));
    }
    kills
}

/// Every approvable payment succeeded, was charged once and marked paid once; every other was
/// declined with a reason, never charged, never paid. Returns how many were approved.
async fn check_outcomes(
    stack: &Stack,
    plan: &[Planned],
    finals: &BTreeMap<u64, (Final, usize)>,
) -> i64 {
    let ledger = stack.ledger().await;
    let mut approved = 0;
    for p in plan {
        let (fin, tries) = &finals[&p.payment_id];
        let id = p.payment_id;
        if p.approvable {
            approved += 1;
            assert_eq!(fin.state, "succeeded", "payment {id}: {fin:?}");
            let paid = stack.wait_paid(id, Duration::from_secs(30)).await;
            assert_eq!(
                paid.pay_calls, 1,
                "payment {id} marked paid exactly once ({tries} requests): {paid:?}"
            );
            assert_eq!(
                paid.ps
                    .invoice_id
                    .as_deref()
                    .map(|t| t.starts_with("tx_test_")),
                Some(true),
                "PS_INVOICE_ID is the acquirer's transaction: {paid:?}"
            );
            let charges = ledger.charges(stack.paysystem_id, id).await;
            assert_eq!(charges, 1, "payment {id} charged exactly once");
        } else {
            assert_eq!(fin.state, "declined", "payment {id}: {fin:?} {}", p.body);
            assert!(fin.decline_code.is_some(), "a reason: {fin:?}");
            let sandbox = stack.payment(id);
            assert!(
                !sandbox.paid,
                "declined payment {id} marked paid: {sandbox:?}"
            );
            assert_eq!(sandbox.pay_calls, 0);
            assert_eq!(ledger.charges(stack.paysystem_id, id).await, 0);
        }
    }
    let all = ledger.all_charges().await;
    assert_eq!(all, approved, "no charge outside the plan");
    approved
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_drill_sqlite() {
    drill(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_drill_postgres() {
    if pg_url().is_some() {
        drill(StoreKind::Postgres).await;
    }
}
