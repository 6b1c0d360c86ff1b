//! Two `b24pay serve` processes (the real binary) on one PostgreSQL, one Market application
//! installed on two portals (by their `ONAPPINSTALL`, which sets each up with its own tokens).
//! Round after round the platform expires both portals' access tokens while customers of both
//! portals pay through both processes at once: no customer request fails, each portal's OAuth
//! server sees exactly one refresh per expiry and never a spent (rotated) refresh token, and a
//! process started afterwards from the tokens in the store still pays on both after one more
//! expiry: neither portal is left with a dead token. Skipped without PostgreSQL.

use crate::common::*;
use b24pay_companion::store::StoreLocation;
use b24pay_sandbox::{App, NewPayment, Platform, PlatformHandle, Sandbox, SandboxHandle};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "app.b24pay.rotation";
const CLIENT_SECRET: &str = "rotation-secret";

/// Both instances serve one deployment: one public URL (the first's address, where the
/// platform sends the app's events), each listening on its own address.
fn spawn(
    platform: &PlatformHandle,
    public_url: &str,
    listen: &str,
    dist: &std::path::Path,
    database: &str,
) -> ServeProcess {
    let mut cmd = serve_command(dist, &StoreLocation::Url(database.into()));
    cmd.env("B24PAY_LISTEN", listen)
        .env("B24PAY_PUBLIC_URL", public_url)
        .env("B24PAY_APP_CLIENT_ID", CLIENT_ID)
        .env("B24PAY_APP_CLIENT_SECRET", CLIENT_SECRET)
        .env("B24PAY_APP_TOKEN_ENDPOINT", platform.oauth_token_endpoint());
    ServeProcess::start(&mut cmd)
}

/// A portal with the app installed: our public id for it and the pay system its install
/// created (person type 1).
struct Installed {
    portal: SandboxHandle,
    public_id: String,
    ps: u64,
}

async fn install(portal: &SandboxHandle, database: &str) -> Installed {
    let event = portal.install_app().await.unwrap().event;
    assert_eq!(event.status, Some(200), "{event:?}");
    let store = b24pay_companion::store::open(&b24pay_companion::store::StoreLocation::Url(
        database.to_string(),
    ))
    .await
    .unwrap();
    let row = store
        .portal_by_member(&portal.member_id())
        .await
        .unwrap()
        .expect("stored");
    let list = webhook_client(portal)
        .paysystem_list(&bitrix24_client::ListQuery::all())
        .await
        .unwrap();
    let ps = list
        .iter()
        .find(|p| p.handler_code() == Some("b24pay") && p.person_type_id == Some(1))
        .and_then(|p| p.id)
        .expect("the install created a pay system");
    Installed {
        portal: portal.clone(),
        public_id: row.public_id,
        ps,
    }
}

/// One customer of `p` paying through `instance`, from an address of its own (127.2.0.0/16,
/// all of it loopback), so the per-client limits see separate customers.
async fn pay(instance: &str, p: &Installed, n: u8) -> u64 {
    let id = p
        .portal
        .create_payment(NewPayment::order("25", "EUR").with_pay_system(p.ps))
        .unwrap()
        .payment_id;
    let [_, _, hi, lo] = (id as u32).to_be_bytes();
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 2 + n % 2, hi, lo.max(1)]))
        .build()
        .unwrap();
    let body = confirm_body(id, p.ps, "25", "EUR", APPROVED);
    let base = format!("{instance}/p/{}", p.public_id);
    let (status, v) = confirm_at(&http, &base, &key(), &body, Duration::from_secs(30)).await;
    assert_eq!(status, 200, "payment {id} through {base}: {v}");
    assert_eq!(v["state"], "succeeded", "payment {id} through {base}: {v}");
    id
}

async fn wait_paid(p: &Installed, ids: &[u64]) {
    let started = Instant::now();
    for id in ids {
        while !p.portal.payment(*id).unwrap().paid {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "payment {id} not marked paid"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(p.portal.pay_calls(*id), 1, "payment {id} marked paid once");
    }
}

/// Eight customers at once, of both portals, half through each instance; all marked paid.
async fn customers(instances: [&str; 2], portals: &[Installed; 2]) {
    let mut running = Vec::new();
    for n in 0..8u8 {
        let instance = instances[usize::from(n % 2)].to_string();
        let which = usize::from(n / 2 % 2);
        let p = Installed {
            portal: portals[which].portal.clone(),
            public_id: portals[which].public_id.clone(),
            ps: portals[which].ps,
        };
        running.push(tokio::spawn(async move {
            let id = pay(&instance, &p, n).await;
            (which, id)
        }));
    }
    let mut paid: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    for r in running {
        let (which, id) = r.await.expect("no customer request fails");
        paid[which].push(id);
    }
    for (which, ids) in paid.iter().enumerate() {
        wait_paid(&portals[which], ids).await;
    }
}

/// Each portal's refreshes so far, and that none was refused.
fn refreshes(portals: &[Installed; 2]) -> [u64; 2] {
    portals.each_ref().map(|p| {
        let stats = p.portal.oauth_stats();
        assert_eq!(
            stats.rejected_refreshes,
            0,
            "{}: no spent refresh token was sent",
            p.portal.base_url()
        );
        stats.refreshes
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_rotate_two_portals_tokens() {
    if pg_url().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let public_url = format!("http://127.0.0.1:{port}/");
    let platform = Platform::builder()
        .portal(Sandbox::builder().store_name("North Shop"))
        .portal(Sandbox::builder().store_name("South Shop"))
        .app(
            App::new(CLIENT_ID, CLIENT_SECRET, format!("{public_url}app/events"))
                .with_scope("pay_system,sale"),
        )
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dist = fake_dist(dir.path());
    let database = fresh_pg_database().await;
    let a = spawn(
        &platform,
        &public_url,
        &format!("127.0.0.1:{port}"),
        &dist,
        &database,
    );
    let b = spawn(&platform, &public_url, "127.0.0.1:0", &dist, &database);
    let portals = [
        install(platform.portal(0), &database).await,
        install(platform.portal(1), &database).await,
    ];
    // Fresh tokens: paying needs no refresh (the installs' own checks refreshed once each).
    customers([&a.base, &b.base], &portals).await;
    let mut expected = refreshes(&portals);

    for round in 1..=3 {
        for p in &portals {
            p.portal.expire_access_tokens();
        }
        customers([&a.base, &b.base], &portals).await;
        expected = expected.map(|n| n + 1);
        let seen = refreshes(&portals);
        eprintln!("round {round}: refreshes per portal {seen:?}");
        assert_eq!(
            seen, expected,
            "one refresh per expiry and portal, for both instances"
        );
    }

    // A process started now reads the (rotated, sealed) tokens from the store: they are
    // alive, and refresh once more for both portals.
    drop(b);
    let c = spawn(&platform, &public_url, "127.0.0.1:0", &dist, &database);
    for p in &portals {
        p.portal.expire_access_tokens();
    }
    customers([&c.base, &a.base], &portals).await;
    assert_eq!(refreshes(&portals), expected.map(|n| n + 1));
    drop((a, c));
    platform.shutdown().await;
}
