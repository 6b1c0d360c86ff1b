//! The portal's request budget and several processes on one portal: background calls keep
//! their reserved share of the rate limit under a flood of customer calls, and clients that
//! share a token store (as instances share a database) refresh an expired token once between
//! them, the others reloading what the refresher saved.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::any;
use axum::Router;
use bitrix24_client::{
    Auth, Client, MemoryTokenStore, OAuthTokens, Priority, RateLimit, Retry, RetryConfig,
};
use serde_json::{json, Value};

async fn counting_portal() -> String {
    let app = Router::new().fallback(any(|| async { r#"{"result":[]}"# }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn budget_client(base: &str, customer_share: f64) -> Client {
    Client::builder(Auth::webhook(&format!("{base}/rest/1/budgetcode00000/")).unwrap())
        // Burst 4 at 2/s; customers may fill half of it.
        .rate_limit(Some(RateLimit {
            per_second: 2.0,
            burst: 4,
        }))
        .customer_share(customer_share)
        .retry(RetryConfig {
            max_attempts: 1,
            max_total: Duration::from_secs(30),
            ..RetryConfig::default()
        })
        .build()
        .unwrap()
}

/// How many of `customers` queued customer calls finished before one background call did.
async fn customers_before_background(client: &Client, customers: usize) -> usize {
    let done = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..customers)
        .map(|_| {
            let client = client.clone();
            let done = done.clone();
            tokio::spawn(async move {
                client
                    .call::<_, Value>("sale.paysystem.list", &json!({}), Retry::Safe)
                    .await
                    .unwrap();
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // Let the customers take their places first.
    while done.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client
        .with_priority(Priority::Background)
        .call::<_, Value>("sale.paysystem.list", &json!({}), Retry::Safe)
        .await
        .unwrap();
    let before = done.load(Ordering::SeqCst);
    for q in queued {
        q.await.unwrap();
    }
    before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_calls_keep_their_share_under_a_customer_flood() {
    let base = counting_portal().await;
    // With a reserve, the background call goes at once, while the two customers the share
    // allows are served and the other eight queue (one every 500 ms).
    let with_reserve = customers_before_background(&budget_client(&base, 0.5), 10).await;
    assert!(
        with_reserve <= 2,
        "{with_reserve} customers went before the background call"
    );
    // Without one, customers fill the whole bucket and the background call waits for it to
    // drain (queued customers still never go before it).
    let without = customers_before_background(&budget_client(&base, 1.0), 10).await;
    assert!(without >= 4, "{without}");
}

fn oauth_client(
    sandbox: &b24pay_sandbox::SandboxHandle,
    tokens: &b24pay_sandbox::OAuthTokens,
    store: Arc<MemoryTokenStore>,
) -> Client {
    let config = common::oauth_config(sandbox);
    let tokens = OAuthTokens::new(tokens.access_token.clone(), tokens.refresh_token.clone());
    Client::builder(Auth::oauth(config, tokens, store))
        .rate_limit(None)
        .retry(common::fast_retry())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_sharing_a_store_refresh_once_between_them() {
    let sandbox = common::sandbox().await;
    let installed = sandbox.issue_oauth_tokens();
    let store = Arc::new(MemoryTokenStore::new());
    // Two "processes": separate clients, each with its own copy of the installed tokens.
    let a = oauth_client(&sandbox, &installed, store.clone());
    let b = oauth_client(&sandbox, &installed, store.clone());
    for round in 1..=3u64 {
        sandbox.expire_access_tokens();
        let calls: Vec<_> = (0..20)
            .map(|i| {
                let client = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move { client.handler_list().await.map(|h| h.len()) })
            })
            .collect();
        for call in calls {
            call.await
                .unwrap()
                .expect("no call fails across the refresh");
        }
        assert_eq!(sandbox.refresh_count(), round, "one refresh per expiry");
        assert_eq!(sandbox.oauth_stats().rejected_refreshes, 0);
        assert_eq!(
            a.oauth_tokens().unwrap().access_token,
            b.oauth_tokens().unwrap().access_token,
            "both use the refreshed tokens"
        );
    }
    assert_eq!(a.token_refresh_count() + b.token_refresh_count(), 3);

    // The tokens `b` reloads from the store may have expired meanwhile (both idle for hours):
    // `b` then still refreshes them itself, and its call succeeds.
    sandbox.expire_access_tokens();
    a.handler_list().await.unwrap();
    sandbox.expire_access_tokens();
    b.handler_list()
        .await
        .expect("reloaded tokens that expired are refreshed");
    assert_eq!(sandbox.refresh_count(), 5);
    assert_eq!(sandbox.oauth_stats().rejected_refreshes, 0);
    sandbox.shutdown().await;
}
