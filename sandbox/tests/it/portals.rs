//! Several portals in one sandbox, a Market application installed and uninstalled the way the
//! platform does it (the `ONAPPINSTALL` event, the install page with `BX24.installFinish()`,
//! `ONAPPUNINSTALL` with and without `CLEAN`), the shared OAuth server whose refresh tokens
//! rotate, and a portal that moved to another address.

use crate::common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::post;
use axum::{Form, Router};
use b24pay_sandbox::{App, NewPayment, Platform, PlatformHandle, Sandbox, SandboxHandle};
use common::browser::Browser;
use serde_json::{json, Value};

type Fields = BTreeMap<String, String>;

/// What the app's server received.
#[derive(Clone, Default)]
struct Received {
    events: Arc<Mutex<Vec<Fields>>>,
    /// The install page's query string and POSTed fields.
    install_pages: Arc<Mutex<Vec<(String, Fields)>>>,
    records: Arc<Mutex<Vec<Value>>>,
}

/// The app's install page: the BX24 library from the portal, then `installFinish()`.
fn install_page(bx24: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{bx24}"></script></head><body>
<p>b24pay install page</p>
<script>
BX24.init(function () {{
  fetch("/record", {{method: "POST", body: JSON.stringify({{auth: BX24.getAuth(), domain: BX24.getDomain(), placement: BX24.placement.info()}})}})
    .then(function () {{ BX24.installFinish(); }});
}});
</script></body></html>"#
    )
}

/// The app on `localhost` (another origin than the portals on 127.0.0.1).
async fn app_server(bx24: Arc<Mutex<String>>) -> (String, Received) {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = Router::new()
        .route(
            "/handler",
            post(
                |State(r): State<Received>, Form(form): Form<BTreeMap<String, String>>| async move {
                    r.events.lock().unwrap().push(form);
                    "ok"
                },
            ),
        )
        .route(
            "/install",
            post(
                move |State(r): State<Received>,
                      RawQuery(query): RawQuery,
                      Form(form): Form<BTreeMap<String, String>>| async move {
                    r.install_pages
                        .lock()
                        .unwrap()
                        .push((query.unwrap_or_default(), form));
                    Html(install_page(&bx24.lock().unwrap()))
                },
            ),
        )
        .route(
            "/record",
            post(|State(r): State<Received>, body: String| async move {
                r.records
                    .lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap());
            }),
        )
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://localhost:{port}"), received)
}

fn app(base: &str) -> App {
    App::new(
        "app.b24pay.test",
        "appsecret0123456789",
        format!("{base}/handler"),
    )
    .with_install_url(format!("{base}/install"))
}

async fn two_portals(app: App) -> PlatformHandle {
    Platform::builder()
        .portal(Sandbox::builder().store_name("North Shop"))
        .portal(Sandbox::builder().store_name("South Shop"))
        .app(app)
        .start()
        .await
        .unwrap()
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn rest(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

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
