//! `sale.paysystem.settings.get/update` and the per-payment `settings.payment.get` /
//! `settings.invoice.get`.

use serde_json::{json, Map, Value};

use super::error::{ErrorCode, RestError};
use super::methods::Call;
use super::paysystems::set_mapping;
use crate::params::{php_empty, php_string, Params};
use crate::world::resolve::{business_values, effective_mapping};
use crate::world::{Mapping, PaySystem, Payment, Registry, World};

pub(super) fn get(world: &World, p: &Params) -> Result<Value, RestError> {
    let person_type = p.id("PERSON_TYPE_ID");
    if !person_type.is_set() {
        return Err(RestError::check("Parameter PERSON_TYPE_ID is not defined"));
    }
    let pay_system = existing_pay_system(world, p)?;
    let codes: Vec<String> = world
        .handler_of(pay_system)
        .map(|h| h.settings.codes.keys().cloned().collect())
        .unwrap_or_default();
    let person_type_id = person_type.id().unwrap_or(0);
    let result: Map<String, Value> = codes
        .into_iter()
        .map(|code| {
            let mapping = effective_mapping(world, pay_system, &code, person_type_id);
            let (key, value) = mapping
                .map(|m| (m.provider_key, m.provider_value))
                .unwrap_or_default();
            (code, json!({"TYPE": key, "VALUE": value}))
        })
        .collect();
    Ok(php_object(result))
}

pub(super) fn update(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let pay_system_id = existing_pay_system(call.world, p)?.id;
    if p.is_empty("SETTINGS") {
        return Err(RestError::new(
            ErrorCode::HandlerNotFound,
            "Parameter SETTINGS is not defined or empty",
        ));
    }
    let settings = parse_settings_values(p.get("SETTINGS"))?;
    let person_type_id = p.id("PERSON_TYPE_ID").id();
    let pay_system = call
        .world
        .pay_systems
        .get_mut(&pay_system_id)
        .expect("checked above");
    for (code, mapping) in settings {
        set_mapping(pay_system, &code, person_type_id, mapping);
    }
    Ok(json!(true))
}

pub(super) fn payment_get(world: &World, p: &Params) -> Result<Value, RestError> {
    let (pay_system, payment) = payment_of_pay_system(world, p)?;
    Ok(flat(business_values(world, pay_system, payment)))
}

pub(super) fn invoice_get(world: &World, p: &Params) -> Result<Value, RestError> {
    let pay_system_arg = p.id("PAY_SYSTEM_ID");
    let handler_code = p.string("BX_REST_HANDLER");
    if !pay_system_arg.is_set() && p.get("BX_REST_HANDLER").is_none() {
        return Err(RestError::check(
            "Empty field BX_REST_HANDLER and PAY_SYSTEM_ID",
        ));
    }
    let invoice = p.id("INVOICE_ID");
    if invoice.is_empty() {
        return Err(RestError::check("Empty field INVOICE_ID"));
    }
    named_ones_exist(world, p, handler_code.as_deref())?;
    let pay_system = match pay_system_by_arg(world, p) {
        Some(ps) => ps,
        None => {
            let code = handler_code.unwrap_or_default();
            world
                .pay_systems
                .values()
                .find(|ps| ps.action_file.eq_ignore_ascii_case(&code))
                .ok_or_else(|| {
                    RestError::new(
                        ErrorCode::PaySystemNotFound,
                        format!("Pay system with handler {code} not found"),
                    )
                })?
        }
    };
    let payment = invoice
        .id()
        .and_then(|id| world.invoice_payment(id))
        .ok_or_else(|| {
            RestError::new(
                ErrorCode::InternalInvoiceNotFound,
                format!("Invoice #{} not found", invoice.display()),
            )
        })?;
    Ok(flat(business_values(world, pay_system, payment)))
}

/// `settings.payment.get` and `pay.payment`: the payment must exist in the `ORDER` registry and
/// be bound to exactly this pay system. Checks and messages in the portal's order.
pub(super) fn payment_of_pay_system<'w>(
    world: &'w World,
    p: &Params,
) -> Result<(&'w PaySystem, &'w Payment), RestError> {
    let pay_system_arg = p.id("PAY_SYSTEM_ID");
    if pay_system_arg.is_empty() {
        return Err(RestError::check("Empty field PAY_SYSTEM_ID!"));
    }
    let payment_arg = p.id("PAYMENT_ID");
    if payment_arg.is_empty() {
        return Err(RestError::check("Empty field PAYMENT_ID"));
    }
    let pay_system =
        pay_system_by_arg(world, p).ok_or_else(|| RestError::check("Pay system not found"))?;
    payment_arg
        .id()
        .and_then(|id| world.payments.get(&id))
        .filter(|payment| {
            payment.pay_system_id == Some(pay_system.id)
                && world.registry_of(payment) == Registry::Order
        })
        .map(|payment| (pay_system, payment))
        .ok_or_else(|| {
            RestError::check(format!(
                "Payment with ID={} and PAY_SYSTEM_ID={} not found",
                payment_arg.display(),
                pay_system_arg.display()
            ))
        })
}

pub(super) fn pay_system_by_arg<'w>(world: &'w World, p: &Params) -> Option<&'w PaySystem> {
    p.id("PAY_SYSTEM_ID")
        .id()
        .and_then(|id| world.pay_systems.get(&id))
}

/// The pay system (`PAY_SYSTEM_ID`) and the handler (`BX_REST_HANDLER`) an invoice call names,
/// when it names them, exist (`ERROR_CHECK_FAILURE` otherwise, as the portal words it).
pub(super) fn named_ones_exist(
    world: &World,
    p: &Params,
    handler_code: Option<&str>,
) -> Result<(), RestError> {
    let pay_system_arg = p.id("PAY_SYSTEM_ID");
    if pay_system_arg.is_set() && pay_system_by_arg(world, p).is_none() {
        return Err(RestError::check(format!(
            "Pay system with ID={} not found",
            pay_system_arg.display()
        )));
    }
    if let Some(code) = handler_code {
        if world.handler_by_code(code).is_none() {
            return Err(RestError::check("Incorrect rest handler code"));
        }
    }
    Ok(())
}

/// `ID` given and naming an existing pay system (`ERROR_CHECK_FAILURE` otherwise).
fn existing_pay_system<'w>(world: &'w World, p: &Params) -> Result<&'w PaySystem, RestError> {
    let id = p.id("ID");
    if !id.is_set() {
        return Err(RestError::check("Parameter ID is not defined"));
    }
    id.id()
        .and_then(|id| world.pay_systems.get(&id))
        .ok_or_else(|| RestError::check("Pay system not found"))
}

/// `SETTINGS {CODE: {TYPE, VALUE}}` of `sale.paysystem.add` and `settings.update`.
pub(super) fn parse_settings_values(
    value: Option<&Value>,
) -> Result<Vec<(String, Mapping)>, RestError> {
    let entries: Vec<(String, &Value)> = match value {
        None => Vec::new(),
        Some(v) if php_empty(Some(v)) => Vec::new(),
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        Some(_) => return Err(RestError::check("Parameter SETTINGS is invalid")),
    };
    entries
        .into_iter()
        .map(|(code, mapping)| match mapping {
            Value::Object(m) => Ok((
                code,
                Mapping {
                    provider_key: m.get("TYPE").and_then(php_string),
                    provider_value: m.get("VALUE").and_then(php_string),
                },
            )),
            _ => Err(RestError::check(format!(
                "Parameter SETTINGS[{code}] is invalid"
            ))),
        })
        .collect()
}

/// The resolved values as one flat object; PHP sends an empty array as `[]`.
fn flat(values: Vec<(String, Option<String>)>) -> Value {
    php_object(
        values
            .into_iter()
            .map(|(code, value)| (code, value.map(Value::String).unwrap_or(Value::Null)))
            .collect(),
    )
}

fn php_object(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(map)
    }
}
