//! The security code (CVC/CVV): 3 digits, 4 for American Express; with the brand not known
//! yet, 3 or 4.

use super::edit::{self, Format};
use super::field::{Field, FieldState};
use crate::i18n::{Counted, Key, Text};
use b24pay_protocol::card::{self, Brand, CvcError};
use leptos::prelude::*;
use web_sys::Event;

pub const ID: &str = "b24-cvc";

pub fn problem(cvc: &str, brand: Option<Brand>) -> Option<Text> {
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

#[component]
pub fn Cvc(
    state: FieldState,
    digits: RwSignal<String>,
    brand: Signal<Option<Brand>>,
) -> impl IntoView {
    let max = move |_: &str| brand.get_untracked().map_or(4, Brand::cvc_length);
    let on_input = move |ev: Event| {
        let format = Format {
            normalize: edit::keep,
            max: &max,
            show,
        };
        let now = edit::apply(&ev, &digits.get_untracked(), &format);
        digits.set(now);
        state.edited();
    };
    view! {
        <Field state label=Key::Cvc>
            <input
                id=ID
                node_ref=state.input
                type="text"
                inputmode="numeric"
                autocomplete="cc-csc"
                spellcheck="false"
                placeholder=move || if brand.get() == Some(Brand::Amex) { "1234" } else { "123" }
                value=digits.get_untracked()
                aria-invalid=state.aria_invalid()
                aria-describedby=state.described_by(None)
                on:input=on_input
                on:blur=move |_| state.left()
            />
        </Field>
    }
}
