//! Card acquiring behind a trait, so the payment flow never knows which network it talks to.
//! The only implementation here is [`TestAcquirer`] (DESIGN.md's test card table); a live
//! acquirer plugs in through the same trait.

mod test_acquirer;

pub use test_acquirer::TestAcquirer;

use async_trait::async_trait;
use b24pay_protocol::api::DeclineCode;
use b24pay_protocol::card::Brand;
use b24pay_protocol::Money;

/// A card that passed the server's own checks. Lives in memory for one request only: the number
/// and CVC are never stored or logged (`Debug` masks them).
#[derive(Clone)]
pub struct Card {
    pub number: String,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: String,
    pub holder: Option<String>,
    pub brand: Option<Brand>,
}

impl Card {
    pub fn last4(&self) -> &str {
        &self.number[self.number.len().saturating_sub(4)..]
    }
    pub fn brand_code(&self) -> &'static str {
        self.brand.map_or("unknown", Brand::code)
    }
    /// What may be shown and sent to the portal (`PS_CARD_NUMBER`).
    pub fn masked(&self) -> String {
        b24pay_protocol::card::mask(&self.number)
    }
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("number", &self.masked())
            .field("brand", &self.brand_code())
            .finish_non_exhaustive()
    }
}

/// One charge. `idempotency_key` is the attempt id: charging twice with the same key returns
/// the first result and never moves money twice.
#[derive(Debug)]
pub struct ChargeRequest<'a> {
    pub idempotency_key: &'a str,
    pub amount: Money,
    pub card: &'a Card,
    /// `paysystem_id/payment_id`, the merchant's reference for this charge.
    pub reference: &'a str,
}

/// The customer's answer to a challenge started by [`Acquirer::charge`].
#[derive(Debug)]
pub struct ChallengeAnswer<'a> {
    pub idempotency_key: &'a str,
    /// What [`ChargeOutcome::ChallengeRequired`] returned.
    pub challenge_ref: &'a str,
    pub code: &'a str,
    pub amount: Money,
    pub last4: &'a str,
    pub reference: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    Approved {
        transaction_id: String,
    },
    Declined(DeclineCode),
    /// A transient processing error: nothing was charged.
    Failed,
    /// The issuer wants a challenge (3-D Secure style) before approving.
    ChallengeRequired {
        challenge_ref: String,
        code_length: u8,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AcquirerError {
    /// The acquirer could not be reached or did not answer: the charge may or may not exist;
    /// retrying with the same idempotency key finds out without charging twice.
    #[error("acquirer unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Acquirer: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn charge(&self, request: &ChargeRequest<'_>) -> Result<ChargeOutcome, AcquirerError>;
    async fn answer_challenge(
        &self,
        answer: &ChallengeAnswer<'_>,
    ) -> Result<ChargeOutcome, AcquirerError>;
    /// The transaction id of an approved charge made under this idempotency key, if any: how an
    /// attempt left mid-charge by a crash is resolved.
    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<String>, AcquirerError>;
}
