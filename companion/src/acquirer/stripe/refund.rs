//! Refunds, full or partial, by the operator's idempotency key. Before creating one, the
//! PaymentIntent's refunds are listed: one already made with this key is answered as it stands
//! (a retry after a lost answer), and an amount above what is left to refund is refused here —
//! Stripe refuses it too, but not every Stripe stand-in does.

use super::client::{StripeClient, StripeError};
use super::mapping::{self, acquirer_error, describe, Stage};
use super::objects::{meta, Refund, RefundStatus};
use crate::acquirer::{AcquirerError, AcquirerRefund, RefundOutcome, RefundRequest};

pub async fn refund(
    client: &StripeClient,
    r: &RefundRequest<'_>,
) -> Result<RefundOutcome, AcquirerError> {
    let refused = |why: String| Ok(RefundOutcome::Refused(why));
    if r.reference != r.transaction_id {
        return refused("the reference and the transaction id name different charges".into());
    }
    let pi = match client.retrieve_payment_intent(r.reference).await {
        Ok(pi) => pi,
        Err(StripeError::Api { status: 404, .. } | StripeError::InvalidId(_)) => {
            return refused(format!("Stripe has no PaymentIntent {}", r.reference))
        }
        Err(e) => return Err(acquirer_error(&e)),
    };
    let refunds = client
        .list_refunds(&pi.id)
        .await
        .map_err(|e| acquirer_error(&e))?;
    if let Some(earlier) = refunds
        .data
        .iter()
        .find(|f| f.metadata.get(meta::REFUND_KEY).map(String::as_str) == Some(r.idempotency_key))
    {
        return Ok(outcome(earlier));
    }
    if Stage::of(&pi) != Stage::Succeeded {
        return refused(format!(
            "the payment was not charged ({})",
            pi.status.as_str()
        ));
    }
    if !pi.currency.eq_ignore_ascii_case(r.amount.currency.code()) {
        return refused(format!(
            "the charge is in {}, the refund in {}",
            pi.currency.to_ascii_uppercase(),
            r.amount.currency
        ));
    }
    let amount = mapping::to_stripe_amount(r.amount).map_err(AcquirerError::Refused)?;
    if refunds.has_more {
        return refused("the charge has more refunds than can be checked".into());
    }
    let refunded: u64 = refunds
        .data
        .iter()
        .filter(|f| counts(f))
        .map(|f| f.amount)
        .sum();
    let left = pi.amount.saturating_sub(refunded);
    if amount > left {
        let left = mapping::from_stripe_amount(left, &pi.currency)
            .map_or_else(|| left.to_string(), |m| m.to_string());
        return refused(format!(
            "{} is more than is left to refund ({left})",
            r.amount
        ));
    }
    match client
        .create_refund(&pi.id, amount, r.idempotency_key)
        .await
    {
        Ok(created) => Ok(outcome(&created)),
        Err(StripeError::Api { status, error }) if status == 400 || status == 402 => {
            refused(describe(status, &error))
        }
        Err(e) => Err(acquirer_error(&e)),
    }
}

/// Whether a refund takes money back (or still may).
fn counts(f: &Refund) -> bool {
    !matches!(
        f.status,
        Some(RefundStatus::Failed | RefundStatus::Canceled)
    )
}

fn outcome(f: &Refund) -> RefundOutcome {
    let refund_id = f.id.clone();
    match f.status {
        // Without a status (old API versions) a refund was final when created.
        Some(RefundStatus::Succeeded) | None => RefundOutcome::Refunded { refund_id },
        Some(RefundStatus::Failed | RefundStatus::Canceled) => RefundOutcome::Refused(format!(
            "refund {refund_id} failed: {}",
            f.failure_reason.as_deref().unwrap_or("no reason given")
        )),
        Some(RefundStatus::Pending | RefundStatus::RequiresAction | RefundStatus::Unknown) => {
            RefundOutcome::Pending { refund_id }
        }
    }
}

/// The PaymentIntent's refunds as Stripe has them, in our units, with the key b24pay made each
/// with (none for one made in Stripe's Dashboard).
pub async fn list(
    client: &StripeClient,
    reference: &str,
) -> Result<Vec<AcquirerRefund>, AcquirerError> {
    let pi = client
        .retrieve_payment_intent(reference)
        .await
        .map_err(|e| acquirer_error(&e))?;
    let refunds = client
        .list_refunds(&pi.id)
        .await
        .map_err(|e| acquirer_error(&e))?;
    refunds
        .data
        .iter()
        .map(|f| {
            let amount = mapping::from_stripe_amount(f.amount, &pi.currency).ok_or_else(|| {
                AcquirerError::Refused(format!(
                    "refund {}: {} {} is not an amount b24pay can record",
                    f.id, f.amount, pi.currency
                ))
            })?;
            Ok(AcquirerRefund {
                refund_id: f.id.clone(),
                amount,
                key: f.metadata.get(meta::REFUND_KEY).cloned(),
                outcome: outcome(f),
            })
        })
        .collect()
}
