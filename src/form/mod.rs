//! The payment UI: the card form, the challenge step and the final screens, switched by the
//! payment's phase (`crate::payment`).
//!
//! | file | concern |
//! |---|---|
//! | `card_number.rs`, `expiry.rs`, `cvc.rs`, `holder.rs` | one field each: formatting, rules, markup |
//! | `edit.rs` | reformatting digits while typing without moving the caret |
//! | `field.rs` | label, inline error, `aria-invalid`/`aria-describedby`, when errors show |
//! | `pay_button.rs` | the amount on the button, the spinner |
//! | `challenge.rs` | the inline code step |
//! | `bank_step.rs` | the bank's own step (Stripe.js) while it runs |
//! | `outcome.rs` | declines and errors in plain words; the final screens |
//! | `paid.rs` | after paying: whether the store knows, the countdown back to the store |

pub mod bank_step;
pub mod card_number;
pub mod challenge;
pub mod cvc;
pub mod edit;
pub mod expiry;
pub mod field;
pub mod holder;
pub mod outcome;
pub mod paid;
pub mod pay_button;

use crate::announce::use_announcer;
use crate::fresh::Fresh;
use crate::i18n::{use_locale, Key};
use crate::money::format_money;
use crate::payment::{Payment, Phase};
use b24pay_protocol::api::{CardInput, ConfirmRequest};
use b24pay_protocol::Money;
use field::FieldState;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use outcome::{closed_keys, notice_view, outcome, Exit};
use pay_button::pay_button;
use web_sys::SubmitEvent;

/// Everything the payment UI needs from the portal and the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    /// The payment API's base URL (`<meta name="b24-api">`), e.g. `/api/v1`.
    pub api_base: String,
    pub payment_id: String,
    pub paysystem_id: String,
    pub amount: Money,
    /// Where "Return to the store" goes (the portal page; the whole window navigates).
    pub return_url: Option<String>,
    /// Ask for the cardholder's name (the FIELD `holder` = `Y`).
    pub holder: bool,
    /// The legacy CRM invoice's id (the FIELD `invoiceId`), for pay systems bound to invoices.
    pub invoice_id: Option<String>,
    /// The payment's number as the store shows it (the FIELD `paymentNumber`, else its id).
    pub payment_number: String,
    /// The pay system is in TEST mode (the FIELD `mode` = `TEST`): say that no money is taken.
    pub test_mode: bool,
}

/// The card as typed (and the challenge code), field by field. Lives above the screens, so
/// the form comes back filled in after a challenge that was declined.
#[derive(Clone, Copy)]
struct Card {
    number: FieldState,
    expiry: FieldState,
    cvc: FieldState,
    holder: FieldState,
    code: FieldState,
    ask_holder: bool,
}

impl Card {
    fn new(ask_holder: bool) -> Card {
        let number = FieldState::new(
            card_number::ID,
            "b24-number-error",
            card_number::problem,
            None,
            0,
        );
        let field = |id, error_id, rule| FieldState::new(id, error_id, rule, Some(number.value), 0);
        Card {
            number,
            expiry: field(expiry::ID, "b24-expiry-error", expiry::rule),
            cvc: field(cvc::ID, "b24-cvc-error", cvc::problem),
            holder: field(holder::ID, "b24-holder-error", holder::problem),
            code: field(challenge::ID, "b24-code-error", challenge::problem),
            ask_holder,
        }
    }

    /// The card's fields on screen, in tab order.
    fn visible(&self) -> Vec<FieldState> {
        let mut fields = vec![self.number, self.expiry, self.cvc];
        if self.ask_holder {
            fields.push(self.holder);
        }
        fields
    }

    /// The card for the API; call once every visible field is valid.
    fn input(&self) -> Option<CardInput> {
        let (exp_month, exp_year) = expiry::parts(&self.expiry.value.get_untracked())?;
        Some(CardInput {
            number: self.number.value.get_untracked(),
            exp_month,
            exp_year,
            cvc: self.cvc.value.get_untracked(),
            holder: self
                .ask_holder
                .then(|| self.holder.value.get_untracked().trim().to_owned()),
        })
    }
}

/// Shows every problem of `fields`, reads them out and takes the customer to the first one.
/// True when there is none.
fn check(fields: &[FieldState], announcer: crate::announce::Announcer) -> bool {
    let locale = use_locale();
    let mut spoken = String::new();
    for field in fields {
        if let Some(problem) = field.problem_now() {
            if spoken.is_empty() {
                field.focus();
            } else {
                spoken.push(' ');
            }
            field.reveal();
            spoken.push_str(&locale.say(problem));
        }
    }
    if spoken.is_empty() {
        return true;
    }
    announcer.say(spoken);
    false
}

/// The whole payment UI for one portal payment.
#[component]
pub fn CheckoutView(checkout: Checkout) -> impl IntoView {
    let locale = use_locale();
    let payment = Payment::new(checkout.api_base.clone(), checkout.test_mode);
    let phase = payment.phase();
    // `Some("")` sets the boolean attribute, `None` removes it: the same value type as the
    // other reactive attributes (`aria-invalid`, `aria-disabled`), so no code of its own.
    let done = move || matches!(phase.get(), Phase::Succeeded(_) | Phase::Closed(_)).then_some("");
    let card = Card::new(checkout.holder);
    let amount = format_money(checkout.amount, locale);
    let summary = summary(&amount, &checkout.payment_number);
    let form = payment_form(checkout.clone(), card, payment, &amount);
    let test_note = move || {
        Fresh(
            payment
                .test_mode()
                .then(|| view! { <p class="b24-test">{locale.text(Key::TestMode)}</p> }),
        )
    };
    // Once the payment is over the form stays in the page, hidden, and the final screen is
    // created.
    let last = move || {
        let (paid, title, text, code) = match phase.get() {
            Phase::Succeeded(paid) => {
                let card = outcome::card_label(&paid.card);
                let text = locale.format(Key::PaidText, &[("amount", &amount), ("card", &card)]);
                (Some(payment), Key::PaidTitle, Some(text), None)
            }
            Phase::Closed(code) => {
                let (title, text) = closed_keys(code);
                let text = text.map(|k| locale.text(k).to_owned());
                (None, title, text, Some(code.as_str()))
            }
            _ => return Fresh(None),
        };
        let title = locale.text(title).to_owned();
        Fresh(Some(outcome(
            paid,
            title,
            text,
            code,
            Exit::Store(checkout.return_url.clone()),
        )))
    };
    view! {
        {test_note}
        <div hidden=done>{summary} {form}</div>
        {last}
    }
}

/// What is being paid: the amount, large, and the store's payment number.
fn summary(amount: &str, number: &str) -> impl IntoView {
    let locale = use_locale();
    view! {
        <section class="b24-summary">
            <p class="b24-label">{locale.text(Key::AmountToPay)}</p>
            <p class="b24-amount">{amount.to_owned()}</p>
            <p class="b24-number">{locale.format(Key::PaymentNumber, &[("number", number)])}</p>
        </section>
    }
}

/// The form: the card fields, or the challenge step in their place, then how the last
/// attempt ended and the button.
fn payment_form(checkout: Checkout, card: Card, payment: Payment, amount: &str) -> impl IntoView {
    let locale = use_locale();
    let announcer = use_announcer();
    let phase = payment.phase();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match phase.get_untracked() {
            Phase::Ready(_) => {
                if !check(&card.visible(), announcer) {
                    return;
                }
                let Some(input) = card.input() else { return };
                announcer.say(locale.text(Key::Processing).to_owned());
                payment.submit(ConfirmRequest {
                    payment_id: checkout.payment_id.clone(),
                    paysystem_id: checkout.paysystem_id.clone(),
                    amount: checkout.amount.to_decimal_string(),
                    currency: checkout.amount.currency.code().to_owned(),
                    card: input,
                    invoice_id: checkout.invoice_id.clone(),
                    session: Some(crate::api::page_session()),
                });
            }
            Phase::Challenge(c) if !c.busy => {
                let code = card.code.with_length(c.code_length as usize);
                if check(&[code], announcer) {
                    announcer.say(locale.text(Key::Processing).to_owned());
                    payment.submit_code(code.value.get_untracked());
                }
            }
            // A request is out (a double click, Enter pressed again) or the payment is over.
            _ => {}
        }
    };
    let fields = move || {
        if payment.authenticating() {
            return Fresh(EitherOf3::C(bank_step::bank_step()));
        }
        Fresh(match payment.challenge_length() {
            0 => EitherOf3::A(view! {
                {card_number::card_number(card.number)}
                <div class="b24-row">
                    {expiry::expiry(card.expiry)} {cvc::cvc(card.cvc)}
                </div>
                {card.ask_holder.then(|| holder::holder(card.holder))}
            }),
            length => EitherOf3::B(challenge::challenge_fields(card.code.with_length(length))),
        })
    };
    view! {
        <form
            // One reactive class rather than two `class:` toggles: one binding less in the wasm.
            class=move || {
                if payment.authenticating() {
                    "b24-form b24-bank-step"
                } else if payment.challenge_length() != 0 {
                    "b24-form b24-challenge"
                } else {
                    "b24-form"
                }
            }
            novalidate
            aria-label=locale.text(Key::CardDetails)
            on:submit=on_submit
        >
            {fields}
            {move || Fresh(match phase.get() {
                Phase::Ready(Some(notice)) => Some(notice_view(notice)),
                Phase::Challenge(c) if !c.busy => c.notice.map(notice_view),
                _ => None,
            })}
            {pay_button(phase, locale.format(Key::Pay, &[("amount", amount)]))}
        </form>
    }
}
