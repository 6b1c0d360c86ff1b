//! The client-side leaky bucket against the portal's: it keeps the portal from refusing, the
//! portal's refusals are retried without it, and its waits count toward a call's time budget.

use crate::common;

use std::time::{Duration, Instant};

use bitrix24_client::{Error, RateLimit, RetryClass, RetryConfig};

const LIST: &str = "sale.paysystem.handler.list";

#[tokio::test]
async fn client_bucket_keeps_the_portal_from_refusing() {
    let sandbox = common::sandbox().await;
    sandbox.set_rate_limit(Some(b24pay_sandbox::RateLimit {
        drain_per_second: 20.0,
        burst: 5,
    }));
    // Slightly stricter than the portal, as a client should be.
    let client = common::webhook_client_with(&sandbox, |b| {
        b.rate_limit(Some(RateLimit {
            per_second: 16.0,
            burst: 4,
        }))
        .retry(RetryConfig::none())
    });
    let started = Instant::now();
    common::handler_lists_at_once(&client, 20).await;
    let elapsed = started.elapsed();
    assert_eq!(sandbox.rate_limited_calls(), 0);
    // 4 at once, then 16 more at 16/s.
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(3500),
        "{elapsed:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn portal_refusals_are_retried_without_a_client_bucket() {
    let sandbox = common::sandbox().await;
    sandbox.set_rate_limit(Some(b24pay_sandbox::RateLimit {
        drain_per_second: 20.0,
        burst: 3,
    }));
    let client = common::webhook_client_with(&sandbox, |b| {
        b.rate_limit(None).retry(RetryConfig {
            max_attempts: 20,
            ..common::fast_retry()
        })
    });
    common::handler_lists_at_once(&client, 10).await;
    assert!(sandbox.rate_limited_calls() > 0);
    assert_eq!(sandbox.method_calls(LIST), 10);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn client_bucket_waits_count_toward_max_total() {
    let sandbox = common::sandbox().await;
    let client = common::webhook_client_with(&sandbox, |b| {
        b.rate_limit(Some(RateLimit {
            per_second: 1.0,
            burst: 1,
        }))
        .retry(RetryConfig {
            max_total: Duration::from_millis(500),
            ..common::fast_retry()
        })
    });
    client.handler_list().await.unwrap();
    let started = Instant::now();
    let err = client.handler_list().await.unwrap_err();
    assert!(
        matches!(err, Error::Throttled { wait, .. } if wait > Duration::from_millis(500)),
        "{err:?}"
    );
    assert_eq!(err.code(), "CLIENT_THROTTLED");
    assert_eq!(err.retry_class(), RetryClass::NotExecuted);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "refused at once, not after waiting"
    );
    assert_eq!(sandbox.method_calls(LIST), 1, "nothing was sent");
    sandbox.shutdown().await;
}
