//! What every field shares: its current problem, when that problem is shown, and one
//! renderer for label, input, error message and ARIA attributes.
//!
//! Errors appear when the customer leaves a field or submits, never while they are still
//! typing; once shown, an error goes away as soon as the value becomes valid (and stays away
//! until the field is left again).
//!
//! Every input of the widget is drawn by [`field`] with the same attribute types: Leptos
//! compiles each distinct element type into its own code, and one shape for five inputs keeps
//! the wasm small.

use crate::fresh::Fresh;
use crate::i18n::{use_locale, Key, Text};
use b24pay_protocol::card::{self, Brand};
use leptos::prelude::*;
use web_sys::Event;

/// A field's rule: the problem with `value`, given the card's brand (the CVC's length
/// depends on it) and the field's expected `length` (the challenge code's).
pub type Rule = fn(value: &str, brand: Option<Brand>, length: usize) -> Option<Text>;

/// The brand of the card number in `number`.
fn brand_of(number: RwSignal<String>) -> Option<Brand> {
    number.with(|n| card::detect_brand(n))
}

#[derive(Clone, Copy)]
pub struct FieldState {
    /// The input's id.
    pub id: &'static str,
    /// The error message's id (for `aria-describedby`).
    pub error_id: &'static str,
    /// What the field holds (digits only for the digit fields).
    pub value: RwSignal<String>,
    rule: Rule,
    /// The card number's value, for the brand.
    number: RwSignal<String>,
    length: usize,
    revealed: RwSignal<bool>,
}

impl FieldState {
    pub fn new(
        id: &'static str,
        error_id: &'static str,
        rule: Rule,
        number: Option<RwSignal<String>>,
        length: usize,
    ) -> Self {
        let value = RwSignal::new(String::new());
        FieldState {
            id,
            error_id,
            value,
            rule,
            number: number.unwrap_or(value),
            length,
            revealed: RwSignal::new(false),
        }
    }

    /// The value's problem right now, whether shown or not (tracked).
    pub fn problem(&self) -> Option<Text> {
        let brand = brand_of(self.number);
        self.value.with(|v| (self.rule)(v, brand, self.length))
    }

    /// The problem, untracked; `None` too once the field's screen is gone.
    pub fn problem_now(&self) -> Option<Text> {
        let brand = untrack(|| self.number.try_with(|n| card::detect_brand(n)).flatten());
        self.value
            .try_with_untracked(|v| (self.rule)(v, brand, self.length))
            .flatten()
    }

    /// The problem the customer sees.
    pub fn shown(&self) -> Option<Text> {
        if self.revealed.get() {
            self.problem()
        } else {
            None
        }
    }

    /// The field was left: show its problem, if it has one.
    ///
    /// Browsers also fire `blur` when a focused input is removed with its screen, after the
    /// screen's state is gone: hence the `try_` accessors here and in [`FieldState::edited`].
    pub fn left(&self) {
        if self.problem_now().is_some() {
            self.revealed.try_set(true);
        }
    }

    /// The value changed: a valid value hides the error until the field is left again.
    pub fn edited(&self) {
        if self.problem_now().is_none() {
            self.revealed.try_set(false);
        }
    }

    /// Shows the problem now (on submit, or when the value is complete but wrong).
    pub fn reveal(&self) {
        self.revealed.set(true);
    }

    /// The same field expecting `length` characters (the challenge code's, known only when
    /// the challenge starts).
    pub fn with_length(self, length: usize) -> Self {
        FieldState { length, ..self }
    }

    pub fn length(&self) -> usize {
        self.length
    }

    /// The card's brand, untracked.
    pub fn brand(&self) -> Option<Brand> {
        untrack(|| brand_of(self.number))
    }

    pub fn focus(&self) {
        crate::focus::focus_now(self.id);
    }
}

/// How one input looks and behaves.
pub struct Input {
    pub label: Key,
    pub autocomplete: &'static str,
    /// `numeric` for digits, `None` for text.
    pub inputmode: Option<&'static str>,
    pub placeholder: &'static str,
    pub maxlength: Option<usize>,
    /// The value shown when the field is (re)drawn, formatted.
    pub value: String,
    pub on_input: Box<dyn Fn(Event)>,
    /// Show the card's brand inside the input, and name it for screen readers.
    pub shows_brand: bool,
}

/// The id of the brand's name, which describes the card number field.
pub const BRAND_NAME_ID: &str = "b24-brand-name";

/// A labelled input with its error message under it.
pub fn field(state: FieldState, input: Input) -> impl IntoView {
    let locale = use_locale();
    // Every field has the badge's elements (hidden but in the number field), so that all
    // inputs share one element type.
    let has_brand = input.shows_brand;
    let number = state.number;
    let extra = has_brand.then_some(BRAND_NAME_ID);
    let described_by = move || {
        let error = state.shown().map(|_| state.error_id);
        match (error, extra) {
            (Some(e), Some(x)) => Some([e, " ", x].concat()),
            (e, x) => e.or(x).map(str::to_owned),
        }
    };
    let on_input = input.on_input;
    view! {
        <div class="b24-field">
            <label for=state.id>{locale.text(input.label)}</label>
            <div class=if has_brand { "b24-control b24-has-brand" } else { "b24-control" }>
                <input
                    id=state.id
                    type="text"
                    spellcheck="false"
                    autocomplete=input.autocomplete
                    inputmode=input.inputmode
                    placeholder=input.placeholder
                    maxlength=input.maxlength
                    value=input.value
                    aria-invalid=move || state.shown().map(|_| "true")
                    aria-describedby=described_by
                    on:input=on_input
                    on:blur=move |_| state.left()
                />
                // The badge's picture and short text come from the stylesheet, by brand.
                <span
                    class="b24-brand"
                    hidden=(!has_brand).then_some("")
                    data-brand=move || brand_of(number).map_or("none", Brand::code)
                    aria-hidden="true"
                ></span>
                <span id=extra class="b24-sr">
                    {move || brand_of(number).map_or("", Brand::display_name)}
                </span>
            </div>
            {move || {
                Fresh(state
                    .shown()
                    .map(|text| {
                        view! {
                            <p id=state.error_id class="b24-field-error">
                                {locale.say(text)}
                            </p>
                        }
                    }))
            }}
        </div>
    }
}
