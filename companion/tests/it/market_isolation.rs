//! One portal's trouble stays its own: while north's `pay.payment` hangs (its outbox call held
//! until the client's timeout), is rate limited, or north uninstalls the app, south's customers
//! pay and south's payments are marked paid. The times are printed, not asserted (a loaded
//! machine); what is asserted is that south's payments are all confirmed and paid while north
//! is in trouble.

use super::market_harness::{start, wait_paid};
use b24pay_sandbox::{Fault, NewPayment};
use std::time::{Duration, Instant};

const PAY: &str = "sale.paysystem.pay.payment";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_in_trouble_does_not_hold_the_others_payments_or_outbox() {
    let m = start().await;
    let (north, south) = (m.platform.portal(0), m.platform.portal(1));
    let ((a, b), (nps, sps)) = m.install_both().await;
    let (m, b) = (&m, &b);
    let pay_south = |n: u32| async move {
        let id = south
            .create_payment(NewPayment::order("2", "USD").with_pay_system(sps))
            .unwrap()
            .payment_id;
        let started = Instant::now();
        let (status, body) = m.pay(&b.public_id, id, sps, "2").await;
        assert_eq!(status, 200, "south payment {n}: {body}");
        wait_paid(south, id).await;
        started.elapsed()
    };
    println!("south, north fine: paid in {:?}", pay_south(0).await);

    // North's pay.payment hangs: its outbox call is held until the client gives up.
    north.inject_for(Fault::Hang(Duration::from_secs(30)), 1000, [PAY]);
    let stuck = north
        .create_payment(NewPayment::order("3", "USD").with_pay_system(nps))
        .unwrap()
        .payment_id;
    assert_eq!(m.pay(&a.public_id, stuck, nps, "3").await.0, 200);
    for n in 1..=3 {
        println!("south, north hanging: paid in {:?}", pay_south(n).await);
    }
    assert!(!north.payment(stuck).unwrap().paid);

    // North is rate limited on everything.
    north.clear_faults();
    north.inject(Fault::QueryLimitExceeded, 1000);
    for n in 4..=5 {
        println!(
            "south, north rate limited: paid in {:?}",
            pay_south(n).await
        );
    }

    // North uninstalls: its customers are refused, south goes on.
    north.clear_faults();
    north.uninstall_app(false).await.unwrap();
    let refused = north
        .create_payment(NewPayment::order("4", "USD").with_pay_system(nps))
        .unwrap()
        .payment_id;
    let (status, body) = m.pay(&a.public_id, refused, nps, "4").await;
    assert_eq!(status, 404, "{body}");
    println!("south, north uninstalled: paid in {:?}", pay_south(6).await);
}
