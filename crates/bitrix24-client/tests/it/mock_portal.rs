//! Wire details and error mappings the sandbox does not produce, against a tiny axum portal
//! whose answers each test scripts: the request shape the client sends, system errors such
//! as `insufficient_scope` and `OVERLOAD_LIMIT`, unknown codes, non-JSON bodies, unexpected
//! shapes, `Retry-After`, redirects, and OAuth server failures.

use crate::common;
use crate::common::mock::{error_body, fast, Mock};

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use bitrix24_client::{
    Auth, Client, Error, MemoryTokenStore, MethodError, OAuthConfig, OAuthTokens, PayPayment,
    ProtocolKind, PsExtras, Retry, RetryClass, RetryConfig, SystemError,
};
use serde_json::{json, Value};

#[tokio::test]
async fn requests_are_json_posts_in_both_call_styles() {
    let mock = Mock::start().await;
    let client = mock.webhook_client(fast());
    let pay = PayPayment {
        payment_id: 12,
        paysystem_id: 3,
        extras: PsExtras {
            ps_sum: Some("10.50".into()),
            ..PsExtras::default()
        },
    };
    assert!(client
        .pay_payment(&pay, Retry::IfNotExecuted)
        .await
        .unwrap());
    let seen = mock.seen();
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(
        seen[0].uri,
        "/rest/7/mockcode123456/sale.paysystem.pay.payment"
    );
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(
        body,
        json!({"PAYMENT_ID": 12, "PAY_SYSTEM_ID": 3, "PS_SUM": "10.50"})
    );

    // OAuth: `/rest/METHOD`, the token in the JSON body (never in the URL).
    let config = OAuthConfig::new(&format!("{}/", mock.base), "app", "secretsecret").unwrap();
    let auth = Auth::oauth(
        config,
        OAuthTokens::new("access-token-1", "refresh-token-1"),
        Arc::new(MemoryTokenStore::new()),
    );
    let client = Client::builder(auth).rate_limit(None).build().unwrap();
    mock.reply(
        200,
        r#"{"result":{"B24PAY_PAYMENT_SUM":3000,"B24PAY_PAYMENT_PAID":"N","EMPTY":null}}"#,
    );
    let values = client.settings_payment_get(12, 3).await.unwrap();
    assert_eq!(values["B24PAY_PAYMENT_SUM"], "3000");
    assert_eq!(values["B24PAY_PAYMENT_PAID"], "N");
    assert_eq!(values["EMPTY"], "");
    let seen = mock.seen();
    assert_eq!(seen[1].uri, "/rest/sale.paysystem.settings.payment.get");
    let body: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(
        body,
        json!({"auth": "access-token-1", "PAYMENT_ID": 12, "PAY_SYSTEM_ID": 3})
    );
}

#[tokio::test]
async fn system_errors_the_sandbox_does_not_produce() {
    let mock = Mock::start().await;
    let client = mock.webhook_client(fast());
    for (code, status, retryable) in [
        ("insufficient_scope", 403, false),
        ("OVERLOAD_LIMIT", 503, false),
        ("INVALID_CREDENTIALS", 403, false),
        ("INVALID_REQUEST", 400, false),
        ("user_access_error", 403, false),
        ("PORTAL_DELETED", 500, false),
        ("ERROR_BATCH_METHOD_NOT_ALLOWED", 405, false),
        ("ERROR_BATCH_LENGTH_EXCEEDED", 400, false),
        ("ERROR_MANIFEST_IS_NOT_AVAILABLE", 404, false),
        ("ERROR_UNEXPECTED_ANSWER", 500, true),
    ] {
        let before = mock.seen().len();
        for _ in 0..3 {
            mock.reply(status, error_body(code, "scripted"));
        }
        let err = client.handler_list().await.unwrap_err();
        assert!(
            matches!(&err, Error::System { code: c, status: s, .. } if c.as_str() == code && *s == status),
            "{err:?}"
        );
        assert!(err.code() == code && err.http_status() == Some(status));
        assert_eq!(err.is_retryable(), retryable, "{code}");
        let attempts = mock.seen().len() - before;
        assert_eq!(attempts, if retryable { 3 } else { 1 }, "{code}");
        mock.clear_answers();
    }
}

#[tokio::test]
async fn unknown_codes_are_preserved() {
    let mock = Mock::start().await;
    let client = mock.webhook_client(RetryConfig::none());
    mock.reply(400, error_body("ERROR_BRAND_NEW", "something new"));
    let err = client.handler_list().await.unwrap_err();
    assert!(
        matches!(&err, Error::Method { code: MethodError::Other(c), .. } if c == "ERROR_BRAND_NEW")
    );
    assert_eq!(
        (err.code(), err.description()),
        ("ERROR_BRAND_NEW", Some("something new"))
    );

    mock.reply(502, error_body("GATEWAY_TROUBLE", ""));
    let err = client.handler_list().await.unwrap_err();
    assert!(
        matches!(&err, Error::System { code: SystemError::Other(c), .. } if c == "GATEWAY_TROUBLE")
    );
    assert_eq!(err.retry_class(), RetryClass::Ambiguous);

    // An error inside a 200 envelope is still an error.
    mock.reply(200, error_body("ERROR_CHECK_FAILURE", "odd but seen"));
    let err = client.handler_list().await.unwrap_err();
    assert!(matches!(
        err,
        Error::Method {
            code: MethodError::CheckFailure,
            status: 200,
            ..
        }
    ));
}

#[tokio::test]
async fn protocol_errors() {
    let mock = Mock::start().await;
    let client = mock.webhook_client(fast());
    let html = "<html>Bad Gateway</html>";

    // A proxy's HTML page on 502 is retried like a 5xx.
    mock.reply(502, html)
        .reply(502, html)
        .reply(200, r#"{"result":[]}"#);
    assert!(client.handler_list().await.unwrap().is_empty());
    assert_eq!(mock.seen().len(), 3);

    mock.reply(502, html).reply(502, html).reply(502, html);
    let err = client.handler_list().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol {
                kind: ProtocolKind::NotJson,
                status: 502,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "NOT_JSON");
    assert_eq!(mock.seen().len(), 6);

    // …but not for a payment, which may have been executed.
    mock.reply(502, html);
    let pay = common::pay_payment_1();
    let err = common::failed_pay(&client, &pay).await;
    assert!(err.may_have_executed());
    assert_eq!(mock.seen().len(), 7);

    // A 200 that is not JSON: the call ran, nothing to retry.
    mock.reply(200, "OK");
    let err = client.handler_list().await.unwrap_err();
    assert!(matches!(
        err,
        Error::Protocol {
            kind: ProtocolKind::NotJson,
            status: 200,
            ..
        }
    ));
    assert!(!err.is_retryable() && err.may_have_executed());
    assert_eq!(mock.seen().len(), 8);

    // JSON of the wrong shape.
    mock.reply(200, r#"{"ok":1}"#);
    let err = client.handler_list().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol {
                kind: ProtocolKind::UnexpectedShape,
                ..
            }
        ),
        "{err:?}"
    );
    mock.reply(200, r#"{"result":"sk_live_secret_value"}"#);
    let err = client
        .handler_add(
            &serde_json::from_value(json!({"NAME": "n", "CODE": "c", "SETTINGS": {"CODES": {}, "IFRAME_DATA": {"ACTION_URI": "https://x/"}}}))
                .unwrap(),
            Retry::Never,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNEXPECTED_SHAPE");
    assert!(
        !format!("{err} {err:?}").contains("sk_live_secret_value"),
        "{err}"
    );
    // Numbers as strings, Y/N and "" are not shape errors.
    mock.reply(
        200,
        r#"{"result":[{"ID":"5","NAME":"Cards","ACTIVE":"Y","SORT":"100","PERSON_TYPE_ID":"1","XML_ID":"","NEW_WINDOW":"N","LOGOTYPE":null,"ACTION_FILE":"b24pay","ENTITY_REGISTRY_TYPE":"ORDER"}]}"#,
    );
    let list = client
        .paysystem_list(&bitrix24_client::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(list[0].id, Some(5));
    assert_eq!(list[0].sort, Some(100));
    assert_eq!(list[0].active, Some(true));
    assert_eq!(list[0].xml_id, None);
    assert_eq!(list[0].extra.get("LOGOTYPE"), Some(&Value::Null));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let mock = Mock::start().await;
    let client = mock.webhook_client(fast());
    mock.reply_with(
        503,
        vec![("retry-after", "1".into())],
        error_body("QUERY_LIMIT_EXCEEDED", "Too many requests"),
    )
    .reply(200, r#"{"result":[]}"#);
    let started = Instant::now();
    client.handler_list().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mock = Mock::start().await;
    let client = mock.webhook_client(fast());
    mock.reply_with(
        302,
        vec![("location", format!("{}/elsewhere/", mock.base))],
        "",
    );
    let err = client.handler_list().await.unwrap_err();
    assert_eq!(err.http_status(), Some(302));
    assert_eq!(
        mock.seen().len(),
        1,
        "the webhook code was not sent anywhere else"
    );
}

fn oauth_client(mock: &Mock, store: Arc<MemoryTokenStore>) -> Client {
    let config = OAuthConfig::new(&mock.base, "app.1", "client-secret-000")
        .unwrap()
        .with_token_endpoint(&format!("{}/oauth/token/", mock.base))
        .unwrap();
    let auth = Auth::oauth(config, OAuthTokens::new("old-access", "old-refresh"), store);
    Client::builder(auth)
        .rate_limit(None)
        .retry(fast())
        .build()
        .unwrap()
}

#[tokio::test]
async fn oauth_server_failures() {
    let mock = Mock::start().await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = oauth_client(&mock, store.clone());
    let expired = error_body("expired_token", "The access token provided has expired.");
    let tokens = json!({"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": "3600", "member_id": "m1"}).to_string();

    // The OAuth server fails once with a 5xx: the whole call is retried and recovers.
    mock.reply(401, expired.clone())
        .reply(500, error_body("server_error", "try later"))
        .reply(401, expired.clone())
        .reply(200, tokens)
        .reply(200, r#"{"result":[]}"#);
    client.handler_list().await.unwrap();
    let seen = mock.seen();
    let paths: Vec<&str> = seen
        .iter()
        .map(|s| s.uri.split('?').next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/rest/sale.paysystem.handler.list",
            "/oauth/token/",
            "/rest/sale.paysystem.handler.list",
            "/oauth/token/",
            "/rest/sale.paysystem.handler.list"
        ]
    );
    assert_eq!(seen[1].method, Method::GET);
    let query = seen[1].uri.split('?').nth(1).unwrap();
    for part in [
        "grant_type=refresh_token",
        "client_id=app.1",
        "client_secret=client-secret-000",
        "refresh_token=old-refresh",
    ] {
        assert!(query.contains(part), "{query}");
    }
    assert!(seen[4].body.contains("new-access"));
    let saved = store.latest().unwrap();
    assert_eq!(
        (saved.access_token.expose(), saved.refresh_token.expose()),
        ("new-access", "new-refresh")
    );
    assert_eq!(saved.member_id.as_deref(), Some("m1"));

    // A spent refresh token: reported, not retried.
    mock.reply(401, expired)
        .reply(400, error_body("invalid_grant", "Invalid refresh token"));
    let before = mock.seen().len();
    let err = client.handler_list().await.unwrap_err();
    assert!(
        matches!(&err, Error::TokenRefresh { code, status: 400, .. } if code == "invalid_grant"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(mock.seen().len() - before, 2);
    assert_eq!(store.save_count(), 1);
}
