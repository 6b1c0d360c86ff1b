//! A handler's settings CODES: what a pay system's admin fills in, with which input, and where
//! each value comes from by default.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient::{self, open_enum};

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
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct InputSpec {
    #[serde(rename = "TYPE")]
    pub input_type: InputType,
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
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct CodeSpec {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sort: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub group: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_map_or_empty_array")]
    pub default: Option<DefaultValue>,
    #[serde(default, deserialize_with = "lenient::opt_map_or_empty_array")]
    pub input: Option<InputSpec>,
}
