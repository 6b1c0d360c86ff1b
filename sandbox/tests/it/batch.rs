//! `batch`: `cmd` as a map or list, `halt`, the answer's five parts keyed like `cmd`,
//! `$result[…]` references, the 50-command limit, no nested batch, one request against the
//! leaky bucket, each command's time against its method's operating time, every body
//! encoding, and faults inside a batch.

use crate::common;

use std::time::{Duration, Instant};

use b24pay_sandbox::{Fault, RateLimit, Sandbox};
use common::{b24pay_handler, b24pay_settings, command, php_query, Portal};
use serde_json::{json, Value};

const PAY: &str = "sale.paysystem.pay.payment";

/// Handler + ORDER pay system + payment 1 bound to it, through `batch` where possible.
async fn setup(portal: &Portal) -> u64 {
    portal.b24pay_setup("http://localhost:8080/").await
}

#[tokio::test]
async fn a_map_of_commands_answers_every_part_keyed_like_cmd() {
    let portal = Portal::start().await;
    let ps = setup(&portal).await;
    let reply = portal
        .call(
            "batch",
            json!({"halt": 0, "cmd": {
                "settings": command("sale.paysystem.settings.payment.get", json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps})),
                "handlers": "sale.paysystem.handler.list",
                "missing": command(PAY, json!({"PAYMENT_ID": 999, "PAY_SYSTEM_ID": ps})),
            }}),
        )
        .await;
    let result = reply.result();
    assert_eq!(
        result["result"]["settings"]["B24PAY_PAYMENT_SUM"],
        json!("3000")
    );
    assert_eq!(result["result"]["handlers"][0]["CODE"], json!("b24pay"));
    assert!(result["result"].get("missing").is_none());
    assert_eq!(
        result["result_error"],
        json!({"missing": {
            "error": "ERROR_CHECK_FAILURE",
            "error_description": format!("Payment with ID=999 and PAY_SYSTEM_ID={ps} not found"),
        }})
    );
    // Nothing pages: PHP's empty arrays.
    assert_eq!(result["result_total"], json!([]));
    assert_eq!(result["result_next"], json!([]));
    let times = result["result_time"].as_object().unwrap();
    assert_eq!(
        times.keys().collect::<Vec<_>>(),
        ["settings", "handlers", "missing"],
        "in cmd's order, failed commands too"
    );
    for time in times.values() {
        for key in [
            "start",
            "finish",
            "duration",
            "processing",
            "operating",
            "operating_reset_at",
            "date_start",
            "date_finish",
        ] {
            assert!(time.get(key).is_some(), "{key} in {time}");
        }
    }
    // The batch has its own time block.
    assert!(reply.body["time"]["processing"].is_f64());
    assert_eq!(portal.sandbox.method_calls("batch"), 1);
    assert_eq!(portal.sandbox.method_calls(PAY), 1);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_list_of_commands_answers_lists_while_keys_run_from_zero() {
    let portal = Portal::start().await;
    let reply = portal
        .call(
            "batch",
            json!({"cmd": ["sale.paysystem.handler.list", "sale.paysystem.list"]}),
        )
        .await;
    let result = reply.result();
    assert_eq!(result["result"], json!([[], []]));
    assert_eq!(result["result_error"], json!([]));
    assert!(result["result_time"].is_array());
    // A gap in the keys makes an object, as PHP encodes it.
    let reply = portal
        .call(
            "batch",
            json!({"cmd": ["sale.paysystem.nope", "sale.paysystem.list"]}),
        )
        .await;
    assert_eq!(reply.result()["result"], json!({"1": []}));
    assert_eq!(
        reply.result()["result_error"][0]["error"],
        json!("ERROR_METHOD_NOT_FOUND")
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn halt_stops_at_the_first_failed_command() {
    let portal = Portal::start().await;
    let ps = setup(&portal).await;
    let cmd = json!({
        "read": "sale.paysystem.list",
        "wrong": command(PAY, json!({"PAYMENT_ID": 3, "PAY_SYSTEM_ID": ps})),
        "pay": command(PAY, json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps})),
    });
    let halted = portal
        .call("batch", json!({"halt": 1, "cmd": cmd.clone()}))
        .await;
    let result = halted.result();
    assert!(result["result"]["read"].is_array());
    assert_eq!(
        result["result_error"]["wrong"]["error"],
        json!("ERROR_CHECK_FAILURE")
    );
    assert!(
        result["result"].get("pay").is_none(),
        "not run after the error"
    );
    assert!(result["result_time"].get("pay").is_none());
    assert!(!portal.sandbox.payment(1).unwrap().paid);

    // halt=0 (and PHP's false spellings) run everything.
    for halt in [json!(0), json!("0"), json!("")] {
        let reply = portal
            .call("batch", json!({"halt": halt, "cmd": cmd.clone()}))
            .await;
        assert_eq!(reply.result()["result"]["pay"], json!(true), "halt={halt}");
    }
    assert_eq!(portal.sandbox.pay_calls(1), 3);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn commands_reference_earlier_results() {
    let portal = Portal::start().await;
    let handler = b24pay_handler("b24pay", "http://localhost:8080/");
    let reply = portal
        .call(
            "batch",
            json!({"halt": 1, "cmd": {
                "handler": command("sale.paysystem.handler.add", handler),
                "ps": command("sale.paysystem.add", json!({
                    "NAME": "Card", "PERSON_TYPE_ID": 1, "BX_REST_HANDLER": "b24pay",
                    "ENTITY_REGISTRY_TYPE": "ORDER", "ACTIVE": "Y", "SETTINGS": b24pay_settings(),
                })),
                // A whole value, and a value inside longer text.
                "update": command("sale.paysystem.settings.update", json!({
                    "ID": "$result[ps]", "PERSON_TYPE_ID": 1,
                    "SETTINGS": {"B24PAY_SHOP_ID": {"TYPE": "VALUE", "VALUE": "shop of ps $result[ps]"}},
                })),
                "list": command("sale.paysystem.list", json!({"SELECT": ["ID", "NAME"]})),
                // A path into a list result.
                "get": command("sale.paysystem.settings.get", json!({"ID": "$result[list][0][ID]", "PERSON_TYPE_ID": 1})),
                // A reference to nothing is empty.
                "none": command("sale.paysystem.settings.get", json!({"ID": "$result[nope][ID]", "PERSON_TYPE_ID": 1})),
            }}),
        )
        .await;
    let result = reply.result();
    let ps = result["result"]["ps"].as_u64().unwrap();
    assert_eq!(result["result"]["update"], json!(true));
    assert_eq!(
        result["result"]["get"]["B24PAY_SHOP_ID"],
        json!({"TYPE": "VALUE", "VALUE": format!("shop of ps {ps}")})
    );
    assert_eq!(
        result["result_error"]["none"]["error"],
        json!("ERROR_CHECK_FAILURE")
    );
    // The reference in the raw URL-encoded form of the documentation's example works too.
    let reply = portal
        .call_form(
            "batch",
            "halt=0&cmd[first]=sale.paysystem.list%3Fselect%5B%5D%3DID&cmd[get]=sale.paysystem.settings.get%3FPERSON_TYPE_ID%3D1%26ID%3D%2524result%255Bfirst%255D%255B0%255D%255BID%255D",
        )
        .await;
    assert!(
        reply.result()["result"]["get"]["B24PAY_SHOP_ID"].is_object(),
        "{reply:?}"
    );
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn past_fifty_commands_each_is_refused_and_the_first_fifty_run() {
    let portal = Portal::start().await;
    let cmd: serde_json::Map<String, Value> = (0..53)
        .map(|i| (format!("c{i:02}"), json!("sale.paysystem.list")))
        .collect();
    let reply = portal.call("batch", json!({"cmd": cmd})).await;
    let result = reply.result();
    assert_eq!(result["result"].as_object().unwrap().len(), 50);
    let errors = result["result_error"].as_object().unwrap();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["c50", "c51", "c52"]);
    assert_eq!(
        errors["c50"],
        json!({"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"})
    );
    assert_eq!(portal.sandbox.method_calls("sale.paysystem.list"), 50);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_nested_batch_is_refused() {
    let portal = Portal::start().await;
    let reply = portal
        .call(
            "batch",
            json!({"cmd": {
                "inner": format!("batch?{}", php_query(&json!({"cmd": {"x": "sale.paysystem.list"}}))),
                "inner_json": "Batch.json",
                "ok": "sale.paysystem.list",
            }}),
        )
        .await;
    let result = reply.result();
    for key in ["inner", "inner_json"] {
        assert_eq!(
            result["result_error"][key],
            json!({"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Method is not allowed for batch usage"})
        );
    }
    assert_eq!(result["result"]["ok"], json!([]));
    assert_eq!(portal.sandbox.method_calls("batch"), 1);
    assert_eq!(portal.sandbox.method_calls("sale.paysystem.list"), 1);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_batch_is_one_request_for_the_leaky_bucket() {
    let portal = Portal::with(Sandbox::builder().rate_limit(Some(RateLimit {
        drain_per_second: 0.01,
        burst: 2,
    })))
    .await;
    let cmd: Vec<Value> = (0..50).map(|_| json!("sale.paysystem.list")).collect();
    for _ in 0..2 {
        let reply = portal.call("batch", json!({"cmd": cmd.clone()})).await;
        assert_eq!(reply.result()["result"].as_array().unwrap().len(), 50);
    }
    // 100 commands in two requests: the bucket is full now.
    let refused = portal.call("batch", json!({"cmd": cmd})).await;
    assert_eq!(refused.error(503), "QUERY_LIMIT_EXCEEDED");
    assert_eq!(portal.sandbox.rate_limited_calls(), 1);
    assert_eq!(portal.sandbox.method_calls("sale.paysystem.list"), 100);
    assert_eq!(portal.sandbox.method_calls("batch"), 2);
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn each_commands_time_counts_against_its_methods_operating_time() {
    let portal = Portal::start().await;
    let single = portal.call("sale.paysystem.list", json!({})).await;
    let before = single.body["time"]["operating"].as_f64().unwrap();
    let reply = portal
        .call(
            "batch",
            json!({"cmd": ["sale.paysystem.list", "sale.paysystem.list", "sale.paysystem.handler.list"]}),
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
    let after = portal.call("sale.paysystem.list", json!({})).await;
    assert!(after.body["time"]["operating"].as_f64().unwrap() >= op(1));
    portal.sandbox.shutdown().await;
}

#[tokio::test]
async fn every_body_encoding_and_both_call_forms() {
    let portal = Portal::start().await;
    let ps = setup(&portal).await;
    let read = command(
        "sale.paysystem.settings.payment.get",
        json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps}),
    );
    let form = format!(
        "halt=0&cmd[read]={}&cmd[list]=sale.paysystem.list",
        urlencode(&read)
    );
    let check = |reply: &common::Reply| {
        let result = reply.result();
        assert_eq!(
            result["result"]["read"]["B24PAY_PAYMENT_SUM"],
            json!("3000"),
            "{reply:?}"
        );
        assert!(result["result"]["list"].is_array(), "{reply:?}");
    };
    // JSON, form, GET query; webhook with and without `.json`.
    check(
        &portal
            .call(
                "batch",
                json!({"halt": 0, "cmd": {"read": read, "list": "sale.paysystem.list"}}),
            )
            .await,
    );
    check(&portal.call_form("batch.json", &form).await);
    check(
        &portal
            .get(&format!("{}?{form}", portal.webhook("batch")))
            .await,
    );
    // Upper-case names, as the portal reads them.
    check(
        &portal
            .call(
                "batch",
                json!({"HALT": 0, "CMD": {"read": read, "list": "sale.paysystem.list"}}),
            )
            .await,
    );
    // OAuth: `auth` in the body or the query; a token inside a command is ignored.
    let token = portal.sandbox.issue_oauth_tokens().access_token;
    check(
        &portal
            .post_json(
                &portal.oauth("batch"),
                &json!({"auth": token, "cmd": {"read": read, "list": "sale.paysystem.list?auth=bogus"}}).to_string(),
            )
            .await,
    );
    check(
        &portal
            .get(&format!("{}?auth={token}&{form}", portal.oauth("batch")))
            .await,
    );
    let denied = portal
        .post_json(
            &portal.oauth("batch"),
            &json!({"cmd": {"list": format!("sale.paysystem.list?auth={token}")}}).to_string(),
        )
        .await;
    assert_eq!(denied.error(401), "NO_AUTH_FOUND");
    portal.sandbox.shutdown().await;
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn faults_for_the_batch_and_for_its_commands() {
    let portal = Portal::start().await;
    let ps = setup(&portal).await;
    let pay = |id: u64| command(PAY, json!({"PAYMENT_ID": id, "PAY_SYSTEM_ID": ps}));
    portal.sandbox.set_payment_pay_system(3, ps).unwrap();

    // Untargeted: the whole request, nothing runs.
    portal.sandbox.inject(Fault::InternalServerError, 1);
    let reply = portal.call("batch", json!({"cmd": {"p1": pay(1)}})).await;
    assert_eq!(reply.error(500), "INTERNAL_SERVER_ERROR");
    assert_eq!(portal.sandbox.pay_calls(1), 0);

    // Naming a command's method: that command's entry; `true_without_saving` unsaved.
    portal
        .sandbox
        .inject_for(Fault::QueryLimitExceeded, 1, [PAY]);
    portal.sandbox.inject(Fault::TrueWithoutSaving, 1);
    let reply = portal
        .call(
            "batch",
            json!({"cmd": {"p1": pay(1), "p3": pay(3), "list": "sale.paysystem.list"}}),
        )
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
    let ps = setup(&portal).await;
    portal.sandbox.set_payment_pay_system(3, ps).unwrap();
    let pay = |id: u64| command(PAY, json!({"PAYMENT_ID": id, "PAY_SYSTEM_ID": ps}));
    let delay = Duration::from_millis(1200);
    portal.sandbox.inject_for(
        Fault::DelayedExecution {
            delay,
            cut_after: Duration::ZERO,
        },
        1,
        [PAY],
    );
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

/// The README's `batch` examples, as curl sends them.
#[tokio::test]
async fn the_seed_examples_through_batch_as_the_readme_shows() {
    let portal = Portal::start().await;
    let commands = [
        ("handler", "sale.paysystem.handler.add?NAME=Handler.Rest%20IFrame&CODE=resthandleriframe&SORT=100&SETTINGS[CURRENCY][]=USD&SETTINGS[CLIENT_TYPE]=b2c&SETTINGS[IFRAME_DATA][ACTION_URI]=http://example.com/payment_iframe.php&SETTINGS[IFRAME_DATA][FIELDS][serviceKey][CODE]=REST_SERVICE_KEY_IFRAME&SETTINGS[IFRAME_DATA][FIELDS][serviceid][CODE]=REST_SERVICE_ID_IFRAME&SETTINGS[CODES][REST_SERVICE_ID_IFRAME][NAME]=Store%20number&SETTINGS[CODES][REST_SERVICE_ID_IFRAME][DESCRIPTION]=Store%20number&SETTINGS[CODES][REST_SERVICE_ID_IFRAME][SORT]=100&SETTINGS[CODES][REST_SERVICE_KEY_IFRAME][NAME]=Secret%20key&SETTINGS[CODES][REST_SERVICE_KEY_IFRAME][DESCRIPTION]=Secret%20key&SETTINGS[CODES][REST_SERVICE_KEY_IFRAME][SORT]=300&SETTINGS[CODES][PS_WORK_MODE_IFRAME][NAME]=Payment%20system%20operating%20mode&SETTINGS[CODES][PS_WORK_MODE_IFRAME][SORT]=1100&SETTINGS[CODES][PS_WORK_MODE_IFRAME][INPUT][TYPE]=ENUM&SETTINGS[CODES][PS_WORK_MODE_IFRAME][INPUT][OPTIONS][TEST]=Test&SETTINGS[CODES][PS_WORK_MODE_IFRAME][INPUT][OPTIONS][REGULAR]=Live"),
        ("ps", "sale.paysystem.add?NAME=Card%20Payment&DESCRIPTION=Easily%20pay%20for%20purchases%20with%20a%20card.&XML_ID=my_ps_id&PERSON_TYPE_ID=1&BX_REST_HANDLER=resthandleriframe&ACTIVE=Y&ENTITY_REGISTRY_TYPE=ORDER&LOGOTYPE=/*%20base64%20image%20*/&NEW_WINDOW=N&SETTINGS[REST_SERVICE_ID_IFRAME][TYPE]=VALUE&SETTINGS[REST_SERVICE_ID_IFRAME][VALUE]=snum&SETTINGS[REST_SERVICE_KEY_IFRAME][TYPE]=VALUE&SETTINGS[REST_SERVICE_KEY_IFRAME][VALUE]=skey"),
        ("invoice_ps", "sale.paysystem.add?NAME=Invoice%20card&PERSON_TYPE_ID=3&BX_REST_HANDLER=resthandleriframe&ENTITY_REGISTRY_TYPE=CRM_INVOICE&ACTIVE=Y"),
        ("settings", "sale.paysystem.settings.update?ID=$result[ps]&PERSON_TYPE_ID=1&SETTINGS[REST_SERVICE_KEY_IFRAME][TYPE]=VALUE&SETTINGS[REST_SERVICE_KEY_IFRAME][VALUE]=NEW_KEY"),
    ];
    // `curl --data-urlencode 'cmd[key]=…'` encodes the value, not the name.
    let mut form = String::from("halt=1");
    for (key, text) in commands {
        form.push_str(&format!("&cmd[{key}]={}", urlencode(text)));
    }
    let reply = portal.call_form("batch", &form).await;
    assert_eq!(
        reply.result()["result"],
        json!({"handler": 1, "ps": 1, "invoice_ps": 2, "settings": true})
    );
    assert_eq!(reply.result()["result_error"], json!([]));
    let handlers = portal.call("sale.paysystem.handler.list", json!({})).await;
    let handler = &handlers.result()[0];
    assert_eq!(handler["NAME"], json!("Handler.Rest IFrame"));
    assert_eq!(
        handler["SETTINGS"]["CODES"]["PS_WORK_MODE_IFRAME"]["INPUT"]["OPTIONS"],
        json!({"TEST": "Test", "REGULAR": "Live"})
    );
    assert_eq!(
        handler["SETTINGS"]["IFRAME_DATA"]["ACTION_URI"],
        json!("http://example.com/payment_iframe.php")
    );

    portal.sandbox.set_payment_pay_system(1, 1).unwrap();
    let reply = portal
        .post_json(
            &portal.webhook("batch"),
            r#"{"halt":0,"cmd":{
  "before":"sale.paysystem.settings.payment.get?PAYMENT_ID=1&PAY_SYSTEM_ID=1",
  "pay":"sale.paysystem.pay.payment?PAYMENT_ID=1&PAY_SYSTEM_ID=1",
  "invoice":"sale.paysystem.pay.invoice?INVOICE_ID=2&PAY_SYSTEM_ID=2",
  "list":"sale.paysystem.list?select[]=ID&select[]=NAME&filter[ENTITY_REGISTRY_TYPE]=ORDER"}}"#,
        )
        .await;
    assert_eq!(
        reply.result()["result"],
        json!({
            "before": {"PS_WORK_MODE_IFRAME": null, "REST_SERVICE_ID_IFRAME": "snum", "REST_SERVICE_KEY_IFRAME": "NEW_KEY"},
            "pay": true,
            "invoice": true,
            "list": [{"ID": "1", "NAME": "Card Payment"}],
        })
    );
    assert!(portal.sandbox.payment(1).unwrap().paid);
    assert!(portal.sandbox.payment(2).unwrap().paid);
    let reply = portal
        .get(&format!(
            "{}?halt=0&cmd[a]=sale.paysystem.handler.list&cmd[b]=batch",
            portal.webhook("batch")
        ))
        .await;
    assert_eq!(
        reply.result()["result_error"]["b"]["error"],
        json!("ERROR_BATCH_METHOD_NOT_ALLOWED")
    );
    portal.sandbox.shutdown().await;
}
