//! The portal's leaky bucket, from Rust and over HTTP.

use crate::common;

use std::time::Duration;

use b24pay_sandbox::{RateLimit, Sandbox};
use common::Portal;
use serde_json::json;

#[tokio::test]
async fn leaky_bucket_refuses_the_burst_overflow_then_drains() {
    let portal = Portal::with(Sandbox::builder().rate_limit(Some(RateLimit {
        drain_per_second: 2.0,
        burst: 5,
    })))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(portal.list_pay_systems().await.status);
    }
    assert_eq!(statuses[..5], [200; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 503), "{statuses:?}");
    let refused = portal.list_pay_systems().await;
    assert_eq!(refused.error(503), "QUERY_LIMIT_EXCEEDED");
    assert_eq!(refused.description(), "Too many requests");
    assert_eq!(portal.sandbox.rate_limited_calls(), 3);
    assert_eq!(portal.sandbox.method_calls("sale.paysystem.list"), 5);
    // Two calls drain per second.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(portal.list_pay_systems().await.status, 200);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn rate_limit_over_http() {
    let portal = Portal::start().await;
    assert_eq!(
        portal.control_get("/rate-limit").await.body,
        json!({"enabled": false})
    );
    let set = portal
        .control_post("/rate-limit", json!({"enabled": true, "burst": 2}))
        .await;
    assert_eq!(
        set.body,
        json!({"enabled": true, "drain_per_second": 2.0, "burst": 2})
    );
    assert_eq!(
        portal.sandbox.rate_limit(),
        Some(RateLimit {
            drain_per_second: 2.0,
            burst: 2
        })
    );
    for expected in [200, 200, 503] {
        assert_eq!(portal.list_pay_systems().await.status, expected);
    }
    portal
        .control_post("/rate-limit", json!({"enabled": false}))
        .await;
    for _ in 0..10 {
        assert_eq!(portal.list_pay_systems().await.status, 200);
    }
    portal.sandbox.shutdown().await;
}
