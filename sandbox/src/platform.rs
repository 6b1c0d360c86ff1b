//! Several portals at once, as a Market application meets them: each portal its own origin
//! (listener), `member_id`, webhook, OAuth client, store pages and admin page, and one OAuth
//! server they share (the stand-in for `oauth.bitrix.info`), whose token endpoint refreshes
//! any of their tokens and answers with that portal's `client_endpoint` and `member_id`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use tokio::net::TcpListener;

use crate::app::App;
use crate::oauth::{self, TokenQuery, MEMBER_ID};
use crate::sandbox::{SandboxBuilder, SandboxHandle, StartError};
use crate::server::Listeners;
use crate::state::AppState;

/// Entry point: `Platform::builder().portal(…).portal(…).start().await`.
pub struct Platform;

impl Platform {
    pub fn builder() -> PlatformBuilder {
        PlatformBuilder {
            portals: Vec::new(),
            app: None,
            oauth_bind: "127.0.0.1:0".to_string(),
        }
    }
}

/// Configures the portals and their shared OAuth server.
#[derive(Clone, Debug)]
pub struct PlatformBuilder {
    portals: Vec<SandboxBuilder>,
    app: Option<App>,
    oauth_bind: String,
}

impl PlatformBuilder {
    /// Adds a portal. Portals whose `member_id` is left at the default get one of their own
    /// (the first keeps the default), and every portal's tokens differ from the others'.
    pub fn portal(mut self, portal: SandboxBuilder) -> Self {
        self.portals.push(portal);
        self
    }

    /// The Market application every portal can install.
    pub fn app(mut self, app: App) -> Self {
        self.app = Some(app);
        self
    }

    /// Address of the shared OAuth server (default `127.0.0.1:0`).
    pub fn oauth_bind(mut self, addr: impl Into<String>) -> Self {
        self.oauth_bind = addr.into();
        self
    }

    pub async fn start(self) -> Result<PlatformHandle, StartError> {
        let bind_error = |source| StartError::Bind {
            addr: self.oauth_bind.clone(),
            source,
        };
        let listener = TcpListener::bind(&self.oauth_bind)
            .await
            .map_err(bind_error)?;
        let oauth_url = format!("http://{}", listener.local_addr().map_err(bind_error)?);
        let mut portals = Vec::new();
        for (index, mut portal) in self.portals.into_iter().enumerate() {
            portal.oauth_server = Some(format!("{oauth_url}/oauth"));
            portal.token_salt = index as u64;
            if index > 0 && portal.member_id_value() == MEMBER_ID {
                portal = portal.member_id(member_id_for(index));
            }
            if let Some(app) = &self.app {
                portal = portal.app(app.clone());
            }
            portals.push(portal.start().await?);
        }
        let states: Vec<Arc<AppState>> = portals.iter().map(|p| p.state().clone()).collect();
        let router = Router::new()
            .route("/oauth/token/", any(token))
            .route("/oauth/token", any(token))
            .with_state(Arc::new(states));
        let listeners = Listeners::new(router, None);
        listeners.listen(listener, &oauth_url);
        tracing::info!(%oauth_url, portals = portals.len(), "sandbox platform listening");
        Ok(PlatformHandle {
            portals,
            oauth_url,
            listeners,
        })
    }
}

/// A distinct, stable 32-hex-digit `member_id` for the portal at `index`.
fn member_id_for(index: usize) -> String {
    let base = u128::from_str_radix(MEMBER_ID, 16).expect("MEMBER_ID is hex");
    format!("{:032x}", base ^ (((index as u128) << 64) | index as u128))
}

/// The shared token endpoint: the refresh goes to the portal that issued the token.
async fn token(
    State(portals): State<Arc<Vec<Arc<AppState>>>>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let refresh_token = query.refresh_token.as_deref().unwrap_or("");
    let issuer = portals
        .iter()
        .find(|state| state.read_oauth(|o| o.issued_refresh(refresh_token)));
    match issuer {
        Some(state) => oauth::token_for(state, &query),
        None => oauth::unknown_refresh_token(),
    }
}

/// Running portals and their OAuth server. Dropping it stops the OAuth server; each portal
/// stops with its last [`SandboxHandle`].
pub struct PlatformHandle {
    portals: Vec<SandboxHandle>,
    oauth_url: String,
    listeners: Listeners,
}

impl std::fmt::Debug for PlatformHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformHandle")
            .field("portals", &self.portals)
            .field("oauth_url", &self.oauth_url)
            .finish_non_exhaustive()
    }
}

impl Drop for PlatformHandle {
    fn drop(&mut self) {
        self.listeners.stop();
    }
}

impl PlatformHandle {
    pub fn portals(&self) -> &[SandboxHandle] {
        &self.portals
    }

    /// The portal added `index`-th (from 0). Panics when there is none.
    pub fn portal(&self, index: usize) -> &SandboxHandle {
        &self.portals[index]
    }

    pub fn portal_by_member_id(&self, member_id: &str) -> Option<&SandboxHandle> {
        self.portals.iter().find(|p| p.member_id() == member_id)
    }

    /// The shared OAuth server, no trailing slash (`server_endpoint` is `{it}/oauth/rest/`).
    pub fn oauth_url(&self) -> String {
        self.oauth_url.clone()
    }

    /// The shared `oauth.bitrix.info/oauth/token/`: refreshes any portal's tokens.
    pub fn oauth_token_endpoint(&self) -> String {
        format!("{}/oauth/token/", self.oauth_url)
    }

    /// Stops the OAuth server and every portal.
    pub async fn shutdown(self) {
        self.listeners.shutdown().await;
        for portal in self.portals.clone() {
            portal.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids_differ_and_stay_hex() {
        let ids: Vec<String> = (1..4).map(member_id_for).collect();
        assert!(ids.iter().all(|id| id.len() == 32 && id != MEMBER_ID));
        assert_ne!(ids[0], ids[1]);
        assert_eq!(member_id_for(2), member_id_for(2));
    }
}
