//! The install page before any `application_token` is known (a real portal opens it with
//! `AUTH_ID`, `REFRESH_ID`, `member_id`, `PLACEMENT=DEFAULT`; the `ONAPPINSTALL` event may come
//! later): the page installs the portal, which pays; the event then fills in the token's hash;
//! forged page calls (made-up tokens, another portal's tokens, or the portal's own fresh tokens
//! once installed) never replace the stored tokens; an uninstall with a wrong token changes
//! nothing, with the right one the portal is forgotten.

use super::market_harness::{add_pay_system, start, wait_paid, Market2};
use b24pay_sandbox::{NewPayment, SandboxHandle};

/// What the portal's install page POSTs into its iframe.
async fn open_page(m: &Market2, member_id: &str, access: &str, refresh: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}app/install?DOMAIN=x&PROTOCOL=0&LANG=en&APP_SID=s",
            m.url
        ))
        .form(&[
            ("AUTH_ID", access),
            ("REFRESH_ID", refresh),
            ("member_id", member_id),
            ("PLACEMENT", "DEFAULT"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Forged page calls for `portal`: made-up tokens, and `other`'s real tokens under its id.
async fn forged_pages_refused(m: &Market2, portal: &SandboxHandle, other: &SandboxHandle) {
    let member = portal.member_id();
    let (status, body) = open_page(m, &member, "forged-access", "forged-refresh").await;
    assert_eq!(status, 403, "made-up tokens: {body}");
    let stolen = other.issue_oauth_tokens();
    let (status, body) = open_page(m, &member, &stolen.access_token, &stolen.refresh_token).await;
    assert_eq!(status, 403, "another portal's tokens: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_page_first_then_the_event_and_forgeries_change_nothing() {
    let m = start().await;
    let (north, south) = (m.platform.portal(0), m.platform.portal(1));
    let member = north.member_id();

    // The page first: installed and set up, no application_token known yet.
    let tokens = north.issue_oauth_tokens();
    let (status, body) = open_page(&m, &member, &tokens.access_token, &tokens.refresh_token).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("installFinish"), "{body}");
    let paged = m.row(north).await;
    assert!(paged.is_installed());
    assert_eq!(paged.app_token_hash, None);
    assert_eq!(paged.origin, north.base_url());
    let ps = add_pay_system(&m, north).await;
    let order = |sum: &'static str| {
        north
            .create_payment(NewPayment::order(sum, "USD").with_pay_system(ps))
            .unwrap()
            .payment_id
    };
    let p1 = order("3");
    let (status, body) = m.pay(&paged.public_id, p1, ps, "3").await;
    assert_eq!(status, 200, "a page-installed portal pays: {body}");
    wait_paid(north, p1).await;

    // Before the event, forged pages change nothing, and no uninstall can match a token.
    forged_pages_refused(&m, north, south).await;
    assert_eq!(m.row(north).await.tokens, paged.tokens, "tokens untouched");
    let guess = [
        ("event", "ONAPPUNINSTALL"),
        ("auth[member_id]", member.as_str()),
        ("auth[application_token]", "guessed"),
    ];
    assert_eq!(m.post_event(&guess).await, 403);
    assert!(m.row(north).await.is_installed());

    // The event comes: it fills in the token's hash and keeps the portal's URL.
    let installed = north.install_app().await.unwrap();
    assert_eq!(installed.event.status, Some(200), "{:?}", installed.event);
    let evented = m.row(north).await;
    assert!(evented.app_token_hash.is_some(), "the hash is filled in");
    assert_eq!(evented.public_id, paged.public_id);

    // Once the token is known, even the portal's own fresh tokens on the page replace nothing
    // (the page answers "installed"); forged ones are refused as before.
    let fresh = north.issue_oauth_tokens();
    let (status, body) = open_page(&m, &member, &fresh.access_token, &fresh.refresh_token).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("p/{}/", paged.public_id)), "{body}");
    forged_pages_refused(&m, north, south).await;
    let after = m.row(north).await;
    assert_eq!(after.tokens, evented.tokens, "tokens untouched");
    assert_eq!(after.app_token_hash, evented.app_token_hash);
    let p2 = order("4");
    assert_eq!(m.pay(&paged.public_id, p2, ps, "4").await.0, 200);
    wait_paid(north, p2).await;

    // Uninstall: a wrong token changes nothing, the right one forgets the portal.
    assert_eq!(m.post_event(&guess).await, 403);
    assert!(m.row(north).await.is_installed());
    assert_eq!(north.uninstall_app(false).await.unwrap().status, Some(200));
    let gone = m.row(north).await;
    assert!(!gone.is_installed() && gone.tokens.is_none());
    let p3 = order("5");
    let (status, body) = m.pay(&paged.public_id, p3, ps, "5").await;
    assert_eq!(status, 404, "an uninstalled portal's payment: {body}");
    m.server.stop().await;
}
