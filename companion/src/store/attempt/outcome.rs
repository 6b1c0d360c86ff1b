//! How a write to an attempt ends: an insert's outcome, a lease's answer, and how a lease
//! holder leaves the attempt.

use super::AttemptState;
use crate::acquirer::CustomerAction;
use b24pay_protocol::api::DeclineCode;

#[derive(Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted,
    /// Another attempt already holds this idempotency key.
    KeyTaken,
    /// Another attempt blocks this portal payment (see [`AttemptState::blocks_payment`]).
    PaymentBusy,
}

/// The answer to a lease request.
#[derive(Debug, PartialEq, Eq)]
pub enum Lease {
    /// Granted, with this fencing token: every write of the holder carries it.
    Granted { epoch: i64 },
    /// The attempt was not in a state that can be leased, or its lease has not run out.
    Refused,
    /// Another attempt for the same payment became live meanwhile.
    PaymentBusy,
}

/// How a lease holder leaves an attempt (the write releases the lease).
#[derive(Clone, Debug)]
pub enum Settlement {
    /// Charged: the portal call (`outbox_payload`) is queued in the same write.
    Succeeded {
        transaction_id: String,
        outbox_payload: String,
    },
    Declined(DeclineCode),
    /// Nothing charged; the same request may try again.
    Failed,
    RequiresAction(CustomerAction),
    /// Nobody knows yet whether money moved; ask the acquirer again at `next_check_at`.
    Unknown {
        next_check_at: i64,
    },
}

impl Settlement {
    pub fn state(&self) -> AttemptState {
        match self {
            Settlement::Succeeded { .. } => AttemptState::Succeeded,
            Settlement::Declined(_) => AttemptState::Declined,
            Settlement::Failed => AttemptState::Failed,
            Settlement::RequiresAction(_) => AttemptState::RequiresAction,
            Settlement::Unknown { .. } => AttemptState::Unknown,
        }
    }

    /// The decline code stored with it (`processing_error` for a failure).
    pub fn decline_code(&self) -> Option<DeclineCode> {
        match self {
            Settlement::Declined(code) => Some(*code),
            Settlement::Failed => Some(DeclineCode::ProcessingError),
            _ => None,
        }
    }

    pub fn action_json(&self) -> Option<String> {
        match self {
            Settlement::RequiresAction(a) => Some(serde_json::to_string(a).expect("serialisable")),
            _ => None,
        }
    }
}
