//! Deployment configuration, read from `<meta>` tags that the companion rewrites when it
//! serves `index.html`: nothing about a particular portal is compiled into the wasm.
//!
//! - `<meta name="b24pay-allowed-origins" content="https://a.bitrix24.ru https://b.example">`:
//!   space-separated exact origins allowed to post the payment message.
//! - `<meta name="b24pay-api" content="/api/v1">`: the payment API's base URL.
//! - `<meta name="b24pay-preview" content="{…}">`: a sample portal message for the standalone
//!   preview (the page opened on its own, outside a portal). Empty in production; the companion
//!   fills it only when configured to (`b24pay preview` does).

use core::fmt;
use std::time::Duration;

/// An exact web origin (`http` or `https`), as the browser's URL parser serialises it — the
/// form browsers put in `MessageEvent.origin` — so comparing with an event's origin is string
/// equality.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginError {
    /// The browser's URL parser refuses it (no scheme, bad host, bad port).
    Unparsable,
    /// Not `http:` or `https:`.
    Scheme,
    /// A user name or password before the host.
    Credentials,
    /// More than an origin: a path (other than the empty one), a query or a fragment.
    Path,
}

impl Origin {
    /// Parses with the browser's own URL parser and keeps its serialisation of the origin.
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let url = web_sys::Url::new(text.trim()).map_err(|_| OriginError::Unparsable)?;
        if !matches!(url.protocol().as_str(), "http:" | "https:") {
            return Err(OriginError::Scheme);
        }
        if !url.username().is_empty() || !url.password().is_empty() {
            return Err(OriginError::Credentials);
        }
        let origin = url.origin();
        // `https://a.example` and `https://a.example/` both serialise as the origin plus "/".
        if url.href().strip_suffix('/') != Some(origin.as_str())
            || text.trim().ends_with(['/', '?', '#'])
        {
            return Err(OriginError::Path);
        }
        Ok(Origin(origin))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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
    /// and says so after [`WidgetConfig::wait_for_portal`].
    pub allowed_origins: Vec<Origin>,
    /// Base URL of the payment API (`/api/v1`, or absolute).
    pub api_base: String,
    /// How long to wait for the portal's message before saying that it has not come.
    pub wait_for_portal: Duration,
    /// The standalone preview's sample portal message (JSON text), when the deployment offers
    /// one; used only when the page is not in a frame.
    pub preview: Option<String>,
}

pub const ALLOWED_ORIGINS_META: &str = "b24pay-allowed-origins";
pub const API_META: &str = "b24pay-api";
pub const PREVIEW_META: &str = "b24pay-preview";
pub const DEFAULT_API_BASE: &str = b24pay_protocol::api::API_PREFIX;
/// The portal posts on the iframe's `load`, and `loader.js` keeps that message until the wasm
/// runs: past this, it is not coming (the page was opened outside a portal, or the portal's
/// origin is not configured).
pub const DEFAULT_WAIT_FOR_PORTAL: Duration = Duration::from_secs(4);

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
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let (allowed_origins, rejected) =
            parse_allowed_origins(meta(ALLOWED_ORIGINS_META).as_deref().unwrap_or_default());
        for bad in rejected {
            web_sys::console::warn_2(
                &"b24pay: ignoring invalid allowed origin".into(),
                &bad.into(),
            );
        }
        WidgetConfig {
            allowed_origins,
            api_base: meta(API_META).unwrap_or_else(|| DEFAULT_API_BASE.to_owned()),
            wait_for_portal: DEFAULT_WAIT_FOR_PORTAL,
            preview: meta(PREVIEW_META),
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
