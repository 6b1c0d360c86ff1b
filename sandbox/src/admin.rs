//! `/admin`: a plain page listing payments (paid state, `PS_*` fields, pay calls), REST handlers,
//! pay systems and the sandbox's switches, with a form to create a payment.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::html::{self, display_amount, esc};
use crate::oauth::OAuthState;
use crate::portal_format::site_datetime;
use crate::state::AppState;
use crate::world::{NewPayment, PaySystem, Payment, Registry, World};

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
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => {
            let page = render(&state, Some(&e.to_string()));
            (StatusCode::BAD_REQUEST, Html(page)).into_response()
        }
    }
}

const TEMPLATE: &str = include_str!("../templates/admin.html");

#[derive(Debug, Deserialize)]
pub(crate) struct UninstallForm {
    #[serde(default)]
    clean: Option<String>,
}

/// "Install application" (`POST /admin/app/install`): the `ONAPPINSTALL` event, then back.
pub(crate) async fn install_app(State(state): State<Arc<AppState>>) -> Response {
    match crate::app::install(&state).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(render(&state, Some(&e.to_string()))),
        )
            .into_response(),
    }
}

/// "Uninstall" (`POST /admin/app/uninstall`, `clean=1` to delete the app's data).
pub(crate) async fn uninstall_app(
    State(state): State<Arc<AppState>>,
    Form(form): Form<UninstallForm>,
) -> Response {
    let clean = form.clean.is_some_and(|c| !c.is_empty() && c != "0");
    match crate::app::uninstall(&state, clean).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(render(&state, Some(&e.to_string()))),
        )
            .into_response(),
    }
}

fn render(state: &AppState, error: Option<&str>) -> String {
    let world = state.read(World::clone);
    let config = &state.config;
    let limit = match state.limiter.lock().expect("limiter lock").limit() {
        Some(l) => format!("on: {} calls/s, burst {}", l.drain_per_second, l.burst),
        None => "off".to_string(),
    };
    let faults = state.faults.lock().expect("faults lock").pending().len();
    let oauth = state.read_oauth(OAuthState::stats);
    let error = error
        .map(|e| format!("<p class=error role=alert>{}</p>", esc(e)))
        .unwrap_or_default();
    let data_file = state
        .data_file_path()
        .map(|p| {
            format!(
                " · Data file: <code>{}</code>",
                esc(&p.display().to_string())
            )
        })
        .unwrap_or_default();
    html::render(
        TEMPLATE,
        &[
            ("webhook", &esc(&state.webhook_url())),
            (
                "token",
                &esc(&format!("{}/oauth/token/", state.public_url())),
            ),
            ("client", &esc(&config.oauth_client_id)),
            ("limit", &limit),
            ("faults", &faults.to_string()),
            ("refreshes", &oauth.refreshes.to_string()),
            ("rejected", &oauth.rejected_refreshes.to_string()),
            ("data_file", &data_file),
            ("error", &error),
            ("payments", &payment_rows(&world)),
            ("pay_system_options", &pay_system_options(&world)),
            ("handlers", &handler_rows(&world)),
            ("pay_systems", &pay_system_rows(&world)),
            ("person_types", &person_type_items(&world)),
            ("member_id", &esc(&config.member_id)),
            ("app", &app_section(state)),
        ],
    )
}

/// The app's status, events and the install/uninstall actions.
fn app_section(state: &AppState) -> String {
    let Ok(status) = crate::app::status(state) else {
        return "<p>No application is configured (<code>SandboxBuilder::app</code>, \
                <code>--app-handler</code>).</p>"
            .to_string();
    };
    let installed = match &status.installation {
        Some(i) if i.finished => format!(
            "installed, <code>application_token</code> {}",
            esc(&i.application_token)
        ),
        Some(_) => "installing (waiting for <code>BX24.installFinish()</code>)".to_string(),
        None => "not installed".to_string(),
    };
    let events: String = status
        .events
        .iter()
        .map(|e| {
            let outcome = match (&e.status, &e.error) {
                (Some(code), _) => format!("HTTP {code}"),
                (None, Some(error)) => esc(error),
                (None, None) => String::new(),
            };
            format!(
                "<li>{} {} → {outcome}</li>",
                site_datetime(e.at),
                esc(&e.event)
            )
        })
        .collect();
    format!(
        r#"<p>Application <code>{client}</code>: {installed}. Handler <code>{handler}</code>, install page <code>{page}</code>.</p>
<div class="actions">
<form method="post" action="/admin/app/install"><button type="submit">Install application (ONAPPINSTALL)</button></form>
<form method="get" action="/admin/app"><button type="submit">Open the install page</button></form>
<form method="post" action="/admin/app/uninstall"><button type="submit">Uninstall (ONAPPUNINSTALL)</button><label><input type="checkbox" name="clean" value="1"> and delete the application's data (CLEAN)</label></form>
</div>
<ul>{events}</ul>"#,
        client = esc(&status.client_id),
        handler = esc(&status.handler_url),
        page = esc(&status.install_url),
    )
}

fn payment_rows(world: &World) -> String {
    world
        .payments
        .values()
        .map(|p| payment_row(world, p))
        .collect()
}

fn payment_row(world: &World, p: &Payment) -> String {
    let opt = |v: &Option<String>| v.as_deref().map(esc).unwrap_or_default();
    let order = world.order_of(p);
    let page = match order.registry {
        Registry::Order => format!("/pay/{}", p.id),
        Registry::CrmInvoice => format!("/pay/invoice/{}", order.id),
    };
    let ps = &p.ps;
    let cells = [
        p.id.to_string(),
        format!("{} #{}", order.registry, order.id),
        esc(&p.account_number),
        format!("{} {}", esc(&display_amount(&p.sum)), esc(&p.currency)),
        if p.paid { "<strong>Y</strong>" } else { "N" }.to_string(),
        p.date_paid.map(site_datetime).unwrap_or_default(),
        p.pay_system_id.map(|id| id.to_string()).unwrap_or_default(),
        p.pay_calls.to_string(),
        p.rejected_pay_calls.to_string(),
        p.unsaved_pay_calls.to_string(),
        opt(&ps.invoice_id),
        opt(&ps.status),
        opt(&ps.status_code),
        opt(&ps.status_description),
        opt(&ps.status_message),
        opt(&ps.sum),
        opt(&ps.currency),
        opt(&ps.card_number),
        opt(&ps.recurring_token),
        format!("<a href=\"{page}\">page</a>"),
    ];
    // The sum and the three pay-call counts are right-aligned.
    let row: String = cells
        .iter()
        .enumerate()
        .map(|(i, cell)| match i {
            3 | 7 | 8 | 9 => format!("<td class=num>{cell}</td>"),
            _ => format!("<td>{cell}</td>"),
        })
        .collect();
    format!("<tr>{row}</tr>")
}

fn handler_rows(world: &World) -> String {
    world
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
        .collect()
}

fn pay_system_rows(world: &World) -> String {
    world
        .pay_systems
        .values()
        .map(|ps| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ps.id,
                esc(&ps.name),
                esc(&ps.action_file),
                ps.registry,
                ps.person_type_id,
                esc(&ps.active),
                settings_lines(ps).join("<br>")
            )
        })
        .collect()
}

/// `code[person type] = TYPE:VALUE` for each setting (`*`: for all person types).
fn settings_lines(ps: &PaySystem) -> Vec<String> {
    ps.settings
        .iter()
        .flat_map(|(code, by_type)| {
            by_type.iter().map(move |(pt, m)| {
                let pt = if pt.is_empty() { "*" } else { pt.as_str() };
                format!(
                    "{}[{}] = {}:{}",
                    esc(code),
                    pt,
                    esc(m.provider_key.as_deref().unwrap_or("")),
                    esc(m.provider_value.as_deref().unwrap_or(""))
                )
            })
        })
        .collect()
}

fn person_type_items(world: &World) -> String {
    world
        .person_types
        .iter()
        .map(|pt| format!("<li>{} — {} ({})</li>", pt.id, esc(&pt.name), pt.registry))
        .collect()
}

fn pay_system_options(world: &World) -> String {
    world
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
        .collect()
}
