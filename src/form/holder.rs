//! The cardholder's name, shown when the store asks for it (the FIELD `holder` = `Y`).

use super::field::{field, FieldState, Input};
use crate::i18n::{Key, Text};
use b24pay_protocol::card::Brand;
use leptos::prelude::*;

pub const ID: &str = "b24-holder";
/// The API's limit (`card.holder`: at most 64 printable characters).
pub const MAX_CHARS: usize = 64;

pub fn problem(name: &str, _: Option<Brand>, _: usize) -> Option<Text> {
    let name = name.trim();
    if name.is_empty() {
        Some(Key::HolderEmpty.into())
    } else if name.chars().count() > MAX_CHARS || name.chars().any(char::is_control) {
        Some(Key::HolderInvalid.into())
    } else {
        None
    }
}

pub fn holder(state: FieldState) -> impl IntoView {
    let name = state.value;
    field(
        state,
        Input {
            label: Key::Holder,
            autocomplete: "cc-name",
            inputmode: None,
            placeholder: "",
            maxlength: Some(MAX_CHARS),
            value: name.get_untracked(),
            on_input: Box::new(move |ev| {
                name.set(event_target_value(&ev));
                state.edited();
            }),
            shows_brand: false,
        },
    )
}
