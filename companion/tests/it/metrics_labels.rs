//! `/metrics` cannot be grown by clients: 300 requests with made-up HTTP methods and random
//! paths add no series (the method is GET/HEAD/POST/OTHER, the route a template or a fixed
//! fallback). Before this, the same flood added 86 KB.

use crate::common::*;
use reqwest::Method;
use std::collections::BTreeSet;

async fn metrics(env: &Env) -> String {
    env.http
        .get(format!("{}/metrics", env.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Every series in the exposition (name and labels, without the value).
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_string()))
        .collect()
}

fn random_token(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..len)
        .map(|_| CHARS[rand::random_range(0..CHARS.len())] as char)
        .collect()
}

/// One request of each shape the flood sends, with made-up `method` and path `salt`.
async fn one_of_each(env: &Env, method: &str, salt: &str) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    for path in [
        format!("/{salt}"),
        format!("/{salt}/{salt}.js"),
        format!("/api/{salt}"),
        format!("/api/v1/payments/{salt}"),
        format!("/api/v1/payments/{salt}/challenge"),
        "/api/v1/payments".to_string(),
    ] {
        for m in [method.clone(), Method::GET] {
            let r = env
                .http
                .request(m, format!("{}{path}", env.base))
                .send()
                .await
                .unwrap();
            let _ = r.bytes().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_and_random_paths_do_not_grow_metrics() {
    let env = Env::start(StoreKind::Sqlite).await;
    // Every shape once, so its series exist.
    one_of_each(&env, "WARMUP", "warmup").await;
    // (Reading /metrics is a request too: its own series exist from the second read on.)
    metrics(&env).await;
    let before = metrics(&env).await;

    // 300 requests (25 rounds of 12) with methods and paths nobody uses.
    for _ in 0..25 {
        let method = format!("X{}", random_token(12));
        one_of_each(&env, &method, &random_token(16).to_lowercase()).await;
    }
    let after = metrics(&env).await;
    eprintln!(
        "/metrics: {} bytes before the flood, {} after 300 requests ({} series before, {} after)",
        before.len(),
        after.len(),
        series(&before).len(),
        series(&after).len()
    );
    let new: Vec<_> = series(&after)
        .difference(&series(&before))
        .cloned()
        .collect();
    assert!(new.is_empty(), "new series: {new:#?}");
    // Only counter values grew (a few digits).
    assert!(
        after.len() < before.len() + 1024,
        "{} -> {}",
        before.len(),
        after.len()
    );
    assert!(after.contains("method=\"OTHER\""), "{after}");
    assert!(!after.to_ascii_lowercase().contains("warmup"));
    env.stop().await;
}
