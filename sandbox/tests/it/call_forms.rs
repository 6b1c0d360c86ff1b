//! Both URL forms, every body encoding, case-insensitive names, auth errors and the envelope.

use crate::common;

use common::Portal;
use serde_json::{json, Value};

#[tokio::test]
async fn webhook_url_with_and_without_json_suffix() {
    let portal = Portal::start().await;
    let a = portal.call("sale.paysystem.handler.list", json!({})).await;
    let b = portal
        .call("sale.paysystem.handler.list.json", json!({}))
        .await;
    assert_eq!(a.result(), &json!([]));
    assert_eq!(b.result(), &json!([]));
    // Method names are case-insensitive, as on the portal.
    let c = portal.call("Sale.PaySystem.Handler.List", json!({})).await;
    assert_eq!(c.result(), &json!([]));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_envelope_has_the_portals_time_block() {
    let portal = Portal::start().await;
    let reply = portal.list_pay_systems().await;
    reply.result();
    let time = &reply.body["time"];
    for key in ["start", "finish", "duration", "processing", "operating"] {
        assert!(time[key].is_f64(), "{key} is a float: {time}");
    }
    assert!(time["operating_reset_at"].is_i64(), "{time}");
    for key in ["date_start", "date_finish"] {
        let date = time[key].as_str().unwrap();
        // 2024-04-03T10:26:32+03:00
        assert_eq!(date.len(), 25, "{date}");
        assert_eq!(&date[10..11], "T");
        assert!(date.ends_with("+03:00"), "{date}");
    }
    assert!(time["finish"].as_f64() >= time["start"].as_f64());
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn oauth_token_in_query_or_body() {
    let portal = Portal::start().await;
    let tokens = portal.sandbox.issue_oauth_tokens();
    let url = portal.oauth("sale.paysystem.list");
    let in_query = portal
        .get(&format!("{url}?auth={}", tokens.access_token))
        .await;
    assert_eq!(in_query.result(), &json!([]));
    let in_json = portal
        .post_json(
            &portal.oauth("sale.paysystem.list.json"),
            &json!({"auth": tokens.access_token}).to_string(),
        )
        .await;
    assert_eq!(in_json.result(), &json!([]));
    let in_form = portal
        .post_form(&url, &format!("auth={}", tokens.access_token))
        .await;
    assert_eq!(in_form.result(), &json!([]));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn auth_errors() {
    let portal = Portal::start().await;
    let base = portal.sandbox.base_url();
    // A wrong webhook code, or the right code under another user.
    let wrong = portal
        .get(&format!("{base}/rest/1/not-the-code/sale.paysystem.list"))
        .await;
    assert_eq!(wrong.error(403), "ACCESS_DENIED");
    let wrong_user = portal
        .get(&format!(
            "{base}/rest/2/{}/sale.paysystem.list",
            b24pay_sandbox::DEFAULT_WEBHOOK_CODE
        ))
        .await;
    assert_eq!(wrong_user.error(403), "ACCESS_DENIED");
    // OAuth form without a token, or with one the portal never issued.
    let none = portal.get(&portal.oauth("sale.paysystem.list")).await;
    assert_eq!(none.error(401), "NO_AUTH_FOUND");
    let unknown = portal
        .get(&format!(
            "{}?auth=deadbeef",
            portal.oauth("sale.paysystem.list")
        ))
        .await;
    assert_eq!(unknown.error(401), "NO_AUTH_FOUND");
    // An expired access token.
    let tokens = portal.sandbox.issue_oauth_tokens();
    portal.sandbox.expire_access_tokens();
    let expired = portal
        .get(&format!(
            "{}?auth={}",
            portal.oauth("sale.paysystem.list"),
            tokens.access_token
        ))
        .await;
    assert_eq!(expired.error(401), "expired_token");
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_methods_are_404() {
    let portal = Portal::start().await;
    let reply = portal.call("sale.paysystem.frobnicate", json!({})).await;
    assert_eq!(reply.error(404), "ERROR_METHOD_NOT_FOUND");
    let reply = portal.call("crm.deal.list", json!({})).await;
    assert_eq!(reply.error(404), "ERROR_METHOD_NOT_FOUND");
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn invalid_json_is_a_clear_400() {
    let portal = Portal::start().await;
    let reply = portal
        .post_json(
            &portal.webhook("sale.paysystem.list"),
            r#"{"SELECT": ["ID"]"#,
        )
        .await;
    assert_eq!(reply.error(400), "INVALID_REQUEST");
    assert!(reply.description().contains("JSON"), "{reply:?}");
    portal.sandbox.shutdown().await;
}

/// The same handler sent as JSON, as a PHP-style form, and as a GET query.
#[tokio::test]
async fn all_three_body_encodings() {
    let portal = Portal::start().await;
    let json_id = portal
        .call(
            "sale.paysystem.handler.add",
            json!({
                "NAME": "Json",
                "CODE": "h_json",
                "SETTINGS": {
                    "CURRENCY": ["USD", "EUR"],
                    "IFRAME_DATA": {"ACTION_URI": "http://localhost:8080/", "FIELDS": {"shopId": {"CODE": "SHOP"}}},
                    "CODES": {"SHOP": {"NAME": "Shop", "DEFAULT": {"PROVIDER_KEY": "VALUE", "PROVIDER_VALUE": "x"}}},
                },
            }),
        )
        .await;
    assert_eq!(json_id.result(), &json!(1));

    let form = [
        "NAME=Form",
        "CODE=h_form",
        "SETTINGS[CURRENCY][]=USD",
        "SETTINGS[CURRENCY][]=EUR",
        "SETTINGS[IFRAME_DATA][ACTION_URI]=http%3A%2F%2Flocalhost%3A8080%2F",
        "SETTINGS[IFRAME_DATA][FIELDS][shopId][CODE]=SHOP",
        "SETTINGS[CODES][SHOP][NAME]=Shop",
        "SETTINGS[CODES][SHOP][DEFAULT][PROVIDER_KEY]=VALUE",
        "SETTINGS[CODES][SHOP][DEFAULT][PROVIDER_VALUE]=x",
    ]
    .join("&");
    let form_id = portal.call_form("sale.paysystem.handler.add", &form).await;
    assert_eq!(form_id.result(), &json!(2));

    let query = form.replace("h_form", "h_get").replace("Form", "Get");
    let get_id = portal
        .get(&format!(
            "{}?{}",
            portal.webhook("sale.paysystem.handler.add"),
            query.replace('[', "%5B").replace(']', "%5D")
        ))
        .await;
    assert_eq!(get_id.result(), &json!(3));

    let list = portal.call("sale.paysystem.handler.list", json!({})).await;
    let list = list.result().as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    let settings: Vec<&Value> = list.iter().map(|h| &h["SETTINGS"]).collect();
    // All three encodings produced the same stored settings.
    assert_eq!(settings[0], settings[1]);
    assert_eq!(settings[1], settings[2]);
    assert_eq!(settings[0]["CURRENCY"], json!(["USD", "EUR"]));
    assert_eq!(
        settings[0]["IFRAME_DATA"]["FIELDS"]["shopId"]["CODE"],
        json!("SHOP")
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn parameter_names_are_case_insensitive() {
    let portal = Portal::start().await;
    // Handler methods: top level and the structure of SETTINGS; user codes kept as given.
    let id = portal
        .call(
            "sale.paysystem.handler.add",
            json!({
                "name": "Lower",
                "Code": "lower",
                "settings": {
                    "codes": {"shopId": {"name": "Shop", "default": {"provider_key": "VALUE", "provider_value": "v"}}},
                    "iframe_data": {"action_uri": "http://localhost:8080/", "fields": {"shopField": {"code": "shopId"}}},
                },
            }),
        )
        .await;
    assert_eq!(id.result(), &json!(1));
    let list = portal.call("sale.paysystem.handler.list", json!({})).await;
    let settings = &list.result()[0]["SETTINGS"];
    assert_eq!(settings["CODES"]["shopId"]["NAME"], json!("Shop"));
    assert_eq!(
        settings["IFRAME_DATA"]["FIELDS"]["shopField"]["CODE"],
        json!("shopId")
    );

    // Pay-system methods: every depth, including the setting codes (stored upper-cased).
    let ps = portal
        .call_form(
            "sale.paysystem.add",
            "name=Lower&person_type_id=1&bx_rest_handler=lower&entity_registry_type=ORDER\
             &settings[my_code][type]=VALUE&settings[my_code][value]=42",
        )
        .await;
    assert_eq!(ps.result(), &json!(1));
    let list = portal
        .call(
            "sale.paysystem.list",
            json!({"select": ["id", "name", "active"]}),
        )
        .await;
    assert_eq!(
        list.result(),
        &json!([{"ID": "1", "NAME": "Lower", "ACTIVE": "N"}])
    );
    let settings = portal
        .call(
            "sale.paysystem.settings.get",
            json!({"id": 1, "person_type_id": 1}),
        )
        .await;
    // `shopId` is the handler's code; the pay system's setting was stored as MY_CODE, which
    // the handler does not declare, so the DEFAULT applies.
    assert_eq!(
        settings.result(),
        &json!({"shopId": {"TYPE": "VALUE", "VALUE": "v"}})
    );
    portal.sandbox.shutdown().await;
}
