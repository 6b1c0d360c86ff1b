//! Serde helpers for the portal's loose JSON. The portal is PHP: it sends numbers as strings
//! (`"ID":"5"`, `"SORT":"100"`), booleans as `"Y"`/`"N"`, and null as `""`. Each helper accepts
//! every spelling of a value and rejects everything else.

use serde::de::{Deserialize, Deserializer, Error as _};
use serde::ser::Serializer;
use serde_json::Value;

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn to_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Null) || matches!(v, Value::String(s) if s.is_empty())
}

/// `convert`'s reading of `v`, or the error every helper gives: what was `expected`, and what
/// came instead (its kind only, never its content).
fn read<T, E: serde::de::Error>(
    v: &Value,
    convert: fn(&Value) -> Option<T>,
    expected: &str,
) -> Result<T, E> {
    convert(v).ok_or_else(|| E::custom(format!("expected {expected}, got {}", describe(v))))
}

/// As [`read`], with `null` and `""` (or a missing field) read as None.
fn read_opt<'de, D: Deserializer<'de>, T>(
    d: D,
    convert: fn(&Value) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, D::Error> {
    let v = Value::deserialize(d)?;
    if is_empty(&v) {
        return Ok(None);
    }
    read(&v, convert, expected).map(Some)
}

fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.as_str() {
            "Y" | "y" | "true" | "1" => Some(true),
            "N" | "n" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `5`, `"5"` → 5.
pub(crate) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    read(&Value::deserialize(d)?, to_u64, "an id")
}

/// `5`, `"5"` → Some(5); `null`, `""`, missing → None.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    read_opt(d, to_u64, "an id")
}

/// `100`, `"100"` → Some(100); `null`, `""` → None.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    read_opt(d, to_i64, "an integer")
}

/// A method's boolean result: `true`, `"Y"`, `1`, `"true"`.
pub(crate) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    read(&Value::deserialize(d)?, to_bool, "a boolean")
}

/// Text that may arrive as a number: `"abc"`, `42`, `true` → Some(text); `null`, `""` → None.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    read_opt(d, scalar_to_string, "text")
}

/// Text that may arrive as a number; `null` becomes `""`.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    read(&Value::deserialize(d)?, scalar_to_string, "text")
}

/// The text form of a scalar as PHP would print it. Objects and arrays have none.
pub(crate) fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "Y" } else { "N" }.to_owned()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A string list that PHP may have sent as an object with numeric keys (`{"0":"USD"}`), as a
/// single string, or as `""` for an empty list.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Value::deserialize(d)?;
    let items: Vec<Value> = match v {
        Value::Null => return Ok(Vec::new()),
        Value::String(s) if s.is_empty() => return Ok(Vec::new()),
        Value::String(s) => return Ok(vec![s]),
        Value::Array(items) => items,
        Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
        other => {
            return Err(D::Error::custom(format!(
                "expected a list of strings, got {}",
                describe(&other)
            )))
        }
    };
    items
        .iter()
        .map(|v| read(v, scalar_to_string, "a string"))
        .collect()
}

/// A map that PHP sends as `[]` when it is empty (or `""`/`null` when absent). Read without
/// an intermediate `Value`, so key order survives.
pub(crate) fn map_or_empty_array<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    opt_map_or_empty_array(d).map(Option::unwrap_or_default)
}

/// Same as [`map_or_empty_array`] for optional maps.
pub(crate) fn opt_map_or_empty_array<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(MapOrEmpty(std::marker::PhantomData))
}

struct MapOrEmpty<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for MapOrEmpty<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object, or an empty array")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        match seq.next_element::<serde::de::IgnoredAny>()? {
            None => Ok(None),
            Some(_) => Err(A::Error::invalid_type(serde::de::Unexpected::Seq, &self)),
        }
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<T>, D2::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Option<T>, E> {
        if s.is_empty() {
            Ok(None)
        } else {
            Err(E::invalid_type(serde::de::Unexpected::Str(s), &self))
        }
    }
}

/// An optional flag as the portal spells it: written `"Y"`/`"N"`, read from `"Y"`, `true`,
/// `"1"` (true) or `"N"`, `false`, `"0"` (false); `null` and `""` read as None.
pub(crate) mod opt_yn {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(true) => s.serialize_str("Y"),
            Some(false) => s.serialize_str("N"),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        read_opt(d, to_bool, "Y or N")
    }
}

/// Declares a string enum whose set of values is open: unknown strings are preserved in
/// `Other(String)` instead of failing, because the portal adds values over time.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Parses the wire spelling; unknown values become `Other`.
            pub fn parse(s: &str) -> Self {
                match s {
                    $( $text => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }

            /// Whether this is one of the values this crate knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}", self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::parse(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = $crate::lenient::string(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}
pub(crate) use open_enum;

/// A method result that is an id (`5` or `"5"`).
pub(crate) struct Id(pub u64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64(d).map(Id)
    }
}

/// A method result that is a boolean (`true`, `"Y"`, `1`).
pub(crate) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bool(d).map(Flag)
    }
}

/// A list result: a JSON array, or a PHP array serialised as an object, or empty.
pub(crate) struct List<T>(pub Vec<T>);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let items = match v {
            Value::Array(items) => items,
            Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
            Value::Null => Vec::new(),
            Value::String(s) if s.is_empty() => Vec::new(),
            other => {
                return Err(D::Error::custom(format!(
                    "expected a list, got {}",
                    describe(&other)
                )))
            }
        };
        items
            .into_iter()
            .map(|item| serde_json::from_value(item).map_err(D::Error::custom))
            .collect::<Result<Vec<T>, _>>()
            .map(List)
    }
}

/// A flat `{CODE: value}` map whose values are scalars of any JSON type; they become text as
/// PHP would print them (`3000`, `"Y"`). Nested values are kept as JSON text.
pub(crate) struct FlatMap(pub std::collections::BTreeMap<String, String>);

impl<'de> Deserialize<'de> for FlatMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let map = match v {
            Value::Object(map) => map,
            Value::Array(a) if a.is_empty() => return Ok(FlatMap(Default::default())),
            Value::Null => return Ok(FlatMap(Default::default())),
            other => {
                return Err(D::Error::custom(format!(
                    "expected an object, got {}",
                    describe(&other)
                )))
            }
        };
        Ok(FlatMap(
            map.into_iter()
                .map(|(k, v)| {
                    let text = scalar_to_string(&v).unwrap_or_else(|| v.to_string());
                    (k, text)
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Row {
        #[serde(deserialize_with = "u64")]
        id: u64,
        #[serde(default, deserialize_with = "opt_i64")]
        sort: Option<i64>,
        #[serde(default, with = "opt_yn")]
        active: Option<bool>,
        #[serde(default, deserialize_with = "opt_string")]
        xml_id: Option<String>,
        #[serde(default, deserialize_with = "string_list")]
        currency: Vec<String>,
    }

    #[test]
    fn numbers_as_strings_yn_and_empty_strings() {
        let row: Row = serde_json::from_value(json!({
            "id": "5", "sort": "100", "active": "Y", "xml_id": "", "currency": {"0": "USD"}
        }))
        .unwrap();
        assert_eq!(
            row,
            Row {
                id: 5,
                sort: Some(100),
                active: Some(true),
                xml_id: None,
                currency: vec!["USD".into()]
            }
        );
        let row: Row = serde_json::from_value(json!({
            "id": 7, "sort": 10, "active": "N", "xml_id": 12, "currency": ["USD", "EUR"]
        }))
        .unwrap();
        assert_eq!(
            row,
            Row {
                id: 7,
                sort: Some(10),
                active: Some(false),
                xml_id: Some("12".into()),
                currency: vec!["USD".into(), "EUR".into()]
            }
        );
        let row: Row = serde_json::from_value(json!({"id": "1"})).unwrap();
        assert_eq!(row.sort, None);
        assert!(serde_json::from_value::<Row>(json!({"id": "x"})).is_err());
        assert!(serde_json::from_value::<Row>(json!({"id": 1, "active": "maybe"})).is_err());
    }

    open_enum! {
        enum Colour { Red = "RED", Blue = "BLUE" }
    }

    #[test]
    fn open_enum_keeps_unknown_values() {
        assert_eq!(Colour::parse("RED"), Colour::Red);
        assert_eq!(Colour::parse("GREEN"), Colour::Other("GREEN".into()));
        assert_eq!(serde_json::to_value(Colour::Blue).unwrap(), json!("BLUE"));
        let c: Colour = serde_json::from_value(json!("PINK")).unwrap();
        assert_eq!(c.as_str(), "PINK");
        assert!(!c.is_known());
    }
}
