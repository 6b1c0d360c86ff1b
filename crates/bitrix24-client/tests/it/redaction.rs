//! Secrets (webhook code, access and refresh tokens, client secret) never appear in `Debug`
//! output, error messages, or this crate's logs, on success or failure paths.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24pay_sandbox::{Fault, NewPayment, Sandbox};
use bitrix24_client::{
    Auth, Client, OAuthConfig, OAuthTokens, PayPayment, PsExtras, Retry, RetryConfig,
};
use tracing_subscriber::fmt::MakeWriter;

const CODE: &str = "zzsecretwebhookcode4711";

/// Collects everything this crate logs, at every level, with span fields.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

fn capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        // Everything in the process (this crate, reqwest, hyper, the sandbox) except the
        // sandbox's tower-http request spans, which log each full URI on the server side:
        // what a portal logs about its own requests is not the client's to control.
        .with_env_filter("trace,tower_http=off")
        .finish();
    (capture, tracing::subscriber::set_default(subscriber))
}

/// What `Debug` prints of the credentials and of the client holding them (plain and pretty).
fn debug_texts(auth: &Auth, client: &Client) -> Vec<String> {
    vec![
        format!("{auth:?}"),
        format!("{auth:#?}"),
        format!("{client:?}"),
    ]
}

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} leaks a secret:\n{text}");
    }
}

#[tokio::test]
async fn webhook_code_never_leaks() {
    let (logs, _guard) = capture();
    let sandbox = Sandbox::builder().webhook_code(CODE).start().await.unwrap();
    assert!(sandbox.webhook_url().contains(CODE));
    let auth = Auth::webhook(&sandbox.webhook_url()).unwrap();
    let client = Client::builder(auth.clone())
        .rate_limit(None)
        .timeout(Duration::from_millis(300))
        .retry(RetryConfig {
            max_attempts: 2,
            ..common::fast_retry()
        })
        .build()
        .unwrap();
    let mut texts = debug_texts(&auth, &client);

    // Success, and every kind of failure.
    let (_, ps) = common::setup_order_paysystem(&client).await;
    let created = sandbox
        .create_payment(NewPayment::order("10.00", "RUB").with_pay_system(ps))
        .unwrap();
    let pay = PayPayment {
        payment_id: created.payment_id,
        paysystem_id: ps,
        extras: PsExtras::default(),
    };
    for fault in [
        Fault::InternalServerError,
        Fault::QueryLimitExceeded,
        Fault::Hang(Duration::from_secs(3)),
        Fault::DropConnection,
        Fault::DropAfterExecution,
    ] {
        sandbox.inject(fault, 2);
        let err = client.pay_payment(&pay, Retry::Safe).await.unwrap_err();
        texts.push(format!("{err} {err:?} {err:#?}"));
        sandbox.clear_faults();
    }
    let err = client
        .call::<_, serde_json::Value>(
            "sale.paysystem.nonexistent",
            &serde_json::json!({}),
            Retry::Safe,
        )
        .await
        .unwrap_err();
    texts.push(format!("{err} {err:?}"));
    let wrong = Auth::webhook(
        &sandbox
            .webhook_url()
            .replace(CODE, "zzwrongwebhookcode0815"),
    )
    .unwrap();
    let err = Client::builder(wrong)
        .rate_limit(None)
        .build()
        .unwrap()
        .handler_list()
        .await
        .unwrap_err();
    texts.push(format!("{err} {err:?}"));
    let err = Auth::webhook(&format!("ftp://portal/rest/1/{CODE}/")).unwrap_err();
    texts.push(format!("{err} {err:?}"));

    assert!(texts
        .iter()
        .any(|t| t.contains("TIMEOUT") || t.contains("timed out")));
    for text in &texts {
        assert_clean("Debug/Display", text, &[CODE, "zzwrongwebhookcode0815"]);
    }
    let logs = logs.text();
    assert!(
        logs.contains("sale.paysystem.pay.payment"),
        "logs name the method:\n{logs}"
    );
    assert!(logs.contains("attempt"), "logs carry the attempt:\n{logs}");
    assert_clean("logs", &logs, &[CODE]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn oauth_tokens_and_client_secret_never_leak() {
    let (logs, _guard) = capture();
    let secret = "zzclientsecretvalue000000000000000000000000042";
    let sandbox = Sandbox::builder()
        .oauth_client("app.zz.1", secret)
        .start()
        .await
        .unwrap();
    let issued = sandbox.issue_oauth_tokens();
    let config = OAuthConfig::new(&sandbox.base_url(), "app.zz.1", secret)
        .unwrap()
        .with_token_endpoint(&sandbox.oauth_token_endpoint())
        .unwrap();
    let store = Arc::new(bitrix24_client::MemoryTokenStore::new());
    let auth = Auth::oauth(
        config.clone(),
        OAuthTokens::new(issued.access_token.clone(), issued.refresh_token.clone()),
        store.clone(),
    );
    let client = Client::builder(auth.clone())
        .rate_limit(None)
        .retry(common::fast_retry())
        .build()
        .unwrap();
    let mut texts = debug_texts(&auth, &client);
    texts.push(format!("{config:?}"));

    client.handler_list().await.unwrap();
    sandbox.expire_access_tokens();
    client.handler_list().await.unwrap();
    let refreshed = store.latest().unwrap();
    texts.push(format!("{refreshed:?} {:?}", client.oauth_tokens()));
    sandbox.inject(Fault::InternalServerError, 10);
    let err = client.handler_list().await.unwrap_err();
    texts.push(format!("{err} {err:?}"));
    sandbox.clear_faults();

    // A refused refresh (wrong secret) and a refused access token.
    let bad_config = OAuthConfig::new(
        &sandbox.base_url(),
        "app.zz.1",
        "zzwrongclientsecret00000000",
    )
    .unwrap()
    .with_token_endpoint(&sandbox.oauth_token_endpoint())
    .unwrap();
    let fresh = sandbox.issue_oauth_tokens();
    let bad = Client::builder(Auth::oauth(
        bad_config,
        OAuthTokens::new(fresh.access_token.clone(), fresh.refresh_token.clone()),
        store.clone(),
    ))
    .rate_limit(None)
    .build()
    .unwrap();
    sandbox.expire_access_tokens();
    let err = bad.handler_list().await.unwrap_err();
    assert_eq!(err.code(), "invalid_client");
    texts.push(format!("{err} {err:?}"));

    let secrets = [
        secret,
        "zzwrongclientsecret00000000",
        issued.access_token.as_str(),
        issued.refresh_token.as_str(),
        refreshed.access_token.expose(),
        refreshed.refresh_token.expose(),
        fresh.access_token.as_str(),
        fresh.refresh_token.as_str(),
    ];
    for text in &texts {
        assert_clean("Debug/Display", text, &secrets);
    }
    let logs = logs.text();
    assert!(logs.contains("refreshed"), "the refresh is logged:\n{logs}");
    assert_clean("logs", &logs, &secrets);
    sandbox.shutdown().await;
}
