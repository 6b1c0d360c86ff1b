//! b24pay as a Market application on two sandbox portals: installed by the event and by the
//! install page, set up with each portal's own tokens, paying on each through its own URL; a
//! payment id of one portal refused through the other's; forged installs and uninstalls
//! changing nothing; an uninstalled portal refused while the other still pays; a reinstall
//! keeping the portal's URL and changing nothing on it.

use super::market_harness::{add_pay_system, our_pay_systems, start, start_at, wait_paid};
use crate::common::*;
use b24pay_sandbox::NewPayment;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_portals_install_pay_and_stay_apart() {
    let m = start().await;
    let (north, south) = (m.platform.portal(0), m.platform.portal(1));

    // North by the event.
    let event = north.install_app().await.unwrap().event;
    assert_eq!(event.status, Some(200), "{event:?}");
    let a = m.row(north).await;
    assert!(a.is_installed());
    assert_eq!(a.origin, north.base_url());
    assert!(!a.tokens.as_deref().unwrap().contains("access"), "sealed");
    let north_ps = [add_pay_system(&m, north).await];
    let handlers = webhook_client(north).handler_list().await.unwrap();
    let ours: Vec<_> = handlers.iter().filter(|h| h.code == "b24pay").collect();
    assert_eq!(ours.len(), 1);
    let action = ours[0]
        .settings
        .as_ref()
        .map(|s| format!("{s:?}"))
        .unwrap_or_default();
    assert!(action.contains(&format!("p/{}/", a.public_id)), "{action}");

    // South by the install page (what the portal page POSTs into its iframe).
    let tokens = south.issue_oauth_tokens();
    let page = reqwest::Client::new()
        .post(format!(
            "{}app/install?DOMAIN=x&PROTOCOL=0&LANG=en&APP_SID=s",
            m.url
        ))
        .form(&[
            ("AUTH_ID", tokens.access_token.as_str()),
            ("REFRESH_ID", tokens.refresh_token.as_str()),
            ("member_id", south.member_id().as_str()),
            ("PLACEMENT", "DEFAULT"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("frame-ancestors {}", south.base_url())),
        "{csp}"
    );
    assert!(page.text().await.unwrap().contains("installFinish"));
    let b = m.row(south).await;
    assert_ne!(a.public_id, b.public_id);
    let south_ps = [add_pay_system(&m, south).await];

    // Each portal's page admits its own origin only.
    let html = reqwest::get(format!("{}p/{}/", m.url, a.public_id))
        .await
        .unwrap();
    let csp = html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("frame-ancestors {}", north.base_url())),
        "{csp}"
    );
    assert!(!csp.contains(&south.base_url()), "{csp}");
    let body = html.text().await.unwrap();
    assert!(
        body.contains(&format!("content=\"{}\"", north.base_url())),
        "{body}"
    );
    assert!(
        body.contains(&format!("/p/{}/api/v1", a.public_id)),
        "{body}"
    );

    // The same payment number exists on both portals; each is paid through its own URL only.
    let pn = north
        .create_payment(NewPayment::order("11", "USD").with_pay_system(north_ps[0]))
        .unwrap()
        .payment_id;
    let ps = south
        .create_payment(NewPayment::order("22", "USD").with_pay_system(south_ps[0]))
        .unwrap()
        .payment_id;
    let (status, body) = m.pay(&a.public_id, ps, south_ps[0], "22").await;
    assert_eq!(status, 404, "south's payment through north's URL: {body}");
    assert_eq!(body["error"]["code"], "payment_unavailable", "{body}");
    assert!(!south.payment(ps).unwrap().paid);
    let (status, body) = m.pay(&a.public_id, pn, north_ps[0], "11").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "succeeded");
    // Someone else's attempt id is not found through this portal.
    let other = reqwest::get(format!(
        "{}p/{}/api/v1/payments/{}",
        m.url,
        b.public_id,
        body["id"].as_str().unwrap()
    ))
    .await
    .unwrap();
    assert_eq!(other.status(), 404);
    // Nor can it be resumed or answered there, or through the configured portal's API.
    let attempt = body["id"].as_str().unwrap().to_string();
    for (path, payload) in [
        (
            format!("p/{}/api/v1/payments/{attempt}/resume", b.public_id),
            json!({}),
        ),
        (
            format!("p/{}/api/v1/payments/{attempt}/challenge", b.public_id),
            json!({"code": "123"}),
        ),
        (format!("api/v1/payments/{attempt}/resume"), json!({})),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", m.url))
            .header("Idempotency-Key", key())
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let (status, body) = m.pay(&b.public_id, ps, south_ps[0], "22").await;
    assert_eq!(status, 200, "{body}");
    wait_paid(north, pn).await;
    wait_paid(south, ps).await;
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_events_change_nothing_and_uninstall_reinstall_work() {
    let m = start().await;
    let (north, south) = (m.platform.portal(0), m.platform.portal(1));
    let installed = north.install_app().await.unwrap();
    assert_eq!(installed.event.status, Some(200));
    assert_eq!(south.install_app().await.unwrap().event.status, Some(200));
    add_pay_system(&m, north).await;
    add_pay_system(&m, south).await;
    let before = m.row(north).await;
    let member = north.member_id();

    // A forged install for north: made-up tokens, then south's real tokens under north's id.
    let forged = [
        ("event", "ONAPPINSTALL"),
        ("auth[member_id]", member.as_str()),
        ("auth[access_token]", "forged-access"),
        ("auth[refresh_token]", "forged-refresh"),
        ("auth[application_token]", "forged-app-token"),
    ];
    assert_eq!(m.post_event(&forged).await, 403);
    let stolen = south.issue_oauth_tokens();
    let mut other = forged;
    other[2].1 = stolen.access_token.as_str();
    other[3].1 = stolen.refresh_token.as_str();
    assert_eq!(m.post_event(&other).await, 403);
    // A reinstall event with fresh real tokens but another application_token: refused too.
    let fresh = north.issue_oauth_tokens();
    let mut again = forged;
    again[2].1 = fresh.access_token.as_str();
    again[3].1 = fresh.refresh_token.as_str();
    assert_eq!(m.post_event(&again).await, 403);
    let after = m.row(north).await;
    assert_eq!(after.tokens, before.tokens, "tokens untouched");
    assert_eq!(after.origin, before.origin);

    // Uninstall with a wrong or missing token: nothing changes.
    for token in ["", "wrong-token"] {
        let form = [
            ("event", "ONAPPUNINSTALL"),
            ("auth[member_id]", member.as_str()),
            ("auth[application_token]", token),
            ("data[CLEAN]", "1"),
        ];
        assert_eq!(m.post_event(&form).await, 403);
        assert!(m.row(north).await.is_installed());
    }
    let ps = our_pay_systems(north).await[0];
    let pay = |sum: &'static str| {
        north
            .create_payment(NewPayment::order(sum, "USD").with_pay_system(ps))
            .unwrap()
            .payment_id
    };
    let p1 = pay("5");
    assert_eq!(m.pay(&before.public_id, p1, ps, "5").await.0, 200);

    // The real uninstall: tokens forgotten, north's page and payments refused, south pays on.
    assert_eq!(north.uninstall_app(true).await.unwrap().status, Some(200));
    let gone = m.row(north).await;
    assert!(!gone.is_installed() && gone.tokens.is_none());
    let page = reqwest::get(format!("{}p/{}/", m.url, before.public_id))
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let p2 = pay("6");
    let (status, body) = m.pay(&before.public_id, p2, ps, "6").await;
    assert_eq!(status, 404, "an uninstalled portal's payment: {body}");
    assert_eq!(body["error"]["code"], "payment_unavailable", "{body}");
    let south_row = m.row(south).await;
    let sps = our_pay_systems(south).await[0];
    let sp = south
        .create_payment(NewPayment::order("7", "USD").with_pay_system(sps))
        .unwrap()
        .payment_id;
    assert_eq!(m.pay(&south_row.public_id, sp, sps, "7").await.0, 200);

    // Installed again: the same URL, nothing duplicated on the portal, paying again.
    assert_eq!(north.install_app().await.unwrap().event.status, Some(200));
    let back = m.row(north).await;
    assert!(back.is_installed());
    assert_eq!(back.public_id, before.public_id);
    assert_eq!(
        our_pay_systems(north).await,
        vec![ps],
        "no pay system added"
    );
    let handlers = webhook_client(north).handler_list().await.unwrap();
    assert_eq!(handlers.iter().filter(|h| h.code == "b24pay").count(), 1);
    let (status, body) = m.pay(&back.public_id, p2, ps, "6").await;
    assert_eq!(status, 200, "{body}");
    wait_paid(north, p2).await;
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_that_hangs_does_not_hold_the_other() {
    // Under a path, as a provider sharing its domain deploys it.
    let m = start_at("/pay/").await;
    let (north, south) = (m.platform.portal(0), m.platform.portal(1));
    let ((a, b), (nps, sps)) = m.install_both().await;
    // Warm both clients' pay-system caches, then north stops answering.
    let warm_n = north
        .create_payment(NewPayment::order("1", "USD").with_pay_system(nps))
        .unwrap()
        .payment_id;
    let warm_s = south
        .create_payment(NewPayment::order("1", "USD").with_pay_system(sps))
        .unwrap()
        .payment_id;
    assert_eq!(m.pay(&a.public_id, warm_n, nps, "1").await.0, 200);
    assert_eq!(m.pay(&b.public_id, warm_s, sps, "1").await.0, 200);
    north.inject(b24pay_sandbox::Fault::Hang(Duration::from_secs(30)), 1000);
    let stuck_n = north
        .create_payment(NewPayment::order("3", "USD").with_pay_system(nps))
        .unwrap()
        .payment_id;
    let stuck = tokio::spawn({
        let (url, id) = (m.url.clone(), a.public_id.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{url}p/{id}/api/v1/payments"))
                .header("Idempotency-Key", key())
                .json(
                    &json!({"payment_id": stuck_n.to_string(), "paysystem_id": nps.to_string(),
                    "amount": "3", "currency": "USD",
                    "card": {"number": APPROVED, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}),
                )
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    for n in 0..5 {
        let id = south
            .create_payment(NewPayment::order("2", "USD").with_pay_system(sps))
            .unwrap()
            .payment_id;
        let (status, body) = m.pay(&b.public_id, id, sps, "2").await;
        assert_eq!(status, 200, "south payment {n} while north hangs: {body}");
    }
    // Printed, not asserted (a loaded machine): south's five confirmations while north hangs.
    println!(
        "south: 5 confirmations in {:?} while north hangs",
        started.elapsed()
    );
    north.clear_faults();
    let _ = stuck.await;
    m.server.stop().await;
}
