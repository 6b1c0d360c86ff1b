//! The widget's look, derived from the portal's `BX_COMPUTED_STYLE` so the payment form
//! blends into the store's page, while keeping WCAG AA contrast whatever the store uses.
//!
//! The result is a set of CSS custom properties on the widget's root (see [`Theme::css_vars`]
//! and `style/widget.css`, whose defaults — used when the portal sends no usable style, as
//! Firefox does — are the same derivation applied to [`Palette::default_light`] and
//! [`Palette::default_dark`] and follow `prefers-color-scheme`).
//!
//! | variable | meaning |
//! |---|---|
//! | `--b24-bg` | page background behind the widget (`#00000000` when the store's shows through) |
//! | `--b24-surface` | background for inputs and cards |
//! | `--b24-fg` | body text, ≥ 4.5:1 on the background |
//! | `--b24-muted` | secondary text, ≥ 4.5:1 |
//! | `--b24-border` | input and card borders, ≥ 3:1 (non-text contrast) |
//! | `--b24-accent` | buttons and links, ≥ 4.5:1 on the background |
//! | `--b24-on-accent` | text on accent-coloured buttons, ≥ 4.5:1 on the accent |
//! | `--b24-focus` | focus ring, ≥ 3:1 on the background |
//! | `--b24-error` | error text, ≥ 4.5:1 |
//! | `--b24-font`, `--b24-font-size` | the store's body font, size clamped to 12–24px |

pub mod color;
pub mod css_values;

use color::{contrast, ensure_contrast, Rgba, BLACK, WHITE};
use css_values::{ColorScheme, FontFamily, Px};
use wasm_bindgen::JsValue;

/// Light or dark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Light,
    Dark,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Light => "light",
            Scheme::Dark => "dark",
        }
    }
}

/// Background assumed behind a transparent wrapper, chosen from the store's text colour.
/// Slightly off the extremes, so the guarantees also hold on the light greys and dark greys
/// stores actually use (contrast only grows towards white or black).
const ASSUMED_LIGHT_BG: Rgba = Rgba::rgb(0xf0, 0xf0, 0xf0);
const ASSUMED_DARK_BG: Rgba = Rgba::rgb(0x2a, 0x2a, 0x2a);

const ACCENT_LIGHT: Rgba = Rgba::rgb(0x0f, 0x62, 0xd6);
const ACCENT_DARK: Rgba = Rgba::rgb(0x6e, 0xb1, 0xff);
const ERROR_LIGHT: Rgba = Rgba::rgb(0xd9, 0x30, 0x25);
const ERROR_DARK: Rgba = Rgba::rgb(0xff, 0x7a, 0x70);

/// Text, non-text (WCAG 1.4.3 and 1.4.11, level AA).
pub const TEXT_CONTRAST: f64 = 4.5;
pub const UI_CONTRAST: f64 = 3.0;

/// Every colour the widget paints with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    pub scheme: Scheme,
    /// The background the widget paints, or transparent to show the store's page.
    pub bg: Rgba,
    /// The background all contrast is computed against: `bg`, or the one assumed behind a
    /// transparent widget.
    pub contrast_bg: Rgba,
    pub surface: Rgba,
    pub fg: Rgba,
    pub muted: Rgba,
    pub border: Rgba,
    pub accent: Rgba,
    pub on_accent: Rgba,
    pub focus: Rgba,
    pub error: Rgba,
}

impl Palette {
    /// Derives a palette from the store's text colour, its background (transparent when the
    /// wrapper has none) and an optional accent seed.
    pub fn derive(fg: Rgba, bg: Rgba, accent_seed: Option<Rgba>) -> Palette {
        let (painted_bg, contrast_bg) = if bg.is_transparent() {
            // Dark text implies a light page behind the wrapper, and vice versa.
            let assumed = if fg.over(WHITE).is_dark() {
                ASSUMED_LIGHT_BG
            } else {
                ASSUMED_DARK_BG
            };
            (bg, assumed)
        } else {
            // A half-transparent background over an unknown page: judge it over the
            // extreme its text colour implies, and paint it opaque.
            let under = if fg.over(WHITE).is_dark() {
                WHITE
            } else {
                BLACK
            };
            let solid = bg.over(under);
            (solid, solid)
        };
        let scheme = if contrast_bg.is_dark() {
            Scheme::Dark
        } else {
            Scheme::Light
        };
        let (accent_default, error_seed) = match scheme {
            Scheme::Light => (ACCENT_LIGHT, ERROR_LIGHT),
            Scheme::Dark => (ACCENT_DARK, ERROR_DARK),
        };
        let fg = ensure_contrast(fg, contrast_bg, TEXT_CONTRAST);
        let accent_seed = accent_seed
            .filter(|c| !c.is_transparent())
            .unwrap_or(accent_default);
        let accent = ensure_contrast(accent_seed, contrast_bg, TEXT_CONTRAST);
        // White on a coloured button when it is readable (it nearly always is on light
        // pages), else black.
        let on_accent = if contrast(WHITE, accent) >= TEXT_CONTRAST
            || contrast(WHITE, accent) >= contrast(BLACK, accent)
        {
            WHITE
        } else {
            BLACK
        };
        Palette {
            scheme,
            bg: painted_bg,
            contrast_bg,
            surface: if painted_bg.is_transparent() {
                painted_bg
            } else {
                contrast_bg
            },
            fg,
            muted: ensure_contrast(fg.mix(contrast_bg, 0.4), contrast_bg, TEXT_CONTRAST),
            border: ensure_contrast(fg.mix(contrast_bg, 0.6), contrast_bg, UI_CONTRAST),
            accent,
            on_accent,
            focus: accent,
            error: ensure_contrast(error_seed, contrast_bg, TEXT_CONTRAST),
        }
    }

    /// The default theme for light pages (the `style/widget.css` default).
    pub fn default_light() -> Palette {
        Palette::derive(Rgba::rgb(0x1f, 0x23, 0x28), WHITE, None)
    }

    /// The default theme under `prefers-color-scheme: dark`.
    pub fn default_dark() -> Palette {
        Palette::derive(
            Rgba::rgb(0xe6, 0xe8, 0xeb),
            Rgba::rgb(0x1c, 0x1f, 0x24),
            None,
        )
    }

    /// `--b24-…:value;` declarations for every colour.
    pub fn css_declarations(&self) -> String {
        let vars = [
            ("bg", self.bg),
            ("surface", self.surface),
            ("fg", self.fg),
            ("muted", self.muted),
            ("border", self.border),
            ("accent", self.accent),
            ("on-accent", self.on_accent),
            ("focus", self.focus),
            ("error", self.error),
        ];
        let mut out = String::with_capacity(220);
        for (name, colour) in vars {
            push_var(&mut out, name, &colour.to_css());
        }
        out
    }
}

fn push_var(out: &mut String, name: &str, value: &str) {
    out.push_str("--b24-");
    out.push_str(name);
    out.push(':');
    out.push_str(value);
    out.push(';');
}

/// What the widget takes from the store's style. Every part is optional: whatever is absent
/// falls back to the stylesheet's defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Theme {
    pub palette: Option<Palette>,
    pub font: Option<FontFamily>,
    pub font_size: Option<Px>,
    /// The page's `color-scheme`, mirrored on our document so the browser keeps the iframe
    /// transparent (it paints an opaque backdrop when the two differ).
    pub color_scheme: Option<ColorScheme>,
}

impl Theme {
    /// Reads `BX_COMPUTED_STYLE`. Chromium sends camelCase properties with values; Firefox
    /// sends only index keys ("0", "1", … holding property names), which yields the default.
    pub fn from_computed_style(style: &JsValue) -> Theme {
        if !style.is_object() {
            return Theme::default();
        }
        let get = |key: &str| -> Option<String> {
            js_sys::Reflect::get(style, &JsValue::from_str(key))
                .ok()?
                .as_string()
        };
        let colour = |key: &str| get(key).as_deref().and_then(Rgba::parse);
        let palette = colour("color").map(|fg| {
            Palette::derive(
                fg,
                colour("backgroundColor").unwrap_or(Rgba {
                    r: 0,
                    g: 0,
                    b: 0,
                    a: 0,
                }),
                colour("accentColor"),
            )
        });
        Theme {
            palette,
            font: get("fontFamily").as_deref().and_then(FontFamily::parse),
            font_size: get("fontSize")
                .as_deref()
                .and_then(Px::parse)
                .map(Px::clamp_readable),
            color_scheme: get("colorScheme").as_deref().and_then(ColorScheme::parse),
        }
    }

    /// Inline style for the widget's root: the derived custom properties only, produced by
    /// our own serializers. Empty for the default theme.
    pub fn css_vars(&self) -> String {
        let mut out = self
            .palette
            .as_ref()
            .map(Palette::css_declarations)
            .unwrap_or_default();
        if let Some(font) = &self.font {
            push_var(&mut out, "font", &font.to_css());
        }
        if let Some(size) = self.font_size {
            push_var(&mut out, "font-size", &size.to_css());
        }
        out
    }

    /// The `color-scheme` for our document: the store's, so the browser keeps the iframe
    /// transparent (it paints an opaque canvas when the frame's scheme differs from the
    /// embedding element's). `normal` is written as `light`, what it means in a page: on our
    /// root, `normal` would defer to our `<meta name="color-scheme" content="light dark">` and
    /// turn the canvas dark for dark-mode users on a light store.
    pub fn document_color_scheme(&self) -> Option<&str> {
        self.color_scheme.as_ref().map(|s| match s.as_str() {
            "normal" => "light",
            other => other,
        })
    }

    /// `light` / `dark` when derived from the store, `auto` when following the browser.
    pub fn scheme_name(&self) -> &'static str {
        self.palette.map_or("auto", |p| p.scheme.as_str())
    }
}
