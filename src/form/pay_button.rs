//! The Pay button: the amount in the customer's language ("Pay 1 250,50 ₽"), and a spinner
//! while the payment is sent.
//!
//! While busy the button is `aria-disabled` rather than `disabled`: a disabled button drops
//! keyboard focus to the page, and a screen reader would lose its place. Clicks and Enter
//! presses during that time reach the form, which ignores them (see `Payment::submit`).

use leptos::prelude::*;

#[component]
pub fn PayButton(
    /// The label when idle, already formatted.
    label: String,
    /// The label while busy.
    busy_label: &'static str,
    busy: Signal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="b24-button b24-pay"
            aria-disabled=move || busy.get().then_some("true")
        >
            {move || {
                if busy.get() {
                    view! {
                        <span class="b24-spinner" aria-hidden="true"></span>
                        {busy_label}
                    }
                        .into_any()
                } else {
                    label.clone().into_any()
                }
            }}
        </button>
    }
}
