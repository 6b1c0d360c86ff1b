//! Failures of Stripe itself, from stand-ins that answer one status: an error is not a "no".

use super::localstripe::LocalStripe;
use super::support::*;
use b24pay_companion::acquirer::*;
use b24pay_protocol::api::DeclineCode;
use serde_json::Value;

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
    let id = attempt("pa_err");
    let request = first_round(money("10.00", "EUR"), &card, &id);
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
async fn card_refused_when_stripe_checks_it_names_the_decline() {
    // Stripe checks number and expiry when it creates the PaymentMethod (HTTP 402 card_error);
    // localstripe answers 400 there, so this is Stripe's documented shape from a stand-in. The
    // trait has no "declined at open" answer: a refusal (nothing charged) naming the decline.
    let ls = LocalStripe::start();
    let card = card(APPROVED);
    let id = attempt("pa_pm");
    let request = first_round(money("10.00", "EUR"), &card, &id);
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
