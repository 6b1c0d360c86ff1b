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

open_enum! {
    /// Which customers the handler serves (`CLIENT_TYPE`).
    pub enum ClientType {
        /// Individuals (the portal's default).
        B2c = "b2c",
        /// Legal entities.
        B2b = "b2b",
    }
}

open_enum! {
    /// Kind of input for a setting or a form field (`INPUT.TYPE`).
    pub enum InputType {
        String = "STRING",
        /// A checkbox.
        YesNo = "Y/N",
        /// A list; the choices are in `OPTIONS`.
        Enum = "ENUM",
    }
}

open_enum! {
    /// Where a setting's value comes from (`DEFAULT.PROVIDER_KEY`, and `TYPE` in a pay
    /// system's SETTINGS).
    pub enum Provider {
        /// The order (for legacy invoices: the invoice), e.g. `ID`, `ACCOUNT_NUMBER`, `SHOULD_PAY`.
        Order = "ORDER",
        /// An invoice property.
        Property = "PROPERTY",
        /// The payment, e.g. `SUM`, `CURRENCY`, `PAID`, `ACCOUNT_NUMBER`.
        Payment = "PAYMENT",
        /// The customer, e.g. `EMAIL`.
        User = "USER",
        /// A literal value.
        Value = "VALUE",
    }
}

/// Choices of an `ENUM` input, in display order (`{"TEST": "Test", "LIVE": "Live"}`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EnumOptions(pub Vec<(String, String)>);

impl EnumOptions {
    pub fn new<K: Into<String>, V: Into<String>>(items: impl IntoIterator<Item = (K, V)>) -> Self {
        EnumOptions(
            items
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Serialize for EnumOptions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for EnumOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = EnumOptions;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of choices")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<EnumOptions, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Value>()? {
                    let v = lenient::scalar_to_string(&v).unwrap_or_else(|| v.to_string());
                    out.push((k, v));
                }
                Ok(EnumOptions(out))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<EnumOptions, A::Error> {
                // PHP sends an empty map as `[]`, and a list of values as a list.
                let mut out = Vec::new();
                let mut i = 0;
                while let Some(v) = a.next_element::<Value>()? {
                    let v = lenient::scalar_to_string(&v).unwrap_or_else(|| v.to_string());
                    out.push((i.to_string(), v));
                    i += 1;
                }
                Ok(EnumOptions(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// An input description: `{"TYPE": "ENUM", "OPTIONS": {…}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct InputSpec {
    #[serde(rename = "TYPE")]
    pub input_type: InputType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<EnumOptions>,
}

impl InputSpec {
    pub fn string() -> Self {
        InputSpec {
            input_type: InputType::String,
            options: None,
        }
    }
    pub fn yes_no() -> Self {
        InputSpec {
            input_type: InputType::YesNo,
            options: None,
        }
    }
    pub fn enumeration(options: EnumOptions) -> Self {
        InputSpec {
            input_type: InputType::Enum,
            options: Some(options),
        }
    }
}

/// A setting's default value: `{"PROVIDER_KEY": "PAYMENT", "PROVIDER_VALUE": "SUM"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct DefaultValue {
    pub provider_key: Provider,
    #[serde(deserialize_with = "lenient::string")]
    pub provider_value: String,
}

/// One entry of `SETTINGS.CODES`: a setting the admin fills in on the pay system.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct CodeSpec {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub sort: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub group: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_map_or_empty_array"
    )]
    pub default: Option<DefaultValue>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_map_or_empty_array"
    )]
    pub input: Option<InputSpec>,
}

/// A form field described inline instead of by a setting code.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct CustomField {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputSpec>,
    /// Shorthand for `INPUT.TYPE` used by some of the documentation's examples.
    #[serde(rename = "TYPE", default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<InputType>,
}

/// `FIELDS.<name>.CODE`: either a setting code (its value is sent) or an inline field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldCode {
    Setting(String),
    Custom(CustomField),
}

/// One entry of `FIELDS`: what is sent to ACTION_URI under that name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct FieldSpec {
    pub code: FieldCode,
    /// Shown to the customer (`Y`) or hidden (`N`, the default). Form mode only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "lenient::ser_opt_yn",
        deserialize_with = "lenient::opt_yn"
    )]
    pub visible: Option<bool>,
}

impl FieldSpec {
    /// A field carrying the value of setting `code`.
    pub fn setting(code: impl Into<String>) -> Self {
        FieldSpec {
            code: FieldCode::Setting(code.into()),
            visible: None,
        }
    }
}

/// `FORM_DATA`: the payment page shows a form that is submitted to ACTION_URI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct FormData {
    pub action_uri: String,
    /// HTTP method of the form (GET when absent).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub method: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "lenient::map_or_empty_array"
    )]
    pub fields: BTreeMap<String, FieldSpec>,
    /// Deprecated `{form field: setting code}`; ignored by the portal when FIELDS is given.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_map_or_empty_array"
    )]
    pub params: Option<BTreeMap<String, String>>,
}

/// `CHECKOUT_DATA`: the portal posts the payment to ACTION_URI, which answers with a payment URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct CheckoutData {
    pub action_uri: String,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "lenient::map_or_empty_array"
    )]
    pub fields: BTreeMap<String, FieldSpec>,
}

/// `IFRAME_DATA`: the payment page shows ACTION_URI in an iframe and posts FIELDS to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct IframeData {
    pub action_uri: String,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "lenient::map_or_empty_array"
    )]
    pub fields: BTreeMap<String, FieldSpec>,
}

/// A handler's `SETTINGS`. Exactly one of `form_data`, `checkout_data`, `iframe_data` must be
/// set (the portal refuses anything else with `ERROR_CHECK_FAILURE`).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct HandlerSettings {
    #[serde(default, deserialize_with = "lenient::map_or_empty_array")]
    pub codes: BTreeMap<String, CodeSpec>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_map_or_empty_array"
    )]
    pub form_data: Option<FormData>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_map_or_empty_array"
    )]
    pub checkout_data: Option<CheckoutData>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_map_or_empty_array"
    )]
    pub iframe_data: Option<IframeData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct HandlerAdd {
    pub name: String,
    /// Unique among handlers; pay systems refer to it as `BX_REST_HANDLER`.
    pub code: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub sort: Option<i64>,
    pub settings: HandlerSettings,
}

/// `sale.paysystem.handler.update` FIELDS. SETTINGS, when given, replaces the old one whole.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct HandlerUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub sort: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<HandlerSettings>,
}

/// A handler as `sale.paysystem.handler.list` returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct Handler {
    #[serde(deserialize_with = "lenient::u64")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub code: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub sort: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_map_or_empty_array"
    )]
    pub settings: Option<HandlerSettings>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct ById<'a, F: Serialize> {
    id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a F>,
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
