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
//! | `outcome.rs` | declines and errors in plain words; the final screens |
//! | `skeleton.rs` | the form's shape while waiting for the portal |

pub mod card_number;
pub mod challenge;
pub mod cvc;
pub mod edit;
pub mod expiry;
pub mod field;
pub mod holder;
pub mod outcome;
pub mod pay_button;
pub mod skeleton;

use crate::announce::use_announcer;
use crate::i18n::{use_locale, Key};
use crate::money::format_money;
use crate::payment::{Payment, Phase};
use b24pay_protocol::api::{CardInput, ConfirmRequest};
use b24pay_protocol::card;
use b24pay_protocol::Money;
use field::FieldState;
use leptos::prelude::*;
use outcome::{closed_keys, NoticeView, Outcome};
use web_sys::SubmitEvent;

/// Everything the payment UI needs from the portal and the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    /// The payment API's base URL (`<meta name="b24pay-api">`), e.g. `/api/v1`.
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
}

/// The card as typed, and each field's state. Lives above the screens, so the form comes
/// back filled in after a challenge that was declined.
#[derive(Clone, Copy)]
struct Card {
    number: RwSignal<String>,
    expiry: RwSignal<String>,
    cvc: RwSignal<String>,
    holder: RwSignal<String>,
    fields: [FieldState; 4],
    ask_holder: bool,
}

impl Card {
    fn new(ask_holder: bool) -> Card {
        let number = RwSignal::new(String::new());
        let expiry = RwSignal::new(String::new());
        let cvc = RwSignal::new(String::new());
        let holder = RwSignal::new(String::new());
        let today = expiry::today();
        let brand = move || card::detect_brand(&number.get());
        Card {
            number,
            expiry,
            cvc,
            holder,
            fields: [
                FieldState::new(
                    card_number::ID,
                    "b24-number-error",
                    Signal::derive(move || card_number::problem(&number.get())),
                ),
                FieldState::new(
                    expiry::ID,
                    "b24-expiry-error",
                    Signal::derive(move || expiry::problem(&expiry.get(), today)),
                ),
                FieldState::new(
                    cvc::ID,
                    "b24-cvc-error",
                    Signal::derive(move || cvc::problem(&cvc.get(), brand())),
                ),
                FieldState::new(
                    holder::ID,
                    "b24-holder-error",
                    Signal::derive(move || holder::problem(&holder.get())),
                ),
            ],
            ask_holder,
        }
    }

    /// The fields on screen, in tab order.
    fn visible(&self) -> &[FieldState] {
        &self.fields[..if self.ask_holder { 4 } else { 3 }]
    }

    /// The card for the API; `None` while a field has a problem.
    fn input(&self) -> Option<CardInput> {
        if self
            .visible()
            .iter()
            .any(|f| f.problem.get_untracked().is_some())
        {
            return None;
        }
        let (exp_month, exp_year) = expiry::parts(&self.expiry.get_untracked())?;
        Some(CardInput {
            number: self.number.get_untracked(),
            exp_month,
            exp_year,
            cvc: self.cvc.get_untracked(),
            holder: self
                .ask_holder
                .then(|| self.holder.get_untracked().trim().to_owned()),
        })
    }
}

/// Which screen a phase shows; the screen changes less often than the phase, and each
/// screen keeps its own state while the phase moves within it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Screen {
    Form,
    Challenge,
    Done,
}

impl Screen {
    fn of(phase: &Phase) -> Screen {
        match phase {
            Phase::Ready(_) | Phase::Submitting => Screen::Form,
            Phase::Challenge(_) => Screen::Challenge,
            Phase::Succeeded(_) | Phase::Closed(_) => Screen::Done,
        }
    }
}

/// The whole payment UI for one portal payment.
#[component]
pub fn CheckoutView(checkout: Checkout) -> impl IntoView {
    let locale = use_locale();
    let payment = Payment::new(checkout.api_base.clone());
    let phase = payment.phase();
    let screen = Memo::new(move |_| Screen::of(&phase.get()));
    let card = Card::new(checkout.holder);
    let amount = format_money(checkout.amount, locale);
    let checkout = StoredValue::new(checkout);
    move || match screen.get() {
        Screen::Form => {
            view! { <CardForm checkout card payment amount=amount.clone() /> }.into_any()
        }
        Screen::Challenge => view! { <challenge::ChallengeView payment /> }.into_any(),
        Screen::Done => {
            let return_url = checkout.with_value(|c| c.return_url.clone());
            match phase.get_untracked() {
                Phase::Succeeded(paid) => {
                    let text = locale.format(
                        Key::PaidText,
                        &[
                            ("amount", &amount),
                            ("card", &outcome::card_label(&paid.card)),
                        ],
                    );
                    view! {
                        <Outcome
                            success=true
                            title=locale.text(Key::PaidTitle).to_owned()
                            text=Some(text)
                            code=None
                            return_url
                        />
                    }
                    .into_any()
                }
                Phase::Closed(code) => {
                    let (title, text) = closed_keys(code);
                    view! {
                        <Outcome
                            success=false
                            title=locale.text(title).to_owned()
                            text=text.map(|k| locale.text(k).to_owned())
                            code=Some(code.as_str())
                            return_url
                        />
                    }
                    .into_any()
                }
                _ => ().into_any(),
            }
        }
    }
}

#[component]
fn CardForm(
    checkout: StoredValue<Checkout>,
    card: Card,
    payment: Payment,
    amount: String,
) -> impl IntoView {
    let locale = use_locale();
    let announcer = use_announcer();
    let phase = payment.phase();
    let busy = Signal::derive(move || phase.get().busy());
    let [number, expiry, cvc, holder] = card.fields;
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if phase.get_untracked().busy() {
            return;
        }
        let Some(input) = card.input() else {
            // Show every problem, read them out, and take the customer to the first one.
            let mut spoken = Vec::new();
            for field in card.visible() {
                if let Some(problem) = field.problem.get_untracked() {
                    field.reveal();
                    spoken.push(locale.say(problem));
                }
            }
            if let Some(first) = card
                .visible()
                .iter()
                .find(|f| f.problem.get_untracked().is_some())
            {
                first.focus();
            }
            announcer.say(spoken.join(" "));
            return;
        };
        let request = checkout.with_value(|c| ConfirmRequest {
            payment_id: c.payment_id.clone(),
            paysystem_id: c.paysystem_id.clone(),
            amount: c.amount.to_decimal_string(),
            currency: c.amount.currency.code().to_owned(),
            card: input,
            invoice_id: c.invoice_id.clone(),
        });
        announcer.say(locale.text(Key::Processing).to_owned());
        payment.submit(request);
    };
    let brand = Signal::derive(move || card::detect_brand(&card.number.get()));
    view! {
        <form
            class="b24-form"
            novalidate
            aria-label=locale.text(Key::CardDetails)
            aria-busy=move || busy.get().then_some("true")
            on:submit=on_submit
        >
            <card_number::CardNumber state=number digits=card.number />
            <div class="b24-row">
                <expiry::Expiry state=expiry digits=card.expiry />
                <cvc::Cvc state=cvc digits=card.cvc brand />
            </div>
            {card.ask_holder.then(|| view! { <holder::Holder state=holder name=card.holder /> })}
            {move || match phase.get() {
                Phase::Ready(Some(notice)) => Some(view! { <NoticeView notice /> }),
                _ => None,
            }}
            <pay_button::PayButton
                label=locale.format(Key::Pay, &[("amount", &amount)])
                busy_label=locale.text(Key::Processing)
                busy
            />
        </form>
    }
}
