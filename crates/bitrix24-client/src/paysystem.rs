//! Pay systems: `sale.paysystem.add/update/list/delete`. A pay system is what a customer picks
//! at checkout; a REST pay system is bound to a handler (`BX_REST_HANDLER`), a payer type and a
//! registry (store orders and deals: `ORDER`; legacy CRM invoices: `CRM_INVOICE`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::handler::{ById, Provider};
use crate::lenient::{self, open_enum, Flag, Id, List};
use crate::retry::Retry;

open_enum! {
    /// What a pay system is bound to (`ENTITY_REGISTRY_TYPE`).
    pub enum EntityRegistryType {
        /// Store orders, deals and smart invoices.
        Order = "ORDER",
        /// Legacy CRM invoices (the portal's default on CRM portals).
        CrmInvoice = "CRM_INVOICE",
    }
}

open_enum! {
    /// Sort direction in `ORDER`.
    pub enum SortOrder {
        Asc = "ASC",
        Desc = "DESC",
    }
}

/// A pay system's value for one handler setting: `{"TYPE": "VALUE", "VALUE": "abc"}` or
/// `{"TYPE": "PAYMENT", "VALUE": "SUM"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct SettingValue {
    #[serde(rename = "TYPE")]
    pub provider: Provider,
    #[serde(default, deserialize_with = "lenient::string")]
    pub value: String,
}

impl SettingValue {
    /// A literal value.
    pub fn value(value: impl Into<String>) -> Self {
        SettingValue {
            provider: Provider::Value,
            value: value.into(),
        }
    }

    /// A value taken from the payment, e.g. `SUM`, `CURRENCY`, `PAID`, `ACCOUNT_NUMBER`.
    pub fn from_payment(field: impl Into<String>) -> Self {
        SettingValue {
            provider: Provider::Payment,
            value: field.into(),
        }
    }

    /// A value taken from the order, e.g. `ID`.
    pub fn from_order(field: impl Into<String>) -> Self {
        SettingValue {
            provider: Provider::Order,
            value: field.into(),
        }
    }
}

/// Setting code → value, as in `SETTINGS` of `sale.paysystem.add` and `settings.update`.
pub type Settings = BTreeMap<String, SettingValue>;

/// `sale.paysystem.add` parameters.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PaySystemAdd {
    pub name: String,
    pub description: Option<String>,
    /// Must belong to `entity_registry_type`.
    #[serde(deserialize_with = "lenient::u64")]
    pub person_type_id: u64,
    /// The handler's CODE.
    pub bx_rest_handler: String,
    /// Defaults to `CRM_INVOICE` on CRM portals: pass `ORDER` for deals, smart invoices and
    /// store orders.
    pub entity_registry_type: Option<EntityRegistryType>,
    /// Defaults to inactive (`N`).
    #[serde(default, with = "lenient::opt_yn")]
    pub active: Option<bool>,
    pub settings: Option<Settings>,
    /// Logo, base64-encoded image.
    pub logotype: Option<String>,
    #[serde(default, with = "lenient::opt_yn")]
    pub new_window: Option<bool>,
    /// External id, usable in `sale.paysystem.list` filters.
    pub xml_id: Option<String>,
}

/// `sale.paysystem.update` FIELDS: only the given optional fields change. The portal checks
/// the handler and the payer type on every update, so both are always sent.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PaySystemUpdate {
    /// The pay system's payer type (unchanged or new; must belong to its registry).
    #[serde(deserialize_with = "lenient::u64")]
    pub person_type_id: u64,
    /// The pay system's handler CODE (unchanged or new).
    pub bx_rest_handler: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub entity_registry_type: Option<EntityRegistryType>,
    #[serde(default, with = "lenient::opt_yn")]
    pub active: Option<bool>,
    pub settings: Option<Settings>,
    pub logotype: Option<String>,
    #[serde(default, with = "lenient::opt_yn")]
    pub new_window: Option<bool>,
    pub xml_id: Option<String>,
}

/// `sale.paysystem.list` parameters. Empty parts are omitted.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct ListQuery {
    /// Fields to return (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
    /// `{"FIELD": value}`, with the portal's operator prefixes (`"=ID"`, `"!ACTIVE"`, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub filter: serde_json::Map<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub order: BTreeMap<String, SortOrder>,
}

impl PaySystemUpdate {
    /// An update that changes nothing yet (the handler and payer type must always be named).
    pub fn new(bx_rest_handler: impl Into<String>, person_type_id: u64) -> Self {
        PaySystemUpdate {
            person_type_id,
            bx_rest_handler: bx_rest_handler.into(),
            name: None,
            description: None,
            entity_registry_type: None,
            active: None,
            settings: None,
            logotype: None,
            new_window: None,
            xml_id: None,
        }
    }
}

impl ListQuery {
    /// All pay systems, all fields.
    pub fn all() -> Self {
        ListQuery::default()
    }

    /// Adds a filter condition.
    pub fn filter(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filter.insert(field.into(), value.into());
        self
    }
}

/// A pay system as `sale.paysystem.list` returns it. Every field is optional because SELECT
/// may leave it out.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PaySystem {
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    #[serde(default, with = "lenient::opt_yn")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sort: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub person_type_id: Option<u64>,
    /// The portal's internal name for the handler; the handler CODE for REST pay systems.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub action_file: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub entity_registry_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub xml_id: Option<String>,
    #[serde(default, with = "lenient::opt_yn")]
    pub new_window: Option<bool>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl PaySystem {
    /// The REST handler CODE this pay system uses (the portal reports it as `ACTION_FILE`).
    pub fn handler_code(&self) -> Option<&str> {
        self.action_file.as_deref()
    }

    /// The registry, parsed.
    pub fn registry(&self) -> Option<EntityRegistryType> {
        self.entity_registry_type
            .as_deref()
            .map(EntityRegistryType::parse)
    }
}

impl Client {
    /// `sale.paysystem.add` → the new pay system's id. Not idempotent: a repeat after an
    /// ambiguous failure can create a second pay system, so pass [`Retry::Safe`] only when the
    /// caller checks `paysystem_list` (e.g. by XML_ID) first.
    pub async fn paysystem_add(
        &self,
        paysystem: &PaySystemAdd,
        retry: Retry,
    ) -> Result<u64, Error> {
        let Id(id) = self.call("sale.paysystem.add", paysystem, retry).await?;
        Ok(id)
    }

    /// `sale.paysystem.update`. Idempotent, retried by default.
    pub async fn paysystem_update(&self, id: u64, fields: &PaySystemUpdate) -> Result<bool, Error> {
        let params = ById {
            id,
            fields: Some(fields),
        };
        let Flag(ok) = self
            .call("sale.paysystem.update", &params, Retry::Safe)
            .await?;
        Ok(ok)
    }

    /// `sale.paysystem.list`.
    pub async fn paysystem_list(&self, query: &ListQuery) -> Result<Vec<PaySystem>, Error> {
        let List(items) = self.call("sale.paysystem.list", query, Retry::Safe).await?;
        Ok(items)
    }

    /// `sale.paysystem.delete`.
    pub async fn paysystem_delete(&self, id: u64, retry: Retry) -> Result<bool, Error> {
        let params: ById<'_, ()> = ById { id, fields: None };
        let Flag(ok) = self.call("sale.paysystem.delete", &params, retry).await?;
        Ok(ok)
    }
}
