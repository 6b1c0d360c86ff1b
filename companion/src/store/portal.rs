//! Installed portals (a Market application's installs), as the store keeps them: who they are
//! (`member_id`, our public id), where they are (domain, origin, REST endpoint), the keyed hash
//! of the `application_token` every event is checked against, and their OAuth tokens, sealed.
//!
//! The checks that make a forged event harmless live in the SQL: an install replaces an
//! installed portal's tokens only when it carries the same `application_token` hash, and an
//! uninstall takes effect only with it.

use super::StoreError;
use async_trait::async_trait;

b24pay_protocol::wire_enum! {
    /// Whether the portal has the app.
    pub enum PortalState {
        Installed = "installed",
        /// Tokens forgotten; its payments are refused.
        Uninstalled = "uninstalled",
    }
}

/// The row as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PortalRow {
    pub member_id: String,
    pub public_id: String,
    pub domain: String,
    pub origin: String,
    pub client_endpoint: String,
    pub app_token_hash: Option<String>,
    pub tokens: Option<String>,
    pub state: String,
    pub installed_at: i64,
    pub updated_at: i64,
    pub uninstalled_at: Option<i64>,
}

pub const PORTAL_COLUMNS: &str = "member_id, public_id, domain, origin, client_endpoint, \
    app_token_hash, tokens, state, installed_at, updated_at, uninstalled_at";

impl PortalRow {
    pub fn state(&self) -> Option<PortalState> {
        PortalState::from_code(&self.state)
    }

    pub fn is_installed(&self) -> bool {
        self.state() == Some(PortalState::Installed)
    }
}

/// What an install writes. `app_token_hash` `None`: installed through the install page, which
/// carries no `application_token` (an event that does sets it later).
#[derive(Clone, Debug)]
pub struct PortalInstall {
    pub member_id: String,
    /// Used only when the portal is new: a known portal keeps its public id (its widget URL).
    pub public_id: String,
    pub domain: String,
    pub origin: String,
    pub client_endpoint: String,
    pub app_token_hash: Option<String>,
    /// Sealed.
    pub tokens: String,
    pub now: i64,
}

#[derive(Debug)]
pub enum InstallOutcome {
    /// Stored: a new portal, a reinstall after an uninstall, or the same installation again.
    Stored(Box<PortalRow>),
    /// The portal is installed with another `application_token`: nothing changed.
    TokenMismatch,
}

/// Where a moved portal is now.
#[derive(Clone, Debug)]
pub struct PortalLocation {
    pub domain: String,
    pub origin: String,
    pub client_endpoint: String,
}

#[async_trait]
pub trait PortalStore: Send + Sync {
    async fn portal_by_member(&self, member_id: &str) -> Result<Option<PortalRow>, StoreError>;
    async fn portal_by_public_id(&self, public_id: &str) -> Result<Option<PortalRow>, StoreError>;
    /// Every portal that ever installed the app, newest first.
    async fn portals(&self) -> Result<Vec<PortalRow>, StoreError>;
    /// Inserts a new portal, or replaces a known one's tokens and place when it is uninstalled,
    /// or installed without a known token, or installed with this very token.
    async fn portal_install(&self, install: &PortalInstall) -> Result<InstallOutcome, StoreError>;
    /// Forgets the tokens of an installed portal whose `application_token` hash matches; with
    /// `clean` (the admin deleted the app's data) its location and token hash too, keeping only
    /// what explains its payments (member_id, public id, dates). False when nothing matched (a
    /// wrong or missing token changes nothing).
    async fn portal_uninstall(
        &self,
        member_id: &str,
        app_token_hash: &str,
        clean: bool,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// The operator forgets an installed portal (`b24pay portals forget`): its tokens are
    /// dropped and its payments refused, as after an uninstall; its `application_token` hash
    /// stays, so only the portal itself can install the app again. False when it was not
    /// installed.
    async fn portal_forget(&self, member_id: &str, now: i64) -> Result<bool, StoreError>;
    /// Refreshed tokens (sealed), while the portal is installed. False when it is not.
    async fn portal_save_tokens(
        &self,
        member_id: &str,
        sealed: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// A portal that moved: its new domain, origin and REST endpoint.
    async fn portal_moved(
        &self,
        member_id: &str,
        location: &PortalLocation,
        now: i64,
    ) -> Result<(), StoreError>;
}

/// The uninstall's SQL (`?1` member_id, `?2` hash, `?3` now; `$n` on PostgreSQL).
pub(super) fn uninstall_sql(clean: bool, p: fn(usize) -> String) -> String {
    let wipe = if clean {
        ", domain = '', origin = '', client_endpoint = '', app_token_hash = NULL"
    } else {
        ""
    };
    format!(
        "UPDATE portals SET state = 'uninstalled', tokens = NULL, uninstalled_at = {now}, \
         updated_at = {now}{wipe} WHERE member_id = {m} AND app_token_hash = {h} \
         AND state = 'installed'",
        m = p(1),
        h = p(2),
        now = p(3),
    )
}

/// The operator's forget (`?1` member_id, `?2` now; `$n` on PostgreSQL).
pub(super) fn forget_sql(p: fn(usize) -> String) -> String {
    format!(
        "UPDATE portals SET state = 'uninstalled', tokens = NULL, uninstalled_at = {now}, \
         updated_at = {now} WHERE member_id = {m} AND state = 'installed'",
        m = p(1),
        now = p(2),
    )
}

/// The install's SQL, shared by both stores (`?` placeholders numbered for each).
pub(super) fn install_sql(p: fn(usize) -> String) -> String {
    format!(
        "INSERT INTO portals (member_id, public_id, domain, origin, client_endpoint, \
         app_token_hash, tokens, state, installed_at, updated_at) \
         VALUES ({m}, {pid}, {d}, {o}, {ce}, {h}, {t}, 'installed', {now}, {now}) \
         ON CONFLICT (member_id) DO UPDATE SET domain = excluded.domain, \
         origin = excluded.origin, client_endpoint = excluded.client_endpoint, \
         app_token_hash = COALESCE(excluded.app_token_hash, portals.app_token_hash), \
         tokens = excluded.tokens, state = 'installed', updated_at = excluded.updated_at, \
         installed_at = CASE WHEN portals.state = 'installed' THEN portals.installed_at \
             ELSE excluded.installed_at END, \
         uninstalled_at = NULL \
         WHERE portals.state <> 'installed' OR portals.app_token_hash IS NULL \
            OR portals.app_token_hash = excluded.app_token_hash",
        m = p(1),
        pid = p(2),
        d = p(3),
        o = p(4),
        ce = p(5),
        h = p(6),
        t = p(7),
        now = p(8),
    )
}
