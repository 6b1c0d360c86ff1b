//! The one catalogue for every text a customer reads.
//!
//! English is `en.rs`, one exhaustive `match` over [`Key`], compiled in: it is the fallback for
//! every text. The other languages are `locales/<tag>.json` (`{"KeyName": "text"}`), loaded
//! on demand by [`catalogue`]; the catalogue test fails if one lacks a key or a placeholder.
//! Texts are `&'static str` with `{name}`
//! placeholders filled by [`fill`]; numbers and money inside texts are formatted by the browser's
//! `Intl` (see `crate::money`) before they are passed in. Plural-dependent texts pick their form
//! with [`Locale::plural`] (the browser's `Intl.PluralRules`, no tables in the wasm): such a
//! text has one key per form (`CvcDigitsOne`, `…Few`, `…Many`, `…Other`), grouped by a
//! [`Counted`] and rendered with [`Locale::count`].
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | [`Locale`]: which language, the browser's choice, texts in it |
//! | `keys.rs` | [`Key`], every text's name; [`Counted`] texts; [`Text`] to show later |
//! | `en.rs` | English, compiled in |
//! | `catalogue.rs` | the other languages' catalogues, loaded on demand |
//! | `plural.rs` | CLDR plural categories |
//! | `templates.rs` | `{name}` placeholders |

pub mod catalogue;
mod en;
mod keys;
mod plural;
mod templates;

use b24pay_protocol::money::digits;
pub use catalogue::CatalogueError;
pub use keys::{Counted, Key, Text};
pub use plural::PluralCategory;
pub use templates::{fill, placeholders};

/// A language the widget speaks. The portal's largest markets first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Locale {
    En,
    Ru,
    De,
    Uk,
    Kk,
    Pl,
    PtBr,
    Es,
    Fr,
    Tr,
}

impl Locale {
    pub const ALL: [Locale; 10] = [
        Locale::En,
        Locale::Ru,
        Locale::De,
        Locale::Uk,
        Locale::Kk,
        Locale::Pl,
        Locale::PtBr,
        Locale::Es,
        Locale::Fr,
        Locale::Tr,
    ];

    /// The BCP 47 tag, for `lang` attributes and `Intl`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
            Locale::De => "de",
            Locale::Uk => "uk",
            Locale::Kk => "kk",
            Locale::Pl => "pl",
            Locale::PtBr => "pt-BR",
            Locale::Es => "es",
            Locale::Fr => "fr",
            Locale::Tr => "tr",
        }
    }

    /// Matches a BCP 47 tag such as `ru-RU`, `pt`, `en-GB` by its primary language subtag.
    /// Any Portuguese gets Brazilian Portuguese, the only Portuguese we have.
    /// `loader.js` repeats this map to prefetch the browser's catalogue: keep them in step.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Some(match primary.to_ascii_lowercase().as_str() {
            "en" => Locale::En,
            "ru" => Locale::Ru,
            "de" => Locale::De,
            "uk" => Locale::Uk,
            "kk" => Locale::Kk,
            "pl" => Locale::Pl,
            "pt" => Locale::PtBr,
            "es" => Locale::Es,
            "fr" => Locale::Fr,
            "tr" => Locale::Tr,
            _ => return None,
        })
    }

    /// Matches a language as a portal admin may type it into the `lang` setting: a BCP 47 tag,
    /// or one of Bitrix24's own language ids (`ua`, `kz`, `br`, `la`), which are not BCP 47.
    pub fn from_portal_code(code: &str) -> Option<Locale> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ua" => Some(Locale::Uk),
            "kz" => Some(Locale::Kk),
            "br" => Some(Locale::PtBr),
            "la" => Some(Locale::Es),
            other => Locale::from_tag(other),
        }
    }

    /// The language to speak: the portal's forced language if it names one we have, else the
    /// first of the browser's preferred languages we have, else English.
    pub fn negotiate<'a>(
        forced: Option<&str>,
        preferred: impl IntoIterator<Item = &'a str>,
    ) -> Locale {
        forced
            .and_then(Locale::from_portal_code)
            .or_else(|| preferred.into_iter().find_map(Locale::from_tag))
            .unwrap_or(Locale::En)
    }

    /// [`Locale::negotiate`] against `navigator.languages` (or `navigator.language`).
    pub fn from_browser(forced: Option<&str>) -> Locale {
        let languages = browser_languages();
        Locale::negotiate(forced, languages.iter().map(String::as_str))
    }

    /// The text for `key` in this language, placeholders unfilled: English until this
    /// language's catalogue is loaded (see [`catalogue::load`]), and for any text it lacks.
    pub fn text(self, key: Key) -> &'static str {
        match self {
            Locale::En => en::text(key),
            _ => catalogue::lookup(self, key).unwrap_or_else(|| en::text(key)),
        }
    }

    /// The text for `key` with its `{name}` placeholders filled from `args`.
    pub fn format(self, key: Key, args: &[(&str, &str)]) -> String {
        fill(self.text(key), args)
    }

    /// A counted text for `n`, in the plural form this language uses for `n`, with `{count}`
    /// filled.
    pub fn count(self, counted: Counted, n: u32) -> String {
        let key = counted.key(self.plural(n as f64));
        self.format(key, &[("count", &digits(n.into()))])
    }

    /// The words of `text`.
    pub fn say(self, text: Text) -> String {
        match text {
            Text::Plain(key) => self.text(key).to_owned(),
            Text::Count(counted, n) => self.count(counted, n),
        }
    }

    /// The plural category of `n` in this language, from the browser's `Intl.PluralRules`.
    pub fn plural(self, n: f64) -> PluralCategory {
        let locales = js_sys::Array::of1(&self.tag().into());
        let rules = js_sys::Intl::PluralRules::new(&locales, &js_sys::Object::new());
        PluralCategory::from_cldr(&String::from(rules.select(n)))
    }
}
fn browser_languages() -> Vec<String> {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let list: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    if list.is_empty() {
        navigator.language().into_iter().collect()
    } else {
        list
    }
}

/// The customer's language, as the app shell provided it (`provide_context(locale)`), else
/// English.
pub fn use_locale() -> Locale {
    leptos::prelude::use_context::<Locale>().unwrap_or(Locale::En)
}
