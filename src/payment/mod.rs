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
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`Payment`]: the live payment, its requests and the tasks it runs by itself |
//! | `phase.rs` | [`Phase`], what the customer sees; notices; errors that close the payment |
//! | `answers.rs` | each answer to the next phase and the keys it keeps |
//! | `keys.rs` | [`Keys`], one idempotency key per distinct body |

mod answers;
mod keys;
mod phase;

pub use answers::{after_challenge, after_confirm, after_resume, KeepKeys};
pub use keys::Keys;
pub use phase::{closes, Challenge, Notice, Phase, StripeStep};

use crate::api::{self, ApiError};
use b24pay_protocol::api::{ChallengeRequest, ConfirmRequest, PaymentView};
use leptos::prelude::*;

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
