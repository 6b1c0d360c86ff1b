//! Reading a batch request: `cmd` (a map, or a list keyed `0…n-1`) of `method?query-string`
//! commands, and `halt`. The portal reads both names in any case.

use serde_json::{Map, Value};

use crate::params::{self, php_empty, php_string};
use crate::rest::route::method_name;

/// One entry of `cmd`.
#[derive(Clone, Debug)]
pub(super) struct Command {
    pub key: String,
    /// The `method?query` text; `None` when the entry is not a string.
    pub text: Option<String>,
}

/// A batch request's commands, in order, and whether to stop at the first error.
#[derive(Clone, Debug)]
pub(super) struct Request {
    pub commands: Vec<Command>,
    pub halt: bool,
}

impl Request {
    pub(super) fn parse(raw: &Map<String, Value>) -> Request {
        let get = |name: &str| {
            raw.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let commands = match get("cmd") {
            Some(Value::Object(map)) => {
                map.iter().map(|(key, v)| command(key.clone(), v)).collect()
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| command(i.to_string(), v))
                .collect(),
            // Like the portal: no `cmd` array, nothing to run.
            _ => Vec::new(),
        };
        Request {
            commands,
            // PHP's `(bool)`: "0", "" and 0 are false, anything else true.
            halt: !php_empty(get("halt")),
        }
    }
}

fn command(key: String, value: &Value) -> Command {
    let text = match value {
        Value::Array(_) | Value::Object(_) => None,
        scalar => php_string(scalar),
    };
    Command { key, text }
}

/// `method?query` → the method name (lower-case, no `.json`) and the query's parameters.
pub(super) fn split(text: &str) -> (String, Map<String, Value>) {
    let (method, query) = text.split_once('?').unwrap_or((text, ""));
    (method_name(method.trim()), params::parse_php_query(query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Request {
        Request::parse(value.as_object().unwrap())
    }

    #[test]
    fn cmd_as_map_or_list_and_halt_like_php() {
        let request = parse(json!({"CMD": {"a": "x.y?A=1", "b": 5}, "Halt": "1"}));
        assert!(request.halt);
        assert_eq!(request.commands[0].key, "a");
        assert_eq!(request.commands[0].text.as_deref(), Some("x.y?A=1"));
        assert_eq!(request.commands[1].text.as_deref(), Some("5"));
        let request = parse(json!({"cmd": ["m1", {"method": "m2"}], "halt": "0"}));
        assert!(!request.halt);
        assert_eq!(request.commands[1].key, "1");
        assert_eq!(request.commands[1].text, None);
        assert!(parse(json!({"cmd": "x"})).commands.is_empty());
    }

    #[test]
    fn commands_split_into_method_and_php_query() {
        let (method, params) = split("Sale.PaySystem.List.json?select[]=ID&filter[ACTIVE]=Y");
        assert_eq!(method, "sale.paysystem.list");
        assert_eq!(
            Value::Object(params),
            json!({"select": ["ID"], "filter": {"ACTIVE": "Y"}})
        );
        let (method, params) = split("sale.paysystem.handler.list");
        assert_eq!(method, "sale.paysystem.handler.list");
        assert!(params.is_empty());
    }
}
