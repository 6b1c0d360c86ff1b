//! The customer's answer to an action: the inline challenge code (`POST …/challenge`), or "I
//! finished the acquirer's own step" (`POST …/resume`, after Stripe.js). At most
//! `max_action_rounds` answers per attempt, none after the action's hold, each answer once (its
//! idempotency key), and only the kind of answer the action asks for.

use super::settle::{pause, Why};
use super::{ms, PaymentError, Payments};
use crate::acquirer::{AcquirerError, ActionResult, ResumeRequest};
use crate::portal::PortalKey;
use crate::store::{now_ms, Attempt, AttemptState, Lease};
use b24pay_protocol::api::PaymentView;
use b24pay_protocol::ids::AttemptId;

/// What the customer answered.
#[derive(Clone, Copy, Debug)]
pub(super) enum Answer<'a> {
    /// The code typed into the inline challenge.
    Code(&'a str),
    /// The acquirer's own step is over (Stripe.js); the acquirer says how it went.
    Completed,
}

impl Answer<'_> {
    fn fits(&self, a: &Attempt) -> bool {
        let takes_code = a.action.as_ref().is_none_or(|x| x.takes_code());
        matches!(self, Answer::Code(_)) == takes_code
    }

    fn result(&self) -> ActionResult<'_> {
        match self {
            Answer::Code(code) => ActionResult::Code(code),
            Answer::Completed => ActionResult::Completed,
        }
    }
}

impl Payments {
    pub(super) async fn answer_inner(
        &self,
        portal: &PortalKey,
        id: &AttemptId,
        key: &str,
        answer: Answer<'_>,
    ) -> Result<PaymentView, PaymentError> {
        let fingerprint = match answer {
            Answer::Code(code) => {
                self.fingerprint(&[b"challenge", id.as_str().as_bytes(), code.as_bytes()])
            }
            Answer::Completed => self.fingerprint(&[b"resume", id.as_str().as_bytes()]),
        };
        let mut a = self.attempt_of(portal, id).await?;
        let deadline = now_ms() + ms(self.config.wait_for_original);
        for n in 0..1000 {
            let step = if a.challenge_key.as_deref() == Some(key) {
                if a.challenge_fingerprint.as_deref() != Some(fingerprint.as_str()) {
                    return Err(PaymentError::KeyReused);
                }
                self.same_answer(&a, deadline, n).await?
            } else {
                self.new_answer(&a, key, &fingerprint, answer).await?
            };
            match step {
                Step::Done(view) => return Ok(view),
                Step::Again(Some(next)) => a = *next,
                Step::Again(None) => a = self.attempt_of(portal, id).await?,
            }
        }
        Err(PaymentError::InProgress)
    }

    /// This very answer again: its result, once there is one.
    async fn same_answer(&self, a: &Attempt, deadline: i64, n: u32) -> Result<Step, PaymentError> {
        let now = now_ms();
        match a.state {
            AttemptState::Processing if a.lease_until >= now => {
                if now > deadline {
                    return Err(PaymentError::InProgress);
                }
                tokio::time::sleep(pause(n)).await;
                Ok(Step::Again(None))
            }
            AttemptState::Processing | AttemptState::Unknown => {
                let why = match a.state {
                    AttemptState::Processing => Why::Expired,
                    _ => Why::Unknown,
                };
                match self.try_resolve(a, why).await? {
                    Some(r) if r.state == AttemptState::Unknown => Ok(Step::Done(r.view())),
                    Some(r) => Ok(Step::Again(Some(Box::new(r)))),
                    None if a.state == AttemptState::Unknown => Ok(Step::Done(a.view())),
                    None => Ok(Step::Again(None)),
                }
            }
            _ => Ok(Step::Done(self.show(a.clone()).await)),
        }
    }

    /// A new answer for an attempt waiting for one.
    async fn new_answer(
        &self,
        a: &Attempt,
        key: &str,
        fingerprint: &str,
        answer: Answer<'_>,
    ) -> Result<Step, PaymentError> {
        let now = now_ms();
        match a.state {
            AttemptState::RequiresAction if !answer.fits(a) => Err(PaymentError::InvalidState),
            AttemptState::RequiresAction if a.updated_at + ms(self.config.action_hold) < now => {
                // Too late: the hold is over and the charge is cancelled, whatever the code.
                self.try_resolve(a, Why::Abandoned).await?;
                Err(PaymentError::InvalidState)
            }
            AttemptState::RequiresAction if a.action_rounds >= self.config.max_action_rounds => {
                match self.try_resolve(a, Why::Abandoned).await? {
                    Some(r) => Ok(Step::Done(r.view())),
                    None => Ok(Step::Again(None)),
                }
            }
            AttemptState::RequiresAction => {
                let lease_until = now + ms(self.config.lease);
                match self
                    .store
                    .begin_action(&a.id, key, fingerprint, lease_until, now)
                    .await?
                {
                    Lease::Granted { epoch } => {
                        let mut a = a.clone();
                        a.state = AttemptState::Processing;
                        a.lease_epoch = epoch;
                        a.lease_until = lease_until;
                        a.action_rounds += 1;
                        a.challenge_key = Some(key.to_string());
                        a.challenge_fingerprint = Some(fingerprint.to_string());
                        self.hand_over(a, answer).await.map(Step::Done)
                    }
                    Lease::Refused | Lease::PaymentBusy => {
                        // Someone holds it for a moment (the reconciler, an event): look again.
                        tokio::time::sleep(pause(3)).await;
                        Ok(Step::Again(None))
                    }
                }
            }
            AttemptState::Processing | AttemptState::Unknown => Err(PaymentError::InProgress),
            // "The Stripe.js step is over" carries nothing to refuse: it hears how the attempt
            // ended (an event from the acquirer may have settled it first).
            AttemptState::Succeeded | AttemptState::Declined | AttemptState::Failed
                if matches!(answer, Answer::Completed) =>
            {
                Ok(Step::Done(a.view()))
            }
            _ => Err(PaymentError::InvalidState),
        }
    }

    /// Hands the answer to the acquirer and settles what it says.
    async fn hand_over(&self, a: Attempt, answer: Answer<'_>) -> Result<PaymentView, PaymentError> {
        let acquirer = self.acquirer(a.acquirer)?.clone();
        let Some(reference) = a.acquirer_ref.clone() else {
            return Err(PaymentError::InvalidState);
        };
        let request = ResumeRequest {
            reference: &reference,
            result: answer.result(),
            amount: a.amount,
            last4: &a.last4,
            metadata: self.metadata(&a),
            round: a.action_rounds,
        };
        let reply = tokio::time::timeout(self.config.lease / 2, acquirer.resume(&request)).await;
        let (settlement, note) = match reply {
            // After the customer's step the charge is still open at the acquirer: a refusal to
            // go on is not "nothing charged". Unknown: the reconciler asks, and cancels.
            Ok(Err(AcquirerError::Refused(why))) => (
                self.unknown_now(&a),
                format!("the acquirer refused to continue after the customer's action: {why}"),
            ),
            reply => self.settlement_of(&a, reply),
        };
        let settled = self.commit(a, settlement, &note).await?;
        self.answer_after_charge(settled).await
    }
}

enum Step {
    Done(PaymentView),
    /// Look again: at this attempt, or (`None`) as the store has it now.
    Again(Option<Box<Attempt>>),
}
