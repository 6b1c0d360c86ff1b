//! Catalogues of the languages other than English, loaded on demand.
//!
//! Every customer reads one language, so only English (the fallback) is compiled into the
//! wasm; the others are `locales/<tag>.json` next to the page, fetched when needed: nine
//! catalogues in the wasm would cost every customer about 7 KB brotli for texts they never
//! read. `loader.js` fetches them (`b24payCatalogue(tag)`, one request per language) and starts
//! the browser's language before the wasm has even downloaded; the portal's forced language,
//! known only from its message, is fetched then. A text missing from a catalogue falls back to English, never to a blank.

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

/// Installs a parsed catalogue (`{"KeyName": "text", …}`) for `locale`. Keys it lacks and
/// values that are not strings fall back to English; unknown keys are ignored.
pub fn install(locale: Locale, catalogue: &JsValue) -> Result<(), CatalogueError> {
    if !catalogue.is_object() || js_sys::Array::is_array(catalogue) {
        return Err(CatalogueError::NotACatalogue);
    }
    let texts: Texts = Key::ALL
        .iter()
        .map(|key| {
            Reflect::get(catalogue, &JsValue::from_str(key.name()))
                .ok()
                .and_then(|v| v.as_string())
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
