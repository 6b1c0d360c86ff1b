//! Throughput within the portal's rate limit: the sandbox's leaky bucket ON as a real portal's
//! (2 requests/s after a burst of 50), the companion's own budget at its default (2/50) and its
//! default portal timeout, and N customers paying on one portal (one SQLite store) at the same
//! moment, with `[portal] batch` on and off in the same run (a fresh stack each, so each starts
//! with an empty bucket).
//!
//! A customer is a task that presses Pay once and, when told to come back (429/503), comes
//! back after `Retry-After` (after 2 s on a 502, "the portal is unavailable") with the same
//! idempotency key, as the widget's "try again" does,
//! until the run's patience runs out. Printed per run: customers whose payment succeeded, the
//! median / p95 / max time until the Pay button's final answer, the time until the portal
//! showed the last payment paid, and the REST requests the portal received (a batch is one).

use b24pay_e2e::cards;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use b24pay_sandbox::RateLimit;
use std::fmt::Write as _;
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
pub(crate) type Seen = Option<(Duration, bool)>;

/// One press of Pay (or a coming back): when it was sent and answered (after the first
/// press), the HTTP status (0: no answer) and the `Retry-After` it was given.
#[derive(Clone, Debug)]
pub(crate) struct Try {
    pub sent: Duration,
    pub answered: Duration,
    pub status: u16,
    pub retry_after: Option<u64>,
}

pub(crate) async fn customer(
    stack: Arc<Stack>,
    id: u64,
    started: Instant,
    patience: Duration,
) -> Seen {
    customer_traced(stack, id, started, patience).await.0
}

/// A customer, with each of its tries.
pub(crate) async fn customer_traced(
    stack: Arc<Stack>,
    id: u64,
    started: Instant,
    patience: Duration,
) -> (Seen, Vec<Try>) {
    let key = format!("thr{id:012}{:08x}", rand::random::<u32>());
    let body = stack.confirm_body(id, "1990.00", "RUB", cards::APPROVED);
    let url = stack.payments_url();
    let mut tries = Vec::new();
    loop {
        let sent = started.elapsed();
        let answer = stack
            .http
            .post(&url)
            .header("Idempotency-Key", &key)
            .json(&body)
            .send()
            .await;
        let retry_after = answer.as_ref().ok().and_then(|r| {
            r.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        });
        tries.push(Try {
            sent,
            answered: started.elapsed(),
            status: answer.as_ref().map_or(0, |r| r.status().as_u16()),
            retry_after,
        });
        let again = match answer {
            Ok(r) if r.status() == 200 => {
                let view: serde_json::Value = r.json().await.unwrap_or_default();
                return (
                    Some((started.elapsed(), view["state"] == "succeeded")),
                    tries,
                );
            }
            // "The portal is unavailable" (its budget spent): the customer presses Pay again.
            Ok(r) if r.status() == 502 => 2,
            Ok(r) if r.status() == 429 || r.status() == 503 => {
                retry_after.unwrap_or(1).clamp(1, 10)
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                if std::env::var_os("B24PAY_BENCH_DEBUG").is_some() {
                    eprintln!("customer {id}: {status} {text}");
                }
                return (Some((started.elapsed(), false)), tries);
            }
            // Connection refused or reset under load: come back like a customer would.
            Err(_) => 1,
        };
        if started.elapsed() + Duration::from_secs(again) >= patience {
            return (None, tries);
        }
        tokio::time::sleep(Duration::from_secs(again)).await;
    }
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) async fn stack(batch: bool) -> Arc<Stack> {
    let options = StackOptions::new(StoreKind::Sqlite)
        // The companion's defaults for the portal: its budget 2/50, a 20 s timeout.
        .env("B24PAY_PORTAL_RATE_LIMIT", "2/50")
        .env("B24PAY_PORTAL_TIMEOUT_MS", "20000")
        // The default lease, which must outlive a portal call.
        .env("B24PAY_OUTBOX_LEASE_MS", "60000")
        .env("B24PAY_PORTAL_BATCH", if batch { "on" } else { "off" })
        // Every customer comes from 127.0.0.1 here.
        .env("B24PAY_CONNECTIONS_PER_IP", "0");
    // For a trace of the companion's scheduling (e.g. `warn,b24pay_companion::portal=debug`).
    let options = match std::env::var("B24PAY_BENCH_LOG") {
        Ok(filter) => options.env("B24PAY_LOG", &filter),
        Err(_) => options,
    };
    Arc::new(Stack::start(options).await)
}

/// Waits until every payment in `ids` is paid; how many are, and when the last one was.
async fn wait_paid(
    stack: &Stack,
    ids: &[u64],
    started: Instant,
    patience: Duration,
) -> (usize, Option<Duration>) {
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
    let ids: Vec<u64> = (0..customers)
        .map(|_| stack.order("1990.00", "RUB"))
        .collect();
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
            format!(
                " ({} without an answer within {})",
                r.customers - r.answered,
                secs(r.patience)
            )
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

/// Targets from issue 13, at 200 simultaneous customers on a 2 requests/s portal.
const TARGET_P99_S_AT_200: f64 = 3.0;
const TARGET_PAID_S_AT_200: f64 = 10.0;
const TARGET_REQUESTS_AT_200: u64 = 20;

const INTRO: &str = "## Throughput within the portal's rate limit\n\n\
    The sandbox's leaky bucket on as a real portal's (2 requests/s after a burst of 50); the \
    companion's budget at its default (2/50, one SQLite store), its portal timeout at the default \
    20 s. N customers press Pay at the same moment on one portal; told to come back (429/503), a \
    customer comes back after `Retry-After` (after 2 s when told the portal is unavailable, 502) \
    with the same idempotency key, until the run's \
    patience is over. Answer times run from the moment all press Pay to each customer's final \
    answer; \"all paid\" is when the portal showed the last succeeded payment paid; portal \
    requests are the REST requests the sandbox received (a `batch` is one), of which it refused \
    the last column's for its rate limit. Batching off (`[portal] batch = false`, what the \
    companion did before) and on, in the same run, each on a fresh stack. Run alone with \
    `scripts/bench.sh --only throughput` (which also measures the sustained rate, next section; \
    `b24pay-bench --only throughput --customers 50,200` for fewer runs).\n\n\
    | customers | batch | succeeded | median answer | p95 answer | slowest answer | all paid after | portal requests | refused by the portal |\n\
    |---:|---|---:|---:|---:|---:|---:|---:|---:|\n";

/// The section of BENCHMARKS.md, with the targets at 200 customers.
pub fn section(regimes: &[Regime]) -> String {
    let mut s = String::from(INTRO);
    for r in regimes {
        let _ = writeln!(s, "{}", row(r));
    }
    if let Some(r) = regimes.iter().find(|r| r.customers == 200 && r.batch) {
        let met = |ok: bool| if ok { "met" } else { "MISSED" };
        let slowest = r.max.as_secs_f64();
        let paid = r.all_paid.map(|d| d.as_secs_f64());
        let paid_text = paid.map_or("not all".into(), |p| format!("{p:.2} s"));
        s.push_str("\n| target (200 customers, batching on) | figure | |\n|---|---|---|\n");
        let all = r.succeeded == r.customers;
        let _ = writeln!(
            s,
            "| every one confirmed | {}/{} | {} |",
            r.succeeded,
            r.customers,
            met(all)
        );
        let fast = slowest <= TARGET_P99_S_AT_200;
        let _ = writeln!(
            s,
            "| p99 ≤ {TARGET_P99_S_AT_200:.0} s | slowest {slowest:.2} s | {} |",
            met(fast)
        );
        let in_time = paid.is_some_and(|p| p <= TARGET_PAID_S_AT_200);
        let _ = writeln!(
            s,
            "| all paid within {TARGET_PAID_S_AT_200:.0} s | {paid_text} | {} |",
            met(in_time)
        );
        let few = r.requests <= TARGET_REQUESTS_AT_200;
        let _ = writeln!(
            s,
            "| at most {TARGET_REQUESTS_AT_200} portal requests | {} | {} |",
            r.requests,
            met(few)
        );
    }
    s.push('\n');
    s
}
