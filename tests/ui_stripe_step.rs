#![cfg(target_arch = "wasm32")]
//! The Stripe.js step (`NextAction::StripeJs`) against a stubbed payment API and a stubbed
//! `b24payStripe` (loader.js's, which loads Stripe.js): what runs when, what is sent to
//! `…/resume` and with which key, what the customer reads. The real Stripe.js stand-in runs in
//! the end-to-end browser tests (`e2e/tests/it/browser/stripe.rs`).

mod ui_common;

use ui_common::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function stubStripe(fails) {
  const calls = [];
  let finish = [];
  window.b24payStripe = (src, key, secret) => {
    calls.push([src, key, secret]);
    return new Promise((resolve, reject) => finish.push(() =>
      fails ? reject(new Error("Stripe.js did not load")) : resolve({ error: { code: "x" } })));
  };
  return { calls, done() { const f = finish; finish = []; f.forEach((x) => x()); } };
}
"#)]
extern "C" {
    type StripeStub;
    #[wasm_bindgen(js_name = stubStripe)]
    fn stub_stripe(fails: bool) -> StripeStub;
    #[wasm_bindgen(method, getter)]
    fn calls(this: &StripeStub) -> js_sys::Array;
    /// Stripe.js is through with the step.
    #[wasm_bindgen(method)]
    fn done(this: &StripeStub);
}

fn stripe_action() -> String {
    view(
        "requires_action",
        r#","action":{"type":"stripe_js","client_secret":"pi_1_secret_2","publishable_key":"pk_test_1","js_url":"https://js.stripe.com/v3/"}"#,
    )
}

/// Pays with a card that needs the bank's step and lets the stubbed Stripe.js finish it.
async fn pay_through_stripe(stripe: &StripeStub) -> Mounted {
    let ui = mount_and_pay("4000002760003184").await;
    stripe.done();
    settle().await;
    ui
}

fn is_hex_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

#[wasm_bindgen_test]
async fn stripe_js_runs_then_the_server_is_asked() {
    let stripe = stub_stripe(false);
    let stub = stub_fetch(&format!("[{},{}]", stripe_action(), view("succeeded", "")));
    let ui = mount_and_pay("4000002760003184").await;
    let calls = stripe.calls();
    assert_eq!(
        calls.length(),
        1,
        "Stripe.js runs once, with the action's values"
    );
    assert_eq!(
        js_sys::Array::from(&calls.get(0))
            .join(",")
            .as_string()
            .unwrap(),
        "https://js.stripe.com/v3/,pk_test_1,pi_1_secret_2"
    );
    // The bank's step in place of the card fields; the button is busy.
    assert!(ui.find("form.b24-bank-step").is_some());
    assert!(ui.find("#b24-number").is_none());
    assert_eq!(ui.text("h2"), "Confirm the payment");
    assert_eq!(
        ui.text(".b24-lead"),
        "Your bank is checking that it’s you. Follow its instructions in this window."
    );
    assert_eq!(
        ui.button().get_attribute("aria-disabled").as_deref(),
        Some("true")
    );
    // Nothing is asked while Stripe.js is at work, and a click does nothing.
    ui.submit().await;
    assert_eq!(stub.count(), 1);
    stripe.done();
    settle().await;
    assert_eq!(stub.count(), 2);
    let resume = stub.call(1);
    assert_eq!(resume.method(), "POST");
    assert_eq!(resume.url(), "/stub-api/v1/payments/pa_1/resume");
    assert_eq!(resume.body_json(), "{}");
    assert!(is_hex_key(&resume.key()));
    assert_ne!(resume.key(), stub.call(0).key());
    assert_eq!(ui.text("h2"), "Payment successful");
    assert!(ui.find("form.b24-bank-step").is_none());
}

#[wasm_bindgen_test]
async fn failed_authentication_brings_the_form_back_payable() {
    let stripe = stub_stripe(false);
    let declined = view("declined", r#","decline_code":"challenge_failed""#);
    let stub = stub_fetch(&format!(
        "[{},{declined},{}]",
        stripe_action(),
        view("succeeded", "")
    ));
    let ui = pay_through_stripe(&stripe).await;
    assert_eq!(
        ui.text(".b24-notice"),
        "The payment was not confirmed. Try again or use another card."
    );
    assert_eq!(ui.input("b24-number").value(), "4000 0027 6000 3184");
    assert!(ui.find("form.b24-bank-step").is_none());
    // Payable again: the next Pay is a new attempt (a new key), not the declined one again.
    ui.submit().await;
    assert_eq!(stub.count(), 3);
    assert_eq!(stub.call(2).url(), "/stub-api/v1/payments");
    assert_ne!(stub.call(2).key(), stub.call(0).key());
    assert_eq!(ui.text("h2"), "Payment successful");
}

#[wasm_bindgen_test]
async fn a_stripe_js_that_fails_still_asks_the_server() {
    let stripe = stub_stripe(true);
    let stub = stub_fetch(&format!(
        "[{},{},{}]",
        stripe_action(),
        stripe_action(),
        stripe_action()
    ));
    let ui = pay_through_stripe(&stripe).await;
    assert_eq!(stub.count(), 2);
    assert_eq!(stub.call(1).url(), "/stub-api/v1/payments/pa_1/resume");
    // The attempt still waits for its step: the customer is told, and Pay asks about the same
    // attempt again (same key), which runs Stripe.js again.
    assert_eq!(ui.text(".b24-notice"), CONNECTION_PROBLEM);
    ui.submit().await;
    assert_eq!(stub.count(), 3);
    assert_eq!(stub.call(2).key(), stub.call(0).key());
    assert_eq!(stripe.calls().length(), 2);
}

#[wasm_bindgen_test]
async fn a_lost_resume_answer_is_asked_again_with_the_same_key() {
    let stripe = stub_stripe(false);
    let stub = stub_fetch(&format!(
        r#"[{},"network",{}]"#,
        stripe_action(),
        view("succeeded", "")
    ));
    let ui = pay_through_stripe(&stripe).await;
    sleep(1300).await;
    settle().await;
    assert_eq!(stub.count(), 3);
    assert_eq!(stub.call(2).url(), "/stub-api/v1/payments/pa_1/resume");
    assert_eq!(stub.call(2).key(), stub.call(1).key());
    assert_eq!(ui.text("h2"), "Payment successful");
}
