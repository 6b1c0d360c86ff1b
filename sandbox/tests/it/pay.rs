//! `sale.paysystem.pay.payment` and `sale.paysystem.pay.invoice`.

use crate::common;

use b24pay_sandbox::{NewPayment, PsFields};
use common::Portal;
use serde_json::json;

#[tokio::test]
async fn pay_payment_stores_ps_fields_and_marks_paid() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let reply = portal
        .call(
            "sale.paysystem.pay.payment",
            json!({
                "PAYMENT_ID": 1,
                "PAY_SYSTEM_ID": ps,
                "PS_INVOICE_ID": "txn_001",
                "PS_STATUS_CODE": "approved",
                "PS_STATUS_DESCRIPTION": "Visa •••• 4242",
                "PS_STATUS_MESSAGE": "Approved by the test acquirer",
                "PS_SUM": "3000.00",
                "PS_CURRENCY": "RUB",
                "PS_CARD_NUMBER": "424242******4242",
                "PS_RECURRING_TOKEN": "tok_1",
            }),
        )
        .await;
    assert_eq!(reply.result(), &json!(true));
    let payment = portal.sandbox.payment(1).unwrap();
    assert!(payment.paid);
    assert!(payment.date_paid.is_some());
    assert_eq!(payment.pay_calls, 1);
    let response_date = payment.ps.response_date.clone();
    assert!(response_date.is_some());
    assert_eq!(
        payment.ps,
        PsFields {
            status: Some("Y".into()),
            status_code: Some("approved".into()),
            status_description: Some("Visa •••• 4242".into()),
            status_message: Some("Approved by the test acquirer".into()),
            invoice_id: Some("txn_001".into()),
            sum: Some("3000.00".into()),
            currency: Some("RUB".into()),
            card_number: Some("424242******4242".into()),
            recurring_token: Some("tok_1".into()),
            response_date,
        }
    );

    // Over HTTP too.
    let snapshot = portal.control_get("/payments/1").await;
    assert_eq!(snapshot.status, 200);
    assert_eq!(snapshot.body["paid"], json!(true));
    assert_eq!(snapshot.body["pay_calls"], json!(1));
    assert_eq!(snapshot.body["ps"]["invoice_id"], json!("txn_001"));
    portal.sandbox.shutdown().await;
}

/// The portal answers `true` again for a paid payment: it stays paid with its first date, and
/// the new call's PS_* fields replace the old ones (PS_STATUS_CODE falls back to "Y").
#[tokio::test]
async fn paying_twice_answers_true_and_counts_both_calls() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal
        .call(
            "sale.paysystem.pay.payment",
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps, "PS_INVOICE_ID": "first", "PS_STATUS_CODE": "ok"}),
        )
        .await
        .result();
    let first = portal.sandbox.payment(1).unwrap();
    let second = portal
        .call_form(
            "sale.paysystem.pay.payment",
            &format!("PAYMENT_ID=1&PAY_SYSTEM_ID={ps}&PS_INVOICE_ID=second"),
        )
        .await;
    assert_eq!(second.result(), &json!(true));
    let after = portal.sandbox.payment(1).unwrap();
    assert!(after.paid);
    assert_eq!(after.date_paid, first.date_paid);
    assert_eq!(after.ps.invoice_id.as_deref(), Some("second"));
    assert_eq!(after.ps.status_code.as_deref(), Some("Y"));
    assert_eq!(after.pay_calls, 2);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn pay_payment_refusals() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let other_ps = portal.add_pay_system("b24pay", "ORDER", 1, json!({})).await;
    let cases = [
        (json!({"PAYMENT_ID": 1}), "Empty field PAY_SYSTEM_ID!"),
        (
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": 999}),
            "Pay system not found",
        ),
        (json!({"PAY_SYSTEM_ID": ps}), "Empty field PAYMENT_ID"),
        (
            json!({"PAYMENT_ID": 424242, "PAY_SYSTEM_ID": ps}),
            "Payment with ID=424242 and PAY_SYSTEM_ID=1 not found",
        ),
        // Payment 1 is bound to `ps`, not to `other_ps`.
        (
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": other_ps}),
            "Payment with ID=1 and PAY_SYSTEM_ID=2 not found",
        ),
        // Payment 3 has no pay system at all.
        (
            json!({"PAYMENT_ID": 3, "PAY_SYSTEM_ID": ps}),
            "Payment with ID=3 and PAY_SYSTEM_ID=1 not found",
        ),
    ];
    for (body, description) in cases {
        let reply = portal.call("sale.paysystem.pay.payment", body).await;
        assert_eq!(
            (reply.error(400), reply.description()),
            ("ERROR_CHECK_FAILURE", description)
        );
    }
    let payment = portal.sandbox.payment(1).unwrap();
    assert!(!payment.paid);
    assert_eq!(payment.pay_calls, 0);
    assert_eq!(
        payment.rejected_pay_calls, 3,
        "refusals naming payment 1 are counted apart"
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn pay_payment_refuses_invoice_payments() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal
        .add_pay_system("b24pay", "CRM_INVOICE", 3, json!({}))
        .await;
    let invoice = portal
        .sandbox
        .create_payment(NewPayment::invoice("990.00", "USD").with_pay_system(ps))
        .unwrap();
    let reply = portal
        .call(
            "sale.paysystem.pay.payment",
            json!({"PAYMENT_ID": invoice.payment_id, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    assert_eq!(reply.error(400), "ERROR_CHECK_FAILURE");
    assert!(!portal.sandbox.payment(invoice.payment_id).unwrap().paid);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn pay_invoice_rules() {
    let portal = Portal::start().await;
    let (order_ps, invoice_ps) = portal.order_and_invoice_pay_systems().await;
    let cases = [
        (
            json!({"INVOICE_ID": 2}),
            "ERROR_CHECK_FAILURE",
            "Empty field BX_REST_HANDLER and PAY_SYSTEM_ID",
        ),
        (
            json!({"INVOICE_ID": 2, "PAY_SYSTEM_ID": 55}),
            "ERROR_CHECK_FAILURE",
            "Pay system with ID=55 not found",
        ),
        (
            json!({"INVOICE_ID": 2, "BX_REST_HANDLER": "nope"}),
            "ERROR_CHECK_FAILURE",
            "Incorrect rest handler code",
        ),
        (
            json!({"PAY_SYSTEM_ID": invoice_ps}),
            "ERROR_CHECK_FAILURE",
            "Empty field INVOICE_ID!",
        ),
        (
            json!({"INVOICE_ID": 1, "PAY_SYSTEM_ID": invoice_ps}),
            "ERROR_INTERNAL_INVOICE_NOT_FOUND",
            "Invoice #1 not found",
        ),
        (
            json!({"INVOICE_ID": 500, "PAY_SYSTEM_ID": invoice_ps}),
            "ERROR_INTERNAL_INVOICE_NOT_FOUND",
            "Invoice #500 not found",
        ),
        // Only pay systems of the CRM_INVOICE registry pay invoices.
        (
            json!({"INVOICE_ID": 2, "PAY_SYSTEM_ID": order_ps}),
            "ERROR_PROCESS_REQUEST_RESULT",
            "Pay system not found",
        ),
    ];
    for (body, code, description) in cases {
        let reply = portal.call("sale.paysystem.pay.invoice", body).await;
        assert_eq!((reply.error(400), reply.description()), (code, description));
    }
    let payment_2 = portal.sandbox.invoice_payment_id(2).unwrap();
    assert!(!portal.sandbox.payment(payment_2).unwrap().paid);

    let by_handler = portal
        .call(
            "sale.paysystem.pay.invoice",
            json!({"INVOICE_ID": 2, "BX_REST_HANDLER": "b24pay", "PS_INVOICE_ID": "inv-tx"}),
        )
        .await;
    assert_eq!(by_handler.result(), &json!(true));
    let paid = portal.sandbox.payment(payment_2).unwrap();
    assert!(paid.paid);
    assert_eq!(paid.ps.invoice_id.as_deref(), Some("inv-tx"));
    assert_eq!(paid.pay_calls, 1);

    let by_id = portal
        .call(
            "sale.paysystem.pay.invoice",
            json!({"INVOICE_ID": 6, "PAY_SYSTEM_ID": invoice_ps}),
        )
        .await;
    assert_eq!(by_id.result(), &json!(true));
    let payment_6 = portal.sandbox.invoice_payment_id(6).unwrap();
    assert_eq!(portal.sandbox.pay_calls(payment_6), 1);
    portal.sandbox.shutdown().await;
}
