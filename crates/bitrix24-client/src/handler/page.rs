//! How the payment page talks to a handler: the form it submits, the checkout it posts, or
//! the iframe it fills (FORM_DATA, CHECKOUT_DATA, IFRAME_DATA), and the fields each carries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lenient;

use super::codes::{InputSpec, InputType};

/// A form field described inline instead of by a setting code.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct CustomField {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    pub input: Option<InputSpec>,
    /// Shorthand for `INPUT.TYPE` used by some of the documentation's examples.
    #[serde(rename = "TYPE", default)]
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
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct FieldSpec {
    pub code: FieldCode,
    /// Shown to the customer (`Y`) or hidden (`N`, the default). Form mode only.
    #[serde(default, with = "lenient::opt_yn")]
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
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct FormData {
    pub action_uri: String,
    /// HTTP method of the form (GET when absent).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub method: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "lenient::map_or_empty_array"
    )]
    pub fields: BTreeMap<String, FieldSpec>,
    /// Deprecated `{form field: setting code}`; ignored by the portal when FIELDS is given.
    #[serde(default, deserialize_with = "lenient::opt_map_or_empty_array")]
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
