//! Configuration: file and environment, validated at start with messages that say what is
//! wrong and never echo a secret.

use b24pay_companion::config::{ConfigError, FileConfig};
use std::collections::HashMap;

const WEBHOOK: &str = "https://shop.bitrix24.ru/rest/1/s3cr3tc0de/";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn problems(toml: &str, vars: &[(&str, &str)]) -> String {
    match FileConfig::layered(toml, "test", &env(vars)).and_then(FileConfig::validate) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_minimal_config_gets_sensible_defaults() {
    let file: FileConfig =
        toml::from_str(&format!("[portal]\nwebhook_url = \"{WEBHOOK}\"\n")).unwrap();
    assert!(file.has_portal());
    let c = file.validate().unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.public_url.as_str(), "http://localhost:8080/");
    assert_eq!(
        c.allowed_origins,
        vec!["https://shop.bitrix24.ru"],
        "the portal frames the widget"
    );
    assert_eq!(c.api_base, "/api/v1");
    assert_eq!(c.limits.body_bytes, 16 * 1024);
    assert!(
        !format!("{c:?}").contains("s3cr3tc0de"),
        "Debug hides the webhook code"
    );
}

#[test]
fn environment_overrides_the_file() {
    let file = "listen = \"127.0.0.1:9000\"\nallowed_origins = [\"https://a.example\"]\n[portal]\nwebhook_url = \"https://x.example/rest/1/abc/\"\n";
    let c = FileConfig::layered(
        file,
        "test",
        &env(&[
            ("B24PAY_LISTEN", "0.0.0.0:8443"),
            (
                "B24PAY_ALLOWED_ORIGINS",
                "https://b.example https://c.example",
            ),
            ("B24PAY_WEBHOOK_URL", WEBHOOK),
            ("DATABASE_URL", "postgres://u@db/b24pay"),
            (
                "B24PAY_MASTER_KEY",
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            ),
            ("B24PAY_PORTAL_RATE_LIMIT", "5/250"),
        ]),
    )
    .unwrap()
    .validate()
    .unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:8443");
    assert_eq!(
        c.allowed_origins,
        vec!["https://b.example", "https://c.example"]
    );
    assert_eq!(c.portal.origin, "https://shop.bitrix24.ru");
    assert_eq!(c.portal.rate_limit, Some((5.0, 250)));
    assert!(
        matches!(c.store, b24pay_companion::store::StoreLocation::Url(ref u) if u.starts_with("postgres://"))
    );
}

#[test]
fn clear_messages() {
    let portal = format!("[portal]\nwebhook_url = \"{WEBHOOK}\"\n");
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (String::new(), vec![], "no portal configured"),
        (
            format!("listen = \"localhost\"\n{portal}"),
            vec![],
            "listen: \"localhost\" is not an address:port",
        ),
        (
            format!("public_url = \"not a url\"\n{portal}"),
            vec![],
            "public_url: \"not a url\" is not a valid URL",
        ),
        (
            format!("allowed_origins = [\"https://shop.example/pay\"]\n{portal}"),
            vec![],
            "is not an origin (it has a path)",
        ),
        (
            format!("allowed_origins = [\"https://*.bitrix24.ru\"]\n{portal}"),
            vec![],
            "wildcards are not allowed",
        ),
        (
            format!("allowed_origins = [\"shop.example\"]\n{portal}"),
            vec![],
            "write scheme://host[:port]",
        ),
        (
            format!("database_url = \"mysql://x\"\n{portal}"),
            vec![],
            "must start with postgres://",
        ),
        (format!("api_base = \"api\"\n{portal}"), vec![], "api_base"),
        (
            "[portal]\nwebhook_url = \"https://shop.bitrix24.ru/s3cr3tc0de\"\n".into(),
            vec![],
            "must end in /rest/USER_ID/CODE/",
        ),
        (
            "[portal]\nwebhook_url = \"ftp://s3cr3tc0de\"\n".into(),
            vec![],
            "not an http(s) URL",
        ),
        (
            format!("{portal}[portal.oauth]\nclient_id = \"a\"\n"),
            vec![],
            "not both",
        ),
        (
            "[portal.oauth]\nclient_id = \"app\"\n".into(),
            vec![],
            "portal.oauth: missing portal_url, client_secret",
        ),
        (
            format!("{portal}timeout_ms = 70000\n"),
            vec![],
            "the portal cuts requests at 60 s",
        ),
        (
            format!("{portal}timeout_ms = 20000\n[outbox]\nlease_ms = 5000\n"),
            vec![],
            "must exceed portal.timeout_ms",
        ),
        (
            format!("[limits]\nbody_bytes = 10\n{portal}"),
            vec![],
            "limits.body_bytes",
        ),
        (
            portal.clone(),
            vec![("B24PAY_PORTAL_RATE_LIMIT", "fast")],
            "B24PAY_PORTAL_RATE_LIMIT",
        ),
        (
            portal.clone(),
            vec![("B24PAY_PORTAL_TIMEOUT_MS", "soon")],
            "B24PAY_PORTAL_TIMEOUT_MS",
        ),
    ];
    for (toml, vars, expected) in cases {
        let message = problems(&toml, &vars);
        assert!(
            message.contains(expected),
            "{toml:?}: {message:?} lacks {expected:?}"
        );
        assert!(
            !message.contains("s3cr3tc0de"),
            "a message echoes the webhook code: {message}"
        );
    }
    // Several problems are reported together.
    let message = problems(
        &format!("listen = \"x\"\nallowed_origins = [\"https://a/b\"]\n{portal}"),
        &[],
    );
    assert!(
        message.contains("listen") && message.contains("allowed_origins"),
        "{message}"
    );
}

#[test]
fn unknown_keys_in_the_file_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b24pay.toml");
    std::fs::write(&path, "listen = \"127.0.0.1:8080\"\nlisten_port = 1\n").unwrap();
    match FileConfig::load(Some(&path), &env(&[])) {
        Err(ConfigError::Parse { message, .. }) => {
            assert!(message.contains("listen_port"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        FileConfig::load(Some(&dir.path().join("missing.toml")), &env(&[])),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn the_binary_refuses_a_bad_config_with_the_message() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_b24pay"))
        .arg("check-config")
        .env_clear()
        .env("B24PAY_WEBHOOK_URL", WEBHOOK)
        .env("B24PAY_ALLOWED_ORIGINS", "https://shop.example/with/path")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("allowed_origins") && err.contains("has a path"),
        "{err}"
    );
    assert!(!err.contains("s3cr3tc0de"));
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_b24pay"))
        .arg("check-config")
        .env_clear()
        .env("B24PAY_WEBHOOK_URL", WEBHOOK)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let shown = String::from_utf8_lossy(&ok.stdout);
    assert!(!shown.contains("s3cr3tc0de"));
    assert!(
        shown.contains("live acquirer: none configured") && shown.contains("live_mode_unavailable"),
        "which acquirer LIVE pay systems use: {shown}"
    );
}

#[test]
fn check_config_names_the_live_acquirer_without_its_secrets() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_b24pay"))
        .arg("check-config")
        .env_clear()
        .env("B24PAY_WEBHOOK_URL", WEBHOOK)
        .env("B24PAY_PUBLIC_URL", "https://pay.example.com/")
        .env("B24PAY_STRIPE_SECRET_KEY", "sk_test_envSECRETkey")
        .env("B24PAY_STRIPE_PUBLISHABLE_KEY", "pk_test_envPUBLIC")
        .env("B24PAY_STRIPE_WEBHOOK_SECRET", "whsec_envSIGNINGsecret")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{shown} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shown.contains("live acquirer: stripe (test-mode keys, publishable key pk_test_envPUBLIC"),
        "{shown}"
    );
    assert!(
        shown.contains("webhook endpoint https://pay.example.com/webhooks/stripe"),
        "{shown}"
    );
    assert!(
        !shown.contains("envSECRETkey") && !shown.contains("envSIGNINGsecret"),
        "{shown}"
    );
}

#[test]
fn stripe_from_the_file_and_the_environment() {
    let toml = format!(
        "[portal]\nwebhook_url = \"{WEBHOOK}\"\n[acquirer.stripe]\nsecret_key = \"sk_test_fileKEY\"\npublishable_key = \"pk_test_fileKEY\"\nwebhook_secret = \"whsec_fileSECRET\"\n"
    );
    let file: FileConfig = toml::from_str(&toml).unwrap();
    let c = file.clone().validate().unwrap();
    let s = c.stripe.as_ref().expect("configured");
    assert_eq!(s.api_base.as_str(), "https://api.stripe.com/");
    assert_eq!(s.js_url.as_str(), "https://js.stripe.com/v3/");
    let shown = format!("{c:#?}");
    assert!(!shown.contains("sk_test_fileKEY") && !shown.contains("whsec_fileSECRET"));
    assert!(
        shown.contains("pk_test_fileKEY"),
        "the publishable key is public"
    );

    let c = FileConfig::layered(
        &toml,
        "test",
        &env(&[
            ("B24PAY_STRIPE_SECRET_KEY", "sk_test_envKEY"),
            ("B24PAY_STRIPE_API_BASE", "http://127.0.0.1:8420"),
        ]),
    )
    .and_then(FileConfig::validate)
    .unwrap();
    let s = c.stripe.unwrap();
    assert_eq!(s.secret_key.expose(), "sk_test_envKEY");
    assert_eq!(s.api_base.as_str(), "http://127.0.0.1:8420/");

    let none: FileConfig =
        toml::from_str(&format!("[portal]\nwebhook_url = \"{WEBHOOK}\"\n")).unwrap();
    assert!(none.validate().unwrap().stripe.is_none());
}

#[test]
fn stripe_problems_are_listed_without_secrets() {
    let toml = format!("[portal]\nwebhook_url = \"{WEBHOOK}\"\n");
    let message = problems(
        &toml,
        &[
            ("B24PAY_STRIPE_SECRET_KEY", "sk_live_TOPSECRET"),
            ("B24PAY_STRIPE_PUBLISHABLE_KEY", "pk_test_abc"),
            ("B24PAY_STRIPE_API_BASE", "http://api.stripe.com"),
        ],
    );
    assert!(
        message.contains("publishable key is a test key"),
        "{message}"
    );
    assert!(message.contains("webhook_secret"), "{message}");
    assert!(message.contains("must be https"), "{message}");
    assert!(!message.contains("TOPSECRET"), "{message}");
    let unknown: Result<FileConfig, _> =
        toml::from_str("[acquirer.stripe]\nsecret_key = \"sk_test_x\"\nsecret = \"x\"\n");
    assert!(unknown.is_err(), "unknown keys are errors");
}
