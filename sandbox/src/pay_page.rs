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
//! the wrapper is transparent and the background sits on an ancestor, as on real portals. The
//! same payload is also embedded as `<script type="application/json" id="sandbox-iframe-data">`
//! (without `BX_COMPUTED_STYLE`, which only a browser can compute) for tests to read.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::html::{display_amount, esc, script_json};
use crate::portal_format::{php_number, site_date, site_datetime};
use crate::state::AppState;
use crate::world::resolve::business_values;
use crate::world::{FieldCode, HandlerMode, Order, PaySystem, Payment, Registry, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Font {
    Sans,
    Serif,
    Mono,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Look {
    theme: Option<String>,
    font: Option<String>,
}

impl Look {
    fn theme(&self) -> Theme {
        match self.theme.as_deref() {
            Some("dark") => Theme::Dark,
            _ => Theme::Light,
        }
    }

    fn font(&self) -> Font {
        match self.font.as_deref() {
            Some("serif") => Font::Serif,
            Some("mono") => Font::Mono,
            _ => Font::Sans,
        }
    }
}

pub(crate) async fn payment_page(
    State(state): State<Arc<AppState>>,
    Path(payment_id): Path<String>,
    Query(look): Query<Look>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let world = state.world.lock().expect("world lock");
    let payment = payment_id
        .parse::<u64>()
        .ok()
        .and_then(|id| world.payments.get(&id))
        .filter(|p| world.registry_of(p) == Registry::Order);
    render(&state, &world, payment, &look, &uri)
}

pub(crate) async fn invoice_page(
    State(state): State<Arc<AppState>>,
    Path(invoice_id): Path<String>,
    Query(look): Query<Look>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let world = state.world.lock().expect("world lock");
    let payment = invoice_id
        .parse::<u64>()
        .ok()
        .and_then(|id| world.invoice_payment(id));
    render(&state, &world, payment, &look, &uri)
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
            Html(shell(store, "Payment not found", look, uri, body)),
        )
            .into_response();
    };
    let order = world.order_of(payment);
    let return_url = format!("{}{}", state.config.public_url, uri);
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
    Html(shell(store, &title, look, uri, &body)).into_response()
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
    let customer = world
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
        .unwrap_or_default();
    format!(
        r#"<section class="card summary" aria-labelledby="summary-title">
<h1 id="summary-title">{heading}</h1>
<p class="meta">{topic} · placed {placed}</p>
<table class="items"><tbody>{items}</tbody></table>
<div class="total"><span>To pay</span><strong id="amount-due">{sum} {cur}</strong></div>
<p class="meta">Payment {account} · issued {issued}</p>
{customer}
</section>"#,
        topic = esc(&order.topic),
        placed = site_date(order.date_insert),
        sum = esc(&display_amount(&payment.sum)),
        cur = esc(&payment.currency),
        account = esc(&payment.account_number),
        issued = site_date(payment.date_bill),
    )
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
                Some(pay_system) => pay_system_block(world, pay_system, payment, return_url),
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

fn notice(title: &str, html_text: &str) -> String {
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

fn pay_system_block(
    world: &World,
    pay_system: &PaySystem,
    payment: &Payment,
    return_url: &str,
) -> String {
    let Some(handler) = world.handler_of(pay_system) else {
        return notice(
            "Payment method unavailable",
            &format!(
                "The handler <code>{}</code> of this payment method is not registered.",
                esc(&pay_system.action_file)
            ),
        );
    };
    let iframe_data = match (handler.settings.mode(), &handler.settings.iframe_data) {
        (HandlerMode::Iframe, Some(iframe)) => iframe,
        (mode, _) => {
            let mode = match mode {
                HandlerMode::Checkout => "CHECKOUT",
                _ => "FORM",
            };
            return notice(
                "Not an IFRAME payment method",
                &format!(
                    "The payment method <strong>{}</strong> uses the handler <code>{}</code> in \
                     {mode} mode. This sandbox page hosts IFRAME handlers only.",
                    esc(&pay_system.name),
                    esc(&handler.code)
                ),
            );
        }
    };
    let payload = iframe_payload(world, pay_system, payment, return_url);
    let action_uri = &iframe_data.action_uri;
    let host = url::Url::parse(action_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    format!(
        r#"<p class="method"><span class="label">Pay with</span> {name}</p>
<div class='rest-paysystem-wrapper' id='rest-paysystem-wrapper'>
<iframe src="{src}" class='rest-payment-frame' name='restPaymentFrame' id='rest-payment-frame' style='border: none; height: 350px; width: 100%' sandbox='allow-forms allow-scripts allow-modals allow-top-navigation allow-same-origin'>
<div class='alert alert-danger'>Your browser does not support frames.</div>
</iframe>
<div class='alert alert-info'>When the payment is complete you will be returned to this page.</div>
</div>
<script type="application/json" id="sandbox-iframe-data">{payload_json}</script>
<script>
document.addEventListener("DOMContentLoaded", function () {{
	var iframe = document.getElementById("rest-payment-frame");
	var parent = iframe.parentElement;
	iframe.style.width = parent.clientWidth;

	iframe.onload = function () {{
		var paymentFrame = iframe.contentWindow;
		if (paymentFrame)
		{{
			var iframeData = {payload_json};
			iframeData.BX_COMPUTED_STYLE = JSON.parse(JSON.stringify(window.getComputedStyle(parent)));

			paymentFrame.postMessage(iframeData, {target_json});
		}}
	}};

	window.addEventListener("message", function (event) {{
		try
		{{
			var originHost = new URL(event.origin).hostname;
		}}
		catch (error)
		{{
			return;
		}}

		if (originHost !== {host_json})
		{{
			return;
		}}

		if (event.data.width && parseInt(event.data.width) > 0)
		{{
			iframe.style.width = event.data.width + "px";
		}}
		if (event.data.height && parseInt(event.data.height) > 0)
		{{
			iframe.style.height = event.data.height + "px";
		}}
	}}, false);
}});
</script>"#,
        name = esc(&pay_system.name),
        src = esc(action_uri),
        payload_json = script_json(&payload),
        target_json = script_json(&json!(action_uri)),
        host_json = script_json(&json!(host)),
    )
}

/// The object posted to the iframe on every load, without `BX_COMPUTED_STYLE`.
pub(crate) fn iframe_payload(
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

/// The store page around the content.
fn shell(store: &str, title: &str, look: &Look, uri: &axum::http::Uri, body: &str) -> String {
    let theme = look.theme();
    let font = look.font();
    let path = uri.path();
    let link = |t: Theme, f: Font| {
        let t = match t {
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        let f = match f {
            Font::Sans => "sans",
            Font::Serif => "serif",
            Font::Mono => "mono",
        };
        format!("{}?theme={t}&amp;font={f}", esc(path))
    };
    let choice = |label: &str, href: String, current: bool| {
        if current {
            format!(r#"<a href="{href}" aria-current="true">{label}</a>"#)
        } else {
            format!(r#"<a href="{href}">{label}</a>"#)
        }
    };
    let switches = format!(
        r#"<nav class="look" aria-label="Store look">
<span class="group">{} {}</span>
<span class="group">{} {} {}</span>
</nav>"#,
        choice("Light", link(Theme::Light, font), theme == Theme::Light),
        choice("Dark", link(Theme::Dark, font), theme == Theme::Dark),
        choice("Sans", link(theme, Font::Sans), font == Font::Sans),
        choice("Serif", link(theme, Font::Serif), font == Font::Serif),
        choice("Mono", link(theme, Font::Mono), font == Font::Mono),
    );
    let theme_class = match theme {
        Theme::Light => "theme-light",
        Theme::Dark => "theme-dark",
    };
    let font_class = match font {
        Font::Sans => "font-sans",
        Font::Serif => "font-serif",
        Font::Mono => "font-mono",
    };
    let initials: String = store
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {store}</title>
<style>{STYLE}</style>
</head>
<body class="{theme_class} {font_class}">
<div class="page">
<header class="store-header">
<a class="brand" href="/admin"><span class="logo" aria-hidden="true">{initials}</span>{store}</a>
{switches}
</header>
<main class="checkout">
{body}
</main>
<footer class="store-footer">{store} · Secure checkout · This is a sandbox portal: no real money moves.</footer>
</div>
</body>
</html>
"#,
        title = esc(title),
        store = esc(store),
        initials = esc(&initials),
    )
}

const STYLE: &str = r#"
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;line-height:1.5;font-size:16px}
.theme-light{--page:#f3efe7;--card:#fffdf9;--text:#23201c;--muted:#6f675c;--line:#e6dfd3;--accent:#2f6b4f;--accent-text:#fff;--notice:#f7f1e3}
.theme-dark{--page:#121417;--card:#1b1f24;--text:#e9e6e1;--muted:#a39c92;--line:#2c323a;--accent:#7fc8a3;--accent-text:#0f1a14;--notice:#222830}
.font-sans{font-family:"Helvetica Neue",Helvetica,Arial,"Liberation Sans",sans-serif}
.font-serif{font-family:Georgia,"Times New Roman","Liberation Serif",serif}
.font-mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:15px}
body{background:var(--page);color:var(--text)}
.page{max-width:980px;margin:0 auto;padding:24px 20px 40px}
.store-header{display:flex;align-items:center;justify-content:space-between;gap:16px;flex-wrap:wrap;margin-bottom:24px}
.brand{display:flex;align-items:center;gap:12px;font-weight:700;font-size:1.25rem;color:var(--text);text-decoration:none;letter-spacing:.01em}
.logo{display:inline-grid;place-items:center;width:40px;height:40px;border-radius:12px;background:var(--accent);color:var(--accent-text);font-size:.95rem}
.look{display:flex;gap:14px;font-size:.875rem}
.look .group{display:flex;gap:2px;background:var(--card);border:1px solid var(--line);border-radius:999px;padding:3px}
.look a{color:var(--muted);text-decoration:none;padding:3px 10px;border-radius:999px}
.look a[aria-current]{background:var(--accent);color:var(--accent-text)}
.checkout{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.2fr);gap:24px;align-items:start}
@media (max-width:760px){.checkout{grid-template-columns:1fr}}
.card{background:var(--card);border:1px solid var(--line);border-radius:16px;padding:24px}
h1,h2{margin:0 0 4px;font-size:1.375rem;line-height:1.25}
.meta{margin:0 0 16px;color:var(--muted);font-size:.875rem}
.items{width:100%;border-collapse:collapse;margin:8px 0 16px}
.items td{padding:10px 0;border-bottom:1px solid var(--line);vertical-align:top}
.items .qty{color:var(--muted);white-space:nowrap;padding:10px 12px}
.items .num{text-align:right;white-space:nowrap}
.total{display:flex;justify-content:space-between;align-items:baseline;margin:4px 0 12px;font-size:1.125rem}
.total strong{font-size:1.5rem}
.label{color:var(--muted);font-size:.8125rem;text-transform:uppercase;letter-spacing:.06em;margin-right:6px}
.customer{margin:16px 0 0;font-size:.9375rem}
.method{margin:4px 0 16px}
.rest-paysystem-wrapper{margin:0}
.alert{font-size:.8125rem;color:var(--muted);margin-top:12px}
.notice{background:var(--notice);border:1px solid var(--line);border-radius:12px;padding:16px 18px;margin-top:12px}
.notice p{margin:0}
.notice-title{font-weight:700;margin-bottom:4px!important}
.notice.paid .notice-title{color:var(--accent)}
.card.notice{max-width:560px}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.875em}
a{color:var(--accent)}
.store-footer{margin-top:32px;color:var(--muted);font-size:.8125rem;text-align:center}
"#;
