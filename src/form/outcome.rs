//! How an attempt ended, in plain words: the notice above the Pay button when the customer
//! can still act (declined, connection lost, refused), and the final screens (paid; cannot
//! continue here) with the way back to the store.
//!
//! Each of them is read out through the live region and takes keyboard focus when it
//! appears, so a screen-reader user hears the outcome and continues from there.

use super::paid::store_status;
use crate::announce::use_announcer;
use crate::focus::focus_soon;
use crate::i18n::{use_locale, Key};
use crate::payment::{Notice, Payment};
use b24pay_protocol::api::{CardSummary, DeclineCode, ErrorCode};
use b24pay_protocol::card::{self, Brand};
use leptos::either::Either;
use leptos::prelude::*;

/// The words for a notice.
pub fn notice_key(notice: Notice) -> Key {
    match notice {
        Notice::Declined(code) => match code {
            DeclineCode::GenericDecline => Key::DeclinedGeneric,
            DeclineCode::InsufficientFunds => Key::DeclinedFunds,
            DeclineCode::ExpiredCard => Key::DeclinedExpired,
            DeclineCode::IncorrectCvc => Key::DeclinedCvc,
            DeclineCode::ProcessingError => Key::DeclinedProcessing,
            DeclineCode::ChallengeFailed => Key::DeclinedChallenge,
        },
        Notice::Connection => Key::Connection,
        Notice::Refused(code) => refused_key(code),
    }
}

/// The words for an API error the customer can still act on.
pub fn refused_key(code: ErrorCode) -> Key {
    use ErrorCode::*;
    match code {
        RateLimited | PortalUnavailable | Timeout | Overloaded | Internal => Key::ServiceBusy,
        PaymentInProgress => Key::InProgress,
        TooManyAttempts => Key::TooManyAttempts,
        InvalidCardNumber => Key::NumberInvalid,
        InvalidExpiry | CardExpired => Key::DeclinedExpired,
        InvalidCvc => Key::DeclinedCvc,
        InvalidHolder => Key::HolderInvalid,
        InvalidChallengeCode => Key::WrongCode,
        InvalidState => Key::ChallengeExpired,
        _ => Key::SomethingWrong,
    }
}

/// Title and explanation of a payment that cannot go on from this page.
pub fn closed_keys(code: ErrorCode) -> (Key, Option<Key>) {
    use ErrorCode::*;
    match code {
        AlreadyPaid => (Key::AlreadyPaidTitle, None),
        PaymentUnavailable => (Key::PaymentUnavailableTitle, Some(Key::ReopenPayment)),
        LiveModeUnavailable | TestModeNotAllowed | PaysystemNotConfigured => {
            (Key::UnavailableTitle, Some(Key::UnavailableText))
        }
        _ => (Key::NotFoundTitle, Some(Key::ReopenPayment)),
    }
}

/// "Visa •••• 4242"; just "•••• 4242" for a brand we do not name.
pub fn card_label(card: &CardSummary) -> String {
    let masked = card::mask(&card.last4);
    match Brand::from_code(&card.brand) {
        Some(brand) => [brand.display_name(), " ", &masked].concat(),
        None => masked,
    }
}

/// The notice above the Pay button (or the Confirm button of the challenge).
pub fn notice_view(notice: Notice) -> impl IntoView {
    let text = use_locale().text(notice_key(notice));
    use_announcer().say(text.to_owned());
    focus_soon(NOTICE_ID);
    view! {
        <div id=NOTICE_ID class="b24-notice" tabindex="-1">
            <p>{text}</p>
        </div>
    }
}

const NOTICE_ID: &str = "b24-notice";
const TITLE_ID: &str = "b24-outcome-title";
/// The "Return to the store" link (focus goes there when the countdown is cancelled).
pub const RETURN_ID: &str = "b24-return";

/// Where a final screen lets the customer go.
pub enum Exit {
    /// Back to the store (`RETURN_URL`), when the portal gave one.
    Store(Option<String>),
    /// Load the frame again: the portal posts its data again on every load.
    Reload,
}

/// A final screen: a mark, a title, an explanation, the way out; `paid` is the payment when it
/// succeeded (whether the store knows, the countdown back), `code` a machine-readable code for
/// the store's support when something went wrong. The portal's unusable data and the payment's
/// end share it.
pub fn outcome(
    paid: Option<Payment>,
    title: String,
    text: Option<String>,
    code: Option<&'static str>,
    exit: Exit,
) -> impl IntoView {
    let locale = use_locale();
    let spoken = match &text {
        Some(text) => [&title, ". ", text].concat(),
        None => title.clone(),
    };
    use_announcer().say(spoken);
    focus_soon(TITLE_ID);
    let success = paid.is_some();
    let (return_url, back) = match exit {
        Exit::Store(url) => {
            let back = url.clone().map(|url| {
                view! {
                    <a id=RETURN_ID class="b24-button" href=url target="_top">
                        {locale.text(Key::BackToStore)}
                    </a>
                }
            });
            (url, Either::Left(back))
        }
        Exit::Reload => {
            let reload = move |_| {
                let _ = window().location().reload();
            };
            let button = view! {
                <button type="button" class="b24-button" on:click=reload>
                    {locale.text(Key::Reload)}
                </button>
            };
            (None, Either::Right(button))
        }
    };
    view! {
        <section class="b24-outcome" data-error-code=code>
            <div class=if success { "b24-mark b24-ok" } else { "b24-mark" } aria-hidden="true">
                {if success { "✓" } else { "!" }}
            </div>
            <h2 id=TITLE_ID tabindex="-1">{title}</h2>
            {text.map(|text| view! { <p>{text}</p> })}
            {code.map(|code| view! { <p class="b24-code">{locale.format(Key::ErrorCode, &[("code", code)])}</p> })}
            {paid.map(|payment| store_status(payment, return_url))}
            {back}
        </section>
    }
}
