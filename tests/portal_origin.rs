#![cfg(target_arch = "wasm32")]

#[path = "portal_support/mod.rs"]
mod support;

use b24pay_widget::config::{parse_allowed_origins, Origin, OriginError, WidgetConfig};
use leptos::task::tick;
use support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn origins_parse_strictly_into_the_browser_s_form() {
    let ok = [
        ("https://a.bitrix24.ru", "https://a.bitrix24.ru"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("HTTPS://Shop.Example.COM", "https://shop.example.com"),
        ("https://a.example:443", "https://a.example"),
        ("http://a.example:80", "http://a.example"),
        ("http://a.example:0443", "http://a.example:443"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        (
            "https://xn--80ak6aa92e.xn--p1ai",
            "https://xn--80ak6aa92e.xn--p1ai",
        ),
    ];
    for (text, expected) in ok {
        assert_eq!(
            Origin::parse(text).map(|o| o.to_string()),
            Ok(expected.to_owned()),
            "{text}"
        );
    }
    // The browser's URL parser decides what is a URL; on top of it, only an origin is accepted.
    let bad = [
        ("https://a.example/", OriginError::Path),
        ("https://a.example/pay", OriginError::Path),
        ("https://a.example?x=1", OriginError::Path),
        ("https://a.example#x", OriginError::Path),
        ("ftp://a.example", OriginError::Scheme),
        ("javascript:alert(1)", OriginError::Scheme),
        ("data:text/html,x", OriginError::Scheme),
        ("a.example", OriginError::Unparsable),
        ("*", OriginError::Unparsable),
        ("null", OriginError::Unparsable),
        ("https://", OriginError::Unparsable),
        ("https://user@a.example", OriginError::Credentials),
        ("https://user:pw@a.example", OriginError::Credentials),
        ("https://[::1", OriginError::Unparsable),
        ("https://a.example:65536", OriginError::Unparsable),
        ("https://a.example:8o", OriginError::Unparsable),
    ];
    for (text, expected) in bad {
        assert_eq!(Origin::parse(text), Err(expected), "{text}");
    }
}

#[wasm_bindgen_test]
fn allowed_origins_list_skips_and_reports_bad_entries() {
    let (origins, rejected) = parse_allowed_origins(
        "  https://a.bitrix24.ru\nhttps://b.example/ http://127.0.0.1:8081 https://A.bitrix24.ru:443 *  ",
    );
    let origins: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
    assert_eq!(origins, ["https://a.bitrix24.ru", "http://127.0.0.1:8081"]);
    assert_eq!(rejected, ["https://b.example/", "*"]);
    assert!(parse_allowed_origins("").0.is_empty());
}

#[wasm_bindgen_test]
fn configuration_comes_from_the_page_meta_tags() {
    let head = document().head().unwrap();
    let add = |name: &str, content: &str| {
        let meta = document().create_element("meta").unwrap();
        meta.set_attribute("name", name).unwrap();
        meta.set_attribute("content", content).unwrap();
        head.append_child(&meta).unwrap();
        meta
    };
    let a = add(
        "b24pay-allowed-origins",
        "https://portal.bitrix24.de http://127.0.0.1:8081 bogus",
    );
    let b = add("b24pay-api", " https://pay.example/api/v1 ");
    let config = WidgetConfig::from_document();
    a.remove();
    b.remove();
    let origins: Vec<String> = config
        .allowed_origins
        .iter()
        .map(|o| o.to_string())
        .collect();
    assert_eq!(
        origins,
        ["https://portal.bitrix24.de", "http://127.0.0.1:8081"]
    );
    assert_eq!(config.api_base, "https://pay.example/api/v1");
    assert!(config.is_allowed("http://127.0.0.1:8081"));
    assert!(!config.is_allowed("http://127.0.0.1:8082"));
    assert!(!config.is_allowed("https://portal.bitrix24.de.evil.example"));

    // No meta tags: nothing allowed, default API.
    let empty = WidgetConfig::from_document();
    assert!(empty.allowed_origins.is_empty());
    assert_eq!(empty.api_base, "/api/v1");
}

#[wasm_bindgen_test]
async fn messages_from_other_origins_are_counted_not_acted_on() {
    let widget = mount(config(&[PORTAL]));
    tick().await;
    assert_eq!(widget.ignored(), 0);
    for origin in [
        OTHER,
        "https://portal.test",
        "http://portal.test:8080",
        "http://portal.test.evil.test",
        "http://sub.portal.test",
        "null",
        "",
    ] {
        dispatch(
            origin,
            &portal_message(
                r#""666""#,
                "USD",
                r#""lang":"ru","#,
                &chromium_style("rgb(255, 0, 0)", "rgb(0, 0, 0)"),
            ),
        );
    }
    tick().await;
    assert_eq!(widget.ignored(), 7);
    assert_eq!(widget.state(), "waiting", "a foreign message was acted on");
    assert_eq!(
        widget.attr("data-scheme").as_deref(),
        Some("auto"),
        "a foreign theme was applied"
    );
    let browser = b24pay_widget::i18n::Locale::from_browser(None).tag();
    assert_eq!(
        widget.attr("lang").as_deref(),
        Some(browser),
        "a foreign language was applied"
    );

    // Not the portal's message, even from the portal's origin: ignored too.
    dispatch(PORTAL, &json(r#"{"type":"something-else"}"#));
    dispatch(PORTAL, &json(r#""text""#));
    tick().await;
    assert_eq!(widget.ignored(), 9);
    assert_eq!(widget.state(), "waiting");

    dispatch(PORTAL, &valid_message());
    tick().await;
    assert_eq!(widget.state(), "ready");
    assert_eq!(widget.ignored(), 9);

    // A foreign message after the real one changes nothing either.
    dispatch(OTHER, &portal_message(r#""1""#, "USD", "", FIREFOX_STYLE));
    tick().await;
    assert_eq!(widget.ignored(), 10);
    assert!(widget.text().contains("1,250.50"), "{}", widget.text());
}

#[wasm_bindgen_test]
async fn own_size_messages_looping_back_are_not_portal_messages() {
    // Unframed, `parent` is this window: the widget's size messages arrive here.
    let posts = SizePosts::listen();
    let own = own_origin();
    let widget = mount(config(&[&own]));
    // Something to measure while waiting (the page's skeleton would be beside the root).
    let spacer: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    spacer.style().set_property("height", "30px").unwrap();
    widget.root().append_child(&spacer).unwrap();
    frames(3).await;
    assert!(
        !posts.take().is_empty(),
        "the widget posted its size to itself"
    );
    assert_eq!(widget.ignored(), 0);
    assert_eq!(widget.state(), "waiting");
}
