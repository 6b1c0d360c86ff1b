//! The portal's one message, parsed once into typed values.
//!
//! The portal posts `{...FIELDS, BX_SYSTEM_PARAMS: {...}, BX_COMPUTED_STYLE: {...}}` on every
//! load of the iframe. PHP values arrive as strings (`"SUM":"3000"`, `"PAYMENT_ID":"247"`) and
//! null as `""`, but numbers are accepted too. The data is read straight from the JS object
//! with `Reflect`: deserializing even only `BX_SYSTEM_PARAMS` with `serde-wasm-bindgen` (into
//! a trimmed struct of string-or-number fields) costs every customer 10.7 KB of brotli,
//! measured; this reader a fraction of that (BENCHMARKS.md).

use crate::theme::Theme;
use b24pay_protocol::fields as field;
use b24pay_protocol::money::AmountError;
use b24pay_protocol::{Currency, Money};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

pub const SYSTEM_PARAMS_KEY: &str = "BX_SYSTEM_PARAMS";
pub const COMPUTED_STYLE_KEY: &str = "BX_COMPUTED_STYLE";

const MAX_FIELD_LEN: usize = 2048;
const MAX_URL_LEN: usize = 2048;

/// The payment the portal asks us to take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentParams {
    pub payment_id: u64,
    pub paysystem_id: u64,
    pub amount: Money,
    /// The portal page to go back to; only `http:`/`https:` URLs are kept.
    pub return_url: Option<String>,
}

impl PaymentParams {
    pub fn currency(&self) -> Currency {
        self.amount.currency
    }
}

/// The handler's FIELDS the widget reads ([`READ_FIELDS`]), as strings. The portal posts every
/// FIELD of the handler as a top-level key; those the widget does not use are not kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value unless absent or empty (PHP's null arrives as `""`).
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Why the portal's payment parameters cannot be used. Shown to the customer as a localized
/// message with [`ParamError::code`] for the store's support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// `BX_SYSTEM_PARAMS` is not an object.
    SystemParams,
    MissingPaymentId,
    InvalidPaymentId,
    MissingPaySystemId,
    InvalidPaySystemId,
    MissingSum,
    InvalidSum(AmountError),
    MissingCurrency,
    UnknownCurrency,
}

impl ParamError {
    pub fn code(self) -> &'static str {
        match self {
            ParamError::SystemParams => "invalid_system_params",
            ParamError::MissingPaymentId => "missing_payment_id",
            ParamError::InvalidPaymentId => "invalid_payment_id",
            ParamError::MissingPaySystemId => "missing_paysystem_id",
            ParamError::InvalidPaySystemId => "invalid_paysystem_id",
            ParamError::MissingSum => "missing_sum",
            ParamError::InvalidSum(AmountError::Malformed) => "invalid_sum",
            ParamError::InvalidSum(AmountError::TooPrecise) => "sum_too_precise",
            ParamError::InvalidSum(AmountError::NotPositive) => "sum_not_positive",
            ParamError::InvalidSum(AmountError::TooLarge) => "sum_too_large",
            ParamError::MissingCurrency => "missing_currency",
            ParamError::UnknownCurrency => "unknown_currency",
        }
    }
}

/// A message from an allowed origin, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct PortalMessage {
    pub fields: Fields,
    pub params: Result<PaymentParams, ParamError>,
    pub theme: Theme,
}

impl PortalMessage {
    /// `None` when `data` is not the portal's message at all (not an object, or no
    /// `BX_SYSTEM_PARAMS` key): such messages are ignored, not treated as broken payments.
    pub fn parse(data: &JsValue) -> Option<PortalMessage> {
        if !data.is_object() || js_sys::Array::is_array(data) {
            return None;
        }
        let system_params = get(data, SYSTEM_PARAMS_KEY);
        if system_params.is_undefined() {
            return None;
        }
        Some(PortalMessage {
            fields: parse_fields(data),
            params: parse_params(&system_params),
            theme: Theme::from_computed_style(&get(data, COMPUTED_STYLE_KEY)),
        })
    }
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A scalar as text: strings as they are, numbers and booleans as JS writes them.
/// `None` for null, undefined, objects and everything else.
fn scalar_text(value: &JsValue) -> Option<String> {
    if let Some(s) = value.as_string() {
        return Some(s);
    }
    if let Some(b) = value.as_bool() {
        return Some(if b { "true" } else { "false" }.to_owned());
    }
    if value.as_f64().is_some() {
        return js_sys::Number::unchecked_from_js_ref(value)
            .to_string_with_radix(10)
            .ok()
            .map(String::from);
    }
    None
}

/// The FIELDS the widget uses (`b24pay_protocol::fields`).
pub const READ_FIELDS: [&str; 5] = [
    field::LANG,
    field::PAYMENT_NUMBER,
    field::HOLDER,
    field::INVOICE_ID,
    field::MODE,
];

fn parse_fields(object: &JsValue) -> Fields {
    let mut fields = Vec::new();
    for key in READ_FIELDS {
        let value = get(object, key);
        let text = if value.is_null() {
            Some(String::new())
        } else {
            scalar_text(&value)
        };
        if let Some(text) = text.filter(|t| t.len() <= MAX_FIELD_LEN) {
            fields.push((key.to_owned(), text));
        }
    }
    Fields(fields)
}

/// The text of a parameter, `None` when absent, null or empty.
fn param_text(params: &JsValue, key: &str) -> Option<String> {
    scalar_text(&get(params, key))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn parse_params(params: &JsValue) -> Result<PaymentParams, ParamError> {
    if !params.is_object() || js_sys::Array::is_array(params) {
        return Err(ParamError::SystemParams);
    }
    let id = |key: &str, missing: ParamError, invalid: ParamError| -> Result<u64, ParamError> {
        let value = get(params, key);
        if let Some(n) = value.as_f64() {
            return positive_integer_from_number(n).ok_or(invalid);
        }
        let text = param_text(params, key).ok_or(missing)?;
        positive_integer(&text).ok_or(invalid)
    };
    let payment_id = id(
        "PAYMENT_ID",
        ParamError::MissingPaymentId,
        ParamError::InvalidPaymentId,
    )?;
    let paysystem_id = id(
        "PAYSYSTEM_ID",
        ParamError::MissingPaySystemId,
        ParamError::InvalidPaySystemId,
    )?;
    let sum = param_text(params, "SUM").ok_or(ParamError::MissingSum)?;
    let currency_text = param_text(params, "CURRENCY").ok_or(ParamError::MissingCurrency)?;
    let currency = Currency::parse(&currency_text).ok_or(ParamError::UnknownCurrency)?;
    let amount = Money::parse(&sum, currency).map_err(ParamError::InvalidSum)?;
    Ok(PaymentParams {
        payment_id,
        paysystem_id,
        amount,
        return_url: param_text(params, "RETURN_URL").and_then(|u| web_url(&u)),
    })
}

/// Decimal digits only, no sign, no leading `+`, fitting in JS's exact integer range.
fn positive_integer(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = text.parse().ok()?;
    (value > 0 && value <= MAX_SAFE_INTEGER).then_some(value)
}

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

fn positive_integer_from_number(n: f64) -> Option<u64> {
    (n.is_finite() && n >= 1.0 && n <= MAX_SAFE_INTEGER as f64 && n == (n as u64) as f64)
        .then_some(n as u64)
}

/// The URL normalised by the browser's own parser when it is `http:` or `https:`; `None`
/// for `javascript:`, `data:`, relative or unparsable text.
pub fn web_url(text: &str) -> Option<String> {
    if text.len() > MAX_URL_LEN {
        return None;
    }
    let url = web_sys::Url::new(text).ok()?;
    matches!(url.protocol().as_str(), "http:" | "https:").then(|| url.href())
}
