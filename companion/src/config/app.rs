//! `[app]`: b24pay as a Bitrix24 Market application that any number of portals install. The
//! vendor account's settings give the client; the companion serves the app's handler
//! (`{public_url}app/events`) and install page (`{public_url}app/install`), and each installed
//! portal pays at `{public_url}p/{its public id}/`.

use super::network::parse_http_url;
use super::{FileConfig, Secret};
use serde::Deserialize;
use url::Url;

/// Where cloud portals' tokens are issued and refreshed.
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://oauth.bitrix.info/oauth/token/";

/// The BX24 library real install pages load.
pub const DEFAULT_BX24_SCRIPT: &str = "https://api.bitrix24.com/api/v1/";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileApp {
    /// The application's `client_id` from the vendor account (e.g. `app.64f1…`).
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// The OAuth server (default [`DEFAULT_TOKEN_ENDPOINT`]); every install's tokens are
    /// checked there, so an event's own URLs are never trusted with the client secret.
    pub token_endpoint: Option<String>,
    /// The BX24 library the install page loads (default [`DEFAULT_BX24_SCRIPT`]; the
    /// sandbox serves a stand-in at `<portal>/api/v1/`).
    pub bx24_script: Option<String>,
}

/// Validated `[app]`.
#[derive(Clone, Debug)]
pub struct AppSettings {
    pub client_id: String,
    pub client_secret: Secret,
    pub token_endpoint: Url,
    pub bx24_script: Url,
}

impl FileApp {
    pub fn is_set(&self) -> bool {
        self.client_id.is_some() || self.client_secret.is_some()
    }
}

pub(super) fn validate(file: &FileConfig, problems: &mut Vec<String>) -> Option<AppSettings> {
    let app = &file.app;
    if !app.is_set() {
        return None;
    }
    let client_id = app.client_id.clone().filter(|c| !c.trim().is_empty());
    let secret = app.client_secret.clone().filter(|s| !s.expose().is_empty());
    let (Some(client_id), Some(client_secret)) = (client_id, secret) else {
        problems.push(
            "app: set both app.client_id (B24PAY_APP_CLIENT_ID) and app.client_secret (B24PAY_APP_CLIENT_SECRET)"
                .into(),
        );
        return None;
    };
    let endpoint = app
        .token_endpoint
        .as_deref()
        .unwrap_or(DEFAULT_TOKEN_ENDPOINT);
    let token_endpoint = match parse_http_url("app.token_endpoint", endpoint) {
        Ok(u) => u,
        Err(p) => {
            problems.push(p);
            return None;
        }
    };
    let script = app.bx24_script.as_deref().unwrap_or(DEFAULT_BX24_SCRIPT);
    let bx24_script = match parse_http_url("app.bx24_script", script) {
        Ok(u) => u,
        Err(p) => {
            problems.push(p);
            return None;
        }
    };
    Some(AppSettings {
        client_id: client_id.trim().to_string(),
        client_secret,
        token_endpoint,
        bx24_script,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::from_env as validate;
    use super::super::*;

    #[test]
    fn an_app_needs_no_portal_of_its_own() {
        let c = validate(&[
            ("B24PAY_APP_CLIENT_ID", "app.b24pay"),
            ("B24PAY_APP_CLIENT_SECRET", "s3cret"),
            ("B24PAY_DATA_DIR", "/tmp/b24pay-app-config-test"),
        ])
        .unwrap();
        let app = c.app.expect("app mode");
        assert_eq!(app.client_id, "app.b24pay");
        assert_eq!(app.token_endpoint.as_str(), super::DEFAULT_TOKEN_ENDPOINT);
        assert!(matches!(c.portal.auth, PortalAuth::AppOnly));
        assert!(c.allowed_origins.is_empty());
        assert!(!format!("{:?}", app.client_secret).contains("s3cret"));
    }

    #[test]
    fn half_an_app_is_refused() {
        let e = validate(&[("B24PAY_APP_CLIENT_ID", "app.b24pay")]).unwrap_err();
        assert!(e.to_string().contains("app.client_secret"), "{e}");
    }
}
