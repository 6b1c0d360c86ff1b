//! A Market application on the portal, installed and uninstalled the way the platform does it:
//!
//! * the admin installs it and the portal POSTs `ONAPPINSTALL` (form-encoded: `event`,
//!   `data[VERSION]`, `data[LANGUAGE_ID]`, `ts`, `auth[access_token]`, `auth[refresh_token]`,
//!   `auth[expires_in]`, `auth[domain]`, `auth[server_endpoint]`, `auth[client_endpoint]`,
//!   `auth[member_id]`, `auth[application_token]`, `auth[scope]`, `auth[status]`) to the app's
//!   handler, with fresh tokens and a fresh `application_token` (`events.rs`);
//! * or the admin opens the app's install page inside the portal, which POSTs `AUTH_ID`,
//!   `AUTH_EXPIRES`, `REFRESH_ID`, `member_id`, `status`, `PLACEMENT=DEFAULT`,
//!   `PLACEMENT_OPTIONS` to it with `DOMAIN`, `PROTOCOL`, `LANG`, `APP_SID` in the query; the
//!   install completes when the page calls `BX24.installFinish()` (`page.rs`, and a stand-in
//!   for the BX24 library at `/api/v1/`);
//! * uninstalling revokes every token and POSTs `ONAPPUNINSTALL` (`event`, `data[CLEAN]`, `ts`,
//!   `auth[application_token]`, `auth[member_id]`).

mod events;
mod page;

use serde::{Deserialize, Serialize};

use crate::oauth::{Installation, OAuthTokens};
use crate::portal_format::now_unix;
use crate::state::AppState;
pub(crate) use page::{bx24_script, finish, install_page};

/// A Market application the portal can install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    /// The app's OAuth client (the portal's token endpoint accepts it).
    pub client_id: String,
    pub client_secret: String,
    /// Where the portal POSTs the app's events (`ONAPPINSTALL`, `ONAPPUNINSTALL`).
    pub handler_url: String,
    /// The install page the admin opens inside the portal (default: `handler_url`).
    pub install_url: Option<String>,
    /// `data[VERSION]`.
    pub version: u32,
    /// `auth[scope]`: what its tokens may call (`insufficient_scope` otherwise).
    pub scope: String,
    /// `data[LANGUAGE_ID]`, `LANG`.
    pub language: String,
}

impl App {
    /// An app with its client and event handler; version 1, scope `pay_system`, English.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        handler_url: impl Into<String>,
    ) -> App {
        App {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            handler_url: handler_url.into(),
            install_url: None,
            version: 1,
            scope: "pay_system".to_string(),
            language: "en".to_string(),
        }
    }

    pub fn with_install_url(mut self, url: impl Into<String>) -> App {
        self.install_url = Some(url.into());
        self
    }

    /// The scopes the portal grants it (`auth[scope]`, comma-separated: `pay_system,sale`);
    /// its tokens may call only those scopes' methods.
    pub fn with_scope(mut self, scope: impl Into<String>) -> App {
        self.scope = scope.into();
        self
    }

    pub(crate) fn install_url(&self) -> &str {
        self.install_url.as_deref().unwrap_or(&self.handler_url)
    }
}

/// One event the portal sent the app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppEvent {
    /// `ONAPPINSTALL` or `ONAPPUNINSTALL`.
    pub event: String,
    /// The app's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the app could not be reached.
    pub error: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// What installing sent the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppInstalled {
    pub tokens: OAuthTokens,
    pub application_token: String,
    pub event: AppEvent,
}

/// The app on this portal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppStatus {
    pub client_id: String,
    pub handler_url: String,
    pub install_url: String,
    pub installation: Option<Installation>,
    pub events: Vec<AppEvent>,
}

/// Why an app action was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error("no application is configured for this portal")]
    NoApp,
    #[error("the application is not installed")]
    NotInstalled,
}

impl AppError {
    /// A stable code for the control API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NoApp => "NO_APP",
            AppError::NotInstalled => "NOT_INSTALLED",
        }
    }
}

fn app_of(state: &AppState) -> Result<&App, AppError> {
    state.config.app.as_ref().ok_or(AppError::NoApp)
}

/// Installs the app (fresh tokens and `application_token`) and POSTs `ONAPPINSTALL`.
pub(crate) async fn install(state: &AppState) -> Result<AppInstalled, AppError> {
    let app = app_of(state)?;
    let now = now_unix();
    let (tokens, installation) =
        state.mutate_oauth(|oauth| (oauth.issue(now), oauth.install(true, now)));
    let form = events::install_form(state, app, &tokens, &installation, now);
    let event = events::post(state, "ONAPPINSTALL", &app.handler_url, form).await;
    Ok(AppInstalled {
        tokens,
        application_token: installation.application_token,
        event,
    })
}

/// Uninstalls the app (every token stops working) and POSTs `ONAPPUNINSTALL`; `clean` is the
/// admin's "delete the application's data" (`data[CLEAN]=1`).
pub(crate) async fn uninstall(state: &AppState, clean: bool) -> Result<AppEvent, AppError> {
    let app = app_of(state)?;
    let installation = state
        .mutate_oauth(|oauth| oauth.uninstall())
        .ok_or(AppError::NotInstalled)?;
    let form = events::uninstall_form(state, &installation, clean, now_unix());
    Ok(events::post(state, "ONAPPUNINSTALL", &app.handler_url, form).await)
}

pub(crate) fn status(state: &AppState) -> Result<AppStatus, AppError> {
    let app = app_of(state)?;
    Ok(AppStatus {
        client_id: app.client_id.clone(),
        handler_url: app.handler_url.clone(),
        install_url: app.install_url().to_string(),
        installation: state.read_oauth(|oauth| oauth.installation().cloned()),
        events: state.app_events.lock().expect("events lock").clone(),
    })
}
