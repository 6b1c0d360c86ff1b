//! Fairness when the portal's budget runs out, as the callers see it: customer calls that
//! queue for an exhausted bucket reach the portal in the order they asked (none is overtaken
//! by more than one later caller, allowing for a loaded machine), every one is served within
//! its patience instead of being refused, and a caller that gives up in the middle of the
//! queue holds up no one behind it. Orders and counts, not timings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::any;
use axum::Router;
use bitrix24_client::{Auth, Client, RateLimit, Retry, RetryConfig};
use serde_json::{json, Value};

/// A portal that records the `N` of every call, in the order the calls arrive.
async fn recording_portal() -> (String, Arc<Mutex<Vec<u64>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .fallback(any(
            |State(seen): State<Arc<Mutex<Vec<u64>>>>, body: axum::body::Bytes| async move {
                let n = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["N"].as_u64())
                    .unwrap_or(u64::MAX);
                seen.lock().unwrap().push(n);
                r#"{"result":true}"#
            },
        ))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

/// Burst 2 at 4 requests/s, all of it open to customers; callers wait up to a minute.
fn client(base: &str) -> Client {
    Client::builder(Auth::webhook(&format!("{base}/rest/1/fairnesscode0000/")).unwrap())
        .rate_limit(Some(RateLimit {
            per_second: 4.0,
            burst: 2,
        }))
        .customer_share(1.0)
        .retry(RetryConfig {
            max_attempts: 1,
            max_total: Duration::from_secs(60),
            ..RetryConfig::default()
        })
        .build()
        .unwrap()
}

async fn call(client: &Client, n: u64) -> Result<Value, bitrix24_client::Error> {
    client
        .call::<_, Value>("sale.paysystem.list", &json!({ "N": n }), Retry::Safe)
        .await
}

/// Spends the bucket's burst, so the next callers have to queue.
async fn exhaust(client: &Client) {
    for _ in 0..2 {
        call(client, 1_000).await.unwrap();
    }
}

/// Starts `callers` customer calls; each notes its place in the arrival order just before
/// asking, on one thread (the test's runtime), so the notes are the order of asking.
fn queue_callers(
    client: &Client,
    callers: u64,
) -> (Vec<tokio::task::JoinHandle<()>>, Arc<Mutex<Vec<u64>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let tasks = (0..callers)
        .map(|n| {
            let (client, asked) = (client.clone(), asked.clone());
            tokio::spawn(async move {
                asked.lock().unwrap().push(n);
                call(&client, n).await.unwrap();
            })
        })
        .collect();
    (tasks, asked)
}

/// How far each caller's turn at the portal is from its place in the arrival order.
fn displacement(asked: &[u64], served: &[u64]) -> usize {
    asked
        .iter()
        .enumerate()
        .map(|(place, n)| {
            let turn = served
                .iter()
                .position(|s| s == n)
                .expect("every caller served");
            place.abs_diff(turn)
        })
        .max()
        .unwrap_or(0)
}

/// The customers' calls the portal saw, in the order it saw them (the numbers from 1 000 up are
/// the calls that exhausted the budget).
fn customers_served(seen: &Mutex<Vec<u64>>) -> Vec<u64> {
    seen.lock()
        .unwrap()
        .iter()
        .copied()
        .filter(|n| *n < 1_000)
        .collect()
}

#[tokio::test]
async fn queued_customers_are_served_in_arrival_order() {
    let (base, seen) = recording_portal().await;
    let client = client(&base);
    exhaust(&client).await;
    let (tasks, asked) = queue_callers(&client, 12);
    for task in tasks {
        // Every one of them is served: none is refused after a blind wait.
        task.await.unwrap();
    }
    let served = customers_served(&seen);
    let asked = asked.lock().unwrap().clone();
    assert_eq!(served.len(), 12, "{served:?}");
    let off = displacement(&asked, &served);
    assert!(off <= 1, "asked {asked:?}, served {served:?}");
}

#[tokio::test]
async fn a_caller_who_gives_up_hands_its_turn_to_the_next() {
    let (base, seen) = recording_portal().await;
    let client = client(&base);
    exhaust(&client).await;
    let (mut tasks, asked) = queue_callers(&client, 8);
    // Let them all take their places, then the third in line closes its request.
    while asked.lock().unwrap().len() < 8 {
        tokio::task::yield_now().await;
    }
    let third = asked.lock().unwrap()[2] as usize;
    tasks.remove(third).abort();
    for task in tasks {
        task.await.unwrap();
    }
    let served = customers_served(&seen);
    let mut asked = asked.lock().unwrap().clone();
    asked.retain(|n| *n != third as u64);
    // The one who left never reached the portal; the others kept their order.
    assert_eq!(served.len(), 7, "{served:?}");
    assert!(
        displacement(&asked, &served) <= 1,
        "asked {asked:?}, served {served:?}"
    );
}
