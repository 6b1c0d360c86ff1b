//! Acquirers and portals that misbehave on purpose, wrapped around the real ones.

use async_trait::async_trait;
use b24pay_companion::acquirer::{
    Acquirer, AcquirerError, AcquirerKind, ActionResult, ChargeOutcome, ChargeRequest,
    ChargeStatus, CustomerAction, RefundOutcome, RefundRequest, ResumeRequest,
};
use b24pay_companion::portal::{
    MarkPaid, PaySystem, PaymentFacts, PaymentRef, Portal, PortalError,
};
use b24pay_protocol::ids::PaySystemId;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Answers `confirm` only after `delay`, like an acquirer that is slow beyond the lease.
pub struct SlowConfirm {
    pub inner: Arc<dyn Acquirer>,
    pub delay: Duration,
}

#[async_trait]
impl Acquirer for SlowConfirm {
    fn kind(&self) -> AcquirerKind {
        self.inner.kind()
    }
    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        self.inner.open(r).await
    }
    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        // The acquirer keeps working after the caller has given up waiting.
        let (inner, reference) = (self.inner.clone(), reference.to_string());
        let (amount, metadata, round) = (r.amount, r.metadata, r.round);
        let card = r.card.clone();
        let attempt = metadata.attempt_id.clone();
        let portal = metadata.portal.to_string();
        let delay = self.delay;
        let work = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let metadata = b24pay_companion::acquirer::ChargeMetadata {
                portal: &portal,
                paysystem_id: metadata.paysystem_id,
                payment_id: metadata.payment_id,
                attempt_id: &attempt,
            };
            let r = ChargeRequest {
                amount,
                card: &card,
                metadata,
                round,
            };
            inner.confirm(&reference, &r).await
        });
        work.await
            .map_err(|e| AcquirerError::Unavailable(e.to_string()))?
    }
    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        self.inner.resume(r).await
    }
    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.inner.status(reference).await
    }
    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.inner.cancel(reference).await
    }
    async fn refund(&self, r: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        self.inner.refund(r).await
    }
}

/// Never answers `confirm`, and has no record of the charge afterwards: the case where "not
/// found" must not be read as "not charged".
pub struct LostCharge {
    pub inner: Arc<dyn Acquirer>,
    /// Once set, `status` finds the charge approved (it landed late).
    pub landed: Arc<AtomicBool>,
}

#[async_trait]
impl Acquirer for LostCharge {
    fn kind(&self) -> AcquirerKind {
        self.inner.kind()
    }
    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        self.inner.open(r).await
    }
    async fn confirm(
        &self,
        _: &str,
        _: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        Err(AcquirerError::Unavailable("connection reset".into()))
    }
    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        self.inner.resume(r).await
    }
    async fn status(&self, _: &str) -> Result<ChargeStatus, AcquirerError> {
        if self.landed.load(Ordering::SeqCst) {
            Ok(ChargeStatus::Approved {
                transaction_id: "tx_landed_late".into(),
            })
        } else {
            Ok(ChargeStatus::NotFound)
        }
    }
    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.status(reference).await
    }
    async fn refund(&self, r: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        self.inner.refund(r).await
    }
}

/// A challenge that lets the customer try again after a wrong code (as 3-D Secure pages do);
/// the right code approves.
pub struct PatientChallenge {
    pub inner: Arc<dyn Acquirer>,
    pub wrong_answers: Arc<AtomicU32>,
}

#[async_trait]
impl Acquirer for PatientChallenge {
    fn kind(&self) -> AcquirerKind {
        self.inner.kind()
    }
    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        self.inner.open(r).await
    }
    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        self.inner.confirm(reference, r).await
    }
    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        match r.result {
            ActionResult::Code(code) if code != b24pay_protocol::test_cards::CHALLENGE_CODE => {
                self.wrong_answers.fetch_add(1, Ordering::SeqCst);
                Ok(ChargeOutcome::ActionRequired(CustomerAction::Code {
                    code_length: 3,
                }))
            }
            _ => self.inner.resume(r).await,
        }
    }
    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.inner.status(reference).await
    }
    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.inner.cancel(reference).await
    }
    async fn refund(&self, r: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        self.inner.refund(r).await
    }
}

/// A portal that refuses `pay.payment` for good (`ACCESS_DENIED`) while `refusing` is set.
pub struct RefusingPortal {
    pub inner: Arc<dyn Portal>,
    pub refusing: Arc<AtomicBool>,
}

#[async_trait]
impl Portal for RefusingPortal {
    async fn payment_facts(&self, payment: &PaymentRef) -> Result<PaymentFacts, PortalError> {
        self.inner.payment_facts(payment).await
    }
    async fn pay_system(&self, id: PaySystemId) -> Result<PaySystem, PortalError> {
        self.inner.pay_system(id).await
    }
    async fn mark_paid(&self, call: &MarkPaid) -> Result<(), PortalError> {
        if self.refusing.load(Ordering::SeqCst) {
            return Err(PortalError::Refused {
                code: "ACCESS_DENIED".into(),
                message: "Access denied.".into(),
            });
        }
        self.inner.mark_paid(call).await
    }
    async fn ping(&self) -> Result<(), PortalError> {
        self.inner.ping().await
    }
}
