//! The challenge step (3-D Secure style) inline: the portal's iframe may not open popups,
//! so the bank's code is typed here, in the payment form in place of the card fields, and
//! sent to `POST /payments/{id}/challenge`.

use super::field::{field, FieldState, Input};
use crate::announce::use_announcer;
use crate::focus::focus_soon;
use crate::i18n::{use_locale, Counted, Key, Text};
use b24pay_protocol::card::Brand;
use leptos::prelude::*;

pub const ID: &str = "b24-code";
pub const TITLE_ID: &str = "b24-challenge-title";

/// The code's problem: not `length` letters and digits.
pub fn problem(code: &str, _: Option<Brand>, length: usize) -> Option<Text> {
    let ok = code.len() == length && code.bytes().all(|b| b.is_ascii_alphanumeric());
    (!ok).then_some(Text::Plain(Key::CodeEmpty))
}

/// The step's heading, explanation and code field. `state` carries the code's length.
pub fn challenge_fields(state: FieldState) -> impl IntoView {
    let locale = use_locale();
    let code = state.value;
    let title = locale.text(Key::ChallengeTitle);
    let text = locale.count(Counted::ChallengeText, state.length() as u32);
    use_announcer().say([title, ". ", &text].concat());
    focus_soon(ID);
    let input = field(
        state,
        Input {
            label: Key::ChallengeCode,
            autocomplete: "one-time-code",
            inputmode: Some("numeric"),
            placeholder: "",
            maxlength: Some(state.length()),
            value: code.get_untracked(),
            on_input: Box::new(move |ev| {
                let value: String = event_target_value(&ev)
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                code.set(value);
                state.edited();
            }),
            shows_brand: false,
        },
    );
    view! {
        <h2 id=TITLE_ID>{title}</h2>
        <p class="b24-lead">{text}</p>
        {input}
    }
}
