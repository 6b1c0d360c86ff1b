//! With a data file, the state survives a restart.

use crate::common;

use std::path::PathBuf;

use b24pay_sandbox::{NewPayment, Sandbox};
use common::Portal;
use serde_json::json;

fn temp_file(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("b24pay-sandbox-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("portal.json");
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test]
async fn state_survives_a_restart() {
    let path = temp_file("restart");
    let portal = Portal::with(Sandbox::builder().data_file(&path)).await;
    assert!(path.exists(), "written at start");
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let created = portal
        .sandbox
        .create_payment(NewPayment::order("77.70", "USD").with_pay_system(ps))
        .unwrap();
    portal
        .call(
            "sale.paysystem.pay.payment",
            json!({"PAYMENT_ID": created.payment_id, "PAY_SYSTEM_ID": ps, "PS_INVOICE_ID": "kept"}),
        )
        .await
        .result();
    let tokens = portal.sandbox.issue_oauth_tokens();
    let before = portal.sandbox.payments();
    portal.sandbox.shutdown().await;

    let portal = Portal::with(Sandbox::builder().data_file(&path)).await;
    assert_eq!(portal.sandbox.payments(), before);
    let paid = portal.sandbox.payment(created.payment_id).unwrap();
    assert!(paid.paid);
    assert_eq!(paid.ps.invoice_id.as_deref(), Some("kept"));
    assert_eq!(paid.pay_calls, 1);
    let handlers = portal.call("sale.paysystem.handler.list", json!({})).await;
    assert_eq!(handlers.result()[0]["CODE"], json!("b24pay"));
    let settings = portal
        .call(
            "sale.paysystem.settings.payment.get",
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    assert_eq!(settings.result()["B24PAY_SHOP_ID"], json!("shop-42"));
    // Issued tokens stay valid across the restart.
    let oauth = portal
        .get(&format!(
            "{}?auth={}",
            portal.oauth("sale.paysystem.list"),
            tokens.access_token
        ))
        .await;
    assert_eq!(oauth.result().as_array().unwrap().len(), 1);
    // New ids continue after the old ones.
    let next = portal
        .sandbox
        .create_payment(NewPayment::order("1", "USD"))
        .unwrap();
    assert_eq!(next.payment_id, created.payment_id + 1);
    portal.sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test]
async fn without_a_data_file_every_start_is_fresh() {
    let first = Portal::start().await;
    first
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    first.sandbox.shutdown().await;
    let second = Portal::start().await;
    let list = second.call("sale.paysystem.handler.list", json!({})).await;
    assert_eq!(list.result(), &json!([]));
    assert_eq!(second.sandbox.payments().len(), 7);
    second.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_data_file_is_reported() {
    let path = temp_file("corrupt");
    std::fs::write(&path, "{not json").unwrap();
    let error = Sandbox::builder()
        .data_file(&path)
        .start()
        .await
        .expect_err("refuses to start");
    assert!(
        error.to_string().contains("not a sandbox data file"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
