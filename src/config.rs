//! Deployment configuration, read from `<meta>` tags that the companion rewrites when it
//! serves `index.html`: nothing about a particular portal is compiled into the wasm.
//!
//! - `<meta name="b24pay-allowed-origins" content="https://a.bitrix24.ru https://b.example">`:
//!   space-separated exact origins allowed to post the payment message.
//! - `<meta name="b24pay-api" content="/api/v1">`: the payment API's base URL.

use core::fmt;
use std::time::Duration;

/// An exact web origin: `http` or `https`, a host, an optional non-default port.
/// Kept in the form browsers put in `MessageEvent.origin` (lower case, default port omitted),
/// so comparing with an event's origin is string equality.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginError {
    /// Not `http://` or `https://`.
    Scheme,
    /// Empty host, or characters a host cannot have (including userinfo `@`).
    Host,
    /// Port not a number in 1..=65535.
    Port,
    /// Anything after the host and port: a path (even `/`), query or fragment.
    Path,
}

impl Origin {
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let lower = text.to_ascii_lowercase();
        let (scheme, rest, default_port) = if let Some(rest) = lower.strip_prefix("https://") {
            ("https", rest, "443")
        } else if let Some(rest) = lower.strip_prefix("http://") {
            ("http", rest, "80")
        } else {
            return Err(OriginError::Scheme);
        };
        if rest.contains(['/', '?', '#']) {
            return Err(OriginError::Path);
        }
        let (host, port) = split_host_port(rest)?;
        let valid_host = if let Some(v6) = host.strip_prefix('[') {
            v6.strip_suffix(']').is_some_and(|inner| {
                !inner.is_empty()
                    && inner
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            })
        } else {
            !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        };
        if !valid_host {
            return Err(OriginError::Host);
        }
        let mut origin = format!("{scheme}://{host}");
        if let Some(port) = port {
            let valid = !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
            if !valid {
                return Err(OriginError::Port);
            }
            let port = port.trim_start_matches('0');
            if port != default_port {
                origin.push(':');
                origin.push_str(port);
            }
        }
        Ok(Origin(origin))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), OriginError> {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => {
                let (host, after) = authority.split_at(end + 1);
                match after.strip_prefix(':') {
                    Some(port) => Ok((host, Some(port))),
                    None if after.is_empty() => Ok((host, None)),
                    None => Err(OriginError::Host),
                }
            }
            None => Err(OriginError::Host),
        };
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({})", self.0)
    }
}

/// The widget's deployment configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct WidgetConfig {
    /// Portal origins whose messages are accepted. Empty means none: the widget then waits,
    /// and shows its "no payment details" error after [`WidgetConfig::wait_for_portal`].
    pub allowed_origins: Vec<Origin>,
    /// Base URL of the payment API (`/api/v1`, or absolute).
    pub api_base: String,
    /// How long to wait for the portal's message before showing an error.
    pub wait_for_portal: Duration,
}

pub const ALLOWED_ORIGINS_META: &str = "b24pay-allowed-origins";
pub const API_META: &str = "b24pay-api";
pub const DEFAULT_API_BASE: &str = "/api/v1";
/// The portal posts on the iframe's `load`; this only fires when the page is opened outside
/// a portal, or the portal's configuration is wrong.
pub const DEFAULT_WAIT_FOR_PORTAL: Duration = Duration::from_secs(10);

impl WidgetConfig {
    /// Reads the `<meta>` tags of the current document. Invalid origins are skipped with a
    /// console warning naming them, so a typo is visible to whoever deploys.
    pub fn from_document() -> WidgetConfig {
        let meta = |name: &str| -> Option<String> {
            let document = web_sys::window()?.document()?;
            document
                .query_selector(&format!("meta[name=\"{name}\"]"))
                .ok()??
                .get_attribute("content")
        };
        let (allowed_origins, rejected) =
            parse_allowed_origins(meta(ALLOWED_ORIGINS_META).as_deref().unwrap_or_default());
        for bad in rejected {
            web_sys::console::warn_2(
                &"b24pay: ignoring invalid allowed origin".into(),
                &bad.into(),
            );
        }
        let api_base = meta(API_META)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_API_BASE.to_owned());
        WidgetConfig {
            allowed_origins,
            api_base,
            wait_for_portal: DEFAULT_WAIT_FOR_PORTAL,
        }
    }

    pub fn is_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o.as_str() == origin)
    }
}

/// Splits a meta `content` on whitespace: the valid origins (deduplicated) and the rejected
/// entries.
pub fn parse_allowed_origins(content: &str) -> (Vec<Origin>, Vec<String>) {
    let mut origins: Vec<Origin> = Vec::new();
    let mut rejected = Vec::new();
    for entry in content.split_ascii_whitespace() {
        match Origin::parse(entry) {
            Ok(origin) if !origins.contains(&origin) => origins.push(origin),
            Ok(_) => {}
            Err(_) => rejected.push(entry.to_owned()),
        }
    }
    (origins, rejected)
}
