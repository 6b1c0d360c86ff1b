//! The `batch` request's body: each command as `method?query-string`, the parameters written
//! the way PHP's `http_build_query` writes them.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{Batch, Command};

/// Parameters as PHP's `http_build_query` writes them: `A[B][0]=x`, booleans `1`/`0`, nulls
/// left out, everything percent-encoded.
pub(super) fn php_query(params: &serde_json::Map<String, Value>) -> String {
    fn walk(name: &str, value: &Value, out: &mut url::form_urlencoded::Serializer<'_, String>) {
        match value {
            Value::Null => {}
            Value::Bool(b) => {
                out.append_pair(name, if *b { "1" } else { "0" });
            }
            Value::Number(n) => {
                out.append_pair(name, &n.to_string());
            }
            Value::String(s) => {
                out.append_pair(name, s);
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{name}[{i}]"), item, out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    walk(&format!("{name}[{k}]"), item, out);
                }
            }
        }
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        walk(name, value, &mut out);
    }
    out.finish()
}

/// The request body: `{"halt": 0|1, "cmd": {key: "method?query", …}}`, commands in order
/// (the portal runs them in the order of `cmd`).
pub(super) struct Body<'a>(pub(super) &'a Batch);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Commands<'a>(&'a [Command]);
        impl Serialize for Commands<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for command in self.0 {
                    map.serialize_entry(&command.key, &command.text)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("halt", &u8::from(self.0.halt))?;
        map.serialize_entry("cmd", &Commands(&self.0.commands))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    #[test]
    fn params_become_php_query_strings_in_order() {
        let map = json!({"NAME": "Card & co", "SETTINGS": {"CODES": {"X": {"NAME": "a"}}, "CURRENCY": ["USD", "EUR"]},
                         "ACTIVE": true, "NONE": null, "SORT": 100, "ID": "$result[ps]"});
        let query = php_query(map.as_object().unwrap());
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let pairs: BTreeMap<_, _> = decoded.into_iter().collect();
        assert_eq!(pairs["NAME"], "Card & co");
        assert_eq!(pairs["SETTINGS[CODES][X][NAME]"], "a");
        assert_eq!(pairs["SETTINGS[CURRENCY][1]"], "EUR");
        assert_eq!(pairs["ACTIVE"], "1");
        assert_eq!(pairs["SORT"], "100");
        assert_eq!(pairs["ID"], "$result[ps]");
        assert!(!pairs.contains_key("NONE"));
    }

    #[test]
    fn the_body_keeps_the_commands_order() {
        let mut batch = Batch::new().halt_on_error(true);
        batch.push("z", "sale.paysystem.list", &json!({})).unwrap();
        batch
            .push("a", "sale.paysystem.settings.get", &json!({"ID": 1}))
            .unwrap();
        let body = serde_json::to_string(&Body(&batch)).unwrap();
        assert_eq!(
            body,
            r#"{"halt":1,"cmd":{"z":"sale.paysystem.list","a":"sale.paysystem.settings.get?ID=1"}}"#
        );
    }
}
