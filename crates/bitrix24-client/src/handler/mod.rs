//! REST pay-system handlers: `sale.paysystem.handler.add/update/list/delete`.
//! A handler describes a payment integration (its settings CODES and how the payment page
//! talks to it: FORM_DATA, CHECKOUT_DATA or IFRAME_DATA); pay systems are created from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::lenient::{self, open_enum, Flag, Id, List};
use crate::retry::Retry;

mod codes;
mod page;
pub use codes::{CodeSpec, DefaultValue, EnumOptions, InputSpec, InputType, Provider};
pub use page::{CheckoutData, CustomField, FieldCode, FieldSpec, FormData, IframeData};

open_enum! {
    /// Which customers the handler serves (`CLIENT_TYPE`).
    pub enum ClientType {
        /// Individuals (the portal's default).
        B2c = "b2c",
        /// Legal entities.
        B2b = "b2b",
    }
}

/// A handler's `SETTINGS`. Exactly one of `form_data`, `checkout_data`, `iframe_data` must be
/// set (the portal refuses anything else with `ERROR_CHECK_FAILURE`).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct HandlerSettings {
    #[serde(default, deserialize_with = "lenient::map_or_empty_array")]
    pub codes: BTreeMap<String, CodeSpec>,
    #[serde(default, deserialize_with = "lenient::opt_map_or_empty_array")]
    pub form_data: Option<FormData>,
    #[serde(default, deserialize_with = "lenient::opt_map_or_empty_array")]
    pub checkout_data: Option<CheckoutData>,
    #[serde(default, deserialize_with = "lenient::opt_map_or_empty_array")]
    pub iframe_data: Option<IframeData>,
    pub client_type: Option<ClientType>,
    /// Supported currencies; empty means any.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient::string_list"
    )]
    pub currency: Vec<String>,
}

impl HandlerSettings {
    /// Settings for an IFRAME-mode handler.
    pub fn iframe(codes: BTreeMap<String, CodeSpec>, iframe: IframeData) -> Self {
        HandlerSettings {
            codes,
            iframe_data: Some(iframe),
            ..HandlerSettings::default()
        }
    }
}

/// `sale.paysystem.handler.add` parameters.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct HandlerAdd {
    pub name: String,
    /// Unique among handlers; pay systems refer to it as `BX_REST_HANDLER`.
    pub code: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sort: Option<i64>,
    pub settings: HandlerSettings,
}

/// `sale.paysystem.handler.update` FIELDS. SETTINGS, when given, replaces the old one whole.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct HandlerUpdate {
    pub name: Option<String>,
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sort: Option<i64>,
    pub settings: Option<HandlerSettings>,
}

/// A handler as `sale.paysystem.handler.list` returns it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct Handler {
    #[serde(deserialize_with = "lenient::u64")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub code: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sort: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_map_or_empty_array")]
    pub settings: Option<HandlerSettings>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `{"ID": …, "FIELDS": …}`: the parameters of the `*.update` and `*.delete` methods of
/// handlers and pay systems.
#[serde_with::skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) struct ById<'a, F: Serialize> {
    pub(crate) id: u64,
    pub(crate) fields: Option<&'a F>,
}

impl Client {
    /// `sale.paysystem.handler.add` → the new handler's id. Not idempotent: a repeat after an
    /// ambiguous failure gets `ERROR_HANDLER_ALREADY_EXIST`.
    pub async fn handler_add(&self, handler: &HandlerAdd, retry: Retry) -> Result<u64, Error> {
        let Id(id) = self
            .call("sale.paysystem.handler.add", handler, retry)
            .await?;
        Ok(id)
    }

    /// `sale.paysystem.handler.update`. Idempotent, retried by default.
    pub async fn handler_update(&self, id: u64, fields: &HandlerUpdate) -> Result<bool, Error> {
        let params = ById {
            id,
            fields: Some(fields),
        };
        let Flag(ok) = self
            .call("sale.paysystem.handler.update", &params, Retry::Safe)
            .await?;
        Ok(ok)
    }

    /// `sale.paysystem.handler.list`: every REST handler (no paging).
    pub async fn handler_list(&self) -> Result<Vec<Handler>, Error> {
        let List(items) = self
            .call(
                "sale.paysystem.handler.list",
                &serde_json::Map::new(),
                Retry::Safe,
            )
            .await?;
        Ok(items)
    }

    /// `sale.paysystem.handler.delete`. Refused while a pay system uses the handler. A repeat
    /// after an ambiguous failure reports the handler as not found.
    pub async fn handler_delete(&self, id: u64, retry: Retry) -> Result<bool, Error> {
        let params: ById<'_, ()> = ById { id, fields: None };
        let Flag(ok) = self
            .call("sale.paysystem.handler.delete", &params, retry)
            .await?;
        Ok(ok)
    }
}
