//! The admin reinstalling the app over an installed portal (no uninstall between): the portal
//! hands over fresh tokens with the installation's own `application_token`, the companion
//! takes them (same widget URL, nothing duplicated), pays on with them, and the uninstall
//! that follows is verified against that token.

use super::market_harness::{add_pay_system, start, wait_paid};
use b24pay_sandbox::NewPayment;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinstall_over_an_installed_portal_takes_its_fresh_tokens() {
    let m = start().await;
    let north = m.platform.portal(0);
    let first = north.install_app().await.unwrap();
    assert_eq!(first.event.status, Some(200));
    let ps = add_pay_system(&m, north).await;
    let before = m.row(north).await;

    let again = north.install_app().await.unwrap();
    assert_eq!(again.event.status, Some(200), "{:?}", again.event);
    assert_eq!(again.application_token, first.application_token);
    let after = m.row(north).await;
    assert_eq!(after.public_id, before.public_id, "the same widget URL");
    assert_ne!(after.tokens, before.tokens, "the fresh tokens are kept");
    assert_eq!(add_pay_system(&m, north).await, ps, "nothing duplicated");

    // The old tokens expire; the new ones pay.
    north.expire_access_tokens();
    let id = north
        .create_payment(NewPayment::order("9", "USD").with_pay_system(ps))
        .unwrap()
        .payment_id;
    let (status, body) = m.pay(&after.public_id, id, ps, "9").await;
    assert_eq!(status, 200, "{body}");
    wait_paid(north, id).await;

    assert_eq!(north.uninstall_app(false).await.unwrap().status, Some(200));
    assert!(!m.row(north).await.is_installed());
    m.server.stop().await;
}
