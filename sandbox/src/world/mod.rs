//! The portal's data: person types, users, orders and legacy invoices with their payments,
//! REST handlers and pay systems. One value, guarded by one lock, written to the data file
//! after every change.

mod model;
mod new_payment;
pub(crate) mod resolve;
mod seed;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) use model::{
    CodeSpec, FieldCode, FieldSpec, Handler, HandlerMode, HandlerSettings, Item, Mapping, ModeData,
    Order, PaySystem, Payment, PersonType, User,
};
pub use model::{PsFields, Registry};
pub use new_payment::{CreatedPayment, NewPayment};

use crate::portal_format;

/// The whole state of the sandbox portal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct World {
    pub person_types: Vec<PersonType>,
    pub users: Vec<User>,
    pub handlers: BTreeMap<u64, Handler>,
    pub pay_systems: BTreeMap<u64, PaySystem>,
    /// Orders and legacy invoices (one id sequence).
    pub orders: BTreeMap<u64, Order>,
    pub payments: BTreeMap<u64, Payment>,
    pub next: NextIds,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NextIds {
    pub handler: u64,
    pub pay_system: u64,
    pub order: u64,
    pub payment: u64,
    pub file: u64,
}

/// A payment as the sandbox sees it: what tests assert on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSnapshot {
    pub id: u64,
    pub registry: Registry,
    /// The order id, or the invoice id for `CRM_INVOICE`.
    pub order_id: u64,
    pub account_number: String,
    /// Canonical decimal text for the currency (`"1250.50"`).
    pub sum: String,
    pub currency: String,
    pub paid: bool,
    /// RFC 3339, when the payment was marked paid.
    pub date_paid: Option<String>,
    pub pay_system_id: Option<u64>,
    pub person_type_id: u64,
    /// The `PS_*` fields stored by `pay.payment`/`pay.invoice`.
    pub ps: PsFields,
    /// Accepted `sale.paysystem.pay.payment`/`pay.invoice` calls for this payment that were
    /// saved.
    pub pay_calls: u64,
    /// Refused `sale.paysystem.pay.payment` calls that named this payment.
    pub rejected_pay_calls: u64,
    /// `pay.payment`/`pay.invoice` calls answered `true` although nothing was saved
    /// ([`Fault::TrueWithoutSaving`](crate::Fault::TrueWithoutSaving)).
    #[serde(default)]
    pub unsaved_pay_calls: u64,
}

/// Why a control operation on the world was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorldError {
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("invalid amount {0:?} for the currency")]
    InvalidAmount(String),
    #[error("pay system {0} not found")]
    UnknownPaySystem(u64),
    #[error("person type {0} not found in registry {1}")]
    UnknownPersonType(u64, Registry),
    #[error("user {0} not found")]
    UnknownUser(u64),
    #[error("payment {0} not found")]
    UnknownPayment(u64),
    #[error("pay system {pay_system_id} belongs to {pay_system_registry}, not {registry}")]
    RegistryMismatch {
        pay_system_id: u64,
        pay_system_registry: Registry,
        registry: Registry,
    },
    #[error("payment {0} is already paid")]
    AlreadyPaid(u64),
}

impl WorldError {
    /// A stable machine-readable code for the control API.
    pub fn code(&self) -> &'static str {
        match self {
            WorldError::UnknownCurrency(_) => "UNKNOWN_CURRENCY",
            WorldError::InvalidAmount(_) => "INVALID_AMOUNT",
            WorldError::UnknownPaySystem(_) => "UNKNOWN_PAY_SYSTEM",
            WorldError::UnknownPersonType(..) => "UNKNOWN_PERSON_TYPE",
            WorldError::UnknownUser(_) => "UNKNOWN_USER",
            WorldError::UnknownPayment(_) => "UNKNOWN_PAYMENT",
            WorldError::RegistryMismatch { .. } => "REGISTRY_MISMATCH",
            WorldError::AlreadyPaid(_) => "ALREADY_PAID",
        }
    }

    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, WorldError::UnknownPayment(_))
    }
}

impl World {
    /// The world a fresh sandbox starts with (see the crate documentation).
    pub(crate) fn initial() -> World {
        seed::initial_world()
    }

    pub(crate) fn person_type(&self, id: u64) -> Option<&PersonType> {
        self.person_types.iter().find(|p| p.id == id)
    }

    pub(crate) fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Handler codes compare case-insensitively, like the portal's database lookups.
    pub(crate) fn handler_by_code(&self, code: &str) -> Option<&Handler> {
        self.handlers
            .values()
            .find(|h| h.code.eq_ignore_ascii_case(code))
    }

    pub(crate) fn handler_of(&self, pay_system: &PaySystem) -> Option<&Handler> {
        self.handler_by_code(&pay_system.action_file)
    }

    pub(crate) fn order_of(&self, payment: &Payment) -> &Order {
        self.orders
            .get(&payment.order_id)
            .expect("every payment belongs to an order")
    }

    pub(crate) fn registry_of(&self, payment: &Payment) -> Registry {
        self.order_of(payment).registry
    }

    /// The (only) payment of a legacy invoice.
    pub(crate) fn invoice_payment(&self, invoice_id: u64) -> Option<&Payment> {
        let invoice = self.orders.get(&invoice_id)?;
        if invoice.registry != Registry::CrmInvoice {
            return None;
        }
        self.payments.values().find(|p| p.order_id == invoice_id)
    }

    pub(crate) fn snapshot(&self, payment: &Payment) -> PaymentSnapshot {
        let order = self.order_of(payment);
        PaymentSnapshot {
            id: payment.id,
            registry: order.registry,
            order_id: order.id,
            account_number: payment.account_number.clone(),
            sum: payment.sum.clone(),
            currency: payment.currency.clone(),
            paid: payment.paid,
            date_paid: payment.date_paid.map(portal_format::rfc3339),
            pay_system_id: payment.pay_system_id,
            person_type_id: order.person_type_id,
            ps: payment.ps.clone(),
            pay_calls: payment.pay_calls,
            rejected_pay_calls: payment.rejected_pay_calls,
            unsaved_pay_calls: payment.unsaved_pay_calls,
        }
    }

    /// A payment's snapshot, if it exists.
    pub(crate) fn payment_snapshot(&self, payment_id: u64) -> Option<PaymentSnapshot> {
        self.payments.get(&payment_id).map(|p| self.snapshot(p))
    }

    /// Every payment's snapshot, by id.
    pub(crate) fn snapshots(&self) -> Vec<PaymentSnapshot> {
        self.payments.values().map(|p| self.snapshot(p)).collect()
    }

    /// Sets (or clears) the payment's `PS_INVOICE_ID` without paying it, as an earlier
    /// checkout attempt at the payment service leaves it.
    pub(crate) fn set_external_payment_id(
        &mut self,
        payment_id: u64,
        external_id: Option<String>,
    ) -> Result<(), WorldError> {
        let payment = self
            .payments
            .get_mut(&payment_id)
            .ok_or(WorldError::UnknownPayment(payment_id))?;
        payment.ps.invoice_id = external_id;
        Ok(())
    }

    /// The customer picks a pay system for a payment at checkout.
    pub(crate) fn set_payment_pay_system(
        &mut self,
        payment_id: u64,
        pay_system_id: u64,
    ) -> Result<(), WorldError> {
        let ps_registry = self
            .pay_systems
            .get(&pay_system_id)
            .ok_or(WorldError::UnknownPaySystem(pay_system_id))?
            .registry;
        let payment = self
            .payments
            .get(&payment_id)
            .ok_or(WorldError::UnknownPayment(payment_id))?;
        let registry = self.registry_of(payment);
        if registry != ps_registry {
            return Err(WorldError::RegistryMismatch {
                pay_system_id,
                pay_system_registry: ps_registry,
                registry,
            });
        }
        if payment.paid {
            return Err(WorldError::AlreadyPaid(payment_id));
        }
        self.payments
            .get_mut(&payment_id)
            .expect("checked above")
            .pay_system_id = Some(pay_system_id);
        Ok(())
    }
}
