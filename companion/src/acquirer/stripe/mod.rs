//! Stripe behind the [`Acquirer`] trait: a PaymentMethod and a PaymentIntent
//! (`confirm=false`) on [`Acquirer::open`], `POST /confirm` on [`Acquirer::confirm`], Stripe.js
//! for 3-D Secure, and every later question asked by the PaymentIntent id.
//!
//! | Stripe says | [`ChargeOutcome`] (confirm, resume) | [`ChargeStatus`] (status, cancel) |
//! |---|---|---|
//! | `succeeded` | `Approved` (`transaction_id` = PaymentIntent id) | `Approved` |
//! | `requires_action` | `ActionRequired(StripeJs)` | `ActionRequired` |
//! | `processing`, `requires_capture`, unknown | `Pending` | `Pending` |
//! | `requires_confirmation` | `Pending` | `Pending` |
//! | `requires_payment_method` + `last_payment_error` | cancelled first, then as `canceled` | `Pending` (still confirmable: cancel it) |
//! | `canceled` after a decline | `Declined(code)` | `Declined(code)` |
//! | `canceled` after `processing_error`, or never tried | `Failed` | `NotCharged` |
//! | HTTP 402 on confirm (card error) | the PaymentIntent is read and mapped as above | |
//! | no answer, timeout, 409, 429, 5xx | `Err(Unavailable)` | `Err(Unavailable)` |
//! | 404 on retrieve | | `NotFound` |
//! | other 4xx | `Err(Refused)` | `Err(Refused)` |
//!
//! A declined PaymentIntent is cancelled before the decline is reported: while it sits in
//! `requires_payment_method`, anyone holding its client secret (the customer's browser after a
//! 3-D Secure step) could confirm it with another card, so "declined" would not be final.
//!
//! Idempotency keys ([`step_key`], per attempt and round): `payment_method-N`, `open-N`,
//! `confirm-N`, and `cancel-N:<status seen>` (a cancel refused because the state moved on is not
//! replayed later under the same key); refunds use the operator's key. A card Stripe refuses
//! while creating the PaymentMethod (HTTP 402) is `Err(Declined)`: nothing was charged.
//!
//! The client secret of a PaymentIntent waiting for 3-D Secure goes to the customer's browser
//! only; the flow stores the action without it and asks [`Acquirer::action`] (a retrieve) when
//! it shows the action again.

mod client;
mod mapping;
pub mod objects;
mod refund;
pub mod settings;
pub mod webhook;

pub use settings::StripeSettings;

use super::*;
use client::{NewIntent, StripeClient, StripeError};
use mapping::{acquirer_error, Failure, Stage};
use objects::{meta, PaymentIntent};

pub struct StripeAcquirer {
    client: StripeClient,
    publishable_key: String,
    js_url: String,
}

impl StripeAcquirer {
    pub fn new(settings: &StripeSettings) -> Result<StripeAcquirer, String> {
        Ok(StripeAcquirer {
            client: StripeClient::new(
                &settings.api_base,
                settings.secret_key.clone(),
                settings.timeout,
            )?,
            publishable_key: settings.publishable_key.clone(),
            js_url: settings.js_url.to_string(),
        })
    }

    fn stripe_js(&self, pi: &PaymentIntent) -> Result<CustomerAction, AcquirerError> {
        let client_secret = pi.client_secret.clone().ok_or_else(|| {
            AcquirerError::Unavailable("Stripe: requires_action without a client secret".into())
        })?;
        Ok(CustomerAction::StripeJs {
            client_secret: Some(client_secret),
            publishable_key: self.publishable_key.clone(),
            js_url: self.js_url.clone(),
        })
    }

    /// Maps a PaymentIntent the customer or a confirm just acted on; a failed one is cancelled
    /// first, so the decline is final.
    async fn outcome(&self, pi: PaymentIntent) -> Result<ChargeOutcome, AcquirerError> {
        let pi = match Stage::of(&pi) {
            Stage::Failed(_) => self.cancel_intent(pi).await?,
            _ => pi,
        };
        Ok(match Stage::of(&pi) {
            Stage::Succeeded => ChargeOutcome::Approved {
                transaction_id: pi.id,
            },
            Stage::NeedsAction => ChargeOutcome::ActionRequired(self.stripe_js(&pi)?),
            Stage::Canceled(Some(Failure::Declined(code))) => ChargeOutcome::Declined(code),
            Stage::Canceled(_) => ChargeOutcome::Failed,
            Stage::Processing | Stage::Authorized | Stage::Unconfirmed | Stage::Failed(_) => {
                ChargeOutcome::Pending
            }
        })
    }

    /// Cancels a cancelable PaymentIntent and answers it as it is afterwards; one whose state
    /// moved on meanwhile (Stripe refuses the cancel) is read again.
    async fn cancel_intent(&self, pi: PaymentIntent) -> Result<PaymentIntent, AcquirerError> {
        let stage = Stage::of(&pi);
        if !stage.cancelable() {
            return Ok(pi);
        }
        let key = match (pi.attempt_id(), pi.metadata.get(meta::ROUND)) {
            (Some(attempt), Some(round)) => {
                step_key(attempt, &format!("cancel-{round}:{}", pi.status.as_str()))
            }
            _ => step_key(&pi.id, &format!("cancel:{}", pi.status.as_str())),
        };
        match self.client.cancel_payment_intent(&pi.id, &key).await {
            Ok(after) => Ok(after),
            Err(StripeError::Api { status: 400, .. }) => self.retrieve(&pi.id).await,
            Err(e) => Err(acquirer_error(&e)),
        }
    }

    async fn retrieve(&self, reference: &str) -> Result<PaymentIntent, AcquirerError> {
        self.client
            .retrieve_payment_intent(reference)
            .await
            .map_err(|e| acquirer_error(&e))
    }

    /// `None` when Stripe has no such PaymentIntent.
    async fn find(&self, reference: &str) -> Result<Option<PaymentIntent>, AcquirerError> {
        match self.client.retrieve_payment_intent(reference).await {
            Ok(pi) => Ok(Some(pi)),
            Err(StripeError::Api { status: 404, .. } | StripeError::InvalidId(_)) => Ok(None),
            Err(e) => Err(acquirer_error(&e)),
        }
    }
}

/// What the acquirer's records say, for a PaymentIntent nobody is acting on right now.
fn charge_status(pi: &PaymentIntent) -> ChargeStatus {
    match Stage::of(pi) {
        Stage::Succeeded => ChargeStatus::Approved {
            transaction_id: pi.id.clone(),
        },
        Stage::NeedsAction => ChargeStatus::ActionRequired,
        Stage::Canceled(Some(Failure::Declined(code))) => ChargeStatus::Declined(code),
        Stage::Canceled(_) => ChargeStatus::NotCharged,
        Stage::Processing | Stage::Authorized | Stage::Unconfirmed | Stage::Failed(_) => {
            ChargeStatus::Pending
        }
    }
}

#[async_trait]
impl Acquirer for StripeAcquirer {
    fn kind(&self) -> AcquirerKind {
        AcquirerKind::Stripe
    }

    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        let amount = mapping::to_stripe_amount(r.amount).map_err(AcquirerError::Refused)?;
        let m = &r.metadata;
        let attempt = m.attempt_id.as_str();
        let pm_key = step_key(attempt, &format!("payment_method-{}", r.round));
        let pm = match self.client.create_payment_method(r.card, &pm_key).await {
            Ok(pm) => pm,
            // Stripe checks the card itself here (number, expiry): a card error before any
            // charge exists.
            Err(StripeError::Api { status: 402, error }) => {
                return Err(AcquirerError::Declined(mapping::decline_code(&error)))
            }
            Err(e) => return Err(acquirer_error(&e)),
        };
        let currency = r.amount.currency.code().to_ascii_lowercase();
        let (paysystem, payment, round) = (
            m.paysystem_id.to_string(),
            m.payment_id.to_string(),
            r.round.to_string(),
        );
        let metadata = [
            (meta::PORTAL, m.portal),
            (meta::PAYSYSTEM, paysystem.as_str()),
            (meta::PAYMENT, payment.as_str()),
            (meta::ATTEMPT, attempt),
            (meta::ROUND, round.as_str()),
        ];
        let intent = NewIntent {
            amount,
            currency: &currency,
            payment_method: &pm.id,
            metadata: &metadata,
        };
        let key = step_key(attempt, &format!("open-{}", r.round));
        let pi = self
            .client
            .create_payment_intent(&intent, &key)
            .await
            .map_err(|e| acquirer_error(&e))?;
        Ok(pi.id)
    }

    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        let key = step_key(
            r.metadata.attempt_id.as_str(),
            &format!("confirm-{}", r.round),
        );
        match self.client.confirm_payment_intent(reference, &key).await {
            Ok(pi) => self.outcome(pi).await,
            // A card error (402), or a confirm that found the intent past confirmation (400, e.g.
            // a retry after a lost answer): the PaymentIntent itself says what happened.
            Err(StripeError::Api {
                status: 400 | 402, ..
            }) => {
                let pi = self.retrieve(reference).await?;
                if pi.status == objects::IntentStatus::RequiresConfirmation {
                    return Err(AcquirerError::Refused(
                        "Stripe refused to confirm the PaymentIntent".into(),
                    ));
                }
                self.outcome(pi).await
            }
            Err(e) => Err(acquirer_error(&e)),
        }
    }

    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        match r.result {
            ActionResult::Completed => self.outcome(self.retrieve(r.reference).await?).await,
            ActionResult::Code(_) => Err(AcquirerError::Refused(
                "Stripe takes no inline code: 3-D Secure runs in Stripe.js".into(),
            )),
        }
    }

    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        Ok(match self.find(reference).await? {
            Some(pi) => charge_status(&pi),
            None => ChargeStatus::NotFound,
        })
    }

    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        match self.find(reference).await? {
            Some(pi) => Ok(charge_status(&self.cancel_intent(pi).await?)),
            None => Ok(ChargeStatus::NotFound),
        }
    }

    async fn refund(&self, r: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        refund::refund(&self.client, r).await
    }

    async fn action(&self, reference: &str) -> Result<Option<CustomerAction>, AcquirerError> {
        let pi = self.retrieve(reference).await?;
        match Stage::of(&pi) {
            Stage::NeedsAction => Ok(Some(self.stripe_js(&pi)?)),
            _ => Ok(None),
        }
    }

    async fn refunds(&self, reference: &str) -> Result<Vec<AcquirerRefund>, AcquirerError> {
        refund::list(&self.client, reference).await
    }
}
