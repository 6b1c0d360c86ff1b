//! The form's shape while the portal's message is on its way: the same boxes at the same
//! sizes as the real form (same classes), so the iframe does not jump when it arrives. (The
//! cardholder field is asked for by a FIELD in that message, so it is not in the skeleton.)

use leptos::prelude::*;

/// The form's boxes, without text (the app shell names the whole skeleton "loading").
pub fn form_skeleton() -> impl IntoView {
    let bone_field = || {
        view! {
            <div class="b24-field">
                <span class="b24-bone b24-bone-label"></span>
                <span class="b24-bone b24-bone-input"></span>
            </div>
        }
    };
    view! {
        <div class="b24-form" aria-hidden="true">
            {bone_field()}
            <div class="b24-row">{bone_field()} {bone_field()}</div>
            <span class="b24-bone b24-bone-button"></span>
        </div>
    }
}
