//! The store around the payment page: a light or dark theme and one of three fonts
//! (`?theme=dark&font=serif`), and the page shell (`templates/store.html`, `store.css`).

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

/// The page's query: `theme` and `font`; anything else falls back to light and sans.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Look {
    theme: Option<String>,
    font: Option<String>,
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
            ],
        )
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
