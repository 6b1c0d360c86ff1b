//! What the operator asks for, what can go wrong, what a refund command reports, and the
//! refund's idempotency key.

use crate::acquirer::AcquirerKind;
use crate::store::{Attempt, Refund, StoreError};
use b24pay_protocol::ids::{PaySystemId, PaymentId};
use b24pay_protocol::Money;

/// What the operator asked for.
#[derive(Clone, Debug)]
pub struct RefundCommand {
    pub payment_id: PaymentId,
    pub paysystem_id: Option<PaySystemId>,
    /// The portal, when payments of several portals carry this id (`b24pay portals list`).
    pub portal: Option<crate::portal::PortalKey>,
    /// Decimal text in the charge's currency; `None`: everything not refunded yet.
    pub amount: Option<String>,
    /// The refund's idempotency key; `None`: derived from the charge and the amount.
    pub key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("payment {0} has no charged attempt in this store")]
    NotCharged(PaymentId),
    #[error("payment {payment} was charged through several pay systems or portals ({paysystems}): name one with --paysystem or --portal")]
    Ambiguous {
        payment: PaymentId,
        paysystems: String,
    },
    #[error("{0:?} is not a positive amount in {1}")]
    BadAmount(String, String),
    #[error("{asked} is more than is left to refund: {left} of the {charged} charged")]
    TooMuch {
        asked: Money,
        left: Money,
        charged: Money,
    },
    #[error("nothing is left to refund: all of the {0} charged is refunded (or being refunded)")]
    NothingLeft(Money),
    #[error("refund key {key:?} belongs to another refund ({other}); pick a new --key")]
    KeyReused { key: String, other: String },
    #[error("{0:?} is not a refund key (8 to 64 of A-Z a-z 0-9 _ -)")]
    BadKey(String),
    #[error("the attempt was charged by the {0} acquirer, which is not configured here")]
    NoAcquirer(AcquirerKind),
    #[error("the attempt records no acquirer reference or transaction id")]
    NoReference,
    #[error("the acquirer could not list the charge's refunds: {0}")]
    Acquirer(String),
    #[error("store failure: {0}")]
    Store(#[from] StoreError),
}

/// What a refund command did.
#[derive(Clone, Debug)]
pub struct RefundReport {
    pub attempt: Attempt,
    pub refund: Refund,
    /// False when the command found this refund recorded already (a repeat).
    pub created: bool,
    /// Succeeded refunds of the charge, this one included when it succeeded.
    pub refunded: Money,
    /// The acquirer's error when it could not be asked (the refund stays `requested`).
    pub acquirer_error: Option<String>,
}

pub(super) fn refund_id() -> String {
    format!("rf_{:032x}", rand::random::<u128>())
}

pub(super) fn valid_key(key: &str) -> bool {
    (8..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The key a command without `--key` gets: the same charge and amount give the same key.
pub(super) fn derived_key(a: &Attempt, amount: Option<Money>) -> String {
    let hex = a.id.as_str().trim_start_matches("pa_");
    match amount {
        Some(m) => format!("rf_{hex}_{}", m.minor),
        None => format!("rf_{hex}_rest"),
    }
}
