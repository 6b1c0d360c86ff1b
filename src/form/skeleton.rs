//! The form's shape while the portal's message is on its way: the same boxes at the same
//! sizes as the real form (same classes), so the iframe does not jump when it arrives.

use crate::i18n::{use_locale, Key};
use leptos::prelude::*;

/// The form's boxes, without text.
pub fn form_skeleton() -> impl IntoView {
    let bone_field = || {
        view! {
            <div class="b24pay-field">
                <span class="b24pay-bone b24pay-bone-label"></span>
                <span class="b24pay-bone b24pay-bone-input"></span>
            </div>
        }
    };
    view! {
        <div class="b24pay-form b24pay-skeleton" aria-busy="true">
            <span class="b24pay-sr">{use_locale().text(Key::Loading)}</span>
            {bone_field()}
            <div class="b24pay-row">{bone_field()} {bone_field()}</div>
            <span class="b24pay-bone b24pay-bone-button"></span>
        </div>
    }
}
