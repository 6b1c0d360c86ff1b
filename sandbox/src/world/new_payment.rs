//! Creating payments from the control API, the admin form and the Rust handle.

use b24pay_protocol::currency::Currency;
use b24pay_protocol::money::Money;
use serde::{Deserialize, Serialize};

use super::{seed, Item, Order, Payment, Registry, World, WorldError};

/// A payment to create in the sandbox world (the Rust side of `POST /sandbox/api/payments`).
///
/// ```
/// use b24pay_sandbox::NewPayment;
/// let payment = NewPayment::order("1250.50", "EUR").with_pay_system(3);
/// # let _ = payment;
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPayment {
    /// Decimal amount in major units (`"1250.50"`); at most the currency's minor digits.
    pub sum: String,
    /// ISO 4217 code.
    pub currency: String,
    /// `ORDER` (default) creates an order with one payment; `CRM_INVOICE` a legacy invoice.
    #[serde(default = "default_registry")]
    pub registry: Registry,
    /// Bind the payment to this pay system (it must belong to the same registry).
    #[serde(default, alias = "paysystem_id")]
    pub pay_system_id: Option<u64>,
    /// The order's person type. Default: the pay system's person type, else 1 (`ORDER`) or
    /// 3 (`CRM_INVOICE`).
    #[serde(default)]
    pub person_type_id: Option<u64>,
    /// The customer (a portal user id). Default: 2.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// What is being bought, shown on the payment page. Default: "Order #N".
    #[serde(default)]
    pub topic: Option<String>,
}

fn default_registry() -> Registry {
    Registry::Order
}

impl NewPayment {
    /// A store order of `sum` in `currency` with one payment.
    pub fn order(sum: impl Into<String>, currency: impl Into<String>) -> NewPayment {
        NewPayment {
            sum: sum.into(),
            currency: currency.into(),
            registry: Registry::Order,
            pay_system_id: None,
            person_type_id: None,
            user_id: None,
            topic: None,
        }
    }

    /// A legacy CRM invoice of `sum` in `currency` (it has exactly one payment).
    pub fn invoice(sum: impl Into<String>, currency: impl Into<String>) -> NewPayment {
        NewPayment {
            registry: Registry::CrmInvoice,
            ..NewPayment::order(sum, currency)
        }
    }

    pub fn with_pay_system(mut self, pay_system_id: u64) -> NewPayment {
        self.pay_system_id = Some(pay_system_id);
        self
    }

    pub fn with_person_type(mut self, person_type_id: u64) -> NewPayment {
        self.person_type_id = Some(person_type_id);
        self
    }

    pub fn with_user(mut self, user_id: u64) -> NewPayment {
        self.user_id = Some(user_id);
        self
    }

    pub fn with_topic(mut self, topic: impl Into<String>) -> NewPayment {
        self.topic = Some(topic.into());
        self
    }
}

/// What [`NewPayment`] created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPayment {
    pub payment_id: u64,
    /// The order id, or the invoice id for `CRM_INVOICE`.
    pub order_id: u64,
    pub registry: Registry,
    pub account_number: String,
    /// The seller's payment page for this payment.
    pub pay_url: String,
}

/// A [`NewPayment`] checked against the world.
struct Checked {
    /// Canonical decimal text.
    sum: String,
    currency: String,
    pay_system_id: Option<u64>,
    person_type_id: u64,
    user_id: u64,
}

impl World {
    /// Creates an order (or invoice) with one payment. `pay_url` is filled in by the caller.
    pub(crate) fn create_payment(
        &mut self,
        new: &NewPayment,
        now: i64,
    ) -> Result<CreatedPayment, WorldError> {
        let checked = self.check_new(new)?;
        let order_id = self.next.order;
        let payment_id = self.next.payment;
        self.next.order += 1;
        self.next.payment += 1;
        let topic = new.topic.clone().unwrap_or_else(|| match new.registry {
            Registry::Order => format!("Order #{order_id}"),
            Registry::CrmInvoice => format!("Invoice #{order_id}"),
        });
        let order = Order {
            id: order_id,
            registry: new.registry,
            account_number: order_id.to_string(),
            person_type_id: checked.person_type_id,
            user_id: checked.user_id,
            currency: checked.currency,
            price: checked.sum.clone(),
            topic: topic.clone(),
            date_insert: now,
            items: vec![Item {
                name: topic,
                quantity: 1,
                price: checked.sum.clone(),
            }],
            properties: seed::customer_properties(self.user(checked.user_id)),
            comment: String::new(),
        };
        let payment = Payment::unpaid(payment_id, &order, checked.sum, now, checked.pay_system_id);
        let created = CreatedPayment {
            payment_id,
            order_id,
            registry: new.registry,
            account_number: payment.account_number.clone(),
            pay_url: String::new(),
        };
        self.orders.insert(order_id, order);
        self.payments.insert(payment_id, payment);
        Ok(created)
    }

    fn check_new(&self, new: &NewPayment) -> Result<Checked, WorldError> {
        let currency = Currency::parse(&new.currency)
            .ok_or_else(|| WorldError::UnknownCurrency(new.currency.clone()))?;
        let money = Money::parse(&new.sum, currency)
            .map_err(|_| WorldError::InvalidAmount(new.sum.clone()))?;
        let pay_system = match new.pay_system_id {
            Some(id) => Some(
                self.pay_systems
                    .get(&id)
                    .ok_or(WorldError::UnknownPaySystem(id))?,
            ),
            None => None,
        };
        if let Some(ps) = pay_system.filter(|ps| ps.registry != new.registry) {
            return Err(WorldError::RegistryMismatch {
                pay_system_id: ps.id,
                pay_system_registry: ps.registry,
                registry: new.registry,
            });
        }
        let person_type_id = new
            .person_type_id
            .or(pay_system.map(|ps| ps.person_type_id))
            .unwrap_or(match new.registry {
                Registry::Order => 1,
                Registry::CrmInvoice => 3,
            });
        match self.person_type(person_type_id) {
            Some(pt) if pt.registry == new.registry => {}
            _ => return Err(WorldError::UnknownPersonType(person_type_id, new.registry)),
        }
        let user_id = new.user_id.unwrap_or(2);
        if self.user(user_id).is_none() {
            return Err(WorldError::UnknownUser(user_id));
        }
        Ok(Checked {
            sum: money.to_decimal_string(),
            currency: currency.code().to_string(),
            pay_system_id: pay_system.map(|ps| ps.id),
            person_type_id,
            user_id,
        })
    }
}
