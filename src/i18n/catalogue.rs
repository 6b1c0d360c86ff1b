//! Catalogues of the languages other than English, loaded on demand.
//!
//! Every customer reads one language, so only English (the fallback) is compiled into the
//! wasm; the others are `locales/<tag>.json` next to the page, fetched when needed: nine
//! catalogues in the wasm would cost every customer about 7 KB brotli for texts they never
//! read. `loader.js` fetches them (`b24payCatalogue(tag)`, one request per language) and starts
//! the browser's language before the wasm has even downloaded; the portal's forced language,
//! known only from its message, is fetched then. A text missing from a catalogue falls back to
//! English, never to a blank.
//!
//! The files are written as `{"KeyName": "text", …}` in [`Key::ALL`]'s order (the catalogue
//! test insists); the build (`tools/catalogues.mjs`) serves each as the array
//! `["<list id>", "text", …]`, so the key names are neither downloaded nor in the wasm. The
//! list id, a hash of the key names in order ([`Key::LIST_ID`]), makes a catalogue written for
//! another list of keys (another version of the widget) unusable rather than wrong: the form
//! shows in English instead of with texts in the wrong places.

use super::{Key, Locale};
use futures_util::future::Either;
use js_sys::{Promise, Reflect};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How long the form waits for a catalogue before it shows itself in English: a customer
/// on a slow link should still be able to pay.
pub const LOAD_TIMEOUT_MS: u32 = 3000;

/// One language's texts, indexed like [`Key::ALL`]; `None` where it has none (English shows).
type Texts = Vec<Option<&'static str>>;

thread_local! {
    // Texts are leaked once per language: at most a couple of catalogues per page, for the
    // page's whole life, and `&'static str` keeps every caller simple.
    static LOADED: RefCell<Vec<(Locale, Texts)>> = const { RefCell::new(Vec::new()) };
}

/// Why a catalogue could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogueError {
    /// Not an object of texts (a proxy's error page, truncated JSON).
    NotACatalogue,
    /// The fetch failed, answered an error status or took longer than [`LOAD_TIMEOUT_MS`].
    Unavailable,
}

/// Whether `locale`'s texts are available now (English always is).
pub fn is_loaded(locale: Locale) -> bool {
    locale == Locale::En || LOADED.with(|l| l.borrow().iter().any(|(loc, _)| *loc == locale))
}

/// `locale`'s text for `key`, if its catalogue is loaded and has that key.
pub(super) fn lookup(locale: Locale, key: Key) -> Option<&'static str> {
    LOADED.with(|l| {
        l.borrow()
            .iter()
            .find(|(loc, _)| *loc == locale)
            .and_then(|(_, texts)| texts.get(key as usize).copied().flatten())
    })
}

/// FNV-1a (32 bits) of a list of key names, each followed by a comma: [`Key::LIST_ID`], and
/// what `tools/catalogues.mjs` writes first in a served catalogue, in hexadecimal.
pub const fn list_id(names: &str) -> u32 {
    let bytes = names.as_bytes();
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u32).wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// Installs a served catalogue (`["<list id>", "text", …]`, texts in [`Key::ALL`]'s order)
/// for `locale`. Texts that are not strings, or blank, fall back to English.
pub fn install(locale: Locale, catalogue: &JsValue) -> Result<(), CatalogueError> {
    let Some(served) = catalogue.dyn_ref::<js_sys::Array>() else {
        return Err(CatalogueError::NotACatalogue);
    };
    let id = served.get(0).as_string();
    if id.is_none_or(|id| u32::from_str_radix(&id, 16) != Ok(Key::LIST_ID)) {
        return Err(CatalogueError::NotACatalogue);
    }
    let texts: Texts = (1..=Key::ALL.len() as u32)
        .map(|i| {
            served
                .get(i)
                .as_string()
                .filter(|t| !t.trim().is_empty())
                .map(|t| &*String::leak(t))
        })
        .collect();
    LOADED.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|(loc, _)| *loc != locale);
        l.push((locale, texts));
    });
    Ok(())
}

/// Fetches (through `loader.js`'s `b24payCatalogue`, which may have started already) and
/// installs `locale`'s catalogue, unless it is already there; gives up after
/// [`LOAD_TIMEOUT_MS`].
pub async fn load(locale: Locale) -> Result<(), CatalogueError> {
    if is_loaded(locale) {
        return Ok(());
    }
    let fetched = web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("b24payCatalogue")).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| {
            f.call1(&JsValue::NULL, &JsValue::from_str(locale.tag()))
                .ok()
        })
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or(CatalogueError::Unavailable)?;
    let fetched = JsFuture::from(fetched);
    let limit = gloo_timers::future::TimeoutFuture::new(LOAD_TIMEOUT_MS);
    match futures_util::future::select(fetched, limit).await {
        Either::Left((Ok(value), _)) if !value.is_null() && !value.is_undefined() => {
            install(locale, &value)
        }
        _ => Err(CatalogueError::Unavailable),
    }
}
