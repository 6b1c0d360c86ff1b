//! The install page flow: the portal page that opens the app's install page (a POST into an
//! iframe with the tokens), the `BX24.installFinish()` that completes the install, and the
//! stand-in BX24 library at `/api/v1/`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

use super::App;
use crate::html::{self, esc, script_json};
use crate::oauth::{OAuthTokens, ACCESS_TOKEN_LIFETIME_SECS};
use crate::portal_format::now_unix;
use crate::state::AppState;

const PAGE: &str = include_str!("../../templates/app_install.html");
const BX24: &str = include_str!("../../templates/bx24.js");

/// `GET /api/v1/`: the stand-in for `https://api.bitrix24.com/api/v1/`.
pub(crate) async fn bx24_script() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        BX24,
    )
        .into_response()
}

/// `GET /admin/app`: opens the app's install page with fresh tokens. The first opening starts
/// an installation that completes with `BX24.installFinish()`; later ones open the installed
/// app (`PLACEMENT=DEFAULT` as well).
pub(crate) async fn install_page(State(state): State<Arc<AppState>>) -> Response {
    let Some(app) = state.config.app.clone() else {
        return (
            StatusCode::NOT_FOUND,
            Html("<p>No application is configured for this portal.</p>".to_string()),
        )
            .into_response();
    };
    let now = now_unix();
    let (tokens, sid, finished) = state.mutate_oauth(|oauth| {
        if oauth.installation().is_none() {
            oauth.install(false, now);
        }
        let finished = oauth.installation().is_some_and(|i| i.finished);
        (oauth.issue(now), oauth.fresh_id(), finished)
    });
    *state.app_sid.lock().expect("sid lock") = Some(sid.clone());
    Html(render(&state, &app, &tokens, &sid, finished)).into_response()
}

fn render(state: &AppState, app: &App, tokens: &OAuthTokens, sid: &str, finished: bool) -> String {
    let https = state.public_url().starts_with("https://");
    let mut action = url::Url::parse(app.install_url()).ok();
    if let Some(url) = action.as_mut() {
        url.query_pairs_mut()
            .append_pair("DOMAIN", &state.domain())
            .append_pair("PROTOCOL", if https { "1" } else { "0" })
            .append_pair("LANG", &app.language)
            .append_pair("APP_SID", sid);
    }
    let app_origin = action
        .as_ref()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let posted = [
        ("AUTH_ID", tokens.access_token.clone()),
        ("AUTH_EXPIRES", ACCESS_TOKEN_LIFETIME_SECS.to_string()),
        ("REFRESH_ID", tokens.refresh_token.clone()),
        ("member_id", state.config.member_id.clone()),
        ("status", "L".to_string()),
        ("PLACEMENT", "DEFAULT".to_string()),
        ("PLACEMENT_OPTIONS", "{}".to_string()),
    ];
    let fields: String = posted
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                esc(name),
                esc(value)
            )
        })
        .collect();
    let init = json!({
        "DOMAIN": state.domain(), "PROTOCOL": u8::from(https), "LANG": app.language,
        "APP_SID": sid, "AUTH_ID": tokens.access_token, "AUTH_EXPIRES": ACCESS_TOKEN_LIFETIME_SECS,
        "REFRESH_ID": tokens.refresh_token, "MEMBER_ID": state.config.member_id,
        "PLACEMENT": "DEFAULT", "IS_ADMIN": true,
    });
    html::render(
        PAGE,
        &[
            ("app_name", &esc(&app.client_id)),
            (
                "status",
                if finished {
                    "Installed"
                } else {
                    "Installing…"
                },
            ),
            ("action", &esc(action.as_ref().map_or("", |u| u.as_str()))),
            ("fields", &fields),
            ("app_origin_json", &script_json(&json!(app_origin))),
            ("sid_json", &script_json(&json!(sid))),
            ("init_json", &script_json(&init)),
        ],
    )
}

#[derive(Deserialize)]
pub(crate) struct Finish {
    sid: String,
}

/// `POST /admin/app/finish`: the install page's `BX24.installFinish()`, relayed by the portal
/// page for the `APP_SID` it opened.
pub(crate) async fn finish(
    State(state): State<Arc<AppState>>,
    Form(form): Form<Finish>,
) -> Response {
    let expected = state.app_sid.lock().expect("sid lock").clone();
    if expected.as_deref() != Some(form.sid.as_str()) {
        return (StatusCode::FORBIDDEN, "unknown APP_SID").into_response();
    }
    if state.mutate_oauth(|oauth| oauth.finish_install()) {
        tracing::info!("app install finished");
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::CONFLICT, "not installing").into_response()
    }
}
