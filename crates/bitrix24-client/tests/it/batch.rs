//! `Client::batch` against the sandbox: per-command results and errors (a failed command is
//! not a failed batch), halting, references, commands kept in order, and the normal request
//! path (rate limit, retries, OAuth refresh) for the batch as a whole.

use crate::common;

use std::time::Duration;

use b24pay_sandbox::{Fault, NewPayment, SandboxHandle};
use bitrix24_client::{
    Batch, Client, CommandOutcome, Error, MethodError, PayPayment, PsExtras, RateLimit, Retry,
    SystemError,
};
use common::{Style, STYLES};
use serde_json::{json, Value};

/// The b24pay pay system and three unpaid payments bound to it.
async fn world(style: Style) -> (SandboxHandle, Client, u64, Vec<u64>) {
    let sandbox = common::sandbox().await;
    let client = common::client(&sandbox, style);
    let (_, ps) = common::setup_order_paysystem(&client).await;
    let payments = ["3000.00", "49.99", "1250.50"]
        .iter()
        .map(|sum| {
            sandbox
                .create_payment(NewPayment::order(*sum, "EUR").with_pay_system(ps))
                .unwrap()
                .payment_id
        })
        .collect();
    (sandbox, client, ps, payments)
}

fn pay(payment_id: u64, paysystem_id: u64) -> PayPayment {
    PayPayment {
        payment_id,
        paysystem_id,
        extras: PsExtras {
            ps_invoice_id: Some(format!("txn_{payment_id}")),
            ..PsExtras::default()
        },
    }
}

#[tokio::test]
async fn verifications_and_payments_in_one_request_with_a_result_each() {
    for style in STYLES {
        let (sandbox, client, ps, payments) = world(style).await;
        let mut batch = Batch::new();
        for (i, id) in payments.iter().enumerate() {
            batch
                .settings_payment_get(&format!("verify{i}"), *id, ps)
                .unwrap();
        }
        batch.pay_payment("pay0", &pay(payments[0], ps)).unwrap();
        let results = client.batch(&batch, Retry::IfNotExecuted).await.unwrap();
        assert_eq!(results.len(), 4);
        let sums: Vec<String> = (0..3)
            .map(|i| {
                let settings = results
                    .get(&format!("verify{i}"))
                    .unwrap()
                    .settings()
                    .unwrap()
                    .unwrap();
                assert_eq!(settings["B24PAY_PAYMENT_PAID"], "N");
                settings["B24PAY_PAYMENT_SUM"].clone()
            })
            .collect();
        assert_eq!(sums, ["3000", "49.99", "1250.5"], "{style:?}");
        assert!(results.get("pay0").unwrap().flag().unwrap().unwrap());
        let time = results.get("pay0").unwrap().time.expect("result_time");
        assert!(time.operating >= time.processing && time.operating_reset_at > 0);
        assert_eq!(sandbox.pay_calls(payments[0]), 1);
        assert_eq!(sandbox.method_calls("batch"), 1, "one request");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_failed_command_is_not_a_failed_batch() {
    let (sandbox, client, ps, payments) = world(Style::Webhook).await;
    let mut batch = Batch::new();
    batch
        .pay_payment("wrong", &pay(payments[0], ps + 100))
        .unwrap();
    batch.pay_payment("right", &pay(payments[1], ps)).unwrap();
    batch
        .push("unknown", "sale.paysystem.nope", &json!({}))
        .unwrap();
    let results = client.batch(&batch, Retry::IfNotExecuted).await.unwrap();
    match &results.get("wrong").unwrap().outcome {
        CommandOutcome::Failed(Error::Method {
            code, description, ..
        }) => {
            assert_eq!(*code, MethodError::CheckFailure);
            assert!(description.contains("not found"), "{description}");
        }
        other => panic!("{other:?}"),
    }
    let wrong = results.get("wrong").unwrap().flag().unwrap().unwrap_err();
    assert_eq!(wrong.code(), "ERROR_CHECK_FAILURE");
    assert_eq!(
        wrong.call().map(|c| c.method.to_string()).as_deref(),
        Some("sale.paysystem.pay.payment")
    );
    assert!(!wrong.may_have_executed());
    assert!(results.get("right").unwrap().flag().unwrap().unwrap());
    assert!(matches!(
        &results.get("unknown").unwrap().outcome,
        CommandOutcome::Failed(Error::System {
            code: SystemError::MethodNotFound,
            ..
        })
    ));
    assert!(!sandbox.payment(payments[0]).unwrap().paid);
    assert!(sandbox.payment(payments[1]).unwrap().paid);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn halting_leaves_the_rest_not_run() {
    let (sandbox, client, ps, payments) = world(Style::Webhook).await;
    let mut batch = Batch::new().halt_on_error(true);
    batch.pay_payment("first", &pay(payments[0], ps)).unwrap();
    batch
        .pay_payment("wrong", &pay(payments[1], ps + 1))
        .unwrap();
    batch.pay_payment("after", &pay(payments[2], ps)).unwrap();
    let results = client.batch(&batch, Retry::IfNotExecuted).await.unwrap();
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| match r.outcome {
            CommandOutcome::Done(_) => "done",
            CommandOutcome::Failed(_) => "failed",
            CommandOutcome::NotRun => "not run",
        })
        .collect();
    assert_eq!(outcomes, ["done", "failed", "not run"]);
    assert!(results.get("after").unwrap().flag().is_none());
    assert_eq!(sandbox.pay_calls(payments[2]), 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn commands_run_in_order_and_use_earlier_results() {
    let sandbox = common::sandbox().await;
    let client = common::client(&sandbox, Style::OAuth);
    let mut batch = Batch::new().halt_on_error(true);
    batch
        .push(
            "z_handler",
            "sale.paysystem.handler.add",
            &common::b24pay_handler("b24pay", "http://localhost:8080/"),
        )
        .unwrap();
    batch
        .push(
            "a_ps",
            "sale.paysystem.add",
            &common::b24pay_paysystem("b24pay", bitrix24_client::EntityRegistryType::Order, 1),
        )
        .unwrap();
    batch
        .push(
            "m_get",
            "sale.paysystem.settings.get",
            &json!({"ID": "$result[a_ps]", "PERSON_TYPE_ID": 1}),
        )
        .unwrap();
    let results = client.batch(&batch, Retry::IfNotExecuted).await.unwrap();
    let keys: Vec<&str> = results.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["z_handler", "a_ps", "m_get"]);
    let ps: u64 = results.get("a_ps").unwrap().value().unwrap().unwrap();
    let settings: Value = results.get("m_get").unwrap().value().unwrap().unwrap();
    assert_eq!(settings["B24PAY_SHOP_ID"]["VALUE"], json!("shop-42"));
    assert_eq!(
        client.paysystem_list(&Default::default()).await.unwrap()[0].id,
        Some(ps)
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_batch_goes_through_the_normal_request_path() {
    let (sandbox, client, ps, payments) = world(Style::OAuth).await;
    let mut batch = Batch::new();
    batch.pay_payment("pay", &pay(payments[0], ps)).unwrap();
    // Refused before execution: retried like any call.
    sandbox.inject_for(Fault::QueryLimitExceeded, 2, ["batch"]);
    let results = client.batch(&batch, Retry::IfNotExecuted).await.unwrap();
    assert!(results.get("pay").unwrap().flag().unwrap().unwrap());
    // An expired token: refreshed once, sent again.
    sandbox.expire_access_tokens();
    let mut read = Batch::new();
    read.settings_payment_get("v", payments[0], ps).unwrap();
    let results = client.batch(&read, Retry::Safe).await.unwrap();
    assert_eq!(
        results.get("v").unwrap().settings().unwrap().unwrap()["B24PAY_PAYMENT_PAID"],
        "Y"
    );
    assert_eq!(client.token_refresh_count(), 1);
    // An ambiguous failure of the whole request is the caller's to resolve.
    sandbox.inject_for(Fault::DropAfterExecution, 1, ["batch"]);
    let mut again = Batch::new();
    again.pay_payment("pay", &pay(payments[1], ps)).unwrap();
    let error = client
        .batch(&again, Retry::IfNotExecuted)
        .await
        .unwrap_err();
    assert!(error.may_have_executed(), "{error}");
    assert_eq!(sandbox.pay_calls(payments[1]), 1, "sent once");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_client_side_rate_limit_counts_a_batch_once() {
    let (sandbox, _, ps, payments) = world(Style::Webhook).await;
    let client = common::webhook_client_with(&sandbox, |b| {
        b.rate_limit(Some(RateLimit {
            per_second: 0.5,
            burst: 1,
        }))
    });
    let mut batch = Batch::new();
    for (i, id) in payments.iter().enumerate() {
        batch
            .settings_payment_get(&format!("v{i}"), *id, ps)
            .unwrap();
    }
    let started = std::time::Instant::now();
    let results = client.batch(&batch, Retry::Safe).await.unwrap();
    assert!(results.iter().all(|r| r.settings().unwrap().is_ok()));
    // Three slots at 0.5/s would take 4 s.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "one slot, no wait"
    );
    assert_eq!(
        sandbox.method_calls("sale.paysystem.settings.payment.get"),
        3
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn numeric_keys_and_an_empty_batch() {
    let (sandbox, client, ps, payments) = world(Style::Webhook).await;
    // Keys 0…n-1 come back as PHP lists.
    let mut batch = Batch::new();
    batch.settings_payment_get("0", payments[0], ps).unwrap();
    batch.settings_payment_get("1", payments[1], ps).unwrap();
    let results = client.batch(&batch, Retry::Safe).await.unwrap();
    assert!(results.get("1").unwrap().settings().unwrap().is_ok());
    // Nothing to send: no request.
    let empty = client.batch(&Batch::new(), Retry::Safe).await.unwrap();
    assert!(empty.is_empty());
    assert_eq!(sandbox.method_calls("batch"), 1);
    sandbox.shutdown().await;
}
