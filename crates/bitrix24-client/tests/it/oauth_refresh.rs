//! OAuth token refresh: one refresh for any number of concurrent calls (refresh tokens are
//! single use), rotated tokens handed to the store, and stored tokens usable after a restart.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bitrix24_client::{
    Auth, BoxError, BoxFuture, Client, MemoryTokenStore, OAuthTokens, TokenStore,
};
use common::Style;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_with_an_expired_token_share_one_refresh() {
    let sandbox = common::sandbox().await;
    let (builder, store) = common::builder(&sandbox, Style::OAuth);
    let store = store.unwrap();
    let client = builder.build().unwrap();
    let (_, ps) = common::setup_order_paysystem(&client).await;
    let before = client.oauth_tokens().unwrap();

    sandbox.expire_access_tokens();
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    client.handler_list().await.map(|h| h.len())
                } else {
                    client.settings_get(ps, 1).await.map(|s| s.len())
                }
            })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().unwrap() > 0);
    }

    assert_eq!(sandbox.refresh_count(), 1, "exactly one refresh");
    assert_eq!(
        sandbox.oauth_stats().rejected_refreshes,
        0,
        "no spent refresh token was reused"
    );
    assert_eq!(client.token_refresh_count(), 1);
    assert_eq!(store.save_count(), 1);
    let after = client.oauth_tokens().unwrap();
    assert_eq!(
        store.latest().unwrap(),
        after,
        "the store has the tokens in use"
    );
    assert_ne!(after.access_token, before.access_token);
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "refresh tokens rotate"
    );
    assert_eq!(
        after.member_id.as_deref(),
        Some("5a4d62b9c0de4f3a8e1b24a7d5c0ffee")
    );
    assert_eq!(
        after.client_endpoint.as_deref(),
        Some(sandbox.rest_url().as_str())
    );
    assert!(after.expires_at.unwrap() > 0);

    // The rotated refresh token works for the next expiry.
    sandbox.expire_access_tokens();
    client.handler_list().await.unwrap();
    assert_eq!(sandbox.refresh_count(), 2);
    assert_eq!(store.save_count(), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn stored_tokens_survive_a_restart() {
    let sandbox = common::sandbox().await;
    let (builder, store) = common::builder(&sandbox, Style::OAuth);
    let store = store.unwrap();
    let first = builder.build().unwrap();
    sandbox.expire_access_tokens();
    first.handler_list().await.unwrap();
    drop(first);

    // A new process starts from what the store holds.
    let saved = store.latest().unwrap();
    let config = common::oauth_config(&sandbox);
    let store2 = Arc::new(MemoryTokenStore::new());
    let second = Client::builder(Auth::oauth(config, saved, store2.clone()))
        .rate_limit(None)
        .build()
        .unwrap();
    second.handler_list().await.unwrap();
    sandbox.expire_access_tokens();
    second.handler_list().await.unwrap();
    assert_eq!(sandbox.refresh_count(), 2);
    assert_eq!(sandbox.oauth_stats().rejected_refreshes, 0);
    assert_eq!(store2.save_count(), 1);
    sandbox.shutdown().await;
}

/// A store that is slow and fails: the refresh still counts once and calls still succeed.
struct FlakyStore {
    saves: AtomicUsize,
}

impl TokenStore for FlakyStore {
    fn save<'a>(&'a self, _tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.saves.fetch_add(1, Ordering::SeqCst);
            Err("database is read-only".into())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_store_does_not_fail_calls_or_cause_extra_refreshes() {
    let sandbox = common::sandbox().await;
    let store = Arc::new(FlakyStore {
        saves: AtomicUsize::new(0),
    });
    let tokens = sandbox.issue_oauth_tokens();
    let config = common::oauth_config(&sandbox);
    let auth = Auth::oauth(
        config,
        OAuthTokens::new(tokens.access_token, tokens.refresh_token),
        store.clone(),
    );
    let client = Client::builder(auth).rate_limit(None).build().unwrap();
    sandbox.expire_access_tokens();
    common::handler_lists_at_once(&client, 10).await;
    assert_eq!(sandbox.refresh_count(), 1);
    assert_eq!(store.saves.load(Ordering::SeqCst), 1);
    sandbox.shutdown().await;
}
