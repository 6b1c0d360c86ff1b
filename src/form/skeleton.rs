//! The form's shape while the portal's message is on its way: the same boxes at the same
//! sizes as the real form (same classes), so the iframe does not jump when it arrives.

use crate::i18n::{use_locale, Key};
use leptos::prelude::*;

#[component]
pub fn FormSkeleton() -> impl IntoView {
    let bone_field = || {
        view! {
            <div class="b24-field">
                <span class="b24-bone b24-bone-label"></span>
                <span class="b24-bone b24-bone-input"></span>
            </div>
        }
    };
    view! {
        <div class="b24-form b24-skeleton" aria-busy="true">
            <span class="b24-sr">{use_locale().text(Key::Loading)}</span>
            {bone_field()}
            <div class="b24-row">{bone_field()} {bone_field()}</div>
            <span class="b24-bone b24-bone-button"></span>
        </div>
    }
}
