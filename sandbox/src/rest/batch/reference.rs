//! References to earlier results inside a command's parameters: `$result[key][FIELD]`, with
//! as many `[…]` steps as needed (`$result[list][0][ID]`).
//!
//! A value that is exactly one reference becomes the referenced value itself (a number, a
//! string, or a whole structure); references inside longer text are replaced by the value as
//! PHP prints a scalar. A reference to a command that did not succeed, or to a field it does
//! not have, is empty.

use serde_json::Value;

use crate::params::php_string;

const PREFIX: &str = "$result[";

/// Replaces every reference in the string values of `value`, at any depth.
pub(super) fn resolve(value: Value, lookup: &dyn Fn(&str) -> Option<Value>) -> Value {
    match value {
        Value::String(text) => resolve_text(&text, lookup),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| resolve(v, lookup)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, resolve(v, lookup)))
                .collect(),
        ),
        other => other,
    }
}

fn resolve_text(text: &str, lookup: &dyn Fn(&str) -> Option<Value>) -> Value {
    if !text.contains(PREFIX) {
        return Value::String(text.to_string());
    }
    if let Some((path, end)) = parse_at(text, 0) {
        if end == text.len() {
            return referenced(&path, lookup).unwrap_or_else(|| Value::String(String::new()));
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(found) = text[rest..].find(PREFIX).map(|i| rest + i) {
        out.push_str(&text[rest..found]);
        match parse_at(text, found) {
            Some((path, end)) => {
                let value = referenced(&path, lookup);
                out.push_str(&value.as_ref().and_then(php_string).unwrap_or_default());
                rest = end;
            }
            None => {
                out.push_str(PREFIX);
                rest = found + PREFIX.len();
            }
        }
    }
    out.push_str(&text[rest..]);
    Value::String(out)
}

/// The `[…]` steps of a reference starting at `start`, and where it ends.
fn parse_at(text: &str, start: usize) -> Option<(Vec<String>, usize)> {
    let mut at = start + PREFIX.len() - 1;
    let mut path = Vec::new();
    while text[at..].starts_with('[') {
        let close = text[at + 1..].find(']')? + at + 1;
        path.push(text[at + 1..close].to_string());
        at = close + 1;
    }
    (!path.is_empty() && !path[0].is_empty()).then_some((path, at))
}

fn referenced(path: &[String], lookup: &dyn Fn(&str) -> Option<Value>) -> Option<Value> {
    let (key, steps) = path.split_first()?;
    let mut value = lookup(key)?;
    for step in steps {
        value = match value {
            Value::Object(mut map) => map.remove(step)?,
            Value::Array(mut items) => {
                let index: usize = step.parse().ok()?;
                (index < items.len()).then(|| items.swap_remove(index))?
            }
            _ => return None,
        };
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn results(key: &str) -> Option<Value> {
        match key {
            "add" => Some(json!(7)),
            "user" => Some(json!({"ID": "3", "UF_DEPARTMENT": [12, 14], "NAME": "Anna"})),
            "list" => Some(json!([{"ID": "5"}, {"ID": "6"}])),
            _ => None,
        }
    }

    #[test]
    fn whole_values_keep_their_type() {
        assert_eq!(resolve(json!("$result[add]"), &results), json!(7));
        assert_eq!(
            resolve(json!("$result[user][UF_DEPARTMENT]"), &results),
            json!([12, 14])
        );
        assert_eq!(
            resolve(json!({"F": {"ID": "$result[list][1][ID]"}}), &results),
            json!({"F": {"ID": "6"}})
        );
    }

    #[test]
    fn references_inside_text_are_printed() {
        assert_eq!(
            resolve(json!("id $result[add] of $result[user][NAME]!"), &results),
            json!("id 7 of Anna!")
        );
        assert_eq!(
            resolve(json!("$result[user][UF_DEPARTMENT][0]/x"), &results),
            json!("12/x")
        );
    }

    #[test]
    fn unknown_references_are_empty_and_broken_ones_stay() {
        assert_eq!(resolve(json!("$result[nope][ID]"), &results), json!(""));
        assert_eq!(resolve(json!("$result[add][X]"), &results), json!(""));
        assert_eq!(
            resolve(json!("a $result[ b"), &results),
            json!("a $result[ b")
        );
        assert_eq!(resolve(json!("$result[]"), &results), json!("$result[]"));
    }
}
