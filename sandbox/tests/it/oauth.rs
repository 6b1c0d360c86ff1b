//! The emulated `oauth.bitrix.info/oauth/token/`: rotation, single use, expiry, counting.

use crate::common;

use common::Portal;
use serde_json::{json, Value};

fn refresh_url(portal: &Portal, refresh_token: &str) -> String {
    format!(
        "{}?grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
        portal.sandbox.oauth_token_endpoint(),
        portal.sandbox.oauth_client_id(),
        portal.sandbox.oauth_client_secret(),
        refresh_token
    )
}

#[tokio::test]
async fn refresh_rotates_tokens_and_each_refresh_token_works_once() {
    let portal = Portal::start().await;
    let first = portal.sandbox.issue_oauth_tokens();
    portal.sandbox.expire_access_tokens();
    let expired = portal
        .get(&format!(
            "{}?auth={}",
            portal.oauth("sale.paysystem.list"),
            first.access_token
        ))
        .await;
    assert_eq!(expired.error(401), "expired_token");

    let refreshed = portal
        .get(&refresh_url(&portal, &first.refresh_token))
        .await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let body = &refreshed.body;
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(access, first.access_token);
    assert_ne!(refresh, first.refresh_token);
    assert_eq!(access.len(), 32);
    assert_eq!(body["expires_in"], json!(3600));
    assert!(body["expires"].is_i64());
    assert_eq!(
        body["client_endpoint"],
        json!(portal.sandbox.rest_url()),
        "where to send REST calls"
    );
    assert!(body["member_id"].is_string());
    assert_eq!(body["user_id"], json!(1));

    // The new access token works; the old refresh token does not any more.
    let ok = portal.list_with_token(&access).await;
    assert_eq!(ok.result(), &json!([]));
    let reused = portal
        .get(&refresh_url(&portal, &first.refresh_token))
        .await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.body["error"], json!("invalid_grant"));
    // The rotated one does.
    assert_eq!(
        portal.get(&refresh_url(&portal, &refresh)).await.status,
        200
    );

    assert_eq!(portal.sandbox.refresh_count(), 2);
    assert_eq!(portal.sandbox.oauth_stats().rejected_refreshes, 1);
    let stats = portal.control_get("/oauth").await;
    assert_eq!(stats.body, json!({"refreshes": 2, "rejected_refreshes": 1}));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn wrong_client_or_grant_is_refused() {
    let portal = Portal::start().await;
    let tokens = portal.sandbox.issue_oauth_tokens();
    let wrong_secret = portal
        .get(&format!(
            "{}?grant_type=refresh_token&client_id={}&client_secret=nope&refresh_token={}",
            portal.sandbox.oauth_token_endpoint(),
            portal.sandbox.oauth_client_id(),
            tokens.refresh_token
        ))
        .await;
    assert_eq!(wrong_secret.status, 401);
    assert_eq!(wrong_secret.body["error"], json!("invalid_client"));
    let wrong_grant = portal
        .get(&format!(
            "{}?grant_type=password",
            portal.sandbox.oauth_token_endpoint()
        ))
        .await;
    assert_eq!(wrong_grant.status, 400);
    // Neither used up the refresh token.
    assert_eq!(
        portal
            .get(&refresh_url(&portal, &tokens.refresh_token))
            .await
            .status,
        200
    );
    assert_eq!(portal.sandbox.refresh_count(), 1);
    portal.sandbox.shutdown().await;
}

/// Concurrent refreshes with one refresh token: exactly one wins.
#[tokio::test]
async fn concurrent_refreshes_with_one_token_succeed_once() {
    let portal = Portal::start().await;
    let tokens = portal.sandbox.issue_oauth_tokens();
    let url = refresh_url(&portal, &tokens.refresh_token);
    let calls = (0..8).map(|_| {
        let http = portal.http.clone();
        let url = url.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    });
    let statuses: Vec<u16> = futures_join_all(calls).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(portal.sandbox.refresh_count(), 1);
    assert_eq!(portal.sandbox.oauth_stats().rejected_refreshes, 7);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn tokens_over_http() {
    let portal = Portal::start().await;
    let issued = portal.control_post("/oauth/tokens", json!({})).await;
    let access = issued.body["access_token"].as_str().unwrap().to_string();
    let ok = portal.list_with_token(&access).await;
    assert_eq!(ok.result(), &json!([]));
    let expired = portal.control_post("/oauth/expire", Value::Null).await;
    assert_eq!(expired.body, json!({"expired": true}));
    let reply = portal.list_with_token(&access).await;
    assert_eq!(reply.error(401), "expired_token");
    portal.sandbox.shutdown().await;
}

async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
