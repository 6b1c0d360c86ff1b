//! The payment flow: verify with the portal, charge once, record durably, hand the portal call to
//! the outbox. Exactly-once rests on the store (an idempotency key is one attempt; a portal
//! payment has at most one live attempt) and on the acquirer's idempotency key (the attempt id),
//! never on process memory, so it holds across crashes and across instances.

use crate::acquirer::{
    Acquirer, ActionResult, Card, ChargeMetadata, ChargeOutcome, ChargeRequest, ChargeStatus,
    CustomerAction, ResumeRequest,
};
use crate::api::error::ApiError;
use crate::api::input::ValidConfirm;
use crate::metrics::SharedMetrics;
use crate::portal::{MarkPaid, Mode, PaymentRef, Portal, PortalError};
use crate::store::{
    now_ms, Attempt, InsertOutcome, NewAttempt, Outcome, Registry, SharedStore, TakeOver,
};
use b24pay_protocol::api::{ErrorCode, PaymentState, PaymentView};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Named points where the process can be made to die (`B24PAY_CRASH_POINT`), so tests can prove
/// that a crash there loses nothing and repeats nothing. Unset in production.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// The acquirer approved; nothing recorded yet.
    AfterCharge,
    /// The charge and its outbox row are committed; the portal has not been called.
    AfterRecord,
    /// The portal accepted the call; the outbox row is not marked done yet.
    AfterPortalCall,
}

impl CrashPoint {
    pub fn from_env() -> Option<CrashPoint> {
        match std::env::var("B24PAY_CRASH_POINT").ok()?.as_str() {
            "after_charge" => Some(CrashPoint::AfterCharge),
            "after_record" => Some(CrashPoint::AfterRecord),
            "after_portal_call" => Some(CrashPoint::AfterPortalCall),
            _ => None,
        }
    }

    pub fn hit(configured: Option<CrashPoint>, here: CrashPoint) {
        if configured == Some(here) {
            eprintln!("b24pay: crash point {here:?} reached, aborting");
            std::process::abort();
        }
    }
}

#[derive(Clone, Debug)]
pub struct PaymentsConfig {
    /// How long a charge in flight owns its attempt; longer than any acquirer call.
    pub lease: Duration,
    /// How long a duplicate request waits for the original to finish.
    pub wait_for_original: Duration,
    /// After this, an unanswered challenge no longer blocks new attempts.
    pub challenge_ttl: Duration,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            lease: Duration::from_secs(30),
            wait_for_original: Duration::from_secs(10),
            challenge_ttl: Duration::from_secs(15 * 60),
        }
    }
}

pub struct Payments {
    store: SharedStore,
    portal: Arc<dyn Portal>,
    test_acquirer: Arc<dyn Acquirer>,
    live_acquirer: Option<Arc<dyn Acquirer>>,
    fingerprint_key: Vec<u8>,
    metrics: SharedMetrics,
    outbox_wake: Arc<Notify>,
    config: PaymentsConfig,
    crash_point: Option<CrashPoint>,
}

fn new_attempt_id() -> String {
    format!("pa_{:032x}", rand::random::<u128>())
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

/// Maps a portal failure during verification to what the widget is told.
pub fn portal_api_error(e: &PortalError) -> ApiError {
    match e {
        PortalError::NotFound(_) => payment_unavailable(),
        PortalError::NotConfigured(why) => ApiError::new(
            ErrorCode::PaysystemNotConfigured,
            format!("the pay system is not set up for b24pay: {why}"),
        ),
        PortalError::RateLimited { retry_at, .. } => ApiError {
            retry_after: Some(
                retry_at
                    .map(|at| ((at - now_ms()).max(1000) / 1000) as u64)
                    .unwrap_or(1),
            ),
            ..ApiError::new(
                ErrorCode::RateLimited,
                "the portal is rate limiting; retry shortly",
            )
        },
        e if e.is_timeout() => {
            ApiError::new(ErrorCode::Timeout, "the portal did not answer in time")
        }
        _ => ApiError::new(ErrorCode::PortalUnavailable, "the portal is unavailable"),
    }
}

/// What verification with the portal established.
struct Verified {
    registry: Registry,
    order_id: Option<String>,
    acquirer: &'static str,
}

impl Payments {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: SharedStore,
        portal: Arc<dyn Portal>,
        test_acquirer: Arc<dyn Acquirer>,
        live_acquirer: Option<Arc<dyn Acquirer>>,
        fingerprint_key: Vec<u8>,
        metrics: SharedMetrics,
        outbox_wake: Arc<Notify>,
        config: PaymentsConfig,
    ) -> Payments {
        Payments {
            store,
            portal,
            test_acquirer,
            live_acquirer,
            fingerprint_key,
            metrics,
            outbox_wake,
            config,
            crash_point: CrashPoint::from_env(),
        }
    }

    /// A keyed hash of a request, so a replay can be told from a different request under the
    /// same key without storing the card number.
    fn fingerprint(&self, parts: &[&[u8]]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.fingerprint_key).expect("HMAC takes any key");
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn acquirer(&self, name: &str) -> Result<&Arc<dyn Acquirer>, ApiError> {
        match name {
            "test" => Ok(&self.test_acquirer),
            _ => self.live_acquirer.as_ref().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::LiveModeUnavailable,
                    "the pay system is in LIVE mode and no live acquirer is configured",
                )
            }),
        }
    }

    fn count(&self, result: &Result<PaymentView, ApiError>) {
        let outcome = match result {
            Ok(view) => crate::store::state_str(view.state).to_string(),
            Err(e) => e.code_str().to_string(),
        };
        self.metrics.payment(&outcome);
    }

    /// `POST /payments`.
    pub async fn confirm(
        &self,
        key: &str,
        request_bytes: &[u8],
        input: &ValidConfirm,
    ) -> Result<PaymentView, ApiError> {
        let fingerprint = self.fingerprint(&[b"confirm", request_bytes]);
        let result = self.confirm_inner(key, &fingerprint, input).await;
        self.count(&result);
        result
    }

    async fn confirm_inner(
        &self,
        key: &str,
        fingerprint: &str,
        input: &ValidConfirm,
    ) -> Result<PaymentView, ApiError> {
        // New keys are the hot path: verify first, and look the key up only when it turns out
        // to be taken (or when the portal refuses, e.g. because this very request already paid).
        let verified = match self.verify(input).await {
            Ok(v) => v,
            Err(e) => {
                return match self.store.attempt_by_key(key).await? {
                    Some(existing) => self.replay(existing, fingerprint, input).await,
                    None => Err(e),
                }
            }
        };
        for _ in 0..4 {
            let now = now_ms();
            let new = NewAttempt {
                id: new_attempt_id(),
                idempotency_key: key.to_string(),
                fingerprint: fingerprint.to_string(),
                payment_id: input.payment_id.clone(),
                paysystem_id: input.paysystem_id.clone(),
                amount: input.amount,
                brand: input.card.brand_code().to_string(),
                last4: input.card.last4().to_string(),
                registry: verified.registry,
                order_id: verified.order_id.clone(),
                acquirer: verified.acquirer.to_string(),
                lease_until: now + ms(self.config.lease),
                now,
            };
            match self.store.insert_attempt(&new).await? {
                InsertOutcome::Inserted => {
                    return self.charge(attempt_of(new), &input.card).await;
                }
                InsertOutcome::KeyTaken => {
                    let existing = self
                        .store
                        .attempt_by_key(key)
                        .await?
                        .ok_or_else(ApiError::internal)?;
                    return self.replay(existing, fingerprint, input).await;
                }
                InsertOutcome::PaymentBusy => {
                    // The live attempt may be this very key's.
                    if let Some(existing) = self.store.attempt_by_key(key).await? {
                        return self.replay(existing, fingerprint, input).await;
                    }
                    self.clear_blocker(&input.paysystem_id, &input.payment_id)
                        .await?
                }
            }
        }
        Err(in_progress())
    }

    /// Reads the truth from the portal and refuses anything that does not match it.
    async fn verify(&self, input: &ValidConfirm) -> Result<Verified, ApiError> {
        // The pay system first (cached): it says how the payment is read.
        let pay_system = self
            .portal
            .pay_system(&input.paysystem_id)
            .await
            .map_err(|e| self.portal_failure(&e))?;
        if !pay_system.ours {
            return Err(ApiError::new(
                ErrorCode::PaysystemNotConfigured,
                "the pay system is not an active b24pay pay system",
            ));
        }
        let facts = self
            .portal
            .payment_facts(&PaymentRef {
                paysystem_id: &input.paysystem_id,
                payment_id: &input.payment_id,
                registry: pay_system.registry,
                invoice_id: input.invoice_id.as_deref(),
            })
            .await;
        let facts = facts.map_err(|e| self.portal_failure(&e))?;
        if facts.paid {
            return Err(ApiError::new(
                ErrorCode::AlreadyPaid,
                "the payment is already paid",
            ));
        }
        if facts.amount != input.amount {
            // The same answer as for a payment that does not exist; the detail stays in the log.
            tracing::info!(
                payment = %input.payment_id, paysystem = %input.paysystem_id,
                "refused: the amount or currency differs from the portal's"
            );
            return Err(payment_unavailable());
        }
        let acquirer = match facts.mode {
            Mode::Test => "test",
            Mode::Live => {
                self.acquirer("live")?;
                "live"
            }
        };
        if pay_system.registry == Registry::CrmInvoice && facts.order_id.is_none() {
            return Err(ApiError::new(
                ErrorCode::PaysystemNotConfigured,
                "the pay system's settings give no invoice id (B24PAY_ORDER_ID)",
            ));
        }
        Ok(Verified {
            registry: pay_system.registry,
            order_id: facts.order_id,
            acquirer,
        })
    }

    fn portal_failure(&self, e: &PortalError) -> ApiError {
        self.metrics.portal_error(e.code());
        if !matches!(e, PortalError::NotFound(_)) {
            tracing::warn!(error = %e, "portal call failed while verifying a payment");
        }
        portal_api_error(e)
    }

    /// Another attempt holds this payment. Clears it when it is provably dead (an abandoned
    /// challenge, a charge left in flight by a crash); otherwise says why the payment is busy.
    async fn clear_blocker(&self, paysystem_id: &str, payment_id: &str) -> Result<(), ApiError> {
        let Some(live) = self.store.live_attempt(paysystem_id, payment_id).await? else {
            return Ok(());
        };
        let now = now_ms();
        match live.state {
            PaymentState::Succeeded => Err(already_paid()),
            PaymentState::RequiresAction
                if live.updated_at + ms(self.config.challenge_ttl) < now =>
            {
                self.store.expire_challenge(&live.id, now).await?;
                Ok(())
            }
            PaymentState::Processing if live.lease_until < now => {
                match self.recover(&live).await? {
                    PaymentState::Succeeded => Err(already_paid()),
                    _ => Ok(()),
                }
            }
            _ => Err(in_progress()),
        }
    }

    /// An attempt left `processing` past its lease (its request died mid-charge): asks the
    /// acquirer, by the attempt's idempotency key, whether money moved, and records that.
    async fn recover(&self, a: &Attempt) -> Result<PaymentState, ApiError> {
        let now = now_ms();
        match self
            .store
            .take_over(
                &a.id,
                PaymentState::Processing,
                now + ms(self.config.lease),
                now,
            )
            .await?
        {
            TakeOver::Taken => {}
            TakeOver::Lost | TakeOver::PaymentBusy => {
                return Ok(self
                    .store
                    .attempt(&a.id)
                    .await?
                    .map_or(PaymentState::Processing, |a| a.state))
            }
        }
        let acquirer = self.acquirer(&a.acquirer)?;
        let found = tokio::time::timeout(self.config.lease / 2, acquirer.status(&a.id)).await;
        let outcome = match found {
            Ok(Ok(ChargeStatus::Approved { transaction_id })) => {
                ChargeOutcome::Approved { transaction_id }
            }
            Ok(Ok(_)) => ChargeOutcome::Failed,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, attempt = %a.id, "acquirer lookup failed");
                return Err(ApiError::internal());
            }
            Err(_) => {
                return Err(ApiError::new(
                    ErrorCode::Timeout,
                    "acquirer lookup timed out",
                ))
            }
        };
        tracing::info!(attempt = %a.id, ?outcome, "recovered an attempt left in flight");
        let view = self.finish(a.clone(), outcome).await?;
        Ok(view.state)
    }

    /// Same idempotency key again: the first result, or the work finished where it stopped.
    async fn replay(
        &self,
        mut a: Attempt,
        fingerprint: &str,
        input: &ValidConfirm,
    ) -> Result<PaymentView, ApiError> {
        if a.fingerprint != fingerprint {
            return Err(key_reused());
        }
        let deadline = now_ms() + ms(self.config.wait_for_original);
        let mut pause = Duration::from_millis(5);
        for _ in 0..1000 {
            let now = now_ms();
            match a.state {
                PaymentState::Processing if a.lease_until >= now => {
                    // The original request is charging right now: wait for its result.
                    if now > deadline {
                        return Err(in_progress());
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                PaymentState::Processing => {
                    // Its request died mid-charge; this one has the card again. The acquirer's
                    // idempotency key (the attempt id) makes charging again safe.
                    let lease_until = now + ms(self.config.lease);
                    match self
                        .store
                        .take_over(&a.id, PaymentState::Processing, lease_until, now)
                        .await?
                    {
                        TakeOver::Taken => {
                            a.lease_until = lease_until;
                            return self.charge(a, &input.card).await;
                        }
                        TakeOver::Lost => {}
                        TakeOver::PaymentBusy => return Err(in_progress()),
                    }
                }
                PaymentState::Failed => {
                    // A transient processing error: try again, after checking the portal again.
                    self.verify(input).await?;
                    let lease_until = now + ms(self.config.lease);
                    match self
                        .store
                        .take_over(&a.id, PaymentState::Failed, lease_until, now)
                        .await?
                    {
                        TakeOver::Taken => {
                            a.state = PaymentState::Processing;
                            a.decline_code = None;
                            a.lease_until = lease_until;
                            return self.charge(a, &input.card).await;
                        }
                        TakeOver::Lost => {}
                        TakeOver::PaymentBusy => {
                            self.clear_blocker(&a.paysystem_id, &a.payment_id).await?
                        }
                    }
                }
                _ => return Ok(a.view()),
            }
            a = self
                .store
                .attempt(&a.id)
                .await?
                .ok_or_else(ApiError::internal)?;
        }
        Err(in_progress())
    }

    /// Charges a `processing` attempt this call owns.
    async fn charge(&self, a: Attempt, card: &Card) -> Result<PaymentView, ApiError> {
        let acquirer = self.acquirer(&a.acquirer)?;
        let request = ChargeRequest {
            amount: a.amount,
            card,
            metadata: metadata(&a),
            round: 1,
        };
        // Bounded well inside the lease, so no one else can take the attempt over while the
        // acquirer might still be moving money for it.
        let call = async {
            let reference = acquirer.open(&request).await?;
            acquirer.confirm(&reference, &request).await
        };
        let outcome = match tokio::time::timeout(self.config.lease / 2, call).await {
            Ok(Ok(ChargeOutcome::Pending)) | Err(_) => {
                return Err(ApiError::new(
                    ErrorCode::Timeout,
                    "the acquirer did not answer in time; retry with the same idempotency key",
                ))
            }
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, attempt = %a.id, "acquirer failed");
                return Err(ApiError::internal());
            }
        };
        self.finish(a, outcome).await
    }

    /// Records how a charge ended; an approval and its outbox row in one transaction.
    async fn finish(
        &self,
        mut a: Attempt,
        outcome: ChargeOutcome,
    ) -> Result<PaymentView, ApiError> {
        let now = now_ms();
        let record = match &outcome {
            ChargeOutcome::Approved { transaction_id } => {
                CrashPoint::hit(self.crash_point, CrashPoint::AfterCharge);
                let call = MarkPaid {
                    registry: a.registry.as_str().to_string(),
                    payment_id: a.payment_id.clone(),
                    paysystem_id: a.paysystem_id.clone(),
                    invoice_id: match a.registry {
                        Registry::CrmInvoice => a.order_id.clone(),
                        Registry::Order => None,
                    },
                    ps_invoice_id: transaction_id.clone(),
                    ps_sum: a.amount.to_decimal_string(),
                    ps_currency: a.amount.currency.code().to_string(),
                    ps_card_number: b24pay_protocol::card::mask(&a.last4),
                    ps_status_code: "succeeded".into(),
                    ps_status_message: format!("Paid by card via b24pay ({} acquirer)", a.acquirer),
                };
                Outcome::Succeeded {
                    transaction_id: transaction_id.clone(),
                    outbox_payload: serde_json::to_string(&call).expect("serialisable"),
                }
            }
            ChargeOutcome::Declined(code) => Outcome::Declined(*code),
            ChargeOutcome::Failed => Outcome::Failed,
            ChargeOutcome::ActionRequired(CustomerAction::Code { code_length }) => {
                Outcome::RequiresAction {
                    reference: a.id.clone(),
                    code_length: *code_length,
                }
            }
            ChargeOutcome::ActionRequired(_) | ChargeOutcome::Pending => Outcome::Failed,
        };
        if !self.store.record_outcome(&a.id, &record, now).await? {
            // Someone else finished this attempt meanwhile: answer what is stored.
            let stored = self
                .store
                .attempt(&a.id)
                .await?
                .ok_or_else(ApiError::internal)?;
            return Ok(stored.view());
        }
        a.updated_at = now;
        a.lease_until = 0;
        match outcome {
            ChargeOutcome::Approved { transaction_id } => {
                CrashPoint::hit(self.crash_point, CrashPoint::AfterRecord);
                self.outbox_wake.notify_one();
                a.state = PaymentState::Succeeded;
                a.transaction_id = Some(transaction_id);
            }
            ChargeOutcome::Declined(code) => {
                a.state = PaymentState::Declined;
                a.decline_code = Some(code);
            }
            ChargeOutcome::Failed => {
                a.state = PaymentState::Failed;
                a.decline_code = Some(b24pay_protocol::api::DeclineCode::ProcessingError);
            }
            ChargeOutcome::ActionRequired(CustomerAction::Code { code_length }) => {
                a.state = PaymentState::RequiresAction;
                a.challenge_ref = Some(a.id.clone());
                a.challenge_code_length = Some(code_length);
            }
            ChargeOutcome::ActionRequired(_) | ChargeOutcome::Pending => {
                a.state = PaymentState::Failed;
                a.decline_code = Some(b24pay_protocol::api::DeclineCode::ProcessingError);
            }
        }
        Ok(a.view())
    }

    /// `POST /payments/{id}/challenge`.
    pub async fn challenge(
        &self,
        id: &str,
        key: &str,
        code: &str,
    ) -> Result<PaymentView, ApiError> {
        let result = self.challenge_inner(id, key, code).await;
        self.count(&result);
        result
    }

    async fn challenge_inner(
        &self,
        id: &str,
        key: &str,
        code: &str,
    ) -> Result<PaymentView, ApiError> {
        let fingerprint = self.fingerprint(&[b"challenge", id.as_bytes(), code.as_bytes()]);
        let mut a = self.store.attempt(id).await?.ok_or_else(not_found)?;
        let deadline = now_ms() + ms(self.config.wait_for_original);
        for _ in 0..1000 {
            let now = now_ms();
            if a.challenge_key.as_deref() == Some(key) {
                if a.challenge_fingerprint.as_deref() != Some(fingerprint.as_str()) {
                    return Err(key_reused());
                }
                match a.state {
                    PaymentState::Processing if a.lease_until >= now => {
                        if now > deadline {
                            return Err(in_progress());
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    PaymentState::Processing => {
                        self.recover(&a).await?;
                    }
                    _ => return Ok(a.view()),
                }
            } else {
                match a.state {
                    PaymentState::RequiresAction
                        if a.updated_at + ms(self.config.challenge_ttl) < now =>
                    {
                        self.store.expire_challenge(&a.id, now).await?;
                    }
                    PaymentState::RequiresAction => {
                        let lease_until = now + ms(self.config.lease);
                        if self
                            .store
                            .begin_challenge(id, key, &fingerprint, lease_until, now)
                            .await?
                        {
                            return self.answer(a, code).await;
                        }
                    }
                    PaymentState::Processing => return Err(in_progress()),
                    _ => {
                        return Err(ApiError::new(
                            ErrorCode::InvalidState,
                            "this payment is not waiting for a challenge code",
                        ))
                    }
                }
            }
            a = self.store.attempt(id).await?.ok_or_else(not_found)?;
        }
        Err(in_progress())
    }

    async fn answer(&self, a: Attempt, code: &str) -> Result<PaymentView, ApiError> {
        let acquirer = self.acquirer(&a.acquirer)?;
        let challenge_ref = a.challenge_ref.clone().unwrap_or_default();
        let request = ResumeRequest {
            reference: &challenge_ref,
            result: ActionResult::Code(code),
            amount: a.amount,
            last4: &a.last4,
            metadata: metadata(&a),
            round: 1,
        };
        let outcome =
            match tokio::time::timeout(self.config.lease / 2, acquirer.resume(&request)).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, attempt = %a.id, "acquirer failed on a challenge");
                    return Err(ApiError::internal());
                }
                Err(_) => {
                    return Err(ApiError::new(
                        ErrorCode::Timeout,
                        "the acquirer did not answer in time",
                    ))
                }
            };
        let mut a = a;
        a.state = PaymentState::Processing;
        self.finish(a, outcome).await
    }

    /// `GET /payments/{id}`.
    pub async fn status(&self, id: &str) -> Result<PaymentView, ApiError> {
        Ok(self.store.attempt(id).await?.ok_or_else(not_found)?.view())
    }
}

fn metadata(a: &Attempt) -> ChargeMetadata<'_> {
    ChargeMetadata {
        portal: "",
        paysystem_id: &a.paysystem_id,
        payment_id: &a.payment_id,
        attempt_id: &a.id,
    }
}

fn attempt_of(n: NewAttempt) -> Attempt {
    Attempt {
        id: n.id,
        idempotency_key: n.idempotency_key,
        fingerprint: n.fingerprint,
        payment_id: n.payment_id,
        paysystem_id: n.paysystem_id,
        state: PaymentState::Processing,
        decline_code: None,
        amount: n.amount,
        brand: n.brand,
        last4: n.last4,
        registry: n.registry,
        order_id: n.order_id,
        transaction_id: None,
        challenge_ref: None,
        challenge_code_length: None,
        challenge_key: None,
        challenge_fingerprint: None,
        portal_notified: false,
        lease_until: n.lease_until,
        created_at: n.now,
        updated_at: n.now,
        acquirer: n.acquirer,
    }
}

/// One refusal for "no such payment" and "not this amount", so that nobody can learn from the
/// answer which payment ids exist or what they cost.
fn payment_unavailable() -> ApiError {
    ApiError::new(
        ErrorCode::PaymentUnavailable,
        "this payment cannot be paid with these details",
    )
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such payment attempt")
}

fn already_paid() -> ApiError {
    ApiError::new(ErrorCode::AlreadyPaid, "the payment is already paid")
}

fn in_progress() -> ApiError {
    ApiError::new(
        ErrorCode::PaymentInProgress,
        "another attempt for this payment is in progress",
    )
}

fn key_reused() -> ApiError {
    ApiError::new(
        ErrorCode::IdempotencyKeyReused,
        "this idempotency key was used with a different request",
    )
}
