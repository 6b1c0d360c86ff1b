//! Shared test fixtures: a sandbox portal, clients for both auth styles, and the b24pay
//! IFRAME handler the companion registers.
#![allow(dead_code)]

pub mod mock;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use b24pay_sandbox::{Sandbox, SandboxHandle};
use bitrix24_client::{
    Auth, Client, ClientBuilder, CodeSpec, DefaultValue, EntityRegistryType, EnumOptions,
    FieldSpec, HandlerAdd, HandlerSettings, IframeData, InputSpec, MemoryTokenStore, OAuthConfig,
    OAuthTokens, PayPayment, PaySystemAdd, Provider, PsExtras, RetryConfig, SettingValue,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Webhook,
    OAuth,
}

pub const STYLES: [Style; 2] = [Style::Webhook, Style::OAuth];

pub async fn sandbox() -> SandboxHandle {
    Sandbox::builder().start().await.expect("sandbox starts")
}

/// Short delays so that retry tests finish in well under a second each.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_total: Duration::from_secs(10),
    }
}

/// A client builder for the sandbox, without a client-side rate limit and with fast retries.
pub fn builder(
    sandbox: &SandboxHandle,
    style: Style,
) -> (ClientBuilder, Option<Arc<MemoryTokenStore>>) {
    let (auth, store) = match style {
        Style::Webhook => (Auth::webhook(&sandbox.webhook_url()).unwrap(), None),
        Style::OAuth => {
            let store = Arc::new(MemoryTokenStore::new());
            (oauth_auth(sandbox, store.clone()), Some(store))
        }
    };
    let builder = Client::builder(auth)
        .rate_limit(None)
        .retry(fast_retry())
        .timeout(Duration::from_secs(5));
    (builder, store)
}

/// The sandbox's OAuth app: its portal, client id and secret, and token endpoint.
pub fn oauth_config(sandbox: &SandboxHandle) -> OAuthConfig {
    OAuthConfig::new(
        &sandbox.base_url(),
        sandbox.oauth_client_id(),
        sandbox.oauth_client_secret(),
    )
    .unwrap()
    .with_token_endpoint(&sandbox.oauth_token_endpoint())
    .unwrap()
}

/// `pay.payment` for payment 1 of pay system 1 with no `PS_*` fields: for the tests where the
/// call never gets an answer that depends on them.
pub fn pay_payment_1() -> PayPayment {
    PayPayment {
        payment_id: 1,
        paysystem_id: 1,
        extras: PsExtras::default(),
    }
}

pub fn oauth_auth(sandbox: &SandboxHandle, store: Arc<MemoryTokenStore>) -> Auth {
    let tokens = sandbox.issue_oauth_tokens();
    let config = oauth_config(sandbox);
    Auth::oauth(
        config,
        OAuthTokens::new(tokens.access_token, tokens.refresh_token),
        store,
    )
}

/// A webhook client of the sandbox built from [`builder`]'s defaults as `configure` changes them.
pub fn webhook_client_with(
    sandbox: &SandboxHandle,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    configure(builder(sandbox, Style::Webhook).0)
        .build()
        .unwrap()
}

/// Fails unless `started` is less than `bound` ago.
#[track_caller]
pub fn assert_within(started: Instant, bound: Duration) {
    let elapsed = started.elapsed();
    assert!(elapsed < bound, "{elapsed:?}, bound {bound:?}");
}

/// `pay.payment` sent once at most (not retried once it may have run), expected to fail.
pub async fn failed_pay(client: &Client, pay: &PayPayment) -> bitrix24_client::Error {
    client
        .pay_payment(pay, bitrix24_client::Retry::IfNotExecuted)
        .await
        .expect_err("the payment call fails")
}

/// `err` is a transport error of `kind`.
#[track_caller]
pub fn assert_transport(err: &bitrix24_client::Error, kind: bitrix24_client::TransportKind) {
    assert!(
        matches!(err, bitrix24_client::Error::Transport { kind: k, .. } if *k == kind),
        "{err:?}"
    );
}

/// `n` handler lists from `client` at once; each must succeed.
pub async fn handler_lists_at_once(client: &Client, n: usize) {
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.handler_list().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

pub fn client(sandbox: &SandboxHandle, style: Style) -> Client {
    builder(sandbox, style).0.build().unwrap()
}

/// The handler the companion's `register` creates (TEAM.md's fixed decisions).
pub fn b24pay_handler(code: &str, action_uri: &str) -> HandlerAdd {
    let mut codes = BTreeMap::new();
    let named = |name: &str, sort: i64| CodeSpec {
        name: Some(name.into()),
        sort: Some(sort),
        ..CodeSpec::default()
    };
    let from_provider = |name: &str, sort: i64, key: Provider, value: &str| CodeSpec {
        default: Some(DefaultValue {
            provider_key: key,
            provider_value: value.into(),
        }),
        group: Some("PAYMENT".into()),
        ..named(name, sort)
    };
    codes.insert("B24PAY_SHOP_ID".into(), named("Shop id", 100));
    codes.insert(
        "B24PAY_SECRET_KEY".into(),
        CodeSpec {
            description: Some("Never sent to the browser".into()),
            ..named("Secret key", 200)
        },
    );
    codes.insert(
        "B24PAY_MODE".into(),
        CodeSpec {
            input: Some(InputSpec::enumeration(EnumOptions::new([
                ("TEST", "Test"),
                ("LIVE", "Live"),
            ]))),
            default: Some(DefaultValue {
                provider_key: Provider::Value,
                provider_value: "TEST".into(),
            }),
            ..named("Mode", 300)
        },
    );
    codes.insert("B24PAY_LANGUAGE".into(), named("Language", 400));
    for (code, name, sort, key, value) in [
        ("B24PAY_PAYMENT_SUM", "Sum", 500, Provider::Payment, "SUM"),
        (
            "B24PAY_PAYMENT_CURRENCY",
            "Currency",
            510,
            Provider::Payment,
            "CURRENCY",
        ),
        (
            "B24PAY_PAYMENT_PAID",
            "Paid",
            520,
            Provider::Payment,
            "PAID",
        ),
        (
            "B24PAY_PAYMENT_NUMBER",
            "Number",
            530,
            Provider::Payment,
            "ACCOUNT_NUMBER",
        ),
        ("B24PAY_ORDER_ID", "Order", 540, Provider::Order, "ID"),
    ] {
        codes.insert(code.into(), from_provider(name, sort, key, value));
    }
    let mut fields = BTreeMap::new();
    fields.insert("shopId".into(), FieldSpec::setting("B24PAY_SHOP_ID"));
    fields.insert("lang".into(), FieldSpec::setting("B24PAY_LANGUAGE"));
    let mut settings = HandlerSettings::iframe(
        codes,
        IframeData {
            action_uri: action_uri.into(),
            fields,
        },
    );
    settings.client_type = Some(bitrix24_client::ClientType::B2c);
    settings.currency = vec!["RUB".into(), "USD".into(), "EUR".into()];
    HandlerAdd {
        name: "b24pay cards".into(),
        code: code.into(),
        sort: Some(100),
        settings,
    }
}

/// A pay system for the b24pay handler in `registry`, with a shop id and secret key.
pub fn b24pay_paysystem(
    code: &str,
    registry: EntityRegistryType,
    person_type_id: u64,
) -> PaySystemAdd {
    let mut settings = BTreeMap::new();
    settings.insert("B24PAY_SHOP_ID".into(), SettingValue::value("shop-42"));
    settings.insert(
        "B24PAY_SECRET_KEY".into(),
        SettingValue::value("sk_test_very_secret"),
    );
    settings.insert("B24PAY_MODE".into(), SettingValue::value("TEST"));
    PaySystemAdd {
        name: "Cards (b24pay)".into(),
        description: Some("Pay by card".into()),
        person_type_id,
        bx_rest_handler: code.into(),
        entity_registry_type: Some(registry),
        active: Some(true),
        settings: Some(settings),
        xml_id: Some(format!("b24pay-{person_type_id}")),
        ..PaySystemAdd::default()
    }
}

/// Registers the handler and an ORDER pay system; returns (handler id, pay system id).
pub async fn setup_order_paysystem(client: &Client) -> (u64, u64) {
    let handler = client
        .handler_add(
            &b24pay_handler("b24pay", "http://localhost:8080/"),
            bitrix24_client::Retry::IfNotExecuted,
        )
        .await
        .unwrap();
    let ps = client
        .paysystem_add(
            &b24pay_paysystem("b24pay", EntityRegistryType::Order, 1),
            bitrix24_client::Retry::IfNotExecuted,
        )
        .await
        .unwrap();
    (handler, ps)
}
