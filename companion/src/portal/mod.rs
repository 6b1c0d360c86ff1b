//! The Bitrix24 portal as the payment flow needs it: the truth about a payment before charging,
//! which registry a pay system belongs to, and the call that marks a payment paid. The trait
//! keeps the flow testable; [`Bitrix24Portal`] is the real thing over `bitrix24-client`.

mod batched;
mod bitrix24;
pub mod budget;
mod coalesce;
pub mod directory;
mod facts;
pub mod installed;
mod key;
pub mod tokens;

pub use batched::CONFIRMS_PER_BATCH;
pub use bitrix24::Bitrix24Portal;
pub use coalesce::{hold_left, HOLD_UNDER_PRESSURE};
pub use directory::{AppClients, Portals, SharedPortals, Unconfigured};
pub use facts::facts_from_settings;
pub use key::{PortalKey, PublicId};

use crate::store::Registry;
use async_trait::async_trait;
use b24pay_protocol::ids::{InvoiceId, PaySystemId, PaymentId};
use b24pay_protocol::Money;
use serde::{Deserialize, Serialize};

/// Settings CODES the `register` command sets up and `settings.payment.get` resolves.
pub mod codes {
    pub const SHOP_ID: &str = "B24PAY_SHOP_ID";
    pub const SECRET_KEY: &str = "B24PAY_SECRET_KEY";
    pub const MODE: &str = "B24PAY_MODE";
    pub const LANGUAGE: &str = "B24PAY_LANGUAGE";
    /// `Y`: the widget asks for the name on the card.
    pub const ASK_HOLDER: &str = "B24PAY_ASK_HOLDER";
    pub const PAYMENT_SUM: &str = "B24PAY_PAYMENT_SUM";
    pub const PAYMENT_CURRENCY: &str = "B24PAY_PAYMENT_CURRENCY";
    pub const PAYMENT_PAID: &str = "B24PAY_PAYMENT_PAID";
    pub const PAYMENT_NUMBER: &str = "B24PAY_PAYMENT_NUMBER";
    pub const ORDER_ID: &str = "B24PAY_ORDER_ID";
    /// `PAYMENT.ID`: cross-checks a legacy invoice's payment, read by invoice id.
    pub const PAYMENT_ID: &str = "B24PAY_PAYMENT_ID";
}

/// The handler CODE `register` creates; a pay system bound to another handler is not ours.
pub const HANDLER_CODE: &str = "b24pay";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Test,
    Live,
}

/// What the portal says about one payment, read just before charging.
#[derive(Clone)]
pub struct PaymentFacts {
    pub amount: Money,
    pub paid: bool,
    pub mode: Mode,
    pub shop_id: Option<String>,
    /// For a live acquirer; never logged.
    pub secret_key: Option<String>,
    /// `ORDER.ID`; for legacy invoices the invoice id `pay.invoice` needs.
    pub order_id: Option<InvoiceId>,
    /// `PAYMENT.ID`, when the pay system maps it.
    pub payment_id: Option<PaymentId>,
}

/// Which payment to read: legacy invoices are read by invoice id.
#[derive(Clone, Copy, Debug)]
pub struct PaymentRef {
    pub paysystem_id: PaySystemId,
    pub payment_id: PaymentId,
    pub registry: Registry,
    pub invoice_id: Option<InvoiceId>,
}

impl std::fmt::Debug for PaymentFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentFacts")
            .field("amount", &self.amount)
            .field("paid", &self.paid)
            .field("mode", &self.mode)
            .field("shop_id", &self.shop_id)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("order_id", &self.order_id)
            .field("payment_id", &self.payment_id)
            .finish()
    }
}

/// A pay system as far as the flow cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaySystem {
    pub registry: Registry,
    /// Bound to our handler (`BX_REST_HANDLER` = [`HANDLER_CODE`]) and active.
    pub ours: bool,
}

/// The portal call the outbox owes for one charge (stored as the outbox row's JSON payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkPaid {
    pub registry: Registry,
    pub payment_id: PaymentId,
    pub paysystem_id: PaySystemId,
    /// `pay.invoice`'s INVOICE_ID for legacy invoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<InvoiceId>,
    /// The acquirer's transaction id.
    pub ps_invoice_id: String,
    pub ps_sum: String,
    pub ps_currency: String,
    /// Masked ("•••• 4242").
    pub ps_card_number: String,
    pub ps_status_code: String,
    pub ps_status_message: String,
    /// Says plainly when no money was taken (TEST mode). Rows written before it existed have
    /// none.
    #[serde(default)]
    pub ps_status_description: String,
    /// Which portal to call ([`PortalKey`]; absent: the configured one).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub portal: String,
}

impl MarkPaid {
    pub fn portal_key(&self) -> PortalKey {
        PortalKey::from_stored(self.portal.clone())
    }

    /// Which payment to re-read to see whether the call took effect.
    pub fn payment(&self) -> PaymentRef {
        PaymentRef {
            paysystem_id: self.paysystem_id,
            payment_id: self.payment_id,
            registry: self.registry,
            invoice_id: self.invoice_id,
        }
    }
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum PortalError {
    /// The payment, or the pay system, does not exist (or they do not belong together).
    #[error("not found on the portal: {0}")]
    NotFound(String),
    /// The pay system exists but its settings do not give what the flow needs.
    #[error("pay system not configured: {0}")]
    NotConfigured(String),
    /// Rate limited; provably not executed. `retry_at` is Unix milliseconds when known.
    #[error("rate limited by the portal ({code})")]
    RateLimited { code: String, retry_at: Option<i64> },
    /// Could not be reached, or refused for a reason that may heal; provably not executed.
    #[error("portal unavailable: {code}: {message}")]
    Unavailable { code: String, message: String },
    /// The call may or may not have taken effect (timeout, dropped connection, 5xx).
    #[error("portal call outcome unknown: {code}: {message}")]
    Ambiguous { code: String, message: String },
    /// The portal refused the call for good (bad credentials, scope, a method error).
    #[error("portal refused: {code}: {message}")]
    Refused { code: String, message: String },
}

impl PortalError {
    /// A stable code for metrics labels.
    pub fn code(&self) -> &str {
        match self {
            PortalError::NotFound(_) => "NOT_FOUND",
            PortalError::NotConfigured(_) => "NOT_CONFIGURED",
            PortalError::RateLimited { code, .. }
            | PortalError::Unavailable { code, .. }
            | PortalError::Ambiguous { code, .. }
            | PortalError::Refused { code, .. } => code,
        }
    }

    /// True when the portal provably did not act on the call.
    pub fn not_executed(&self) -> bool {
        !matches!(self, PortalError::Ambiguous { .. })
    }

    /// True when trying again will not help: the payment or pay system is gone, access is
    /// denied, the settings are wrong. (Rate limits and outages heal; these need a person.)
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            PortalError::NotFound(_) | PortalError::NotConfigured(_) | PortalError::Refused { .. }
        )
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, PortalError::Ambiguous { code, .. } if code == "TIMEOUT")
    }
}

#[async_trait]
pub trait Portal: Send + Sync + 'static {
    /// `sale.paysystem.settings.payment.get` (`.invoice.get` for legacy invoices) resolved into
    /// typed facts.
    async fn payment_facts(&self, payment: &PaymentRef) -> Result<PaymentFacts, PortalError>;
    /// The pay system's registry and whether it is bound to our handler (cached).
    async fn pay_system(&self, paysystem_id: PaySystemId) -> Result<PaySystem, PortalError>;
    /// `sale.paysystem.pay.payment` or `sale.paysystem.pay.invoice`.
    async fn mark_paid(&self, call: &MarkPaid) -> Result<(), PortalError>;
    /// Re-reads PAID, after an ambiguous failure, before calling again.
    async fn is_paid(&self, call: &MarkPaid) -> Result<bool, PortalError> {
        Ok(self.payment_facts(&call.payment()).await?.paid)
    }
    /// For `/readyz`: the portal answers authenticated calls.
    async fn ping(&self) -> Result<(), PortalError>;
    /// [`Portal::mark_paid`] then [`Portal::is_paid`] for each call, every call's outcome on its
    /// own (one refusal holds back no other); the real portal sends them in batches.
    async fn confirm_many(&self, calls: &[MarkPaid]) -> Vec<Confirmation> {
        futures_util::future::join_all(calls.iter().map(|call| async move {
            match self.mark_paid(call).await {
                Err(e) => Confirmation::Failed(e),
                Ok(()) => Confirmation::Accepted(self.is_paid(call).await),
            }
        }))
        .await
    }
    /// [`Portal::is_paid`] for each call, each answer on its own.
    async fn paid_many(&self, calls: &[MarkPaid]) -> Vec<Result<bool, PortalError>> {
        futures_util::future::join_all(calls.iter().map(|call| self.is_paid(call))).await
    }
    /// How long the portal's request budget is short now: the outbox's next batch would wait
    /// for a slot, or only its reserve is left (a customer would wait). Zero when slots are to
    /// spare, or when its calls are not batched (more rows would not make them cheaper).
    async fn outbox_wait(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    /// Whether the portal's request budget is under sustained pressure, so that the outbox's
    /// batches are better sent full than at once. False when its calls are not batched.
    async fn outbox_pressure(&self) -> bool {
        false
    }
    /// The outbox's batch is ready (full, or held long enough): how long until its slot, noted
    /// as waiting so that customers take turns with it.
    async fn outbox_ready_wait(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// What became of one `pay.payment` / `pay.invoice` call and the PAID re-read after it.
#[derive(Clone, Debug)]
pub enum Confirmation {
    /// The call failed with this error (which says whether the portal may have acted).
    Failed(PortalError),
    /// The portal accepted the call; the re-read says whether it saved the payment as paid.
    Accepted(Result<bool, PortalError>),
}
