//! localstripe's signed webhooks, verified and parsed by the adapter's verifier.

use super::localstripe::LocalStripe;
use super::support::*;
use b24pay_companion::acquirer::stripe::webhook::{EventKind, WebhookVerifier};
use b24pay_companion::config::Secret;

#[tokio::test]
async fn signed_webhooks_from_localstripe_verify_and_parse() {
    let ls = LocalStripe::start();
    let (url, mut deliveries) = webhook_receiver().await;
    let secret = "whsec_b24pay_localstripe";
    let registered = reqwest::Client::new()
        .post(format!("{}/_config/webhooks/b24pay", ls.base))
        .form(&[
            ("url", url.as_str()),
            ("secret", secret),
            ("events[]", "payment_intent.succeeded"),
            ("events[]", "payment_intent.payment_failed"),
        ])
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());
    let acq = acquirer(&ls);
    let (approved, _) = pay(&acq, APPROVED, "pa_wh1", money("5.00", "EUR")).await;
    let (declined, _) = pay(&acq, DECLINED_ON_CHARGE, "pa_wh2", money("5.00", "EUR")).await;

    let verifier = WebhookVerifier::new(Secret::new(secret));
    let forged = WebhookVerifier::new(Secret::new("whsec_someone_else"));
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let (signature, body) =
            tokio::time::timeout(std::time::Duration::from_secs(30), deliveries.recv())
                .await
                .expect("localstripe delivers its webhooks within seconds")
                .unwrap();
        assert!(forged.event(signature.as_deref(), &body).is_err());
        let event = verifier
            .event(signature.as_deref(), &body)
            .expect("verifies");
        seen.push(match event.kind {
            EventKind::PaymentSucceeded(pi) => {
                ("succeeded", pi.attempt_id().map(String::from), pi.id)
            }
            EventKind::PaymentFailed(pi) => ("failed", pi.attempt_id().map(String::from), pi.id),
            other => panic!("not subscribed: {other:?}"),
        });
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("failed", Some(attempt("pa_wh2").to_string()), declined),
            ("succeeded", Some(attempt("pa_wh1").to_string()), approved),
        ]
    );
}

/// A local endpoint that hands every delivery (its `Stripe-Signature` and raw body) to the test.
async fn webhook_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(Option<String>, Vec<u8>)>,
) {
    use axum::{extract::State, http::HeaderMap, routing::post, Router};
    type Tx = tokio::sync::mpsc::UnboundedSender<(Option<String>, Vec<u8>)>;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    async fn receive(State(tx): State<Tx>, headers: HeaderMap, body: axum::body::Bytes) {
        let signature = headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let _ = tx.send((signature, body.to_vec()));
    }
    let app = Router::new()
        .route("/webhooks/stripe", post(receive))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/stripe", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}
