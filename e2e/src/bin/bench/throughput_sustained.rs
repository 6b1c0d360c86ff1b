//! The sustained rate within the portal's rate limit: how many payments per second one portal
//! (2 requests/s after a burst of 50) takes with every payment paid within 10 s of its Pay
//! press, held for a minute.
//!
//! A level is an offered rate: customers arrive evenly spaced (one every `1/rate` s), each
//! pressing Pay once and coming back when told to, as in [`super::throughput`]. Each level runs
//! on a fresh stack whose portal bucket is first filled by another caller (the burst spent), so
//! it runs on the drain rate alone, as on a busy portal; it is offered for [`Plan::warm_up`]
//! unmeasured, then measured for [`Plan::hold`]. A level fails as soon as one measured payment
//! is not shown paid by the portal 10 s after its customer pressed Pay, and stops there (a
//! failing level costs seconds, not a minute).
//! Batching off is offered once, at the target, for comparison; with batching on the search
//! starts at the target, steps a fifth down after a miss (up after a hold) until both ends
//! are known, then bisects between the highest rate that held and the lowest that missed, for
//! at most [`Plan::levels`] levels.

use super::throughput::{customer_traced, percentile, stack, Try};
use super::throughput_trace::{self as trace, Sampler, Traced};
use b24pay_e2e::stack::Stack;
use b24pay_sandbox::RateLimit;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The promise to every customer: paid in the portal within this of pressing Pay.
const PAID_WITHIN: Duration = Duration::from_secs(10);
/// How often the portal is looked at for newly paid payments.
const LOOK_EVERY: Duration = Duration::from_millis(50);
/// Target from issue 13: payments per second per portal on a 2 requests/s portal.
const TARGET_PER_S: f64 = 25.0;

#[derive(Clone, Debug)]
pub struct Plan {
    /// How long each level is offered before it is measured (the companion learns the
    /// portal's bucket is full from its first refusal; customers meanwhile queue).
    pub warm_up: Duration,
    /// How long each level is held, measured.
    pub hold: Duration,
    /// Levels with batching on (the search); batching off adds one more.
    pub levels: usize,
    /// The search's upper bound (payments/s).
    pub max: f64,
    /// Only these rates, batching on, instead of the search (to look at one level).
    pub rates: Vec<f64>,
    /// Where to write each level's trace ([`super::throughput_trace`]), if anywhere.
    pub trace: Option<PathBuf>,
}

pub struct Level {
    pub rate: f64,
    pub batch: bool,
    /// How long customers kept arriving: the whole hold, or until a payment missed its 10 s.
    pub ran: Duration,
    pub held: bool,
    /// Payments whose 10 s were over when the level stopped.
    pub due: usize,
    pub paid_in_time: usize,
    /// Pay press to paid in the portal, over `due` (`None`: that rank was not paid in time).
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    /// The slowest final answer a customer had by the stop (`None`: one had none within 10 s).
    pub slowest_answer: Option<Duration>,
    pub requests: u64,
    pub rate_limited: u64,
    /// From the first arrival to the stop.
    pub elapsed: Duration,
}

/// Fills the portal's bucket from another caller, so the level starts without its burst.
async fn spend_burst(stack: &Stack) {
    let url = format!("{}sale.paysystem.handler.list", stack.sandbox.webhook_url());
    for _ in 0..=RateLimit::PORTAL.burst {
        let answer = stack
            .http
            .post(&url)
            .json(&serde_json::json!({}))
            .send()
            .await;
        if answer.is_ok_and(|r| r.status() == 503) {
            return;
        }
    }
}

/// The evenly spaced arrivals of one level.
#[derive(Clone, Copy)]
struct Schedule {
    t0: Instant,
    rate: f64,
    n: usize,
}

impl Schedule {
    fn at(&self, i: usize) -> Instant {
        self.t0 + Duration::from_secs_f64(i as f64 / self.rate)
    }

    fn last(&self) -> Instant {
        self.at(self.n - 1)
    }
}

/// Per payment, how long after its press it was seen paid; stops at the first payment past its
/// 10 s unpaid, or when every payment is paid or past its 10 s. Answers the stop time.
async fn watch_paid(stack: &Stack, ids: &[u64], s: Schedule) -> (Vec<Option<Duration>>, Instant) {
    let mut paid = vec![None; ids.len()];
    let mut oldest_unpaid = 0;
    loop {
        let now = Instant::now();
        for (i, id) in ids.iter().enumerate().skip(oldest_unpaid) {
            if s.at(i) > now {
                break;
            }
            if paid[i].is_none() && stack.payment(*id).paid {
                paid[i] = Some(now - s.at(i));
            }
        }
        while oldest_unpaid < ids.len() && paid[oldest_unpaid].is_some() {
            oldest_unpaid += 1;
        }
        let missed = oldest_unpaid < ids.len() && s.at(oldest_unpaid) + PAID_WITHIN < now;
        if missed || oldest_unpaid == ids.len() {
            return (paid, now);
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// Per customer: its final answer's time, and its tries.
type Answers = Arc<Mutex<Vec<(Option<Duration>, Vec<Try>)>>>;

/// Customers arriving on schedule; each writes its final answer's time into `answers`.
/// Aborting the returned task aborts every customer.
fn arrivals(
    stack: Arc<Stack>,
    ids: Vec<u64>,
    s: Schedule,
    answers: Answers,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut customers = JoinSet::new();
        for (i, id) in ids.into_iter().enumerate() {
            tokio::time::sleep_until(s.at(i)).await;
            let (stack, answers) = (stack.clone(), answers.clone());
            customers.spawn(async move {
                let (seen, tries) =
                    customer_traced(stack, id, s.at(i).into_std(), PAID_WITHIN).await;
                answers.lock().expect("not poisoned")[i] = (seen.map(|(t, _)| t), tries);
            });
        }
        while customers.join_next().await.is_some() {}
    })
}

/// What one level saw of its measured customers.
struct Seen {
    s: Schedule,
    /// Per payment: seen paid this long after its press.
    paid: Vec<Option<Duration>>,
    /// Per customer: the final answer this long after its press.
    answers: Vec<Option<Duration>>,
    stopped: Instant,
    requests: u64,
    rate_limited: u64,
}

/// Offers `rate` payments/s on a fresh stack for `plan.warm_up` (not counted), then holds it
/// for `plan.hold` while watching the portal.
async fn run(rate: f64, batch: bool, plan: &Plan) -> Seen {
    let stack = stack(batch).await;
    let count = |d: Duration| ((rate * d.as_secs_f64()).round() as usize).max(1);
    let (warm, n) = (count(plan.warm_up), count(plan.hold));
    let all: Vec<u64> = (0..warm + n)
        .map(|_| stack.order("1990.00", "RUB"))
        .collect();
    stack.sandbox.set_rate_limit(Some(RateLimit::PORTAL));
    spend_burst(&stack).await;
    let everyone = Schedule {
        t0: Instant::now() + Duration::from_millis(50),
        rate,
        n: warm + n,
    };
    let answers: Answers = Arc::new(Mutex::new(vec![(None, Vec::new()); warm + n]));
    let sampler = plan
        .trace
        .as_ref()
        .map(|_| Sampler::start(stack.clone(), everyone.t0));
    let mut customers = arrivals(stack.clone(), all.clone(), everyone, answers.clone());
    // The measured customers: those after the warm-up.
    let s = Schedule {
        t0: everyone.at(warm),
        rate,
        n,
    };
    tokio::time::sleep_until(s.t0).await;
    let before = (stack.sandbox.requests(), stack.sandbox.rate_limited_calls());
    let (paid, stopped) = watch_paid(&stack, &all[warm..], s).await;
    if paid.iter().all(Option::is_some) {
        // An answer may reach its customer just after the portal showed the payment paid.
        let _ = tokio::time::timeout(PAID_WITHIN, &mut customers).await;
    }
    customers.abort();
    if std::env::var_os("B24PAY_BENCH_DEBUG").is_some() {
        let calls = |m: &str| stack.sandbox.method_calls(m);
        eprintln!(
            "  level {rate}/s: batch {}, settings.payment.get {}, pay.payment {}, paysystem.list {} (whole level)",
            calls("batch"),
            calls("sale.paysystem.settings.payment.get"),
            calls("sale.paysystem.pay.payment"),
            calls("sale.paysystem.list"),
        );
    }
    let answers = answers.lock().expect("not poisoned").clone();
    if let (Some(dir), Some(sampler)) = (&plan.trace, sampler) {
        let traced: Vec<Traced> = answers
            .iter()
            .enumerate()
            .map(|(i, (_, tries))| Traced {
                index: i,
                payment: all[i],
                pressed: everyone.at(i) - everyone.t0,
                measured: i >= warm,
                paid_after: i.checked_sub(warm).and_then(|m| paid[m]),
                tries,
            })
            .collect();
        let name = format!("level-{rate}-batch-{}", if batch { "on" } else { "off" });
        trace::write(dir, &name, &stack, &traced, sampler);
    }
    let answers = answers[warm..].iter().map(|(t, _)| *t).collect();
    Seen {
        s,
        paid,
        answers,
        stopped,
        requests: stack.sandbox.requests() - before.0,
        rate_limited: stack.sandbox.rate_limited_calls() - before.1,
    }
}

/// One level: `rate` offered with batching `batch`, measured for `plan.hold`.
pub async fn level(rate: f64, batch: bool, plan: &Plan) -> Level {
    let Seen {
        s,
        paid,
        answers,
        stopped,
        requests,
        rate_limited,
    } = run(rate, batch, plan).await;
    let over = |i: usize| s.at(i) + PAID_WITHIN <= stopped;
    let due: Vec<Option<Duration>> = (0..s.n)
        .filter(|i| over(*i) || paid[*i].is_some())
        .map(|i| paid[i].filter(|d| *d <= PAID_WITHIN))
        .collect();
    let paid_in_time = due.iter().flatten().count();
    let arrived = (0..s.n).filter(|i| s.at(*i) <= stopped).count();
    let answered_all = (0..arrived).all(|i| answers[i].is_some() || !over(i));
    let slowest = answers.iter().take(arrived).flatten().max().copied();
    // Unpaid ones rank last.
    let mut ranked: Vec<Duration> = due.iter().map(|d| d.unwrap_or(Duration::MAX)).collect();
    ranked.sort();
    let rank = |p: f64| Some(percentile(&ranked, p)).filter(|d| *d != Duration::MAX);
    let level = Level {
        rate,
        batch,
        ran: stopped.min(s.last()) - s.t0,
        held: paid_in_time == s.n,
        due: due.len(),
        paid_in_time,
        p50: rank(50.0),
        p99: rank(99.0),
        slowest_answer: if answered_all { slowest } else { None },
        requests,
        rate_limited,
        elapsed: stopped - s.t0,
    };
    eprintln!("  {}", row(&level, plan.hold));
    level
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub fn row(l: &Level, hold: Duration) -> String {
    let late = |d: Option<Duration>| d.map_or_else(|| "> 10 s".to_string(), secs);
    format!(
        "| {:.1}/s | {} | {} | {}/{} | {} | {} | {} | {} ({:.2}/s) | {} |",
        l.rate,
        if l.batch { "on" } else { "off" },
        if l.held {
            format!("held {:.0} s", hold.as_secs_f64())
        } else {
            format!("**missed** after {:.1} s", l.ran.as_secs_f64())
        },
        l.paid_in_time,
        l.due,
        late(l.p50),
        late(l.p99),
        late(l.slowest_answer),
        l.requests,
        l.requests as f64 / l.elapsed.as_secs_f64().max(0.001),
        l.rate_limited,
    )
}

/// The next rate to try, in whole payments/s: a fifth down from a miss (or up from a hold)
/// until both ends are known, then halfway between the highest rate that held and the lowest
/// that missed. `None`: the two are next to each other (or the bound is reached).
fn next_rate(held: Option<f64>, failed: Option<f64>, max: f64) -> Option<f64> {
    let next = match (held, failed) {
        (Some(h), Some(f)) => ((h + f) / 2.0).round(),
        (None, Some(f)) => (f * 0.8).floor(),
        (Some(h), None) => (h * 1.25).ceil().min(max),
        (None, None) => return None,
    };
    let above = held.is_none_or(|h| next > h);
    let below = failed.is_none_or(|f| next < f);
    (next >= 1.0 && above && below).then_some(next)
}

pub struct Sustained {
    pub plan: Plan,
    pub levels: Vec<Level>,
    /// The highest batched rate that held, and the lowest that failed.
    pub held: Option<f64>,
    pub failed: Option<f64>,
    /// The whole search, batching off included.
    pub took: Duration,
}

/// Batching off at the target, then the batched search from the target.
pub async fn measure(plan: Plan) -> Sustained {
    let started = Instant::now();
    if !plan.rates.is_empty() {
        let mut levels = Vec::new();
        for rate in plan.rates.clone() {
            levels.push(level(rate, true, &plan).await);
        }
        let held = levels
            .iter()
            .filter(|l| l.held)
            .map(|l| l.rate)
            .reduce(f64::max);
        let failed = levels
            .iter()
            .filter(|l| !l.held)
            .map(|l| l.rate)
            .reduce(f64::min);
        return Sustained {
            plan,
            levels,
            held,
            failed,
            took: started.elapsed(),
        };
    }
    let mut levels = vec![level(TARGET_PER_S, false, &plan).await];
    let (mut held, mut failed) = (None::<f64>, None::<f64>);
    let mut next = Some(TARGET_PER_S);
    for _ in 0..plan.levels {
        let Some(rate) = next else { break };
        let l = level(rate, true, &plan).await;
        if l.held {
            held = Some(rate);
        } else {
            failed = Some(rate);
        }
        levels.push(l);
        next = next_rate(held, failed, plan.max);
    }
    Sustained {
        plan,
        levels,
        held,
        failed,
        took: started.elapsed(),
    }
}

fn intro(plan: &Plan) -> String {
    format!(
        "## Sustained rate within the portal's rate limit\n\n\
         Payments per second one portal takes with every payment shown paid by the portal within \
         10 s of its customer pressing Pay, for a minute: the sandbox's bucket at 2 requests/s, \
         its burst of 50 spent by another caller before each level (so the level runs on the \
         drain rate alone, as on a busy portal), the companion's defaults as above (one SQLite \
         store). Customers arrive evenly spaced at the offered rate, each pressing Pay once and \
         coming back when told to. Each level is offered for {warm:.0} s first, not counted (the \
         companion learns from the portal's first refusal that its bucket is full, and customers \
         queue meanwhile), then measured for {hold:.0} s; it stops at the first measured payment \
         not paid 10 s after its press. Batching off is offered once, at the target, for \
         comparison; with batching on the search starts at the target, steps a fifth down after \
         a miss (up after a hold) until it has a rate that held and one that missed, then \
         bisects between them (whole payments/s, at most {levels} levels, up to {max:.0}/s), \
         each level on a fresh stack. \"Paid within 10 s\" \
         counts the measured payments whose 10 s were over when the level stopped; Pay → paid \
         ranks unpaid ones last; portal requests are those the sandbox received during the \
         measured part (its refusals in the last column). Alone: `scripts/bench.sh --only \
         sustained`.\n\n\
         | offered | batch | result | paid within 10 s | Pay → paid p50 | Pay → paid p99 | slowest answer | portal requests | refused by the portal |\n\
         |---:|---|---|---:|---:|---:|---:|---:|---:|\n",
        warm = plan.warm_up.as_secs_f64(),
        hold = plan.hold.as_secs_f64(),
        levels = plan.levels,
        max = plan.max,
    )
}

/// The section of BENCHMARKS.md: the levels in the order run, the search, the target.
pub fn section(s: &Sustained) -> String {
    let mut out = intro(&s.plan);
    for l in &s.levels {
        let _ = writeln!(out, "{}", row(l, s.plan.hold));
    }
    let trace: Vec<String> = s
        .levels
        .iter()
        .filter(|l| l.batch)
        .map(|l| format!("{:.0}/s {}", l.rate, if l.held { "held" } else { "missed" }))
        .collect();
    let figure = match (s.held, s.failed) {
        (Some(h), Some(f)) => format!("{h:.0} payments/s (missed at {f:.0}/s)"),
        (Some(h), None) => format!("at least {h:.0} payments/s (none of the levels missed)"),
        (None, Some(f)) => format!("below {f:.0} payments/s (no level held)"),
        (None, None) => "not measured".to_string(),
    };
    let _ = writeln!(
        out,
        "\nSearch (batching on): {} → sustained {figure}. The whole part took {:.1} min.",
        trace.join(" → "),
        s.took.as_secs_f64() / 60.0
    );
    let met = s.held.is_some_and(|h| h >= TARGET_PER_S);
    let _ = writeln!(
        out,
        "\n| target | figure | |\n|---|---|---|\n| sustained ≥ {TARGET_PER_S:.0} payments/s per portal on a 2 requests/s portal (batching on) | {figure} | {} |\n",
        if met { "met" } else { "MISSED" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::next_rate;

    #[test]
    fn the_search_closes_in_and_stops() {
        assert_eq!(next_rate(None, Some(25.0), 40.0), Some(20.0));
        assert_eq!(next_rate(Some(25.0), None, 40.0), Some(32.0));
        assert_eq!(next_rate(Some(20.0), Some(25.0), 40.0), Some(23.0));
        assert_eq!(next_rate(Some(22.0), Some(23.0), 40.0), None);
        assert_eq!(next_rate(Some(40.0), None, 40.0), None);
        assert_eq!(next_rate(None, Some(1.0), 40.0), None);
    }
}
