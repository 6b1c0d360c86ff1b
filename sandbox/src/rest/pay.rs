//! `sale.paysystem.pay.payment` and `sale.paysystem.pay.invoice`: mark a payment paid.
//!
//! As on the portal, a successful call marks the payment paid (`PAID=Y`, `DATE_PAID` when it
//! changes), sets `PS_STATUS=Y`, `PS_STATUS_CODE=Y` and `PS_RESPONSE_DATE`, then stores each
//! non-empty `PS_*` extra of the request. Calling it again for a payment that is already paid
//! answers `true` again: the payment stays paid with its first `DATE_PAID`, and the `PS_*`
//! fields are overwritten by the new call's (so `PS_STATUS_CODE` falls back to `Y` unless sent).
//! The portal's REST handler does exactly this (`setPaid('Y')` on a paid payment is a no-op),
//! which is why clients must not rely on the portal to refuse duplicates.
//!
//! The portal can also answer `true` without having saved the payment; the sandbox does that
//! on demand ([`crate::Fault::TrueWithoutSaving`]), counting such calls apart.

use serde_json::{json, Value};

use super::error::{ErrorCode, RestError};
use super::methods::Call;
use super::settings::{named_ones_exist, pay_system_by_arg, payment_of_pay_system};
use crate::params::{php_empty, php_string, Params};
use crate::portal_format::rfc3339;
use crate::world::Registry;

pub(super) fn payment(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let payment_id = match payment_of_pay_system(call.world, p) {
        Ok((_, payment)) => payment.id,
        Err(error) => {
            if let Some(payment) = p
                .id("PAYMENT_ID")
                .id()
                .and_then(|id| call.world.payments.get_mut(&id))
            {
                payment.rejected_pay_calls += 1;
            }
            return Err(error);
        }
    };
    mark_paid(call, payment_id, p);
    Ok(json!(true))
}

pub(super) fn invoice(call: &mut Call, p: &Params) -> Result<Value, RestError> {
    let world = &*call.world;
    let pay_system_arg = p.id("PAY_SYSTEM_ID");
    let handler_code = p.string("BX_REST_HANDLER");
    if !pay_system_arg.is_set() && p.get("BX_REST_HANDLER").is_none() {
        return Err(RestError::check(
            "Empty field BX_REST_HANDLER and PAY_SYSTEM_ID",
        ));
    }
    named_ones_exist(world, p, handler_code.as_deref())?;
    let invoice = p.id("INVOICE_ID");
    if invoice.is_empty() {
        return Err(RestError::check("Empty field INVOICE_ID!"));
    }
    let payment_id = invoice
        .id()
        .and_then(|id| world.invoice_payment(id))
        .map(|payment| payment.id)
        .ok_or_else(|| {
            RestError::new(
                ErrorCode::InternalInvoiceNotFound,
                format!("Invoice #{} not found", invoice.display()),
            )
        })?;
    // PAY_SYSTEM_ID wins over BX_REST_HANDLER; either way it must be a CRM_INVOICE pay system.
    let pay_system = match pay_system_by_arg(world, p) {
        Some(ps) => Some(ps),
        None => world.pay_systems.values().find(|ps| {
            ps.registry == Registry::CrmInvoice
                && ps
                    .action_file
                    .eq_ignore_ascii_case(handler_code.as_deref().unwrap_or(""))
        }),
    };
    if !pay_system.is_some_and(|ps| ps.registry == Registry::CrmInvoice) {
        return Err(RestError::new(
            ErrorCode::ProcessRequestResult,
            "Pay system not found",
        ));
    }
    mark_paid(call, payment_id, p);
    Ok(json!(true))
}

fn mark_paid(call: &mut Call, payment_id: u64, p: &Params) {
    let now = call.now;
    let payment = call
        .world
        .payments
        .get_mut(&payment_id)
        .expect("found by the caller");
    if call.unsaved {
        // The portal's save failed after its checks passed: it still answers `true`.
        payment.unsaved_pay_calls += 1;
        return;
    }
    if !payment.paid {
        payment.paid = true;
        payment.date_paid = Some(now);
    }
    let extra = |key: &str| {
        p.get(key)
            .filter(|v| !php_empty(Some(v)))
            .and_then(php_string)
    };
    let ps = &mut payment.ps;
    ps.status = Some("Y".to_string());
    ps.status_code = Some(extra("PS_STATUS_CODE").unwrap_or_else(|| "Y".to_string()));
    ps.response_date = Some(rfc3339(now));
    let fields = [
        ("PS_INVOICE_ID", &mut ps.invoice_id),
        ("PS_STATUS_DESCRIPTION", &mut ps.status_description),
        ("PS_STATUS_MESSAGE", &mut ps.status_message),
        ("PS_SUM", &mut ps.sum),
        ("PS_CURRENCY", &mut ps.currency),
        ("PS_RECURRING_TOKEN", &mut ps.recurring_token),
        ("PS_CARD_NUMBER", &mut ps.card_number),
    ];
    for (key, slot) in fields {
        if let Some(value) = extra(key) {
            *slot = Some(value);
        }
    }
    payment.pay_calls += 1;
}
