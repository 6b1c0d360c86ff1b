//! Retries, backoff and timeouts under the sandbox's injected faults: calls recover within
//! explicit bounds, and calls not marked retry-safe never reach the portal twice.

use crate::common;

use std::time::{Duration, Instant};

use b24pay_sandbox::{Fault, NewPayment, SandboxHandle};
use bitrix24_client::{
    Client, Error, PayPayment, PsExtras, Retry, RetryClass, RetryConfig, SystemError, TransportKind,
};
use common::Style;
use serde_json::{json, Value};

const PAY: &str = "sale.paysystem.pay.payment";
const LIST: &str = "sale.paysystem.handler.list";

/// A sandbox with the b24pay pay system and one unpaid payment bound to it.
async fn world(style: Style, timeout: Duration) -> (SandboxHandle, Client, PayPayment) {
    let sandbox = common::sandbox().await;
    let client = common::builder(&sandbox, style)
        .0
        .timeout(timeout)
        .build()
        .unwrap();
    let (_, ps) = common::setup_order_paysystem(&client).await;
    let created = sandbox
        .create_payment(NewPayment::order("3000.00", "RUB").with_pay_system(ps))
        .unwrap();
    let pay = PayPayment {
        payment_id: created.payment_id,
        paysystem_id: ps,
        extras: PsExtras {
            ps_invoice_id: Some("txn_1".into()),
            ..PsExtras::default()
        },
    };
    (sandbox, client, pay)
}

#[tokio::test]
async fn query_limit_is_retried_even_for_unsafe_calls() {
    let (sandbox, client, pay) = world(Style::Webhook, Duration::from_secs(5)).await;
    sandbox.inject_for(Fault::QueryLimitExceeded, 2, [PAY]);
    let started = Instant::now();
    assert!(client
        .pay_payment(&pay, Retry::IfNotExecuted)
        .await
        .unwrap());
    common::assert_within(started, Duration::from_secs(1));
    assert_eq!(sandbox.pay_calls(pay.payment_id), 1);

    sandbox.inject_for(Fault::QueryLimitExceeded, 3, [LIST]);
    assert!(client.handler_list().await.unwrap().len() == 1);
    assert_eq!(
        sandbox.method_calls(LIST),
        1,
        "three rejected attempts, one executed"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn internal_server_error_is_retried_for_reads_and_safe_writes_only() {
    let (sandbox, client, pay) = world(Style::Webhook, Duration::from_secs(5)).await;
    sandbox.inject_for(Fault::InternalServerError, 2, [LIST]);
    assert_eq!(client.handler_list().await.unwrap().len(), 1);

    sandbox.inject_for(Fault::InternalServerError, 1, [PAY]);
    let err = common::failed_pay(&client, &pay).await;
    assert!(
        matches!(
            err,
            Error::System {
                code: SystemError::InternalServerError,
                status: 500,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.may_have_executed(), "a 500 after sending is ambiguous");
    assert_eq!(sandbox.pay_calls(pay.payment_id), 0);

    sandbox.inject_for(Fault::InternalServerError, 2, [PAY]);
    assert!(client.pay_payment(&pay, Retry::Safe).await.unwrap());
    assert_eq!(sandbox.pay_calls(pay.payment_id), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn operation_time_limit_waits_until_reset() {
    let (sandbox, client, pay) = world(Style::Webhook, Duration::from_secs(5)).await;
    sandbox.inject_for(
        Fault::OperationTimeLimit {
            reset_after: Duration::from_millis(1200),
        },
        1,
        [PAY],
    );
    let reset_at = std::time::SystemTime::now() + Duration::from_millis(1200);
    let started = Instant::now();
    assert!(client
        .pay_payment(&pay, Retry::IfNotExecuted)
        .await
        .unwrap());
    let elapsed = started.elapsed();
    // The sandbox rounds operating_reset_at up to a whole second; the client sleeps until then.
    assert!(
        std::time::SystemTime::now() >= reset_at,
        "retried before operating_reset_at"
    );
    assert!(elapsed < Duration::from_millis(3500), "{elapsed:?}");
    assert_eq!(sandbox.pay_calls(pay.payment_id), 1);

    // A reset beyond the call's budget is reported at once instead of slept on.
    let client = common::webhook_client_with(&sandbox, |b| {
        b.retry(RetryConfig {
            max_total: Duration::from_secs(3),
            ..common::fast_retry()
        })
    });
    sandbox.inject_for(
        Fault::OperationTimeLimit {
            reset_after: Duration::from_secs(60),
        },
        1,
        [LIST],
    );
    let started = Instant::now();
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(err.code(), "OPERATION_TIME_LIMIT");
    common::assert_within(started, Duration::from_millis(500));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn hang_past_the_timeout() {
    let timeout = Duration::from_millis(300);
    let (sandbox, client, pay) = world(Style::Webhook, timeout).await;

    // A read is retried after the timeout and succeeds.
    sandbox.inject_for(Fault::Hang(Duration::from_secs(5)), 1, [LIST]);
    let started = Instant::now();
    assert_eq!(client.handler_list().await.unwrap().len(), 1);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );

    // A payment is not: the error says the portal may have executed it.
    sandbox.inject_for(Fault::Hang(Duration::from_secs(5)), 1, [PAY]);
    let started = Instant::now();
    let err = common::failed_pay(&client, &pay).await;
    common::assert_transport(&err, TransportKind::Timeout);
    assert_eq!(err.code(), "TIMEOUT");
    assert_eq!(err.retry_class(), RetryClass::Ambiguous);
    assert!(err.may_have_executed());
    common::assert_within(started, Duration::from_millis(1000));
    assert_eq!(sandbox.pay_calls(pay.payment_id), 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_reply_executes_once_without_retry_safe() {
    let (sandbox, client, pay) = world(Style::Webhook, Duration::from_millis(300)).await;
    sandbox.inject_for(Fault::SlowReply(Duration::from_secs(3)), 1, [PAY]);
    let err = common::failed_pay(&client, &pay).await;
    assert_eq!(err.code(), "TIMEOUT");
    assert!(err.may_have_executed());
    assert_eq!(
        sandbox.pay_calls(pay.payment_id),
        1,
        "executed once, not repeated"
    );
    assert!(sandbox.payment(pay.payment_id).unwrap().paid);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_is_not_retried_without_retry_safe() {
    let (sandbox, client, pay) = world(Style::Webhook, Duration::from_secs(5)).await;

    // The reply is lost after the portal marked the payment paid.
    sandbox.inject_for(Fault::DropAfterExecution, 1, [PAY]);
    let err = common::failed_pay(&client, &pay).await;
    common::assert_transport(&err, TransportKind::Connection);
    assert!(err.may_have_executed());
    assert_eq!(
        sandbox.pay_calls(pay.payment_id),
        1,
        "exactly one call reached the method"
    );

    // Dropped before execution: still one request only. Two faults are queued; after the
    // failed call the second is still waiting, so the client sent exactly one request.
    sandbox.inject_for(Fault::DropConnection, 2, [PAY]);
    let err = common::failed_pay(&client, &pay).await;
    assert_eq!(err.code(), "CONNECTION_BROKEN");
    let err = client.pay_payment(&pay, Retry::Never).await.unwrap_err();
    assert_eq!(
        err.code(),
        "CONNECTION_BROKEN",
        "the second fault was still queued"
    );
    assert_eq!(sandbox.pay_calls(pay.payment_id), 1);
    assert!(client.pay_payment(&pay, Retry::Never).await.unwrap());
    assert_eq!(sandbox.pay_calls(pay.payment_id), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_is_retried_when_marked_safe() {
    let (sandbox, client, pay) = world(Style::Webhook, Duration::from_secs(5)).await;
    sandbox.inject_for(Fault::DropAfterExecution, 1, [PAY]);
    assert!(client.pay_payment(&pay, Retry::Safe).await.unwrap());
    // The caller declared the repeat harmless; the portal answers true again.
    assert_eq!(sandbox.pay_calls(pay.payment_id), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn expired_token_is_refreshed_and_the_unsafe_call_sent_again() {
    let (sandbox, client, pay) = world(Style::OAuth, Duration::from_secs(5)).await;
    sandbox.inject_for(Fault::ExpiredToken, 1, [PAY]);
    assert!(client.pay_payment(&pay, Retry::Never).await.unwrap());
    assert_eq!(sandbox.refresh_count(), 1);
    assert_eq!(client.token_refresh_count(), 1);
    assert_eq!(sandbox.pay_calls(pay.payment_id), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn attempts_are_bounded() {
    let sandbox = common::sandbox().await;
    let client = common::webhook_client_with(&sandbox, |b| {
        b.retry(RetryConfig {
            max_attempts: 3,
            ..common::fast_retry()
        })
    });
    sandbox.inject(Fault::InternalServerError, 4);
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(err.code(), "INTERNAL_SERVER_ERROR");
    // Exactly three attempts: the fourth fault is still queued for the next request.
    let err = client
        .call::<_, Value>(LIST, &json!({}), Retry::Never)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INTERNAL_SERVER_ERROR");
    assert!(client.handler_list().await.unwrap().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn total_time_is_bounded() {
    let sandbox = common::sandbox().await;
    let client = common::webhook_client_with(&sandbox, |b| {
        b.retry(RetryConfig {
            max_attempts: 100,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(100),
            max_total: Duration::from_millis(600),
        })
    });
    sandbox.inject(Fault::QueryLimitExceeded, 1000);
    let started = Instant::now();
    let err = client.handler_list().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.code(), "QUERY_LIMIT_EXCEEDED");
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed <= Duration::from_millis(1200),
        "{elapsed:?}"
    );

    // The per-request timeout is cut to what is left of max_total.
    let client = common::webhook_client_with(&sandbox, |b| {
        b.timeout(Duration::from_secs(30)).retry(RetryConfig {
            max_total: Duration::from_millis(400),
            ..common::fast_retry()
        })
    });
    sandbox.clear_faults();
    sandbox.inject(Fault::Hang(Duration::from_secs(10)), 1);
    let started = Instant::now();
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(err.code(), "TIMEOUT");
    common::assert_within(started, Duration::from_millis(1500));
    sandbox.shutdown().await;
}
