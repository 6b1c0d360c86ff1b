//! What every field shares: its current problem, when that problem is shown, and the wiring
//! of label, error message and ARIA attributes.
//!
//! Errors appear when the customer leaves a field or submits, never while they are still
//! typing; once shown, an error goes away as soon as the value becomes valid (and stays away
//! until the field is left again).

use crate::i18n::{use_locale, Key, Text};
use leptos::html::Input;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct FieldState {
    /// The input's id; the error message's id is `{id}-error`.
    pub id: &'static str,
    pub error_id: &'static str,
    /// The value's problem right now, whether shown or not.
    pub problem: Signal<Option<Text>>,
    revealed: RwSignal<bool>,
    pub input: NodeRef<Input>,
}

impl FieldState {
    pub fn new(id: &'static str, error_id: &'static str, problem: Signal<Option<Text>>) -> Self {
        FieldState {
            id,
            error_id,
            problem,
            revealed: RwSignal::new(false),
            input: NodeRef::new(),
        }
    }

    /// The problem the customer sees.
    pub fn shown(&self) -> Option<Text> {
        if self.revealed.get() {
            self.problem.get()
        } else {
            None
        }
    }

    /// The field was left: show its problem, if it has one.
    ///
    /// Browsers also fire `blur` when a focused input is removed with its screen, after the
    /// screen's state is gone: hence the `try_` accessors here and in [`FieldState::edited`].
    pub fn left(&self) {
        if let Some(Some(_)) = self.problem.try_get_untracked() {
            self.revealed.try_set(true);
        }
    }

    /// The value changed: a valid value hides the error until the field is left again.
    pub fn edited(&self) {
        if let Some(None) = self.problem.try_get_untracked() {
            self.revealed.try_set(false);
        }
    }

    /// Shows the problem now (on submit, or when the value is complete but wrong).
    pub fn reveal(&self) {
        self.revealed.set(true);
    }

    pub fn focus(&self) {
        if let Some(input) = self.input.get_untracked() {
            let _ = input.focus();
        }
    }

    /// `aria-invalid` for the input.
    pub fn aria_invalid(self) -> impl Fn() -> Option<&'static str> + Copy + Send + Sync {
        move || self.shown().map(|_| "true")
    }

    /// `aria-describedby` for the input: the error message while one is shown, plus `extra`.
    pub fn described_by(
        self,
        extra: Option<&'static str>,
    ) -> impl Fn() -> Option<String> + Copy + Send + Sync {
        move || {
            let error = self.shown().map(|_| self.error_id);
            match (error, extra) {
                (Some(e), Some(x)) => Some(format!("{e} {x}")),
                (e, x) => e.or(x).map(str::to_owned),
            }
        }
    }
}

/// A labelled field: the label, the control (children) and the error message under it.
#[component]
pub fn Field(
    state: FieldState,
    label: Key,
    children: Children,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class=format!("b24-field {class}") class:b24-invalid=move || state.shown().is_some()>
            <label for=state.id>{locale.text(label)}</label>
            {children()}
            {move || {
                state
                    .shown()
                    .map(|text| {
                        view! {
                            <p id=state.error_id class="b24-error">
                                <ErrorIcon />
                                {locale.say(text)}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// The "!" in a circle before every error and warning: errors are never colour alone.
#[component]
pub fn ErrorIcon() -> impl IntoView {
    view! { <span class="b24-icon" aria-hidden="true">"!"</span> }
}
