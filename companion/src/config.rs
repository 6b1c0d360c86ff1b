//! Configuration in two layers: one TOML file (`--config`) and `B24PAY_*` environment variables
//! (which win; see [`env::VARS`]), merged into one TOML tree, read once into [`FileConfig`] and
//! validated section by section into [`Config`], with every problem listed in one message.
//!
//! One file per section: [`network`] (addresses, origins), [`portal`], [`limits`], [`outbox`],
//! [`payments`], [`security`], and `[acquirer.stripe]` in [`crate::acquirer::stripe::settings`].

pub mod app;
pub mod env;
mod limits;
mod network;
mod outbox;
mod payments;
mod portal;
mod security;

pub use app::AppSettings;
pub use bitrix24_client::Secret;
pub use env::process_env;
pub use limits::{FileLimits, Limits};
pub use network::{default_dist_dir, origin_of, parse_origin};
pub use outbox::{FileOutbox, OutboxSettings};
pub use payments::FilePayments;
pub use portal::{
    FileOAuth, FilePortal, OAuthSettings, PortalAuth, PortalSettings, DEFAULT_CUSTOMER_SHARE,
};
pub use security::{FileSecurity, SecuritySettings};

use crate::store::StoreLocation;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The file's shape. Every key optional: environment variables may supply it instead.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    /// A second listener for `/readyz` and `/metrics` (then not served on `listen`).
    pub admin_listen: Option<String>,
    pub public_url: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub api_base: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<Secret>,
    pub dist_dir: Option<PathBuf>,
    pub cors_origins: Option<Vec<String>>,
    /// A JSON file with a portal message (`{...FIELDS, "BX_SYSTEM_PARAMS": {...}}`) that the
    /// widget shows when its page is opened on its own, outside a portal: the standalone
    /// preview. Off unless set; `b24pay preview` sets it to one of its sandbox payments.
    pub preview_sample: Option<PathBuf>,
    #[serde(default)]
    pub portal: FilePortal,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub outbox: FileOutbox,
    #[serde(default)]
    pub payments: FilePayments,
    #[serde(default)]
    pub security: FileSecurity,
    #[serde(default)]
    pub acquirer: FileAcquirer,
    #[serde(default)]
    pub app: app::FileApp,
}

/// `[acquirer.*]`: live acquirers (each validates its own table).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAcquirer {
    pub stripe: Option<crate::acquirer::stripe::settings::FileStripe>,
}

/// Validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// Serves `/readyz` and `/metrics` (and `/healthz`) when set; they leave `listen` then.
    pub admin_listen: Option<SocketAddr>,
    /// Where the widget is served (the handler's ACTION_URI).
    pub public_url: Url,
    /// Exact portal origins allowed to embed the widget (CSP frame-ancestors, the page's meta).
    pub allowed_origins: Vec<String>,
    /// The API base the widget calls: a path (`/api/v1`) or an absolute URL.
    pub api_base: String,
    pub store: StoreLocation,
    pub dist_dir: PathBuf,
    /// Extra origins allowed to call the API cross-origin (none by default).
    pub cors_origins: Vec<String>,
    /// The standalone preview's sample portal message (JSON text), when configured.
    pub preview_sample: Option<String>,
    pub portal: PortalSettings,
    pub limits: Limits,
    pub outbox: OutboxSettings,
    pub payments: crate::payments::PaymentsConfig,
    pub security: SecuritySettings,
    pub reconcile: crate::payments::reconcile::ReconcileSettings,
    /// `[acquirer.stripe]`, when configured.
    pub stripe: Option<crate::acquirer::stripe::StripeSettings>,
    /// `[app]`: a Market application that portals install.
    pub app: Option<AppSettings>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),
}

impl FileConfig {
    /// The file (if any) with the environment over it.
    pub fn load(
        path: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<FileConfig, ConfigError> {
        let (text, name) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                (text, path.display().to_string())
            }
            None => (String::new(), "(none)".to_string()),
        };
        FileConfig::layered(&text, &name, env)
    }

    /// TOML text (from `name`) with the environment over it.
    pub fn layered(
        text: &str,
        name: &str,
        env: &HashMap<String, String>,
    ) -> Result<FileConfig, ConfigError> {
        // Only the message and the line: the line's text may hold a secret.
        let parse = |e: toml::de::Error| ConfigError::Parse {
            path: match e.span() {
                Some(span) => format!(
                    "{name}, line {}",
                    1 + text[..span.start].matches('\n').count()
                ),
                None => name.to_string(),
            },
            message: e.message().to_string(),
        };
        // The file alone first, so its mistakes are reported against it.
        toml::from_str::<FileConfig>(text).map_err(parse)?;
        let mut tree: toml::Table = toml::from_str(text).map_err(parse)?;
        let mut problems = Vec::new();
        env::overlay(&mut tree, env, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        toml::Value::Table(tree)
            .try_into()
            .map_err(|e: toml::de::Error| {
                ConfigError::Invalid(vec![format!("environment: {}", e.message())])
            })
    }

    /// True when nothing says which portal to use: `b24pay` then runs the preview.
    pub fn has_portal(&self) -> bool {
        self.portal.is_set() || self.app.is_set()
    }

    /// Validates every section, reporting every problem at once.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let network = self.network(&mut problems);
        let app = app::validate(&self, &mut problems);
        let portal = self.portal.validate(app.is_some(), &mut problems);
        let portal_origin = portal.as_ref().map(|p| p.origin.as_str());
        let allowed_origins =
            self.allowed_origins(portal_origin.filter(|o| !o.is_empty()), &mut problems);
        let store = self.store_with(&mut problems);
        let security = security::validate(&self, &store, &mut problems);
        let limits = self.limits.validate(&mut problems);
        let outbox = self
            .outbox
            .validate(portal.as_ref().map(|p| p.timeout), &mut problems);
        let payments = self.payments.validate(&mut problems);
        let reconcile = crate::payments::reconcile::ReconcileSettings {
            poll: Duration::from_millis(self.payments.reconcile_poll_ms.unwrap_or(1000).max(10)),
        };
        let stripe = self
            .acquirer
            .stripe
            .as_ref()
            .and_then(|s| s.validate().map_err(|p| problems.extend(p)).ok());
        let dist_dir = self.dist_dir.clone().unwrap_or_else(default_dist_dir);
        let preview_sample = self.preview_sample(&mut problems);
        match portal {
            Some(portal) if problems.is_empty() => Ok(Config {
                listen: network.listen,
                admin_listen: network.admin_listen,
                public_url: network.public_url,
                allowed_origins,
                api_base: network.api_base,
                store,
                dist_dir,
                cors_origins: network.cors_origins,
                preview_sample,
                portal,
                limits,
                outbox,
                payments,
                security,
                reconcile,
                stripe,
                app,
            }),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }

    /// The sample message's text, checked to be a JSON object with `BX_SYSTEM_PARAMS` (what the
    /// widget takes for the portal's message).
    fn preview_sample(&self, problems: &mut Vec<String>) -> Option<String> {
        let path = self.preview_sample.as_ref()?;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!(
                    "preview_sample: cannot read {}: {e}",
                    path.display()
                ));
                return None;
            }
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) if v.get("BX_SYSTEM_PARAMS").is_some_and(|p| p.is_object()) => Some(text),
            _ => {
                problems.push(format!(
                    "preview_sample: {} is not a portal message (a JSON object with BX_SYSTEM_PARAMS)",
                    path.display()
                ));
                None
            }
        }
    }

    /// Where the store is, for the commands that only need the store (`attempts`, `outbox`).
    pub fn store_location(&self) -> Result<StoreLocation, ConfigError> {
        let mut problems = Vec::new();
        let store = self.store_with(&mut problems);
        if problems.is_empty() {
            Ok(store)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    fn store_with(&self, problems: &mut Vec<String>) -> StoreLocation {
        match (&self.database_url, &self.data_dir) {
            (Some(url), _) => {
                let u = url.expose();
                if !(u.starts_with("postgres://")
                    || u.starts_with("postgresql://")
                    || u.starts_with("sqlite:"))
                {
                    problems.push(
                        "database_url / DATABASE_URL: must start with postgres://, postgresql:// or sqlite:"
                            .into(),
                    );
                }
                StoreLocation::Url(u.to_string())
            }
            (None, Some(dir)) => StoreLocation::DataDir(dir.clone()),
            (None, None) => StoreLocation::DataDir(PathBuf::from("b24pay-data")),
        }
    }
}

#[cfg(test)]
mod tests;
