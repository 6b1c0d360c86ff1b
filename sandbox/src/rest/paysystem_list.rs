//! `sale.paysystem.list {SELECT, FILTER, ORDER}` over the portal's allowed fields, with its
//! filter prefixes (`=`, `!`, `>`, `>=`, `<`, `<=`, `%`, `@`).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::error::{ErrorCode, RestError};
use crate::params::{php_string, Params};
use crate::world::{PaySystem, World};

/// Fields `.list` may select, filter and sort by (the portal's `ALLOWED_PAYSYSTEM_FIELDS`).
const ALLOWED_FIELDS: &[&str] = &[
    "ID",
    "PERSON_TYPE_ID",
    "NAME",
    "PSA_NAME",
    "SORT",
    "DESCRIPTION",
    "ACTION_FILE",
    "RESULT_FILE",
    "NEW_WINDOW",
    "TARIF",
    "PS_MODE",
    "HAVE_PAYMENT",
    "HAVE_ACTION",
    "HAVE_RESULT",
    "HAVE_PREPAY",
    "HAVE_PRICE",
    "HAVE_RESULT_RECEIVE",
    "ENCODING",
    "LOGOTIP",
    "ACTIVE",
    "ALLOW_EDIT_PAYMENT",
    "IS_CASH",
    "AUTO_CHANGE_1C",
    "CAN_PRINT_CHECK",
    "ENTITY_REGISTRY_TYPE",
    "XML_ID",
];

const NUMERIC_FIELDS: &[&str] = &["ID", "PERSON_TYPE_ID", "SORT", "LOGOTIP"];

/// The portal accepts the public names for two fields that are stored under older names.
fn incoming_name(name: &str) -> &str {
    match name {
        "LOGOTYPE" => "LOGOTIP",
        "TARIFF" => "TARIF",
        other => other,
    }
}

fn outgoing_name(name: &str) -> &str {
    match name {
        "LOGOTIP" => "LOGOTYPE",
        "TARIF" => "TARIFF",
        other => other,
    }
}

pub(super) fn list(world: &World, p: &Params) -> Result<Value, RestError> {
    let select = match p.get("SELECT") {
        Some(v @ (Value::Array(_) | Value::Object(_))) => {
            let names = values_of(v)
                .into_iter()
                .map(|name| incoming_name(&name.to_uppercase()).to_string())
                .collect::<Vec<_>>();
            let refused: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .filter(|n| !ALLOWED_FIELDS.contains(n))
                .collect();
            if !refused.is_empty() {
                return Err(RestError::new(
                    ErrorCode::Core,
                    format!("{} not allowed for select", refused.join(", ")),
                ));
            }
            names
        }
        _ => ALLOWED_FIELDS.iter().map(|s| s.to_string()).collect(),
    };
    let filter = parse_filter(p.object("FILTER"))?;
    let order = parse_order(p.object("ORDER"))?;

    let mut rows: Vec<Map<String, Value>> = world
        .pay_systems
        .values()
        .map(row)
        .filter(|row| filter.iter().all(|f| f.matches(row)))
        .collect();
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            order
                .iter()
                .map(|(field, descending)| {
                    let ord = compare_field(field, a.get(field), b.get(field));
                    if *descending {
                        ord.reverse()
                    } else {
                        ord
                    }
                })
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
    }
    let result = rows
        .into_iter()
        .map(|row| {
            let out: Map<String, Value> = select
                .iter()
                .map(|field| {
                    (
                        outgoing_name(field).to_string(),
                        row.get(field).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect();
            Value::Object(out)
        })
        .collect();
    Ok(Value::Array(result))
}

/// A pay system as a database row: every value a string (or null), as the portal sends it.
fn row(ps: &PaySystem) -> Map<String, Value> {
    let s = |v: &str| Value::String(v.to_string());
    let opt = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    let mut m = Map::new();
    m.insert("ID".into(), s(&ps.id.to_string()));
    m.insert("PERSON_TYPE_ID".into(), s(&ps.person_type_id.to_string()));
    m.insert("NAME".into(), s(&ps.name));
    m.insert("PSA_NAME".into(), s(&ps.name));
    m.insert("SORT".into(), s(&ps.sort.to_string()));
    m.insert("DESCRIPTION".into(), opt(&ps.description));
    m.insert("ACTION_FILE".into(), s(&ps.action_file));
    m.insert("RESULT_FILE".into(), Value::Null);
    m.insert("NEW_WINDOW".into(), s(&ps.new_window));
    m.insert("TARIF".into(), Value::Null);
    m.insert("PS_MODE".into(), Value::Null);
    m.insert("HAVE_PAYMENT".into(), s("N"));
    m.insert("HAVE_ACTION".into(), s("N"));
    m.insert("HAVE_RESULT".into(), s("N"));
    m.insert("HAVE_PREPAY".into(), s("N"));
    m.insert("HAVE_PRICE".into(), s("N"));
    m.insert("HAVE_RESULT_RECEIVE".into(), s("Y"));
    m.insert("ENCODING".into(), Value::Null);
    m.insert(
        "LOGOTIP".into(),
        ps.logotip
            .map(|id| s(&id.to_string()))
            .unwrap_or(Value::Null),
    );
    m.insert("ACTIVE".into(), s(&ps.active));
    m.insert("ALLOW_EDIT_PAYMENT".into(), s("Y"));
    m.insert("IS_CASH".into(), s("N"));
    m.insert("AUTO_CHANGE_1C".into(), s("N"));
    m.insert("CAN_PRINT_CHECK".into(), s("N"));
    m.insert("ENTITY_REGISTRY_TYPE".into(), s(ps.registry.as_str()));
    m.insert("XML_ID".into(), opt(&ps.xml_id));
    m
}

/// One `FILTER` condition: `=ID`, `!ACTIVE`, `>=SORT`, `%NAME`, `@ID` …, as the portal's
/// `CSqlUtil::GetFilterOperation` reads the key's prefix. No prefix means equality.
struct Condition {
    field: String,
    op: &'static str,
    value: Value,
}

fn parse_filter(filter: Option<&Map<String, Value>>) -> Result<Vec<Condition>, RestError> {
    let Some(filter) = filter else {
        return Ok(Vec::new());
    };
    let mut conditions = Vec::new();
    let mut refused = Vec::new();
    for (raw, value) in filter {
        let op = [
            "!><", "><", ">=", "<=", "!=", "!%", "!@", "=", "!", ">", "<", "%", "@",
        ]
        .into_iter()
        .find(|op| raw.starts_with(op))
        .unwrap_or("");
        let field = incoming_name(&raw[op.len()..].to_uppercase()).to_string();
        if !ALLOWED_FIELDS.contains(&field.as_str()) {
            refused.push(field.clone());
        }
        conditions.push(Condition {
            field,
            op,
            value: value.clone(),
        });
    }
    if !refused.is_empty() {
        return Err(RestError::new(
            ErrorCode::Core,
            format!("{} not allowed for filter", refused.join(", ")),
        ));
    }
    Ok(conditions)
}

impl Condition {
    fn matches(&self, row: &Map<String, Value>) -> bool {
        let actual = row.get(&self.field).and_then(php_string);
        let wanted: Vec<String> = match &self.value {
            Value::Array(_) | Value::Object(_) => values_of(&self.value),
            v => php_string(v).into_iter().collect(),
        };
        let eq = |want: &str| match &actual {
            Some(a) if NUMERIC_FIELDS.contains(&self.field.as_str()) => {
                a.parse::<f64>().ok() == want.trim().parse::<f64>().ok()
            }
            Some(a) => a.eq_ignore_ascii_case(want),
            None => want.is_empty(),
        };
        let cmp = |want: &str| -> Option<Ordering> {
            let a = actual.as_deref()?;
            if NUMERIC_FIELDS.contains(&self.field.as_str()) {
                a.parse::<f64>()
                    .ok()?
                    .partial_cmp(&want.trim().parse::<f64>().ok()?)
            } else {
                Some(a.cmp(want))
            }
        };
        let first = wanted.first().map(String::as_str).unwrap_or("");
        let contains = |want: &str| {
            actual
                .as_deref()
                .is_some_and(|a| a.to_lowercase().contains(&want.to_lowercase()))
        };
        match self.op {
            "" | "=" | "@" => wanted.iter().any(|w| eq(w)),
            "!" | "!=" | "!@" => !wanted.iter().any(|w| eq(w)),
            ">" => cmp(first) == Some(Ordering::Greater),
            ">=" => matches!(cmp(first), Some(Ordering::Greater | Ordering::Equal)),
            "<" => cmp(first) == Some(Ordering::Less),
            "<=" => matches!(cmp(first), Some(Ordering::Less | Ordering::Equal)),
            "%" => contains(first),
            "!%" => !contains(first),
            "><" | "!><" => {
                let inside = wanted.len() == 2
                    && matches!(cmp(&wanted[0]), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(cmp(&wanted[1]), Some(Ordering::Less | Ordering::Equal));
                (self.op == "><") == inside
            }
            _ => false,
        }
    }
}

/// `ORDER {FIELD: ASC|DESC}`. (JSON object keys are not kept in order, so several sort keys
/// apply alphabetically by field name.)
fn parse_order(order: Option<&Map<String, Value>>) -> Result<Vec<(String, bool)>, RestError> {
    let Some(order) = order else {
        return Ok(Vec::new());
    };
    let mut keys = Vec::new();
    let mut refused = Vec::new();
    for (field, direction) in order {
        let field = incoming_name(&field.to_uppercase()).to_string();
        if !ALLOWED_FIELDS.contains(&field.as_str()) {
            refused.push(field.clone());
        }
        let descending = php_string(direction).is_some_and(|d| d.eq_ignore_ascii_case("DESC"));
        keys.push((field, descending));
    }
    if !refused.is_empty() {
        return Err(RestError::new(
            ErrorCode::Core,
            format!("{} not allowed for order", refused.join(", ")),
        ));
    }
    Ok(keys)
}

fn compare_field(field: &str, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.and_then(php_string);
    let b = b.and_then(php_string);
    if NUMERIC_FIELDS.contains(&field) {
        let num = |v: &Option<String>| v.as_deref().and_then(|s| s.parse::<f64>().ok());
        num(&a).partial_cmp(&num(&b)).unwrap_or(Ordering::Equal)
    } else {
        a.cmp(&b)
    }
}

fn values_of(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(php_string).collect(),
        Value::Object(map) => map.values().filter_map(php_string).collect(),
        v => php_string(v).into_iter().collect(),
    }
}
