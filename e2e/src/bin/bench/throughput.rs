//! Throughput within the portal's rate limit: the sandbox's leaky bucket ON as a real portal's
//! (2 requests/s after a burst of 50), the companion's own budget at its default (2/50) and its
//! default portal timeout, and N customers paying on one portal (one SQLite store) at the same
//! moment, with `[portal] batch` on and off in the same run (a fresh stack each, so each starts
//! with an empty bucket).
//!
//! A customer is a task that presses Pay once and, when told to come back (429/503), comes
//! back after `Retry-After` with the same idempotency key, as the widget's "try again" does,
//! until the run's patience runs out. Printed per run: customers whose payment succeeded, the
//! median / p95 / max time until the Pay button's final answer, the time until the portal
//! showed the last payment paid, and the REST requests the portal received (a batch is one).

use b24pay_e2e::cards;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use b24pay_sandbox::RateLimit;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Regime {
    pub customers: usize,
    pub batch: bool,
    pub succeeded: usize,
    /// Customers who had a final answer (success or refusal) within the patience.
    pub answered: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub max: Duration,
    /// Until the portal showed every succeeded payment paid; `None`: not within the patience.
    pub all_paid: Option<Duration>,
    pub paid: usize,
    pub requests: u64,
    pub rate_limited: u64,
    pub patience: Duration,
}

/// What one customer saw: the final answer's time, and whether it was a success.
type Seen = Option<(Duration, bool)>;

async fn customer(stack: Arc<Stack>, id: u64, started: Instant, patience: Duration) -> Seen {
    let key = format!("thr{id:012}{:08x}", rand::random::<u32>());
    let body = stack.confirm_body(id, "1990.00", "RUB", cards::APPROVED);
    let url = format!("{}/api/v1/payments", stack.base);
    loop {
        let answer = stack
            .http
            .post(&url)
            .header("Idempotency-Key", &key)
            .json(&body)
            .send()
            .await;
        let again = match answer {
            Ok(r) if r.status() == 200 => {
                let view: serde_json::Value = r.json().await.unwrap_or_default();
                return Some((started.elapsed(), view["state"] == "succeeded"));
            }
            Ok(r) if r.status() == 429 || r.status() == 503 => r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(1)
                .clamp(1, 10),
            Ok(_) => return Some((started.elapsed(), false)),
            // Connection refused or reset under load: come back like a customer would.
            Err(_) => 1,
        };
        if started.elapsed() + Duration::from_secs(again) >= patience {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(again)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn stack(batch: bool) -> Arc<Stack> {
    let options = StackOptions::new(StoreKind::Sqlite)
        // The companion's defaults for the portal: its budget 2/50, a 20 s timeout.
        .env("B24PAY_PORTAL_RATE_LIMIT", "2/50")
        .env("B24PAY_PORTAL_TIMEOUT_MS", "20000")
        // The default lease, which must outlive a portal call.
        .env("B24PAY_OUTBOX_LEASE_MS", "60000")
        .env("B24PAY_PORTAL_BATCH", if batch { "on" } else { "off" })
        // Every customer comes from 127.0.0.1 here.
        .env("B24PAY_CONNECTIONS_PER_IP", "0");
    Arc::new(Stack::start(options).await)
}

/// Waits until every payment in `ids` is paid; how many are, and when the last one was.
async fn wait_paid(stack: &Stack, ids: &[u64], started: Instant, patience: Duration) -> (usize, Option<Duration>) {
    loop {
        let paid = ids.iter().filter(|id| stack.payment(**id).paid).count();
        if paid == ids.len() {
            return (paid, Some(started.elapsed()));
        }
        if started.elapsed() >= patience {
            return (paid, None);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(customers: usize, batch: bool, patience: Duration) -> Regime {
    let stack = stack(batch).await;
    let ids: Vec<u64> = (0..customers).map(|_| stack.order("1990.00", "RUB")).collect();
    stack.sandbox.set_rate_limit(Some(RateLimit::PORTAL));
    let before = (stack.sandbox.requests(), stack.sandbox.rate_limited_calls());
    let started = Instant::now();
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| tokio::spawn(customer(stack.clone(), *id, started, patience)))
        .collect();
    let mut seen = Vec::with_capacity(customers);
    for task in tasks {
        seen.push(task.await.expect("customer task"));
    }
    let succeeded: Vec<u64> = ids
        .iter()
        .zip(&seen)
        .filter(|(_, s)| matches!(s, Some((_, true))))
        .map(|(id, _)| *id)
        .collect();
    let (paid, all_paid) = wait_paid(&stack, &succeeded, started, patience).await;
    let mut times: Vec<Duration> = seen.iter().flatten().map(|(t, _)| *t).collect();
    times.sort();
    let regime = Regime {
        customers,
        batch,
        succeeded: succeeded.len(),
        answered: times.len(),
        p50: percentile(&times, 50.0),
        p95: percentile(&times, 95.0),
        max: times.last().copied().unwrap_or_default(),
        all_paid,
        paid,
        requests: stack.sandbox.requests() - before.0,
        rate_limited: stack.sandbox.rate_limited_calls() - before.1,
        patience,
    };
    eprintln!("  {}", row(&regime));
    regime
}

pub fn row(r: &Regime) -> String {
    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    format!(
        "| {} | {} | {}/{}{} | {} | {} | {} | {} | {} | {} |",
        r.customers,
        if r.batch { "on" } else { "off" },
        r.succeeded,
        r.customers,
        if r.answered < r.customers {
            format!(" ({} without an answer within {})", r.customers - r.answered, secs(r.patience))
        } else {
            String::new()
        },
        secs(r.p50),
        secs(r.p95),
        secs(r.max),
        r.all_paid.map_or_else(
            || format!("not within {} ({} paid)", secs(r.patience), r.paid),
            secs
        ),
        r.requests,
        r.rate_limited,
    )
}

/// Every N with batching off, then on.
pub async fn measure(plan: &[usize], patience: Duration) -> Vec<Regime> {
    let mut regimes = Vec::new();
    for &n in plan {
        for batch in [false, true] {
            regimes.push(run(n, batch, patience).await);
        }
    }
    regimes
}
