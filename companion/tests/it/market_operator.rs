//! `b24pay portals list|forget`: the listing names every installed portal and no secret; a
//! forgotten portal's payments are refused at once by the running companion while the other
//! portal pays; installing the app again from the portal brings it back under the same URL.

use super::market_harness::{start, wait_paid};
use b24pay_companion::operator::{forget_portal, list_portals};
use b24pay_sandbox::NewPayment;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_lists_and_forgets_portals() {
    let m = start().await;
    let (north, south) = (m.platform.portal(0), m.platform.portal(1));
    assert!(list_portals(&m.store)
        .await
        .unwrap()
        .contains("no portal has installed the app"));
    let ((a, b), (nps, sps)) = m.install_both().await;
    let listing = list_portals(&m.store).await.unwrap();
    for row in [&a, &b] {
        assert!(listing.contains(&row.public_id), "{listing}");
        assert!(listing.contains(&row.origin), "{listing}");
        let sealed = row.tokens.as_deref().unwrap();
        assert!(!listing.contains(sealed), "no tokens in {listing}");
        let hash = row.app_token_hash.as_deref().unwrap();
        assert!(!listing.contains(hash), "no token hash in {listing}");
    }
    assert_eq!(
        listing.matches("tokens held (sealed)").count(),
        2,
        "{listing}"
    );

    let said = forget_portal(&m.store, &a.public_id).await.unwrap();
    assert!(said.contains("forgotten"), "{said}");
    assert!(
        forget_portal(&m.store, &a.public_id).await.is_err(),
        "only once"
    );
    assert!(forget_portal(&m.store, "no-such-member").await.is_err());
    let listing = list_portals(&m.store).await.unwrap();
    assert!(listing.contains("uninstalled"), "{listing}");

    let order = |portal: &b24pay_sandbox::SandboxHandle, ps| {
        portal
            .create_payment(NewPayment::order("5", "USD").with_pay_system(ps))
            .unwrap()
            .payment_id
    };
    let refused = order(north, nps);
    let (status, body) = m.pay(&a.public_id, refused, nps, "5").await;
    assert_eq!(status, 404, "a forgotten portal's payment: {body}");
    assert!(!north.payment(refused).unwrap().paid);
    let paid = order(south, sps);
    assert_eq!(m.pay(&b.public_id, paid, sps, "5").await.0, 200);
    wait_paid(south, paid).await;

    // The portal installs the app again: same URL, paying again.
    north.install_app().await.unwrap();
    assert_eq!(m.row(north).await.public_id, a.public_id);
    let again = order(north, nps);
    let (status, body) = m.pay(&a.public_id, again, nps, "5").await;
    assert_eq!(status, 200, "{body}");
    wait_paid(north, again).await;
}
