//! The Stripe adapter through the `Acquirer` trait against localstripe, a stateful Stripe fake
//! started by these tests (see `stripe/localstripe.rs`). localstripe ignores `Idempotency-Key`,
//! so the keys are checked in its request log, never relied on to deduplicate.

#[path = "stripe/localstripe.rs"]
mod localstripe;

use b24pay_companion::acquirer::stripe::webhook::{EventKind, WebhookVerifier};
use b24pay_companion::acquirer::{
    step_key, Acquirer, AcquirerError, ActionResult, Card, ChargeMetadata, ChargeOutcome,
    ChargeRequest, ChargeStatus, CustomerAction, RefundOutcome, RefundRequest, ResumeRequest,
    StripeAcquirer,
};
use b24pay_companion::config::Secret;
use b24pay_protocol::api::DeclineCode;
use b24pay_protocol::{Currency, Money};
use localstripe::{LocalStripe, Request, PUBLISHABLE_KEY, SECRET_KEY};
use serde_json::Value;

const APPROVED: &str = "4242424242424242";
/// Declined when charged (localstripe: on confirm; Stripe: `card_declined`).
const DECLINED_ON_CHARGE: &str = "4000000000000341";
/// 3-D Secure, then declined (Stripe: insufficient funds).
const THREE_DS_THEN_DECLINED: &str = "4000008260003178";
/// 3-D Secure required.
const THREE_DS: &str = "4000002760003184";

fn card(number: &str) -> Card {
    Card {
        number: number.into(),
        exp_month: 12,
        exp_year: 2034,
        cvc: "123".into(),
        holder: Some("Ada Lovelace".into()),
        brand: None,
    }
}

fn money(text: &str, currency: &str) -> Money {
    Money::parse(text, Currency::parse(currency).unwrap()).unwrap()
}

fn metadata(attempt: &str) -> ChargeMetadata<'_> {
    ChargeMetadata {
        portal: "https://shop.example.bitrix24.ru",
        paysystem_id: "3",
        payment_id: "41",
        attempt_id: attempt,
    }
}

fn acquirer(ls: &LocalStripe) -> StripeAcquirer {
    StripeAcquirer::new(&ls.settings()).unwrap()
}

/// Opens and confirms one charge, as the payment flow does (it records the reference between).
async fn pay(
    acq: &dyn Acquirer,
    number: &str,
    attempt: &str,
    amount: Money,
) -> (String, ChargeOutcome) {
    let card = card(number);
    let request = ChargeRequest {
        amount,
        card: &card,
        metadata: metadata(attempt),
    };
    let reference = acq.open(&request).await.expect("open");
    let outcome = acq.confirm(&reference, &request).await.expect("confirm");
    (reference, outcome)
}

async fn resume(acq: &dyn Acquirer, reference: &str, attempt: &str) -> ChargeOutcome {
    let request = ResumeRequest {
        reference,
        result: ActionResult::Completed,
        amount: money("10.00", "EUR"),
        last4: "3184",
        metadata: metadata(attempt),
        round: 1,
    };
    acq.resume(&request).await.expect("resume")
}

fn client_secret(outcome: &ChargeOutcome, ls: &LocalStripe) -> String {
    match outcome {
        ChargeOutcome::ActionRequired(CustomerAction::StripeJs {
            client_secret,
            publishable_key,
            js_url,
        }) => {
            assert_eq!(publishable_key, PUBLISHABLE_KEY);
            assert_eq!(js_url, &format!("{}/js.stripe.com/v3/", ls.base));
            client_secret.clone()
        }
        other => panic!("expected a Stripe.js action, got {other:?}"),
    }
}

/// What localstripe's Stripe.js stand-in does when the customer clicks "Complete
/// authentication" (`success=true`) or "Fail authentication" in its 3-D Secure modal
/// (`confirmCardPayment` in localstripe-v3.js): one POST authenticated by the publishable key
/// and the client secret.
async fn authenticate(ls: &LocalStripe, client_secret: &str, success: bool) -> u16 {
    let pi = client_secret.split("_secret_").next().unwrap();
    let url = format!(
        "{}/v1/payment_intents/{pi}/_authenticate?success={success}",
        ls.base
    );
    let body = serde_json::json!({"key": PUBLISHABLE_KEY, "client_secret": client_secret});
    reqwest::Client::new()
        .post(url)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The object as localstripe holds it, read with the secret key.
async fn stripe_get(ls: &LocalStripe, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/v1/{path}", ls.base))
        .bearer_auth(SECRET_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The API calls the adapter made (the tests' own `_authenticate` and reads left out).
fn adapter_posts(requests: &[Request]) -> Vec<&Request> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && !r.path.contains("/_authenticate"))
        .collect()
}

#[tokio::test]
async fn approved_card_opens_without_charging_then_confirms() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let card = card(APPROVED);
    let request = ChargeRequest {
        amount: money("12.50", "EUR"),
        card: &card,
        metadata: metadata("pa_ok"),
    };
    let reference = acq.open(&request).await.unwrap();
    assert!(reference.starts_with("pi_"), "{reference}");
    // Opened, not charged: nothing moves before `confirm`.
    let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
    assert_eq!(pi["status"], "requires_confirmation");
    assert_eq!(pi["amount"], 1250);
    assert_eq!(pi["currency"], "eur");
    assert_eq!(pi["metadata"]["attempt_id"], "pa_ok");
    assert_eq!(pi["metadata"]["payment_id"], "41");
    assert_eq!(pi["metadata"]["paysystem_id"], "3");
    assert_eq!(pi["metadata"]["portal"], "https://shop.example.bitrix24.ru");
    assert_eq!(acq.status(&reference).await.unwrap(), ChargeStatus::Pending);

    let outcome = acq.confirm(&reference, &request).await.unwrap();
    let approved = ChargeOutcome::Approved {
        transaction_id: reference.clone(),
    };
    assert_eq!(outcome, approved);
    let status = ChargeStatus::Approved {
        transaction_id: reference.clone(),
    };
    assert_eq!(acq.status(&reference).await.unwrap(), status);
    // Cancel after the money moved reports the approval and cancels nothing.
    assert_eq!(acq.cancel(&reference).await.unwrap(), status);

    let requests = ls.requests_at_least(7).await;
    let posts: Vec<(&str, Option<&str>)> = adapter_posts(&requests)
        .iter()
        .map(|r| (r.path.as_str(), r.key.as_deref()))
        .collect();
    let confirm_path = format!("/v1/payment_intents/{reference}/confirm");
    assert_eq!(
        posts,
        [
            ("/v1/payment_methods", Some("pa_ok:payment_method")),
            ("/v1/payment_intents", Some("pa_ok:open")),
            (confirm_path.as_str(), Some("pa_ok:confirm")),
        ]
    );
    assert_eq!(step_key("pa_ok", "open"), "pa_ok:open");
}

#[tokio::test]
async fn amounts_use_the_currency_exponent() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    for (text, code, stripe_amount) in [("3000", "JPY", 3000), ("1.250", "KWD", 1250)] {
        let (reference, outcome) =
            pay(&acq, APPROVED, &format!("pa_{code}"), money(text, code)).await;
        assert!(
            matches!(outcome, ChargeOutcome::Approved { .. }),
            "{outcome:?}"
        );
        let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
        assert_eq!(pi["amount"], stripe_amount, "{code}");
        assert_eq!(pi["currency"], code.to_ascii_lowercase());
    }
}

#[tokio::test]
async fn card_declined_at_charge_time() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(&acq, DECLINED_ON_CHARGE, "pa_dec", money("10.00", "EUR")).await;
    // localstripe answers the confirm with HTTP 402 `card_declined` (no issuer decline code).
    assert_eq!(
        outcome,
        ChargeOutcome::Declined(DeclineCode::GenericDecline)
    );
    // The declined intent was cancelled, so the decline is final.
    let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
    assert_eq!(pi["status"], "canceled");
    let declined = ChargeStatus::Declined(DeclineCode::GenericDecline);
    assert_eq!(acq.status(&reference).await.unwrap(), declined);
    assert_eq!(acq.cancel(&reference).await.unwrap(), declined);
    let refund = RefundRequest {
        idempotency_key: "rf_dec",
        reference: &reference,
        transaction_id: &reference,
        amount: money("10.00", "EUR"),
    };
    assert!(matches!(
        acq.refund(&refund).await.unwrap(),
        RefundOutcome::Refused(_)
    ));

    let requests = ls.requests_at_least(6).await;
    let confirm = adapter_posts(&requests)
        .into_iter()
        .find(|r| r.path.ends_with("/confirm"))
        .unwrap()
        .clone();
    assert_eq!(confirm.status, 402);
    let cancels: Vec<_> = adapter_posts(&requests)
        .into_iter()
        .filter(|r| r.path.ends_with("/cancel"))
        .map(|r| r.key.clone())
        .collect();
    assert_eq!(
        cancels,
        [Some("pa_dec:cancel:requires_payment_method".to_string())]
    );
}

#[tokio::test]
async fn three_d_secure_completed_then_approved() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(&acq, THREE_DS, "pa_3ds", money("10.00", "EUR")).await;
    let secret = client_secret(&outcome, &ls);
    assert!(secret.starts_with(&format!("{reference}_secret_")));
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::ActionRequired
    );
    // The widget says "done" before the customer finished: still waiting, nothing decided.
    let early = resume(&acq, &reference, "pa_3ds").await;
    assert_eq!(client_secret(&early, &ls), secret);

    assert_eq!(authenticate(&ls, &secret, true).await, 200);
    let approved = ChargeOutcome::Approved {
        transaction_id: reference.clone(),
    };
    assert_eq!(resume(&acq, &reference, "pa_3ds").await, approved);
    assert!(matches!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::Approved { .. }
    ));
    // An inline code is not how Stripe authenticates.
    let code = ResumeRequest {
        reference: &reference,
        result: ActionResult::Code("123"),
        amount: money("10.00", "EUR"),
        last4: "3184",
        metadata: metadata("pa_3ds"),
        round: 2,
    };
    assert!(matches!(
        acq.resume(&code).await,
        Err(AcquirerError::Refused(_))
    ));
}

#[tokio::test]
async fn three_d_secure_failed_is_declined_for_good() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(&acq, THREE_DS, "pa_3dsf", money("10.00", "EUR")).await;
    let secret = client_secret(&outcome, &ls);
    assert_eq!(authenticate(&ls, &secret, false).await, 200);
    let declined = ChargeOutcome::Declined(DeclineCode::ChallengeFailed);
    assert_eq!(resume(&acq, &reference, "pa_3dsf").await, declined);
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::Declined(DeclineCode::ChallengeFailed)
    );
    // The browser still holds the client secret; the cancelled intent cannot be completed.
    assert_eq!(authenticate(&ls, &secret, true).await, 400);
    let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
    assert_eq!(pi["status"], "canceled");
    assert!(pi["latest_charge"].is_null(), "no charge was made: {pi}");
}

#[tokio::test]
async fn three_d_secure_then_declined() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(
        &acq,
        THREE_DS_THEN_DECLINED,
        "pa_3dsd",
        money("10.00", "EUR"),
    )
    .await;
    let secret = client_secret(&outcome, &ls);
    // localstripe charges on authentication and answers the stand-in's call with the decline.
    assert_eq!(authenticate(&ls, &secret, true).await, 402);
    // Stripe reports `insufficient_funds` for this card; localstripe only `card_declined`, so
    // the generic decline here (the insufficient-funds mapping is in the unit tests).
    let outcome = resume(&acq, &reference, "pa_3dsd").await;
    assert_eq!(
        outcome,
        ChargeOutcome::Declined(DeclineCode::GenericDecline)
    );
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::Declined(DeclineCode::GenericDecline)
    );
}

#[tokio::test]
async fn cancel_before_confirm_and_during_action_moves_no_money() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    // Opened, never confirmed (the process died between): cancelled, then a stalled confirm.
    let card = card(APPROVED);
    let request = ChargeRequest {
        amount: money("10.00", "EUR"),
        card: &card,
        metadata: metadata("pa_open"),
    };
    let reference = acq.open(&request).await.unwrap();
    assert_eq!(
        acq.cancel(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );
    let late = acq.confirm(&reference, &request).await.unwrap();
    assert_eq!(late, ChargeOutcome::Failed);
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );

    // Waiting for 3-D Secure: cancelled, and the customer's late authentication is refused.
    let (reference, outcome) = pay(&acq, THREE_DS, "pa_wait", money("10.00", "EUR")).await;
    let secret = client_secret(&outcome, &ls);
    assert_eq!(
        acq.cancel(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );
    assert_eq!(authenticate(&ls, &secret, true).await, 400);
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );

    let requests = ls.requests_at_least(10).await;
    let keys: Vec<_> = adapter_posts(&requests)
        .into_iter()
        .filter(|r| r.path.ends_with("/cancel"))
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        keys,
        [
            "pa_open:cancel:requires_confirmation",
            "pa_wait:cancel:requires_action"
        ]
    );
}

#[tokio::test]
async fn unknown_references_are_not_found_never_not_charged() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    for reference in ["pi_doesnotexist", "not-a-stripe-id", "pi_../../v1/charges"] {
        assert_eq!(acq.status(reference).await.unwrap(), ChargeStatus::NotFound);
        assert_eq!(acq.cancel(reference).await.unwrap(), ChargeStatus::NotFound);
    }
    // `status` and `cancel` of unknown ids created nothing.
    let requests = ls.requests_at_least(1).await;
    assert!(adapter_posts(&requests).is_empty(), "{requests:?}");
}

#[tokio::test]
async fn refunds_full_partial_idempotent_and_bounded() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (pi, outcome) = pay(&acq, APPROVED, "pa_rf", money("10.00", "EUR")).await;
    assert!(matches!(outcome, ChargeOutcome::Approved { .. }));
    let refund = |key: &'static str, amount: &str, currency: &str| RefundRequest {
        idempotency_key: key,
        reference: &pi,
        transaction_id: &pi,
        amount: money(amount, currency),
    };
    let first = acq.refund(&refund("rf_1", "4.00", "EUR")).await.unwrap();
    let RefundOutcome::Refunded { refund_id } = &first else {
        panic!("{first:?}")
    };
    // The same refund asked again (a lost answer): the same refund, no new one.
    assert_eq!(
        acq.refund(&refund("rf_1", "4.00", "EUR")).await.unwrap(),
        first
    );
    // More than is left (6.00), or another currency: refused, nothing refunded.
    match acq.refund(&refund("rf_2", "7.00", "EUR")).await.unwrap() {
        RefundOutcome::Refused(why) => assert!(why.contains("more than is left"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        acq.refund(&refund("rf_3", "1.00", "USD")).await.unwrap(),
        RefundOutcome::Refused(_)
    ));
    assert!(matches!(
        acq.refund(&refund("rf_4", "6.00", "EUR")).await.unwrap(),
        RefundOutcome::Refunded { .. }
    ));
    assert!(matches!(
        acq.refund(&refund("rf_5", "0.01", "EUR")).await.unwrap(),
        RefundOutcome::Refused(_)
    ));
    let refunds = stripe_get(&ls, &format!("refunds?payment_intent={pi}")).await;
    let amounts: Vec<u64> = refunds["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_u64().unwrap())
        .collect();
    assert_eq!(amounts.iter().sum::<u64>(), 1000, "{refunds}");
    assert_eq!(amounts.len(), 2);
    assert!(refunds["data"].to_string().contains(refund_id.as_str()));

    // A full refund of another payment.
    let (other, _) = pay(&acq, APPROVED, "pa_rf2", money("25.00", "EUR")).await;
    let full = RefundRequest {
        idempotency_key: "rf_full",
        reference: &other,
        transaction_id: &other,
        amount: money("25.00", "EUR"),
    };
    assert!(matches!(
        acq.refund(&full).await.unwrap(),
        RefundOutcome::Refunded { .. }
    ));

    let requests = ls.requests_at_least(20).await;
    let refund_keys: Vec<_> = adapter_posts(&requests)
        .into_iter()
        .filter(|r| r.path == "/v1/refunds")
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    assert_eq!(refund_keys, ["rf_1", "rf_4", "rf_full"]);
}

#[tokio::test]
async fn every_mutating_call_carries_its_own_key() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (_, outcome) = pay(&acq, APPROVED, "pa_k1", money("1.00", "EUR")).await;
    assert!(matches!(outcome, ChargeOutcome::Approved { .. }));
    let _ = pay(&acq, DECLINED_ON_CHARGE, "pa_k2", money("1.00", "EUR")).await;
    let (pi, outcome) = pay(&acq, THREE_DS, "pa_k3", money("1.00", "EUR")).await;
    assert_eq!(
        authenticate(&ls, &client_secret(&outcome, &ls), false).await,
        200
    );
    let _ = resume(&acq, &pi, "pa_k3").await;
    let requests = ls.requests_at_least(12).await;
    let posts = adapter_posts(&requests);
    assert!(posts.len() >= 9, "{posts:?}");
    let mut keys: Vec<&str> = posts
        .iter()
        .map(|r| {
            r.key
                .as_deref()
                .unwrap_or_else(|| panic!("no key on {r:?}"))
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "a key was used for two calls: {posts:?}");
}

#[tokio::test]
async fn stripe_js_stand_in_is_served_at_js_url() {
    let ls = LocalStripe::start();
    let js = reqwest::get(ls.settings().js_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("confirmCardPayment") && js.contains("_authenticate"));
}

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
            ("failed", Some("pa_wh2".to_string()), declined),
            ("succeeded", Some("pa_wh1".to_string()), approved),
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

/// A stand-in for Stripe that answers every request with one status and error body.
async fn failing_stripe(status: u16) -> String {
    let error = serde_json::json!({"type": "api_error", "message": "Invalid API Key provided: sk_test_****gone"});
    stripe_answering(status, error).await
}

async fn stripe_answering(status: u16, error: Value) -> String {
    use axum::{http::StatusCode, response::IntoResponse, Router};
    let app = Router::new().fallback(move || {
        let body = serde_json::json!({ "error": error });
        async move { (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response() }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn acquirer_at(ls: &LocalStripe, api_base: String) -> StripeAcquirer {
    let mut settings = ls.file_settings();
    settings.api_base = Some(api_base);
    settings.timeout_ms = Some(2_000);
    StripeAcquirer::new(&settings.validate().unwrap()).unwrap()
}

#[tokio::test]
async fn errors_are_not_a_no() {
    let ls = LocalStripe::start();
    let card = card(APPROVED);
    let request = ChargeRequest {
        amount: money("10.00", "EUR"),
        card: &card,
        metadata: metadata("pa_err"),
    };
    // Nothing listening, 5xx, 429, 409: may or may not have acted — never "not charged".
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut bases = vec![closed];
    for status in [500, 503, 429, 409] {
        bases.push(failing_stripe(status).await);
    }
    for base in bases {
        let acq = acquirer_at(&ls, base.clone());
        let unavailable =
            |r: Result<_, AcquirerError>| matches!(r, Err(AcquirerError::Unavailable(_)));
        assert!(unavailable(acq.open(&request).await.map(|_| ())), "{base}");
        assert!(
            unavailable(acq.confirm("pi_x", &request).await.map(|_| ())),
            "{base}"
        );
        assert!(unavailable(acq.status("pi_x").await.map(|_| ())), "{base}");
        assert!(unavailable(acq.cancel("pi_x").await.map(|_| ())), "{base}");
    }
    // A refusal of the request itself (credentials): did not act, and no key in the message.
    for status in [401, 403] {
        let acq = acquirer_at(&ls, failing_stripe(status).await);
        match acq.open(&request).await {
            Err(AcquirerError::Refused(m)) => assert!(!m.contains("sk_test"), "{m}"),
            other => panic!("{status}: {other:?}"),
        }
        assert!(matches!(
            acq.status("pi_x").await,
            Err(AcquirerError::Refused(_))
        ));
    }
}

#[tokio::test]
async fn card_refused_when_stripe_checks_it_is_a_decline() {
    // Stripe checks number and expiry when it creates the PaymentMethod (HTTP 402 card_error);
    // localstripe answers 400 there, so this is Stripe's documented shape from a stand-in.
    let ls = LocalStripe::start();
    let card = card(APPROVED);
    let request = ChargeRequest {
        amount: money("10.00", "EUR"),
        card: &card,
        metadata: metadata("pa_pm"),
    };
    for (code, want) in [
        ("expired_card", DeclineCode::ExpiredCard),
        ("incorrect_number", DeclineCode::GenericDecline),
        ("invalid_cvc", DeclineCode::IncorrectCvc),
    ] {
        let error = serde_json::json!({"type": "card_error", "code": code, "message": "Your card was refused."});
        let acq = acquirer_at(&ls, stripe_answering(402, error).await);
        match acq.open(&request).await {
            Err(AcquirerError::Declined(got)) => assert_eq!(got, want, "{code}"),
            other => panic!("{code}: {other:?}"),
        }
    }
}
