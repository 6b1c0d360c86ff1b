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
    fn kind(&self) -> AcquirerKind {
        AcquirerKind::Test
    }

    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        Ok(r.metadata.attempt_id.to_string())
    }

    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        let merchant_ref = r.metadata.reference();
        match behaviour(&r.card.number) {
            Behaviour::Approve => {
                self.approve(reference, r.amount, r.card.last4(), &merchant_ref)
                    .await
            }
            Behaviour::Decline(code) => Ok(ChargeOutcome::Declined(code)),
            Behaviour::ProcessingError => Ok(ChargeOutcome::Failed),
            Behaviour::Challenge => Ok(ChargeOutcome::ActionRequired(CustomerAction::Code {
                code_length: CHALLENGE_CODE.len() as u8,
            })),
        }
    }

    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        match r.result {
            ActionResult::Code(CHALLENGE_CODE) => {
                self.approve(r.reference, r.amount, r.last4, &r.metadata.reference())
                    .await
            }
            _ => Ok(ChargeOutcome::Declined(DeclineCode::ChallengeFailed)),
        }
    }

    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        let found = self
            .store
            .ledger_find(reference)
            .await
            .map_err(|e| AcquirerError::Unavailable(e.to_string()))?;
        Ok(match found {
            Some(transaction_id) => ChargeStatus::Approved { transaction_id },
            None => ChargeStatus::NotFound,
        })
    }

    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.status(reference).await
    }

    async fn refund(&self, _: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        Ok(RefundOutcome::Refused(
            "the test acquirer does not refund yet".into(),
        ))
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
