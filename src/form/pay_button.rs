//! The Pay button: the amount in the customer's language ("Pay 1 250,50 ₽"), "Confirm" in the
//! challenge step, and a spinner while a request is out.
//!
//! While busy the button is `aria-disabled` rather than `disabled`: a disabled button drops
//! keyboard focus to the page, and a screen reader would lose its place. Clicks and Enter
//! presses during that time reach the form, which ignores them (see `Payment::submit`).

use crate::i18n::{use_locale, Key};
use crate::payment::Phase;
use leptos::prelude::*;

/// `pay` ("Pay 1 250,50 ₽") is the label on the card form.
pub fn pay_button(phase: ReadSignal<Phase>, pay: String) -> impl IntoView {
    let locale = use_locale();
    let busy = move || phase.with(Phase::busy);
    let label = move || match phase.get() {
        p if p.busy() => locale.text(Key::Processing).to_owned(),
        Phase::Challenge(_) => locale.text(Key::Confirm).to_owned(),
        _ => pay.clone(),
    };
    view! {
        <button
            type="submit"
            class="b24-button b24-pay"
            aria-disabled=move || busy().then_some("true")
        >
            // Shown by the stylesheet while the button is aria-disabled.
            <span class="b24-spinner" aria-hidden="true"></span>
            {label}
        </button>
    }
}
