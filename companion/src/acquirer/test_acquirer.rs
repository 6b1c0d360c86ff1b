//! The built-in test acquirer: the README's test cards (`b24pay_protocol::test_cards`), the
//! numbers people already know from the industry's test modes. It keeps the records a real acquirer keeps on its side (each charge by
//! reference: opened, approved, declined, waiting for the customer, cancelled; refunds) in the
//! store's `test_acquirer_ledger`, and follows every rule of [`Acquirer`]: `open` moves no money,
//! a cancelled charge can never be approved afterwards, `status` answers from the records.
//! No real money is ever behind it.

use super::*;
use crate::store::{now_ms, LedgerEntry, LedgerRefund, LedgerStatus, RefundResult, SharedStore};
use b24pay_protocol::ids::AttemptId;
use b24pay_protocol::test_cards::{self, Behaviour};

/// The challenge code that approves a challenged payment.
pub const CHALLENGE_CODE: &str = test_cards::CHALLENGE_CODE;

pub struct TestAcquirer {
    store: SharedStore,
}

fn transaction_id() -> String {
    format!("tx_test_{:032x}", rand::random::<u128>())
}

/// The charge's reference: one per attempt and round, so `open` is idempotent by construction.
fn reference_of(r: &ChargeRequest<'_>) -> String {
    let attempt = r.metadata.attempt_id.as_str();
    let hex = attempt.strip_prefix(AttemptId::PREFIX).unwrap_or(attempt);
    format!("tch_{hex}_{}", r.round)
}

fn unavailable(e: crate::store::StoreError) -> AcquirerError {
    AcquirerError::Unavailable(e.to_string())
}

/// What the ledger's record of a charge means for the payment flow.
fn status_of(entry: Option<&LedgerEntry>) -> ChargeStatus {
    let Some(e) = entry else {
        return ChargeStatus::NotFound;
    };
    match e.status {
        LedgerStatus::Opened => ChargeStatus::Pending,
        LedgerStatus::Approved => ChargeStatus::Approved {
            transaction_id: e.transaction_id.clone().unwrap_or_default(),
        },
        LedgerStatus::Declined => ChargeStatus::Declined(decline_of(e)),
        LedgerStatus::RequiresAction => ChargeStatus::ActionRequired,
        LedgerStatus::Failed | LedgerStatus::Canceled => ChargeStatus::NotCharged,
    }
}

fn decline_of(e: &LedgerEntry) -> DeclineCode {
    e.decline_code
        .as_deref()
        .and_then(DeclineCode::from_code)
        .unwrap_or(DeclineCode::GenericDecline)
}

/// What a decision recorded in the ledger answers to `confirm` or `resume`.
fn outcome_of(entry: Option<LedgerEntry>) -> Result<ChargeOutcome, AcquirerError> {
    let Some(e) = entry else {
        return Err(AcquirerError::Refused("no such charge".into()));
    };
    Ok(match e.status {
        LedgerStatus::Approved => ChargeOutcome::Approved {
            transaction_id: e.transaction_id.unwrap_or_default(),
        },
        LedgerStatus::Declined => ChargeOutcome::Declined(decline_of(&e)),
        LedgerStatus::Failed => ChargeOutcome::Failed,
        LedgerStatus::RequiresAction => ChargeOutcome::ActionRequired(code_action()),
        LedgerStatus::Opened => ChargeOutcome::Pending,
        LedgerStatus::Canceled => {
            return Err(AcquirerError::Refused(
                "the charge was cancelled before it was decided".into(),
            ))
        }
    })
}

fn code_action() -> CustomerAction {
    CustomerAction::Code {
        code_length: CHALLENGE_CODE.len() as u8,
    }
}

impl TestAcquirer {
    pub fn new(store: SharedStore) -> TestAcquirer {
        TestAcquirer { store }
    }

    /// Moves the charge from `from` to `status`; the entry as it is afterwards.
    async fn decide(
        &self,
        reference: &str,
        from: LedgerStatus,
        status: LedgerStatus,
        decline: Option<DeclineCode>,
    ) -> Result<Option<LedgerEntry>, AcquirerError> {
        let Some(mut to) = self
            .store
            .ledger_get(reference)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        to.status = status;
        to.transaction_id = (status == LedgerStatus::Approved).then(transaction_id);
        to.decline_code = decline.map(|d| d.as_str().to_string());
        self.store
            .ledger_decide(from, &to, now_ms())
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl Acquirer for TestAcquirer {
    fn kind(&self) -> AcquirerKind {
        AcquirerKind::Test
    }

    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        let entry = LedgerEntry {
            reference: reference_of(r),
            merchant_reference: r.metadata.reference(),
            amount: r.amount,
            last4: r.card.last4().to_string(),
            status: LedgerStatus::Opened,
            transaction_id: None,
            decline_code: None,
            refunded_minor: 0,
        };
        let stored = self
            .store
            .ledger_insert(&entry, now_ms())
            .await
            .map_err(unavailable)?;
        Ok(stored.reference)
    }

    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        let (status, decline) = match test_cards::behaviour(&r.card.number) {
            Behaviour::Approve => (LedgerStatus::Approved, None),
            Behaviour::Decline(code) => (LedgerStatus::Declined, Some(code)),
            Behaviour::ProcessingError => (LedgerStatus::Failed, None),
            Behaviour::Challenge => (LedgerStatus::RequiresAction, None),
        };
        let decided = self
            .decide(reference, LedgerStatus::Opened, status, decline)
            .await?;
        outcome_of(decided)
    }

    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        let (status, decline) = match r.result {
            ActionResult::Code(CHALLENGE_CODE) => (LedgerStatus::Approved, None),
            ActionResult::Code(_) => (LedgerStatus::Declined, Some(DeclineCode::ChallengeFailed)),
            // Nothing happens outside the widget for this acquirer: only a code decides.
            ActionResult::Completed => {
                let entry = self
                    .store
                    .ledger_get(r.reference)
                    .await
                    .map_err(unavailable)?;
                return outcome_of(entry);
            }
        };
        let decided = self
            .decide(r.reference, LedgerStatus::RequiresAction, status, decline)
            .await?;
        outcome_of(decided)
    }

    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        let entry = self
            .store
            .ledger_get(reference)
            .await
            .map_err(unavailable)?;
        Ok(status_of(entry.as_ref()))
    }

    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        for from in [LedgerStatus::Opened, LedgerStatus::RequiresAction] {
            self.decide(reference, from, LedgerStatus::Canceled, None)
                .await?;
        }
        self.status(reference).await
    }

    async fn refund(&self, r: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        let refund = LedgerRefund {
            idempotency_key: r.idempotency_key.to_string(),
            reference: r.reference.to_string(),
            refund_id: format!("re_test_{:032x}", rand::random::<u128>()),
            amount_minor: r.amount.minor,
        };
        match self
            .store
            .ledger_refund(&refund, now_ms())
            .await
            .map_err(unavailable)?
        {
            RefundResult::Refunded { refund_id } => Ok(RefundOutcome::Refunded { refund_id }),
            RefundResult::Refused(why) => Ok(RefundOutcome::Refused(why)),
        }
    }
}
