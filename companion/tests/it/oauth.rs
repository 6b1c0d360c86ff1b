//! OAuth instead of a webhook: an expired access token is refreshed through the token endpoint,
//! the new (single-use) refresh token is persisted in the companion's store, and a restarted
//! companion uses the stored tokens rather than the configured, already-spent ones.

use crate::common::*;
use b24pay_companion::Server;
use b24pay_sandbox::{NewPayment, Sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshed_tokens_survive_a_restart() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let ps = register_order_paysystem(&sandbox, None).await;
    let installed = sandbox.issue_oauth_tokens();
    let dir = tempfile::tempdir().unwrap();
    let file = oauth_file_config(
        &sandbox,
        dir.path().join("data"),
        fake_dist(dir.path()),
        Some(installed.access_token.clone()),
        installed.refresh_token.clone(),
    );
    let pay = |server: &Server| {
        let id = sandbox
            .create_payment(NewPayment::order("10", "USD").with_pay_system(ps))
            .unwrap()
            .payment_id;
        let base = server.url();
        async move {
            let body = confirm_body(id, ps, "10", "USD", APPROVED);
            let r = confirm_request(&reqwest::Client::new(), &base, &key(), &body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            id
        }
    };
    let wait_paid = |id: u64| {
        let sandbox = &sandbox;
        async move {
            for _ in 0..500 {
                if sandbox.payment(id).unwrap().paid {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!("payment {id} not paid");
        }
    };

    let server = Server::start(file.clone().validate().unwrap())
        .await
        .unwrap();
    wait_paid(pay(&server).await).await;
    assert_eq!(sandbox.refresh_count(), 0);
    sandbox.expire_access_tokens();
    wait_paid(pay(&server).await).await;
    assert_eq!(
        sandbox.refresh_count(),
        1,
        "one refresh for the expired token"
    );
    let stored = server
        .services
        .store
        .meta_get("oauth_tokens")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored.contains(&installed.refresh_token),
        "the spent refresh token was replaced"
    );
    server.stop().await;

    // The configured refresh token is spent; only the stored one works now.
    let server = Server::start(file.validate().unwrap()).await.unwrap();
    sandbox.expire_access_tokens();
    wait_paid(pay(&server).await).await;
    assert_eq!(sandbox.refresh_count(), 2);
    assert_eq!(sandbox.oauth_stats().rejected_refreshes, 0);
    server.stop().await;
    sandbox.shutdown().await;
}
