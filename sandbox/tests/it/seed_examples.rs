//! The seed pages' example requests, sent as published, answered in the documented shapes.
//! The only change ever made is the one a reader makes: the access-token placeholder of the
//! OAuth examples is replaced by a real token.

use crate::common;

use common::{repaired, seeds, Portal};
use serde_json::{json, Value};

const TOKEN_PLACEHOLDER: &str = "**put_access_token_here**";

async fn webhook(portal: &Portal, (method, body): (&str, &str)) -> common::Reply {
    portal.post_json(&portal.webhook(method), body).await
}

async fn oauth(portal: &Portal, (method, body): (&str, &str)) -> common::Reply {
    let token = portal.sandbox.issue_oauth_tokens().access_token;
    let body = body.replace(TOKEN_PLACEHOLDER, &token);
    portal.post_json(&portal.oauth(method), &body).await
}

/// A handler whose CODES are the ones the `sale.paysystem.add` example sets.
async fn add_resthandlercode(portal: &Portal) {
    let reply = portal
        .call(
            "sale.paysystem.handler.add",
            json!({
                "NAME": "Handler.Rest",
                "CODE": "resthandlercode",
                "SETTINGS": {
                    "IFRAME_DATA": {"ACTION_URI": "http://example.com/payment_iframe.php"},
                    "CODES": {
                        "REST_SERVICE_ID": {"NAME": "Store number"},
                        "REST_SERVICE_KEY": {"NAME": "Secret key"},
                        "PAYMENT_ID": {"NAME": "Payment number"},
                    },
                },
            }),
        )
        .await;
    reply.result();
}

#[tokio::test]
async fn paysystem_add_example() {
    let portal = Portal::start().await;
    add_resthandlercode(&portal).await;
    let first = webhook(&portal, seeds::PAYSYSTEM_ADD_WEBHOOK).await;
    assert_eq!(first.result(), &json!(1));
    let second = oauth(&portal, seeds::PAYSYSTEM_ADD_OAUTH).await;
    assert_eq!(second.result(), &json!(2));

    let list = portal
        .call("sale.paysystem.list", json!({"FILTER": {"ID": 1}}))
        .await;
    let row = &list.result()[0];
    assert_eq!(row["ID"], json!("1"));
    assert_eq!(row["NAME"], json!("Card Payment"));
    assert_eq!(
        row["DESCRIPTION"],
        json!("Easily pay for purchases with a card.")
    );
    assert_eq!(row["XML_ID"], json!("my_ps_id"));
    assert_eq!(row["PERSON_TYPE_ID"], json!("1"));
    assert_eq!(row["ACTION_FILE"], json!("resthandlercode"));
    assert_eq!(row["ACTIVE"], json!("Y"));
    assert_eq!(row["NEW_WINDOW"], json!("N"));
    assert_eq!(row["ENTITY_REGISTRY_TYPE"], json!("ORDER"));
    // "/* base64 image */" is not image data: nothing is saved.
    assert_eq!(row["LOGOTYPE"], Value::Null);

    let settings = portal
        .call(
            "sale.paysystem.settings.get",
            json!({"ID": 1, "PERSON_TYPE_ID": 1}),
        )
        .await;
    assert_eq!(
        settings.result(),
        &json!({
            "REST_SERVICE_ID": {"TYPE": "VALUE", "VALUE": "SERVICE ID VALUE"},
            "REST_SERVICE_KEY": {"TYPE": "VALUE", "VALUE": "KEY ID VALUE"},
            "PAYMENT_ID": {"TYPE": "PAYMENT", "VALUE": "ACCOUNT_NUMBER"},
        })
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn paysystem_add_documented_error() {
    let portal = Portal::start().await;
    let reply = portal
        .call(
            "sale.paysystem.add",
            json!({"PERSON_TYPE_ID": 1, "BX_REST_HANDLER": "x"}),
        )
        .await;
    assert_eq!(reply.error(400), "ERROR_CHECK_FAILURE");
    assert_eq!(reply.description(), "Parameter NAME is not defined");
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn pay_payment_example() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    assert_eq!(ps, 1, "the example names pay system 1");
    let reply = webhook(&portal, seeds::PAY_PAYMENT_WEBHOOK).await;
    assert_eq!(reply.result(), &json!(true));
    assert!(portal.sandbox.payment(1).unwrap().paid);
    // The OAuth example repeats the call: the portal answers true again.
    let again = oauth(&portal, seeds::PAY_PAYMENT_OAUTH).await;
    assert_eq!(again.result(), &json!(true));
    assert_eq!(portal.sandbox.pay_calls(1), 2);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn pay_payment_documented_error() {
    let portal = Portal::start().await;
    let reply = webhook(&portal, seeds::PAY_PAYMENT_WEBHOOK).await;
    assert_eq!(reply.error(400), "ERROR_CHECK_FAILURE");
    assert_eq!(reply.description(), "Pay system not found");
    portal.sandbox.shutdown().await;
}

/// The published handler bodies never close their top-level object, so no JSON parser takes
/// them as they are; the sandbox says where. With the brace restored (and, in the OAuth
/// variants, `auth` moved out of `SETTINGS` to where it was meant to be) they are accepted.
#[tokio::test]
async fn handler_add_examples() {
    let portal = Portal::start().await;
    let examples = [
        (
            seeds::HANDLER_ADD_FORM_WEBHOOK,
            seeds::HANDLER_ADD_FORM_OAUTH,
            "FORM_DATA",
            "resthandlerform",
        ),
        (
            seeds::HANDLER_ADD_CHECKOUT_WEBHOOK,
            seeds::HANDLER_ADD_CHECKOUT_OAUTH,
            "CHECKOUT_DATA",
            "resthandlercheckout",
        ),
        (
            seeds::HANDLER_ADD_IFRAME_WEBHOOK,
            seeds::HANDLER_ADD_IFRAME_OAUTH,
            "IFRAME_DATA",
            "resthandleriframe",
        ),
    ];
    for (i, (hook, oauth_example, mode, code)) in examples.into_iter().enumerate() {
        let as_published = webhook(&portal, hook).await;
        assert_eq!(as_published.error(400), "INVALID_REQUEST");
        assert!(
            as_published.description().contains("column"),
            "{as_published:?}"
        );

        let fixed = portal
            .post_json(&portal.webhook(hook.0), &repaired(hook.1))
            .await;
        assert_eq!(fixed.result(), &json!(i as u64 + 1));

        // The OAuth variant of the same handler: the code is taken now.
        let token = portal.sandbox.issue_oauth_tokens().access_token;
        let mut body: Value = serde_json::from_str(&repaired(oauth_example.1)).unwrap();
        body["SETTINGS"].as_object_mut().unwrap().remove("auth");
        body["auth"] = json!(token);
        let duplicate = portal
            .post_json(&portal.oauth(oauth_example.0), &body.to_string())
            .await;
        assert_eq!(duplicate.error(400), "ERROR_HANDLER_ALREADY_EXIST");
        assert_eq!(duplicate.description(), "Handler already exists!");

        let list = portal.call("sale.paysystem.handler.list", json!({})).await;
        let stored = &list.result()[i];
        assert_eq!(stored["CODE"], json!(code));
        assert_eq!(stored["SORT"], json!("100"));
        assert!(stored["SETTINGS"][mode]["ACTION_URI"].is_string());
        let sent: Value = serde_json::from_str(&repaired(hook.1)).unwrap();
        assert_eq!(stored["SETTINGS"], sent["SETTINGS"], "stored as sent");
    }
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn settings_update_example() {
    let portal = Portal::start().await;
    let iframe = portal
        .post_json(
            &portal.webhook("sale.paysystem.handler.add"),
            &repaired(seeds::HANDLER_ADD_IFRAME_WEBHOOK.1),
        )
        .await;
    iframe.result();
    // The example names pay system 11.
    for _ in 0..11 {
        portal
            .add_pay_system("resthandleriframe", "ORDER", 1, json!({}))
            .await;
    }
    let reply = webhook(&portal, seeds::SETTINGS_UPDATE_WEBHOOK).await;
    assert_eq!(reply.result(), &json!(true));
    let reply = oauth(&portal, seeds::SETTINGS_UPDATE_OAUTH).await;
    assert_eq!(reply.result(), &json!(true));
    let settings = portal
        .call(
            "sale.paysystem.settings.get",
            json!({"ID": 11, "PERSON_TYPE_ID": 1}),
        )
        .await;
    assert_eq!(
        settings.result()["REST_SERVICE_KEY_IFRAME"],
        json!({"TYPE": "VALUE", "VALUE": "NEW_KEY"})
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn pay_invoice_example() {
    let portal = Portal::start().await;
    portal
        .add_b24pay_handler("b24pay", "http://localhost:8080/")
        .await;
    // The example names invoice 2 (a legacy invoice of the initial world) and pay system 31.
    for _ in 0..30 {
        portal.add_pay_system("b24pay", "ORDER", 1, json!({})).await;
    }
    let ps = portal
        .add_pay_system("b24pay", "CRM_INVOICE", 3, json!({}))
        .await;
    assert_eq!(ps, 31);
    let reply = webhook(&portal, seeds::PAY_INVOICE_WEBHOOK).await;
    assert_eq!(reply.result(), &json!(true));
    let payment_id = portal.sandbox.invoice_payment_id(2).unwrap();
    let payment = portal.sandbox.payment(payment_id).unwrap();
    assert!(payment.paid);
    assert_eq!(payment.pay_calls, 1);
    let reply = oauth(&portal, seeds::PAY_INVOICE_OAUTH).await;
    assert_eq!(reply.result(), &json!(true));
    assert_eq!(portal.sandbox.pay_calls(payment_id), 2);
    portal.sandbox.shutdown().await;
}
