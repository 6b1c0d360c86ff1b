//! Money for people: the browser's `Intl.NumberFormat` in the customer's language and the
//! payment's currency ("1 250,50 ₽", "$1,250.50"). No formatting tables in the wasm.

use crate::i18n::Locale;
use b24pay_protocol::Money;
use js_sys::{Array, Intl, Object, Reflect};
use wasm_bindgen::JsValue;

/// Formats `amount` for `locale`, with exactly the currency's minor-unit digits, so what the
/// customer reads is what is charged. The exact decimal text is passed to `format` (engines
/// with Intl.NumberFormat v3 format it without going through a float).
pub fn format_money(amount: Money, locale: Locale) -> String {
    let decimal = amount.to_decimal_string();
    let options = Object::new();
    let digits = JsValue::from(amount.currency.minor_units() as u32);
    for (key, value) in [
        ("style", JsValue::from_str("currency")),
        ("currency", JsValue::from_str(amount.currency.code())),
        ("minimumFractionDigits", digits.clone()),
        ("maximumFractionDigits", digits),
    ] {
        let _ = Reflect::set(&options, &JsValue::from_str(key), &value);
    }
    // Chromium claims Kazakh but ships no Kazakh number data ("KZT 1,250.50"); Kazakhstan's
    // Russian locale writes money exactly as CLDR's Kazakh does ("1 250,50 ₸").
    let tag = match locale {
        Locale::Kk => "ru-KZ",
        other => other.tag(),
    };
    let locales = Array::of1(&tag.into());
    let format = Intl::NumberFormat::new(&locales, &options).format();
    format
        .call1(&JsValue::UNDEFINED, &JsValue::from_str(&decimal))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| [&decimal, " ", amount.currency.code()].concat())
}
