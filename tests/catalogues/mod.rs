//! The language catalogues as the page would fetch them (`locales/*.json`), installed directly:
//! the test runner does not serve the widget's files.

use b24pay_widget::i18n::{catalogue, Locale};

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

pub fn install(locale: Locale) {
    if locale != Locale::En {
        let parsed = js_sys::JSON::parse(json(locale)).expect("valid JSON");
        catalogue::install(locale, &parsed).expect("a catalogue");
    }
}

#[allow(dead_code)]
pub fn install_all() {
    for locale in Locale::ALL {
        install(locale);
    }
}
