#![cfg(target_arch = "wasm32")]

use b24pay_widget::theme::color::{contrast, Rgba};
use b24pay_widget::theme::{Palette, Scheme};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = include_str!("../style/widget.css");

#[wasm_bindgen_test]
fn stylesheet_defaults_are_the_derived_default_palettes() {
    let light = Palette::default_light().css_declarations();
    let dark = Palette::default_dark().css_declarations();
    assert!(
        CSS.contains(&light) && CSS.contains(&dark),
        "style/widget.css must contain the derived defaults:\nlight: {light}\ndark: {dark}"
    );
}

#[path = "portal_support/mod.rs"]
mod support;

use b24pay_widget::theme::css_values::{ColorScheme, FontFamily, Px};
use b24pay_widget::theme::Theme;
use leptos::task::tick;
use support::*;

fn rgb(r: u8, g: u8, b: u8) -> Rgba {
    Rgba::rgb(r, g, b)
}

const CLEAR: Rgba = Rgba {
    r: 0,
    g: 0,
    b: 0,
    a: 0,
};

#[wasm_bindgen_test]
fn colours_parse_strictly() {
    let ok: &[(&str, Rgba)] = &[
        ("rgb(33, 33, 33)", rgb(33, 33, 33)),
        ("rgba(0, 0, 0, 0)", CLEAR),
        (
            "rgba(255, 255, 255, 0.5)",
            Rgba {
                r: 255,
                g: 255,
                b: 255,
                a: 128,
            },
        ),
        ("rgb(10 20 30)", rgb(10, 20, 30)),
        (
            "rgb(10 20 30 / 50%)",
            Rgba {
                r: 10,
                g: 20,
                b: 30,
                a: 128,
            },
        ),
        ("rgb(100%, 0%, 50%)", rgb(255, 0, 128)),
        ("RGB(1,2,3)", rgb(1, 2, 3)),
        ("rgb(12.6, 0, 0)", rgb(13, 0, 0)),
        ("#fff", rgb(255, 255, 255)),
        ("#0A0b0C", rgb(10, 11, 12)),
        (
            "#11223380",
            Rgba {
                r: 0x11,
                g: 0x22,
                b: 0x33,
                a: 0x80,
            },
        ),
        (
            "#1234",
            Rgba {
                r: 0x11,
                g: 0x22,
                b: 0x33,
                a: 0x44,
            },
        ),
        ("transparent", CLEAR),
        (" white ", rgb(255, 255, 255)),
    ];
    for (text, expected) in ok {
        assert_eq!(Rgba::parse(text), Some(*expected), "{text}");
    }
    let bad = [
        "",
        "url(https://evil.example/x.png)",
        "expression(alert(1))",
        "rgb(0, 0, 0); background: url(x)",
        "rgb(0, 0, 0)}",
        "rgb(0,0,0)\\",
        "rgb(0, 0, 0) <",
        "rgb(-1, 0, 0)",
        "rgb(1e2, 0, 0)",
        "rgb(0, 0)",
        "rgb(0, 0, 0, 0, 0)",
        "rgb(0 0 0 0)",
        "rgb(0, 0 0)",
        "rgba(0, 0, 0, 0",
        "hsl(0, 0%, 0%)",
        "color(srgb 0 0 0)",
        "oklch(0.5 0.1 200)",
        "var(--x)",
        "currentcolor",
        "red",
        "#12",
        "#12345",
        "#ggg",
        "#1234567890",
    ];
    for text in bad {
        assert_eq!(Rgba::parse(text), None, "{text:?} must be refused");
    }
}

#[wasm_bindgen_test]
fn colours_serialize_as_hex() {
    assert_eq!(rgb(1, 171, 255).to_css(), "#01abff");
    assert_eq!(
        Rgba {
            r: 0,
            g: 0,
            b: 0,
            a: 0
        }
        .to_css(),
        "#00000000"
    );
}

#[wasm_bindgen_test]
fn lengths_parse_strictly() {
    assert_eq!(Px::parse("14px").map(Px::to_css).as_deref(), Some("14px"));
    assert_eq!(
        Px::parse("14.5px").map(Px::to_css).as_deref(),
        Some("14.5px")
    );
    assert_eq!(
        Px::parse("13.3333px").map(Px::to_css).as_deref(),
        Some("13.33px")
    );
    assert_eq!(Px::parse("9px").unwrap().clamp_readable().to_css(), "12px");
    assert_eq!(Px::parse("40px").unwrap().clamp_readable().to_css(), "24px");
    for bad in [
        "",
        "14",
        "1em",
        "1rem",
        "100%",
        "-14px",
        "+14px",
        "1e1px",
        "14 px",
        "14px;",
        "calc(10px + 4px)",
        "expression(1)",
        "0px",
        "999px",
        "14px}",
    ] {
        assert_eq!(Px::parse(bad), None, "{bad:?} must be refused");
    }
}

#[wasm_bindgen_test]
fn font_families_parse_strictly() {
    let round_trip = |text: &str| FontFamily::parse(text).map(|f| f.to_css());
    assert_eq!(
        round_trip(r#""Open Sans", Helvetica Neue, Arial, sans-serif"#).as_deref(),
        Some(r#""Open Sans", Helvetica Neue, Arial, sans-serif"#)
    );
    assert_eq!(
        round_trip("'PT Sans',  -apple-system,BlinkMacSystemFont").as_deref(),
        Some(r#""PT Sans", -apple-system, BlinkMacSystemFont"#)
    );
    assert_eq!(
        round_trip("\"Roboto Slab 2.0\"").as_deref(),
        Some("\"Roboto Slab 2.0\"")
    );
    assert_eq!(
        round_trip("\"Шрифт Гост\", serif").as_deref(),
        Some("\"Шрифт Гост\", serif")
    );
    for bad in [
        "",
        "Arial;",
        "Arial; } body { background: url(//evil) }",
        "Arial, url(x)",
        "expression(alert(1))",
        "\"Open Sans",
        "\"Open\"Sans\"",
        "'a\\'b'",
        "Ari\\al",
        "Arial, , serif",
        "<script>",
        "inherit",
        "2Fast",
        "\"a\", 'b\"",
        "Arial /* x */",
        &"a, ".repeat(200),
    ] {
        assert_eq!(FontFamily::parse(bad), None, "{bad:?} must be refused");
    }
}

#[wasm_bindgen_test]
fn color_scheme_keywords() {
    assert_eq!(ColorScheme::parse("normal").unwrap().as_str(), "normal");
    assert_eq!(
        ColorScheme::parse("light dark").unwrap().as_str(),
        "light dark"
    );
    assert_eq!(
        ColorScheme::parse("only dark").unwrap().as_str(),
        "only dark"
    );
    for bad in [
        "",
        "only",
        "auto",
        "light;",
        "normal light",
        "light dark light dark",
    ] {
        assert_eq!(ColorScheme::parse(bad), None, "{bad:?}");
    }
}

fn assert_accessible(p: &Palette, what: &str) {
    let bg = p.contrast_bg;
    let check = |name: &str, c: Rgba, min: f64| {
        let ratio = contrast(c, bg);
        assert!(
            ratio >= min,
            "{what}: {name} {} on {} is {ratio:.2}",
            c.to_css(),
            bg.to_css()
        );
    };
    check("fg", p.fg, 4.5);
    check("muted", p.muted, 4.5);
    check("accent", p.accent, 4.5);
    check("error", p.error, 4.5);
    check("border", p.border, 3.0);
    check("focus", p.focus, 3.0);
    let on_accent = contrast(p.on_accent, p.accent);
    assert!(
        on_accent >= 4.5,
        "{what}: button text contrast {on_accent:.2}"
    );
}

#[wasm_bindgen_test]
fn derived_palettes_keep_wcag_aa_contrast() {
    let levels = [0u8, 40, 85, 119, 128, 150, 190, 230, 255];
    let mut checked = 0;
    for &fg in &levels {
        for &bg in &levels {
            for tint in [rgb(0, 0, 0), rgb(60, 0, 0), rgb(0, 50, 90)] {
                let text = rgb(
                    fg.saturating_add(tint.r / 2),
                    fg,
                    fg.saturating_add(tint.b / 2),
                );
                let back = rgb(bg, bg.saturating_add(tint.g / 3), bg);
                for seed in [
                    None,
                    Some(rgb(255, 200, 0)),
                    Some(rgb(0, 0, 139)),
                    Some(rgb(128, 128, 128)),
                ] {
                    assert_accessible(
                        &Palette::derive(text, back, seed),
                        &format!("{text:?} on {back:?}"),
                    );
                    assert_accessible(
                        &Palette::derive(text, CLEAR, seed),
                        &format!("{text:?} on transparent"),
                    );
                    checked += 2;
                }
            }
        }
    }
    assert!(checked > 1000);
    assert_accessible(&Palette::default_light(), "default light");
    assert_accessible(&Palette::default_dark(), "default dark");
}

#[wasm_bindgen_test]
fn dark_backgrounds_switch_to_a_dark_palette() {
    let dark = Palette::derive(rgb(230, 230, 230), rgb(18, 18, 18), None);
    assert_eq!(dark.scheme, Scheme::Dark);
    assert!(
        dark.accent.luminance() > dark.bg.luminance(),
        "accent lighter than the page"
    );
    assert_eq!(dark.bg, rgb(18, 18, 18));

    let light = Palette::derive(rgb(33, 33, 33), rgb(255, 255, 255), None);
    assert_eq!(light.scheme, Scheme::Light);
    assert_eq!(
        light.fg,
        rgb(33, 33, 33),
        "readable store text is kept as is"
    );

    // The usual case: a transparent wrapper. Stay transparent, judge by the text colour.
    let on_dark_page = Palette::derive(rgb(240, 240, 240), CLEAR, None);
    assert_eq!(on_dark_page.scheme, Scheme::Dark);
    assert!(on_dark_page.bg.is_transparent());
    let on_light_page = Palette::derive(rgb(51, 51, 51), CLEAR, None);
    assert_eq!(on_light_page.scheme, Scheme::Light);
    assert!(on_light_page.bg.is_transparent());

    // Unreadable store colours are corrected, not copied.
    let grey_on_grey = Palette::derive(rgb(150, 150, 150), rgb(170, 170, 170), None);
    assert!(contrast(grey_on_grey.fg, grey_on_grey.bg) >= 4.5);
    // An accent seed the store uses is kept when it is readable.
    let seeded = Palette::derive(rgb(0, 0, 0), rgb(255, 255, 255), Some(rgb(0, 0, 139)));
    assert_eq!(seeded.accent, rgb(0, 0, 139));
}

#[wasm_bindgen_test]
fn theme_from_chromium_style() {
    let theme = Theme::from_computed_style(&json(&chromium_style(
        "rgb(33, 37, 41)",
        "rgba(0, 0, 0, 0)",
    )));
    let palette = theme.palette.expect("derived");
    assert_eq!(palette.scheme, Scheme::Light);
    assert!(palette.bg.is_transparent());
    assert_eq!(palette.fg, rgb(33, 37, 41));
    let css = theme.css_vars();
    assert!(css.starts_with("--b24-bg:#00000000;"), "{css}");
    assert!(css.contains("--b24-fg:#212529;"), "{css}");
    assert!(
        css.contains(r#"--b24-font:"Open Sans", Helvetica, Arial, sans-serif;"#),
        "{css}"
    );
    assert!(css.contains("--b24-font-size:14px;"), "{css}");
    assert_eq!(
        theme.color_scheme.as_ref().map(ColorScheme::as_str),
        Some("normal")
    );
}

#[wasm_bindgen_test]
fn firefox_style_or_none_gives_the_default_theme() {
    assert_eq!(
        Theme::from_computed_style(&json(FIREFOX_STYLE)),
        Theme::default()
    );
    assert_eq!(Theme::from_computed_style(&json("null")), Theme::default());
    assert_eq!(
        Theme::from_computed_style(&json(r#""color: red""#)),
        Theme::default()
    );
    assert_eq!(Theme::default().css_vars(), "");
    assert_eq!(Theme::default().scheme_name(), "auto");
}

#[wasm_bindgen_test]
fn hostile_values_never_reach_css() {
    let hostile = json(
        r#"{"color":"rgb(0,0,0);}</style><script>alert(1)</script>",
            "backgroundColor":"url(javascript:alert(1))",
            "accentColor":"expression(alert(1))",
            "fontFamily":"Arial; } :root { background: url(//evil.example/x) }",
            "fontSize":"14px;}\\",
            "colorScheme":"dark; x"}"#,
    );
    let theme = Theme::from_computed_style(&hostile);
    assert_eq!(theme, Theme::default());

    // One good value does not let its bad neighbours through.
    let mixed = json(
        r#"{"color":"rgb(20, 20, 20)","backgroundColor":"url(x)","accentColor":"\\31 23",
            "fontFamily":"\"Inter\"","fontSize":"<b>"}"#,
    );
    let theme = Theme::from_computed_style(&mixed);
    let css = theme.css_vars();
    assert!(theme.palette.is_some() && theme.font.is_some() && theme.font_size.is_none());
    for forbidden in ["url(", "expression", "\\", "<", "}", "{", ";;"] {
        assert!(!css.contains(forbidden), "{forbidden:?} in {css}");
    }
    assert!(
        css.split(';')
            .filter(|d| !d.is_empty())
            .all(|d| d.starts_with("--b24-")),
        "{css}"
    );
}

#[wasm_bindgen_test]
async fn the_widget_wears_the_store_s_theme() {
    let widget = mount(config(&[PORTAL]));
    tick().await;
    assert_eq!(widget.attr("data-scheme").as_deref(), Some("auto"));
    assert_eq!(widget.attr("style").unwrap_or_default(), "");

    // A dark store with an opaque wrapper background.
    let style =
        chromium_style("rgb(235, 235, 235)", "rgb(20, 22, 26)").replace("\"normal\"", "\"dark\"");
    dispatch(PORTAL, &portal_message(r#""10""#, "EUR", "", &style));
    tick().await;
    assert_eq!(widget.attr("data-scheme").as_deref(), Some("dark"));
    let computed = window()
        .get_computed_style(&widget.root())
        .unwrap()
        .unwrap();
    assert_eq!(
        computed.get_property_value("background-color").unwrap(),
        "rgb(20, 22, 26)"
    );
    assert_eq!(
        computed.get_property_value("color").unwrap(),
        "rgb(235, 235, 235)"
    );
    assert_eq!(computed.get_property_value("font-size").unwrap(), "14px");
    assert!(computed
        .get_property_value("font-family")
        .unwrap()
        .starts_with("\"Open Sans\""));
    let html: web_sys::HtmlElement = document().document_element().unwrap().unchecked_into();
    assert_eq!(
        html.style().get_property_value("color-scheme").unwrap(),
        "dark"
    );

    // A store page without a colour scheme of its own: ours must be light, not the
    // `light dark` of our meta tag, or dark-mode users get an opaque dark canvas.
    dispatch(
        PORTAL,
        &portal_message(
            r#""10""#,
            "EUR",
            "",
            &chromium_style("rgb(51, 51, 51)", "rgba(0, 0, 0, 0)"),
        ),
    );
    tick().await;
    assert_eq!(
        html.style().get_property_value("color-scheme").unwrap(),
        "light"
    );
    assert_eq!(widget.attr("data-scheme").as_deref(), Some("light"));

    // Firefox: no values, back to the default theme.
    dispatch(PORTAL, &portal_message(r#""10""#, "EUR", "", FIREFOX_STYLE));
    tick().await;
    assert_eq!(widget.attr("data-scheme").as_deref(), Some("auto"));
    assert_eq!(html.style().get_property_value("color-scheme").unwrap(), "");
    let computed = window()
        .get_computed_style(&widget.root())
        .unwrap()
        .unwrap();
    let fg = Rgba::parse(&computed.get_property_value("color").unwrap()).unwrap();
    let bg = Rgba::parse(&computed.get_property_value("background-color").unwrap()).unwrap();
    assert!(contrast(fg, bg) >= 4.5, "default theme from the stylesheet");
}
