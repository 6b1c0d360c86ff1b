//! An app's tokens call only the methods of the scopes the portal granted it
//! (`insufficient_scope` otherwise, alone or inside a `batch`), and the person-type lists a
//! `sale` (or `crm`) app may read.

use b24pay_sandbox::{App, Platform, PlatformHandle, Sandbox};
use serde_json::{json, Value};

/// One portal whose app (its events go nowhere: only the tokens matter) has `scope`; the
/// portal and an access token of the installed app.
async fn installed(scope: &str) -> (PlatformHandle, String) {
    let platform = Platform::builder()
        .portal(Sandbox::builder())
        .app(App::new("app.scopes", "secret", "http://127.0.0.1:9/events").with_scope(scope))
        .start()
        .await
        .unwrap();
    let token = platform
        .portal(0)
        .install_app()
        .await
        .unwrap()
        .tokens
        .access_token;
    (platform, token)
}

async fn call(platform: &PlatformHandle, token: &str, method: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/rest/{method}?auth={token}",
            platform.portal(0).base_url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_pay_system_app_cannot_list_person_types() {
    let (platform, token) = installed("pay_system").await;
    let (status, body) = call(&platform, &token, "sale.persontype.list", json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope")),
        "{body}"
    );
    let (status, body) = call(&platform, &token, "sale.paysystem.handler.list", json!({})).await;
    assert_eq!(status, 200, "its own scope works: {body}");
    // Inside a batch, per command.
    let cmd = json!({"cmd": {"types": "sale.persontype.list", "handlers": "sale.paysystem.handler.list"}});
    let (status, body) = call(&platform, &token, "batch", cmd).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"]["result_error"]["types"]["error"], "insufficient_scope",
        "{body}"
    );
    assert!(body["result"]["result"]["handlers"].is_array(), "{body}");
    // The webhook has every scope.
    let hook = reqwest::get(format!(
        "{}sale.persontype.list",
        platform.portal(0).webhook_url()
    ))
    .await
    .unwrap();
    assert_eq!(hook.status(), 200);
    platform.shutdown().await;
}

#[tokio::test]
async fn a_sale_app_lists_the_shops_person_types() {
    let (platform, token) = installed("pay_system,sale").await;
    let (status, body) = call(&platform, &token, "sale.persontype.list", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let types = body["result"]["personTypes"].as_array().unwrap();
    let ids: Vec<&str> = types.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2"], "the store's (ORDER) person types: {body}");
    assert_eq!(types[0]["name"], "Individual");
    let (status, body) = call(&platform, &token, "crm.persontype.list", json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope")),
        "{body}"
    );
    let crm = reqwest::get(format!(
        "{}crm.persontype.list",
        platform.portal(0).webhook_url()
    ))
    .await
    .unwrap()
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(
        crm["result"],
        json!([{"ID": "3", "NAME": "Contact"}, {"ID": "4", "NAME": "Company"}])
    );
    platform.shutdown().await;
}
