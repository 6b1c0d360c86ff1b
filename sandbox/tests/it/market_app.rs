//! A Market application installed and uninstalled the way the platform does it (the
//! `ONAPPINSTALL` event, the install page with `BX24.installFinish()`, `ONAPPUNINSTALL` with and
//! without `CLEAN`), and the shared OAuth server whose refresh tokens rotate.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use b24pay_sandbox::Sandbox;
use common::app_server::{app, app_server, get_json, rest, two_portals};
use common::browser::Browser;
use serde_json::json;
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn the_install_event_carries_fresh_tokens_that_the_shared_server_rotates() {
    let (base, received) = app_server(Arc::default()).await;
    let platform = two_portals(app(&base)).await;
    let mut installs = Vec::new();
    for portal in platform.portals() {
        let installed = portal.install_app().await.unwrap();
        assert_eq!(installed.event.status, Some(200));
        installs.push(installed);
    }
    let events = received.events.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    let keys: Vec<&str> = events[0].keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "auth[access_token]",
            "auth[application_token]",
            "auth[client_endpoint]",
            "auth[domain]",
            "auth[expires_in]",
            "auth[member_id]",
            "auth[refresh_token]",
            "auth[scope]",
            "auth[server_endpoint]",
            "auth[status]",
            "data[LANGUAGE_ID]",
            "data[VERSION]",
            "event",
            "ts",
        ]
    );
    for (event, (portal, installed)) in events.iter().zip(platform.portals().iter().zip(&installs))
    {
        assert_eq!(event["event"], "ONAPPINSTALL");
        assert_eq!(event["auth[member_id]"], portal.member_id());
        assert_eq!(event["auth[client_endpoint]"], portal.rest_url());
        assert_eq!(event["auth[domain]"], portal.local_addr().to_string());
        assert_eq!(
            event["auth[server_endpoint]"],
            format!("{}/oauth/rest/", platform.oauth_url())
        );
        assert_eq!(
            event["auth[application_token]"],
            installed.application_token
        );
        assert_eq!(event["auth[access_token]"], installed.tokens.access_token);
        assert_eq!(event["auth[scope]"], "pay_system");
        assert_eq!(event["data[VERSION]"], "1");
    }
    assert_ne!(installs[0].tokens, installs[1].tokens);
    // The tokens work at their own portal only.
    let (north, south) = (platform.portal(0), platform.portal(1));
    let token = &installs[0].tokens.access_token;
    let (status, _) = rest(
        &format!("{}sale.paysystem.list", north.rest_url()),
        json!({"auth": token}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = rest(
        &format!("{}sale.paysystem.list", south.rest_url()),
        json!({"auth": token}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("NO_AUTH_FOUND"))
    );
    // The shared token endpoint refreshes either portal's tokens, once each.
    for (portal, installed) in platform.portals().iter().zip(&installs) {
        let url = format!(
            "{}?grant_type=refresh_token&client_id=app.b24pay.test&client_secret=appsecret0123456789&refresh_token={}",
            platform.oauth_token_endpoint(),
            installed.tokens.refresh_token
        );
        let (status, reply) = get_json(&url).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["member_id"], json!(portal.member_id()));
        assert_eq!(reply["client_endpoint"], json!(portal.rest_url()));
        assert_ne!(
            reply["refresh_token"],
            json!(installed.tokens.refresh_token),
            "rotated"
        );
        let (status, reused) = get_json(&url).await;
        assert_eq!(
            (status, reused["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        assert_eq!(portal.refresh_count(), 1);
    }
    let (status, _) = get_json(&format!(
        "{}?grant_type=refresh_token&client_id=app.b24pay.test&client_secret=appsecret0123456789&refresh_token=nope",
        platform.oauth_token_endpoint()
    ))
    .await;
    assert_eq!(status, 400);
    platform.shutdown().await;
}

#[tokio::test]
async fn uninstall_with_and_without_clean_revokes_and_reinstall_is_fresh() {
    let (base, received) = app_server(Arc::default()).await;
    let portal = Sandbox::builder().app(app(&base)).start().await.unwrap();
    let first = portal.install_app().await.unwrap();
    let event = portal.uninstall_app(false).await.unwrap();
    assert_eq!(
        (event.event.as_str(), event.status),
        ("ONAPPUNINSTALL", Some(200))
    );
    let sent = received.events.lock().unwrap()[1].clone();
    assert_eq!(
        sent.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "auth[application_token]",
            "auth[member_id]",
            "data[CLEAN]",
            "event",
            "ts"
        ],
        "no tokens"
    );
    assert_eq!(sent["data[CLEAN]"], "0");
    assert_eq!(sent["auth[application_token]"], first.application_token);
    assert_eq!(sent["auth[member_id]"], portal.member_id());
    // Every token stopped working.
    let (status, _) = rest(
        &format!("{}sale.paysystem.list", portal.rest_url()),
        json!({"auth": first.tokens.access_token}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = get_json(&format!(
        "{}?grant_type=refresh_token&client_id=app.b24pay.test&client_secret=appsecret0123456789&refresh_token={}",
        portal.oauth_token_endpoint(),
        first.tokens.refresh_token
    ))
    .await;
    assert_eq!(status, 400);
    assert!(portal.app_status().unwrap().installation.is_none());
    assert!(portal.uninstall_app(true).await.is_err(), "not installed");

    // Reinstall: a new application_token; uninstall with CLEAN over the control API.
    let (_, reinstalled) = rest(
        &format!("{}/sandbox/api/app/install", portal.base_url()),
        json!({}),
    )
    .await;
    assert_ne!(
        reinstalled["application_token"],
        json!(first.application_token)
    );
    let (status, event) = rest(
        &format!("{}/sandbox/api/app/uninstall", portal.base_url()),
        json!({"clean": true}),
    )
    .await;
    assert_eq!(
        (status, event["event"].as_str()),
        (200, Some("ONAPPUNINSTALL"))
    );
    let last = received.events.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last["data[CLEAN]"], "1");
    assert_eq!(
        last["auth[application_token]"],
        reinstalled["application_token"].as_str().unwrap()
    );
    let (_, status) = get_json(&format!("{}/sandbox/api/app", portal.base_url())).await;
    assert_eq!(status["events"].as_array().unwrap().len(), 4);
    // The admin page's buttons do the same.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirect
        .post(format!("{}/admin/app/install", portal.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert!(portal.app_status().unwrap().installation.unwrap().finished);
    let response = no_redirect
        .post(format!("{}/admin/app/uninstall", portal.base_url()))
        .form(&[("clean", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        received.events.lock().unwrap().last().unwrap()["data[CLEAN]"],
        "1"
    );
    portal.shutdown().await;

    // Without an app configured the actions say so.
    let plain = Sandbox::builder().start().await.unwrap();
    assert!(plain.install_app().await.is_err());
    let (status, body) = get_json(&format!("{}/sandbox/api/app", plain.base_url())).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("NO_APP")));
    plain.shutdown().await;
}

#[tokio::test]
async fn the_install_page_completes_with_install_finish_in_a_browser() {
    let bx24 = Arc::new(Mutex::new(String::new()));
    let (base, received) = app_server(bx24.clone()).await;
    let portal = Sandbox::builder().app(app(&base)).start().await.unwrap();
    *bx24.lock().unwrap() = portal.bx24_script_url();
    let browser = Browser::start().await;
    browser.open(&portal.app_install_page_url()).await;
    let mut finished = false;
    for _ in 0..100 {
        if portal
            .app_status()
            .unwrap()
            .installation
            .is_some_and(|i| i.finished)
        {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = browser
        .eval("return document.getElementById('install-status').textContent;")
        .await;
    browser.quit().await;
    assert!(finished, "installFinish completed the install");
    assert_eq!(status, json!("Installed"));

    let (query, form) = received.install_pages.lock().unwrap()[0].clone();
    let query: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(query["DOMAIN"], portal.local_addr().to_string());
    assert_eq!(query["PROTOCOL"], "0");
    assert_eq!(query["LANG"], "en");
    assert!(!query["APP_SID"].is_empty());
    assert_eq!(form["PLACEMENT"], "DEFAULT");
    assert_eq!(form["member_id"], portal.member_id());
    assert_eq!(form["AUTH_EXPIRES"], "3600");
    // AUTH_ID is a working access token; BX24.getAuth() gives the same.
    let (status, _) = rest(
        &format!("{}sale.paysystem.list", portal.rest_url()),
        json!({"auth": form["AUTH_ID"]}),
    )
    .await;
    assert_eq!(status, 200);
    let record = received.records.lock().unwrap()[0].clone();
    assert_eq!(record["auth"]["access_token"], json!(form["AUTH_ID"]));
    assert_eq!(record["auth"]["refresh_token"], json!(form["REFRESH_ID"]));
    assert_eq!(record["auth"]["member_id"], json!(portal.member_id()));
    assert_eq!(record["placement"]["placement"], json!("DEFAULT"));
    // A forged finish with another APP_SID is refused.
    let forged = reqwest::Client::new()
        .post(format!("{}/admin/app/finish", portal.base_url()))
        .form(&[("sid", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    portal.shutdown().await;
}
