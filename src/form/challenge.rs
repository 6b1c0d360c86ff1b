//! The challenge step (3-D Secure style) inline: the portal's iframe may not open popups,
//! so the bank's code is typed here and sent to `POST /payments/{id}/challenge`.

use super::field::{Field, FieldState};
use super::outcome::NoticeView;
use super::pay_button::PayButton;
use crate::announce::use_announcer;
use crate::i18n::{use_locale, Counted, Key, Text};
use crate::payment::{Payment, Phase};
use leptos::prelude::*;
use web_sys::SubmitEvent;

pub const ID: &str = "b24-code";

/// The code's problem: empty or not `length` letters and digits.
pub fn problem(code: &str, length: usize) -> Option<Text> {
    let ok = code.len() == length && code.bytes().all(|b| b.is_ascii_alphanumeric());
    (!ok).then_some(Text::Plain(Key::CodeEmpty))
}

#[component]
pub fn ChallengeView(payment: Payment) -> impl IntoView {
    let locale = use_locale();
    let phase = payment.phase();
    let length = match phase.get_untracked() {
        Phase::Challenge(c) => c.code_length as usize,
        _ => 0,
    };
    let code = RwSignal::new(String::new());
    let state = FieldState::new(
        ID,
        "b24-code-error",
        Signal::derive(move || problem(&code.get(), length)),
    );
    let busy = Signal::derive(move || phase.get().busy());
    let title = locale.text(Key::ChallengeTitle);
    let text = locale.count(Counted::ChallengeText, length as u32);
    let announcer = use_announcer();
    announcer.say(format!("{title}. {text}"));
    state.input.on_load(|el| {
        let _ = el.focus();
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(problem) = state.problem.get_untracked() {
            state.reveal();
            state.focus();
            announcer.say(locale.say(problem));
            return;
        }
        payment.submit_code(code.get_untracked());
    };
    view! {
        <form class="b24-challenge" novalidate aria-labelledby="b24-challenge-title" on:submit=on_submit>
            <h2 id="b24-challenge-title">{title}</h2>
            <p class="b24-lead">{text}</p>
            <Field state label=Key::ChallengeCode>
                <input
                    id=ID
                    node_ref=state.input
                    type="text"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    spellcheck="false"
                    maxlength=length
                    aria-invalid=state.aria_invalid()
                    aria-describedby=state.described_by(None)
                    on:input=move |ev| {
                        let value: String = event_target_value(&ev)
                            .chars()
                            .filter(char::is_ascii_alphanumeric)
                            .collect();
                        code.set(value);
                        state.edited();
                    }
                    on:blur=move |_| state.left()
                />
            </Field>
            {move || match phase.get() {
                Phase::Challenge(c) if !c.busy => c.notice.map(|notice| view! { <NoticeView notice /> }),
                _ => None,
            }}
            <PayButton
                label=locale.text(Key::Confirm).to_owned()
                busy_label=locale.text(Key::Processing)
                busy
            />
        </form>
    }
}
