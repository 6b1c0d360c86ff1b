//! `batch` in every body encoding (JSON, form, query string) and both call forms, and the
//! README's `batch` examples as curl sends them.

use crate::common;

use common::{command, Portal};
use serde_json::json;

#[tokio::test]
async fn every_body_encoding_and_both_call_forms() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let read = command(
        "sale.paysystem.settings.payment.get",
        json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
    );
    let form = format!(
        "halt=0&cmd[read]={}&cmd[list]=sale.paysystem.list",
        urlencode(&read)
    );
    let check = |reply: &common::Reply| {
        let result = reply.result();
        assert_eq!(
            result["result"]["read"]["B24PAY_PAYMENT_SUM"],
            json!("3000"),
            "{reply:?}"
        );
        assert!(result["result"]["list"].is_array(), "{reply:?}");
    };
    // JSON, form, GET query; webhook with and without `.json`.
    check(
        &portal
            .batch(json!({"halt": 0, "cmd": {"read": read, "list": "sale.paysystem.list"}}))
            .await,
    );
    check(&portal.call_form("batch.json", &form).await);
    check(
        &portal
            .get(&format!("{}?{form}", portal.webhook("batch")))
            .await,
    );
    // Upper-case names, as the portal reads them.
    check(
        &portal
            .batch(json!({"HALT": 0, "CMD": {"read": read, "list": "sale.paysystem.list"}}))
            .await,
    );
    // OAuth: `auth` in the body or the query; a token inside a command is ignored.
    let token = portal.sandbox.issue_oauth_tokens().access_token;
    check(
        &portal
            .post_json(
                &portal.oauth("batch"),
                &json!({"auth": token, "cmd": {"read": read, "list": "sale.paysystem.list?auth=bogus"}}).to_string(),
            )
            .await,
    );
    check(
        &portal
            .get(&format!("{}?auth={token}&{form}", portal.oauth("batch")))
            .await,
    );
    let denied = portal
        .post_json(
            &portal.oauth("batch"),
            &json!({"cmd": {"list": format!("sale.paysystem.list?auth={token}")}}).to_string(),
        )
        .await;
    assert_eq!(denied.error(401), "NO_AUTH_FOUND");
    portal.sandbox.shutdown().await;
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The README's `batch` examples, as curl sends them.
#[tokio::test]
async fn the_seed_examples_through_batch_as_the_readme_shows() {
    let portal = Portal::start().await;
    let commands = [
        ("handler", "sale.paysystem.handler.add?NAME=Handler.Rest%20IFrame&CODE=resthandleriframe&SORT=100&SETTINGS[CURRENCY][]=USD&SETTINGS[CLIENT_TYPE]=b2c&SETTINGS[IFRAME_DATA][ACTION_URI]=http://example.com/payment_iframe.php&SETTINGS[IFRAME_DATA][FIELDS][serviceKey][CODE]=REST_SERVICE_KEY_IFRAME&SETTINGS[IFRAME_DATA][FIELDS][serviceid][CODE]=REST_SERVICE_ID_IFRAME&SETTINGS[CODES][REST_SERVICE_ID_IFRAME][NAME]=Store%20number&SETTINGS[CODES][REST_SERVICE_ID_IFRAME][DESCRIPTION]=Store%20number&SETTINGS[CODES][REST_SERVICE_ID_IFRAME][SORT]=100&SETTINGS[CODES][REST_SERVICE_KEY_IFRAME][NAME]=Secret%20key&SETTINGS[CODES][REST_SERVICE_KEY_IFRAME][DESCRIPTION]=Secret%20key&SETTINGS[CODES][REST_SERVICE_KEY_IFRAME][SORT]=300&SETTINGS[CODES][PS_WORK_MODE_IFRAME][NAME]=Payment%20system%20operating%20mode&SETTINGS[CODES][PS_WORK_MODE_IFRAME][SORT]=1100&SETTINGS[CODES][PS_WORK_MODE_IFRAME][INPUT][TYPE]=ENUM&SETTINGS[CODES][PS_WORK_MODE_IFRAME][INPUT][OPTIONS][TEST]=Test&SETTINGS[CODES][PS_WORK_MODE_IFRAME][INPUT][OPTIONS][REGULAR]=Live"),
        ("ps", "sale.paysystem.add?NAME=Card%20Payment&DESCRIPTION=Easily%20pay%20for%20purchases%20with%20a%20card.&XML_ID=my_ps_id&PERSON_TYPE_ID=1&BX_REST_HANDLER=resthandleriframe&ACTIVE=Y&ENTITY_REGISTRY_TYPE=ORDER&LOGOTYPE=/*%20base64%20image%20*/&NEW_WINDOW=N&SETTINGS[REST_SERVICE_ID_IFRAME][TYPE]=VALUE&SETTINGS[REST_SERVICE_ID_IFRAME][VALUE]=snum&SETTINGS[REST_SERVICE_KEY_IFRAME][TYPE]=VALUE&SETTINGS[REST_SERVICE_KEY_IFRAME][VALUE]=skey"),
        ("invoice_ps", "sale.paysystem.add?NAME=Invoice%20card&PERSON_TYPE_ID=3&BX_REST_HANDLER=resthandleriframe&ENTITY_REGISTRY_TYPE=CRM_INVOICE&ACTIVE=Y"),
        ("settings", "sale.paysystem.settings.update?ID=$result[ps]&PERSON_TYPE_ID=1&SETTINGS[REST_SERVICE_KEY_IFRAME][TYPE]=VALUE&SETTINGS[REST_SERVICE_KEY_IFRAME][VALUE]=NEW_KEY"),
    ];
    // `curl --data-urlencode 'cmd[key]=…'` encodes the value, not the name.
    let mut form = String::from("halt=1");
    for (key, text) in commands {
        form.push_str(&format!("&cmd[{key}]={}", urlencode(text)));
    }
    let reply = portal.call_form("batch", &form).await;
    assert_eq!(
        reply.result()["result"],
        json!({"handler": 1, "ps": 1, "invoice_ps": 2, "settings": true})
    );
    assert_eq!(reply.result()["result_error"], json!([]));
    let handlers = portal.call("sale.paysystem.handler.list", json!({})).await;
    let handler = &handlers.result()[0];
    assert_eq!(handler["NAME"], json!("Handler.Rest IFrame"));
    assert_eq!(
        handler["SETTINGS"]["CODES"]["PS_WORK_MODE_IFRAME"]["INPUT"]["OPTIONS"],
        json!({"TEST": "Test", "REGULAR": "Live"})
    );
    assert_eq!(
        handler["SETTINGS"]["IFRAME_DATA"]["ACTION_URI"],
        json!("http://example.com/payment_iframe.php")
    );

    portal.sandbox.set_payment_pay_system(1, 1).unwrap();
    let reply = portal
        .post_json(
            &portal.webhook("batch"),
            r#"{"halt":0,"cmd":{
  "before":"sale.paysystem.settings.payment.get?PAYMENT_ID=1&PAY_SYSTEM_ID=1",
  "pay":"sale.paysystem.pay.payment?PAYMENT_ID=1&PAY_SYSTEM_ID=1",
  "invoice":"sale.paysystem.pay.invoice?INVOICE_ID=2&PAY_SYSTEM_ID=2",
  "list":"sale.paysystem.list?select[]=ID&select[]=NAME&filter[ENTITY_REGISTRY_TYPE]=ORDER"}}"#,
        )
        .await;
    assert_eq!(
        reply.result()["result"],
        json!({
            "before": {"PS_WORK_MODE_IFRAME": null, "REST_SERVICE_ID_IFRAME": "snum", "REST_SERVICE_KEY_IFRAME": "NEW_KEY"},
            "pay": true,
            "invoice": true,
            "list": [{"ID": "1", "NAME": "Card Payment"}],
        })
    );
    assert!(portal.sandbox.payment(1).unwrap().paid);
    assert!(portal.sandbox.payment(2).unwrap().paid);
    let reply = portal
        .get(&format!(
            "{}?halt=0&cmd[a]=sale.paysystem.handler.list&cmd[b]=batch",
            portal.webhook("batch")
        ))
        .await;
    assert_eq!(
        reply.result()["result_error"]["b"]["error"],
        json!("ERROR_BATCH_METHOD_NOT_ALLOWED")
    );
    portal.sandbox.shutdown().await;
}
