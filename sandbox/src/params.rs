//! The REST request boundary: query strings, JSON bodies and `application/x-www-form-urlencoded`
//! bodies with PHP-style nested names (`SETTINGS[CODES][X][NAME]=…`, `SETTINGS[CURRENCY][]=USD`)
//! all become one JSON object, and its parameter names are normalised the way the portal does.
//!
//! ## Which names are case-insensitive
//!
//! The portal upper-cases parameter names before a method sees them (`array_change_key_case`),
//! but not everywhere, and the sandbox follows it:
//!
//! * every method: the top-level names (`name`, `Name` and `NAME` are the same parameter);
//! * `sale.paysystem.add/update/delete/list`, `settings.*` and `pay.*`: names at **every** depth,
//!   like the portal's recursive upper-casing. This includes the setting codes inside `SETTINGS`
//!   of `sale.paysystem.add` and `sale.paysystem.settings.update`, which the portal therefore
//!   always stores in upper case;
//! * `sale.paysystem.handler.add/update`: the portal upper-cases only the top level. The sandbox
//!   additionally upper-cases the *structural* names inside `SETTINGS` (`CODES`, `IFRAME_DATA`,
//!   `ACTION_URI`, `FIELDS`, `CODE`, `VISIBLE`, `DEFAULT`, `PROVIDER_KEY`, `NAME`, `INPUT`, `TYPE`,
//!   …) but keeps the keys of `CODES` and `FIELDS` exactly as given, because those are the
//!   handler author's own codes (and `FIELDS` keys become message keys on the payment page).
//!   A client that relies on lower-case structural names there would fail on a real portal.
//!
//! The `auth` parameter (OAuth access token) is taken out before normalisation, exactly as
//! spelled, like the portal's REST server does.

use serde_json::{Map, Value};

/// A request body or query string that could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParamsError {
    #[error("Request body is not valid JSON: {0}")]
    Json(String),
    #[error("JSON request body must be an object")]
    NotAnObject,
    #[error("Request body is not valid UTF-8")]
    NotUtf8,
}

/// Parses one PHP-style query string (`a[b][]=1&c=2`) into a JSON object.
pub(crate) fn parse_php_query(input: &str) -> Map<String, Value> {
    let mut root = Node::Map(Vec::new());
    for (name, value) in url::form_urlencoded::parse(input.as_bytes()) {
        let (base, path) = split_name(&name);
        if base.is_empty() {
            continue;
        }
        let mut segments = Vec::with_capacity(path.len() + 1);
        segments.push(Some(base.to_string()));
        segments.extend(path);
        root.insert(&segments, value.into_owned());
    }
    match root.into_value() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Reads all parameters of a request: the query string, then the body (JSON or form), the body
/// winning on conflicts like PHP's `$_REQUEST`.
pub(crate) fn parse_request(
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, ParamsError> {
    let mut params = query.map(parse_php_query).unwrap_or_default();
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace());
    if trimmed.is_none() {
        return Ok(params);
    }
    let is_json = content_type
        .map(|ct| ct.to_ascii_lowercase().contains("json"))
        .unwrap_or(false)
        || matches!(trimmed.map(|i| body[i]), Some(b'{') | Some(b'['));
    let body_params = if is_json {
        match serde_json::from_slice::<Value>(body).map_err(|e| ParamsError::Json(e.to_string()))? {
            Value::Object(map) => map,
            // PHP decodes `[]` to an empty array: no parameters.
            Value::Array(items) if items.is_empty() => Map::new(),
            _ => return Err(ParamsError::NotAnObject),
        }
    } else {
        let text = std::str::from_utf8(body).map_err(|_| ParamsError::NotUtf8)?;
        parse_php_query(text)
    };
    params.extend(body_params);
    Ok(params)
}

/// Splits `a[b][][c]` into `a` and `[Some(b), None, Some(c)]` (`None` = append). An unclosed
/// bracket ends the path, as in PHP.
fn split_name(name: &str) -> (&str, Vec<Option<String>>) {
    let Some(open) = name.find('[') else {
        return (name, Vec::new());
    };
    let base = &name[..open];
    let mut path = Vec::new();
    let mut rest = &name[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        let segment = &stripped[..close];
        path.push(if segment.is_empty() {
            None
        } else {
            Some(segment.to_string())
        });
        rest = &stripped[close + 1..];
    }
    (base, path)
}

/// A PHP array under construction: insertion-ordered, with PHP's "next integer index" for `[]`.
enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn insert(&mut self, path: &[Option<String>], value: String) {
        let Some((first, rest)) = path.split_first() else {
            *self = Node::Leaf(value);
            return;
        };
        if let Node::Leaf(_) = self {
            *self = Node::Map(Vec::new());
        }
        let Node::Map(entries) = self else {
            unreachable!("just made a map")
        };
        let key = match first {
            Some(key) => key.clone(),
            None => next_index(entries).to_string(),
        };
        let position = match entries.iter().position(|(k, _)| *k == key) {
            Some(position) => position,
            None => {
                entries.push((key, Node::Map(Vec::new())));
                entries.len() - 1
            }
        };
        entries[position].1.insert(rest, value);
    }

    /// PHP's `json_encode` rule: an array whose keys are exactly 0..n-1 in order is a list.
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(text) => Value::String(text),
            Node::Map(entries) => {
                let is_list = entries
                    .iter()
                    .enumerate()
                    .all(|(i, (k, _))| *k == i.to_string());
                if is_list && !entries.is_empty() {
                    Value::Array(entries.into_iter().map(|(_, v)| v.into_value()).collect())
                } else {
                    Value::Object(
                        entries
                            .into_iter()
                            .map(|(k, v)| (k, v.into_value()))
                            .collect(),
                    )
                }
            }
        }
    }
}

fn next_index(entries: &[(String, Node)]) -> i64 {
    entries
        .iter()
        .filter_map(|(k, _)| k.parse::<i64>().ok())
        .filter(|i| *i >= 0)
        .max()
        .map_or(0, |i| i + 1)
}

/// Upper-cases the keys of one object (later duplicates win, like `array_change_key_case`).
pub(crate) fn upper_keys(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(k, v)| (k.to_uppercase(), v))
        .collect()
}

/// Upper-cases keys at every depth, like the portal's `arrayChangeKeyCaseRecursive`.
pub(crate) fn upper_keys_deep(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_uppercase(), upper_keys_deep(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(upper_keys_deep).collect()),
        other => other,
    }
}

/// Normalises a handler's `SETTINGS` object: structural names upper-cased, the keys of `CODES`
/// and `FIELDS` kept as given (see the module documentation).
pub(crate) fn normalize_handler_settings(settings: Value) -> Value {
    let Value::Object(map) = settings else {
        return settings;
    };
    let map = upper_keys(map)
        .into_iter()
        .map(|(key, value)| {
            let value = match key.as_str() {
                "CODES" => map_values(value, |code| {
                    map_object(code, |key, v| match key {
                        "DEFAULT" => upper_object(v),
                        "INPUT" => normalize_input(v),
                        _ => v,
                    })
                }),
                "FORM_DATA" | "CHECKOUT_DATA" | "IFRAME_DATA" => map_object(value, |key, v| {
                    if key == "FIELDS" {
                        map_values(v, |field| {
                            map_object(field, |key, v| match key {
                                "CODE" if v.is_object() => map_object(v, |key, v| {
                                    if key == "INPUT" {
                                        normalize_input(v)
                                    } else {
                                        v
                                    }
                                }),
                                _ => v,
                            })
                        })
                    } else {
                        v
                    }
                }),
                _ => value,
            };
            (key, value)
        })
        .collect();
    Value::Object(map)
}

/// `INPUT {TYPE, OPTIONS{…}}`: the option keys are the author's values, kept as given.
fn normalize_input(input: Value) -> Value {
    map_object(input, |_, v| v)
}

fn upper_object(value: Value) -> Value {
    map_object(value, |_, v| v)
}

/// Upper-cases the keys of an object and maps each value with its (upper-cased) key.
fn map_object(value: Value, mut f: impl FnMut(&str, Value) -> Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            upper_keys(map)
                .into_iter()
                .map(|(k, v)| {
                    let v = f(&k, v);
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Maps the values of an object whose keys are user codes (kept as given).
fn map_values(value: Value, mut f: impl FnMut(Value) -> Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, f(v))).collect()),
        other => other,
    }
}

/// PHP's `empty()`: missing, null, `""`, `"0"`, `0`, `false`, and empty arrays.
pub(crate) fn php_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => s.is_empty() || s == "0",
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
    }
}

/// A scalar as PHP would print it (`true` → `"1"`); `None` for null, arrays and objects.
pub(crate) fn php_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("1".to_string()),
        Value::Bool(false) => Some(String::new()),
        _ => None,
    }
}

/// An identifier parameter as it arrived, before any lookup. The portal distinguishes "not
/// given" (`isset`), "given but empty" (`empty`) and a value it then looks up; a value that is
/// not a positive integer simply is not found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IdArg {
    Missing,
    Empty,
    Id(u64),
    Other(String),
}

impl IdArg {
    pub(crate) fn from_value(value: Option<&Value>) -> IdArg {
        match value {
            None | Some(Value::Null) => IdArg::Missing,
            Some(v) if php_empty(Some(v)) => IdArg::Empty,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(id) => IdArg::Id(id),
                None => match n.as_f64() {
                    Some(f) if f > 0.0 && f.fract() == 0.0 && f < 9e15 => IdArg::Id(f as u64),
                    _ => IdArg::Other(n.to_string()),
                },
            },
            Some(Value::String(s)) => match s.trim().parse::<u64>() {
                Ok(id) => IdArg::Id(id),
                Err(_) => IdArg::Other(s.clone()),
            },
            Some(other) => IdArg::Other(other.to_string()),
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        !matches!(self, IdArg::Missing)
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, IdArg::Missing | IdArg::Empty)
    }

    pub(crate) fn id(&self) -> Option<u64> {
        match self {
            IdArg::Id(id) => Some(*id),
            _ => None,
        }
    }

    /// The value as the portal would print it in an error message.
    pub(crate) fn display(&self) -> String {
        match self {
            IdArg::Missing | IdArg::Empty => String::new(),
            IdArg::Id(id) => id.to_string(),
            IdArg::Other(s) => s.clone(),
        }
    }
}

/// The normalised parameters of one call.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params(pub(crate) Map<String, Value>);

impl Params {
    /// A value that is set (present and not null, PHP's `isset`).
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn id(&self, key: &str) -> IdArg {
        IdArg::from_value(self.0.get(key))
    }

    pub(crate) fn is_empty(&self, key: &str) -> bool {
        php_empty(self.0.get(key))
    }

    /// A scalar parameter as a string; arrays and objects count as absent.
    pub(crate) fn string(&self, key: &str) -> Option<String> {
        self.get(key).and_then(php_string)
    }

    pub(crate) fn object(&self, key: &str) -> Option<&Map<String, Value>> {
        self.get(key).and_then(Value::as_object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn php_nested_names_build_objects_and_lists() {
        let map = parse_php_query(
            "NAME=x&SETTINGS[CODES][A][NAME]=Shop&SETTINGS[CURRENCY][]=USD&SETTINGS[CURRENCY][]=EUR\
             &SETTINGS[IFRAME_DATA][ACTION_URI]=http%3A%2F%2Fw%2F",
        );
        assert_eq!(
            Value::Object(map),
            json!({
                "NAME": "x",
                "SETTINGS": {
                    "CODES": {"A": {"NAME": "Shop"}},
                    "CURRENCY": ["USD", "EUR"],
                    "IFRAME_DATA": {"ACTION_URI": "http://w/"}
                }
            })
        );
    }

    #[test]
    fn numeric_keys_out_of_order_stay_an_object() {
        let map = parse_php_query("a[1]=x&a[0]=y&b[0]=p&b[1]=q");
        assert_eq!(map["a"], json!({"1": "x", "0": "y"}));
        assert_eq!(map["b"], json!(["p", "q"]));
    }

    #[test]
    fn body_wins_over_query() {
        let map = parse_request(Some("A=1&B=2"), Some("application/json"), br#"{"A":3}"#).unwrap();
        assert_eq!(Value::Object(map), json!({"A": 3, "B": "2"}));
    }

    #[test]
    fn handler_settings_keep_user_codes() {
        let settings = json!({
            "codes": {"shopId": {"name": "Shop", "default": {"provider_key": "VALUE"}}},
            "iframe_data": {"action_uri": "http://w/", "fields": {"shopId": {"code": "shopId"}}}
        });
        assert_eq!(
            normalize_handler_settings(settings),
            json!({
                "CODES": {"shopId": {"NAME": "Shop", "DEFAULT": {"PROVIDER_KEY": "VALUE"}}},
                "IFRAME_DATA": {"ACTION_URI": "http://w/", "FIELDS": {"shopId": {"CODE": "shopId"}}}
            })
        );
    }

    #[test]
    fn id_args_follow_php_isset_and_empty() {
        assert_eq!(IdArg::from_value(None), IdArg::Missing);
        assert_eq!(IdArg::from_value(Some(&json!(0))), IdArg::Empty);
        assert_eq!(IdArg::from_value(Some(&json!("0"))), IdArg::Empty);
        assert_eq!(IdArg::from_value(Some(&json!("12"))), IdArg::Id(12));
        assert_eq!(IdArg::from_value(Some(&json!(12))), IdArg::Id(12));
        assert_eq!(
            IdArg::from_value(Some(&json!("abc"))),
            IdArg::Other("abc".into())
        );
    }
}
