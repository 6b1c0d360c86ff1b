//! The security code (CVC/CVV): 3 digits, 4 for American Express; with the brand not known
//! yet, 3 or 4.

use super::edit::{self, Format};
use super::field::{field, FieldState, Input};
use crate::i18n::{Counted, Key, Text};
use b24pay_protocol::card::{self, Brand, CvcError};
use leptos::prelude::*;

pub const ID: &str = "b24-cvc";

pub fn problem(cvc: &str, brand: Option<Brand>, _: usize) -> Option<Text> {
    match card::validate_cvc(cvc, brand) {
        Ok(()) => None,
        Err(CvcError::Empty) => Some(Key::CvcEmpty.into()),
        Err(CvcError::BadLength) => {
            let length = brand.map_or(3, Brand::cvc_length) as u32;
            Some(Text::Count(Counted::CvcDigits, length))
        }
    }
}

fn show(digits: &str, _deleting: bool) -> String {
    digits.to_owned()
}

pub fn cvc(state: FieldState) -> impl IntoView {
    let digits = state.value;
    let on_input = move |ev| {
        let max = |_: &str| state.brand().map_or(4, Brand::cvc_length);
        let format = Format {
            normalize: edit::keep,
            max: &max,
            show,
        };
        let now = edit::apply(&ev, &digits.get_untracked(), &format);
        digits.set(now);
        state.edited();
    };
    field(
        state,
        Input {
            label: Key::Cvc,
            autocomplete: "cc-csc",
            inputmode: Some("numeric"),
            placeholder: "CVC",
            maxlength: None,
            value: digits.get_untracked(),
            on_input: Box::new(on_input),
            shows_brand: false,
        },
    )
}
