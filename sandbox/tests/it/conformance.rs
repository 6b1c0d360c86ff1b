//! Conformance with an official-style SDK: fast-bitrix24 (from PyPI, installed unmodified into
//! `tools/venv` by `scripts/setup.sh`) drives the sandbox over HTTPS through the seed pages'
//! calls. Every `call()` of fast-bitrix24 is a `batch`.

use std::path::PathBuf;
use std::process::Command;

use crate::common;
use serde_json::{json, Value};

/// `$B24PAY_VENV/bin/python` (exported by `scripts/setup.sh`), else the repository's
/// `tools/venv`.
fn python() -> PathBuf {
    let venv = std::env::var_os("B24PAY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh (it installs fast-bitrix24 into tools/venv)",
        python.display()
    );
    python
}

#[tokio::test]
async fn fast_bitrix24_runs_the_seed_calls_over_https() {
    let (_dir, sandbox) = common::https_sandbox().await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/conformance/fast_bitrix24_seeds.py");
    let mut command = Command::new(python());
    command
        .arg(&script)
        .arg(sandbox.webhook_url())
        .arg(sandbox.base_url())
        .env("SSL_CERT_FILE", sandbox.ca_certificate().unwrap())
        .env_remove("SSL_CERT_DIR");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("python runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "fast-bitrix24 failed: {stderr}");
    let out: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));

    assert_eq!(out["handler_id"], json!(1));
    assert_eq!(out["pay_system_id"], json!(1));
    assert_eq!(out["settings_update"], json!(true));
    assert_eq!(
        out["payment_settings"],
        json!({"PS_WORK_MODE_IFRAME": null, "REST_SERVICE_ID_IFRAME": "snum", "REST_SERVICE_KEY_IFRAME": "NEW_KEY"})
    );
    assert_eq!(out["pay_payment"], json!(true));
    assert_eq!(out["pay_invoice"], json!(true));
    assert_eq!(out["settings_get_both"].as_array().unwrap().len(), 2);
    assert_eq!(
        out["pay_systems"],
        json!([{"ID": "1", "NAME": "Card Payment", "ACTIVE": "Y"}, {"ID": "2", "NAME": "Invoice card", "ACTIVE": "Y"}])
    );
    let refused = out["refused"].as_str().expect("the refusal raised");
    assert!(refused.contains("ERROR_CHECK_FAILURE"), "{refused}");

    // What the portal saw: every call() a batch, the list a call of its own.
    let payment = sandbox.payment(1).unwrap();
    assert!(payment.paid);
    assert_eq!(payment.pay_calls, 1);
    assert_eq!(payment.rejected_pay_calls, 0);
    let invoice_payment = sandbox.invoice_payment_id(2).unwrap();
    assert!(sandbox.payment(invoice_payment).unwrap().paid);
    assert_eq!(sandbox.method_calls("batch"), 9);
    assert_eq!(sandbox.method_calls("sale.paysystem.settings.get"), 2);
    assert_eq!(sandbox.method_calls("sale.paysystem.pay.payment"), 2);
    assert_eq!(sandbox.method_calls("sale.paysystem.list"), 1);
    assert_eq!(sandbox.payment(3).unwrap().rejected_pay_calls, 1);
    sandbox.shutdown().await;
}
