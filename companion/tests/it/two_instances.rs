//! Two `b24pay serve` processes (the real binary) on one PostgreSQL, both an OAuth app of one
//! portal. The sandbox expires every access token while customers pay through both: no
//! customer request fails, and the sandbox sees exactly one refresh per expiry and no reused
//! (spent) refresh token — the instances coordinate through the database, and the one that
//! loses the race uses the tokens the other stored. Skipped without PostgreSQL.

use crate::common::*;
use b24pay_companion::store::StoreLocation;
use b24pay_sandbox::{NewPayment, Sandbox, SandboxHandle};
use std::time::{Duration, Instant};

fn spawn(sandbox: &SandboxHandle, dist: &std::path::Path, database: &str) -> ServeProcess {
    let installed = sandbox_tokens(sandbox);
    let mut cmd = serve_command(dist, &StoreLocation::Url(database.into()));
    cmd.env("B24PAY_LISTEN", "127.0.0.1:0")
        .env("B24PAY_OAUTH_PORTAL_URL", sandbox.base_url())
        .env("B24PAY_OAUTH_CLIENT_ID", sandbox.oauth_client_id())
        .env("B24PAY_OAUTH_CLIENT_SECRET", sandbox.oauth_client_secret())
        .env("B24PAY_OAUTH_ACCESS_TOKEN", &installed.0)
        .env("B24PAY_OAUTH_REFRESH_TOKEN", &installed.1)
        .env(
            "B24PAY_OAUTH_TOKEN_ENDPOINT",
            sandbox.oauth_token_endpoint(),
        )
        .env("B24PAY_ALLOWED_ORIGINS", sandbox.base_url());
    ServeProcess::start(&mut cmd)
}

/// The app's tokens as installed (the same for both instances: they share one app).
fn sandbox_tokens(sandbox: &SandboxHandle) -> (String, String) {
    static INSTALLED: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let t = sandbox.issue_oauth_tokens();
            (t.access_token, t.refresh_token)
        })
        .clone()
}

/// One customer paying through `instance`, from an address of its own (127.1.0.0/16, all of
/// it loopback): the per-client limits see separate customers, as in life.
async fn pay(instance: &str, sandbox: &SandboxHandle, ps: u64) -> u64 {
    let id = sandbox
        .create_payment(NewPayment::order("25", "EUR").with_pay_system(ps))
        .unwrap()
        .payment_id;
    let [_, _, hi, lo] = (id as u32).to_be_bytes();
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 1, hi, lo.max(1)]))
        .build()
        .unwrap();
    let body = confirm_body(id, ps, "25", "EUR", APPROVED);
    let (status, v) = confirm_at(&http, instance, &key(), &body, Duration::from_secs(30)).await;
    assert_eq!(status, 200, "payment {id} through {instance}: {v}");
    assert_eq!(
        v["state"], "succeeded",
        "payment {id} through {instance}: {v}"
    );
    id
}

async fn wait_paid(sandbox: &SandboxHandle, ids: &[u64]) {
    let started = Instant::now();
    for id in ids {
        while !sandbox.payment(*id).unwrap().paid {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "payment {id} not marked paid"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(sandbox.pay_calls(*id), 1, "payment {id} marked paid once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_refresh_per_expiry() {
    if pg_url().is_none() {
        return;
    }
    let sandbox = Sandbox::builder().start().await.unwrap();
    let ps = register_order_paysystem(&sandbox, None).await;
    let dir = tempfile::tempdir().unwrap();
    let dist = fake_dist(dir.path());
    let database = fresh_pg_database().await;
    let a = spawn(&sandbox, &dist, &database);
    let b = spawn(&sandbox, &dist, &database);
    // Tokens are fresh: no refresh.
    let ids = vec![
        pay(&a.base, &sandbox, ps).await,
        pay(&b.base, &sandbox, ps).await,
    ];
    wait_paid(&sandbox, &ids).await;
    assert_eq!(sandbox.refresh_count(), 0);

    for round in 1..=3u64 {
        sandbox.expire_access_tokens();
        // Eight customers at once, half through each instance.
        let payments: Vec<_> = (0..8)
            .map(|i| {
                let sandbox = sandbox.clone();
                let base = if i % 2 == 0 {
                    a.base.clone()
                } else {
                    b.base.clone()
                };
                tokio::spawn(async move { pay(&base, &sandbox, ps).await })
            })
            .collect();
        let mut ids = Vec::new();
        for p in payments {
            ids.push(p.await.expect("no customer request fails"));
        }
        wait_paid(&sandbox, &ids).await;
        let stats = sandbox.oauth_stats();
        eprintln!(
            "round {round}: {} refreshes in all, {} refused",
            stats.refreshes, stats.rejected_refreshes
        );
        assert_eq!(
            stats.refreshes, round,
            "one refresh per expiry, for both instances"
        );
        assert_eq!(stats.rejected_refreshes, 0, "no spent refresh token reused");
    }

    // A restarted instance starts from the stored (rotated, encrypted) tokens, not the spent
    // configured ones.
    drop(b);
    let b = spawn(&sandbox, &dist, &database);
    sandbox.expire_access_tokens();
    let ids = vec![
        pay(&b.base, &sandbox, ps).await,
        pay(&a.base, &sandbox, ps).await,
    ];
    wait_paid(&sandbox, &ids).await;
    assert_eq!(sandbox.refresh_count(), 4);
    assert_eq!(sandbox.oauth_stats().rejected_refreshes, 0);
    drop((a, b));
    sandbox.shutdown().await;
}
