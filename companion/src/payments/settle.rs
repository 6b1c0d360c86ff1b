//! How an attempt is settled, whoever moves it: what an acquirer's answer means for the attempt
//! (`settlement_of`), the fenced write that records it (`commit`), and `resolve`, which asks the
//! acquirer about an attempt someone else left unsettled.

use super::{ms, CrashPoint, PaymentError, Payments};
use crate::acquirer::{AcquirerError, ChargeOutcome, ChargeStatus};
use crate::portal::MarkPaid;
use crate::store::{now_ms, Attempt, AttemptState, Registry, Settlement};
use b24pay_protocol::api::DeclineCode;
use std::time::Duration;
use tokio::time::error::Elapsed;

/// What an acquirer call of a lease holder came back with: its answer, its error, or nothing in
/// time.
pub(super) type Answer = Result<Result<ChargeOutcome, AcquirerError>, Elapsed>;

/// What a signed event from the acquirer says happened to a charge. Only a reason to ask: the
/// acquirer's own answer (`status`) decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventHint {
    /// Stripe's `payment_intent.succeeded`.
    Succeeded,
    /// Stripe's `payment_intent.payment_failed`: a failed charge is cancelled, so that its
    /// failure is final (until then its client secret could confirm it again).
    Failed,
}

/// Why an attempt is being resolved by someone other than the request that started it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Why {
    /// `processing` past its lease: its holder died or stalled.
    Expired,
    /// `requires_action` past its hold, replaced by a new attempt, or out of answers: cancel.
    Abandoned,
    /// `unknown`: ask again.
    Unknown,
    /// The acquirer's event about an attempt nobody holds (`processing` past its lease,
    /// `unknown`, or `requires_action` within its hold): settled when the acquirer's answer is
    /// final; a waiting action is otherwise left exactly as it was.
    Event(EventHint),
}

impl Payments {
    /// The settlement (and its history note) that a confirm or resume answer means.
    pub(super) fn settlement_of(&self, a: &Attempt, answer: Answer) -> (Settlement, String) {
        let now = now_ms();
        match answer {
            Ok(Ok(ChargeOutcome::Approved { transaction_id })) => {
                CrashPoint::hit(self.crash_point, CrashPoint::AfterCharge);
                let note = format!("approved by the acquirer: {transaction_id}");
                (self.succeeded(a, transaction_id), note)
            }
            Ok(Ok(ChargeOutcome::Declined(code))) => (
                Settlement::Declined(code),
                format!("declined by the acquirer: {code}"),
            ),
            Ok(Ok(ChargeOutcome::Failed)) => (
                Settlement::Failed,
                "processing error at the acquirer: nothing charged".into(),
            ),
            Ok(Ok(ChargeOutcome::ActionRequired(action))) => (
                Settlement::RequiresAction(action),
                "the acquirer asks the customer to act".into(),
            ),
            Ok(Ok(ChargeOutcome::Pending)) => (
                self.unknown(a, now),
                "the acquirer has not decided yet".into(),
            ),
            Ok(Err(AcquirerError::Declined(code))) => (
                Settlement::Declined(code),
                format!("the acquirer declined the card before charging: {code}"),
            ),
            Ok(Err(AcquirerError::Refused(why))) => (
                Settlement::Failed,
                format!("the acquirer refused the request (nothing charged): {why}"),
            ),
            Ok(Err(AcquirerError::Unavailable(why))) => (
                self.unknown(a, now),
                format!("no answer from the acquirer, money may have moved: {why}"),
            ),
            Err(_) => (
                self.unknown(a, now),
                "the acquirer did not answer in time, money may have moved".into(),
            ),
        }
    }

    /// A success, with the portal call it owes.
    fn succeeded(&self, a: &Attempt, transaction_id: String) -> Settlement {
        let call = paid_call(a, &transaction_id);
        Settlement::Succeeded {
            transaction_id,
            outbox_payload: serde_json::to_string(&call).expect("serialisable"),
        }
    }

    pub(super) fn unknown_now(&self, a: &Attempt) -> Settlement {
        self.unknown(a, now_ms())
    }

    /// `unknown`, asked again after a pause that grows with how long it has been unknown.
    fn unknown(&self, a: &Attempt, now: i64) -> Settlement {
        let since = a.unknown_since.unwrap_or(now);
        let pause = ((now - since) / 2).clamp(1_000, 300_000);
        Settlement::Unknown {
            next_check_at: now + pause,
        }
    }

    /// Records `settlement` for the holder of `a`'s lease. When the lease is no longer theirs
    /// nothing is written and the attempt is answered as it is stored.
    pub(super) async fn commit(
        &self,
        mut a: Attempt,
        settlement: Settlement,
        note: &str,
    ) -> Result<Attempt, PaymentError> {
        let now = now_ms();
        if !self
            .store
            .settle(&a.id, a.lease_epoch, &settlement, note, now)
            .await?
        {
            tracing::info!(attempt = %a.id, "lease lost before settling; another holder decides");
            return self
                .store
                .attempt(&a.id)
                .await?
                .ok_or(PaymentError::NotFound);
        }
        a.state = settlement.state();
        a.decline_code = settlement.decline_code();
        a.lease_until = 0;
        a.updated_at = now;
        a.note = Some(note.to_string());
        match settlement {
            Settlement::Succeeded { transaction_id, .. } => {
                CrashPoint::hit(self.crash_point, CrashPoint::AfterRecord);
                self.outbox_wake.notify_one();
                a.transaction_id = Some(transaction_id);
            }
            Settlement::RequiresAction(action) => a.action = Some(action),
            Settlement::Unknown { next_check_at } => {
                a.next_check_at = next_check_at;
                a.unknown_since.get_or_insert(now);
            }
            Settlement::Declined(_) | Settlement::Failed => {}
        }
        Ok(a)
    }

    /// Settles an attempt this caller has just leased from someone else (see [`Why`]) as far as
    /// the acquirer's records allow.
    pub(super) async fn resolve(&self, a: Attempt, why: Why) -> Result<Attempt, PaymentError> {
        let Some(reference) = a.acquirer_ref.clone() else {
            // No reference was recorded, so the acquirer was never asked to move money (rule 1
            // in acquirer/mod.rs).
            let note = "no acquirer reference recorded: the acquirer was never asked to charge";
            return self.commit(a, Settlement::Failed, note).await;
        };
        let acquirer = self.acquirer(a.acquirer)?.clone();
        let budget = self.config.lease / 2;
        let mut status = tokio::time::timeout(budget, acquirer.status(&reference)).await;
        if matches!(
            status,
            Ok(Ok(ChargeStatus::Pending | ChargeStatus::ActionRequired))
        ) && self.should_cancel(&a, why)
        {
            status = tokio::time::timeout(budget, acquirer.cancel(&reference)).await;
        }
        if let (Ok(Ok(s)), Why::Event(_)) = (&status, why) {
            if !s.is_final() && a.state == AttemptState::RequiresAction {
                // The customer is still at it, or the event is an old one: nothing changes.
                self.store.release(&a.id, a.lease_epoch).await?;
                return Ok(a);
            }
        }
        let (settlement, mut note) = match status {
            Ok(Ok(s)) => self.settlement_of_status(&a, s, why),
            Ok(Err(e)) => (
                self.unknown(&a, now_ms()),
                format!("acquirer status failed: {e}"),
            ),
            Err(_) => (
                self.unknown(&a, now_ms()),
                "acquirer status timed out".into(),
            ),
        };
        if matches!(why, Why::Event(_)) {
            note.push_str(" (checked after the acquirer's event)");
        }
        let resolved = self.commit(a, settlement, &note).await?;
        self.metrics.reconciled(resolved.state.as_str());
        if resolved.state != AttemptState::Unknown {
            tracing::info!(attempt = %resolved.id, state = %resolved.state, %note, "settled an attempt left unsettled");
        }
        Ok(resolved)
    }

    /// A charge the acquirer still calls open is cancelled when nobody can finish it any more:
    /// its action was abandoned, or its holder's lease ran out (the holder died or stalled: a
    /// confirm it may still send races the cancel at the acquirer, which decides one way). One
    /// whose holder merely gave up waiting (`unknown`) gets `cancel_after` to finish first.
    fn should_cancel(&self, a: &Attempt, why: Why) -> bool {
        match why {
            Why::Abandoned | Why::Expired | Why::Event(EventHint::Failed) => true,
            // A holder whose lease ran out died or stalled, as for `Expired`.
            Why::Event(EventHint::Succeeded) => a.state == AttemptState::Processing,
            Why::Unknown => {
                let since = a.unknown_since.unwrap_or(a.updated_at);
                now_ms() - since >= ms(self.config.cancel_after)
            }
        }
    }

    fn settlement_of_status(&self, a: &Attempt, s: ChargeStatus, why: Why) -> (Settlement, String) {
        let now = now_ms();
        match s {
            ChargeStatus::Approved { transaction_id } => {
                let note = format!("reconciled: the acquirer approved {transaction_id}");
                (self.succeeded(a, transaction_id), note)
            }
            ChargeStatus::Declined(code) => (
                Settlement::Declined(code),
                format!("reconciled: the acquirer declined ({code})"),
            ),
            ChargeStatus::NotCharged
                if why == Why::Abandoned
                    || (matches!(why, Why::Event(_))
                        && a.state == AttemptState::RequiresAction) =>
            {
                (
                    Settlement::Declined(DeclineCode::ChallengeFailed),
                    "the customer's action was abandoned or failed; cancelled at the acquirer"
                        .into(),
                )
            }
            ChargeStatus::NotCharged => {
                (Settlement::Failed, "reconciled: nothing was charged".into())
            }
            ChargeStatus::Pending | ChargeStatus::ActionRequired => (
                self.unknown(a, now),
                "the acquirer has not decided yet".into(),
            ),
            ChargeStatus::NotFound => (
                self.unknown(a, now),
                "the acquirer has no record of the charge yet; it may still land".into(),
            ),
        }
    }

    /// Lists an attempt that has stayed `unknown` too long for an operator, once.
    pub(super) async fn flag_for_review(&self, a: &Attempt) -> Result<(), PaymentError> {
        let since = a.unknown_since.unwrap_or(a.updated_at);
        if a.state != AttemptState::Unknown
            || a.review_at.is_some()
            || now_ms() - since < ms(self.config.review_after)
        {
            return Ok(());
        }
        if self.store.mark_review(&a.id, now_ms()).await? {
            self.metrics.attempt_review();
            tracing::error!(
                attempt = %a.id, payment = %a.payment_id, paysystem = %a.paysystem_id,
                unknown_for_s = (now_ms() - since) / 1000,
                "attempt needs manual review: the acquirer gave no final answer (b24pay attempts --review)"
            );
        }
        Ok(())
    }

    /// Leases `a` if nobody holds it and resolves it; `None` when someone else holds it.
    pub(super) async fn try_resolve(
        &self,
        a: &Attempt,
        why: Why,
    ) -> Result<Option<Attempt>, PaymentError> {
        let now = now_ms();
        let Some(leased) = self
            .store
            .claim(&a.id, now + ms(self.config.lease), now)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.resolve(leased, why).await?))
    }
}

/// The `pay.payment` (or `pay.invoice`) call that marks the attempt's payment paid.
pub(super) fn paid_call(a: &Attempt, transaction_id: &str) -> MarkPaid {
    let acquirer = a.acquirer.as_str();
    MarkPaid {
        registry: a.registry,
        payment_id: a.payment_id,
        paysystem_id: a.paysystem_id,
        invoice_id: match a.registry {
            Registry::CrmInvoice => a.order_id,
            Registry::Order => None,
        },
        portal: a.portal.as_str().to_string(),
        ps_invoice_id: transaction_id.to_string(),
        ps_sum: a.amount.to_decimal_string(),
        ps_currency: a.amount.currency.code().to_string(),
        ps_card_number: b24pay_protocol::card::mask(&a.last4),
        ps_status_code: "succeeded".into(),
        ps_status_message: format!("Paid by card via b24pay ({acquirer} acquirer)"),
        ps_status_description: if a.is_test() {
            "TEST payment: no money was taken (b24pay test acquirer)".into()
        } else {
            format!("Card payment charged by {acquirer}, attempt {}", a.id)
        },
    }
}

/// How long a waiter sleeps between looks at an attempt someone else is working on.
pub(super) fn pause(n: u32) -> Duration {
    Duration::from_millis((5u64 << n.min(5)).min(100))
}
