//! `settings.payment.get` / `settings.invoice.get`: flat values resolved for one payment.

use crate::common;

use b24pay_sandbox::NewPayment;
use common::{b24pay_settings, Portal};
use serde_json::json;

#[tokio::test]
async fn payment_values_are_flat_and_resolved() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let reply = portal
        .call(
            "sale.paysystem.settings.payment.get",
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    assert_eq!(
        reply.result(),
        &json!({
            "B24PAY_SHOP_ID": "shop-42",
            "B24PAY_SECRET_KEY": "s3cr3t",
            "B24PAY_MODE": "TEST",
            "B24PAY_LANGUAGE": null,
            "B24PAY_PAYMENT_SUM": "3000",
            "B24PAY_PAYMENT_CURRENCY": "RUB",
            "B24PAY_PAYMENT_PAID": "N",
            "B24PAY_PAYMENT_NUMBER": "1/1",
            "B24PAY_ORDER_ID": "1",
        })
    );
    // Once paid, PAID follows.
    portal
        .call(
            "sale.paysystem.pay.payment",
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
        )
        .await
        .result();
    let reply = portal
        .call_form(
            "sale.paysystem.settings.payment.get",
            &format!("payment_id=1&pay_system_id={ps}"),
        )
        .await;
    assert_eq!(reply.result()["B24PAY_PAYMENT_PAID"], json!("Y"));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn every_provider_resolves() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal
        .add_pay_system(
            "b24pay",
            "ORDER",
            2,
            json!({
                // Pay-system settings override the handler's DEFAULTs…
                "B24PAY_PAYMENT_NUMBER": {"TYPE": "PAYMENT", "VALUE": "ID"},
                // …and may map any code to any provider.
                "B24PAY_SHOP_ID": {"TYPE": "USER", "VALUE": "EMAIL"},
                "B24PAY_SECRET_KEY": {"TYPE": "PROPERTY", "VALUE": "1"},
                "B24PAY_LANGUAGE": {"TYPE": "ORDER", "VALUE": "PRICE"},
                "B24PAY_MODE": {"TYPE": "Y/N", "VALUE": "Y"},
            }),
        )
        .await;
    // Payment 4 belongs to order 4: EUR 1250.50, person type 2, customer John Carter.
    portal.sandbox.set_payment_pay_system(4, ps).unwrap();
    let reply = portal
        .call(
            "sale.paysystem.settings.payment.get",
            json!({"PAYMENT_ID": 4, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    let values = reply.result();
    assert_eq!(values["B24PAY_PAYMENT_NUMBER"], json!("4"));
    assert_eq!(values["B24PAY_SHOP_ID"], json!("john.carter@example.com"));
    assert_eq!(values["B24PAY_SECRET_KEY"], json!("John Carter"));
    assert_eq!(
        values["B24PAY_LANGUAGE"],
        json!("1250.5"),
        "amounts print as PHP floats"
    );
    assert_eq!(values["B24PAY_MODE"], json!("Y"));
    assert_eq!(values["B24PAY_PAYMENT_SUM"], json!("1250.5"));
    assert_eq!(values["B24PAY_PAYMENT_CURRENCY"], json!("EUR"));
    assert_eq!(values["B24PAY_ORDER_ID"], json!("4"));
    portal.sandbox.shutdown().await;
}

/// Settings belong to a person type; an order of another person type falls back to the
/// handler's DEFAULTs (as the portal's business values do).
#[tokio::test]
async fn settings_are_per_person_type() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal
        .add_pay_system("b24pay", "ORDER", 1, b24pay_settings())
        .await;
    let other = portal
        .sandbox
        .create_payment(
            NewPayment::order("10.00", "USD")
                .with_pay_system(ps)
                .with_person_type(2),
        )
        .unwrap();
    let reply = portal
        .call(
            "sale.paysystem.settings.payment.get",
            json!({"PAYMENT_ID": other.payment_id, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    let values = reply.result();
    assert_eq!(values["B24PAY_SHOP_ID"], json!(null));
    assert_eq!(
        values["B24PAY_MODE"],
        json!("TEST"),
        "the handler's DEFAULT"
    );
    assert_eq!(values["B24PAY_PAYMENT_SUM"], json!("10"));

    // A setting without a person type applies to all of them.
    portal
        .call(
            "sale.paysystem.settings.update",
            json!({"ID": ps, "SETTINGS": {"B24PAY_SHOP_ID": {"TYPE": "VALUE", "VALUE": "shop-all"}}}),
        )
        .await
        .result();
    let reply = portal
        .call(
            "sale.paysystem.settings.payment.get",
            json!({"PAYMENT_ID": other.payment_id, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    assert_eq!(reply.result()["B24PAY_SHOP_ID"], json!("shop-all"));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn payment_get_errors() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let cases = [
        (json!({"PAYMENT_ID": 1}), "Empty field PAY_SYSTEM_ID!"),
        (json!({"PAY_SYSTEM_ID": ps}), "Empty field PAYMENT_ID"),
        (
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": 0}),
            "Empty field PAY_SYSTEM_ID!",
        ),
        (
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": 99}),
            "Pay system not found",
        ),
        // Payment 3 exists but is not bound to this pay system.
        (
            json!({"PAYMENT_ID": 3, "PAY_SYSTEM_ID": ps}),
            "Payment with ID=3 and PAY_SYSTEM_ID=1 not found",
        ),
        (
            json!({"PAYMENT_ID": 999, "PAY_SYSTEM_ID": ps}),
            "Payment with ID=999 and PAY_SYSTEM_ID=1 not found",
        ),
    ];
    for (body, description) in cases {
        let reply = portal
            .call("sale.paysystem.settings.payment.get", body)
            .await;
        assert_eq!(
            (reply.error(400), reply.description()),
            ("ERROR_CHECK_FAILURE", description)
        );
    }
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn invoice_values_by_pay_system_or_handler() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal
        .add_pay_system("b24pay", "CRM_INVOICE", 3, b24pay_settings())
        .await;
    let by_id = portal
        .call(
            "sale.paysystem.settings.invoice.get",
            json!({"INVOICE_ID": 2, "PAY_SYSTEM_ID": ps}),
        )
        .await;
    let values = by_id.result().clone();
    assert_eq!(values["B24PAY_SHOP_ID"], json!("shop-42"));
    assert_eq!(values["B24PAY_PAYMENT_SUM"], json!("12500"));
    assert_eq!(
        values["B24PAY_ORDER_ID"],
        json!("2"),
        "ORDER.ID is the invoice id"
    );
    let by_handler = portal
        .call(
            "sale.paysystem.settings.invoice.get",
            json!({"INVOICE_ID": 2, "BX_REST_HANDLER": "b24pay"}),
        )
        .await;
    assert_eq!(by_handler.result(), &values);

    let cases = [
        (
            json!({"INVOICE_ID": 2}),
            "ERROR_CHECK_FAILURE",
            "Empty field BX_REST_HANDLER and PAY_SYSTEM_ID",
        ),
        (
            json!({"PAY_SYSTEM_ID": ps}),
            "ERROR_CHECK_FAILURE",
            "Empty field INVOICE_ID",
        ),
        (
            json!({"INVOICE_ID": 2, "PAY_SYSTEM_ID": 42}),
            "ERROR_CHECK_FAILURE",
            "Pay system with ID=42 not found",
        ),
        (
            json!({"INVOICE_ID": 2, "BX_REST_HANDLER": "nope"}),
            "ERROR_CHECK_FAILURE",
            "Incorrect rest handler code",
        ),
        (
            json!({"INVOICE_ID": 77, "PAY_SYSTEM_ID": ps}),
            "ERROR_INTERNAL_INVOICE_NOT_FOUND",
            "Invoice #77 not found",
        ),
        // Order 1 is not a legacy invoice.
        (
            json!({"INVOICE_ID": 1, "PAY_SYSTEM_ID": ps}),
            "ERROR_INTERNAL_INVOICE_NOT_FOUND",
            "Invoice #1 not found",
        ),
    ];
    for (body, code, description) in cases {
        let reply = portal
            .call("sale.paysystem.settings.invoice.get", body)
            .await;
        assert_eq!((reply.error(400), reply.description()), (code, description));
    }

    // A handler without any pay system.
    portal
        .add_b24pay_handler("lonely", "http://localhost:8080/")
        .await;
    let reply = portal
        .call(
            "sale.paysystem.settings.invoice.get",
            json!({"INVOICE_ID": 2, "BX_REST_HANDLER": "lonely"}),
        )
        .await;
    assert_eq!(reply.error(400), "ERROR_PAY_SYSTEM_NOT_FOUND");
    assert_eq!(
        reply.description(),
        "Pay system with handler lonely not found"
    );
    portal.sandbox.shutdown().await;
}
