//! Refunds the acquirer reports (after its event, e.g. Stripe's `charge.refunded`): the
//! acquirer's records of a charge's refunds are read (never the event's body), refunds b24pay
//! asked for are settled, and refunds made elsewhere (Stripe's Dashboard) are recorded and
//! written into the paid payment's status like b24pay's own.

use super::{refund_id, RefundError, Refunds};
use crate::acquirer::{AcquirerKind, AcquirerRefund};
use crate::store::{
    now_ms, Attempt, AttemptState, NewRefund, Refund, RefundInsert, RefundOrigin, RefundState,
};

impl Refunds {
    /// Brings the store in line with the acquirer's records of a charge's refunds (after its
    /// event): refunds b24pay asked for are settled, refunds made elsewhere are recorded (and
    /// written into the paid payment's status like b24pay's own). Returns how many changed.
    pub async fn sync(
        &self,
        acquirer: AcquirerKind,
        reference: &str,
    ) -> Result<usize, RefundError> {
        let Some(a) = self.store.attempt_by_reference(acquirer, reference).await? else {
            return Ok(0);
        };
        if a.state != AttemptState::Succeeded {
            return Ok(0);
        }
        let acquirer = self.acquirer(a.acquirer)?;
        let theirs = match tokio::time::timeout(self.timeout, acquirer.refunds(reference)).await {
            Ok(Ok(list)) => list,
            Ok(Err(e)) => return Err(RefundError::Acquirer(e.to_string())),
            Err(_) => return Err(RefundError::Acquirer("timed out".into())),
        };
        let mut changed = 0;
        for f in &theirs {
            if self.sync_one(&a, f).await? {
                changed += 1;
            }
        }
        Ok(changed)
    }

    async fn sync_one(&self, a: &Attempt, f: &AcquirerRefund) -> Result<bool, RefundError> {
        let ours = self.store.refunds_of(&a.id).await?;
        let mine = ours.into_iter().find(|r| {
            f.key.as_deref() == Some(r.idempotency_key.as_str())
                || r.acquirer_refund_id.as_deref() == Some(f.refund_id.as_str())
        });
        let (r, created) = match mine {
            Some(r) if r.state.is_final() => return Ok(false),
            Some(r) => (r, false),
            None => {
                let id = refund_id();
                let new = NewRefund {
                    refund: Refund {
                        note: Some(format!(
                            "{id}: {} refunded at the acquirer outside b24pay ({})",
                            f.amount, f.refund_id
                        )),
                        id,
                        attempt_id: a.id.clone(),
                        idempotency_key: f
                            .key
                            .clone()
                            .unwrap_or_else(|| format!("acquirer:{}", f.refund_id)),
                        amount: f.amount,
                        state: RefundState::Pending,
                        origin: RefundOrigin::Acquirer,
                        acquirer_refund_id: Some(f.refund_id.clone()),
                        created_at: 0,
                        updated_at: 0,
                    },
                    cap_minor: None,
                };
                match self.store.refund_insert(&new, now_ms()).await? {
                    RefundInsert::Created(r) => (r, true),
                    RefundInsert::Exists(r) if !r.state.is_final() => (r, false),
                    _ => return Ok(false),
                }
            }
        };
        let before = r.state;
        let after = self.apply(a, r, &f.outcome).await?;
        Ok(created || after.state != before)
    }
}
