#![cfg(target_arch = "wasm32")]

mod catalogues;

use b24pay_widget::i18n::{
    catalogue, fill, placeholders, CatalogueError, Counted, Key, Locale, PluralCategory, Text,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A catalogue file's entries, straight from its JSON (no English fallback in between).
fn entries(locale: Locale) -> Vec<(String, JsValue)> {
    let parsed = js_sys::JSON::parse(catalogues::json(locale))
        .unwrap_or_else(|e| panic!("{locale:?}: not JSON: {e:?}"));
    js_sys::Object::entries(parsed.unchecked_ref())
        .iter()
        .map(|pair| {
            let pair: js_sys::Array = pair.unchecked_into();
            (pair.get(0).as_string().unwrap(), pair.get(1))
        })
        .collect()
}

#[wasm_bindgen_test]
fn every_catalogue_has_every_key_with_the_placeholders_of_english() {
    for locale in Locale::ALL.into_iter().filter(|l| *l != Locale::En) {
        let entries = entries(locale);
        for (name, _) in &entries {
            assert!(
                Key::ALL.iter().any(|k| k.name() == name),
                "{locale:?} has an unknown key {name}"
            );
        }
        for &key in Key::ALL {
            let text = entries
                .iter()
                .find(|(name, _)| name == key.name())
                .and_then(|(_, v)| v.as_string())
                .unwrap_or_else(|| panic!("{locale:?} lacks {}", key.name()));
            assert!(!text.trim().is_empty(), "{locale:?} {key:?} is empty");
            let mut found = placeholders(&text);
            found.sort_unstable();
            let mut expected = placeholders(Locale::En.text(key));
            expected.sort_unstable();
            assert_eq!(found, expected, "{locale:?} {key:?}: {text:?}");
        }
    }
}

#[wasm_bindgen_test]
fn the_key_list_is_complete_and_unique() {
    // `Key::ALL` and `Key::name` are generated with the enum (see `keys!`), so they cannot
    // miss a key; `en.rs`'s exhaustive `match` guarantees an English text for each.
    for (i, key) in Key::ALL.iter().enumerate() {
        assert!(!Key::ALL[..i].contains(key), "{key:?} listed twice");
        assert_eq!(*key as usize, i, "{key:?} is not at its own index");
    }
    assert!(Key::ALL.contains(&Key::Confirm) && Key::ALL.contains(&Key::PageTitle));
    assert_eq!(Key::Confirm.name(), "Confirm");
}

#[wasm_bindgen_test]
fn a_broken_catalogue_falls_back_to_english_text_by_text() {
    // Installed under Turkish, then restored: tests in this file share one page.
    let served = js_sys::Array::new_with_length(Key::ALL.len() as u32 + 1);
    served.set(0, format!("{:x}", Key::LIST_ID).into());
    served.set(1 + Key::Confirm as u32, "Onayla".into());
    served.set(1 + Key::Pay as u32, 42.into());
    served.set(1 + Key::Reload as u32, " ".into());
    catalogue::install(Locale::Tr, &served).unwrap();
    assert_eq!(Locale::Tr.text(Key::Confirm), "Onayla");
    assert_eq!(Locale::Tr.text(Key::Pay), Locale::En.text(Key::Pay));
    assert_eq!(Locale::Tr.text(Key::Reload), Locale::En.text(Key::Reload));
    assert_eq!(Locale::Tr.text(Key::Cvc), Locale::En.text(Key::Cvc));
    for not_one in [
        JsValue::from_str("<html>"),
        js_sys::Array::new().into(),
        // The written form, not the served one.
        js_sys::JSON::parse(r#"{"Confirm": "Onayla"}"#).unwrap(),
        // Written for another list of keys (another version of the widget): refused whole
        // rather than showing texts in the wrong places.
        catalogues::served_from(r#"{"Confirm": "Onayla", "Pay": "{amount} öde"}"#),
    ] {
        assert_eq!(
            catalogue::install(Locale::Tr, &not_one),
            Err(CatalogueError::NotACatalogue),
            "{not_one:?}"
        );
    }
    catalogues::install(Locale::Tr);
    assert_eq!(Locale::Tr.text(Key::Pay), "{amount} öde");
}

#[wasm_bindgen_test]
fn every_catalogue_lists_the_keys_in_the_widget_s_order() {
    // The build serves texts by position (tools/catalogues.mjs), under the list id of the
    // file's key names: the same names in the same order as `Key::ALL`.
    for locale in Locale::ALL.into_iter().filter(|l| *l != Locale::En) {
        let names: Vec<String> = entries(locale).into_iter().map(|(name, _)| name).collect();
        let expected: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, expected, "{locale:?}");
    }
    let names: String = Key::ALL.iter().map(|k| format!("{},", k.name())).collect();
    assert_eq!(catalogue::list_id(&names), Key::LIST_ID);
    // The same hash as tools/catalogues.mjs's `listId(["A", "B"])`.
    assert_eq!(catalogue::list_id("A,B,"), 0xcb03_bb5e);
}

#[wasm_bindgen_test]
fn counted_texts_take_the_plural_form_of_the_language() {
    catalogues::install_all();
    let cvc = |locale: Locale, n| locale.count(Counted::CvcDigits, n);
    assert_eq!(cvc(Locale::En, 3), "The security code has 3 digits.");
    assert_eq!(cvc(Locale::En, 1), "The security code has 1 digit.");
    assert_eq!(
        cvc(Locale::Ru, 3),
        "Код безопасности должен содержать 3 цифры."
    );
    assert_eq!(
        cvc(Locale::Ru, 5),
        "Код безопасности должен содержать 5 цифр."
    );
    assert_eq!(
        cvc(Locale::Ru, 21),
        "Код безопасности должен содержать 21 цифру."
    );
    assert_eq!(cvc(Locale::Uk, 4), "Код безпеки має містити 4 цифри.");
    assert_eq!(cvc(Locale::Pl, 4), "Kod bezpieczeństwa ma 4 cyfry.");
    assert_eq!(cvc(Locale::Pl, 5), "Kod bezpieczeństwa ma 5 cyfr.");
    assert_eq!(cvc(Locale::De, 4), "Der Sicherheitscode hat 4 Ziffern.");
    assert_eq!(
        Locale::Ru.count(Counted::ChallengeText, 6),
        "Введите код из 6 цифр, который прислал ваш банк."
    );
    assert_eq!(
        Locale::Fr.say(Text::Count(Counted::ChallengeText, 1)),
        "Saisissez le code à 1\u{a0}chiffre envoyé par votre banque."
    );
    assert_eq!(Locale::Tr.say(Text::Plain(Key::Confirm)), "Onayla");
}

#[wasm_bindgen_test]
fn every_locale_is_translated_not_copied() {
    catalogues::install_all();
    // A locale that returns the English text for most keys was pasted, not translated.
    for locale in Locale::ALL.into_iter().filter(|l| *l != Locale::En) {
        let copied = Key::ALL
            .iter()
            .filter(|k| locale.text(**k) == Locale::En.text(**k))
            .count();
        assert_eq!(copied, 0, "{locale:?} repeats English texts");
    }
}

#[wasm_bindgen_test]
fn placeholders_are_filled() {
    catalogues::install_all();
    assert_eq!(
        Locale::Ru.format(Key::PaymentNumber, &[("number", "247")]),
        "Платёж №\u{a0}247"
    );
    assert_eq!(fill("{a} and {b}", &[("b", "2"), ("a", "1")]), "1 and 2");
    assert_eq!(fill("keep {unknown}", &[]), "keep {unknown}");
    assert_eq!(fill("open { brace", &[]), "open { brace");
}

#[wasm_bindgen_test]
fn language_negotiation() {
    // The portal's field wins, in BCP 47 or Bitrix24's own ids.
    assert_eq!(Locale::negotiate(Some("de"), ["ru-RU"]), Locale::De);
    assert_eq!(Locale::negotiate(Some("ua"), ["en"]), Locale::Uk);
    assert_eq!(Locale::negotiate(Some("kz"), ["en"]), Locale::Kk);
    assert_eq!(Locale::negotiate(Some("br"), ["en"]), Locale::PtBr);
    assert_eq!(Locale::negotiate(Some("pt-BR"), ["en"]), Locale::PtBr);
    // Then the browser's list, in order, by primary subtag.
    assert_eq!(
        Locale::negotiate(Some(""), ["it", "fr-CA", "de"]),
        Locale::Fr
    );
    assert_eq!(Locale::negotiate(Some("xx"), ["tr-TR"]), Locale::Tr);
    assert_eq!(Locale::negotiate(None, ["pt-PT"]), Locale::PtBr);
    // "br" from a browser is Breton, not Brazil.
    assert_eq!(Locale::negotiate(None, ["br", "pl"]), Locale::Pl);
    // Else English.
    assert_eq!(Locale::negotiate(None, ["ja", "zh-CN"]), Locale::En);
    assert_eq!(Locale::negotiate(None, []), Locale::En);
    for locale in Locale::ALL {
        assert_eq!(Locale::from_tag(locale.tag()), Some(locale));
    }
}

#[wasm_bindgen_test]
fn browser_languages_are_read() {
    let first = web_sys::window().unwrap().navigator().language().unwrap();
    let expected = Locale::from_tag(&first).unwrap_or(Locale::En);
    assert_eq!(Locale::from_browser(None), expected);
    assert_eq!(Locale::from_browser(Some("kk")), Locale::Kk);
}

#[wasm_bindgen_test]
fn plural_categories_come_from_the_browser() {
    use PluralCategory::*;
    assert_eq!(Locale::En.plural(1.0), One);
    assert_eq!(Locale::En.plural(2.0), Other);
    assert_eq!(Locale::Ru.plural(1.0), One);
    assert_eq!(Locale::Ru.plural(3.0), Few);
    assert_eq!(Locale::Ru.plural(5.0), Many);
    assert_eq!(Locale::Ru.plural(21.0), One);
    assert_eq!(Locale::Pl.plural(22.0), Few);
    assert_eq!(Locale::Pl.plural(25.0), Many);
    assert_eq!(Locale::Fr.plural(0.0), One);
    assert_eq!(Locale::Tr.plural(2.0), Other);
}
