//! Calls to the companion's payment API (`b24pay_protocol::api`), through the browser's `fetch`.
//!
//! Request bodies are the protocol's own serde types turned into JS objects by
//! `serde-wasm-bindgen` (then `JSON.stringify`). Answers are read by hand with `Reflect` after
//! `JSON.parse`, into the protocol's typed values or an [`ApiError`], once, here: deserializing
//! them with `serde-wasm-bindgen` costs every customer 9.5 KB of brotli even into trimmed
//! structs (14.8 KB into the protocol's types), this file's hand-written reader a few hundred
//! bytes (measured; BENCHMARKS.md).

use b24pay_protocol::api::{
    path, CardSummary, ChallengeRequest, ConfirmRequest, DeclineCode, ErrorCode, NextAction,
    PaymentState, PaymentView, IDEMPOTENCY_HEADER,
};
use js_sys::{Object, Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a call did not produce a [`PaymentView`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// `fetch` itself failed (offline, connection reset, blocked). The request may or may not
    /// have reached the server, so only a retry with the same idempotency key is safe.
    Network,
    /// The server answered with an error body.
    Refused { code: ErrorCode },
    /// An answer that is not the API's (a proxy's HTML page, a truncated body, an unknown code).
    /// Like [`ApiError::Network`], the outcome is unknown.
    Unreadable { status: u16 },
}

impl ApiError {
    /// Whether the same request, with the same idempotency key, may still succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Network | ApiError::Unreadable { .. } => true,
            ApiError::Refused { code } => code.is_retryable(),
        }
    }
}

/// A request ready to send: where to, and the JSON body (a `POST`), or none (a `GET`).
pub struct Request {
    pub url: String,
    pub body: Option<Object>,
}

/// `POST {base}/payments`: charge the card for one portal payment.
pub fn confirm(base: &str, request: &ConfirmRequest) -> Request {
    Request {
        url: format!("{base}{}", path::PAYMENTS),
        body: Some(to_js(request)),
    }
}

/// A request body as a plain JS object (maps as objects, as `JSON.stringify` wants them).
fn to_js(body: &impl Serialize) -> Object {
    // Strings and small numbers only: this cannot fail. Were it to, the empty body would be
    // refused by the API as invalid, never taken for another request.
    body.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map(JsCast::unchecked_into)
        .unwrap_or_else(|_| Object::new())
}

/// `POST {base}/payments/{id}/challenge`: the code the customer entered in the challenge step.
pub fn challenge(base: &str, payment: &str, request: &ChallengeRequest) -> Request {
    Request {
        url: payment_url(base, path::CHALLENGE, payment),
        body: Some(to_js(request)),
    }
}

/// `POST {base}/payments/{id}/resume`: the customer is through the acquirer's own step
/// (Stripe.js); the body is `{}` (`ResumeRequest`), the server asks the acquirer how it went.
pub fn resume(base: &str, payment: &str) -> Request {
    Request {
        url: payment_url(base, path::RESUME, payment),
        body: Some(Object::new()),
    }
}

/// `GET {base}/payments/{id}`: the attempt as it stands (whether the store knows of it yet).
pub fn status(base: &str, payment: &str) -> Request {
    Request {
        url: payment_url(base, path::PAYMENT, payment),
        body: None,
    }
}

fn payment_url(base: &str, route: &str, payment: &str) -> String {
    // The id comes from our own server, but it still goes into a URL path.
    let id = String::from(js_sys::encode_uri_component(payment));
    format!("{base}{}", path::with_id(route, &id))
}

thread_local! {
    static SESSION: String = new_idempotency_key();
}

/// This page load's random id (`ConfirmRequest::session`): drawn once, sent with every
/// payment request, so the companion can tell this page's own unanswered challenge from
/// another page's.
pub fn page_session() -> String {
    SESSION.with(String::clone)
}

/// A fresh idempotency key: 32 hex digits from the browser's CSPRNG.
pub fn new_idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    // Every browser that runs wasm has `crypto.getRandomValues`; should it ever be missing,
    // `Math.random` still gives a key unique enough for one customer's attempts.
    let filled = crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(32);
    for b in bytes {
        key.push(HEX[(b >> 4) as usize] as char);
        key.push(HEX[(b & 15) as usize] as char);
    }
    key
}

/// Sends `request` (with its idempotency key, for a `POST`); every answer is read into a
/// [`PaymentView`] or an [`ApiError`].
pub async fn send(
    request: Request,
    idempotency_key: Option<&str>,
) -> Result<PaymentView, ApiError> {
    let Request { url, body } = request;
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let init = web_sys::RequestInit::new();
    if let Some(body) = body {
        let headers = Object::new();
        set(&headers, "Content-Type", &"application/json".into());
        if let Some(key) = idempotency_key {
            set(&headers, IDEMPOTENCY_HEADER, &key.into());
        }
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(
            &JSON::stringify(&body)
                .map_err(|_| ApiError::Network)?
                .into(),
        );
    }
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| ApiError::Network)?
        .unchecked_into();
    let status = response.status();
    let unreadable = ApiError::Unreadable { status };
    // Reading the body can fail too (connection dropped mid-body, not JSON): unreadable.
    let json = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    }
    .ok_or(unreadable.clone())?;
    if response.ok() {
        parse_view(&json).ok_or(unreadable)
    } else {
        Err(parse_error(&json).unwrap_or(unreadable))
    }
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &key.into(), value);
}

fn get(source: &JsValue, key: &str) -> JsValue {
    Reflect::get(source, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(source: &JsValue, key: &str) -> Option<String> {
    get(source, key).as_string()
}

/// Reads a [`PaymentView`]; `None` when a required field is missing or has the wrong type.
pub fn parse_view(json: &JsValue) -> Option<PaymentView> {
    let state = PaymentState::from_code(&get_string(json, "state")?)?;
    let decline_code = match get_string(json, "decline_code") {
        Some(code) => Some(DeclineCode::from_code(&code)?),
        None => None,
    };
    let action = get(json, "action");
    let action = if action.is_object() {
        Some(parse_action(&action)?)
    } else {
        None
    };
    let card = get(json, "card");
    Some(PaymentView {
        id: get_string(json, "id")?,
        state,
        decline_code,
        action,
        portal_notified: get(json, "portal_notified").as_bool()?,
        test_mode: get(json, "test_mode").as_bool().unwrap_or(false),
        amount: get_string(json, "amount")?,
        currency: get_string(json, "currency")?,
        card: CardSummary {
            brand: get_string(&card, "brand")?,
            last4: get_string(&card, "last4")?,
        },
    })
}

/// Reads a [`NextAction`]; `None` for an unknown type or a malformed one.
fn parse_action(action: &JsValue) -> Option<NextAction> {
    match get_string(action, "type")?.as_str() {
        "challenge" => {
            let length = get(action, "code_length").as_f64()?;
            if !(1.0..=32.0).contains(&length) || length.fract() != 0.0 {
                return None;
            }
            Some(NextAction::Challenge {
                code_length: length as u8,
            })
        }
        "stripe_js" => Some(NextAction::StripeJs {
            client_secret: get_string(action, "client_secret")?,
            publishable_key: get_string(action, "publishable_key")?,
            js_url: get_string(action, "js_url")?,
        }),
        _ => None,
    }
}

/// Reads an `ErrorBody` into [`ApiError::Refused`]; `None` when it is not one.
pub fn parse_error(json: &JsValue) -> Option<ApiError> {
    let error = get(json, "error");
    Some(ApiError::Refused {
        code: ErrorCode::from_code(&get_string(&error, "code")?)?,
    })
}
