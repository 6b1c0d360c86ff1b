//! The portal's entities as the sandbox stores them (and writes them to the data file).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which kind of entity a pay system, person type, order or payment belongs to.
///
/// `ORDER` covers store orders, deals and smart invoices; `CRM_INVOICE` the legacy CRM invoices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Registry {
    #[serde(rename = "ORDER")]
    Order,
    #[serde(rename = "CRM_INVOICE")]
    CrmInvoice,
}

impl Registry {
    /// The portal's spelling: `ORDER` or `CRM_INVOICE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Registry::Order => "ORDER",
            Registry::CrmInvoice => "CRM_INVOICE",
        }
    }

    /// Parses the portal's spelling (exactly, as the portal's database filter does).
    pub fn parse(text: &str) -> Option<Registry> {
        match text {
            "ORDER" => Some(Registry::Order),
            "CRM_INVOICE" => Some(Registry::CrmInvoice),
            _ => None,
        }
    }
}

impl std::fmt::Display for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PersonType {
    pub id: u64,
    pub name: String,
    pub registry: Registry,
}

/// A portal user (the `USER` business-value provider).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct User {
    pub id: u64,
    /// `LOGIN`, `NAME`, `LAST_NAME`, `EMAIL`, … as the provider exposes them.
    pub fields: BTreeMap<String, String>,
}

/// A REST handler registered with `sale.paysystem.handler.add`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Handler {
    pub id: u64,
    pub name: String,
    pub code: String,
    pub sort: i64,
    pub settings: HandlerSettings,
}

/// A handler's `SETTINGS`, parsed once when the handler is added or updated.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct HandlerSettings {
    pub codes: BTreeMap<String, CodeSpec>,
    pub form_data: Option<ModeData>,
    pub checkout_data: Option<ModeData>,
    pub iframe_data: Option<ModeData>,
    pub client_type: Option<String>,
    pub currency: Vec<String>,
    /// Whether `CURRENCY` was given at all (so `handler.list` echoes what was sent).
    pub currency_given: bool,
    /// Any other keys, echoed back by `handler.list`.
    pub extra: BTreeMap<String, Value>,
}

/// The handler's operating mode, decided like the portal: IFRAME, then CHECKOUT, then FORM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandlerMode {
    Iframe,
    Checkout,
    Form,
}

impl HandlerSettings {
    pub(crate) fn mode(&self) -> HandlerMode {
        if self.iframe_data.is_some() {
            HandlerMode::Iframe
        } else if self.checkout_data.is_some() {
            HandlerMode::Checkout
        } else {
            HandlerMode::Form
        }
    }
}

/// One entry of `SETTINGS[CODES]`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct CodeSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    pub sort: Option<Value>,
    pub group: Option<String>,
    pub default: Option<Mapping>,
    pub input: Option<Value>,
    pub extra: BTreeMap<String, Value>,
}

/// `FORM_DATA`, `CHECKOUT_DATA` or `IFRAME_DATA`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ModeData {
    pub action_uri: String,
    pub method: Option<String>,
    /// Field key (as given) → field.
    pub fields: BTreeMap<String, FieldSpec>,
    pub fields_given: bool,
    pub extra: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FieldSpec {
    pub code: Option<FieldCode>,
    pub visible: Option<String>,
    pub extra: BTreeMap<String, Value>,
}

/// A field's `CODE`: a handler setting code (its value is resolved per payment) or an inline
/// description of an input the customer fills in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum FieldCode {
    Setting(String),
    Inline(Value),
}

/// A business-value mapping: where a setting's value comes from (`TYPE`/`PROVIDER_KEY`) and the
/// value or the provider's field name (`VALUE`/`PROVIDER_VALUE`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Mapping {
    pub provider_key: Option<String>,
    pub provider_value: Option<String>,
}

/// A pay system created with `sale.paysystem.add`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PaySystem {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub xml_id: Option<String>,
    pub person_type_id: u64,
    /// The handler code (`BX_REST_HANDLER`; the portal's `ACTION_FILE`).
    pub action_file: String,
    pub active: String,
    pub new_window: String,
    pub registry: Registry,
    pub logotip: Option<u64>,
    pub sort: i64,
    /// Settings by code, then by person type (`None`: the mapping for all person types).
    pub settings: BTreeMap<String, BTreeMap<String, Mapping>>,
}

impl PaySystem {
    pub(crate) fn person_type_key(person_type_id: Option<u64>) -> String {
        person_type_id.map(|id| id.to_string()).unwrap_or_default()
    }

    /// The mapping for a code: the person type's own, else the one for all person types.
    pub(crate) fn mapping(&self, code: &str, person_type_id: u64) -> Option<&Mapping> {
        let by_type = self.settings.get(code)?;
        by_type
            .get(&person_type_id.to_string())
            .or_else(|| by_type.get(""))
    }
}

/// An order (registry `ORDER`) or a legacy invoice (registry `CRM_INVOICE`); they share one
/// id sequence, as on the portal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Order {
    pub id: u64,
    pub registry: Registry,
    pub account_number: String,
    pub person_type_id: u64,
    pub user_id: u64,
    pub currency: String,
    /// Decimal text, canonical for the currency ("1250.50").
    pub price: String,
    pub topic: String,
    /// Unix seconds.
    pub date_insert: i64,
    pub items: Vec<Item>,
    /// Order properties by property id (the `PROPERTY` provider).
    pub properties: BTreeMap<String, String>,
    pub comment: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Item {
    pub name: String,
    pub quantity: u32,
    /// Unit price, decimal text.
    pub price: String,
}

/// A payment of an order or invoice.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Payment {
    pub id: u64,
    pub order_id: u64,
    pub account_number: String,
    /// Decimal text, canonical for the currency.
    pub sum: String,
    pub currency: String,
    pub paid: bool,
    /// Unix seconds.
    pub date_paid: Option<i64>,
    pub date_bill: i64,
    pub pay_system_id: Option<u64>,
    pub ps: PsFields,
    /// Accepted `pay.payment`/`pay.invoice` calls for this payment.
    pub pay_calls: u64,
    /// Refused `pay.payment` calls that named this payment.
    pub rejected_pay_calls: u64,
    /// `pay.payment`/`pay.invoice` calls answered `true` without saving (an injected fault).
    #[serde(default)]
    pub unsaved_pay_calls: u64,
}

impl Payment {
    /// The first, unpaid payment of an order (account number `{order}/1`).
    pub(crate) fn unpaid(
        id: u64,
        order: &Order,
        sum: String,
        date_bill: i64,
        pay_system_id: Option<u64>,
    ) -> Payment {
        Payment {
            id,
            order_id: order.id,
            account_number: format!("{}/1", order.id),
            sum,
            currency: order.currency.clone(),
            paid: false,
            date_paid: None,
            date_bill,
            pay_system_id,
            ps: PsFields::default(),
            pay_calls: 0,
            rejected_pay_calls: 0,
            unsaved_pay_calls: 0,
        }
    }
}

/// The `PS_*` fields the portal keeps on a payment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PsFields {
    pub status: Option<String>,
    pub status_code: Option<String>,
    pub status_description: Option<String>,
    pub status_message: Option<String>,
    pub invoice_id: Option<String>,
    pub sum: Option<String>,
    pub currency: Option<String>,
    pub card_number: Option<String>,
    pub recurring_token: Option<String>,
    /// RFC 3339.
    pub response_date: Option<String>,
}
