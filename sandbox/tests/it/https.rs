//! HTTPS: a local CA and server certificate made on first start, trusted through the CA file.

use crate::common;
use b24pay_sandbox::Sandbox;
use serde_json::{json, Value};

fn trusting(ca_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn serves_https_with_a_local_ca_that_clients_trust() {
    let (_dir, sandbox) = common::https_sandbox().await;
    assert!(sandbox.base_url().starts_with("https://127.0.0.1:"));
    assert!(sandbox.webhook_url().starts_with("https://"));
    let ca_file = sandbox.ca_certificate().expect("a CA file");
    let ca = std::fs::read(&ca_file).unwrap();
    assert!(String::from_utf8_lossy(&ca).contains("BEGIN CERTIFICATE"));

    let client = trusting(&ca);
    let reply: Value = client
        .post(format!("{}batch", sandbox.webhook_url()))
        .json(&json!({"cmd": {"list": "sale.paysystem.list"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["result"]["result"]["list"], json!([]));
    // `localhost` is covered too.
    let localhost = sandbox.base_url().replace("127.0.0.1", "localhost");
    let page = client
        .get(format!("{localhost}/pay/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    // A client that does not trust the CA is refused.
    let untrusted = reqwest::Client::new()
        .get(format!("{}/admin", sandbox.base_url()))
        .send()
        .await;
    assert!(untrusted.is_err(), "{untrusted:?}");
    // Plain HTTP on the HTTPS port gets no answer.
    let plain = reqwest::Client::new()
        .get(sandbox.base_url().replace("https://", "http://"))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_ca_is_kept_across_restarts_and_the_default_stays_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    let first = Sandbox::builder().https(&tls).start().await.unwrap();
    let ca = std::fs::read(first.ca_certificate().unwrap()).unwrap();
    first.shutdown().await;
    // The same CA signs the next start's certificate: clients trusting it keep working.
    let second = Sandbox::builder()
        .https(&tls)
        .public_url("https://portal.localhost:1/")
        .start()
        .await
        .unwrap();
    assert_eq!(std::fs::read(second.ca_certificate().unwrap()).unwrap(), ca);
    let names = std::fs::read_to_string(tls.join("server-names.txt")).unwrap();
    assert!(names.contains("portal.localhost"), "{names}");
    let reply = trusting(&ca)
        .get(format!(
            "https://{}/rest/1/sandboxwebhookcode0000/sale.paysystem.list",
            second.local_addr()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    second.shutdown().await;

    let plain = Sandbox::builder().start().await.unwrap();
    assert!(plain.base_url().starts_with("http://"));
    assert_eq!(plain.ca_certificate(), None);
    plain.shutdown().await;
}
