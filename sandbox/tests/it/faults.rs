//! Injected faults that answer an error or no reply, from Rust and over HTTP: what the client
//! sees and whether the method ran. The ones whose effect differs from the reply are in
//! `faults_late_effects.rs`.

use crate::common;

use std::time::{Duration, Instant};

use b24pay_sandbox::Fault;
use common::{Portal, IMPATIENT, PAY};
use serde_json::json;

#[tokio::test]
async fn error_faults_apply_to_the_next_calls_only() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal.sandbox.inject(Fault::QueryLimitExceeded, 1);
    portal.sandbox.inject(Fault::InternalServerError, 1);
    portal.sandbox.inject(Fault::ExpiredToken, 1);
    let body = json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps});
    let first = portal.call(PAY, body.clone()).await;
    assert_eq!(first.error(503), "QUERY_LIMIT_EXCEEDED");
    let second = portal.call(PAY, body.clone()).await;
    assert_eq!(second.error(500), "INTERNAL_SERVER_ERROR");
    let third = portal.call(PAY, body.clone()).await;
    assert_eq!(third.error(401), "expired_token");
    assert_eq!(portal.sandbox.pay_calls(1), 0, "faulted calls never ran");
    assert_eq!(portal.call(PAY, body).await.result(), &json!(true));
    assert_eq!(portal.sandbox.pay_calls(1), 1);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn faults_can_target_methods() {
    let portal = Portal::start().await;
    portal
        .sandbox
        .inject_for(Fault::InternalServerError, 2, [PAY]);
    assert_eq!(portal.list_pay_systems().await.status, 200);
    assert_eq!(portal.call(PAY, json!({})).await.status, 500);
    assert_eq!(portal.call(PAY, json!({})).await.status, 500);
    assert_eq!(
        portal.call(PAY, json!({})).await.error(400),
        "ERROR_CHECK_FAILURE"
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn operation_time_limit_carries_operating_reset_at() {
    let portal = Portal::start().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    portal.sandbox.inject(
        Fault::OperationTimeLimit {
            reset_after: Duration::from_secs(3),
        },
        2,
    );
    for _ in 0..2 {
        let reply = portal.list_pay_systems().await;
        assert_eq!(reply.error(429), "OPERATION_TIME_LIMIT");
        let reset_at = reply.body["time"]["operating_reset_at"].as_i64().unwrap();
        assert!(
            (before + 3..=before + 5).contains(&reset_at),
            "{reset_at} vs {before}"
        );
        assert!(reply.body["time"]["operating"].as_f64().unwrap() >= 480.0);
    }
    assert_eq!(portal.list_pay_systems().await.status, 200);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn hang_outlasts_the_client_and_does_not_run_the_method() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal
        .sandbox
        .inject(Fault::Hang(Duration::from_secs(3)), 1);
    let started = Instant::now();
    let result = portal
        .send(
            PAY,
            &json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
            Some(IMPATIENT),
        )
        .await;
    let error = result.expect_err("the client times out");
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(portal.sandbox.pay_calls(1), 0);

    // Held to the end, the connection is closed without a reply.
    portal
        .sandbox
        .inject(Fault::Hang(Duration::from_millis(200)), 1);
    let error = portal
        .send("sale.paysystem.list", &json!({}), None)
        .await
        .expect_err("no reply");
    assert!(!error.is_timeout(), "{error:?}");
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_reply_runs_the_method_but_the_client_gives_up() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal
        .sandbox
        .inject_for(Fault::SlowReply(Duration::from_secs(2)), 1, [PAY]);
    let error = portal
        .send(
            PAY,
            &json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
            Some(IMPATIENT),
        )
        .await
        .expect_err("the client times out");
    assert!(error.is_timeout());
    let payment = portal.sandbox.payment(1).unwrap();
    assert!(payment.paid, "the call took effect");
    assert_eq!(payment.pay_calls, 1);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn dropped_connections() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let body = json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps});

    portal.sandbox.inject(Fault::DropConnection, 1);
    let started = Instant::now();
    let error = portal.send(PAY, &body, None).await.expect_err("no reply");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "closed at once");
    assert_eq!(portal.sandbox.pay_calls(1), 0, "not executed");

    portal.sandbox.inject(Fault::DropAfterExecution, 1);
    portal.send(PAY, &body, None).await.expect_err("no reply");
    assert_eq!(portal.sandbox.pay_calls(1), 1, "executed, reply lost");
    assert!(portal.sandbox.payment(1).unwrap().paid);

    // The sandbox keeps serving afterwards.
    assert_eq!(portal.list_pay_systems().await.status, 200);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn faults_over_http() {
    let portal = Portal::start().await;
    let pending = portal
        .control_post(
            "/faults",
            json!({"kind": "internal_server_error", "count": 2, "methods": ["sale.paysystem.list"]}),
        )
        .await;
    assert_eq!(
        pending.body,
        json!({"pending": [{"kind": "internal_server_error", "remaining": 2, "methods": ["sale.paysystem.list"]}]})
    );
    portal
        .control_post(
            "/faults",
            json!({"kind": "operation_time_limit", "reset_after_secs": 5}),
        )
        .await;
    assert_eq!(portal.list_pay_systems().await.status, 500);
    assert_eq!(
        portal
            .call("sale.paysystem.handler.list", json!({}))
            .await
            .status,
        429
    );
    let listed = portal.control_get("/faults").await;
    assert_eq!(listed.body["pending"][0]["remaining"], json!(1));

    let unknown = portal
        .control_post("/faults", json!({"kind": "meteor"}))
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.body["error"], json!("UNKNOWN_FAULT"));

    let cleared = portal
        .http
        .delete(format!("{}/sandbox/api/faults", portal.sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(cleared, json!({"pending": []}));
    assert_eq!(portal.list_pay_systems().await.status, 200);

    portal
        .control_post("/faults", json!({"kind": "drop_connection"}))
        .await;
    assert!(portal
        .http
        .post(portal.webhook("sale.paysystem.list"))
        .send()
        .await
        .is_err());
    portal.sandbox.shutdown().await;
}
