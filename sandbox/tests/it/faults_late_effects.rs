//! Faults whose effect differs from the reply: a call executed after the connection was cut
//! (delayed execution), and `true` answered without saving.

use crate::common;

use std::time::{Duration, Instant};

use b24pay_sandbox::Fault;
use common::{Portal, IMPATIENT, PAY};
use serde_json::json;

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
    portal.delay_next(PAY, delay, Duration::ZERO);
    let started = Instant::now();
    let error = portal.send(PAY, &body, None).await.expect_err("no reply");
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
    let error = portal
        .send(PAY, &body, Some(IMPATIENT))
        .await
        .expect_err("the client gives up first");
    assert!(error.is_timeout(), "{error:?}");
    wait_for_delayed_calls(&portal).await;
    assert_eq!(portal.sandbox.pay_calls(1), 1);

    // A client that waits longer than the cut sees the connection closed, never a reply.
    portal.delay_next(
        "sale.paysystem.list",
        Duration::from_millis(100),
        Duration::from_millis(400),
    );
    let error = portal
        .send("sale.paysystem.list", &json!({}), None)
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
    assert_eq!(portal.list_pay_systems().await.status, 200);
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
