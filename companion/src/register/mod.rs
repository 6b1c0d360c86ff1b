//! `b24pay register`: sets a portal up for b24pay, idempotently. It reads what exists first and
//! writes only what differs, so running it twice changes nothing the second time (and says so).
//!
//! 1. The IFRAME handler (CODE `b24pay`, ACTION_URI = the widget's public URL). Its FIELDS carry
//!    only non-secret values (`b24pay_protocol::fields`: shop id, language, payment number,
//!    invoice id, mode, whether to ask for the cardholder); the secret key stays a server-side
//!    setting.
//! 2. The pay system bound to it (`ACTIVE=Y`, registry ORDER or CRM_INVOICE, a person type of
//!    that registry).
//! 3. The pay system's settings (`settings.update`): mode, shop id, secret key, and the
//!    PAYMENT/ORDER mappings the server verifies payments with.
//!
//! Where things are: [`settings`] (what the handler and the pay system are set to),
//! [`ensure`] (the three steps, each read-then-write), [`person_types`] (listing the shop's
//! person types), [`install`] (what a Market app install sets up).

mod ensure;
mod install;
mod person_types;
mod settings;

pub use install::register_on_install;
pub use person_types::Scopes;
pub use settings::{handler_settings, paysystem_settings};

use crate::portal::{Mode, HANDLER_CODE};
use crate::store::Registry;
use bitrix24_client::{Client, Error};
use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug)]
pub struct RegisterOptions {
    /// The widget's public URL: the handler's IFRAME ACTION_URI.
    pub widget_url: url::Url,
    pub registry: Registry,
    /// Chosen person type; when `None`, the only one the registry has is used.
    pub person_type: Option<u64>,
    pub mode: Mode,
    pub shop_id: Option<String>,
    pub secret_key: Option<String>,
    /// Forces the widget's language (`B24PAY_LANGUAGE`), e.g. "ru".
    pub language: Option<String>,
    /// Asks the customer for the name on the card (`B24PAY_ASK_HOLDER`).
    pub ask_holder: bool,
    /// The pay system's name as customers see it.
    pub name: String,
}

impl RegisterOptions {
    /// No default mode: whether a pay system takes real money is always said out loud.
    pub fn new(widget_url: url::Url, mode: Mode) -> RegisterOptions {
        RegisterOptions {
            widget_url,
            registry: Registry::Order,
            person_type: None,
            mode,
            shop_id: None,
            secret_key: None,
            language: None,
            ask_holder: false,
            name: "Bank card (b24pay)".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        })
    }
}

/// What `register` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisterReport {
    pub handler_id: u64,
    pub handler: Action,
    pub paysystem_id: u64,
    pub paysystem: Action,
    pub person_type_id: u64,
    pub settings: Action,
}

impl RegisterReport {
    pub fn changed_nothing(&self) -> bool {
        [self.handler, self.paysystem, self.settings]
            .iter()
            .all(|a| *a == Action::Unchanged)
    }
}

impl fmt::Display for RegisterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "handler {HANDLER_CODE:?}: {} (id {})",
            self.handler, self.handler_id
        )?;
        writeln!(
            f,
            "pay system: {} (id {}, person type {})",
            self.paysystem, self.paysystem_id, self.person_type_id
        )?;
        writeln!(f, "settings: {}", self.settings)?;
        if self.changed_nothing() {
            write!(f, "nothing to do: the portal was already set up")
        } else {
            write!(f, "done")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("portal call failed: {0}")]
    Portal(#[from] Error),
    #[error("{0}")]
    PersonType(String),
    #[error("several pay systems use handler {HANDLER_CODE:?} in registry {0}: {1:?}; pass --person-type to pick one")]
    AmbiguousPaySystem(&'static str, Vec<u64>),
}

/// Sets the portal up, in the module docs' three steps.
pub async fn register(
    client: &Client,
    o: &RegisterOptions,
) -> Result<RegisterReport, RegisterError> {
    let (handler_id, handler) = ensure::ensure_handler(client, o).await?;
    let (paysystem_id, paysystem, person_type_id) = ensure::ensure_pay_system(client, o).await?;
    let settings =
        ensure::ensure_settings(client, o, paysystem_id, person_type_id, paysystem).await?;
    Ok(RegisterReport {
        handler_id,
        handler,
        paysystem_id,
        paysystem,
        person_type_id,
        settings,
    })
}
