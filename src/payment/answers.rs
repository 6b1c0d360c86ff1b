//! Each API answer mapped to the next phase and to what it does to the idempotency keys: pure
//! functions, tested without a browser.

use super::phase::{closes, Challenge, Notice, Phase, StripeStep};
use crate::api::ApiError;
use b24pay_protocol::api::{DeclineCode, ErrorCode, NextAction, PaymentState, PaymentView};

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
