//! b24pay as a Bitrix24 Market application: portals install it themselves, by the
//! `ONAPPINSTALL` event or through the install page, and uninstall it by `ONAPPUNINSTALL`.
//!
//! - [`form`]: what the platform posts, parsed once; [`verify`]: handed-over tokens checked
//!   with the OAuth server, which says whose they are; [`routes`]: the handler URL
//!   (`{public_url}app/events`) and the install page (`{public_url}app/install`).
//! - An install stores the portal ([`crate::store::PortalStore`]), then registers the IFRAME
//!   handler (ACTION_URI `{public_url}p/{public id}/`) and a TEST pay system with the portal's
//!   own tokens ([`crate::register::register_on_install`]).
//! - Every event is checked against the stored `application_token` (a keyed hash of it): a
//!   forged install for an installed portal cannot replace its tokens, a forged uninstall
//!   changes nothing.

pub mod form;
pub mod routes;
pub mod verify;

use crate::config::AppSettings;
use crate::keys::Subkey;
use crate::portal::{Mode, PortalKey, PublicId, SharedPortals};
use crate::register::{register_on_install, RegisterOptions, RegisterReport, Scopes};
use crate::store::{now_ms, InstallOutcome, PortalInstall, PortalRow, SharedStore};
use form::Handover;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use verify::VerifyError;

/// The app's side of installs.
pub struct Market {
    pub store: SharedStore,
    pub portals: SharedPortals,
    pub app: AppSettings,
    /// `public_url`, ending in `/`: widget URLs are `{it}p/{public id}/`.
    pub public_url: url::Url,
    /// Keys the `application_token` hashes.
    pub app_token_key: Subkey,
    pub http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("the portal is installed with another application_token")]
    TokenMismatch,
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("setting the portal up failed: {0}")]
    Register(String),
}

/// What an install did.
pub struct Installed {
    pub portal: PortalRow,
    pub widget_url: url::Url,
    pub register: RegisterReport,
}

impl Market {
    /// The keyed hash events are compared by (the token itself is never stored).
    pub fn app_token_hash(&self, member_id: &str, token: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.app_token_key.expose()).expect("any key length");
        mac.update(member_id.as_bytes());
        mac.update(&[0]);
        mac.update(token.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn widget_url(&self, public_id: &str) -> url::Url {
        self.public_url
            .join(&format!("p/{public_id}/"))
            .expect("a public id is a valid path segment")
    }

    /// Checks the tokens, stores the portal, sets it up. `application_token` is `None` for
    /// the install page.
    pub async fn install(
        &self,
        handover: &Handover,
        application_token: Option<&str>,
    ) -> Result<Installed, InstallError> {
        let verified = verify::verify(&self.http, &self.app, handover).await?;
        let seal = &self.portals.app().expect("a Market has app clients").seal;
        let install = PortalInstall {
            member_id: verified.member_id.clone(),
            public_id: PublicId::generate().to_string(),
            domain: verified.domain(),
            origin: verified.origin(),
            client_endpoint: verified.client_endpoint.to_string(),
            app_token_hash: application_token.map(|t| self.app_token_hash(&verified.member_id, t)),
            tokens: seal.seal(&verified.member_id, &verified.tokens),
            now: now_ms(),
        };
        let row = match self.store.portal_install(&install).await? {
            InstallOutcome::Stored(row) => *row,
            InstallOutcome::TokenMismatch => return Err(InstallError::TokenMismatch),
        };
        self.portals.forget(&row.member_id);
        tracing::info!(member_id = %row.member_id, public_id = %row.public_id, origin = %row.origin, "portal installed the app");
        let register = self.set_up(&row, &verified.scopes).await?;
        Ok(Installed {
            widget_url: self.widget_url(&row.public_id),
            portal: row,
            register,
        })
    }

    async fn set_up(
        &self,
        row: &PortalRow,
        scopes: &Scopes,
    ) -> Result<RegisterReport, InstallError> {
        let failed = |e: String| InstallError::Register(e);
        let portal = self
            .portals
            .client_for(row)
            .map_err(|e| failed(e.to_string()))?;
        let options = RegisterOptions::new(self.widget_url(&row.public_id), Mode::Test);
        let report = register_on_install(portal.client(), &options, scopes)
            .await
            .map_err(|e| failed(e.to_string()))?;
        tracing::info!(member_id = %row.member_id, report = %report, "portal set up");
        Ok(report)
    }

    /// `true` when the uninstall took effect (the token matched).
    pub async fn uninstall(
        &self,
        member_id: &str,
        application_token: &str,
        clean: bool,
    ) -> Result<bool, InstallError> {
        if application_token.is_empty() {
            return Ok(false);
        }
        let hash = self.app_token_hash(member_id, application_token);
        let done = self
            .store
            .portal_uninstall(member_id, &hash, clean, now_ms())
            .await?;
        if done {
            self.portals.forget(member_id);
            tracing::info!(%member_id, clean, "portal uninstalled the app: its tokens are forgotten, its payments refused");
        }
        Ok(done)
    }

    /// The key its payments are stored under.
    pub fn key_of(row: &PortalRow) -> PortalKey {
        PortalKey::from_stored(row.public_id.clone())
    }
}
