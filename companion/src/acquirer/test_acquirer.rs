//! The built-in test acquirer: DESIGN.md's card table, the numbers people already know from the
//! industry's test modes. Its ledger (charges by idempotency key) lives in the store, like a real
//! acquirer's would live on its side, so a retry after a crash finds the first charge.

use super::*;
use crate::store::{LedgerCharge, SharedStore};

/// The challenge code that approves a challenged payment.
pub const CHALLENGE_CODE: &str = "123";

pub struct TestAcquirer {
    store: SharedStore,
}

/// What the test card table says about a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Approve,
    Decline(DeclineCode),
    ProcessingError,
    Challenge,
}

fn behaviour(number: &str) -> Behaviour {
    match number {
        "4242424242424242" | "5555555555554444" | "378282246310005" => Behaviour::Approve,
        "4000000000009995" => Behaviour::Decline(DeclineCode::InsufficientFunds),
        "4000000000000069" => Behaviour::Decline(DeclineCode::ExpiredCard),
        "4000000000000127" => Behaviour::Decline(DeclineCode::IncorrectCvc),
        "4000000000000119" => Behaviour::ProcessingError,
        "4000002760003184" => Behaviour::Challenge,
        // 4000 0000 0000 0002 and every number outside the table: test mode moves no real
        // money, so a real card number is refused rather than "approved".
        _ => Behaviour::Decline(DeclineCode::GenericDecline),
    }
}

fn transaction_id() -> String {
    format!("tx_test_{:032x}", rand::random::<u128>())
}

impl TestAcquirer {
    pub fn new(store: SharedStore) -> TestAcquirer {
        TestAcquirer { store }
    }

    async fn approve(
        &self,
        key: &str,
        amount: Money,
        last4: &str,
        reference: &str,
    ) -> Result<ChargeOutcome, AcquirerError> {
        let charge = LedgerCharge {
            idempotency_key: key.to_string(),
            transaction_id: transaction_id(),
            amount,
            last4: last4.to_string(),
            reference: reference.to_string(),
        };
        let transaction_id = self
            .store
            .ledger_charge(&charge)
            .await
            .map_err(|e| AcquirerError::Unavailable(e.to_string()))?;
        Ok(ChargeOutcome::Approved { transaction_id })
    }
}

#[async_trait]
impl Acquirer for TestAcquirer {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn charge(&self, r: &ChargeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        match behaviour(&r.card.number) {
            Behaviour::Approve => {
                self.approve(r.idempotency_key, r.amount, r.card.last4(), r.reference)
                    .await
            }
            Behaviour::Decline(code) => Ok(ChargeOutcome::Declined(code)),
            Behaviour::ProcessingError => Ok(ChargeOutcome::Failed),
            Behaviour::Challenge => Ok(ChargeOutcome::ChallengeRequired {
                challenge_ref: format!("ch_{}", r.idempotency_key),
                code_length: CHALLENGE_CODE.len() as u8,
            }),
        }
    }

    async fn answer_challenge(
        &self,
        a: &ChallengeAnswer<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        if a.challenge_ref != format!("ch_{}", a.idempotency_key) {
            return Ok(ChargeOutcome::Declined(DeclineCode::ChallengeFailed));
        }
        if a.code != CHALLENGE_CODE {
            return Ok(ChargeOutcome::Declined(DeclineCode::ChallengeFailed));
        }
        self.approve(a.idempotency_key, a.amount, a.last4, a.reference)
            .await
    }

    async fn find_charge(&self, key: &str) -> Result<Option<String>, AcquirerError> {
        self.store
            .ledger_find(key)
            .await
            .map_err(|e| AcquirerError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_table() {
        assert_eq!(behaviour("4242424242424242"), Behaviour::Approve);
        assert_eq!(behaviour("5555555555554444"), Behaviour::Approve);
        assert_eq!(behaviour("378282246310005"), Behaviour::Approve);
        assert_eq!(
            behaviour("4000000000000002"),
            Behaviour::Decline(DeclineCode::GenericDecline)
        );
        assert_eq!(
            behaviour("4000000000009995"),
            Behaviour::Decline(DeclineCode::InsufficientFunds)
        );
        assert_eq!(
            behaviour("4000000000000069"),
            Behaviour::Decline(DeclineCode::ExpiredCard)
        );
        assert_eq!(
            behaviour("4000000000000127"),
            Behaviour::Decline(DeclineCode::IncorrectCvc)
        );
        assert_eq!(behaviour("4000000000000119"), Behaviour::ProcessingError);
        assert_eq!(behaviour("4000002760003184"), Behaviour::Challenge);
    }
}
