//! The app's URLs: `POST {public_url}app/events` (the handler: `ONAPPINSTALL`,
//! `ONAPPUNINSTALL`) and `POST {public_url}app/install` (the install page an admin opens inside
//! the portal; it finishes with `BX24.installFinish()`).

use super::form::{self, Event};
use super::{InstallError, Market};
use crate::csp;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub type SharedMarket = Arc<Market>;

fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn install_failure(e: &InstallError) -> Response {
    match e {
        InstallError::Verify(super::verify::VerifyError::Unreachable(_))
        | InstallError::Register(_) => {
            tracing::error!(error = %e, "install failed");
            refused(StatusCode::BAD_GATEWAY, &e.to_string())
        }
        InstallError::Store(_) => {
            tracing::error!(error = %e, "install failed");
            refused(StatusCode::INTERNAL_SERVER_ERROR, "store failure")
        }
        _ => {
            tracing::warn!(error = %e, "install refused");
            refused(StatusCode::FORBIDDEN, &e.to_string())
        }
    }
}

/// `POST {public_url}app/events`.
pub async fn events(
    State(market): State<SharedMarket>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let event = match Event::parse(&form) {
        Ok(e) => e,
        Err(e) => return refused(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match event {
        Event::Install {
            tokens,
            application_token,
        } => match market.install(&tokens, Some(&application_token)).await {
            Ok(done) => Json(json!({
                "installed": done.portal.public_id,
                "widget_url": done.widget_url.as_str(),
            }))
            .into_response(),
            Err(e) => install_failure(&e),
        },
        Event::Uninstall {
            member_id,
            application_token,
            clean,
        } => match market
            .uninstall(&member_id, &application_token, clean)
            .await
        {
            Ok(true) => Json(json!({ "uninstalled": true })).into_response(),
            Ok(false) => {
                tracing::warn!(%member_id, "uninstall refused: wrong or missing application_token");
                refused(StatusCode::FORBIDDEN, "wrong or missing application_token")
            }
            Err(e) => install_failure(&e),
        },
    }
}

/// `POST {public_url}app/install`: stores and sets up the portal, then a page that tells the
/// portal the install is finished (`BX24.installFinish()`), framable by that portal only.
pub async fn install_page(
    State(market): State<SharedMarket>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let handover = match form::install_page(&form) {
        Ok(h) => h,
        Err(e) => return refused(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let (origin, body) = match market.install(&handover, None).await {
        Ok(done) => (
            done.portal.origin.clone(),
            format!(
                "<p>b24pay is installed. Customers pay at <code>{}</code>; the pay system \
                 <b>Bank card (b24pay)</b> starts in TEST mode: switch <code>B24PAY_MODE</code> \
                 to LIVE in its settings when ready.</p>",
                escape(done.widget_url.as_str())
            ),
        ),
        // Opened again once installed: the tokens stay as the installation left them.
        Err(InstallError::TokenMismatch) => {
            match market.store.portal_by_member(&handover.member_id).await {
                Ok(Some(row)) if row.is_installed() => (
                    row.origin.clone(),
                    format!(
                        "<p>b24pay is installed. Customers pay at <code>{}</code>.</p>",
                        escape(market.widget_url(&row.public_id).as_str())
                    ),
                ),
                _ => return install_failure(&InstallError::TokenMismatch),
            }
        }
        Err(e) => return install_failure(&e),
    };
    page(&market, &origin, &body)
}

const FINISH: &str = "BX24.init(function () { BX24.installFinish(); });";

fn page(market: &Market, origin: &str, body: &str) -> Response {
    let script = market.app.bx24_script.as_str();
    let html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><title>b24pay</title>\
         <script src=\"{}\"></script><body>{body}<script>{FINISH}</script></body></html>",
        escape(script)
    );
    let script_origin = market.app.bx24_script.origin().ascii_serialization();
    let hashes = csp::inline_hashes(&html, "script");
    let policy = format!(
        "default-src 'none'; script-src {script_origin} {}; frame-ancestors {origin}; \
         base-uri 'none'; form-action 'none'",
        hashes.join(" ")
    );
    let mut response = Html(html).into_response();
    if let Ok(v) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What an installed portal's widget page needs.
#[derive(Clone)]
pub struct PageState {
    pub market: SharedMarket,
    pub widget: crate::serve::SharedWidget,
}

/// `GET {public_url}p/{pid}/`: the widget as this portal embeds it.
pub async fn widget_page(
    State(s): State<PageState>,
    axum::extract::Path(pid): axum::extract::Path<String>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
) -> Response {
    let gone = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "This payment page is not available: the store does not have b24pay installed.",
        )
            .into_response()
    };
    let Some(id) = crate::portal::PublicId::parse(&pid) else {
        return gone();
    };
    let row = match s.market.store.portal_by_public_id(id.as_str()).await {
        Ok(Some(row)) if row.is_installed() => row,
        Ok(_) => {
            s.widget.forget_portal_page(id.as_str());
            return gone();
        }
        Err(e) => {
            tracing::error!(error = %e, "store failure reading a portal");
            return refused(StatusCode::SERVICE_UNAVAILABLE, "store failure");
        }
    };
    s.widget
        .portal_page(id.as_str(), &row.origin, &method, &headers)
}
