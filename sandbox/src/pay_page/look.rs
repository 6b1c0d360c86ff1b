//! The store around the payment page: a light or dark theme and one of three fonts
//! (`?theme=dark&font=serif`), a page that is slow to finish parsing (`?dcl_delay_ms=1500`),
//! and the page shell (`templates/store.html`, `store.css`).

use std::time::Duration;

use axum::extract::Query;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::html::{self, esc};

const SHELL: &str = include_str!("../../templates/store.html");
const STYLE: &str = include_str!("../../templates/store.css");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Font {
    Sans,
    Serif,
    Mono,
}

impl Font {
    fn as_str(self) -> &'static str {
        match self {
            Font::Sans => "sans",
            Font::Serif => "serif",
            Font::Mono => "mono",
        }
    }
}

/// The longest a store page's `DOMContentLoaded` is held.
pub(crate) const MAX_DCL_DELAY_MS: u64 = 30_000;

/// The page's query: `theme` and `font`; anything else falls back to light and sans.
/// `dcl_delay_ms`: the page's `DOMContentLoaded` comes that much late (see [`late_script`]).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Look {
    theme: Option<String>,
    font: Option<String>,
    dcl_delay_ms: Option<String>,
}

impl Look {
    fn theme(&self) -> Theme {
        match self.theme.as_deref() {
            Some("dark") => Theme::Dark,
            _ => Theme::Light,
        }
    }

    fn font(&self) -> Font {
        match self.font.as_deref() {
            Some("serif") => Font::Serif,
            Some("mono") => Font::Mono,
            _ => Font::Sans,
        }
    }

    /// The store page around `body` (HTML).
    pub(crate) fn shell(
        &self,
        store: &str,
        title: &str,
        uri: &axum::http::Uri,
        body: &str,
    ) -> String {
        let (theme, font) = (self.theme(), self.font());
        let initials: String = store
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect();
        html::render(
            SHELL,
            &[
                ("title", &esc(title)),
                ("store", &esc(store)),
                ("style", STYLE),
                ("theme_class", &format!("theme-{}", theme.as_str())),
                ("font_class", &format!("font-{}", font.as_str())),
                ("initials", &esc(&initials)),
                ("switches", &switches(uri.path(), theme, font)),
                ("body", body),
                ("late_script", &late_script(self.dcl_delay_ms.as_deref())),
            ],
        )
    }
}

/// A parser-blocking script after the payment block, answered `ms` late (`/sandbox/slow.js`),
/// as a store's slow third-party script is: the page's `DOMContentLoaded`, on which the portal's
/// script attaches `iframe.onload`, comes only after it, and the frame can finish loading first.
/// Nothing for a missing or unparsable value, or 0: the page is then as fast as the portal's.
fn late_script(ms: Option<&str>) -> String {
    match ms.and_then(|ms| ms.trim().parse::<u64>().ok()) {
        Some(ms) if ms > 0 => format!(
            r#"<script src="/sandbox/slow.js?ms={}"></script>"#,
            ms.min(MAX_DCL_DELAY_MS)
        ),
        _ => String::new(),
    }
}

/// The theme and font links, the current ones marked.
fn switches(path: &str, theme: Theme, font: Font) -> String {
    let link =
        |t: Theme, f: Font| format!("{}?theme={}&amp;font={}", esc(path), t.as_str(), f.as_str());
    let choice = |label: &str, href: String, current: bool| {
        if current {
            format!(r#"<a href="{href}" aria-current="true">{label}</a>"#)
        } else {
            format!(r#"<a href="{href}">{label}</a>"#)
        }
    };
    format!(
        r#"<nav class="look" aria-label="Store look">
<span class="group">{} {}</span>
<span class="group">{} {} {}</span>
</nav>"#,
        choice("Light", link(Theme::Light, font), theme == Theme::Light),
        choice("Dark", link(Theme::Dark, font), theme == Theme::Dark),
        choice("Sans", link(theme, Font::Sans), font == Font::Sans),
        choice("Serif", link(theme, Font::Serif), font == Font::Serif),
        choice("Mono", link(theme, Font::Mono), font == Font::Mono),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct SlowScript {
    ms: Option<u64>,
}

/// `/sandbox/slow.js?ms=N`: an empty script, answered N ms late (at most
/// [`MAX_DCL_DELAY_MS`]), never cached (every page load waits again).
pub(crate) async fn slow_script(Query(query): Query<SlowScript>) -> impl IntoResponse {
    let ms = query.ms.unwrap_or(0).min(MAX_DCL_DELAY_MS);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    (
        [
            (CONTENT_TYPE, "text/javascript"),
            (CACHE_CONTROL, "no-store"),
        ],
        "",
    )
}
