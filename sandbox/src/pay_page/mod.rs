//! The seller's payment page, `/pay/{payment_id}` and `/pay/invoice/{invoice_id}`: a store's
//! checkout page that hosts the pay system's IFRAME handler exactly as the portal does.
//!
//! What the portal does, and this page copies (from the portal's REST handler template):
//! * the wrapper `div#rest-paysystem-wrapper` holds
//!   `<iframe src="ACTION_URI" style="border: none; height: 350px; width: 100%"
//!   sandbox="allow-forms allow-scripts allow-modals allow-top-navigation allow-same-origin">`
//!   with nothing added to `src`;
//! * on **every** `load` of the iframe it posts one object to the frame with `targetOrigin` =
//!   ACTION_URI: each `IFRAME_DATA.FIELDS` entry whose `CODE` is a setting code, resolved for
//!   this payment, as a top-level key; `BX_SYSTEM_PARAMS` (`RETURN_URL` = this page,
//!   `PAYSYSTEM_ID`, `PAYMENT_ID`, `SUM`, `CURRENCY`, and `EXTERNAL_PAYMENT_ID` when the payment
//!   has a `PS_INVOICE_ID`), every value a string as the portal's PHP-to-JS conversion makes
//!   it (null → `""`); and `BX_COMPUTED_STYLE` =
//!   `JSON.parse(JSON.stringify(getComputedStyle(wrapper)))`;
//! * it resizes the iframe from `{width, height}` messages whose origin's *hostname* equals the
//!   ACTION_URI's hostname (`value + "px"`, only for values whose `parseInt` is positive).
//!
//! The store around it has a light and a dark theme and three fonts (`?theme=dark&font=serif`);
//! the wrapper is transparent and the background sits on an ancestor, as on real portals.
//! `?dcl_delay_ms=N` holds the page's `DOMContentLoaded` N ms with a slow parser-blocking script
//! after the payment block (a store's slow third-party script): the portal's script attaches
//! `iframe.onload` only then, so a frame that has loaded before gets no message. The
//! same payload is also embedded as `<script type="application/json" id="sandbox-iframe-data">`
//! (without `BX_COMPUTED_STYLE`, which only a browser can compute) for tests to read.
//!
//! `look.rs` is the store around the page (theme, font, the shell template), `frame.rs` the
//! portal's iframe markup and script with the payload posted to the frame.

mod frame;
mod look;

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::html::{self, display_amount, esc};
use crate::portal_format::{site_date, site_datetime};
use crate::state::AppState;
use crate::world::{Order, Payment, Registry, World};
pub(crate) use look::slow_script;
use look::Look;

const SUMMARY: &str = include_str!("../../templates/summary.html");

pub(crate) async fn payment_page(
    State(state): State<Arc<AppState>>,
    Path(payment_id): Path<String>,
    Query(look): Query<Look>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    state.read(|world| {
        let payment = payment_id
            .parse::<u64>()
            .ok()
            .and_then(|id| world.payments.get(&id))
            .filter(|p| world.registry_of(p) == Registry::Order);
        render(&state, world, payment, &look, &uri)
    })
}

pub(crate) async fn invoice_page(
    State(state): State<Arc<AppState>>,
    Path(invoice_id): Path<String>,
    Query(look): Query<Look>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    state.read(|world| {
        let payment = invoice_id
            .parse::<u64>()
            .ok()
            .and_then(|id| world.invoice_payment(id));
        render(&state, world, payment, &look, &uri)
    })
}

fn render(
    state: &AppState,
    world: &World,
    payment: Option<&Payment>,
    look: &Look,
    uri: &axum::http::Uri,
) -> Response {
    let store = &state.config.store_name;
    let Some(payment) = payment else {
        let body = r#"<section class="card notice"><h1>Payment not found</h1>
<p>There is no such payment in this store. The admin page lists the ones there are: <a href="/admin">/admin</a>.</p></section>"#;
        return (
            StatusCode::NOT_FOUND,
            Html(look.shell(store, "Payment not found", uri, body)),
        )
            .into_response();
    };
    let order = world.order_of(payment);
    let return_url = format!("{}{}", state.public_url(), uri);
    let payment_section = payment_section(world, payment, &return_url);
    let body = format!(
        "{summary}\n{payment_section}",
        summary = summary(world, order, payment),
    );
    let noun = match order.registry {
        Registry::Order => "order",
        Registry::CrmInvoice => "invoice",
    };
    let title = format!("Payment for {noun} #{}", order.account_number);
    Html(look.shell(store, &title, uri, &body)).into_response()
}

fn summary(world: &World, order: &Order, payment: &Payment) -> String {
    let heading = match order.registry {
        Registry::Order => format!("Order #{}", esc(&order.account_number)),
        Registry::CrmInvoice => format!("Invoice #{}", esc(&order.account_number)),
    };
    let items: String = order
        .items
        .iter()
        .map(|item| {
            format!(
                r#"<tr><td>{name}</td><td class="qty">× {qty}</td><td class="num">{price} {cur}</td></tr>"#,
                name = esc(&item.name),
                qty = item.quantity,
                price = esc(&display_amount(&item.price)),
                cur = esc(&order.currency),
            )
        })
        .collect();
    html::render(
        SUMMARY,
        &[
            ("heading", &heading),
            ("topic", &esc(&order.topic)),
            ("placed", &site_date(order.date_insert)),
            ("items", &items),
            ("sum", &esc(&display_amount(&payment.sum))),
            ("cur", &esc(&payment.currency)),
            ("account", &esc(&payment.account_number)),
            ("issued", &site_date(payment.date_bill)),
            ("customer", &customer(world, order)),
        ],
    )
}

fn customer(world: &World, order: &Order) -> String {
    world
        .user(order.user_id)
        .map(|u| {
            let f = |k: &str| u.fields.get(k).map(String::as_str).unwrap_or("");
            format!(
                r#"<p class="customer"><span class="label">Customer</span> {} {} · {}</p>"#,
                esc(f("NAME")),
                esc(f("LAST_NAME")),
                esc(f("EMAIL"))
            )
        })
        .unwrap_or_default()
}

fn payment_section(world: &World, payment: &Payment, return_url: &str) -> String {
    let inner = if payment.paid {
        paid_notice(world, payment)
    } else {
        match payment.pay_system_id {
            None => notice(
                "No payment method yet",
                "No payment method has been chosen for this payment. Bind one with \
                 <code>POST /sandbox/api/payments/{id}/pay-system</code> or create the payment \
                 with <code>pay_system_id</code>.",
            ),
            Some(id) => match world.pay_systems.get(&id) {
                None => notice(
                    "Payment method unavailable",
                    "The payment method chosen for this payment no longer exists.",
                ),
                Some(pay_system) => frame::pay_system_block(world, pay_system, payment, return_url),
            },
        }
    };
    format!(
        r#"<section class="card payment" aria-labelledby="payment-title">
<h2 id="payment-title">Payment</h2>
{inner}
</section>"#
    )
}

pub(super) fn notice(title: &str, html_text: &str) -> String {
    format!(
        r#"<div class="notice" role="status"><p class="notice-title">{}</p><p>{}</p></div>"#,
        esc(title),
        html_text
    )
}

fn paid_notice(world: &World, payment: &Payment) -> String {
    let via = payment
        .pay_system_id
        .and_then(|id| world.pay_systems.get(&id))
        .map(|ps| format!(" via {}", esc(&ps.name)))
        .unwrap_or_default();
    let when = payment
        .date_paid
        .map(|t| format!(" on {}", site_datetime(t)))
        .unwrap_or_default();
    let transaction = payment
        .ps
        .invoice_id
        .as_deref()
        .map(|id| format!(" Transaction {}.", esc(id)))
        .unwrap_or_default();
    format!(
        r#"<div class="notice paid" role="status" id="payment-paid"><p class="notice-title">Paid</p><p>This payment was paid{when}{via}.{transaction}</p></div>"#
    )
}
