//! The payment's state machine: what the customer sees after each answer of the API, and
//! which idempotency key each request carries.
//!
//! ```text
//!   (portal waiting: app)  ──▶  Ready ──submit──▶ Submitting ──▶ Succeeded
//!                                 ▲                   │     ╲──▶ Closed (already paid, amount changed, …)
//!                                 │  declined, failed, │
//!                                 └── network, refused ┘──▶ Challenge ──code──▶ Succeeded / Ready(declined)
//!                                                     ╲──▶ Authenticating ──Stripe.js, resume──▶ Succeeded / Ready(declined)
//! ```
//!
//! `Authenticating` is the acquirer's own step (3-D Secure in Stripe.js, `crate::stripe`): it
//! runs by itself, then `POST /payments/{id}/resume` asks the companion how it went, whatever
//! Stripe.js answered.
//!
//! Idempotency keys: one per distinct request body. Sending the same body again — a retry
//! after a network failure, a transient `failed` answer or a retryable error — reuses the
//! key, so the server answers the first attempt's result and can never charge twice. Once an
//! attempt has a final answer (declined, or refused as invalid) its key is retired: the next
//! submit, with changed or even unchanged card data (the customer may have topped up), is a
//! new attempt with a new key.

use crate::api::{self, ApiError};
use b24pay_protocol::api::{
    ChallengeRequest, ConfirmRequest, DeclineCode, ErrorCode, NextAction, PaymentState, PaymentView,
};
use leptos::prelude::*;
use std::fmt;

/// What the customer sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The card form is open; the notice, if any, says how the last attempt ended.
    Ready(Option<Notice>),
    /// A payment request is in flight: the form is locked.
    Submitting,
    /// The bank asks for a code, entered inline (the portal's iframe cannot open popups).
    Challenge(Challenge),
    /// The acquirer's own step (3-D Secure in Stripe.js) runs in the frame; the form is locked.
    Authenticating(StripeStep),
    Succeeded(PaymentView),
    /// This payment cannot go on from this page (already paid, amount changed, store not set
    /// up for card payments): only the way back to the store remains.
    Closed(ErrorCode),
}

impl Phase {
    /// A request is in flight.
    pub fn busy(&self) -> bool {
        matches!(
            self,
            Phase::Submitting
                | Phase::Authenticating(_)
                | Phase::Challenge(Challenge { busy: true, .. })
        )
    }
}

/// A `NextAction::StripeJs` of one attempt.
#[derive(Clone, PartialEq, Eq)]
pub struct StripeStep {
    /// The attempt's id, for `POST /payments/{id}/resume`.
    pub payment: String,
    pub js_url: String,
    pub publishable_key: String,
    /// Lets this browser finish this one payment: never printed.
    pub client_secret: String,
}

impl fmt::Debug for StripeStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeStep")
            .field("payment", &self.payment)
            .field("js_url", &self.js_url)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The attempt's id, for `POST /payments/{id}/challenge`.
    pub payment: String,
    pub code_length: u8,
    /// The code is being checked.
    pub busy: bool,
    pub notice: Option<Notice>,
}

/// How the last request ended, when the customer can still act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The issuer declined (or, with `processing_error`, failed transiently: retry is safe).
    Declined(DeclineCode),
    /// No readable answer: the request may or may not have arrived. Retrying is safe.
    Connection,
    /// The API refused the request.
    Refused(ErrorCode),
}

/// Errors after which this page cannot take the payment at all.
pub fn closes(code: ErrorCode) -> bool {
    use ErrorCode::*;
    matches!(
        code,
        AlreadyPaid
            | PaymentUnavailable
            | LiveModeUnavailable
            | TestModeNotAllowed
            | PaysystemNotConfigured
            | NotFound
            | InvalidPaymentId
            | InvalidPaysystemId
            | InvalidAmount
            | UnknownCurrency
    )
}

/// The idempotency key of the request body in flight or last sent without a final answer.
pub struct Keys<T> {
    current: Option<(T, String)>,
}

impl<T: PartialEq> Keys<T> {
    pub fn new() -> Self {
        Keys { current: None }
    }

    /// The key for `body`: the pending one when the body is the same, else a fresh one.
    pub fn key_for(&mut self, body: T, fresh: impl FnOnce() -> String) -> String {
        match &self.current {
            Some((pending, key)) if *pending == body => key.clone(),
            _ => {
                let key = fresh();
                self.current = Some((body, key.clone()));
                key
            }
        }
    }

    /// The attempt has a final answer: the next request gets a new key.
    pub fn retire(&mut self) {
        self.current = None;
    }
}

impl<T: PartialEq> Default for Keys<T> {
    fn default() -> Self {
        Keys::new()
    }
}

/// The phase after an answer to `POST /payments`, and whether its key stays pending.
pub fn after_confirm(result: Result<PaymentView, ApiError>) -> (Phase, bool) {
    match result {
        Ok(view) => match view.state {
            PaymentState::Succeeded => (Phase::Succeeded(view), false),
            PaymentState::RequiresAction => match view.action {
                Some(NextAction::Challenge { code_length }) => (
                    Phase::Challenge(Challenge {
                        payment: view.id,
                        code_length,
                        busy: false,
                        notice: None,
                    }),
                    true,
                ),
                Some(NextAction::StripeJs {
                    client_secret,
                    publishable_key,
                    js_url,
                }) => (
                    Phase::Authenticating(StripeStep {
                        payment: view.id,
                        js_url,
                        publishable_key,
                        client_secret,
                    }),
                    true,
                ),
                None => (Phase::Ready(Some(Notice::Connection)), true),
            },
            PaymentState::Declined => (
                Phase::Ready(Some(Notice::Declined(
                    view.decline_code.unwrap_or(DeclineCode::GenericDecline),
                ))),
                false,
            ),
            PaymentState::Failed => (
                Phase::Ready(Some(Notice::Declined(
                    view.decline_code.unwrap_or(DeclineCode::ProcessingError),
                ))),
                true,
            ),
            PaymentState::Processing => (
                Phase::Ready(Some(Notice::Refused(ErrorCode::PaymentInProgress))),
                true,
            ),
        },
        Err(error) => {
            let keep = error.is_retryable();
            let phase = match error {
                ApiError::Refused { code } if closes(code) => Phase::Closed(code),
                ApiError::Refused { code } => Phase::Ready(Some(Notice::Refused(code))),
                ApiError::Network | ApiError::Unreadable { .. } => {
                    Phase::Ready(Some(Notice::Connection))
                }
            };
            (phase, keep)
        }
    }
}

/// What an answer does to the action's key (the challenge code's or the resume's) and to the
/// payment's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepKeys {
    pub challenge: bool,
    pub confirm: bool,
}

/// The phase after an answer to `POST /payments/{id}/challenge`.
pub fn after_challenge(
    challenge: &Challenge,
    result: Result<PaymentView, ApiError>,
) -> (Phase, KeepKeys) {
    let stay = |notice: Notice, keep_code: bool| {
        (
            Phase::Challenge(Challenge {
                busy: false,
                notice: Some(notice),
                ..challenge.clone()
            }),
            KeepKeys {
                challenge: keep_code,
                confirm: true,
            },
        )
    };
    let done = KeepKeys {
        challenge: false,
        confirm: false,
    };
    match result {
        Ok(view) => match view.state {
            PaymentState::Succeeded => (Phase::Succeeded(view), done),
            PaymentState::Declined => (
                Phase::Ready(Some(Notice::Declined(
                    view.decline_code.unwrap_or(DeclineCode::ChallengeFailed),
                ))),
                done,
            ),
            // Still waiting for a code: this one was not accepted.
            PaymentState::RequiresAction => {
                stay(Notice::Refused(ErrorCode::InvalidChallengeCode), false)
            }
            PaymentState::Failed => stay(
                Notice::Declined(view.decline_code.unwrap_or(DeclineCode::ProcessingError)),
                true,
            ),
            PaymentState::Processing => stay(Notice::Refused(ErrorCode::PaymentInProgress), true),
        },
        Err(ApiError::Refused { code }) if closes(code) => (Phase::Closed(code), done),
        // The challenge expired or was already answered: start again from the form.
        Err(ApiError::Refused {
            code: ErrorCode::InvalidState,
        }) => (
            Phase::Ready(Some(Notice::Refused(ErrorCode::InvalidState))),
            done,
        ),
        Err(error) => {
            let keep = error.is_retryable();
            let notice = match error {
                ApiError::Refused { code } => Notice::Refused(code),
                ApiError::Network | ApiError::Unreadable { .. } => Notice::Connection,
            };
            stay(notice, keep)
        }
    }
}

/// The phase after an answer to `POST /payments/{id}/resume` (after the Stripe.js step). The
/// card form comes back unless the payment is over; the payment's key stays pending while the
/// attempt may still be open, so Pay asks about the same attempt again rather than charging
/// anew (and runs its Stripe.js step again if it still waits for one).
pub fn after_resume(result: Result<PaymentView, ApiError>) -> (Phase, KeepKeys) {
    let keep = |resume: bool, confirm: bool| KeepKeys {
        challenge: resume,
        confirm,
    };
    let ready = |notice: Notice| Phase::Ready(Some(notice));
    match result {
        Ok(view) => match view.state {
            PaymentState::Succeeded => (Phase::Succeeded(view), keep(false, false)),
            // Authentication failed or was cancelled: nothing charged, the payment is payable.
            PaymentState::Declined => (
                ready(Notice::Declined(
                    view.decline_code.unwrap_or(DeclineCode::ChallengeFailed),
                )),
                keep(false, false),
            ),
            // Stripe.js did not get through (it did not load, the frame was blocked).
            PaymentState::RequiresAction => (ready(Notice::Connection), keep(false, true)),
            PaymentState::Failed => (
                ready(Notice::Declined(
                    view.decline_code.unwrap_or(DeclineCode::ProcessingError),
                )),
                keep(false, true),
            ),
            PaymentState::Processing => (
                ready(Notice::Refused(ErrorCode::PaymentInProgress)),
                keep(false, true),
            ),
        },
        Err(ApiError::Refused { code }) if closes(code) => {
            (Phase::Closed(code), keep(false, false))
        }
        // The step's hold ran out: that attempt is over.
        Err(ApiError::Refused {
            code: ErrorCode::InvalidState,
        }) => (
            ready(Notice::Refused(ErrorCode::InvalidState)),
            keep(false, false),
        ),
        Err(error) => {
            let retry = error.is_retryable();
            let notice = match error {
                ApiError::Refused { code } => Notice::Refused(code),
                ApiError::Network | ApiError::Unreadable { .. } => Notice::Connection,
            };
            (ready(notice), keep(retry, true))
        }
    }
}

/// How long to wait before each time the widget asks again, with the same key, after a resume
/// that got no readable answer.
const RESUME_RETRIES_MS: [u32; 2] = [1000, 3000];

/// Whether the store knows of a succeeded payment (the API's `portal_notified`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notified {
    /// Not yet: the widget asks again a few times.
    Pending,
    Yes,
    /// Still not after the last time the widget asked; the companion keeps trying.
    Later,
}

/// How long to wait before each time the widget asks whether the store knows of the payment
/// (about 20 s in all). The companion tells the portal within a second or two unless the
/// portal is struggling; then the customer is told the store will know shortly.
const NOTIFIED_POLLS_MS: [u32; 8] = [1000, 1000, 2000, 2000, 3000, 3000, 4000, 4000];

/// The live payment: its phase, keys and API base. `Copy`, so handlers can capture it.
#[derive(Clone, Copy)]
pub struct Payment {
    phase: RwSignal<Phase>,
    /// The code length while the challenge step is shown, else 0: the form switches between
    /// the card fields and the code only when this changes, not at every phase.
    challenge: RwSignal<usize>,
    /// The Stripe.js step is running (the form shows the bank's step in place of the fields).
    authenticating: RwSignal<bool>,
    /// No real money moves: the pay system is in TEST mode (FIELDS `mode`, or an answer's
    /// `test_mode`).
    test_mode: RwSignal<bool>,
    notified: RwSignal<Notified>,
    state: StoredValue<State>,
}

struct State {
    confirm_keys: Keys<ConfirmRequest>,
    challenge_keys: Keys<(String, ChallengeRequest)>,
    /// By attempt id: a resume carries no body of its own.
    resume_keys: Keys<String>,
    api_base: String,
}

impl Payment {
    pub fn new(api_base: String, test_mode: bool) -> Payment {
        Payment {
            phase: RwSignal::new(Phase::Ready(None)),
            challenge: RwSignal::new(0),
            authenticating: RwSignal::new(false),
            test_mode: RwSignal::new(test_mode),
            notified: RwSignal::new(Notified::Pending),
            state: StoredValue::new(State {
                confirm_keys: Keys::new(),
                challenge_keys: Keys::new(),
                resume_keys: Keys::new(),
                api_base,
            }),
        }
    }

    pub fn phase(&self) -> ReadSignal<Phase> {
        self.phase.read_only()
    }

    /// The challenge code's length while the challenge step is shown, else 0 (tracked).
    pub fn challenge_length(&self) -> usize {
        self.challenge.get()
    }

    /// The Stripe.js step is running (tracked).
    pub fn authenticating(&self) -> bool {
        self.authenticating.get()
    }

    fn set_phase(&self, phase: Phase) {
        let length = match &phase {
            Phase::Challenge(c) => c.code_length as usize,
            _ => 0,
        };
        if self.challenge.get_untracked() != length {
            self.challenge.set(length);
        }
        let authenticating = matches!(phase, Phase::Authenticating(_));
        if self.authenticating.get_untracked() != authenticating {
            self.authenticating.set(authenticating);
        }
        self.phase.set(phase);
    }

    /// Whether the payment is a test (tracked).
    pub fn test_mode(&self) -> bool {
        self.test_mode.get()
    }

    /// Whether the store knows of the payment, once it has succeeded (tracked).
    pub fn notified(&self) -> Notified {
        self.notified.get()
    }

    /// Sends the card for payment, unless a request is already in flight (double clicks and
    /// repeated Enter presses end here) or the payment is over.
    pub fn submit(&self, request: ConfirmRequest) {
        if !matches!(self.phase.get_untracked(), Phase::Ready(_)) {
            return;
        }
        let Some((call, key)) = self.state.try_update_value(|s| {
            let call = api::confirm(&s.api_base, &request);
            (
                call,
                s.confirm_keys.key_for(request, api::new_idempotency_key),
            )
        }) else {
            return;
        };
        self.set_phase(Phase::Submitting);
        self.send(call, key, None);
    }

    /// Sends the challenge code, unless one is being checked already.
    pub fn submit_code(&self, code: String) {
        let Phase::Challenge(challenge) = self.phase.get_untracked() else {
            return;
        };
        if challenge.busy {
            return;
        }
        let request = ChallengeRequest { code };
        let Some((call, key)) = self.state.try_update_value(|s| {
            let call = api::challenge(&s.api_base, &challenge.payment, &request);
            let body = (challenge.payment.clone(), request);
            (
                call,
                s.challenge_keys.key_for(body, api::new_idempotency_key),
            )
        }) else {
            return;
        };
        self.set_phase(Phase::Challenge(Challenge {
            busy: true,
            ..challenge.clone()
        }));
        self.send(call, key, Some(challenge));
    }

    /// One request in flight; `challenge` is the step it answers, if it is a code.
    fn send(self, call: api::Request, key: String, challenge: Option<Challenge>) {
        leptos::task::spawn_local(async move {
            let result = api::send(call, Some(&key)).await;
            self.note_test_mode(&result);
            let (phase, keep) = match &challenge {
                None => {
                    let (phase, keep) = after_confirm(result);
                    (
                        phase,
                        KeepKeys {
                            challenge: true,
                            confirm: keep,
                        },
                    )
                }
                Some(challenge) => after_challenge(challenge, result),
            };
            self.settle(phase, keep);
        });
    }

    fn note_test_mode(&self, result: &Result<PaymentView, ApiError>) {
        if result.as_ref().is_ok_and(|view| view.test_mode) {
            self.test_mode.try_set(true);
        }
    }

    /// Applies an answer: retires the keys it ends, shows its phase, and starts what that phase
    /// runs by itself (the Stripe.js step, asking whether the store knows).
    fn settle(self, phase: Phase, keep: KeepKeys) {
        // The owner may be gone (the portal re-posted other parameters).
        if self
            .state
            .try_update_value(|s| {
                if !keep.challenge {
                    s.challenge_keys.retire();
                    s.resume_keys.retire();
                }
                if !keep.confirm {
                    s.confirm_keys.retire();
                }
            })
            .is_none()
        {
            return;
        }
        match &phase {
            Phase::Succeeded(view) if view.portal_notified => self.notified.set(Notified::Yes),
            Phase::Succeeded(view) => {
                leptos::task::spawn_local(self.watch_notification(view.id.clone()))
            }
            Phase::Authenticating(step) => {
                leptos::task::spawn_local(self.authenticate(step.clone()))
            }
            _ => {}
        }
        self.set_phase(phase);
    }

    /// The Stripe.js step, then `POST /payments/{id}/resume` whatever it answered (a page that
    /// could not load Stripe.js too): the companion asks Stripe how it went. A resume without a
    /// readable answer is asked again with the same key a couple of times.
    async fn authenticate(self, step: StripeStep) {
        let _ = crate::stripe::handle_next_action(
            &step.js_url,
            &step.publishable_key,
            &step.client_secret,
        )
        .await;
        let Some(key) = self.state.try_update_value(|s| {
            s.resume_keys
                .key_for(step.payment.clone(), api::new_idempotency_key)
        }) else {
            return;
        };
        let mut result = Err(ApiError::Network);
        for delay in [0].into_iter().chain(RESUME_RETRIES_MS) {
            gloo_timers::future::TimeoutFuture::new(delay).await;
            let Some(call) = self
                .state
                .try_with_value(|s| api::resume(&s.api_base, &step.payment))
            else {
                return;
            };
            result = api::send(call, Some(&key)).await;
            if !matches!(result, Err(ApiError::Network | ApiError::Unreadable { .. })) {
                break;
            }
        }
        self.note_test_mode(&result);
        let (phase, keep) = after_resume(result);
        self.settle(phase, keep);
    }

    /// Asks `GET /payments/{id}` a bounded number of times whether the store knows of the
    /// payment yet.
    async fn watch_notification(self, id: String) {
        for delay in NOTIFIED_POLLS_MS {
            gloo_timers::future::TimeoutFuture::new(delay).await;
            let Some(call) = self.state.try_with_value(|s| api::status(&s.api_base, &id)) else {
                return;
            };
            if api::send(call, None)
                .await
                .is_ok_and(|view| view.portal_notified)
            {
                self.notified.try_set(Notified::Yes);
                return;
            }
        }
        self.notified.try_set(Notified::Later);
    }
}
