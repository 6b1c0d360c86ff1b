//! `batch`: `cmd` as a map or list, `halt`, the answer's five parts keyed like `cmd`,
//! `$result[…]` references, the 50-command limit and no nested batch. Its limits and faults are
//! in `batch_limits.rs`, its body encodings in `batch_encodings.rs`.

use crate::common;

use common::{b24pay_handler, b24pay_settings, command, php_query, Portal, PAY};
use serde_json::{json, Value};

#[tokio::test]
async fn a_map_of_commands_answers_every_part_keyed_like_cmd() {
    let portal = Portal::start().await;
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let reply = portal.batch(json!({"halt": 0, "cmd": {
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
        .batch(json!({"cmd": ["sale.paysystem.handler.list", "sale.paysystem.list"]}))
        .await;
    let result = reply.result();
    assert_eq!(result["result"], json!([[], []]));
    assert_eq!(result["result_error"], json!([]));
    assert!(result["result_time"].is_array());
    // A gap in the keys makes an object, as PHP encodes it.
    let reply = portal
        .batch(json!({"cmd": ["sale.paysystem.nope", "sale.paysystem.list"]}))
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
    let ps = portal.b24pay_setup("http://localhost:8080/").await;
    let cmd = json!({
        "read": "sale.paysystem.list",
        "wrong": command(PAY, json!({"PAYMENT_ID": 3, "PAY_SYSTEM_ID": ps})),
        "pay": command(PAY, json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": ps})),
    });
    let halted = portal.batch(json!({"halt": 1, "cmd": cmd.clone()})).await;
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
            .batch(json!({"halt": halt, "cmd": cmd.clone()}))
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
    let reply = portal.batch(json!({"halt": 1, "cmd": {
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
    let reply = portal.batch(json!({"cmd": cmd})).await;
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
        .batch(json!({"cmd": {
            "inner": format!("batch?{}", php_query(&json!({"cmd": {"x": "sale.paysystem.list"}}))),
            "inner_json": "Batch.json",
            "ok": "sale.paysystem.list",
        }}))
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
