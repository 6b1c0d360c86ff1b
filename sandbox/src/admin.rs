//! `/admin`: a plain page listing payments (paid state, `PS_*` fields, pay calls), REST handlers,
//! pay systems and the sandbox's switches, with a form to create a payment.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::html::{display_amount, esc};
use crate::portal_format::site_datetime;
use crate::state::AppState;
use crate::world::{NewPayment, Registry};

pub(crate) async fn root() -> Redirect {
    Redirect::to("/admin")
}

pub(crate) async fn page(State(state): State<Arc<AppState>>) -> Html<String> {
    Html(render(&state, None))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateForm {
    sum: String,
    currency: String,
    registry: String,
    #[serde(default)]
    pay_system_id: String,
}

/// The form on the admin page (`POST /admin/payments`), then back to the page.
pub(crate) async fn create_payment(
    State(state): State<Arc<AppState>>,
    Form(form): Form<CreateForm>,
) -> Response {
    let registry = match form.registry.as_str() {
        "CRM_INVOICE" => Registry::CrmInvoice,
        _ => Registry::Order,
    };
    let pay_system_id = match form.pay_system_id.trim() {
        "" => None,
        text => match text.parse::<u64>() {
            Ok(id) => Some(id),
            Err(_) => {
                let page = render(&state, Some("Pay system must be a number."));
                return (StatusCode::BAD_REQUEST, Html(page)).into_response();
            }
        },
    };
    let new = NewPayment {
        sum: form.sum,
        currency: form.currency,
        registry,
        pay_system_id,
        person_type_id: None,
        user_id: None,
        topic: None,
    };
    match crate::sandbox::create_payment(&state, &new) {
        Ok(_) => {
            state.persist();
            Redirect::to("/admin").into_response()
        }
        Err(e) => {
            let page = render(&state, Some(&e.to_string()));
            (StatusCode::BAD_REQUEST, Html(page)).into_response()
        }
    }
}

fn render(state: &AppState, error: Option<&str>) -> String {
    let world = state.world.lock().expect("world lock").clone();
    let config = &state.config;
    let opt = |v: &Option<String>| v.as_deref().map(esc).unwrap_or_default();

    let payments: String = world
        .payments
        .values()
        .map(|p| {
            let order = world.order_of(p);
            let page = match order.registry {
                Registry::Order => format!("/pay/{}", p.id),
                Registry::CrmInvoice => format!("/pay/invoice/{}", order.id),
            };
            let ps = &p.ps;
            format!(
                "<tr><td>{id}</td><td>{registry} #{order}</td><td>{account}</td><td class=num>{sum} {cur}</td>\
                 <td>{paid}</td><td>{date_paid}</td><td>{pay_system}</td><td class=num>{calls}</td><td class=num>{rejected}</td><td class=num>{unsaved}</td>\
                 <td>{invoice}</td><td>{status}</td><td>{code}</td><td>{descr}</td><td>{message}</td><td>{ps_sum}</td><td>{ps_cur}</td>\
                 <td>{card}</td><td>{token}</td><td><a href=\"{page}\">page</a></td></tr>",
                id = p.id,
                registry = order.registry,
                order = order.id,
                account = esc(&p.account_number),
                sum = esc(&display_amount(&p.sum)),
                cur = esc(&p.currency),
                paid = if p.paid { "<strong>Y</strong>" } else { "N" },
                date_paid = p.date_paid.map(site_datetime).unwrap_or_default(),
                pay_system = p.pay_system_id.map(|id| id.to_string()).unwrap_or_default(),
                calls = p.pay_calls,
                rejected = p.rejected_pay_calls,
                unsaved = p.unsaved_pay_calls,
                invoice = opt(&ps.invoice_id),
                status = opt(&ps.status),
                code = opt(&ps.status_code),
                descr = opt(&ps.status_description),
                message = opt(&ps.status_message),
                ps_sum = opt(&ps.sum),
                ps_cur = opt(&ps.currency),
                card = opt(&ps.card_number),
                token = opt(&ps.recurring_token),
            )
        })
        .collect();

    let handlers: String = world
        .handlers
        .values()
        .map(|h| {
            let uri = h
                .settings
                .iframe_data
                .as_ref()
                .or(h.settings.checkout_data.as_ref())
                .or(h.settings.form_data.as_ref())
                .map(|d| d.action_uri.clone())
                .unwrap_or_default();
            let mode = format!("{:?}", h.settings.mode()).to_uppercase();
            let codes: Vec<String> = h.settings.codes.keys().map(|c| esc(c)).collect();
            format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                h.id,
                esc(&h.name),
                esc(&h.code),
                mode,
                esc(&uri),
                codes.join(", ")
            )
        })
        .collect();

    let pay_systems: String = world
        .pay_systems
        .values()
        .map(|ps| {
            let settings: Vec<String> = ps
                .settings
                .iter()
                .flat_map(|(code, by_type)| {
                    by_type.iter().map(move |(pt, m)| {
                        let pt = if pt.is_empty() { "*".to_string() } else { pt.clone() };
                        format!(
                            "{}[{}] = {}:{}",
                            esc(code),
                            pt,
                            esc(m.provider_key.as_deref().unwrap_or("")),
                            esc(m.provider_value.as_deref().unwrap_or(""))
                        )
                    })
                })
                .collect();
            format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ps.id,
                esc(&ps.name),
                esc(&ps.action_file),
                ps.registry,
                ps.person_type_id,
                esc(&ps.active),
                settings.join("<br>")
            )
        })
        .collect();

    let person_types: String = world
        .person_types
        .iter()
        .map(|pt| format!("<li>{} — {} ({})</li>", pt.id, esc(&pt.name), pt.registry))
        .collect();

    let limit = match state.limiter.lock().expect("limiter lock").limit() {
        Some(l) => format!("on: {} calls/s, burst {}", l.drain_per_second, l.burst),
        None => "off".to_string(),
    };
    let faults = state.faults.lock().expect("faults lock").pending().len();
    let oauth = state.oauth.lock().expect("oauth lock").stats();
    let pay_system_options: String = world
        .pay_systems
        .values()
        .map(|ps| {
            format!(
                "<option value=\"{}\">{} — {}</option>",
                ps.id,
                ps.id,
                esc(&ps.name)
            )
        })
        .collect();
    let error = error
        .map(|e| format!("<p class=error role=alert>{}</p>", esc(e)))
        .unwrap_or_default();

    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sandbox portal — admin</title>
<style>
body{{font:14px/1.45 "Helvetica Neue",Arial,sans-serif;margin:24px;color:#1d1d1f}}
table{{border-collapse:collapse;margin:8px 0 24px}}
th,td{{border:1px solid #d0d0d0;padding:4px 8px;text-align:left;vertical-align:top}}
th{{background:#f2f2f2}}
td.num{{text-align:right}}
code{{font-size:13px}}
.error{{color:#a4000f;font-weight:bold}}
form{{display:flex;gap:8px;align-items:end;flex-wrap:wrap;margin:8px 0 24px}}
label{{display:flex;flex-direction:column;font-size:12px}}
</style>
</head>
<body>
<h1>Sandbox portal</h1>
<p>Webhook: <code>{webhook}</code> · OAuth token endpoint: <code>{token}</code> (client <code>{client}</code>) · Rate limit: {limit} · Pending faults: {faults} · Token refreshes: {refreshes} (refused {rejected}){data_file}</p>
{error}
<h2>Payments</h2>
<table>
<thead><tr><th>ID</th><th>Of</th><th>Account no.</th><th>Sum</th><th>Paid</th><th>Date paid</th><th>Pay system</th><th>Pay calls</th><th>Refused pay calls</th><th>Unsaved pay calls</th><th>PS_INVOICE_ID</th><th>PS_STATUS</th><th>PS_STATUS_CODE</th><th>PS_STATUS_DESCRIPTION</th><th>PS_STATUS_MESSAGE</th><th>PS_SUM</th><th>PS_CURRENCY</th><th>PS_CARD_NUMBER</th><th>PS_RECURRING_TOKEN</th><th></th></tr></thead>
<tbody>{payments}</tbody>
</table>
<h2>New payment</h2>
<form method="post" action="/admin/payments">
<label>Sum <input name="sum" value="1500.00" required></label>
<label>Currency <input name="currency" value="RUB" size="4" required></label>
<label>Registry <select name="registry"><option>ORDER</option><option>CRM_INVOICE</option></select></label>
<label>Pay system <select name="pay_system_id"><option value="">none</option>{pay_system_options}</select></label>
<button type="submit">Create</button>
</form>
<h2>REST handlers</h2>
<table>
<thead><tr><th>ID</th><th>Name</th><th>Code</th><th>Mode</th><th>ACTION_URI</th><th>CODES</th></tr></thead>
<tbody>{handlers}</tbody>
</table>
<h2>Pay systems</h2>
<table>
<thead><tr><th>ID</th><th>Name</th><th>Handler</th><th>Registry</th><th>Person type</th><th>Active</th><th>Settings (code[person type] = TYPE:VALUE)</th></tr></thead>
<tbody>{pay_systems}</tbody>
</table>
<h2>Person types</h2>
<ul>{person_types}</ul>
</body>
</html>
"#,
        webhook = esc(&format!(
            "{}/rest/{}/{}/",
            config.public_url, config.webhook_user_id, config.webhook_code
        )),
        token = esc(&format!("{}/oauth/token/", config.public_url)),
        client = esc(&config.oauth_client_id),
        refreshes = oauth.refreshes,
        rejected = oauth.rejected_refreshes,
        data_file = state
            .data_file_path()
            .map(|p| format!(
                " · Data file: <code>{}</code>",
                esc(&p.display().to_string())
            ))
            .unwrap_or_default(),
    )
}
