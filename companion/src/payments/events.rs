//! Events from the acquirer (Stripe's webhooks) about a charge: signed hints, never the truth.
//! The attempt is found by the reference the acquirer knows the charge by, leased the way the
//! reconciler leases it, and settled from the acquirer's own answer (`resolve` asks `status`),
//! so an event that is late, replayed or out of order changes nothing the acquirer does not
//! confirm. What it buys: a charge whose customer (or companion) vanished is settled as soon as
//! the acquirer says it ended, not only at the reconciler's next look.

use super::settle::{EventHint, Why};
use super::{ms, PaymentError, Payments};
use crate::acquirer::AcquirerKind;
use crate::store::{now_ms, Attempt, AttemptState};
use std::sync::Arc;
use std::time::Duration;

/// What an event led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// No attempt's current charge has this reference (an earlier round's, or not ours).
    NoAttempt,
    /// The attempt was settled already; nothing to do.
    AlreadySettled(AttemptState),
    /// Resolved through the acquirer: the attempt's state afterwards.
    Resolved(AttemptState),
    /// Someone holds the attempt right now (the request charging it, or a process that died
    /// holding it): looked at again once that lease runs out.
    Deferred,
    /// Leased by someone else between the look and the lease: they settle it.
    Busy,
}

impl Payments {
    /// Settles the attempt whose charge the acquirer's event names, as far as the acquirer's
    /// own records allow.
    pub async fn charge_event(
        self: &Arc<Self>,
        acquirer: AcquirerKind,
        reference: &str,
        hint: EventHint,
    ) -> Result<EventOutcome, PaymentError> {
        let Some(a) = self.store.attempt_by_reference(acquirer, reference).await? else {
            return Ok(EventOutcome::NoAttempt);
        };
        let now = now_ms();
        if !unsettled(a.state) {
            return Ok(EventOutcome::AlreadySettled(a.state));
        }
        if a.lease_until >= now {
            // The lease's holder may be a process that died right after the acquirer moved the
            // money: nobody else would settle it before the reconciler's next pass.
            let wait = Duration::from_millis((a.lease_until - now + 50) as u64);
            let payments = self.clone();
            let id = a.id.clone();
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                match payments.store.attempt(&id).await {
                    Ok(Some(a)) if unsettled(a.state) => {
                        if let Err(e) = payments.settle_on_event(&a, hint).await {
                            tracing::warn!(attempt = %id, error = %e, "could not settle an attempt after the acquirer's event");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(attempt = %id, error = %e, "could not read an attempt after the acquirer's event")
                    }
                }
            });
            return Ok(EventOutcome::Deferred);
        }
        self.settle_on_event(&a, hint).await
    }

    async fn settle_on_event(
        &self,
        a: &Attempt,
        hint: EventHint,
    ) -> Result<EventOutcome, PaymentError> {
        let held_until = a.updated_at + ms(self.config.action_hold);
        let why = match a.state {
            AttemptState::RequiresAction if held_until < now_ms() => Why::Abandoned,
            _ => Why::Event(hint),
        };
        let outcome = match self.try_resolve(a, why).await? {
            Some(resolved) => EventOutcome::Resolved(resolved.state),
            None => EventOutcome::Busy,
        };
        tracing::info!(attempt = %a.id, ?hint, ?outcome, "the acquirer's event was checked with the acquirer");
        Ok(outcome)
    }
}

fn unsettled(state: AttemptState) -> bool {
    matches!(
        state,
        AttemptState::Processing | AttemptState::RequiresAction | AttemptState::Unknown
    )
}
