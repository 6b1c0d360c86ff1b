//! The expiry date as `MM / YY`: the separator appears by itself after the month (and goes
//! with one backspace), a first digit above 1 is a month ("4" → "04 / "), a pasted
//! "12/2030" becomes "12 / 30"; the month must be 01–12, not in the past, not absurdly far.

use super::edit::{self, Format};
use super::field::{field, FieldState, Input};
use crate::i18n::{use_locale, Key, Text};
use b24pay_protocol::card::{self, Brand, ExpiryError};
use leptos::prelude::*;

pub const ID: &str = "b24-expiry";

/// Today's (year, month) on the customer's clock.
pub fn today() -> (u16, u8) {
    let now = js_sys::Date::new_0();
    (now.get_full_year() as u16, now.get_month() as u8 + 1)
}

/// The expiry's problem (digits only, MMYY), as a field rule.
pub fn rule(digits: &str, _: Option<Brand>, _: usize) -> Option<Text> {
    problem(digits, today())
}

/// The expiry's problem (digits only, MMYY), against `today`.
pub fn problem(digits: &str, today: (u16, u8)) -> Option<Text> {
    let key = match card::parse_expiry(digits) {
        Ok((month, year)) => match card::check_expiry(month, year, today.0, today.1) {
            Ok(()) => return None,
            Err(ExpiryError::Past) => Key::ExpiryPast,
            Err(ExpiryError::TooFar) => Key::ExpiryFar,
            Err(ExpiryError::BadMonth) => Key::ExpiryMonth,
            Err(ExpiryError::Incomplete) => Key::ExpiryIncomplete,
        },
        Err(ExpiryError::BadMonth) => Key::ExpiryMonth,
        Err(_) if digits.is_empty() => Key::ExpiryEmpty,
        Err(_) => Key::ExpiryIncomplete,
    };
    Some(key.into())
}

/// The expiry as the API wants it: (month, four-digit year).
pub fn parts(digits: &str) -> Option<(u8, u16)> {
    card::parse_expiry(digits).ok()
}

/// Typing shortcuts: "4" means April, "13" means January and a 3; a pasted four-digit year
/// loses its century.
pub fn normalize(digits: &mut String, before: &mut usize) {
    let b = digits.as_bytes();
    if b.len() == 6 && &b[2..4] == b"20" {
        digits.replace_range(2..4, "");
        if *before > 2 {
            *before = (*before - 2).max(2);
        }
    }
    let b = digits.as_bytes();
    let pad = matches!(b, [b'2'..=b'9', ..] | [b'1', b'3'..=b'9', ..]);
    if pad {
        digits.insert(0, '0');
        if *before > 0 {
            *before += 1;
        }
    }
}

/// "MM / YY"; the separator right after a complete month, except while deleting.
pub fn show(digits: &str, deleting: bool) -> String {
    match digits.len() {
        0 | 1 => digits.to_owned(),
        2 if deleting => digits.to_owned(),
        _ => {
            let (month, year) = digits.split_at_checked(2).unwrap_or((digits, ""));
            [month, " / ", year].concat()
        }
    }
}

pub fn expiry(state: FieldState) -> impl IntoView {
    let digits = state.value;
    let on_input = move |ev| {
        let format = Format {
            normalize,
            max: &|_| 4,
            show,
        };
        let now = edit::apply(&ev, &digits.get_untracked(), &format);
        let complete = now.len() == 4;
        digits.set(now);
        state.edited();
        if complete {
            state.left();
        }
    };
    field(
        state,
        Input {
            label: Key::Expiry,
            autocomplete: "cc-exp",
            inputmode: Some("numeric"),
            placeholder: use_locale().text(Key::ExpiryPlaceholder),
            maxlength: None,
            value: show(&digits.get_untracked(), true),
            on_input: Box::new(on_input),
            shows_brand: false,
        },
    )
}
