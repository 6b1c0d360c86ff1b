//! The language catalogues as the page gets them: `locales/*.json` as written (objects of
//! texts by key name), turned into the served form exactly as `tools/catalogues.mjs` does at
//! build time (an array: the list id of the file's key names, then the texts in file order),
//! and installed directly: the test runner does not serve the widget's files.

use b24pay_widget::i18n::{catalogue, Locale};
use wasm_bindgen::{JsCast, JsValue};

pub fn json(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "{}",
        Locale::Ru => include_str!("../../locales/ru.json"),
        Locale::De => include_str!("../../locales/de.json"),
        Locale::Uk => include_str!("../../locales/uk.json"),
        Locale::Kk => include_str!("../../locales/kk.json"),
        Locale::Pl => include_str!("../../locales/pl.json"),
        Locale::PtBr => include_str!("../../locales/pt-BR.json"),
        Locale::Es => include_str!("../../locales/es.json"),
        Locale::Fr => include_str!("../../locales/fr.json"),
        Locale::Tr => include_str!("../../locales/tr.json"),
    }
}

/// A written catalogue (`{"Key": "text", …}`) in its served form.
pub fn served_from(written: &str) -> JsValue {
    let object = js_sys::JSON::parse(written).expect("valid JSON");
    let entries = js_sys::Object::entries(object.unchecked_ref());
    let served = js_sys::Array::new();
    let mut names = String::new();
    served.push(&JsValue::NULL);
    for entry in entries.iter() {
        let entry: js_sys::Array = entry.unchecked_into();
        names.push_str(&entry.get(0).as_string().unwrap());
        names.push(',');
        served.push(&entry.get(1));
    }
    served.set(0, format!("{:x}", catalogue::list_id(&names)).into());
    served.into()
}

/// `locale`'s catalogue as the page fetches it.
pub fn served(locale: Locale) -> JsValue {
    served_from(json(locale))
}

pub fn install(locale: Locale) {
    if locale != Locale::En {
        catalogue::install(locale, &served(locale)).expect("a catalogue");
    }
}

#[allow(dead_code)]
pub fn install_all() {
    for locale in Locale::ALL {
        install(locale);
    }
}
