//! The events the portal POSTs to the app's handler, form-encoded with PHP-style names.

use std::time::Duration;

use super::{App, AppEvent};
use crate::oauth::{Installation, OAuthTokens, ACCESS_TOKEN_LIFETIME_SECS};
use crate::state::AppState;

/// A portal gives an event handler this long to answer.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn install_form(
    state: &AppState,
    app: &App,
    tokens: &OAuthTokens,
    installation: &Installation,
    now: i64,
) -> Vec<(String, String)> {
    let public_url = state.public_url();
    let server = state
        .config
        .oauth_server
        .clone()
        .unwrap_or_else(|| format!("{public_url}/oauth"));
    [
        ("event", "ONAPPINSTALL".to_string()),
        ("data[VERSION]", app.version.to_string()),
        ("data[LANGUAGE_ID]", app.language.clone()),
        ("ts", now.to_string()),
        ("auth[access_token]", tokens.access_token.clone()),
        ("auth[refresh_token]", tokens.refresh_token.clone()),
        ("auth[expires_in]", ACCESS_TOKEN_LIFETIME_SECS.to_string()),
        ("auth[domain]", state.domain()),
        ("auth[server_endpoint]", format!("{server}/rest/")),
        ("auth[client_endpoint]", format!("{public_url}/rest/")),
        ("auth[member_id]", state.config.member_id.clone()),
        (
            "auth[application_token]",
            installation.application_token.clone(),
        ),
        ("auth[scope]", app.scope.clone()),
        ("auth[status]", "L".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `ONAPPUNINSTALL` carries no tokens: only the proof and the portal's identity.
pub(super) fn uninstall_form(
    state: &AppState,
    installation: &Installation,
    clean: bool,
    now: i64,
) -> Vec<(String, String)> {
    [
        ("event", "ONAPPUNINSTALL".to_string()),
        ("data[CLEAN]", if clean { "1" } else { "0" }.to_string()),
        ("ts", now.to_string()),
        (
            "auth[application_token]",
            installation.application_token.clone(),
        ),
        ("auth[member_id]", state.config.member_id.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// POSTs one event and records how the app answered.
pub(super) async fn post(
    state: &AppState,
    event: &str,
    url: &str,
    form: Vec<(String, String)>,
) -> AppEvent {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let sent = async {
        let response = client(state)?
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| error_chain(&e.without_url()))?;
        Ok::<u16, String>(response.status().as_u16())
    }
    .await;
    let record = AppEvent {
        event: event.to_string(),
        status: sent.as_ref().ok().copied(),
        error: sent.err(),
        at: crate::portal_format::now_unix(),
    };
    tracing::info!(event, status = ?record.status, error = ?record.error, "app event sent");
    state
        .app_events
        .lock()
        .expect("events lock")
        .push(record.clone());
    record
}

/// The error and its causes (`error sending request: … Connection refused`).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An HTTP client for the app's handler; it trusts the sandbox's own CA too.
fn client(state: &AppState) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(EVENT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = &state.config.ca_file {
        let pem = std::fs::read(ca).map_err(|e| e.to_string())?;
        let certificate = reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build().map_err(|e| e.to_string())
}
