//! `companion/openapi.yaml` is the contract: real responses of every kind are validated against
//! its schemas (with the `jsonschema` crate), each status is one the spec lists for the
//! operation, and its enums are exactly the protocol crate's.

use crate::common::spec::{check, spec, validator};
use crate::common::*;
use b24pay_protocol::api::{DeclineCode, ErrorCode, PaymentState};
use serde_json::{json, Value};

fn enum_of(spec: &Value, name: &str) -> Vec<String> {
    spec["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn enums_match_the_protocol() {
    let spec = spec();
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(enum_of(&spec, "ErrorCode"), codes);
    let states: Vec<String> = PaymentState::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(enum_of(&spec, "PaymentState"), states);
    let declines: Vec<String> = DeclineCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(enum_of(&spec, "DeclineCode"), declines);
    // Every status an error code maps to is documented for confirm.
    for code in ErrorCode::ALL {
        let status = b24pay_companion::api::error::status_of(code).as_u16();
        assert!(
            spec["paths"]["/payments"]["post"]["responses"][status.to_string()].is_object(),
            "{code:?} answers {status}, which the spec does not list"
        );
    }
}

#[test]
fn request_schema_agrees_with_the_server() {
    let spec = spec();
    let v = validator(&spec, "/components/schemas/ConfirmRequest");
    let ok = json!({"payment_id": "247", "paysystem_id": "11", "amount": "3000", "currency": "RUB",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}});
    assert!(v.is_valid(&ok));
    let mut extra = ok.clone();
    extra["sneaky"] = json!(1);
    assert!(!v.is_valid(&extra));
    let mut with_invoice = ok.clone();
    with_invoice["invoice_id"] = json!("7");
    assert!(v.is_valid(&with_invoice));
    // The response schemas are strict too.
    let view = validator(&spec, "/components/schemas/PaymentView");
    assert!(!view.is_valid(&json!({"id": "pa_1", "state": "succeeded"})));
    assert!(!validator(&spec, "/components/schemas/ErrorBody")
        .is_valid(&json!({"error": {"code": "nope", "message": ""}})));
    // What the schema accepts, the server's parser accepts too.
    assert!(serde_json::from_value::<b24pay_protocol::api::ConfirmRequest>(with_invoice).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_responses_match_the_spec() {
    let spec = spec();
    let env = Env::start(StoreKind::Sqlite).await;
    let confirm = |status: u16, body: &Value| check(&spec, "/payments", "post", status, body);

    // 200s of every state.
    let paid = env.order("1250.50", "EUR");
    let (s, ok) = env.pay_order(paid, "1250.50", "EUR", APPROVED).await;
    confirm(s, &ok);
    for card in [DECLINED, PROCESSING_ERROR, "378282246310005"] {
        let id = env.order("1250.50", "EUR");
        let (s, v) = env.pay_order(id, "1250.50", "EUR", card).await;
        assert_eq!(s, 200);
        confirm(s, &v);
    }
    let id = env.order("4500", "JPY");
    let (s, challenged) = env.pay_order(id, "4500", "JPY", CHALLENGE).await;
    assert_eq!(challenged["state"], "requires_action");
    confirm(s, &challenged);
    let attempt = challenged["id"].as_str().unwrap();
    let (s, v) = env.challenge(attempt, &key(), "123").await;
    check(&spec, "/payments/{id}/challenge", "post", s, &v);
    let (s, v) = env.challenge(attempt, &key(), "123").await;
    assert_eq!(s, 409);
    check(&spec, "/payments/{id}/challenge", "post", s, &v);
    let (s, v) = env
        .challenge("pa_00000000000000000000000000000000", &key(), "123")
        .await;
    check(&spec, "/payments/{id}/challenge", "post", s, &v);
    let (s, v) = env.status(ok["id"].as_str().unwrap()).await;
    check(&spec, "/payments/{id}", "get", s, &v);
    let (s, v) = env.status("pa_00000000000000000000000000000000").await;
    check(&spec, "/payments/{id}", "get", s, &v);

    // Errors.
    env.wait_paid(paid, std::time::Duration::from_secs(10))
        .await;
    let fresh = env.order("10", "USD");
    let k = key();
    let body = env.body(fresh, env.ps_order, "10", "USD", APPROVED);
    env.confirm(&k, &body).await;
    let mut cases = vec![
        env.pay_order(paid, "1250.50", "EUR", APPROVED).await, // already_paid
        env.confirm(&k, &env.body(fresh, env.ps_order, "10", "USD", DECLINED))
            .await, // key reused
        env.confirm(
            &key(),
            &env.body(env.order("10", "USD"), env.ps_order, "11", "USD", APPROVED),
        )
        .await,
        env.pay_order(999_999, "10", "USD", APPROVED).await,
        env.confirm(&key(), &json!({"payment_id": "x"})).await,
        env.post("/api/v1/payments", None, &body).await,
        env.post("/api/v1/payments", Some("bad"), &body).await,
    ];
    let mut big = body.clone();
    big["card"]["holder"] = json!("A".repeat(40_000));
    cases.push(env.confirm(&key(), &big).await);
    let resp = env
        .http
        .post(format!("{}/api/v1/payments", env.base))
        .header("Idempotency-Key", key())
        .body("x")
        .send()
        .await
        .unwrap();
    cases.push((resp.status().as_u16(), resp.json().await.unwrap()));
    let mut seen = std::collections::BTreeSet::new();
    for (s, v) in &cases {
        confirm(*s, v);
        seen.insert(*s);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        vec![400, 404, 409, 413, 415, 422]
    );
    env.stop().await;
}
