//! The portal's iframe markup and script (`templates/pay_frame.html`) and the object it posts
//! to the frame on every load.

use serde_json::{json, Map, Value};

use super::notice;
use crate::html::{self, esc, script_json};
use crate::portal_format::php_number;
use crate::world::resolve::business_values;
use crate::world::{FieldCode, HandlerMode, ModeData, PaySystem, Payment, World};

const FRAME: &str = include_str!("../../templates/pay_frame.html");

/// The IFRAME handler's data of a pay system, or the notice saying why there is none.
fn iframe_data_of<'w>(world: &'w World, pay_system: &PaySystem) -> Result<&'w ModeData, String> {
    let Some(handler) = world.handler_of(pay_system) else {
        return Err(notice(
            "Payment method unavailable",
            &format!(
                "The handler <code>{}</code> of this payment method is not registered.",
                esc(&pay_system.action_file)
            ),
        ));
    };
    match (handler.settings.mode(), &handler.settings.iframe_data) {
        (HandlerMode::Iframe, Some(iframe)) => Ok(iframe),
        (mode, _) => {
            let mode = match mode {
                HandlerMode::Checkout => "CHECKOUT",
                _ => "FORM",
            };
            Err(notice(
                "Not an IFRAME payment method",
                &format!(
                    "The payment method <strong>{}</strong> uses the handler <code>{}</code> in \
                     {mode} mode. This sandbox page hosts IFRAME handlers only.",
                    esc(&pay_system.name),
                    esc(&handler.code)
                ),
            ))
        }
    }
}

pub(super) fn pay_system_block(
    world: &World,
    pay_system: &PaySystem,
    payment: &Payment,
    return_url: &str,
) -> String {
    let iframe_data = match iframe_data_of(world, pay_system) {
        Ok(data) => data,
        Err(notice) => return notice,
    };
    let payload = iframe_payload(world, pay_system, payment, return_url);
    let action_uri = &iframe_data.action_uri;
    let host = url::Url::parse(action_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    html::render(
        FRAME,
        &[
            ("name", &esc(&pay_system.name)),
            ("src", &esc(action_uri)),
            ("payload_json", &script_json(&payload)),
            ("target_json", &script_json(&json!(action_uri))),
            ("host_json", &script_json(&json!(host))),
        ],
    )
}

/// The object posted to the iframe on every load, without `BX_COMPUTED_STYLE`.
fn iframe_payload(
    world: &World,
    pay_system: &PaySystem,
    payment: &Payment,
    return_url: &str,
) -> Value {
    let mut data = Map::new();
    let fields = world
        .handler_of(pay_system)
        .and_then(|h| h.settings.iframe_data.as_ref())
        .map(|d| d.fields.clone())
        .unwrap_or_default();
    let values = business_values(world, pay_system, payment);
    for (key, field) in &fields {
        if let Some(FieldCode::Setting(code)) = &field.code {
            if code.is_empty() || code == "0" {
                continue;
            }
            let value = values
                .iter()
                .find(|(c, _)| c == code)
                .and_then(|(_, v)| v.clone())
                .unwrap_or_default();
            data.insert(key.clone(), Value::String(value));
        }
    }
    let mut system = Map::new();
    system.insert("RETURN_URL".into(), json!(return_url));
    system.insert("PAYSYSTEM_ID".into(), json!(pay_system.id.to_string()));
    system.insert("PAYMENT_ID".into(), json!(payment.id.to_string()));
    system.insert("SUM".into(), json!(php_number(&payment.sum)));
    system.insert("CURRENCY".into(), json!(payment.currency));
    if let Some(external) = &payment.ps.invoice_id {
        system.insert("EXTERNAL_PAYMENT_ID".into(), json!(external));
    }
    data.insert("BX_SYSTEM_PARAMS".into(), Value::Object(system));
    Value::Object(data)
}
