//! The bank's own step (3-D Secure in Stripe.js, `crate::stripe`), in place of the card fields
//! while it runs (they come back filled in): what is happening, read out once. The bank's window itself is Stripe.js's,
//! over the page; the form grows (`.b24-bank-step` in the stylesheet) so that the frame the
//! portal sizes to the widget has room for it.

use super::challenge::TITLE_ID;
use crate::announce::use_announcer;
use crate::i18n::{use_locale, Key};
use leptos::prelude::*;

pub fn bank_step() -> impl IntoView {
    let locale = use_locale();
    let title = locale.text(Key::ChallengeTitle);
    let text = locale.text(Key::BankStepText);
    use_announcer().say([title, ". ", text].concat());
    view! {
        <h2 id=TITLE_ID>{title}</h2>
        <p class="b24-lead">{text}</p>
    }
}
