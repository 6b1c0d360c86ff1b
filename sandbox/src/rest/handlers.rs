//! `sale.paysystem.handler.add/update/delete/list`: REST handlers (the pay-system "drivers").

use serde_json::{json, Value};

use super::error::{ErrorCode, RestError};
use super::handler_settings::{parse_settings, settings_to_value};
use super::methods::Call;
use crate::params::{php_empty, php_string, IdArg, Params};
use crate::world::{Handler, World};

pub(super) fn add(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let name = p
        .string("NAME")
        .ok_or_else(|| RestError::check("Parameter NAME is not defined"))?;
    let code = p
        .string("CODE")
        .ok_or_else(|| RestError::check("Parameter CODE is not defined"))?;
    let settings = parse_settings(p.get("SETTINGS"))?;
    if call.world.handler_by_code(&code).is_some() {
        return Err(RestError::new(
            ErrorCode::HandlerAlreadyExist,
            "Handler already exists!",
        ));
    }
    let sort = parse_sort(p.get("SORT"))?;
    let world = &mut *call.world;
    let id = world.next.handler;
    world.next.handler += 1;
    world.handlers.insert(
        id,
        Handler {
            id,
            name,
            code,
            sort,
            settings,
        },
    );
    Ok(json!(id))
}

pub(super) fn update(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let fields = p
        .get("FIELDS")
        .ok_or_else(|| RestError::check("Parameter FIELDS is not defined"))?;
    let id = p.id("ID");
    let existing = id
        .id()
        .and_then(|id| call.world.handlers.get(&id))
        .ok_or_else(|| RestError::new(ErrorCode::HandlerNotFound, "Handler not found"))?;
    let mut updated = existing.clone();
    let Value::Object(fields) = fields else {
        return Err(RestError::check("Parameter FIELDS is not defined"));
    };
    for (key, value) in fields {
        match key.as_str() {
            "NAME" => {
                updated.name = php_string(value)
                    .ok_or_else(|| RestError::new(ErrorCode::HandlerUpdate, "NAME is invalid"))?
            }
            "CODE" => {
                let code = php_string(value)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| RestError::new(ErrorCode::HandlerUpdate, "CODE is invalid"))?;
                let taken = call
                    .world
                    .handlers
                    .values()
                    .any(|h| h.id != updated.id && h.code.eq_ignore_ascii_case(&code));
                if taken {
                    return Err(RestError::new(
                        ErrorCode::HandlerUpdate,
                        "Handler already exists!",
                    ));
                }
                updated.code = code;
            }
            "SORT" => updated.sort = parse_sort(Some(value))?,
            // SETTINGS is replaced whole, as the portal stores the new array as is.
            "SETTINGS" => updated.settings = parse_settings(Some(value))?,
            other => {
                return Err(RestError::new(
                    ErrorCode::HandlerUpdate,
                    format!("Unknown field {other}"),
                ))
            }
        }
    }
    call.world.handlers.insert(updated.id, updated);
    Ok(json!(true))
}

pub(super) fn delete(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let handler = match p.id("ID") {
        IdArg::Id(id) => call.world.handlers.get(&id),
        _ => None,
    }
    .ok_or_else(|| RestError::new(ErrorCode::HandlerNotFound, "Handler not found"))?;
    let in_use = call
        .world
        .pay_systems
        .values()
        .any(|ps| ps.action_file.eq_ignore_ascii_case(&handler.code));
    if in_use {
        return Err(RestError::new(
            ErrorCode::PaySystemDelete,
            format!(
                "Pay system with handler {} exists!",
                handler.code.to_uppercase()
            ),
        ));
    }
    let id = handler.id;
    call.world.handlers.remove(&id);
    Ok(json!(true))
}

pub(super) fn list(world: &World, _p: &Params) -> Result<Value, RestError> {
    let rows: Vec<Value> = world
        .handlers
        .values()
        .map(|h| {
            json!({
                "ID": h.id.to_string(),
                "NAME": h.name,
                "CODE": h.code,
                "SORT": h.sort.to_string(),
                "SETTINGS": settings_to_value(&h.settings),
            })
        })
        .collect();
    Ok(Value::Array(rows))
}

fn parse_sort(value: Option<&Value>) -> Result<i64, RestError> {
    if php_empty(value) {
        return Ok(100);
    }
    value
        .and_then(php_string)
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or_else(|| RestError::check("Parameter SORT is invalid"))
}
