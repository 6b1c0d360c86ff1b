//! Companion throughput and latency: the full verified flow (`POST /api/v1/payments` with an
//! approved card: read the payment from the portal, charge, record, and the outbox's
//! `pay.payment`) against the sandbox with its rate limit off, at several concurrencies, with
//! SQLite and PostgreSQL; and the companion's peak resident memory.
//!
//! Everything shares this machine: the load clients and the sandbox portal run in this
//! process, the companion in its own (release build).

use b24pay_e2e::cards;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Run {
    pub clients: usize,
    pub payments: usize,
    pub errors: usize,
    /// Confirm answers (`succeeded`) per second of wall time.
    pub confirmed_per_s: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// From the first request until the portal showed every payment paid.
    pub paid_after: Duration,
    pub paid_per_s: f64,
    /// CPU time (user + system) per payment: the companion's, and this process's (the load
    /// clients and the sandbox portal), which share the machine with it.
    pub companion_cpu_ms: f64,
    pub harness_cpu_ms: f64,
}

/// User + system CPU seconds of a process, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) — utime and stime are the
    // 14th and 15th fields of the whole line.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}

pub struct StoreLoad {
    pub store: StoreKind,
    pub runs: Vec<Run>,
    pub peak_rss_kib: Option<u64>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One payment to confirm: its id, idempotency key and request body.
type Work = Arc<Vec<(u64, String, Vec<u8>)>>;

/// Payments and bodies made before the clock starts: only the companion's work is timed.
fn prepare(stack: &Stack, clients: usize, payments: usize) -> Work {
    Arc::new(
        (0..payments)
            .map(|i| {
                let id = stack.order("1990.00", "RUB");
                let body = stack.confirm_body(id, "1990.00", "RUB", cards::APPROVED);
                (
                    id,
                    format!("bench{clients:04}{i:016x}{:08x}", rand::random::<u32>()),
                    serde_json::to_vec(&body).expect("JSON"),
                )
            })
            .collect(),
    )
}

/// One load client: takes the next payment until none is left, confirms it and times the
/// answer. Returns its latencies and how many answers were not `succeeded`.
async fn client(stack: Arc<Stack>, work: Work, next: Arc<AtomicUsize>) -> (Vec<Duration>, usize) {
    let url = stack.payments_url();
    let mut latencies = Vec::new();
    let mut errors = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((_, key, body)) = work.get(i) else {
            break;
        };
        let t = Instant::now();
        let answer = stack
            .http
            .post(&url)
            .header("Idempotency-Key", key)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await;
        let ok = match answer {
            Ok(r) if r.status().is_success() => r
                .bytes()
                .await
                .map(|b| {
                    serde_json::from_slice::<serde_json::Value>(&b)
                        .map(|v| v["state"] == "succeeded")
                        .unwrap_or(false)
                })
                .unwrap_or(false),
            _ => false,
        };
        latencies.push(t.elapsed());
        if !ok {
            errors += 1;
        }
    }
    (latencies, errors)
}

/// Waits until the portal shows every payment of `work` paid (the outbox's work).
async fn wait_all_paid(stack: &Stack, work: &Work) {
    let deadline = Instant::now() + Duration::from_secs(120);
    for (id, _, _) in work.iter() {
        while !stack.payment(*id).paid {
            assert!(
                Instant::now() < deadline,
                "payment {id} never paid during the benchmark"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

async fn run(stack: &Arc<Stack>, clients: usize, payments: usize) -> Run {
    let work = prepare(stack, clients, payments);
    let next = Arc::new(AtomicUsize::new(0));
    let companion_pid = stack
        .companion
        .lock()
        .expect("companion")
        .pid()
        .map_or_else(String::new, |p| p.to_string());
    let cpu_before = (cpu_seconds(&companion_pid), cpu_seconds("self"));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        tasks.spawn(client(stack.clone(), work.clone(), next.clone()));
    }
    let mut latencies = Vec::with_capacity(payments);
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        let (l, e) = r.expect("client task");
        latencies.extend(l);
        errors += e;
    }
    let confirm_elapsed = started.elapsed();
    wait_all_paid(stack, &work).await;
    let paid_after = started.elapsed();
    let cpu_after = (cpu_seconds(&companion_pid), cpu_seconds("self"));
    latencies.sort();
    Run {
        clients,
        payments,
        errors,
        confirmed_per_s: (payments - errors) as f64 / confirm_elapsed.as_secs_f64(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        paid_after,
        paid_per_s: payments as f64 / paid_after.as_secs_f64(),
        companion_cpu_ms: (cpu_after.0 - cpu_before.0) * 1e3 / payments as f64,
        harness_cpu_ms: (cpu_after.1 - cpu_before.1) * 1e3 / payments as f64,
    }
}

pub async fn measure(store: StoreKind, plan: &[(usize, usize)]) -> StoreLoad {
    let stack = Arc::new(Stack::start(StackOptions::new(store)).await);
    // Warm-up: connections, caches, SQLite's and PostgreSQL's first pages.
    run(&stack, 8, 300).await;
    let mut runs = Vec::new();
    for &(clients, payments) in plan {
        let r = run(&stack, clients, payments).await;
        eprintln!(
            "  {} c={clients}: {:.0} confirmed/s, p50 {:.2} ms, p99 {:.2} ms, all paid after {:.2} s, {} errors, CPU/payment: companion {:.2} ms, harness {:.2} ms",
            store.name(),
            r.confirmed_per_s,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.paid_after.as_secs_f64(),
            r.errors,
            r.companion_cpu_ms,
            r.harness_cpu_ms
        );
        runs.push(r);
    }
    let peak_rss_kib = stack.companion.lock().expect("companion").peak_rss_kib();
    StoreLoad {
        store,
        runs,
        peak_rss_kib,
    }
}
