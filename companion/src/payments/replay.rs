//! The same idempotency key again: the first request's result, the work finished where it
//! stopped, or (for a `failed` attempt) the same request tried again as the attempt's next round.

use super::settle::{pause, Why};
use super::{ms, ConfirmInput, PaymentError, Payments};
use crate::store::{now_ms, Attempt, AttemptState, Lease};
use b24pay_protocol::api::PaymentView;

impl Payments {
    pub(super) async fn replay(
        &self,
        mut a: Attempt,
        fingerprint: &str,
        input: &ConfirmInput,
    ) -> Result<PaymentView, PaymentError> {
        if a.fingerprint != fingerprint {
            return Err(PaymentError::KeyReused);
        }
        let deadline = now_ms() + ms(self.config.wait_for_original);
        for n in 0..1000 {
            let now = now_ms();
            match a.state {
                AttemptState::Processing if a.lease_until >= now => {
                    // The original request is charging right now: wait for its result.
                    if now > deadline {
                        return Err(PaymentError::InProgress);
                    }
                    tokio::time::sleep(pause(n)).await;
                }
                AttemptState::Processing | AttemptState::Unknown => {
                    let why = match a.state {
                        AttemptState::Processing => Why::Expired,
                        _ => Why::Unknown,
                    };
                    match self.try_resolve(&a, why).await? {
                        // Still unknown: the customer sees it as in progress.
                        Some(r) if r.state == AttemptState::Unknown => return Ok(r.view()),
                        Some(r) => {
                            a = r;
                            continue;
                        }
                        None if a.state == AttemptState::Unknown => return Ok(a.view()),
                        None => {}
                    }
                }
                AttemptState::Failed => {
                    // Nothing was charged: try again, after checking the portal again.
                    self.verify(input).await?;
                    let lease_until = now + ms(self.config.lease);
                    match self.store.retry_failed(&a.id, lease_until, now).await? {
                        Lease::Granted { epoch } => {
                            a.state = AttemptState::Processing;
                            a.decline_code = None;
                            a.acquirer_ref = None;
                            a.round += 1;
                            a.lease_epoch = epoch;
                            a.lease_until = lease_until;
                            return self.charge(a, &input.card).await;
                        }
                        Lease::Refused => {}
                        Lease::PaymentBusy => self.clear_blocker(input).await?,
                    }
                }
                _ => return Ok(self.show(a).await),
            }
            a = self
                .store
                .attempt(&a.id)
                .await?
                .ok_or(PaymentError::NotFound)?;
        }
        Err(PaymentError::InProgress)
    }
}
