//! Idempotency against the sandbox portal over HTTP: a replayed request answers the same
//! attempt and a reused key with another body is refused, fifty concurrent confirms (one key or
//! fifty) charge once, and the stored fingerprint holds no card data. Each scenario runs with
//! SQLite and with PostgreSQL.

use crate::common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const PAID_WITHIN: Duration = Duration::from_secs(10);

async fn replay_and_key_reuse(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    let k = key();
    let body = env.body(id, env.ps_order, "3000", "RUB", APPROVED);
    let (s1, first) = env.confirm(&k, &body).await;
    let (s2, second) = env.confirm(&k, &body).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first["id"], second["id"], "the same attempt answers");
    assert_eq!(second["state"], "succeeded");
    // The same key with another body (another card) is refused, nothing charged.
    let other = env.body(id, env.ps_order, "3000", "RUB", "5555555555554444");
    assert_error(
        &env.confirm(&k, &other).await,
        409,
        "idempotency_key_reused",
    );
    // A declined result replays too.
    let id2 = env.order("3000", "RUB");
    let k2 = key();
    let body2 = env.body(id2, env.ps_order, "3000", "RUB", DECLINED);
    let (_, d1) = env.confirm(&k2, &body2).await;
    let (_, d2) = env.confirm(&k2, &body2).await;
    assert_eq!(d1, d2);
    env.wait_paid(id, PAID_WITHIN).await;
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    assert_eq!(env.payment(id).pay_calls, 1);
    env.stop().await;
}

async fn concurrent_confirms(kind: StoreKind) {
    let env = Arc::new(Env::start(kind).await);
    // 50 identical requests (a double click times fifty) and 50 with different keys.
    for same_key in [true, false] {
        let id = env.order("3000", "RUB");
        let k = key();
        let body = env.body(id, env.ps_order, "3000", "RUB", APPROVED);
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let env = env.clone();
            let key = if same_key { k.clone() } else { key() };
            let body = body.clone();
            tasks.push(tokio::spawn(async move { env.confirm(&key, &body).await }));
        }
        let mut ok = 0;
        let mut ids = std::collections::HashSet::new();
        for t in tasks {
            let (status, v): (u16, Value) = t.await.unwrap();
            match status {
                200 => {
                    assert_eq!(v["state"], "succeeded", "{v}");
                    ids.insert(v["id"].as_str().unwrap().to_string());
                    ok += 1;
                }
                409 => {
                    let code = v["error"]["code"].as_str().unwrap();
                    assert!(
                        matches!(code, "payment_in_progress" | "already_paid"),
                        "{v}"
                    );
                    assert!(
                        !same_key,
                        "a duplicate of the same request waits for its result"
                    );
                }
                other => panic!("unexpected {other}: {v}"),
            }
        }
        assert!(ok >= 1);
        assert_eq!(ids.len(), 1, "one attempt succeeded");
        let paid = env.wait_paid(id, PAID_WITHIN).await;
        // Give stray duplicates a moment to misbehave, if they would.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            env.charges(env.ps_order, id).await,
            1,
            "same_key={same_key}"
        );
        assert_eq!(env.payment(id).pay_calls, 1, "same_key={same_key}");
        assert_eq!(paid.pay_calls, 1);
    }
    Arc::try_unwrap(env).ok().unwrap().stop().await;
}

/// The stored fingerprint of a request covers neither the CVC nor the card number: a retry
/// that differs only in the CVC is the same request; another card with the same last four digits
/// is not (a keyed hash of the number tells them apart).
async fn fingerprints_hold_no_card_data(kind: StoreKind) {
    let env = Env::start(kind).await;
    let id = env.order("3000", "RUB");
    let k = key();
    let body = env.body(id, env.ps_order, "3000", "RUB", APPROVED);
    let (_, first) = env.confirm(&k, &body).await;
    assert_eq!(first["state"], "succeeded");
    let mut other_cvc = body.clone();
    other_cvc["card"]["cvc"] = json!("987");
    let (status, again) = env.confirm(&k, &other_cvc).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]), "{again}");
    let mut same_last4 = body.clone();
    same_last4["card"]["number"] = json!("4111111111174242");
    assert_error(
        &env.confirm(&k, &same_last4).await,
        409,
        "idempotency_key_reused",
    );
    assert_eq!(env.charges(env.ps_order, id).await, 1);
    env.stop().await;
}

both_stores!(
    replay_and_key_reuse,
    concurrent_confirms,
    fingerprints_hold_no_card_data,
);
