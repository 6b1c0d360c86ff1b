//! A handler's `SETTINGS` (`CODES`, `FORM_DATA`/`CHECKOUT_DATA`/`IFRAME_DATA`, `CLIENT_TYPE`,
//! `CURRENCY`): parsed once with the portal's checks when a handler is added or updated, and
//! echoed back in the portal's shape by `handler.list`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::error::RestError;
use crate::params::{php_empty, php_string};
use crate::world::{CodeSpec, FieldCode, FieldSpec, HandlerSettings, Mapping, ModeData};

/// Parses `SETTINGS` with the portal's checks, in its order.
pub(crate) fn parse_settings(value: Option<&Value>) -> Result<HandlerSettings, RestError> {
    let Some(value) = value else {
        return Err(RestError::check("Parameter SETTINGS is not defined"));
    };
    let map = match value {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let codes = map
        .get("CODES")
        .filter(|v| !v.is_null())
        .ok_or_else(|| RestError::check("Parameter SETTINGS[CODES] is not defined"))?;
    let modes = ["FORM_DATA", "CHECKOUT_DATA", "IFRAME_DATA"];
    if modes.iter().all(|m| php_empty(map.get(*m))) {
        return Err(RestError::check(
            "Parameter SETTINGS[FORM_DATA] or SETTINGS[CHECKOUT_DATA] or SETTINGS[IFRAME_DATA] is not defined",
        ));
    }
    let mut parsed_modes = Vec::new();
    for mode in modes {
        let data = map.get(mode);
        if php_empty(data) {
            parsed_modes.push(None);
            continue;
        }
        parsed_modes.push(Some(parse_mode(mode, data.expect("not empty"))?));
    }
    if let Some(client_type) = map.get("CLIENT_TYPE").filter(|v| !v.is_null()) {
        let valid = php_string(client_type).is_some_and(|c| c == "b2c" || c == "b2b");
        if !valid {
            return Err(RestError::check(
                "Parameter value SETTINGS[CLIENT_TYPE] is invalid",
            ));
        }
    }
    let codes = entries(codes)
        .ok_or_else(|| RestError::check("Parameter SETTINGS[CODES] is invalid"))?
        .into_iter()
        .map(|(code, spec)| parse_code(&code, spec).map(|spec| (code, spec)))
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let currency_value = map.get("CURRENCY").filter(|v| !v.is_null());
    let currency = parse_currency(currency_value)?;
    let mut modes = parsed_modes.into_iter();
    Ok(HandlerSettings {
        codes,
        form_data: modes.next().flatten(),
        checkout_data: modes.next().flatten(),
        iframe_data: modes.next().flatten(),
        client_type: map.get("CLIENT_TYPE").and_then(php_string),
        currency,
        currency_given: currency_value.is_some(),
        extra: others(
            &map,
            &[
                "CODES",
                "FORM_DATA",
                "CHECKOUT_DATA",
                "IFRAME_DATA",
                "CLIENT_TYPE",
                "CURRENCY",
            ],
        ),
    })
}

/// `SETTINGS[CURRENCY]`: a list of codes, or empty.
fn parse_currency(value: Option<&Value>) -> Result<Vec<String>, RestError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(v) => entries(v)
            .and_then(|items| {
                items
                    .into_iter()
                    .map(|(_, v)| php_string(v))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| RestError::check("Parameter SETTINGS[CURRENCY] is invalid")),
    }
}

/// The entries of `map` whose keys are not `known`, kept to be echoed back as given.
fn others(map: &Map<String, Value>, known: &[&str]) -> BTreeMap<String, Value> {
    map.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The entries of a PHP array: an object's pairs or a list's items keyed `"0"`, `"1"`, …
fn entries(value: &Value) -> Option<Vec<(String, &Value)>> {
    match value {
        Value::Object(map) => Some(map.iter().map(|(k, v)| (k.clone(), v)).collect()),
        Value::Array(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
        ),
        _ => None,
    }
}

fn parse_code(code: &str, spec: &Value) -> Result<CodeSpec, RestError> {
    let Value::Object(map) = spec else {
        return Err(RestError::check(format!(
            "Parameter SETTINGS[CODES][{code}] is invalid"
        )));
    };
    let text = |key: &str| map.get(key).and_then(php_string);
    let default = match map.get("DEFAULT") {
        Some(Value::Object(d)) => Some(Mapping {
            provider_key: d.get("PROVIDER_KEY").and_then(php_string),
            provider_value: d.get("PROVIDER_VALUE").and_then(php_string),
        }),
        _ => None,
    };
    Ok(CodeSpec {
        name: text("NAME"),
        description: text("DESCRIPTION"),
        sort: map.get("SORT").cloned(),
        group: text("GROUP"),
        default,
        input: map.get("INPUT").cloned(),
        extra: others(
            map,
            &["NAME", "DESCRIPTION", "SORT", "GROUP", "DEFAULT", "INPUT"],
        ),
    })
}

fn parse_mode(mode: &str, data: &Value) -> Result<ModeData, RestError> {
    let missing_uri = || {
        RestError::check(format!(
            "Parameter SETTINGS[{mode}][ACTION_URI] is not defined"
        ))
    };
    let Value::Object(map) = data else {
        return Err(missing_uri());
    };
    if php_empty(map.get("ACTION_URI")) {
        return Err(missing_uri());
    }
    let action_uri = map
        .get("ACTION_URI")
        .and_then(php_string)
        .ok_or_else(missing_uri)?;
    let fields_value = map.get("FIELDS").filter(|v| !v.is_null());
    let fields = match fields_value {
        None => BTreeMap::new(),
        Some(Value::String(s)) if s.is_empty() => BTreeMap::new(),
        Some(v) => entries(v)
            .ok_or_else(|| {
                RestError::check(format!("Parameter SETTINGS[{mode}][FIELDS] is invalid"))
            })?
            .into_iter()
            .map(|(key, field)| parse_field(mode, &key, field).map(|f| (key, f)))
            .collect::<Result<_, _>>()?,
    };
    Ok(ModeData {
        action_uri,
        method: map.get("METHOD").and_then(php_string),
        fields,
        fields_given: fields_value.is_some(),
        extra: others(map, &["ACTION_URI", "METHOD", "FIELDS"]),
    })
}

fn parse_field(mode: &str, key: &str, field: &Value) -> Result<FieldSpec, RestError> {
    let Value::Object(map) = field else {
        return Err(RestError::check(format!(
            "Parameter SETTINGS[{mode}][FIELDS][{key}] is invalid"
        )));
    };
    let code = match map.get("CODE") {
        None | Some(Value::Null) => None,
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(FieldCode::Inline(v.clone())),
        Some(v) => php_string(v).map(FieldCode::Setting),
    };
    Ok(FieldSpec {
        code,
        visible: map.get("VISIBLE").and_then(php_string),
        extra: others(map, &["CODE", "VISIBLE"]),
    })
}

/// `SETTINGS` as `handler.list` returns it: what was stored, in the portal's shape.
pub(crate) fn settings_to_value(settings: &HandlerSettings) -> Value {
    let mut map = Map::new();
    let codes: Map<String, Value> = settings
        .codes
        .iter()
        .map(|(code, spec)| (code.clone(), code_to_value(spec)))
        .collect();
    map.insert("CODES".into(), php_array(codes));
    for (key, mode) in [
        ("FORM_DATA", &settings.form_data),
        ("CHECKOUT_DATA", &settings.checkout_data),
        ("IFRAME_DATA", &settings.iframe_data),
    ] {
        if let Some(mode) = mode {
            map.insert(key.into(), mode_to_value(mode));
        }
    }
    if let Some(client_type) = &settings.client_type {
        map.insert("CLIENT_TYPE".into(), json!(client_type));
    }
    if settings.currency_given {
        map.insert("CURRENCY".into(), json!(settings.currency));
    }
    for (k, v) in &settings.extra {
        map.insert(k.clone(), v.clone());
    }
    Value::Object(map)
}

/// PHP encodes an empty array as `[]`, not `{}`.
fn php_array(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(map)
    }
}

fn code_to_value(spec: &CodeSpec) -> Value {
    let mut map = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            map.insert(key.to_string(), value);
        }
    };
    put("NAME", spec.name.clone().map(Value::String));
    put("DESCRIPTION", spec.description.clone().map(Value::String));
    put("SORT", spec.sort.clone());
    put("GROUP", spec.group.clone().map(Value::String));
    put(
        "DEFAULT",
        spec.default
            .as_ref()
            .map(|d| json!({"PROVIDER_KEY": d.provider_key, "PROVIDER_VALUE": d.provider_value})),
    );
    put("INPUT", spec.input.clone());
    for (k, v) in &spec.extra {
        map.insert(k.clone(), v.clone());
    }
    Value::Object(map)
}

fn mode_to_value(mode: &ModeData) -> Value {
    let mut map = Map::new();
    map.insert("ACTION_URI".into(), json!(mode.action_uri));
    if let Some(method) = &mode.method {
        map.insert("METHOD".into(), json!(method));
    }
    if mode.fields_given {
        let fields: Map<String, Value> = mode
            .fields
            .iter()
            .map(|(key, field)| {
                let mut f = Map::new();
                match &field.code {
                    Some(FieldCode::Setting(code)) => {
                        f.insert("CODE".into(), json!(code));
                    }
                    Some(FieldCode::Inline(value)) => {
                        f.insert("CODE".into(), value.clone());
                    }
                    None => {}
                }
                if let Some(visible) = &field.visible {
                    f.insert("VISIBLE".into(), json!(visible));
                }
                for (k, v) in &field.extra {
                    f.insert(k.clone(), v.clone());
                }
                (key.clone(), Value::Object(f))
            })
            .collect();
        map.insert("FIELDS".into(), php_array(fields));
    }
    for (k, v) in &mode.extra {
        map.insert(k.clone(), v.clone());
    }
    Value::Object(map)
}
