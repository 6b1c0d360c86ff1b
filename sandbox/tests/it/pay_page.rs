//! The seller's payment page as served (its behaviour in a browser: `browser.rs`).

use crate::common;

use common::Portal;
use serde_json::{json, Value};

async fn page(portal: &Portal, path: &str) -> (u16, String) {
    let response = portal
        .http
        .get(format!("{}{path}", portal.sandbox.base_url()))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The payload embedded for tests, `#sandbox-iframe-data`.
fn payload(html: &str) -> Value {
    let start = html
        .find(r#"<script type="application/json" id="sandbox-iframe-data">"#)
        .expect("payload element");
    let rest = &html[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn iframe_is_hosted_as_the_portal_does() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/widget/").await;
    portal
        .call(
            "sale.paysystem.settings.update",
            json!({"ID": ps, "PERSON_TYPE_ID": 1, "SETTINGS": {"B24PAY_LANGUAGE": {"TYPE": "VALUE", "VALUE": "ru"}}}),
        )
        .await
        .result();
    let (status, html) = page(&portal, "/pay/1?theme=dark&font=serif").await;
    assert_eq!(status, 200);
    assert!(html.contains(
        r#"<iframe src="http://localhost:8080/widget/" class='rest-payment-frame' name='restPaymentFrame' id='rest-payment-frame' style='border: none; height: 350px; width: 100%' sandbox='allow-forms allow-scripts allow-modals allow-top-navigation allow-same-origin'>"#
    ), "{html}");
    assert!(html.contains("<div class='rest-paysystem-wrapper' id='rest-paysystem-wrapper'>"));
    assert!(!html.contains("allow-popups"));

    let data = payload(&html);
    let base = portal.sandbox.base_url();
    assert_eq!(
        data,
        json!({
            "shopId": "shop-42",
            "lang": "ru",
            "BX_SYSTEM_PARAMS": {
                "RETURN_URL": format!("{base}/pay/1?theme=dark&font=serif"),
                "PAYSYSTEM_ID": "1",
                "PAYMENT_ID": "1",
                "SUM": "3000",
                "CURRENCY": "RUB",
            },
        })
    );
    // The inline script posts the same object, plus the wrapper's computed style, to the
    // ACTION_URI, and resizes only for the ACTION_URI's hostname.
    let script = &html[html
        .find("document.addEventListener(\"DOMContentLoaded\"")
        .unwrap()..];
    assert!(script.contains("iframe.onload = function"));
    assert!(script.contains(&format!("var iframeData = {};", data)));
    assert!(script.contains(
        "iframeData.BX_COMPUTED_STYLE = JSON.parse(JSON.stringify(window.getComputedStyle(parent)));"
    ));
    assert!(script
        .contains(r#"paymentFrame.postMessage(iframeData, "http://localhost:8080/widget/");"#));
    assert!(script.contains(r#"if (originHost !== "localhost")"#));
    assert!(script.contains(r#"iframe.style.height = event.data.height + "px";"#));
    assert!(script.contains(r#"iframe.style.width = event.data.width + "px";"#));
    // The secret key is a setting, but not a FIELD: it never reaches the page.
    assert!(!html.contains("s3cr3t"));
    // The dark serif store.
    assert!(html.contains(r#"<body class="theme-dark font-serif">"#));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn external_payment_id_once_the_payment_has_one() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let (_, html) = page(&portal, "/pay/1").await;
    assert!(payload(&html)["BX_SYSTEM_PARAMS"]
        .get("EXTERNAL_PAYMENT_ID")
        .is_none());
    // An earlier attempt left an id at the payment service.
    let snapshot = portal
        .control_post(
            "/payments/1/external-id",
            json!({"external_payment_id": "txn_1"}),
        )
        .await;
    assert_eq!(snapshot.body["ps"]["invoice_id"], json!("txn_1"));
    assert!(!portal.sandbox.payment(1).unwrap().paid);
    let (_, html) = page(&portal, "/pay/1").await;
    assert_eq!(
        payload(&html)["BX_SYSTEM_PARAMS"]["EXTERNAL_PAYMENT_ID"],
        json!("txn_1")
    );

    // Once paid, the page says so and offers no payment form again.
    portal
        .call(
            "sale.paysystem.pay.payment",
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps, "PS_INVOICE_ID": "txn_9"}),
        )
        .await
        .result();
    let (status, html) = page(&portal, "/pay/1").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"id="payment-paid""#));
    assert!(html.contains("Transaction txn_9"));
    assert!(!html.contains("<iframe"));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn pages_without_an_iframe_handler_explain_why() {
    let portal = Portal::start().await;
    // No pay system yet.
    let (status, html) = page(&portal, "/pay/3").await;
    assert_eq!(status, 200);
    assert!(html.contains("No payment method yet"));
    assert!(!html.contains("<iframe"));
    // A FORM handler.
    portal
        .call(
            "sale.paysystem.handler.add",
            json!({"NAME": "Form", "CODE": "form", "SETTINGS": {"CODES": {}, "FORM_DATA": {"ACTION_URI": "http://example.com/form"}}}),
        )
        .await
        .result();
    let ps = portal.add_pay_system("form", "ORDER", 1, json!({})).await;
    portal.sandbox.set_payment_pay_system(3, ps).unwrap();
    let (_, html) = page(&portal, "/pay/3").await;
    assert!(html.contains("Not an IFRAME payment method"));
    assert!(html.contains("FORM mode"));
    assert!(!html.contains("<iframe"));
    // Unknown payments, and an order's payment asked for as an invoice.
    assert_eq!(page(&portal, "/pay/12345").await.0, 404);
    assert_eq!(page(&portal, "/pay/invoice/1").await.0, 404);
    assert_eq!(
        page(&portal, "/pay/2").await.0,
        404,
        "payment 2 is an invoice's"
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn invoice_page() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal
        .add_pay_system("b24pay", "CRM_INVOICE", 4, common::b24pay_settings())
        .await;
    let payment = portal.sandbox.invoice_payment_id(6).unwrap();
    portal.sandbox.set_payment_pay_system(payment, ps).unwrap();
    let (status, html) = page(&portal, "/pay/invoice/6").await;
    assert_eq!(status, 200);
    assert!(html.contains("Invoice #6"));
    let data = payload(&html);
    assert_eq!(data["BX_SYSTEM_PARAMS"]["SUM"], json!("990"));
    assert_eq!(data["BX_SYSTEM_PARAMS"]["CURRENCY"], json!("USD"));
    assert_eq!(
        data["BX_SYSTEM_PARAMS"]["PAYMENT_ID"],
        json!(payment.to_string())
    );
    assert_eq!(data["shopId"], json!("shop-42"));
    assert_eq!(
        data["lang"],
        json!(""),
        "an unset FIELD is posted as an empty string"
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn theme_and_font_switches() {
    let portal = Portal::start().await;
    let (_, light) = page(&portal, "/pay/1").await;
    assert!(light.contains(r#"<body class="theme-light font-sans">"#));
    assert!(light.contains(r#"href="/pay/1?theme=dark&amp;font=sans""#));
    let (_, mono) = page(&portal, "/pay/1?theme=light&font=mono").await;
    assert!(mono.contains(r#"<body class="theme-light font-mono">"#));
    portal.sandbox.shutdown().await;
}

/// `?dcl_delay_ms=N`: a parser-blocking script after the payment block, answered N ms late, so
/// the page's `DOMContentLoaded` (and the portal's `iframe.onload`) comes after the frame can
/// have loaded. Absent by default and for 0 or nonsense; capped at 30 s.
#[tokio::test]
async fn a_slow_store_script_holds_dom_content_loaded() {
    let portal = Portal::start().await;
    portal.b24pay_setup("http://localhost:8080/").await;
    let script = |html: &str| {
        html.find(r#"<script src="/sandbox/slow.js"#)
            .map(|at| html[at..at + html[at..].find("</script>").unwrap()].to_string())
    };
    for plain in [
        "/pay/1",
        "/pay/1?dcl_delay_ms=0",
        "/pay/1?dcl_delay_ms=soon",
    ] {
        let (status, html) = page(&portal, plain).await;
        assert_eq!((status, script(&html)), (200, None), "{plain}");
    }
    let (_, html) = page(&portal, "/pay/1?theme=dark&dcl_delay_ms=400").await;
    assert_eq!(
        script(&html).as_deref(),
        Some(r#"<script src="/sandbox/slow.js?ms=400">"#)
    );
    // After the frame and the portal's script, before the page ends.
    let frame = html.find("<iframe").unwrap();
    let slow = html.find("/sandbox/slow.js").unwrap();
    assert!(frame < slow && slow < html.find("</body>").unwrap());
    let (_, capped) = page(&portal, "/pay/1?dcl_delay_ms=99999999").await;
    assert!(capped.contains("/sandbox/slow.js?ms=30000\""));

    let started = std::time::Instant::now();
    let (status, body) = page(&portal, "/sandbox/slow.js?ms=400").await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    portal.sandbox.shutdown().await;
}
