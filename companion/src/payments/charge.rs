//! A new confirm request: verify, insert the attempt (leased to this request), open the charge at
//! the acquirer, record its reference, confirm, settle.

use super::settle::Why;
use super::verify::Verified;
use super::{ms, ConfirmInput, CrashPoint, PaymentError, Payments};
use crate::acquirer::{AcquirerError, Card, ChargeRequest};
use crate::store::{now_ms, Attempt, AttemptState, InsertOutcome, NewAttempt, Settlement};
use b24pay_protocol::api::PaymentView;
use b24pay_protocol::ids::AttemptId;
use std::net::IpAddr;
use tokio::time::Instant;

impl Payments {
    pub(super) async fn confirm_inner(
        &self,
        key: &str,
        input: &ConfirmInput,
        client: IpAddr,
    ) -> Result<PaymentView, PaymentError> {
        let fingerprint = self.confirm_fingerprint(input);
        // New keys are the hot path: verify first, and look the key up only when it turns out
        // to be taken (or when the portal refuses, e.g. because this very request already paid).
        let verified = match self.admit_and_verify(input, client).await {
            Ok(v) => v,
            Err(e) => {
                return match self.store.attempt_by_key(key).await? {
                    Some(existing) => self.replay(existing, &fingerprint, input).await,
                    None => Err(e),
                }
            }
        };
        for _ in 0..4 {
            let new = self.new_attempt(key, &fingerprint, input, &verified);
            match self.store.insert_attempt(&new).await? {
                InsertOutcome::Inserted => {
                    return self.charge(new.into_attempt(), &input.card).await;
                }
                InsertOutcome::KeyTaken => {
                    let existing = self
                        .store
                        .attempt_by_key(key)
                        .await?
                        .ok_or(PaymentError::NotFound)?;
                    return self.replay(existing, &fingerprint, input).await;
                }
                InsertOutcome::PaymentBusy => {
                    // The live attempt may be this very key's.
                    if let Some(existing) = self.store.attempt_by_key(key).await? {
                        return self.replay(existing, &fingerprint, input).await;
                    }
                    self.clear_blocker(input).await?;
                }
            }
        }
        Err(PaymentError::InProgress)
    }

    /// The limits, the decline cool-off, then the portal.
    async fn admit_and_verify(
        &self,
        input: &ConfirmInput,
        client: IpAddr,
    ) -> Result<Verified, PaymentError> {
        self.guard.admit(client, input)?;
        let window = self.config.decline_window;
        let declines = self
            .store
            .declines_since(
                &input.portal,
                input.paysystem_id,
                input.payment_id,
                now_ms() - ms(window),
            )
            .await?;
        if declines >= i64::from(self.config.max_declines) {
            return Err(PaymentError::TooManyAttempts {
                retry_after: window,
            });
        }
        self.verify(input).await
    }

    /// A keyed hash of what makes a confirm request this request, without the card number or
    /// the CVC in any form the store could give back: the non-card fields, the brand, the last
    /// four digits, and a keyed hash of the number.
    pub(super) fn confirm_fingerprint(&self, input: &ConfirmInput) -> String {
        let card = &input.card;
        let number = self.fingerprint(&[b"card-number", card.number.as_bytes()]);
        let payment = input.payment_id.to_string();
        let paysystem = input.paysystem_id.to_string();
        let amount = input.amount.to_decimal_string();
        let invoice = input.invoice_id.map(|i| i.to_string()).unwrap_or_default();
        let exp_month = [card.exp_month];
        let exp_year = card.exp_year.to_be_bytes();
        let mut parts: Vec<&[u8]> = vec![b"confirm"];
        // An installed portal's requests hash with its key; the configured portal's hash as
        // they did before portals were keyed, so a retry across an upgrade is recognised.
        if !input.portal.is_configured() {
            parts.push(input.portal.as_str().as_bytes());
        }
        parts.extend_from_slice(&[
            payment.as_bytes(),
            paysystem.as_bytes(),
            amount.as_bytes(),
            input.amount.currency.code().as_bytes(),
            invoice.as_bytes(),
            input.session.as_deref().unwrap_or("").as_bytes(),
            &exp_month,
            &exp_year,
            card.holder.as_deref().unwrap_or("").as_bytes(),
            card.brand_code().as_bytes(),
            card.last4().as_bytes(),
            number.as_bytes(),
        ]);
        self.fingerprint(&parts)
    }

    fn new_attempt(
        &self,
        key: &str,
        fingerprint: &str,
        input: &ConfirmInput,
        verified: &Verified,
    ) -> NewAttempt {
        let now = now_ms();
        NewAttempt {
            id: AttemptId::from_random(rand::random()),
            idempotency_key: key.to_string(),
            fingerprint: fingerprint.to_string(),
            payment_id: input.payment_id,
            paysystem_id: input.paysystem_id,
            amount: input.amount,
            brand: input.card.brand_code().to_string(),
            last4: input.card.last4().to_string(),
            registry: verified.registry,
            order_id: verified.order_id,
            acquirer: verified.acquirer,
            portal: input.portal.clone(),
            session: input.session.clone(),
            lease_until: now + ms(self.config.lease),
            now,
        }
    }

    /// Charges a `processing` attempt this call holds the lease of. Every acquirer call ends
    /// within half the lease, so nobody takes the attempt over while this holder might still be
    /// moving money for it.
    pub(super) async fn charge(
        &self,
        a: Attempt,
        card: &Card,
    ) -> Result<PaymentView, PaymentError> {
        let acquirer = self.acquirer(a.acquirer)?.clone();
        let deadline = Instant::now() + self.config.lease / 2;
        let metadata = self.metadata(&a);
        let request = ChargeRequest {
            amount: a.amount,
            card,
            metadata,
            round: a.round,
        };
        let reference = match tokio::time::timeout_at(deadline, acquirer.open(&request)).await {
            Ok(Ok(reference)) => reference,
            Ok(Err(AcquirerError::Declined(code))) => {
                let note = format!("the acquirer declined the card before charging: {code}");
                let settled = self.commit(a, Settlement::Declined(code), &note).await?;
                return Ok(settled.view());
            }
            // `open` moves no money: whatever happened, nothing was charged.
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".into(),
                };
                let note =
                    format!("could not open the charge at the acquirer ({why}): nothing charged");
                let settled = self.commit(a, Settlement::Failed, &note).await?;
                return Ok(settled.view());
            }
        };
        if !self
            .store
            .set_reference(&a.id, a.lease_epoch, &reference, now_ms())
            .await?
        {
            // Someone took the attempt over: do not ask the acquirer to move money.
            return self.answer_as_stored(&a.id).await;
        }
        CrashPoint::hit(self.crash_point, CrashPoint::AfterOpen);
        let answer =
            tokio::time::timeout_at(deadline, acquirer.confirm(&reference, &request)).await;
        let mut a = a;
        a.acquirer_ref = Some(reference);
        let (settlement, note) = self.settlement_of(&a, answer);
        let settled = self.commit(a, settlement, &note).await?;
        self.answer_after_charge(settled).await
    }

    /// The customer hears a timeout for an attempt left `unknown` (their retry with the same
    /// key finds out what happened); otherwise the attempt as settled.
    pub(super) async fn answer_after_charge(
        &self,
        a: Attempt,
    ) -> Result<PaymentView, PaymentError> {
        match a.state {
            AttemptState::Unknown => Err(PaymentError::AcquirerTimeout),
            _ => Ok(self.show(a).await),
        }
    }

    pub(super) async fn answer_as_stored(
        &self,
        id: &AttemptId,
    ) -> Result<PaymentView, PaymentError> {
        let stored = self
            .store
            .attempt(id)
            .await?
            .ok_or(PaymentError::NotFound)?;
        match stored.state {
            AttemptState::Processing => Err(PaymentError::InProgress),
            _ => Ok(self.show(stored).await),
        }
    }

    /// Another attempt holds this payment. Clears it when it is provably not going anywhere (an
    /// abandoned action, a charge left behind by a crash or a timeout) by settling it; otherwise
    /// says why the payment is busy.
    pub(super) async fn clear_blocker(&self, input: &ConfirmInput) -> Result<(), PaymentError> {
        let Some(live) = self
            .store
            .live_attempt(&input.portal, input.paysystem_id, input.payment_id)
            .await?
        else {
            return Ok(());
        };
        let now = now_ms();
        let why = match live.state {
            AttemptState::Succeeded => return Err(PaymentError::AlreadyPaid),
            AttemptState::RequiresAction
                if same_page(&live, input)
                    || live.updated_at + ms(self.config.action_hold) < now =>
            {
                Why::Abandoned
            }
            AttemptState::Processing if live.lease_until < now => Why::Expired,
            AttemptState::Unknown => Why::Unknown,
            _ => return Err(PaymentError::InProgress),
        };
        match self.try_resolve(&live, why).await? {
            Some(a) if a.state == AttemptState::Succeeded => Err(PaymentError::AlreadyPaid),
            Some(a) if !a.state.blocks_payment() => Ok(()),
            _ => Err(PaymentError::InProgress),
        }
    }
}

/// The blocking action was started from the page this request comes from: the customer gave up
/// on it and is paying again, so it need not wait for the hold to run out.
fn same_page(live: &Attempt, input: &ConfirmInput) -> bool {
    matches!((&live.session, &input.session), (Some(a), Some(b)) if a == b)
}
