//! A portal that answers with absurd values does not panic the companion or park it: an
//! `operating_reset_at` near `i64::MAX` gives the customer a bounded `Retry-After` (the portal's
//! operating limit resets within 10 minutes), and the companion keeps serving.

use crate::common::*;
use b24pay_sandbox::Fault;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_operating_reset_at_is_bounded() {
    let env = Env::start(StoreKind::Sqlite).await;
    env.sandbox.inject_for(
        Fault::OperationTimeLimit {
            reset_after: Duration::MAX,
        },
        1,
        ["sale.paysystem.settings.payment.get"],
    );
    let id = env.order("10", "USD");
    let body = env.body(id, env.ps_order, "10", "USD", APPROVED);
    let k = key();
    let resp = confirm_request(&env.http, &env.base, &k, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=600).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");

    // Still serving; the same request goes through once the portal does.
    let (status, v) = env.confirm(&k, &body).await;
    assert_eq!(status, 200, "{v}");
    env.wait_paid(id, Duration::from_secs(30)).await;
    env.stop().await;
}
