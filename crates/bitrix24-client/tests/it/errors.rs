//! Every error code the portal documents for these methods, as the client reports it:
//! the right variant, code, HTTP status and retry classification.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use b24pay_sandbox::{Fault, NewPayment};
use bitrix24_client::{
    Auth, Client, EntityRegistryType, Error, HandlerSettings, HandlerUpdate, ListQuery,
    MemoryTokenStore, MethodError, OAuthConfig, OAuthTokens, PayInvoice, PayPayment, PaySystemRef,
    PsExtras, Retry, RetryClass, RetryConfig, SettingsUpdate, SystemError,
};
use common::{b24pay_handler, b24pay_paysystem, Style};
use serde_json::{json, Value};

fn method_error(err: &Error) -> (&MethodError, u16) {
    match err {
        Error::Method { code, status, .. } => (code, *status),
        other => panic!("expected a method error, got {other:?}"),
    }
}

fn system_error(err: &Error) -> (&SystemError, u16) {
    match err {
        Error::System { code, status, .. } => (code, *status),
        other => panic!("expected a system error, got {other:?}"),
    }
}

#[tokio::test]
async fn method_errors() {
    let sandbox = common::sandbox().await;
    let client = common::client(&sandbox, Style::Webhook);
    let (handler_id, ps) = common::setup_order_paysystem(&client).await;

    // ERROR_CHECK_FAILURE: no FORM_DATA/CHECKOUT_DATA/IFRAME_DATA.
    let mut bad = b24pay_handler("other", "http://localhost:8080/");
    bad.settings = HandlerSettings {
        codes: bad.settings.codes,
        ..HandlerSettings::default()
    };
    let err = client
        .handler_add(&bad, Retry::IfNotExecuted)
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::CheckFailure, 400));
    assert!(err.description().unwrap().contains("IFRAME_DATA"), "{err}");
    assert_eq!(err.retry_class(), RetryClass::Permanent);
    assert!(!err.may_have_executed());

    // ERROR_HANDLER_ALREADY_EXIST.
    let err = client
        .handler_add(&b24pay_handler("b24pay", "http://x/"), Retry::Safe)
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::HandlerAlreadyExist, 400));

    // ERROR_HANDLER_NOT_FOUND: unknown handler; and settings.update with empty SETTINGS.
    let err = client
        .handler_update(
            9999,
            &HandlerUpdate {
                name: Some("x".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        method_error(&err.unwrap_err()),
        (&MethodError::HandlerNotFound, 400)
    );
    let empty = SettingsUpdate {
        id: ps,
        person_type_id: Some(1),
        settings: Default::default(),
    };
    let err = client.settings_update(&empty).await.unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::HandlerNotFound, 400));
    let mut unknown_handler = b24pay_paysystem("nope", EntityRegistryType::Order, 1);
    unknown_handler.xml_id = None;
    let err = client
        .paysystem_add(&unknown_handler, Retry::IfNotExecuted)
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::HandlerNotFound, 400));

    // ERROR_HANDLER_UPDATE: a FIELDS key the method does not know.
    let err = client
        .call::<_, Value>(
            "sale.paysystem.handler.update",
            &json!({"ID": handler_id, "FIELDS": {"COLOR": "red"}}),
            Retry::Safe,
        )
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::HandlerUpdate, 400));

    // ERROR_PERSON_TYPE_NOT_FOUND: person type 3 is a CRM_INVOICE payer type.
    let err = client
        .paysystem_add(
            &b24pay_paysystem("b24pay", EntityRegistryType::Order, 3),
            Retry::IfNotExecuted,
        )
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::PersonTypeNotFound, 400));

    // ERROR_PAY_SYSTEM_ADD: an invalid Y/N value.
    let err = client
        .call::<_, Value>(
            "sale.paysystem.add",
            &json!({"NAME": "x", "PERSON_TYPE_ID": 1, "BX_REST_HANDLER": "b24pay", "ENTITY_REGISTRY_TYPE": "ORDER", "ACTIVE": "maybe"}),
            Retry::IfNotExecuted,
        )
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::PaySystemAdd, 400));

    // ERROR_PAY_SYSTEM_NOT_FOUND.
    let err = client
        .paysystem_delete(9999, Retry::IfNotExecuted)
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::PaySystemNotFound, 400));

    // ERROR_PAY_SYSTEM_DELETE: the handler is still used by a pay system.
    let err = client
        .handler_delete(handler_id, Retry::IfNotExecuted)
        .await
        .unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::PaySystemDelete, 400));

    // ERROR_CORE: a field SELECT does not allow.
    let query = ListQuery {
        select: vec!["PASSWORD".into()],
        ..ListQuery::default()
    };
    let err = client.paysystem_list(&query).await.unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::Core, 400));

    // ERROR_CHECK_FAILURE from pay.payment: the payment belongs to another pay system.
    let other = sandbox
        .create_payment(NewPayment::order("10.00", "RUB"))
        .unwrap();
    let pay = PayPayment {
        payment_id: other.payment_id,
        paysystem_id: ps,
        extras: PsExtras::default(),
    };
    let err = client.pay_payment(&pay, Retry::Safe).await.unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::CheckFailure, 400));
    assert_eq!(
        sandbox
            .payment(other.payment_id)
            .unwrap()
            .rejected_pay_calls,
        1,
        "not retried"
    );
    assert!(!sandbox.payment(other.payment_id).unwrap().paid);

    // ERROR_INTERNAL_INVOICE_NOT_FOUND and ERROR_PROCESS_REQUEST_RESULT from pay.invoice.
    let err = client
        .pay_invoice(
            &PayInvoice {
                invoice_id: 9999,
                pay_system: PaySystemRef::Id(ps),
            },
            Retry::Safe,
        )
        .await
        .unwrap_err();
    assert_eq!(
        method_error(&err),
        (&MethodError::InternalInvoiceNotFound, 400)
    );
    let err = client
        .pay_invoice(
            &PayInvoice {
                invoice_id: 2,
                pay_system: PaySystemRef::Handler("b24pay".into()),
            },
            Retry::Safe,
        )
        .await
        .unwrap_err();
    assert_eq!(
        method_error(&err),
        (&MethodError::ProcessRequestResult, 400),
        "only an ORDER pay system exists"
    );
    let err = client
        .settings_invoice_get(9999, &PaySystemRef::Id(ps))
        .await
        .unwrap_err();
    assert_eq!(
        method_error(&err),
        (&MethodError::InternalInvoiceNotFound, 400)
    );

    // ERROR_METHOD_NOT_FOUND.
    let err = client
        .call::<_, Value>("sale.paysystem.nonexistent", &json!({}), Retry::Safe)
        .await
        .unwrap_err();
    assert_eq!(system_error(&err), (&SystemError::MethodNotFound, 404));
    assert!(!err.is_retryable());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn auth_errors() {
    let sandbox = common::sandbox().await;

    // ACCESS_DENIED: a wrong webhook code.
    let wrong = sandbox
        .webhook_url()
        .replace("sandboxwebhookcode0000", "wrongwebhookcode000000");
    let client = Client::builder(Auth::webhook(&wrong).unwrap())
        .rate_limit(None)
        .build()
        .unwrap();
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(method_error(&err), (&MethodError::AccessDenied, 403));
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains("wrongwebhookcode000000"), "{err}");

    // NO_AUTH_FOUND: an unknown OAuth access token (no refresh attempted for it).
    let config = common::oauth_config(&sandbox);
    let store = Arc::new(MemoryTokenStore::new());
    let auth = Auth::oauth(
        config,
        OAuthTokens::new("not-a-token-at-all", "not-a-refresh-token"),
        store.clone(),
    );
    let client = Client::builder(auth).rate_limit(None).build().unwrap();
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(system_error(&err), (&SystemError::NoAuthFound, 401));
    assert!(!err.is_retryable());
    assert_eq!(sandbox.refresh_count(), 0);
    assert_eq!(store.save_count(), 0);

    // expired_token: refreshed once; a token that expires again is reported, not refreshed again.
    let (builder, store) = common::builder(&sandbox, Style::OAuth);
    let client = builder.build().unwrap();
    sandbox.inject(Fault::ExpiredToken, 2);
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(system_error(&err), (&SystemError::ExpiredToken, 401));
    assert_eq!(sandbox.refresh_count(), 1);
    assert_eq!(store.unwrap().save_count(), 1);
    assert!(
        client.handler_list().await.unwrap().is_empty(),
        "the refreshed token works"
    );

    // invalid_client at the token endpoint: a TokenRefresh error, not retried.
    let config = OAuthConfig::new(&sandbox.base_url(), "wrong-client", "wrong-secret-value")
        .unwrap()
        .with_token_endpoint(&sandbox.oauth_token_endpoint())
        .unwrap();
    let tokens = sandbox.issue_oauth_tokens();
    let auth = Auth::oauth(
        config,
        OAuthTokens::new(tokens.access_token, tokens.refresh_token),
        Arc::new(MemoryTokenStore::new()),
    );
    let client = Client::builder(auth)
        .rate_limit(None)
        .retry(common::fast_retry())
        .build()
        .unwrap();
    sandbox.expire_access_tokens();
    let err = client.handler_list().await.unwrap_err();
    match &err {
        Error::TokenRefresh { code, status, .. } => {
            assert_eq!((code.as_str(), *status), ("invalid_client", 401))
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(
        sandbox.oauth_stats().rejected_refreshes,
        1,
        "one refresh attempt, not one per retry"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn system_errors_without_retries() {
    let sandbox = common::sandbox().await;
    let (builder, _) = common::builder(&sandbox, Style::Webhook);
    let client = builder.retry(RetryConfig::none()).build().unwrap();

    sandbox.inject(Fault::QueryLimitExceeded, 1);
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(system_error(&err), (&SystemError::QueryLimitExceeded, 503));
    assert_eq!(err.retry_class(), RetryClass::NotExecuted);

    sandbox.inject(
        Fault::OperationTimeLimit {
            reset_after: Duration::from_secs(7),
        },
        1,
    );
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(system_error(&err), (&SystemError::OperationTimeLimit, 429));
    let Error::System {
        operating_reset_at: Some(at),
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now + 5..=now + 9).contains(&at), "{at} vs {now}");

    sandbox.inject(Fault::InternalServerError, 1);
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(system_error(&err), (&SystemError::InternalServerError, 500));
    assert_eq!(err.retry_class(), RetryClass::Ambiguous);
    assert_eq!(err.code(), "INTERNAL_SERVER_ERROR");
    assert_eq!(err.http_status(), Some(500));

    // The portal's real leaky bucket, not an injected fault.
    sandbox.set_rate_limit(Some(b24pay_sandbox::RateLimit {
        drain_per_second: 0.5,
        burst: 2,
    }));
    client.handler_list().await.unwrap();
    client.handler_list().await.unwrap();
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(system_error(&err), (&SystemError::QueryLimitExceeded, 503));
    assert_eq!(sandbox.rate_limited_calls(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn connection_refused_is_not_executed() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::builder(
        Auth::webhook(&format!("http://127.0.0.1:{port}/rest/1/abcdefgh1234/")).unwrap(),
    )
    .rate_limit(None)
    .retry(RetryConfig {
        max_attempts: 2,
        ..common::fast_retry()
    })
    .build()
    .unwrap();
    let pay = common::pay_payment_1();
    let err = common::failed_pay(&client, &pay).await;
    common::assert_transport(&err, bitrix24_client::TransportKind::Connect);
    assert_eq!(err.code(), "CONNECT_FAILED");
    assert!(!err.may_have_executed());
    assert!(!err.to_string().contains("abcdefgh1234"), "{err}");
}
