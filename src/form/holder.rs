//! The cardholder's name, shown when the store asks for it (the FIELD `holder` = `Y`).

use super::field::{Field, FieldState};
use crate::i18n::{Key, Text};
use leptos::prelude::*;

pub const ID: &str = "b24-holder";
/// The API's limit (`card.holder`: at most 64 printable characters).
pub const MAX_CHARS: usize = 64;

pub fn problem(name: &str) -> Option<Text> {
    let name = name.trim();
    if name.is_empty() {
        Some(Key::HolderEmpty.into())
    } else if name.chars().count() > MAX_CHARS || name.chars().any(char::is_control) {
        Some(Key::HolderInvalid.into())
    } else {
        None
    }
}

#[component]
pub fn Holder(state: FieldState, name: RwSignal<String>) -> impl IntoView {
    view! {
        <Field state label=Key::Holder>
            <input
                id=ID
                node_ref=state.input
                type="text"
                autocomplete="cc-name"
                autocapitalize="characters"
                spellcheck="false"
                maxlength=MAX_CHARS
                value=name.get_untracked()
                aria-invalid=state.aria_invalid()
                aria-describedby=state.described_by(None)
                on:input=move |ev| {
                    name.set(event_target_value(&ev));
                    state.edited();
                }
                on:blur=move |_| state.left()
            />
        </Field>
    }
}
