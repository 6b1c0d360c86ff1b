#![cfg(target_arch = "wasm32")]

use b24pay_widget::i18n::{fill, placeholders, Counted, Key, Locale, PluralCategory, Text};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn every_locale_has_the_placeholders_of_english() {
    for &key in Key::ALL {
        let mut expected = placeholders(Locale::En.text(key));
        expected.sort_unstable();
        for locale in Locale::ALL {
            let text = locale.text(key);
            assert!(!text.trim().is_empty(), "{locale:?} {key:?} is empty");
            let mut found = placeholders(text);
            found.sort_unstable();
            assert_eq!(found, expected, "{locale:?} {key:?}: {text:?}");
        }
    }
}

#[wasm_bindgen_test]
fn the_key_list_is_complete_and_unique() {
    // `Key::ALL` is generated with the enum (see `keys!`), so it cannot miss a key; each
    // locale's exhaustive `match` then guarantees a text for each. Check there are no repeats.
    for (i, key) in Key::ALL.iter().enumerate() {
        assert!(!Key::ALL[..i].contains(key), "{key:?} listed twice");
    }
    assert!(Key::ALL.contains(&Key::Confirm) && Key::ALL.contains(&Key::Loading));
}

#[wasm_bindgen_test]
fn counted_texts_take_the_plural_form_of_the_language() {
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
