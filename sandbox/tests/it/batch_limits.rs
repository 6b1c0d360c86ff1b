//! `batch` against the limits: one request against the leaky bucket, each command's time
//! against its method's operating time, and faults for the batch and inside it.

use crate::common;

use std::time::{Duration, Instant};

use b24pay_sandbox::{Fault, RateLimit, Sandbox};
use common::{command, Portal, PAY};
use serde_json::{json, Value};

#[tokio::test]
async fn a_batch_is_one_request_for_the_leaky_bucket() {
    let portal = Portal::with(Sandbox::builder().rate_limit(Some(RateLimit {
        drain_per_second: 0.01,
        burst: 2,
    })))
    .await;
    let cmd: Vec<Value> = (0..50).map(|_| json!("sale.paysystem.list")).collect();
    for _ in 0..2 {
        let reply = portal.batch(json!({"cmd": cmd.clone()})).await;
        assert_eq!(reply.result()["result"].as_array().unwrap().len(), 50);
    }
    // 100 commands in two requests: the bucket is full now.
    let refused = portal.batch(json!({"cmd": cmd})).await;
    assert_eq!(refused.error(503), "QUERY_LIMIT_EXCEEDED");
    assert_eq!(portal.sandbox.rate_limited_calls(), 1);
    assert_eq!(portal.sandbox.method_calls("sale.paysystem.list"), 100);
    assert_eq!(portal.sandbox.method_calls("batch"), 2);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn each_commands_time_counts_against_its_methods_operating_time() {
    let portal = Portal::start().await;
    let single = portal.list_pay_systems().await;
    let before = single.body["time"]["operating"].as_f64().unwrap();
    let reply = portal.batch(json!({"cmd": ["sale.paysystem.list", "sale.paysystem.list", "sale.paysystem.handler.list"]}),
        )
        .await;
    let times = &reply.result()["result_time"];
    let op = |i: usize| times[i]["operating"].as_f64().unwrap();
    let processing = |i: usize| times[i]["processing"].as_f64().unwrap();
    // The list's operating time grows with each of its commands; the handler list has its own.
    assert!(op(0) >= before + processing(0) - 1e-9, "{times}");
    assert!(op(1) >= op(0) + processing(1) - 1e-9, "{times}");
    assert_eq!(op(2), processing(2), "the first handler list: {times}");
    assert!(times[0]["operating_reset_at"].is_i64());
    let after = portal.list_pay_systems().await;
    assert!(after.body["time"]["operating"].as_f64().unwrap() >= op(1));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn faults_for_the_batch_and_for_its_commands() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let pay = |id: u64| command(PAY, json!({"PAYMENT_ID": id, "PAY_SYSTEM_ID": ps}));
    portal.sandbox.set_payment_pay_system(3, ps).unwrap();

    // Untargeted: the whole request, nothing runs.
    portal.sandbox.inject(Fault::InternalServerError, 1);
    let reply = portal.batch(json!({"cmd": {"p1": pay(1)}})).await;
    assert_eq!(reply.error(500), "INTERNAL_SERVER_ERROR");
    assert_eq!(portal.sandbox.pay_calls(1), 0);

    // Naming a command's method: that command's entry; `true_without_saving` unsaved.
    portal
        .sandbox
        .inject_for(Fault::QueryLimitExceeded, 1, [PAY]);
    portal.sandbox.inject(Fault::TrueWithoutSaving, 1);
    let reply = portal
        .batch(json!({"cmd": {"p1": pay(1), "p3": pay(3), "list": "sale.paysystem.list"}}))
        .await;
    let result = reply.result();
    assert_eq!(
        result["result_error"]["p1"]["error"],
        json!("QUERY_LIMIT_EXCEEDED")
    );
    assert_eq!(result["result"]["p3"], json!(true));
    assert!(result["result"]["list"].is_array());
    assert_eq!(portal.sandbox.pay_calls(1), 0);
    assert_eq!(portal.sandbox.unsaved_pay_calls(3), 1);
    assert!(!portal.sandbox.payment(3).unwrap().paid);

    // A command's `drop_after_execution`: everything runs, no reply.
    portal
        .sandbox
        .inject_for(Fault::DropAfterExecution, 1, [PAY]);
    portal
        .http
        .post(portal.webhook("batch"))
        .json(&json!({"cmd": {"p1": pay(1), "p3": pay(3)}}))
        .send()
        .await
        .expect_err("no reply");
    assert_eq!(portal.sandbox.pay_calls(1), 1);
    assert_eq!(portal.sandbox.pay_calls(3), 1);

    // A command's `drop_connection`: the commands before it ran, it and the rest did not.
    portal
        .sandbox
        .inject_for(Fault::DropConnection, 1, ["sale.paysystem.settings.get"]);
    portal
        .http
        .post(portal.webhook("batch"))
        .json(&json!({"cmd": [pay(1), command("sale.paysystem.settings.get", json!({"ID": ps, "PERSON_TYPE_ID": 1})), pay(3)]}))
        .send()
        .await
        .expect_err("no reply");
    assert_eq!(portal.sandbox.pay_calls(1), 2);
    assert_eq!(portal.sandbox.pay_calls(3), 1);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_delayed_command_and_the_rest_run_later_without_a_reply() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    portal.sandbox.set_payment_pay_system(3, ps).unwrap();
    let pay = |id: u64| command(PAY, json!({"PAYMENT_ID": id, "PAY_SYSTEM_ID": ps}));
    let delay = Duration::from_millis(1200);
    portal.delay_next(PAY, delay, Duration::ZERO);
    let started = Instant::now();
    portal
        .http
        .post(portal.webhook("batch"))
        .json(&json!({"cmd": {"list": "sale.paysystem.list", "p1": pay(1), "p3": pay(3)}}))
        .send()
        .await
        .expect_err("no reply");
    assert_eq!(
        portal.sandbox.method_calls("sale.paysystem.list"),
        1,
        "ran at once"
    );
    if started.elapsed() < delay {
        assert!(!portal.sandbox.payment(1).unwrap().paid);
        assert_eq!(portal.sandbox.delayed_calls_pending(), 1);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while portal.sandbox.delayed_calls_pending() > 0 {
        assert!(Instant::now() < deadline, "the rest never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() >= delay);
    assert_eq!(portal.sandbox.pay_calls(1), 1);
    assert_eq!(portal.sandbox.pay_calls(3), 1);
    portal.sandbox.shutdown().await;
}
