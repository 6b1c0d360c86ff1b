//! `sale.paysystem.handler.*`: required fields, modes, duplicates, update and delete rules.

use crate::common;

use common::{b24pay_handler, Portal};
use serde_json::json;

async fn add_error(portal: &Portal, body: serde_json::Value) -> (String, String) {
    let reply = portal.call("sale.paysystem.handler.add", body).await;
    let code = reply.error(400).to_string();
    (code, reply.description().to_string())
}

#[tokio::test]
async fn required_fields_and_modes() {
    let portal = Portal::start().await;
    let codes = json!({"X": {"NAME": "x"}});
    let iframe = json!({"ACTION_URI": "http://localhost:8080/"});
    let cases = [
        (json!({"CODE": "c", "SETTINGS": {"CODES": codes, "IFRAME_DATA": iframe}}), "Parameter NAME is not defined"),
        (json!({"NAME": "n", "SETTINGS": {"CODES": codes, "IFRAME_DATA": iframe}}), "Parameter CODE is not defined"),
        (json!({"NAME": "n", "CODE": "c"}), "Parameter SETTINGS is not defined"),
        (json!({"NAME": "n", "CODE": "c", "SETTINGS": {"IFRAME_DATA": iframe}}), "Parameter SETTINGS[CODES] is not defined"),
        (
            json!({"NAME": "n", "CODE": "c", "SETTINGS": {"CODES": codes}}),
            "Parameter SETTINGS[FORM_DATA] or SETTINGS[CHECKOUT_DATA] or SETTINGS[IFRAME_DATA] is not defined",
        ),
        (
            json!({"NAME": "n", "CODE": "c", "SETTINGS": {"CODES": codes, "IFRAME_DATA": {"FIELDS": {}}}}),
            "Parameter SETTINGS[IFRAME_DATA][ACTION_URI] is not defined",
        ),
        (
            json!({"NAME": "n", "CODE": "c", "SETTINGS": {"CODES": codes, "FORM_DATA": {"METHOD": "POST"}}}),
            "Parameter SETTINGS[FORM_DATA][ACTION_URI] is not defined",
        ),
        (
            json!({"NAME": "n", "CODE": "c", "SETTINGS": {"CODES": codes, "CHECKOUT_DATA": {"ACTION_URI": ""}}}),
            "Parameter SETTINGS[CHECKOUT_DATA][ACTION_URI] is not defined",
        ),
        (
            json!({"NAME": "n", "CODE": "c", "SETTINGS": {"CODES": codes, "IFRAME_DATA": iframe, "CLIENT_TYPE": "b2x"}}),
            "Parameter value SETTINGS[CLIENT_TYPE] is invalid",
        ),
    ];
    for (body, description) in cases {
        assert_eq!(
            add_error(&portal, body).await,
            ("ERROR_CHECK_FAILURE".to_string(), description.to_string())
        );
    }
    // Nothing was stored by the refused calls.
    let list = portal.call("sale.paysystem.handler.list", json!({})).await;
    assert_eq!(list.result(), &json!([]));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn duplicate_codes_are_refused_case_insensitively() {
    let portal = Portal::start().await;
    assert_eq!(
        portal
            .add_b24pay_handler("b24pay", "http://localhost:8080/")
            .await,
        1
    );
    for code in ["b24pay", "B24PAY"] {
        let (error, description) =
            add_error(&portal, b24pay_handler(code, "http://localhost:8080/")).await;
        assert_eq!(error, "ERROR_HANDLER_ALREADY_EXIST");
        assert_eq!(description, "Handler already exists!");
    }
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn list_returns_ids_as_strings_and_settings_as_stored() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let list = portal.call("sale.paysystem.handler.list", json!({})).await;
    let handler = &list.result()[0];
    assert_eq!(handler["ID"], json!("1"));
    assert_eq!(handler["SORT"], json!("100"));
    assert_eq!(handler["NAME"], json!("b24pay card payments"));
    assert_eq!(
        handler["SETTINGS"],
        b24pay_handler("b24pay", "http://localhost:8080/")["SETTINGS"]
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn update_replaces_settings_whole() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let new_settings = json!({
        "CODES": {"ONLY": {"NAME": "Only"}},
        "IFRAME_DATA": {"ACTION_URI": "https://pay.example/widget"},
    });
    let reply = portal
        .call(
            "sale.paysystem.handler.update",
            json!({"ID": 1, "FIELDS": {"NAME": "Renamed", "SETTINGS": new_settings}}),
        )
        .await;
    assert_eq!(reply.result(), &json!(true));
    let list = portal.call("sale.paysystem.handler.list", json!({})).await;
    let handler = &list.result()[0];
    assert_eq!(handler["NAME"], json!("Renamed"));
    assert_eq!(handler["CODE"], json!("b24pay"));
    assert_eq!(
        handler["SETTINGS"], new_settings,
        "no key of the old settings survives"
    );

    let missing_fields = portal
        .call("sale.paysystem.handler.update", json!({"ID": 1}))
        .await;
    assert_eq!(missing_fields.error(400), "ERROR_CHECK_FAILURE");
    assert_eq!(
        missing_fields.description(),
        "Parameter FIELDS is not defined"
    );
    let unknown = portal
        .call(
            "sale.paysystem.handler.update",
            json!({"ID": 9, "FIELDS": {"NAME": "x"}}),
        )
        .await;
    assert_eq!(unknown.error(400), "ERROR_HANDLER_NOT_FOUND");
    let bad_settings = portal
        .call(
            "sale.paysystem.handler.update",
            json!({"ID": 1, "FIELDS": {"SETTINGS": {"CODES": {}}}}),
        )
        .await;
    assert_eq!(bad_settings.error(400), "ERROR_CHECK_FAILURE");
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn delete_is_refused_while_a_pay_system_uses_the_handler() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    let ps = portal.add_pay_system("b24pay", "ORDER", 1, json!({})).await;
    let refused = portal
        .call("sale.paysystem.handler.delete", json!({"ID": 1}))
        .await;
    assert_eq!(refused.error(400), "ERROR_PAY_SYSTEM_DELETE");
    assert_eq!(
        refused.description(),
        "Pay system with handler B24PAY exists!"
    );

    let deleted = portal
        .call("sale.paysystem.delete", json!({"ID": ps}))
        .await;
    assert_eq!(deleted.result(), &json!(true));
    let reply = portal
        .call("sale.paysystem.handler.delete", json!({"ID": 1}))
        .await;
    assert_eq!(reply.result(), &json!(true));
    let again = portal
        .call("sale.paysystem.handler.delete", json!({"ID": 1}))
        .await;
    assert_eq!(again.error(400), "ERROR_HANDLER_NOT_FOUND");
    portal.sandbox.shutdown().await;
}
