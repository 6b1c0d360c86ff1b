//! The leaky bucket and every injected fault, from Rust and over HTTP.

use crate::common;

use std::time::{Duration, Instant};

use b24pay_sandbox::{Fault, RateLimit, Sandbox};
use common::Portal;
use serde_json::json;

const PAY: &str = "sale.paysystem.pay.payment";

#[tokio::test]
async fn leaky_bucket_refuses_the_burst_overflow_then_drains() {
    let portal = Portal::with(Sandbox::builder().rate_limit(Some(RateLimit {
        drain_per_second: 2.0,
        burst: 5,
    })))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(portal.call("sale.paysystem.list", json!({})).await.status);
    }
    assert_eq!(statuses[..5], [200; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 503), "{statuses:?}");
    let refused = portal.call("sale.paysystem.list", json!({})).await;
    assert_eq!(refused.error(503), "QUERY_LIMIT_EXCEEDED");
    assert_eq!(refused.description(), "Too many requests");
    assert_eq!(portal.sandbox.rate_limited_calls(), 3);
    assert_eq!(portal.sandbox.method_calls("sale.paysystem.list"), 5);
    // Two calls drain per second.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        portal.call("sale.paysystem.list", json!({})).await.status,
        200
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn rate_limit_over_http() {
    let portal = Portal::start().await;
    assert_eq!(
        portal.control_get("/rate-limit").await.body,
        json!({"enabled": false})
    );
    let set = portal
        .control_post("/rate-limit", json!({"enabled": true, "burst": 2}))
        .await;
    assert_eq!(
        set.body,
        json!({"enabled": true, "drain_per_second": 2.0, "burst": 2})
    );
    assert_eq!(
        portal.sandbox.rate_limit(),
        Some(RateLimit {
            drain_per_second: 2.0,
            burst: 2
        })
    );
    for expected in [200, 200, 503] {
        assert_eq!(
            portal.call("sale.paysystem.list", json!({})).await.status,
            expected
        );
    }
    portal
        .control_post("/rate-limit", json!({"enabled": false}))
        .await;
    for _ in 0..10 {
        assert_eq!(
            portal.call("sale.paysystem.list", json!({})).await.status,
            200
        );
    }
    portal.sandbox.shutdown().await;
}

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
    assert_eq!(
        portal.call("sale.paysystem.list", json!({})).await.status,
        200
    );
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
        let reply = portal.call("sale.paysystem.list", json!({})).await;
        assert_eq!(reply.error(429), "OPERATION_TIME_LIMIT");
        let reset_at = reply.body["time"]["operating_reset_at"].as_i64().unwrap();
        assert!(
            (before + 3..=before + 5).contains(&reset_at),
            "{reset_at} vs {before}"
        );
        assert!(reply.body["time"]["operating"].as_f64().unwrap() >= 480.0);
    }
    assert_eq!(
        portal.call("sale.paysystem.list", json!({})).await.status,
        200
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn hang_outlasts_the_client_and_does_not_run_the_method() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal
        .sandbox
        .inject(Fault::Hang(Duration::from_secs(3)), 1);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let result = client
        .post(portal.webhook(PAY))
        .json(&json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}))
        .send()
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
    let error = reqwest::Client::new()
        .post(portal.webhook("sale.paysystem.list"))
        .json(&json!({}))
        .send()
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
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client
        .post(portal.webhook(PAY))
        .json(&json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}))
        .send()
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
    let error = portal
        .http
        .post(portal.webhook(PAY))
        .json(&body)
        .send()
        .await
        .expect_err("no reply");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "closed at once");
    assert_eq!(portal.sandbox.pay_calls(1), 0, "not executed");

    portal.sandbox.inject(Fault::DropAfterExecution, 1);
    portal
        .http
        .post(portal.webhook(PAY))
        .json(&body)
        .send()
        .await
        .expect_err("no reply");
    assert_eq!(portal.sandbox.pay_calls(1), 1, "executed, reply lost");
    assert!(portal.sandbox.payment(1).unwrap().paid);

    // The sandbox keeps serving afterwards.
    assert_eq!(
        portal.call("sale.paysystem.list", json!({})).await.status,
        200
    );
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
    assert_eq!(
        portal.call("sale.paysystem.list", json!({})).await.status,
        500
    );
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
    assert_eq!(
        portal.call("sale.paysystem.list", json!({})).await.status,
        200
    );

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

/// Polls until the sandbox has run every delayed call (bounded, generous for a loaded machine).
async fn wait_for_delayed_calls(portal: &Portal) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while portal.sandbox.delayed_calls_pending() > 0 {
        assert!(Instant::now() < deadline, "delayed call never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn delayed_execution_answers_nothing_and_takes_effect_later() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let body = json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps, "PS_INVOICE_ID": "txn_late"});
    let delay = Duration::from_millis(1500);
    portal.sandbox.inject_for(
        Fault::DelayedExecution {
            delay,
            cut_after: Duration::ZERO,
        },
        1,
        [PAY],
    );
    let started = Instant::now();
    let error = portal
        .http
        .post(portal.webhook(PAY))
        .json(&body)
        .send()
        .await
        .expect_err("no reply");
    assert!(!error.is_timeout(), "closed at once: {error:?}");
    // Right after the cut the payment still looks unpaid: a client that re-reads now and
    // calls again pays twice.
    let payment = portal.sandbox.payment(1).unwrap();
    if started.elapsed() < delay {
        assert!(!payment.paid, "not yet executed");
        assert_eq!(payment.pay_calls, 0);
        assert_eq!(portal.sandbox.delayed_calls_pending(), 1);
        assert_eq!(portal.sandbox.method_calls(PAY), 0);
    }
    wait_for_delayed_calls(&portal).await;
    assert!(
        started.elapsed() >= delay,
        "took effect only after the delay"
    );
    let payment = portal.sandbox.payment(1).unwrap();
    assert!(payment.paid, "the call took effect");
    assert_eq!(payment.pay_calls, 1);
    assert_eq!(payment.ps.invoice_id.as_deref(), Some("txn_late"));
    assert_eq!(portal.sandbox.method_calls(PAY), 1);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn delayed_execution_can_hold_the_connection_like_a_portal_cut() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let body = json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps});
    // Over HTTP: held for 2 s (the portal's 60 s cut, shortened), executed at 1 s.
    let pending = portal
        .control_post(
            "/faults",
            json!({"kind": "delayed_execution", "methods": [PAY], "duration_ms": 1000, "cut_after_ms": 2000}),
        )
        .await;
    assert_eq!(
        pending.body["pending"][0]["kind"],
        json!("delayed_execution")
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client
        .post(portal.webhook(PAY))
        .json(&body)
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(error.is_timeout(), "{error:?}");
    wait_for_delayed_calls(&portal).await;
    assert_eq!(portal.sandbox.pay_calls(1), 1);

    // A client that waits longer than the cut sees the connection closed, never a reply.
    portal.sandbox.inject_for(
        Fault::DelayedExecution {
            delay: Duration::from_millis(100),
            cut_after: Duration::from_millis(400),
        },
        1,
        ["sale.paysystem.list"],
    );
    let error = portal
        .http
        .post(portal.webhook("sale.paysystem.list"))
        .json(&json!({}))
        .send()
        .await
        .expect_err("no reply");
    assert!(!error.is_timeout(), "{error:?}");
    wait_for_delayed_calls(&portal).await;
    let stats = portal.control_get("/stats").await;
    assert_eq!(stats.body["delayed_calls_pending"], json!(0));
    assert_eq!(stats.body["method_calls"]["sale.paysystem.list"], json!(1));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn true_without_saving_answers_true_and_leaves_the_payment_unpaid() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal.sandbox.inject(Fault::TrueWithoutSaving, 1);
    // Only a pay method draws it.
    assert_eq!(
        portal.call("sale.paysystem.list", json!({})).await.status,
        200
    );
    let body = json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps, "PS_INVOICE_ID": "txn_lost"});
    assert_eq!(portal.call(PAY, body.clone()).await.result(), &json!(true));
    let payment = portal.sandbox.payment(1).unwrap();
    assert!(!payment.paid, "not saved");
    assert_eq!(payment.date_paid, None);
    assert_eq!(payment.ps.invoice_id, None, "no PS_* stored");
    assert_eq!(payment.pay_calls, 0);
    assert_eq!(payment.unsaved_pay_calls, 1);
    assert_eq!(portal.sandbox.unsaved_pay_calls(1), 1);
    // The portal's own read says unpaid too.
    let settings = portal
        .call(
            "sale.paysystem.settings.payment.get",
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    assert_eq!(settings.result()["B24PAY_PAYMENT_PAID"], json!("N"));
    // The next call saves.
    assert_eq!(portal.call(PAY, body).await.result(), &json!(true));
    let payment = portal.sandbox.payment(1).unwrap();
    assert!(payment.paid);
    assert_eq!(payment.pay_calls, 1);
    assert_eq!(payment.unsaved_pay_calls, 1);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn true_without_saving_for_invoices_over_http() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal
        .add_pay_system("b24pay", "CRM_INVOICE", 3, common::b24pay_settings())
        .await;
    let pending = portal
        .control_post(
            "/faults",
            json!({"kind": "true_without_saving", "methods": ["sale.paysystem.pay.invoice"]}),
        )
        .await;
    assert_eq!(
        pending.body,
        json!({"pending": [{"kind": "true_without_saving", "remaining": 1, "methods": ["sale.paysystem.pay.invoice"]}]})
    );
    let body = json!({"INVOICE_ID": 2, "PAY_SYSTEM_ID": ps});
    assert_eq!(
        portal
            .call("sale.paysystem.pay.invoice", body.clone())
            .await
            .result(),
        &json!(true)
    );
    let payment_id = portal.sandbox.invoice_payment_id(2).unwrap();
    let snapshot = portal.control_get(&format!("/payments/{payment_id}")).await;
    assert_eq!(snapshot.body["paid"], json!(false));
    assert_eq!(snapshot.body["unsaved_pay_calls"], json!(1));
    assert_eq!(snapshot.body["pay_calls"], json!(0));
    portal
        .call("sale.paysystem.pay.invoice", body)
        .await
        .result();
    assert!(portal.sandbox.payment(payment_id).unwrap().paid);
    portal.sandbox.shutdown().await;
}
