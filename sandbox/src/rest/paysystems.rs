//! `sale.paysystem.add/update/delete/list`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::error::{ErrorCode, RestError};
use super::settings::parse_settings_values;
use super::Call;
use crate::params::{php_empty, php_string, IdArg, Params};
use crate::world::{PaySystem, Registry, World};

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

pub(super) fn add(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    if p.is_empty("NAME") {
        return Err(RestError::check("Parameter NAME is not defined"));
    }
    let person_type = p.id("PERSON_TYPE_ID");
    if !person_type.is_set() {
        return Err(RestError::check("Parameter PERSON_TYPE_ID is not defined"));
    }
    let handler_code = p
        .string("BX_REST_HANDLER")
        .filter(|s| !php_empty(Some(&Value::String(s.clone()))))
        .ok_or_else(|| RestError::check("Parameter BX_REST_HANDLER is not defined"))?;
    if call.world.handler_by_code(&handler_code).is_none() {
        return Err(RestError::new(
            ErrorCode::HandlerNotFound,
            "Handler not found",
        ));
    }
    // Not given: a CRM portal's default. Given: must name the person type's registry.
    let registry = match p.get("ENTITY_REGISTRY_TYPE") {
        None => Some(Registry::CrmInvoice),
        Some(v) => php_string(v).and_then(|s| Registry::parse(&s)),
    };
    let person_type_id = person_type_in(call.world, &person_type, registry)?;
    let registry = registry.expect("checked with the person type");
    let settings = parse_settings_values(p.get("SETTINGS"))?;
    let active = yes_no(p, "ACTIVE")?;
    let new_window = yes_no(p, "NEW_WINDOW")?;
    let logotip = logo(call.world, p.get("LOGOTYPE").or(p.get("LOGOTIP")));

    let world = &mut *call.world;
    let id = world.next.pay_system;
    world.next.pay_system += 1;
    let mut pay_system = PaySystem {
        id,
        name: p.string("NAME").unwrap_or_default(),
        description: p.string("DESCRIPTION"),
        xml_id: p.string("XML_ID"),
        person_type_id,
        action_file: handler_code,
        active,
        new_window,
        registry,
        logotip,
        sort: 100,
        settings: BTreeMap::new(),
    };
    for (code, mapping) in settings {
        set_mapping(&mut pay_system, &code, Some(person_type_id), mapping);
    }
    world.pay_systems.insert(id, pay_system);
    call.changed = true;
    Ok(json!(id))
}

pub(super) fn update(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let id = p.id("ID");
    if !id.is_set() {
        return Err(RestError::check("Parameter ID is not defined"));
    }
    let fields = p.object("FIELDS").cloned().unwrap_or_default();
    let field = |key: &str| fields.get(key).filter(|v| !v.is_null());
    // The portal checks the handler and the person type even when they are not being changed,
    // so both must be sent with every update.
    let handler_code = field("BX_REST_HANDLER").and_then(php_string);
    let handler_known = handler_code
        .as_deref()
        .is_some_and(|code| call.world.handler_by_code(code).is_some());
    if !handler_known {
        return Err(RestError::new(
            ErrorCode::HandlerNotFound,
            "Handler not found",
        ));
    }
    let existing = id
        .id()
        .and_then(|id| call.world.pay_systems.get(&id))
        .ok_or_else(|| RestError::new(ErrorCode::PaySystemNotFound, "Pay system not found"))?;
    let person_type = IdArg::from_value(field("PERSON_TYPE_ID"));
    let person_type_id = person_type_in(call.world, &person_type, Some(existing.registry))?;

    let mut updated = existing.clone();
    if let Some(name) = field("NAME").and_then(php_string) {
        updated.name = name;
    }
    if let Some(description) = field("DESCRIPTION").and_then(php_string) {
        updated.description = Some(description);
    }
    if let Some(xml_id) = field("XML_ID").and_then(php_string) {
        updated.xml_id = Some(xml_id);
    }
    if field("ACTIVE").is_some() {
        updated.active = yes_no_value(field("ACTIVE"), "ACTIVE")?;
    }
    if field("NEW_WINDOW").is_some() {
        updated.new_window = yes_no_value(field("NEW_WINDOW"), "NEW_WINDOW")?;
    }
    if let Some(logo_value) = field("LOGOTYPE").or(field("LOGOTIP")) {
        updated.logotip = logo(call.world, Some(logo_value));
    }
    updated.person_type_id = person_type_id;
    updated.action_file = handler_code.expect("checked above");
    call.world.pay_systems.insert(updated.id, updated);
    call.changed = true;
    Ok(json!(true))
}

pub(super) fn delete(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let id = p
        .id("ID")
        .id()
        .filter(|id| call.world.pay_systems.contains_key(id))
        .ok_or_else(|| RestError::new(ErrorCode::PaySystemNotFound, "Pay system not found"))?;
    // Like the portal, payments keep their (now dangling) PAY_SYSTEM_ID.
    call.world.pay_systems.remove(&id);
    call.changed = true;
    Ok(json!(true))
}

pub(super) fn list(call: &mut Call, p: &Params) -> Result<Value, RestError> {
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

    let mut rows: Vec<Map<String, Value>> = call
        .world
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

/// The person type must exist in the pay system's registry.
fn person_type_in(
    world: &World,
    person_type: &IdArg,
    registry: Option<Registry>,
) -> Result<u64, RestError> {
    let not_found = || RestError::new(ErrorCode::PersonTypeNotFound, "Incorrect person type id!");
    let id = person_type.id().ok_or_else(not_found)?;
    match (world.person_type(id), registry) {
        (Some(pt), Some(registry)) if pt.registry == registry => Ok(id),
        _ => Err(not_found()),
    }
}

/// `ACTIVE`/`NEW_WINDOW`: empty means `N`; anything but `Y`/`N` fails the portal's validation.
fn yes_no(p: &Params, key: &str) -> Result<String, RestError> {
    yes_no_value(p.get(key), key)
}

fn yes_no_value(value: Option<&Value>, key: &str) -> Result<String, RestError> {
    if php_empty(value) {
        return Ok("N".to_string());
    }
    match value.and_then(php_string).as_deref() {
        Some("Y") => Ok("Y".to_string()),
        Some("N") => Ok("N".to_string()),
        _ => Err(RestError::new(
            ErrorCode::PaySystemAdd,
            format!("Invalid value of field {key}"),
        )),
    }
}

/// `LOGOTYPE` is saved as a file when it is Base64 image data; otherwise nothing is saved, as
/// the portal's `CRestUtil::saveFile` gives up on undecodable content.
fn logo(world: &mut World, value: Option<&Value>) -> Option<u64> {
    let text = value.and_then(php_string)?;
    let text = text.trim();
    let base64 = !text.is_empty()
        && text.len() % 4 == 0
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !base64 {
        return None;
    }
    let id = world.next.file;
    world.next.file += 1;
    Some(id)
}

/// Stores (or, with an empty `TYPE`, removes) one setting mapping.
pub(super) fn set_mapping(
    pay_system: &mut PaySystem,
    code: &str,
    person_type_id: Option<u64>,
    mapping: crate::world::Mapping,
) {
    let key = PaySystem::person_type_key(person_type_id);
    if mapping.provider_key.as_deref().unwrap_or("").is_empty() {
        if let Some(by_type) = pay_system.settings.get_mut(code) {
            by_type.remove(&key);
            if by_type.is_empty() {
                pay_system.settings.remove(code);
            }
        }
        return;
    }
    pay_system
        .settings
        .entry(code.to_string())
        .or_default()
        .insert(key, mapping);
}
