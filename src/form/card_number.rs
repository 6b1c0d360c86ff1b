//! The card number: brand detected as the customer types, digits grouped the way the brand
//! prints them (4-4-4-4, Amex 4-6-5, up to 19 digits), the Luhn check, pasting with spaces
//! or dashes, and a caret that stays put when editing in the middle.

use super::edit::{self, Format};
use super::field::{field, FieldState, Input};
use crate::i18n::{Key, Text};
use b24pay_protocol::card::{self, Brand, NumberError};
use leptos::prelude::*;

pub const ID: &str = "b24-number";

/// The number's problem, if any (digits only).
pub fn problem(digits: &str, _: Option<Brand>, _: usize) -> Option<Text> {
    match card::validate_number(digits) {
        Ok(_) => None,
        Err(NumberError::Empty) => Some(Key::NumberEmpty.into()),
        Err(NumberError::Incomplete) => Some(Key::NumberIncomplete.into()),
        Err(NumberError::BadLength | NumberError::Checksum) => Some(Key::NumberInvalid.into()),
    }
}

fn show(digits: &str, _deleting: bool) -> String {
    card::format_number(digits)
}

pub fn card_number(state: FieldState) -> impl IntoView {
    let digits = state.value;
    let on_input = move |ev| {
        let format = Format {
            normalize: edit::keep,
            max: &card::max_digits_for,
            show,
        };
        let now = edit::apply(&ev, &digits.get_untracked(), &format);
        let complete = now.len() == card::max_digits_for(&now);
        digits.set(now);
        state.edited();
        // Every digit the brand takes is typed and the number is still wrong: the customer
        // is done typing, so say so now rather than at the next field.
        if complete {
            state.left();
        }
    };
    field(
        state,
        Input {
            label: Key::CardNumber,
            autocomplete: "cc-number",
            inputmode: Some("numeric"),
            placeholder: "1234 1234 1234 1234",
            maxlength: None,
            value: card::format_number(&digits.get_untracked()),
            on_input: Box::new(on_input),
            shows_brand: true,
        },
    )
}
