//! The payment flow: verify with the portal, charge once, record durably, hand the portal call to
//! the outbox — and settle every attempt that a crash, a timeout or a vanished customer left
//! behind. Exactly-once rests on the store (an idempotency key is one attempt; a portal payment
//! has at most one live attempt; every lease is fenced) and on the acquirer's rules
//! (`acquirer/mod.rs`), never on process memory, so it holds across crashes and instances.
//!
//! # The attempt's life
//!
//! ```text
//!                    new request ──insert (lease, epoch 1)──┐
//!                                                           ▼
//!   same request again ─retry_failed (round+1)─▶ ┌──────────────────────┐
//!   customer's answer ──begin_action───────────▶ │      processing      │ leased: only the holder
//!                                                │ open → reference     │ of the current epoch
//!                                                │ recorded → confirm   │ may write
//!                                                └──────────┬───────────┘
//!        approved │    declined │    failed │   action │   timeout, error, pending,
//!                 ▼             ▼           ▼          ▼   or its lease ran out
//!           succeeded       declined     failed   requires_action     unknown
//!          (+ outbox row)                  │       │ hold over,        │
//!                                          │       │ replaced, or      │ the reconciler asks
//!                                          │       │ too many answers  │ the acquirer (status,
//!                                          │       ▼ → cancel          │ cancel when stuck)
//!                                          │   declined / succeeded    ▼
//!                                          │                 succeeded | declined | failed
//!                                          └─ (does not block)         (or stays unknown:
//!                                                                       review after a while)
//! ```
//!
//! - **Who moves it**: the request that created it (`charge.rs`), a retry of the same request
//!   (`replay.rs`), the customer's answer to an action (`action.rs`), and the reconciler
//!   (`reconcile.rs`) for everything left in `processing` past its lease, in `unknown`, or in
//!   `requires_action` past its hold. All of them settle through `settle.rs`.
//! - **What blocks**: `processing`, `requires_action`, `unknown` and `succeeded` keep any other
//!   attempt of the same payment out (the store's unique index). `unknown` keeps blocking until
//!   the acquirer gives a final answer: "not found at the acquirer" is not "not charged".
//! - **Nothing moves money without a trace**: the acquirer's reference is recorded before it is
//!   asked to move money, so an attempt without one provably charged nothing; every state change
//!   is kept in the attempt's history (`b24pay attempts show`).
//! - **Abuse** (`guard.rs`): per-client and per-payment limits and a short cache of refusals in
//!   front of every portal call, a cool-off after repeated declines, a cap on answers per
//!   action.

mod action;
mod charge;
pub mod error;
mod events;
mod guard;
pub mod reconcile;
pub mod refund;
mod replay;
mod settle;
mod verify;

pub use error::PaymentError;
pub use events::EventOutcome;
pub use guard::GuardSettings;
pub use refund::{RefundCommand, RefundError, RefundReport, Refunds};
pub use settle::EventHint;

use crate::acquirer::{Acquirer, AcquirerKind, Card, ChargeMetadata};
use crate::metrics::SharedMetrics;
use crate::portal::{PortalKey, SharedPortals};
use crate::store::{Attempt, AttemptState, SharedStore};
use action::Answer;
use b24pay_protocol::api::PaymentView;
use b24pay_protocol::ids::{AttemptId, InvoiceId, PaySystemId, PaymentId};
use b24pay_protocol::Money;
use guard::Guard;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Named points where the process can be made to die (`B24PAY_CRASH_POINT`), so tests can prove
/// that a crash there loses nothing and repeats nothing. Only builds with the `crash-points`
/// feature (the tests') read the variable; a production build never dies on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// The acquirer's reference is recorded; the acquirer has not been asked to move money.
    AfterOpen,
    /// The acquirer approved; nothing recorded yet.
    AfterCharge,
    /// The charge and its outbox row are committed; the portal has not been called.
    AfterRecord,
    /// The portal accepted the call; the outbox row is not marked done yet.
    AfterPortalCall,
}

impl CrashPoint {
    #[cfg(not(feature = "crash-points"))]
    pub fn from_env() -> Option<CrashPoint> {
        None
    }

    #[cfg(feature = "crash-points")]
    pub fn from_env() -> Option<CrashPoint> {
        match std::env::var("B24PAY_CRASH_POINT").ok()?.as_str() {
            "after_open" => Some(CrashPoint::AfterOpen),
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
    /// How long a charge in flight owns its attempt; every acquirer call of the holder ends
    /// within half of it.
    pub lease: Duration,
    /// How long a duplicate request waits for the original to finish.
    pub wait_for_original: Duration,
    /// How long an unanswered action (a challenge) blocks attempts from other pages.
    pub action_hold: Duration,
    /// Answers the customer may give to the actions of one attempt.
    pub max_action_rounds: u32,
    /// Declined attempts of one payment within `decline_window` before it cools off.
    pub max_declines: u32,
    pub decline_window: Duration,
    /// How long a charge the acquirer still calls pending is waited for before it is cancelled.
    pub cancel_after: Duration,
    /// How long an attempt may stay `unknown` before it is listed for manual review.
    pub review_after: Duration,
    /// TEST pay systems are paid through the test acquirer only when this is on.
    pub allow_test_mode: bool,
    pub guard: GuardSettings,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            lease: Duration::from_secs(30),
            wait_for_original: Duration::from_secs(10),
            action_hold: Duration::from_secs(5 * 60),
            max_action_rounds: 5,
            max_declines: 5,
            decline_window: Duration::from_secs(30 * 60),
            cancel_after: Duration::from_secs(120),
            review_after: Duration::from_secs(60 * 60),
            allow_test_mode: false,
            guard: GuardSettings::default(),
        }
    }
}

/// A confirm request that passed every check the server can make on its own.
#[derive(Debug)]
pub struct ConfirmInput {
    pub payment_id: PaymentId,
    pub paysystem_id: PaySystemId,
    pub amount: Money,
    pub card: Card,
    /// Legacy CRM invoices only.
    pub invoice_id: Option<InvoiceId>,
    /// The widget's page session (see `ConfirmRequest::session`).
    pub session: Option<String>,
    /// Which portal the payment is on: the one whose widget URL the request came through.
    pub portal: PortalKey,
}

/// The acquirers by kind.
#[derive(Clone)]
pub struct Acquirers {
    pub test: Arc<dyn Acquirer>,
    /// The LIVE mode acquirer, when one is configured.
    pub live: Option<Arc<dyn Acquirer>>,
}

impl Acquirers {
    /// The acquirer that charges payments of `kind`: the test acquirer, or the live one when
    /// it is of that kind.
    pub fn of(&self, kind: AcquirerKind) -> Option<&Arc<dyn Acquirer>> {
        match kind {
            AcquirerKind::Test => Some(&self.test),
            _ => self.live.as_ref().filter(|a| a.kind() == kind),
        }
    }
}

pub struct Payments {
    store: SharedStore,
    portals: SharedPortals,
    acquirers: Acquirers,
    /// Who the portal is, for the acquirer's metadata.
    portal_name: String,
    fingerprint_key: Vec<u8>,
    metrics: SharedMetrics,
    outbox_wake: Arc<Notify>,
    guard: Guard,
    config: PaymentsConfig,
    crash_point: Option<CrashPoint>,
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

impl Payments {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: SharedStore,
        portals: SharedPortals,
        acquirers: Acquirers,
        portal_name: String,
        fingerprint_key: Vec<u8>,
        metrics: SharedMetrics,
        outbox_wake: Arc<Notify>,
        config: PaymentsConfig,
    ) -> Payments {
        Payments {
            store,
            portals,
            acquirers,
            portal_name,
            fingerprint_key,
            metrics,
            outbox_wake,
            guard: Guard::new(&config.guard),
            config,
            crash_point: CrashPoint::from_env(),
        }
    }

    pub fn config(&self) -> &PaymentsConfig {
        &self.config
    }

    /// Refunds through the same acquirers and store.
    pub fn refunds(&self, timeout: Duration) -> Refunds {
        Refunds::new(self.store.clone(), self.acquirers.clone(), timeout)
    }

    /// A keyed hash (a subkey of the master key, never in the database), so a replay can be
    /// told from a different request under the same key without storing the request.
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

    fn acquirer(&self, kind: AcquirerKind) -> Result<&Arc<dyn Acquirer>, PaymentError> {
        self.acquirers
            .of(kind)
            .ok_or(PaymentError::LiveModeUnavailable)
    }

    fn metadata<'a>(&'a self, a: &'a Attempt) -> ChargeMetadata<'a> {
        ChargeMetadata {
            portal: if a.portal.is_configured() {
                &self.portal_name
            } else {
                a.portal.as_str()
            },
            paysystem_id: a.paysystem_id,
            payment_id: a.payment_id,
            attempt_id: &a.id,
        }
    }

    fn count(&self, result: &Result<PaymentView, PaymentError>) {
        let outcome = match result {
            Ok(view) => view.state.as_str(),
            Err(e) => e.code().as_str(),
        };
        self.metrics.payment(outcome);
    }

    /// `POST /payments`.
    pub async fn confirm(
        &self,
        key: &str,
        input: &ConfirmInput,
        client: IpAddr,
    ) -> Result<PaymentView, PaymentError> {
        let result = self.confirm_inner(key, input, client).await;
        self.count(&result);
        result
    }

    /// `POST /payments/{id}/challenge`.
    pub async fn answer(
        &self,
        portal: &PortalKey,
        id: &AttemptId,
        key: &str,
        code: &str,
    ) -> Result<PaymentView, PaymentError> {
        let result = self.answer_inner(portal, id, key, Answer::Code(code)).await;
        self.count(&result);
        result
    }

    /// `POST /payments/{id}/resume`: the customer finished the acquirer's own step (Stripe.js).
    pub async fn resume(
        &self,
        portal: &PortalKey,
        id: &AttemptId,
        key: &str,
    ) -> Result<PaymentView, PaymentError> {
        let result = self.answer_inner(portal, id, key, Answer::Completed).await;
        self.count(&result);
        result
    }

    /// `GET /payments/{id}`.
    pub async fn status(
        &self,
        portal: &PortalKey,
        id: &AttemptId,
    ) -> Result<PaymentView, PaymentError> {
        let a = self.attempt_of(portal, id).await?;
        Ok(self.show(a).await)
    }

    /// The attempt, when it belongs to `portal`: another portal's attempt does not exist here.
    async fn attempt_of(
        &self,
        portal: &PortalKey,
        id: &AttemptId,
    ) -> Result<Attempt, PaymentError> {
        self.store
            .attempt(id)
            .await?
            .filter(|a| &a.portal == portal)
            .ok_or(PaymentError::NotFound)
    }

    /// The attempt as the customer sees it. A stored action lacks its secrets (the store keeps
    /// none): a `requires_action` attempt gets its action from the acquirer again.
    pub(super) async fn show(&self, mut a: Attempt) -> PaymentView {
        let stale = a.state == AttemptState::RequiresAction
            && a.action.as_ref().is_some_and(|x| !x.is_complete());
        if let (true, Some(reference)) = (stale, a.acquirer_ref.clone()) {
            let fresh = match self.acquirer(a.acquirer) {
                Ok(acquirer) => {
                    tokio::time::timeout(self.config.lease / 2, acquirer.action(&reference)).await
                }
                Err(_) => Ok(Ok(None)),
            };
            match fresh {
                Ok(Ok(action)) => a.action = action,
                Ok(Err(e)) => {
                    tracing::warn!(attempt = %a.id, error = %e, "could not read the action back from the acquirer")
                }
                Err(_) => {
                    tracing::warn!(attempt = %a.id, "the acquirer did not give the action back in time")
                }
            }
        }
        a.view()
    }

    /// Forgets what the limits remember about clients that went quiet (called periodically).
    pub fn forget_idle_clients(&self) {
        self.guard.forget_idle();
    }
}
