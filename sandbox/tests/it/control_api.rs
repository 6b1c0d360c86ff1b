//! The sandbox-only control API and the admin page.

use crate::common;

use b24pay_sandbox::{NewPayment, Registry, WorldError};
use common::Portal;
use serde_json::json;

#[tokio::test]
async fn the_initial_world() {
    let portal = Portal::start().await;
    let payments = portal.sandbox.payments();
    let summary: Vec<(u64, Registry, &str, &str)> = payments
        .iter()
        .map(|p| (p.id, p.registry, p.sum.as_str(), p.currency.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Registry::Order, "3000.00", "RUB"),
            (2, Registry::CrmInvoice, "12500.00", "RUB"),
            (3, Registry::Order, "49.99", "USD"),
            (4, Registry::Order, "1250.50", "EUR"),
            (5, Registry::Order, "15000.00", "KZT"),
            (6, Registry::CrmInvoice, "990.00", "USD"),
            (7, Registry::Order, "4500", "JPY"),
        ]
    );
    assert!(payments
        .iter()
        .all(|p| !p.paid && p.pay_system_id.is_none()));
    assert_eq!(payments[3].person_type_id, 2);
    assert_eq!(payments[5].person_type_id, 4);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn create_and_read_payments_over_http() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal.add_pay_system("b24pay", "ORDER", 1, json!({})).await;
    let created = portal
        .control_post(
            "/payments",
            json!({"sum": "1250.5", "currency": "eur", "registry": "ORDER", "paysystem_id": ps}),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["payment_id"].as_u64().unwrap();
    assert_eq!(id, 8, "ids continue after the initial world");
    assert_eq!(created.body["order_id"], json!(8));
    assert_eq!(
        created.body["pay_url"],
        json!(format!("{}/pay/8", portal.sandbox.base_url()))
    );
    let read = portal.control_get(&format!("/payments/{id}")).await;
    assert_eq!(
        read.body["sum"],
        json!("1250.50"),
        "canonical for the currency"
    );
    assert_eq!(read.body["currency"], json!("EUR"));
    assert_eq!(read.body["pay_system_id"], json!(ps));
    assert_eq!(read.body["paid"], json!(false));
    assert_eq!(read.body["pay_calls"], json!(0));

    let invoice = portal
        .control_post(
            "/payments",
            json!({"sum": "10", "currency": "USD", "registry": "CRM_INVOICE"}),
        )
        .await;
    assert_eq!(invoice.status, 201);
    assert_eq!(
        invoice.body["pay_url"],
        json!(format!("{}/pay/invoice/9", portal.sandbox.base_url()))
    );

    let all = portal.control_get("/payments").await;
    assert_eq!(all.body.as_array().unwrap().len(), 9);
    assert_eq!(portal.control_get("/payments/999").await.status, 404);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn refused_payments() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let invoice_ps = portal
        .add_pay_system("b24pay", "CRM_INVOICE", 3, json!({}))
        .await;
    let cases = [
        (json!({"sum": "10", "currency": "XXX"}), "UNKNOWN_CURRENCY"),
        (
            json!({"sum": "10.001", "currency": "USD"}),
            "INVALID_AMOUNT",
        ),
        (
            json!({"sum": "10", "currency": "JPY", "pay_system_id": 99}),
            "UNKNOWN_PAY_SYSTEM",
        ),
        (
            json!({"sum": "10", "currency": "USD", "pay_system_id": invoice_ps}),
            "REGISTRY_MISMATCH",
        ),
        (
            json!({"sum": "10", "currency": "USD", "person_type_id": 3}),
            "UNKNOWN_PERSON_TYPE",
        ),
    ];
    for (body, code) in cases {
        let reply = portal.control_post("/payments", body).await;
        assert_eq!(
            (reply.status, reply.body["error"].as_str().unwrap()),
            (400, code)
        );
    }
    let not_json = portal.control_post("/payments", json!({"sum": 1})).await;
    assert_eq!(not_json.status, 400);
    assert_eq!(
        portal.sandbox.create_payment(NewPayment::order("0", "USD")),
        Err(WorldError::InvalidAmount("0".into()))
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn binding_a_pay_system() {
    let portal = Portal::start().await;
    let (order_ps, invoice_ps) = portal.order_and_invoice_pay_systems().await;
    let bound = portal
        .control_post("/payments/5/pay-system", json!({"pay_system_id": order_ps}))
        .await;
    assert_eq!(bound.status, 200);
    assert_eq!(bound.body["pay_system_id"], json!(order_ps));
    let mismatch = portal
        .control_post(
            "/payments/5/pay-system",
            json!({"pay_system_id": invoice_ps}),
        )
        .await;
    assert_eq!(mismatch.body["error"], json!("REGISTRY_MISMATCH"));
    let invoice_payment = portal.sandbox.invoice_payment_id(2).unwrap();
    portal
        .sandbox
        .set_payment_pay_system(invoice_payment, invoice_ps)
        .unwrap();
    portal
        .call(
            "sale.paysystem.pay.payment",
            json!({"PAYMENT_ID": 5, "PAY_SYSTEM_ID": order_ps}),
        )
        .await
        .result();
    assert_eq!(
        portal.sandbox.set_payment_pay_system(5, order_ps),
        Err(WorldError::AlreadyPaid(5))
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn info_stats_and_admin_page() {
    let portal = Portal::start().await;
    let info = portal.control_get("").await;
    assert_eq!(info.status, 200, "{info:?}");
    assert_eq!(
        info.body["webhook_url"],
        json!(portal.sandbox.webhook_url())
    );
    assert_eq!(info.body["methods"].as_array().unwrap().len(), 16);

    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal
        .call(
            "sale.paysystem.pay.payment",
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps, "PS_INVOICE_ID": "txn_admin", "PS_CARD_NUMBER": "4242"}),
        )
        .await
        .result();
    let stats = portal.control_get("/stats").await;
    assert_eq!(
        stats.body["method_calls"]["sale.paysystem.pay.payment"],
        json!(1)
    );
    assert_eq!(portal.sandbox.method_calls("sale.paysystem.add"), 1);

    let html = portal
        .http
        .get(portal.sandbox.admin_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "txn_admin",
        "PS_CARD_NUMBER",
        "b24pay",
        "<strong>Y</strong>",
        "Legal entity",
        "CRM_INVOICE",
    ] {
        assert!(html.contains(needle), "{needle} on the admin page");
    }
    // The admin form creates a payment and comes back.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/admin/payments", portal.sandbox.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("sum=99.90&currency=USD&registry=ORDER&pay_system_id=")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(portal.sandbox.payment(8).unwrap().sum, "99.90");
    portal.sandbox.shutdown().await;
}
