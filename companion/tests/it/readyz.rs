//! `/readyz` costs the portal at most one call per `readyz_interval`, whether the portal
//! answers or fails, however many clients ask and however concurrently (counted at the
//! sandbox); and `admin_listen` moves `/readyz` and `/metrics` off the public listener.

use crate::common::*;
use b24pay_sandbox::Fault;
use std::time::{Duration, Instant};

const LIST: &str = "sale.paysystem.list";

async fn env_with_interval(ms: u64) -> Env {
    let mut env = Env::start(StoreKind::Sqlite).await;
    env.stop_server().await;
    env.file_config.limits.readyz_interval_ms = Some(ms);
    env.start_server().await;
    env
}

/// `rounds` waves of `concurrent` simultaneous `/readyz` requests, `pause` apart; the statuses
/// seen and how long it took.
async fn flood(
    env: &Env,
    rounds: usize,
    concurrent: usize,
    pause: Duration,
) -> (Vec<u16>, Duration) {
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..rounds {
        let wave: Vec<_> = (0..concurrent)
            .map(|_| {
                let http = env.http.clone();
                let url = format!("{}/readyz", env.base);
                tokio::spawn(async move { http.get(url).send().await.unwrap().status().as_u16() })
            })
            .collect();
        for r in wave {
            statuses.push(r.await.unwrap());
        }
        tokio::time::sleep(pause).await;
    }
    (statuses, started.elapsed())
}

/// Portal calls the failing `/readyz` checks made: the fault's count consumed so far.
async fn faults_consumed(env: &Env, injected: u64) -> u64 {
    let pending: serde_json::Value = get_json(
        &env.http,
        format!("{}/sandbox/api/faults", env.sandbox.base_url()),
    )
    .await;
    let remaining = pending["pending"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|f| f["remaining"].as_u64())
        .unwrap_or(0);
    injected - remaining
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_readyz_flood_costs_one_portal_call_per_interval() {
    let env = env_with_interval(1000).await;

    // The portal fails (blocked by its operating limit, so the client does not retry): the
    // failure is cached too, and 1,000 requests (20 waves of 50) cost one call per second.
    let injected = 100_000;
    env.sandbox.inject_for(
        Fault::OperationTimeLimit {
            reset_after: Duration::from_secs(600),
        },
        injected as u32,
        [LIST],
    );
    let (statuses, took) = flood(&env, 20, 50, Duration::from_millis(100)).await;
    let spent = faults_consumed(&env, injected).await;
    let intervals = took.as_millis() as u64 / 1000 + 1;
    eprintln!(
        "readyz flood, portal failing: {} requests in {took:?} cost {spent} portal calls",
        statuses.len()
    );
    assert!(statuses.iter().all(|s| *s == 503), "{statuses:?}");
    assert!(
        spent >= 1 && spent <= intervals,
        "{spent} calls in {intervals} intervals"
    );
    let body: serde_json::Value = get_json(&env.http, format!("{}/readyz", env.base)).await;
    assert_eq!(
        body["portal"], "unavailable: OPERATION_TIME_LIMIT",
        "{body}"
    );
    assert_eq!(body["store"], "ok");

    // The portal answers again: within an interval /readyz says so, and the same flood costs
    // at most one call per interval.
    env.sandbox.clear_faults();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let calls = env.sandbox.method_calls(LIST);
    let (statuses, took) = flood(&env, 20, 50, Duration::from_millis(100)).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let spent = env.sandbox.method_calls(LIST) - calls;
    let intervals = took.as_millis() as u64 / 1000 + 1;
    eprintln!(
        "readyz flood, portal up: {} requests in {took:?} cost {spent} portal calls",
        statuses.len()
    );
    assert!(
        spent >= 1 && spent <= intervals,
        "{spent} calls in {intervals} intervals"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_takes_readyz_and_metrics() {
    let mut env = Env::start(StoreKind::Sqlite).await;
    env.stop_server().await;
    env.file_config.admin_listen = Some("127.0.0.1:0".into());
    env.start_server().await;
    let admin = env.server().admin_url().expect("an admin listener");
    assert_ne!(admin, env.base);
    for path in ["/readyz", "/metrics", "/healthz"] {
        let r = env.http.get(format!("{admin}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "admin {path}");
    }
    for path in ["/readyz", "/metrics"] {
        let r = env
            .http
            .get(format!("{}{path}", env.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "public {path}");
    }
    // Load balancers still find /healthz on the public listener, and the API is there.
    let r = env
        .http
        .get(format!("{}/healthz", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = env.order("10", "USD");
    let (status, v) = env.pay_order(id, "10", "USD", APPROVED).await;
    assert_eq!(status, 200, "{v}");
    // The admin listener's metrics count the public listener's requests.
    let text = env
        .http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("route=\"/api/v1/payments\""), "{text}");
    env.stop().await;
}
