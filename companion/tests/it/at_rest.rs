//! Nothing readable at rest: the data directory is private, its generated master key is
//! mode 0600, OAuth tokens are stored encrypted (ones stored in clear by an older version are
//! read and re-written encrypted), another master key cannot read them, and `check-config`
//! never prints the database password or the master key.

use crate::common::*;
use b24pay_companion::config::{FileSecurity, Secret};
use b24pay_companion::keys::KEY_FILE;
use b24pay_companion::portal::tokens::TOKENS_KEY;
use b24pay_companion::store::{self, StoreLocation};
use b24pay_companion::Server;
use b24pay_sandbox::{NewPayment, Sandbox};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_tokens_are_encrypted_at_rest() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let ps = register_order_paysystem(&sandbox, None).await;
    let installed = sandbox.issue_oauth_tokens();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // An older version left the tokens in clear.
    {
        let old = store::open(&StoreLocation::DataDir(data.clone()))
            .await
            .unwrap();
        let clear = serde_json::json!({"access_token": installed.access_token,
            "refresh_token": installed.refresh_token, "expires_at": null});
        old.meta_put(TOKENS_KEY, &clear.to_string()).await.unwrap();
    }
    // The configured refresh token is not what is used: the stored tokens are newer.
    let mut file = oauth_file_config(
        &sandbox,
        data.clone(),
        fake_dist(dir.path()),
        None,
        "configured-but-stale".into(),
    );
    let server = Server::start(file.clone().validate().unwrap())
        .await
        .unwrap();
    #[cfg(unix)]
    {
        assert_eq!(mode(&data), 0o700, "the data directory is private");
        assert_eq!(mode(&data.join(KEY_FILE)), 0o600, "the key file is private");
    }
    let raw = |s: &Server| {
        let store = s.services.store.clone();
        async move { store.meta_get(TOKENS_KEY).await.unwrap().unwrap() }
    };
    let row = raw(&server).await;
    assert!(row.starts_with("v1:"), "re-written encrypted: {row}");
    assert!(!row.contains(&installed.refresh_token) && !row.contains(&installed.access_token));

    // The stored tokens work, and a refresh stores the new ones encrypted.
    sandbox.expire_access_tokens();
    let id = sandbox
        .create_payment(NewPayment::order("10", "USD").with_pay_system(ps))
        .unwrap()
        .payment_id;
    let (status, v) = confirm(&server, id, ps).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(sandbox.refresh_count(), 1);
    let row = raw(&server).await;
    assert!(row.starts_with("v1:") && !row.contains("token"), "{row}");
    server.stop().await;

    // Another master key cannot read them: the start fails and says why.
    file.security = FileSecurity {
        master_key: Some(Secret::new(TEST_MASTER_KEY)),
    };
    let err = match Server::start(file.validate().unwrap()).await {
        Ok(_) => panic!("started with the wrong master key"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("master key"), "{err}");
    assert!(!err.contains(TEST_MASTER_KEY));
    sandbox.shutdown().await;
}

async fn confirm(server: &Server, id: u64, ps: u64) -> (u16, serde_json::Value) {
    let body = confirm_body(id, ps, "10", "USD", APPROVED);
    let r = confirm_request(&reqwest::Client::new(), &server.url(), &key(), &body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

fn check_config(env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_b24pay"));
    cmd.arg("check-config").env_clear().env(
        "B24PAY_WEBHOOK_URL",
        "https://shop.bitrix24.ru/rest/1/s3cr3tc0de/",
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_never_prints_the_database_password_or_the_master_key() {
    let url =
        "postgres://b24pay:hunter2pw@db.internal:5432/b24pay?sslmode=require&password=hunter3pw";
    let (ok, out, err) = check_config(&[
        ("DATABASE_URL", url),
        ("B24PAY_MASTER_KEY", TEST_MASTER_KEY),
    ]);
    assert!(ok, "{err}");
    for secret in ["hunter2pw", "hunter3pw", TEST_MASTER_KEY, "s3cr3tc0de"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} in {out}{err}"
        );
    }
    assert!(out.contains("db.internal"), "{out}");

    // PostgreSQL without a master key: refused, with the reason and still no password.
    let (ok, out, err) = check_config(&[("DATABASE_URL", url)]);
    assert!(!ok);
    assert!(err.contains("master_key"), "{err}");
    assert!(!out.contains("hunter2pw") && !err.contains("hunter2pw"));
}
