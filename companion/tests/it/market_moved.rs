//! A portal that moves to another domain keeps working: its old address answers REST calls
//! with a redirect (never followed: it would carry the token elsewhere), the client refreshes
//! the tokens, whose answer names the new `client_endpoint`; the call is made there, the
//! stored location follows (domain, origin, endpoint), and its widget page then admits the new
//! origin only.

use super::market_harness::{add_pay_system, start, wait_paid};
use b24pay_sandbox::NewPayment;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_portal_is_followed() {
    let m = start().await;
    let north = m.platform.portal(0);
    north.install_app().await.unwrap();
    let before = m.row(north).await;
    let ps = add_pay_system(&m, north).await;
    let order = || {
        north
            .create_payment(NewPayment::order("7", "USD").with_pay_system(ps))
            .unwrap()
            .payment_id
    };
    let first = order();
    assert_eq!(m.pay(&before.public_id, first, ps, "7").await.0, 200);
    wait_paid(north, first).await;

    let new_base = north.move_to("127.0.0.1:0").await.unwrap();
    assert_ne!(new_base, before.origin);
    let moved = order();
    let (status, body) = m.pay(&before.public_id, moved, ps, "7").await;
    assert_eq!(status, 200, "paying after the move: {body}");
    wait_paid(north, moved).await;

    let after = m.row(north).await;
    assert_eq!(after.public_id, before.public_id);
    assert_eq!(after.origin, new_base.trim_end_matches('/'));
    assert!(
        after.client_endpoint.starts_with(&new_base),
        "{}",
        after.client_endpoint
    );
    let page = reqwest::get(format!("{}p/{}/", m.url, after.public_id))
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("frame-ancestors {};", after.origin)),
        "{csp}"
    );
    assert!(!csp.contains(&before.origin), "{csp}");
}
