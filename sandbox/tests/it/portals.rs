//! Several portals in one sandbox, each with its own origin, identity and data; an app whose
//! handler cannot be reached; and a portal that moved to another address. Installing and
//! uninstalling a Market app is in `market_app.rs`.

use crate::common;

use b24pay_sandbox::{App, NewPayment, Platform, PlatformHandle, Sandbox, SandboxHandle};
use common::app_server::{app, app_server, get_json, rest, two_portals, Received};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn portals_have_their_own_origin_identity_and_data() {
    let (base, _) = app_server(Arc::default()).await;
    let platform = two_portals(app(&base)).await;
    let (north, south) = (platform.portal(0), platform.portal(1));
    assert_ne!(north.base_url(), south.base_url());
    assert_ne!(north.member_id(), south.member_id());
    assert_eq!(
        platform
            .portal_by_member_id(&south.member_id())
            .unwrap()
            .base_url(),
        south.base_url()
    );
    // Data is the portal's own: a payment paid on one is not on the other.
    let created = north
        .create_payment(NewPayment::order("10.00", "EUR"))
        .unwrap();
    assert!(created.pay_url.starts_with(&north.base_url()));
    assert!(south.payment(created.payment_id).is_none());
    // Each has its webhook, store page and admin page.
    for (portal, store) in [(north, "North Shop"), (south, "South Shop")] {
        let (status, list) = rest(
            &format!("{}sale.paysystem.list", portal.webhook_url()),
            json!({}),
        )
        .await;
        assert_eq!((status, &list["result"]), (200, &json!([])));
        let page = reqwest::get(portal.pay_page_url(1))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(store), "{store}");
        let admin = reqwest::get(portal.admin_url())
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(admin.contains(&portal.member_id()));
        let (_, info) = get_json(&format!("{}/sandbox/api", portal.base_url())).await;
        assert_eq!(info["member_id"], json!(portal.member_id()));
    }
    platform.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_handler_is_recorded_not_fatal() {
    let portal = Sandbox::builder()
        .app(App::new(
            "app.b24pay.test",
            "s",
            "http://127.0.0.1:9/handler",
        ))
        .start()
        .await
        .unwrap();
    let installed = portal.install_app().await.unwrap();
    assert_eq!(installed.event.status, None);
    assert!(installed.event.error.is_some());
    // The portal installed the app all the same (the event is lost, as it can be).
    assert!(portal.app_status().unwrap().installation.is_some());
    portal.shutdown().await;
}

async fn moved_portal() -> (PlatformHandle, String, String, App, Received) {
    let (base, received) = app_server(Arc::default()).await;
    let app = app(&base);
    let platform = Platform::builder()
        .portal(Sandbox::builder())
        .app(app.clone())
        .start()
        .await
        .unwrap();
    let old = platform.portal(0).base_url();
    (platform, old, base, app, received)
}

#[tokio::test]
async fn a_moved_portal_redirects_and_refreshed_tokens_name_the_new_address() {
    let (platform, old, _, app, _) = moved_portal().await;
    let portal: &SandboxHandle = platform.portal(0);
    let installed = portal.install_app().await.unwrap();
    let old_webhook = portal.webhook_url();
    let new = portal.move_to("127.0.0.1:0").await.unwrap();
    assert_ne!(new, old);
    assert_eq!(portal.base_url(), new);
    assert!(portal.webhook_url().starts_with(&new));
    // The old address answers REST calls (and pages) with a redirect to the new one.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirect
        .post(format!("{old_webhook}sale.paysystem.list"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 301);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        format!("{}sale.paysystem.list", portal.webhook_url())
    );
    let page = no_redirect
        .get(format!("{old}/pay/1?theme=dark"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers()["location"].to_str().unwrap(),
        format!("{new}/pay/1?theme=dark")
    );
    // A refresh names the new endpoint; the new address serves the calls.
    let (status, reply) = get_json(&format!(
        "{}?grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
        platform.oauth_token_endpoint(),
        app.client_id,
        app.client_secret,
        installed.tokens.refresh_token
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(reply["client_endpoint"], json!(format!("{new}/rest/")));
    let (status, _) = rest(
        &format!(
            "{}sale.paysystem.list",
            reply["client_endpoint"].as_str().unwrap()
        ),
        json!({"auth": reply["access_token"]}),
    )
    .await;
    assert_eq!(status, 200);
    // The control API answers at both; it can move the portal too.
    let (status, _) = get_json(&format!("{old}/sandbox/api/payments/1")).await;
    assert_eq!(status, 200);
    let (status, moved) = rest(
        &format!("{new}/sandbox/api/move"),
        json!({"listen": "127.0.0.1:0"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(moved["base_url"], json!(portal.base_url()));
    platform.shutdown().await;
}
