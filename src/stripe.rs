//! The acquirer's own step of a payment (`NextAction::StripeJs`: 3-D Secure in Stripe.js),
//! inside the widget's frame: the portal's iframe may not open popups.
//!
//! Stripe.js is loaded only now, from the URL the companion gave, by `loader.js`'s
//! `b24payStripe(jsUrl, publishableKey, clientSecret)`: a few lines of plain JavaScript
//! instead of bindings in the wasm, so customers of other acquirers download neither Stripe.js
//! nor code for it. It calls `handleNextAction` where Stripe.js has it, else
//! `confirmCardPayment` (which also finishes a card PaymentIntent's action, and is all that
//! localstripe's stand-in has). What it answers is not trusted either way: the widget then
//! posts `…/resume` and the companion asks Stripe what happened.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why the step did not run to its end (the companion is asked all the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepError {
    /// No `b24payStripe` in the page (not served from `index.html`).
    Unavailable,
    /// Stripe.js did not load or threw.
    Failed,
}

/// Runs the step; resolves once Stripe.js has finished with it (whatever the outcome).
pub async fn handle_next_action(
    js_url: &str,
    publishable_key: &str,
    client_secret: &str,
) -> Result<(), StepError> {
    let step = web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("b24payStripe")).ok())
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or(StepError::Unavailable)?;
    let promise = step
        .call3(
            &JsValue::NULL,
            &js_url.into(),
            &publishable_key.into(),
            &client_secret.into(),
        )
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or(StepError::Failed)?;
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|_| StepError::Failed)
}
