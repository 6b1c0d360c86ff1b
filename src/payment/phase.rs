//! What the customer sees of the payment ([`Phase`]) and the notices an answer leaves.

use b24pay_protocol::api::{DeclineCode, ErrorCode, PaymentView};
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
