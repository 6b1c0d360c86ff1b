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

/// The steps of a charge a misbehaving acquirer changes; each step it leaves alone goes to the
/// real acquirer it wraps. [`Stub`] makes it an [`Acquirer`].
#[async_trait]
pub trait AcquirerStub: Send + Sync + 'static {
    /// The real acquirer underneath.
    fn inner(&self) -> &Arc<dyn Acquirer>;

    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        self.inner().confirm(reference, r).await
    }
    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        self.inner().resume(r).await
    }
    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.inner().status(reference).await
    }
    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.inner().cancel(reference).await
    }
}

/// An [`AcquirerStub`] as an [`Acquirer`]: `kind`, `open` and `refund` always go to the real one.
pub struct Stub<T>(pub T);

impl<T: AcquirerStub> Stub<T> {
    /// The stub, ready to hand to [`super::EnvOptions::acquirer`].
    pub fn arc(stub: T) -> Arc<dyn Acquirer> {
        Arc::new(Stub(stub))
    }
}

#[async_trait]
impl<T: AcquirerStub> Acquirer for Stub<T> {
    fn kind(&self) -> AcquirerKind {
        self.0.inner().kind()
    }
    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        self.0.inner().open(r).await
    }
    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        self.0.confirm(reference, r).await
    }
    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        self.0.resume(r).await
    }
    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.0.status(reference).await
    }
    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        self.0.cancel(reference).await
    }
    async fn refund(&self, r: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        self.0.inner().refund(r).await
    }
}

/// Answers `confirm` only after `delay`, like an acquirer that is slow beyond the lease.
pub struct SlowConfirm {
    pub inner: Arc<dyn Acquirer>,
    pub delay: Duration,
}

#[async_trait]
impl AcquirerStub for SlowConfirm {
    fn inner(&self) -> &Arc<dyn Acquirer> {
        &self.inner
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
}

/// Never answers `confirm`, and has no record of the charge afterwards: the case where "not
/// found" must not be read as "not charged".
pub struct LostCharge {
    pub inner: Arc<dyn Acquirer>,
    /// Once set, `status` finds the charge approved (it landed late).
    pub landed: Arc<AtomicBool>,
}

#[async_trait]
impl AcquirerStub for LostCharge {
    fn inner(&self) -> &Arc<dyn Acquirer> {
        &self.inner
    }
    async fn confirm(
        &self,
        _: &str,
        _: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        Err(AcquirerError::Unavailable("connection reset".into()))
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
        AcquirerStub::status(self, reference).await
    }
}

/// A challenge that lets the customer try again after a wrong code (as 3-D Secure pages do);
/// the right code approves.
pub struct PatientChallenge {
    pub inner: Arc<dyn Acquirer>,
    pub wrong_answers: Arc<AtomicU32>,
}

#[async_trait]
impl AcquirerStub for PatientChallenge {
    fn inner(&self) -> &Arc<dyn Acquirer> {
        &self.inner
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
