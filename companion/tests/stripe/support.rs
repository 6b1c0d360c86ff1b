//! Cards, requests and localstripe helpers shared by the Stripe tests.

use super::localstripe::{LocalStripe, Request, PUBLISHABLE_KEY, SECRET_KEY};
use b24pay_companion::acquirer::{
    Acquirer, ActionResult, Card, ChargeMetadata, ChargeOutcome, ChargeRequest, CustomerAction,
    ResumeRequest, StripeAcquirer,
};
use b24pay_protocol::ids::{AttemptId, PaySystemId, PaymentId};
use b24pay_protocol::{Currency, Money};
use serde_json::Value;

pub use b24pay_protocol::test_cards::stripe::{DECLINED_ON_CHARGE, THREE_DS_THEN_DECLINED};
pub use b24pay_protocol::test_cards::APPROVED;
/// 3-D Secure required.
pub const THREE_DS: &str = "4000002760003184";

pub fn card(number: &str) -> Card {
    Card {
        number: number.into(),
        exp_month: 12,
        exp_year: 2034,
        cvc: "123".into(),
        holder: Some("Ada Lovelace".into()),
        brand: None,
    }
}

pub fn money(text: &str, currency: &str) -> Money {
    Money::parse(text, Currency::parse(currency).unwrap()).unwrap()
}

/// A well-formed attempt id derived from a readable test name (`pa_ok` → `pa_…`), stable within
/// a run, so keys and metadata can be predicted.
pub fn attempt(name: &str) -> AttemptId {
    let bits = name.bytes().fold(0xcbf2_9ce4_8422_2325u128, |h, b| {
        (h ^ b as u128).wrapping_mul(0x1000_0000_01b3)
    });
    AttemptId::from_random(bits)
}

/// The idempotency key the adapter must send for a step of the named attempt.
pub fn key(name: &str, step: &str) -> String {
    format!("{}:{step}", attempt(name))
}

pub fn metadata(attempt: &AttemptId) -> ChargeMetadata<'_> {
    ChargeMetadata {
        portal: "https://shop.example.bitrix24.ru",
        paysystem_id: PaySystemId::parse("3").unwrap(),
        payment_id: PaymentId::parse("41").unwrap(),
        attempt_id: attempt,
    }
}

/// The first round of a charge of `amount` with `card` for attempt `id`.
pub fn first_round<'a>(amount: Money, card: &'a Card, id: &'a AttemptId) -> ChargeRequest<'a> {
    ChargeRequest {
        amount,
        card,
        metadata: metadata(id),
        round: 1,
    }
}

pub fn acquirer(ls: &LocalStripe) -> StripeAcquirer {
    StripeAcquirer::new(&ls.settings()).unwrap()
}

/// Opens and confirms one charge, as the payment flow does (it records the reference between).
pub async fn pay(
    acq: &dyn Acquirer,
    number: &str,
    name: &str,
    amount: Money,
) -> (String, ChargeOutcome) {
    let card = card(number);
    let id = attempt(name);
    let request = first_round(amount, &card, &id);
    let reference = acq.open(&request).await.expect("open");
    let outcome = acq.confirm(&reference, &request).await.expect("confirm");
    (reference, outcome)
}

pub async fn resume(acq: &dyn Acquirer, reference: &str, name: &str) -> ChargeOutcome {
    let id = attempt(name);
    let request = ResumeRequest {
        reference,
        result: ActionResult::Completed,
        amount: money("10.00", "EUR"),
        last4: "3184",
        metadata: metadata(&id),
        round: 1,
    };
    acq.resume(&request).await.expect("resume")
}

pub fn client_secret(outcome: &ChargeOutcome, ls: &LocalStripe) -> String {
    match outcome {
        ChargeOutcome::ActionRequired(CustomerAction::StripeJs {
            client_secret,
            publishable_key,
            js_url,
        }) => {
            assert_eq!(publishable_key, PUBLISHABLE_KEY);
            assert_eq!(js_url, &format!("{}/js.stripe.com/v3/", ls.base));
            client_secret
                .clone()
                .expect("the acquirer's answer carries the client secret")
        }
        other => panic!("expected a Stripe.js action, got {other:?}"),
    }
}

/// What localstripe's Stripe.js stand-in does when the customer clicks "Complete
/// authentication" (`success=true`) or "Fail authentication" in its 3-D Secure modal
/// (`confirmCardPayment` in localstripe-v3.js): one POST authenticated by the publishable key
/// and the client secret.
pub async fn authenticate(ls: &LocalStripe, client_secret: &str, success: bool) -> u16 {
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
pub async fn stripe_get(ls: &LocalStripe, path: &str) -> Value {
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

/// How many of the adapter's calls went to a path ending so.
pub fn posts_to(requests: &[Request], suffix: &str) -> usize {
    adapter_posts(requests)
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .count()
}

/// The API calls the adapter made (the tests' own `_authenticate` and reads left out).
pub fn adapter_posts(requests: &[Request]) -> Vec<&Request> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && !r.path.contains("/_authenticate"))
        .collect()
}
