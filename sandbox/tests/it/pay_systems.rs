//! `sale.paysystem.add/update/list/delete` and `settings.get/update`.

use crate::common;

use common::{b24pay_settings, Portal};
use serde_json::{json, Value};

async fn portal_with_handler() -> Portal {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    portal
}

#[tokio::test]
async fn defaults_active_n_and_crm_invoice_registry() {
    let portal = portal_with_handler().await;
    // No ENTITY_REGISTRY_TYPE: CRM_INVOICE, so the person type must be 3 or 4.
    let wrong = portal
        .call(
            "sale.paysystem.add",
            json!({"NAME": "Card", "PERSON_TYPE_ID": 1, "BX_REST_HANDLER": "b24pay"}),
        )
        .await;
    assert_eq!(wrong.error(400), "ERROR_PERSON_TYPE_NOT_FOUND");
    assert_eq!(wrong.description(), "Incorrect person type id!");
    let ok = portal
        .call(
            "sale.paysystem.add",
            json!({"NAME": "Card", "PERSON_TYPE_ID": 3, "BX_REST_HANDLER": "b24pay"}),
        )
        .await;
    assert_eq!(ok.result(), &json!(1));
    let list = portal
        .call(
            "sale.paysystem.list",
            json!({"SELECT": ["ID", "ACTIVE", "ENTITY_REGISTRY_TYPE"]}),
        )
        .await;
    assert_eq!(
        list.result(),
        &json!([{"ID": "1", "ACTIVE": "N", "ENTITY_REGISTRY_TYPE": "CRM_INVOICE"}])
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn add_errors() {
    let portal = portal_with_handler().await;
    let cases = [
        (
            json!({"PERSON_TYPE_ID": 1, "BX_REST_HANDLER": "b24pay"}),
            "ERROR_CHECK_FAILURE",
            "Parameter NAME is not defined",
        ),
        (
            json!({"NAME": "n", "BX_REST_HANDLER": "b24pay"}),
            "ERROR_CHECK_FAILURE",
            "Parameter PERSON_TYPE_ID is not defined",
        ),
        (
            json!({"NAME": "n", "PERSON_TYPE_ID": 1}),
            "ERROR_CHECK_FAILURE",
            "Parameter BX_REST_HANDLER is not defined",
        ),
        (
            json!({"NAME": "n", "PERSON_TYPE_ID": 1, "BX_REST_HANDLER": "nope"}),
            "ERROR_HANDLER_NOT_FOUND",
            "Handler not found",
        ),
        (
            json!({"NAME": "n", "PERSON_TYPE_ID": 3, "BX_REST_HANDLER": "b24pay", "ENTITY_REGISTRY_TYPE": "ORDER"}),
            "ERROR_PERSON_TYPE_NOT_FOUND",
            "Incorrect person type id!",
        ),
        (
            json!({"NAME": "n", "PERSON_TYPE_ID": 1, "BX_REST_HANDLER": "b24pay", "ENTITY_REGISTRY_TYPE": "DEAL"}),
            "ERROR_PERSON_TYPE_NOT_FOUND",
            "Incorrect person type id!",
        ),
        (
            json!({"NAME": "n", "PERSON_TYPE_ID": 99, "BX_REST_HANDLER": "b24pay", "ENTITY_REGISTRY_TYPE": "ORDER"}),
            "ERROR_PERSON_TYPE_NOT_FOUND",
            "Incorrect person type id!",
        ),
    ];
    for (body, code, description) in cases {
        let reply = portal.call("sale.paysystem.add", body).await;
        assert_eq!((reply.error(400), reply.description()), (code, description));
    }
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn update_checks_handler_pay_system_and_person_type() {
    let portal = portal_with_handler().await;
    let ps = portal.add_pay_system("b24pay", "ORDER", 1, json!({})).await;
    let missing_id = portal
        .call("sale.paysystem.update", json!({"FIELDS": {"NAME": "x"}}))
        .await;
    assert_eq!(missing_id.error(400), "ERROR_CHECK_FAILURE");
    // The portal checks the handler and the person type on every update.
    let no_handler = portal
        .call(
            "sale.paysystem.update",
            json!({"ID": ps, "FIELDS": {"NAME": "x"}}),
        )
        .await;
    assert_eq!(no_handler.error(400), "ERROR_HANDLER_NOT_FOUND");
    let unknown = portal
        .call(
            "sale.paysystem.update",
            json!({"ID": 77, "FIELDS": {"BX_REST_HANDLER": "b24pay", "PERSON_TYPE_ID": 1}}),
        )
        .await;
    assert_eq!(unknown.error(400), "ERROR_PAY_SYSTEM_NOT_FOUND");
    let wrong_type = portal
        .call(
            "sale.paysystem.update",
            json!({"ID": ps, "FIELDS": {"BX_REST_HANDLER": "b24pay", "PERSON_TYPE_ID": 4}}),
        )
        .await;
    assert_eq!(wrong_type.error(400), "ERROR_PERSON_TYPE_NOT_FOUND");
    let ok = portal
        .call(
            "sale.paysystem.update",
            json!({"ID": ps, "FIELDS": {
                "BX_REST_HANDLER": "b24pay", "PERSON_TYPE_ID": 2,
                "NAME": "Cards", "ACTIVE": "N", "XML_ID": "b24pay-1", "DESCRIPTION": "Pay by card",
            }}),
        )
        .await;
    assert_eq!(ok.result(), &json!(true));
    let list = portal
        .call(
            "sale.paysystem.list",
            json!({"SELECT": ["NAME", "ACTIVE", "PERSON_TYPE_ID", "XML_ID", "DESCRIPTION"]}),
        )
        .await;
    assert_eq!(
        list.result(),
        &json!([{"NAME": "Cards", "ACTIVE": "N", "PERSON_TYPE_ID": "2", "XML_ID": "b24pay-1", "DESCRIPTION": "Pay by card"}])
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn list_select_filter_order() {
    let portal = portal_with_handler().await;
    for (registry, person_type) in [("ORDER", 1), ("CRM_INVOICE", 3), ("ORDER", 2)] {
        portal
            .add_pay_system("b24pay", registry, person_type, json!({}))
            .await;
    }
    let all = portal.list_pay_systems().await;
    let all = all.result().as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["ID"], json!("1"), "ids are strings");
    assert_eq!(
        all[0]["LOGOTYPE"],
        Value::Null,
        "the public name of LOGOTIP"
    );
    assert!(all[0].get("LOGOTIP").is_none());
    assert!(all[0].get("PAY_SYSTEM_ID").is_none());

    let filtered = portal
        .call(
            "sale.paysystem.list",
            json!({"select": ["ID"], "filter": {"ENTITY_REGISTRY_TYPE": "ORDER"}, "order": {"ID": "DESC"}}),
        )
        .await;
    assert_eq!(filtered.result(), &json!([{"ID": "3"}, {"ID": "1"}]));
    let ops = portal
        .call(
            "sale.paysystem.list",
            json!({"SELECT": ["ID"], "FILTER": {">ID": 1, "!PERSON_TYPE_ID": 3}}),
        )
        .await;
    assert_eq!(ops.result(), &json!([{"ID": "3"}]));
    let by_list = portal
        .call(
            "sale.paysystem.list",
            json!({"SELECT": ["ID"], "FILTER": {"@ID": [1, 2]}}),
        )
        .await;
    assert_eq!(by_list.result(), &json!([{"ID": "1"}, {"ID": "2"}]));

    let refused = portal
        .call("sale.paysystem.list", json!({"SELECT": ["ID", "SECRET"]}))
        .await;
    assert_eq!(refused.error(400), "ERROR_CORE");
    assert_eq!(refused.description(), "SECRET not allowed for select");
    let refused = portal
        .call("sale.paysystem.list", json!({"FILTER": {"=PASSWORD": "x"}}))
        .await;
    assert_eq!(refused.description(), "PASSWORD not allowed for filter");
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn delete_unknown_pay_system() {
    let portal = Portal::start().await;
    let reply = portal.call("sale.paysystem.delete", json!({"ID": 5})).await;
    assert_eq!(reply.error(400), "ERROR_PAY_SYSTEM_NOT_FOUND");
    assert_eq!(reply.description(), "Pay system not found");
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn settings_get_and_update() {
    let portal = portal_with_handler().await;
    let ps = portal
        .add_pay_system("b24pay", "ORDER", 1, b24pay_settings())
        .await;
    let settings = portal
        .call(
            "sale.paysystem.settings.get",
            json!({"ID": ps, "PERSON_TYPE_ID": 1}),
        )
        .await;
    let settings = settings.result();
    assert_eq!(
        settings["B24PAY_SHOP_ID"],
        json!({"TYPE": "VALUE", "VALUE": "shop-42"})
    );
    // Codes without a setting show their DEFAULT; codes with neither show nulls.
    assert_eq!(
        settings["B24PAY_PAYMENT_SUM"],
        json!({"TYPE": "PAYMENT", "VALUE": "SUM"})
    );
    assert_eq!(
        settings["B24PAY_LANGUAGE"],
        json!({"TYPE": null, "VALUE": null})
    );
    assert_eq!(
        settings.as_object().unwrap().len(),
        9,
        "one entry per handler code"
    );

    let update = portal
        .call(
            "sale.paysystem.settings.update",
            json!({"ID": ps, "PERSON_TYPE_ID": 1, "SETTINGS": {"B24PAY_LANGUAGE": {"TYPE": "VALUE", "VALUE": "de"}}}),
        )
        .await;
    assert_eq!(update.result(), &json!(true));
    let settings = portal
        .call(
            "sale.paysystem.settings.get",
            json!({"ID": ps, "PERSON_TYPE_ID": 1}),
        )
        .await;
    assert_eq!(
        settings.result()["B24PAY_LANGUAGE"],
        json!({"TYPE": "VALUE", "VALUE": "de"})
    );

    let cases = [
        (
            json!({"ID": ps}),
            "sale.paysystem.settings.get",
            "ERROR_CHECK_FAILURE",
            "Parameter PERSON_TYPE_ID is not defined",
        ),
        (
            json!({"PERSON_TYPE_ID": 1}),
            "sale.paysystem.settings.get",
            "ERROR_CHECK_FAILURE",
            "Parameter ID is not defined",
        ),
        (
            json!({"ID": 99, "PERSON_TYPE_ID": 1}),
            "sale.paysystem.settings.get",
            "ERROR_CHECK_FAILURE",
            "Pay system not found",
        ),
        (
            json!({"SETTINGS": {"A": {"TYPE": "VALUE", "VALUE": "1"}}}),
            "sale.paysystem.settings.update",
            "ERROR_CHECK_FAILURE",
            "Parameter ID is not defined",
        ),
        (
            json!({"ID": 99, "SETTINGS": {"A": {"TYPE": "VALUE"}}}),
            "sale.paysystem.settings.update",
            "ERROR_CHECK_FAILURE",
            "Pay system not found",
        ),
        (
            json!({"ID": ps, "SETTINGS": {}}),
            "sale.paysystem.settings.update",
            "ERROR_HANDLER_NOT_FOUND",
            "Parameter SETTINGS is not defined or empty",
        ),
        (
            json!({"ID": ps}),
            "sale.paysystem.settings.update",
            "ERROR_HANDLER_NOT_FOUND",
            "Parameter SETTINGS is not defined or empty",
        ),
    ];
    for (body, method, code, description) in cases {
        let reply = portal.call(method, body).await;
        assert_eq!(
            (reply.error(400), reply.description()),
            (code, description),
            "{method}"
        );
    }
    portal.sandbox.shutdown().await;
}
