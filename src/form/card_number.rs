//! The card number: brand detected as the customer types, digits grouped the way the brand
//! prints them (4-4-4-4, Amex 4-6-5, up to 19 digits), the Luhn check, pasting with spaces
//! or dashes, and a caret that stays put when editing in the middle.

use super::edit::{self, Format};
use super::field::{Field, FieldState};
use crate::i18n::{Key, Text};
use b24pay_protocol::card::{self, Brand, NumberError};
use leptos::prelude::*;
use web_sys::Event;

pub const ID: &str = "b24-number";
const BRAND_NAME_ID: &str = "b24-brand-name";

/// The number's problem, if any (digits only).
pub fn problem(digits: &str) -> Option<Text> {
    match card::validate_number(digits) {
        Ok(_) => None,
        Err(NumberError::Empty) => Some(Key::NumberEmpty.into()),
        Err(NumberError::Incomplete) => Some(Key::NumberIncomplete.into()),
        Err(NumberError::BadLength | NumberError::Checksum) => Some(Key::NumberInvalid.into()),
    }
}

fn show(digits: &str, _deleting: bool) -> String {
    card::format_number(digits)
}

/// Short text of the brand badge (the badge's CSS draws Mastercard's and Maestro's circles).
fn badge(brand: Brand) -> &'static str {
    match brand {
        Brand::Visa => "VISA",
        Brand::Mastercard | Brand::Maestro => "",
        Brand::Mir => "МИР",
        Brand::Amex => "AMEX",
        Brand::UnionPay => "UnionPay",
        Brand::Jcb => "JCB",
        Brand::Discover => "DISCOVER",
        Brand::DinersClub => "Diners",
    }
}

#[component]
pub fn CardNumber(state: FieldState, digits: RwSignal<String>) -> impl IntoView {
    let brand = Memo::new(move |_| card::detect_brand(&digits.get()));
    let on_input = move |ev: Event| {
        let format = Format {
            normalize: edit::keep,
            max: &card::max_digits_for,
            show,
        };
        let now = edit::apply(&ev, &digits.get_untracked(), &format);
        let complete = now.len() == card::max_digits_for(&now);
        digits.set(now);
        state.edited();
        // Every digit a brand takes is typed and the number is still wrong: the customer is
        // done typing, so say so now rather than at the next field.
        if complete {
            state.left();
        }
    };
    let described_by = state.described_by(Some(BRAND_NAME_ID));
    view! {
        <Field state label=Key::CardNumber>
            <div class="b24-control">
                <input
                    id=ID
                    node_ref=state.input
                    type="text"
                    inputmode="numeric"
                    autocomplete="cc-number"
                    spellcheck="false"
                    placeholder="1234 1234 1234 1234"
                    value=card::format_number(&digits.get_untracked())
                    aria-invalid=state.aria_invalid()
                    aria-describedby=described_by
                    on:input=on_input
                    on:blur=move |_| state.left()
                />
                <span
                    class="b24-brand"
                    data-brand=move || brand.get().map_or("none", Brand::code)
                    aria-hidden="true"
                >
                    {move || brand.get().map(badge)}
                </span>
                <span id=BRAND_NAME_ID class="b24-sr">
                    {move || brand.get().map(Brand::display_name)}
                </span>
            </div>
        </Field>
    }
}
