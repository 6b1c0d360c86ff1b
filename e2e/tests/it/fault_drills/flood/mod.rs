//! The flood drill: hostile requests (`hostile`) and broken HTTP (`raw`) from several
//! attackers while real customers pay.

mod hostile;
mod raw;

use super::{confirm_until_final, new_key, Final};
use b24pay_e2e::cards;
use b24pay_e2e::say;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::{pg_url, StoreKind};
use b24pay_protocol::api::{ErrorCode, IDEMPOTENCY_HEADER};
use hostile::{hostile_requests, Hostile};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REAL: usize = 24;
const ATTACKERS: usize = 4;
const ROUNDS: usize = 3;
/// The companion's body limit: above it, a closed connection is a refusal.
const BODY_LIMIT: usize = 16 * 1024;

/// What the attackers saw: every status, and every answer that broke a rule.
#[derive(Default)]
struct Findings {
    statuses: Mutex<BTreeMap<u16, usize>>,
    violations: Mutex<Vec<String>>,
}

impl Findings {
    fn count(&self, status: u16) {
        *self.statuses.lock().unwrap().entry(status).or_default() += 1;
    }

    fn violation(&self, text: String) {
        self.violations.lock().unwrap().push(text);
    }
}

async fn drill(kind: StoreKind) {
    let seed = rand::random::<u64>();
    say(format!("flood drill ({}): seed {seed}", kind.name()));
    let mut rng = StdRng::seed_from_u64(seed);
    let stack = Arc::new(Stack::start(StackOptions::new(kind)).await);
    let real: Vec<(u64, String)> = (0..REAL)
        .map(|i| {
            let sum = format!("{}.50", 100 + i);
            (stack.order(&sum, "RUB"), sum)
        })
        .collect();
    let hostile = Arc::new(hostile_requests(&stack, &real, &mut rng));
    let raw = Arc::new(raw::raw_attacks(&mut rng));
    let raw_count = raw.len();
    let findings = Arc::new(Findings::default());
    let started = Instant::now();

    let mut attackers = tokio::task::JoinSet::new();
    for attacker in 0..ATTACKERS {
        let (stack, hostile, findings) = (stack.clone(), hostile.clone(), findings.clone());
        attackers.spawn(async move { attack(&stack, &hostile, attacker, &findings).await });
    }
    let (raw_stack, raw_findings) = (stack.clone(), findings.clone());
    attackers.spawn(async move { attack_raw(&raw_stack, &raw, &raw_findings).await });
    let answers = pay_real_customers(&stack, &real, rng.random()).await;
    while let Some(r) = attackers.join_next().await {
        r.expect("attacker task");
    }
    let statuses = findings.statuses.lock().unwrap().clone();
    say(format!(
        "flood drill ({}): {} hostile requests x {} and {} raw attacks x {ROUNDS} in {:.1} s; statuses {statuses:?} (0 = connection closed on an oversized body)",
        kind.name(),
        hostile.len(),
        ATTACKERS * ROUNDS,
        raw_count,
        started.elapsed().as_secs_f64()
    ));
    check_alive(&stack).await;
    let violations = findings.violations.lock().unwrap().clone();
    assert!(
        violations.is_empty(),
        "{} bad answers:\n{}",
        violations.len(),
        violations.join("\n")
    );
    assert!(!statuses.contains_key(&500));
    check_real_payments(&stack, answers).await;
}

/// Every hostile request, `ROUNDS` times over, in an order of its own.
async fn attack(stack: &Stack, hostile: &[Hostile], attacker: usize, findings: &Findings) {
    let n = hostile.len();
    for round in 0..ROUNDS {
        for i in 0..n {
            let h = &hostile[(i * 7 + attacker * 13 + round * 5) % n];
            let mut req = stack
                .http
                .request(h.method.clone(), format!("{}{}", stack.base, h.path))
                .body(h.body.clone());
            if let Some(ct) = h.content_type {
                req = req.header("Content-Type", ct);
            }
            if let Some(k) = &h.key {
                req = req.header(IDEMPOTENCY_HEADER, k);
            }
            let (status, text) = match send_once_more_on_reset(req).await {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                // The server may close a connection on an oversized body before reading it;
                // that is a refusal, not a crash (liveness is checked).
                Err(_) if h.body.len() > BODY_LIMIT => {
                    findings.count(0);
                    continue;
                }
                Err(e) => {
                    findings.violation(format!("{}: no answer: {}", h.what, error_chain(&e)));
                    continue;
                }
            };
            findings.count(status);
            if let Some(problem) = judge(status, &text) {
                let shown = &text[..text.len().min(300)];
                findings.violation(format!("{}: {problem}: {shown}", h.what));
            }
        }
    }
}

/// What is wrong with the answer to a hostile request, if anything: a server error, an error
/// without the documented JSON code, or an acceptance.
fn judge(status: u16, text: &str) -> Option<String> {
    if status == 500 || (status >= 500 && status != 503) {
        return Some(format!("status {status}"));
    }
    if status >= 400 && !matches!(status, 414 | 431) {
        let code = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
        return match code.as_deref().and_then(ErrorCode::from_code) {
            Some(_) => None,
            None => Some(format!("status {status} without a JSON error code")),
        };
    }
    (status == 200).then(|| "accepted".to_string())
}

/// Broken HTTP on raw connections, `ROUNDS` times, with a few slow clients holding
/// connections open meanwhile.
async fn attack_raw(stack: &Stack, raw: &[(String, Vec<u8>)], findings: &Findings) {
    let addr = stack.base.trim_start_matches("http://").to_string();
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let addr = addr.clone();
            tokio::spawn(async move { raw::slow_client(&addr).await })
        })
        .collect();
    for _ in 0..ROUNDS {
        for (what, bytes) in raw {
            for status in raw::send_raw(&addr, bytes).await {
                findings.count(status);
                if status >= 500 {
                    findings.violation(format!("raw {what}: status {status}"));
                }
            }
        }
    }
    for s in slow {
        let _ = s.await;
    }
}

/// Real customers paying the real orders at the same time, four at once.
async fn pay_real_customers(
    stack: &Arc<Stack>,
    real: &[(u64, String)],
    seed: u64,
) -> Vec<(u64, Final)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut customers = tokio::task::JoinSet::new();
    for (n, chunk) in real.chunks(REAL / 4).enumerate() {
        let (stack, chunk) = (stack.clone(), chunk.to_vec());
        let mut keys = StdRng::seed_from_u64(seed ^ n as u64);
        customers.spawn(async move {
            let mut answers = Vec::new();
            for (payment_id, sum) in chunk {
                let body = stack.confirm_body(payment_id, &sum, "RUB", cards::APPROVED);
                let key = new_key(&mut keys);
                let (fin, _) = confirm_until_final(&stack, &key, &body, deadline).await;
                answers.push((payment_id, fin));
            }
            answers
        });
    }
    let mut answers = Vec::new();
    while let Some(r) = customers.join_next().await {
        answers.extend(r.expect("customer task"));
    }
    answers
}

/// The companion is still the process it was at the start, and healthy.
async fn check_alive(stack: &Stack) {
    {
        let mut companion = stack.companion.lock().unwrap();
        let log = companion.log_tail();
        assert!(companion.is_running(), "the companion died: {log}");
        assert_eq!(companion.starts(), 1);
    }
    let health = stack
        .http
        .get(format!("{}/healthz", stack.base))
        .send()
        .await
        .expect("healthz answers");
    assert_eq!(health.status().as_u16(), 200);
}

/// Every real payment succeeded, was charged once and marked paid once; nothing else was.
async fn check_real_payments(stack: &Stack, answers: Vec<(u64, Final)>) {
    assert_eq!(answers.len(), REAL);
    for (payment_id, fin) in answers {
        assert_eq!(fin.state, "succeeded", "real payment {payment_id}: {fin:?}");
        let paid = stack.wait_paid(payment_id, Duration::from_secs(30)).await;
        assert_eq!(paid.pay_calls, 1, "{paid:?}");
        assert_eq!(stack.charges(payment_id).await, 1);
    }
    let all = stack.ledger().await.all_charges().await;
    assert_eq!(all, REAL as i64, "nothing hostile was charged");
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Sends a request; when the connection it went out on turns out to be closed (a pooled
/// keep-alive connection the server had just closed, e.g. after refusing an oversized body
/// without reading it), sends it once more on a fresh connection, as any HTTP client would.
async fn send_once_more_on_reset(
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, reqwest::Error> {
    let retry = req.try_clone();
    match req.send().await {
        Ok(r) => Ok(r),
        Err(e) if e.is_request() && retry.is_some() => {
            let fresh = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client");
            let retry = retry.expect("checked").build().expect("request");
            fresh.execute(retry).await
        }
        Err(e) => Err(e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flood_drill_sqlite() {
    drill(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flood_drill_postgres() {
    if pg_url().is_some() {
        drill(StoreKind::Postgres).await;
    }
}
