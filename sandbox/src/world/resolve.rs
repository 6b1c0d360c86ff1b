//! Business values: what a pay system's setting codes resolve to for one payment.
//!
//! For each code of the handler's `CODES`, the mapping is the pay system's setting for the
//! order's person type, else its setting for all person types, else the code's `DEFAULT`
//! (`PROVIDER_KEY`/`PROVIDER_VALUE`). The mapping's `TYPE` then decides the value:
//! `VALUE`, `Y/N` and `INPUT` give `VALUE` itself; `PAYMENT`, `ORDER`, `USER` and `PROPERTY`
//! read the named field of the payment, its order, the customer or an order property. Values are
//! printed the way the portal prints them (amounts as PHP floats, dates in the site format);
//! an unknown field or a code with no mapping resolves to `null`.

use super::{Mapping, Order, PaySystem, Payment, World};
use crate::portal_format::{php_number, site_date, site_datetime};

/// The mapping a setting code uses for a person type (see the module documentation).
pub(crate) fn effective_mapping(
    world: &World,
    pay_system: &PaySystem,
    code: &str,
    person_type_id: u64,
) -> Option<Mapping> {
    if let Some(mapping) = pay_system.mapping(code, person_type_id) {
        return Some(mapping.clone());
    }
    world
        .handler_of(pay_system)
        .and_then(|h| h.settings.codes.get(code))
        .and_then(|spec| spec.default.clone())
}

/// `sale.paysystem.settings.payment.get`: every handler code with its value for this payment.
pub(crate) fn business_values(
    world: &World,
    pay_system: &PaySystem,
    payment: &Payment,
) -> Vec<(String, Option<String>)> {
    let Some(handler) = world.handler_of(pay_system) else {
        return Vec::new();
    };
    let order = world.order_of(payment);
    handler
        .settings
        .codes
        .keys()
        .map(|code| {
            let value = effective_mapping(world, pay_system, code, order.person_type_id)
                .and_then(|m| provide(world, &m, pay_system, payment, order));
            (code.clone(), value)
        })
        .collect()
}

fn provide(
    world: &World,
    mapping: &Mapping,
    pay_system: &PaySystem,
    payment: &Payment,
    order: &Order,
) -> Option<String> {
    let key = mapping.provider_key.as_deref().unwrap_or("");
    let field = mapping.provider_value.as_deref().unwrap_or("");
    match key {
        "" | "VALUE" | "Y/N" | "Y\\N" | "INPUT" => mapping.provider_value.clone(),
        "PAYMENT" => payment_field(world, pay_system, payment, field),
        "ORDER" => order_field(world, payment, order, field),
        "USER" => world
            .user(order.user_id)
            .and_then(|u| u.fields.get(field).cloned()),
        "PROPERTY" => order.properties.get(field).cloned(),
        _ => None,
    }
}

fn payment_field(
    world: &World,
    pay_system: &PaySystem,
    payment: &Payment,
    field: &str,
) -> Option<String> {
    let ps = &payment.ps;
    Some(match field {
        "ID" => payment.id.to_string(),
        "ORDER_ID" => payment.order_id.to_string(),
        "ACCOUNT_NUMBER" => payment.account_number.clone(),
        "SUM" => php_number(&payment.sum),
        "CURRENCY" => payment.currency.clone(),
        "PAID" => if payment.paid { "Y" } else { "N" }.to_string(),
        "DATE_PAID" => site_datetime(payment.date_paid?),
        "DATE_BILL" => site_datetime(payment.date_bill),
        "DATE_BILL_DATE" => site_date(payment.date_bill),
        "PAY_SYSTEM_ID" => payment.pay_system_id?.to_string(),
        "PAY_SYSTEM_NAME" => world.pay_systems.get(&payment.pay_system_id?)?.name.clone(),
        "PAY_VOUCHER_DATE" => site_date(payment.date_paid?),
        "COMPANY_ID" => "1".to_string(),
        "PS_STATUS" => ps.status.clone()?,
        "PS_STATUS_CODE" => ps.status_code.clone()?,
        "PS_STATUS_DESCRIPTION" => ps.status_description.clone()?,
        "PS_STATUS_MESSAGE" => ps.status_message.clone()?,
        "PS_INVOICE_ID" => ps.invoice_id.clone()?,
        "PS_SUM" => ps.sum.clone()?,
        "PS_CURRENCY" => ps.currency.clone()?,
        "PS_CARD_NUMBER" => ps.card_number.clone()?,
        "PS_RECURRING_TOKEN" => ps.recurring_token.clone()?,
        // Known fields the sandbox never fills (vouchers, returns, XML_ID, deadlines).
        _ => {
            let _ = pay_system;
            return None;
        }
    })
}

fn order_field(world: &World, payment: &Payment, order: &Order, field: &str) -> Option<String> {
    Some(match field {
        "ID" => order.id.to_string(),
        "ACCOUNT_NUMBER" => order.account_number.clone(),
        "ORDER_TOPIC" => order.topic.clone(),
        "DATE_INSERT" => site_datetime(order.date_insert),
        "DATE_INSERT_DATE" => site_date(order.date_insert),
        "DATE_BILL" => site_datetime(payment.date_bill),
        "DATE_BILL_DATE" => site_date(payment.date_bill),
        "SHOULD_PAY" | "PRICE" => php_number(&order.price),
        "CURRENCY" => order.currency.clone(),
        "PRICE_DELIVERY" | "DISCOUNT_VALUE" | "TAX_VALUE" => "0".to_string(),
        "USER_ID" => order.user_id.to_string(),
        "PAY_SYSTEM_ID" => payment.pay_system_id?.to_string(),
        "USER_DESCRIPTION" => order.comment.clone(),
        "PERSON_TYPE_ID" => order.person_type_id.to_string(),
        _ => {
            let _ = world;
            return None;
        }
    })
}
