//! Refunds: `b24pay refund` (full or partial), and refunds the acquirer reports that were made
//! outside b24pay (Stripe's Dashboard; its `charge.refunded` event).
//!
//! The rules, as for a charge:
//! - **Recorded first.** A refund is a `requested` row (with its idempotency key) before the
//!   acquirer is asked to move money back, so every refund can be explained from the store.
//! - **Never twice.** The key goes to the acquirer with the refund; the same command again finds
//!   the row by its key and asks again under the same key (the acquirer answers the first
//!   refund). Without `--key` the key is derived from the charge and the amount (`rf_<attempt>_
//!   <minor units>`, or `_rest` for "everything left"), so repeating a command never refunds
//!   twice; refunding the same amount once more takes a new `--key`.
//! - **Never more than charged.** The refunds of a charge that count (all but `failed`) never
//!   exceed it: checked by the store in the same transaction that records the refund, and by
//!   the acquirer again.
//! - **Bitrix24 is told what it can be told.** The pay-system REST API has no refund method;
//!   `pay.payment` for a paid payment stores its `PS_*` fields again. So a refund that
//!   succeeded queues (in the same transaction, through the outbox) a `pay.payment` whose
//!   `PS_STATUS_CODE` / `PS_STATUS_DESCRIPTION` say what was refunded. The payment stays paid.

mod command;
mod sync;

use command::{derived_key, refund_id, valid_key};
pub use command::{RefundCommand, RefundError, RefundReport};

use super::settle::paid_call;
use super::Acquirers;
use crate::acquirer::{Acquirer, AcquirerError, AcquirerKind, RefundOutcome, RefundRequest};
use crate::store::{
    now_ms, Attempt, NewRefund, Refund, RefundInsert, RefundOrigin, RefundState, RefundUpdate,
    SharedStore,
};
use b24pay_protocol::Money;
use std::sync::Arc;
use std::time::Duration;

pub struct Refunds {
    store: SharedStore,
    acquirers: Acquirers,
    /// Per acquirer call.
    timeout: Duration,
}

fn total(
    refunds: &[Refund],
    currency: b24pay_protocol::Currency,
    counts: fn(RefundState) -> bool,
) -> Money {
    Money {
        minor: refunds
            .iter()
            .filter(|r| counts(r.state))
            .map(|r| r.amount.minor)
            .sum(),
        currency,
    }
}

impl Refunds {
    pub fn new(store: SharedStore, acquirers: Acquirers, timeout: Duration) -> Refunds {
        Refunds {
            store,
            acquirers,
            timeout,
        }
    }

    fn acquirer(&self, kind: AcquirerKind) -> Result<&Arc<dyn Acquirer>, RefundError> {
        self.acquirers.of(kind).ok_or(RefundError::NoAcquirer(kind))
    }

    /// `b24pay refund`.
    pub async fn refund(&self, cmd: &RefundCommand) -> Result<RefundReport, RefundError> {
        let attempt = self.charged_attempt(cmd).await?;
        let currency = attempt.amount.currency;
        let amount =
            match &cmd.amount {
                Some(text) => Some(Money::parse(text, currency).map_err(|_| {
                    RefundError::BadAmount(text.clone(), currency.code().to_string())
                })?),
                None => None,
            };
        let key = match &cmd.key {
            Some(k) if valid_key(k) => k.clone(),
            Some(k) => return Err(RefundError::BadKey(k.clone())),
            None => derived_key(&attempt, amount),
        };
        let (refund, created) = self.record(&attempt, &key, amount).await?;
        if refund.state.is_final() {
            return self.report(attempt, refund, created, None).await;
        }
        let (refund, acquirer_error) = self.ask(&attempt, refund).await?;
        self.report(attempt, refund, created, acquirer_error).await
    }

    async fn charged_attempt(&self, cmd: &RefundCommand) -> Result<Attempt, RefundError> {
        let mut charged = self
            .store
            .charged_attempts(cmd.payment_id, cmd.paysystem_id)
            .await?;
        if let Some(portal) = &cmd.portal {
            charged.retain(|a| &a.portal == portal);
        }
        match charged.len() {
            0 => Err(RefundError::NotCharged(cmd.payment_id)),
            1 => Ok(charged.remove(0)),
            _ => Err(RefundError::Ambiguous {
                payment: cmd.payment_id,
                paysystems: charged
                    .iter()
                    .map(|a| match a.portal.public_id() {
                        Some(p) => format!("{} on portal {p}", a.paysystem_id),
                        None => a.paysystem_id.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The refund under `key`: found (a repeat), or recorded now as `requested`.
    async fn record(
        &self,
        a: &Attempt,
        key: &str,
        amount: Option<Money>,
    ) -> Result<(Refund, bool), RefundError> {
        let refunds = self.store.refunds_of(&a.id).await?;
        let counted = total(&refunds, a.amount.currency, RefundState::counts);
        let amount = match amount {
            Some(m) => m,
            None => match refunds.iter().find(|r| r.idempotency_key == key) {
                Some(r) => r.amount,
                None => Money {
                    minor: a.amount.minor.saturating_sub(counted.minor),
                    currency: a.amount.currency,
                },
            },
        };
        if amount.minor == 0 {
            return Err(RefundError::NothingLeft(a.amount));
        }
        let id = refund_id();
        let new = NewRefund {
            refund: Refund {
                note: Some(format!(
                    "{id}: {amount} asked for by the operator (key {key})"
                )),
                id,
                attempt_id: a.id.clone(),
                idempotency_key: key.to_string(),
                amount,
                state: RefundState::Requested,
                origin: RefundOrigin::Operator,
                acquirer_refund_id: None,
                created_at: 0,
                updated_at: 0,
            },
            cap_minor: Some(a.amount.minor),
        };
        match self.store.refund_insert(&new, now_ms()).await? {
            RefundInsert::Created(r) => Ok((r, true)),
            RefundInsert::Exists(r) if r.attempt_id == a.id && r.amount == amount => Ok((r, false)),
            RefundInsert::Exists(r) => Err(RefundError::KeyReused {
                key: key.to_string(),
                other: format!("{} of {} on attempt {}", r.id, r.amount, r.attempt_id),
            }),
            RefundInsert::TooMuch { refunded_minor } => Err(RefundError::TooMuch {
                asked: amount,
                left: Money {
                    minor: a.amount.minor.saturating_sub(refunded_minor),
                    currency: a.amount.currency,
                },
                charged: a.amount,
            }),
        }
    }

    /// Asks the acquirer for the refund (again, under its key) and records the answer.
    async fn ask(&self, a: &Attempt, r: Refund) -> Result<(Refund, Option<String>), RefundError> {
        let acquirer = self.acquirer(a.acquirer)?.clone();
        let (Some(reference), Some(transaction_id)) = (&a.acquirer_ref, &a.transaction_id) else {
            return Err(RefundError::NoReference);
        };
        let request = RefundRequest {
            idempotency_key: &r.idempotency_key,
            reference,
            transaction_id,
            amount: r.amount,
        };
        let answer = tokio::time::timeout(self.timeout, acquirer.refund(&request)).await;
        let outcome = match answer {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(AcquirerError::Unavailable(why))) => return self.no_answer(r, why).await,
            Err(_) => return self.no_answer(r, "timed out".into()).await,
            Ok(Err(AcquirerError::Refused(why))) => RefundOutcome::Refused(why),
            Ok(Err(AcquirerError::Declined(code))) => RefundOutcome::Refused(code.to_string()),
        };
        let r = self.apply(a, r, &outcome).await?;
        Ok((r, None))
    }

    async fn no_answer(
        &self,
        mut r: Refund,
        why: String,
    ) -> Result<(Refund, Option<String>), RefundError> {
        let note = format!(
            "{}: no answer from the acquirer ({why}); the same command asks again under key {}",
            r.id, r.idempotency_key
        );
        let update = RefundUpdate {
            state: RefundState::Requested,
            acquirer_refund_id: None,
            note: note.clone(),
            outbox_payload: None,
        };
        self.store.refund_update(&r.id, &update, now_ms()).await?;
        r.note = Some(note);
        Ok((r, Some(why)))
    }

    /// Records what the acquirer says about a refund that is not final yet; a success queues
    /// its portal call in the same write.
    async fn apply(
        &self,
        a: &Attempt,
        mut r: Refund,
        outcome: &RefundOutcome,
    ) -> Result<Refund, RefundError> {
        let (state, acquirer_refund_id, note) = match outcome {
            RefundOutcome::Refunded { refund_id } => (
                RefundState::Succeeded,
                Some(refund_id.clone()),
                format!(
                    "{}: {} refunded by the acquirer ({refund_id})",
                    r.id, r.amount
                ),
            ),
            RefundOutcome::Pending { refund_id } => (
                RefundState::Pending,
                Some(refund_id.clone()),
                format!(
                    "{}: {} accepted by the acquirer, not settled yet ({refund_id})",
                    r.id, r.amount
                ),
            ),
            RefundOutcome::Refused(why) => (
                RefundState::Failed,
                None,
                format!("{}: refused by the acquirer, nothing refunded: {why}", r.id),
            ),
        };
        let outbox_payload = match (state, &acquirer_refund_id) {
            (RefundState::Succeeded, Some(at_acquirer)) => {
                let earlier = self.store.refunds_of(&a.id).await?;
                let done = total(&earlier, a.amount.currency, |s| s == RefundState::Succeeded);
                let refunded = Money {
                    minor: done.minor + r.amount.minor,
                    currency: a.amount.currency,
                };
                Some(status_payload(a, &r, at_acquirer, refunded))
            }
            _ => None,
        };
        let update = RefundUpdate {
            state,
            acquirer_refund_id: acquirer_refund_id.clone(),
            note: note.clone(),
            outbox_payload,
        };
        if self.store.refund_update(&r.id, &update, now_ms()).await? {
            r.state = state;
            r.acquirer_refund_id = acquirer_refund_id.or(r.acquirer_refund_id);
            r.note = Some(note);
        }
        Ok(r)
    }

    async fn report(
        &self,
        attempt: Attempt,
        refund: Refund,
        created: bool,
        acquirer_error: Option<String>,
    ) -> Result<RefundReport, RefundError> {
        let refunds = self.store.refunds_of(&attempt.id).await?;
        let refunded = total(&refunds, attempt.amount.currency, |s| {
            s == RefundState::Succeeded
        });
        Ok(RefundReport {
            attempt,
            refund,
            created,
            refunded,
            acquirer_error,
        })
    }
}

/// The `pay.payment` that writes a refund into the paid payment's status (`PS_STATUS_*`); the
/// rest of the call is the charge's own, so nothing else on the payment changes.
fn status_payload(a: &Attempt, r: &Refund, at_acquirer: &str, refunded: Money) -> String {
    let mut call = paid_call(a, a.transaction_id.as_deref().unwrap_or_default());
    let full = refunded.minor >= a.amount.minor;
    call.ps_status_code = if full {
        "refunded"
    } else {
        "partially_refunded"
    }
    .into();
    call.ps_status_message = format!(
        "Refunded {} of {} via b24pay ({} acquirer)",
        refunded.to_decimal_string(),
        a.amount,
        a.acquirer
    );
    call.ps_status_description = format!(
        "Refund {at_acquirer}: {}; refunded in all: {} of {}. Bitrix24 still shows the payment paid: record the return in Bitrix24.",
        r.amount, refunded, a.amount
    );
    serde_json::to_string(&call).expect("serialisable")
}
