//! `sale.paysystem.add/update/delete` (`.list` is in `paysystem_list.rs`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::error::{ErrorCode, RestError};
use super::methods::Call;
use super::settings::parse_settings_values;
use crate::params::{php_empty, php_string, IdArg, Params};
use crate::world::{PaySystem, Registry, World};

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
    Ok(json!(true))
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
