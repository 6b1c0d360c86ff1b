use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The configuration from these environment variables alone (no file).
pub(super) fn from_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    FileConfig::layered("", "test", &env(pairs))?.validate()
}

const WEBHOOK: &str = "[portal]\nwebhook_url = \"https://p.bitrix24.ru/rest/1/code123/\"\n";

fn file_with(pairs: &[(&str, &str)]) -> Result<FileConfig, ConfigError> {
    FileConfig::layered(WEBHOOK, "test", &env(pairs))
}

#[test]
fn edge_defaults_and_environment() {
    let c = file_with(&[]).unwrap().validate().unwrap();
    assert_eq!(c.limits.header_read_timeout, Duration::from_secs(10));
    assert_eq!(c.limits.idle_timeout, Duration::from_secs(60));
    assert_eq!(c.limits.body_read_timeout, Duration::from_secs(10));
    assert_eq!(c.limits.connections_per_ip, 128);
    assert_eq!(c.limits.readyz_interval, Duration::from_secs(5));
    assert_eq!(c.portal.customer_share, DEFAULT_CUSTOMER_SHARE);
    assert_eq!(c.admin_listen, None);

    let c = file_with(&[
        ("B24PAY_ADMIN_LISTEN", "127.0.0.1:9090"),
        ("B24PAY_HEADER_READ_TIMEOUT_MS", "1500"),
        ("B24PAY_IDLE_TIMEOUT_MS", "2500"),
        ("B24PAY_BODY_READ_TIMEOUT_MS", "3500"),
        ("B24PAY_CONNECTIONS_PER_IP", "0"),
        ("B24PAY_READYZ_INTERVAL_MS", "700"),
        ("B24PAY_PORTAL_CUSTOMER_SHARE", "0.5"),
    ])
    .unwrap()
    .validate()
    .unwrap();
    assert_eq!(c.admin_listen, Some("127.0.0.1:9090".parse().unwrap()));
    assert_eq!(c.limits.header_read_timeout, Duration::from_millis(1500));
    assert_eq!(c.limits.idle_timeout, Duration::from_millis(2500));
    assert_eq!(c.limits.body_read_timeout, Duration::from_millis(3500));
    assert_eq!(c.limits.connections_per_ip, 0);
    assert_eq!(c.limits.readyz_interval, Duration::from_millis(700));
    assert_eq!(c.portal.customer_share, 0.5);
}

#[test]
fn bad_values_are_listed_together() {
    assert!(file_with(&[("B24PAY_IDLE_TIMEOUT_MS", "soon")]).is_err());
    assert!(file_with(&[("B24PAY_CONNECTIONS_PER_IP", "-1")]).is_err());
    let err = file_with(&[
        ("B24PAY_ALLOW_TEST_MODE", "maybe"),
        ("B24PAY_CLIENT_RATE", "fast"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("B24PAY_ALLOW_TEST_MODE") && err.contains("B24PAY_CLIENT_RATE"),
        "{err}"
    );
    let err = file_with(&[
        ("B24PAY_ADMIN_LISTEN", "127.0.0.1:8080"),
        ("B24PAY_HEADER_READ_TIMEOUT_MS", "5"),
        ("B24PAY_PORTAL_CUSTOMER_SHARE", "1.5"),
        ("B24PAY_BODY_BYTES", "10"),
    ])
    .unwrap()
    .validate()
    .unwrap_err()
    .to_string();
    for key in [
        "admin_listen",
        "header_read_timeout_ms",
        "customer_share",
        "body_bytes",
    ] {
        assert!(err.contains(key), "{key}: {err}");
    }
}

#[test]
fn the_environment_wins_over_the_file() {
    let text = format!("{WEBHOOK}timeout_ms = 1000\n[payments]\nallow_test_mode = true\n");
    let f = FileConfig::layered(
        &text,
        "test",
        &env(&[
            ("B24PAY_PORTAL_TIMEOUT_MS", "2000"),
            ("B24PAY_PORTAL_RATE_LIMIT", "off"),
        ]),
    )
    .unwrap();
    assert_eq!(f.portal.timeout_ms, Some(2000));
    assert_eq!(f.payments.allow_test_mode, Some(true));
    let c = f.validate().unwrap();
    assert_eq!(c.portal.rate_limit, None);
    let c = file_with(&[
        ("B24PAY_PORTAL_RATE_LIMIT", "5/250"),
        ("DATABASE_URL", "sqlite:x.db"),
    ])
    .unwrap()
    .validate()
    .unwrap();
    assert_eq!(c.portal.rate_limit, Some((5.0, 250)));
    assert!(matches!(c.store, StoreLocation::Url(u) if u == "sqlite:x.db"));
}

#[test]
fn a_file_mistake_names_its_line_but_not_its_text() {
    let text = format!("{WEBHOOK}\n[payments]\nallow_test_mod = \"sk_live_secretvalue\"\n");
    let err = FileConfig::layered(&text, "b24pay.toml", &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("b24pay.toml, line 5"), "{err}");
    assert!(err.contains("allow_test_mod"), "{err}");
    assert!(!err.contains("secretvalue"), "{err}");
}

/// Every row's keys exist in the file's shape and take the row's kind of value: a typo in the
/// table cannot hide until someone sets that variable.
#[test]
fn every_variable_sets_its_key() {
    for var in env::VARS {
        let sample = match var.kind {
            env::Kind::Text => "some-text",
            env::Kind::List => "https://a.example https://b.example",
            env::Kind::Count => "1234",
            env::Kind::Number => "0.5",
            env::Kind::Bool => "true",
            env::Kind::Rate => "3/40",
        };
        let f = FileConfig::layered("", "test", &env(&[(var.name, sample)]));
        let f = f.unwrap_or_else(|e| panic!("{}: {e}", var.name));
        let printed = format!("{f:?}");
        assert_ne!(
            printed,
            format!("{:?}", FileConfig::default()),
            "{} set nothing",
            var.name
        );
    }
    let names: std::collections::HashSet<_> = env::VARS.iter().map(|v| v.name).collect();
    assert_eq!(names.len(), env::VARS.len(), "a variable is listed twice");
}

/// The README's table is generated from [`env::VARS`]; `B24PAY_BLESS=1` rewrites it.
#[test]
fn the_readme_table_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- config-table:begin -->\n", "<!-- config-table:end -->");
    let a = readme
        .find(begin)
        .expect("README has the table's begin marker")
        + begin.len();
    let b = readme.find(end).expect("README has the table's end marker");
    let expected = env::markdown_table();
    if readme[a..b] != expected {
        if std::env::var_os("B24PAY_BLESS").is_some() {
            std::fs::write(&path, format!("{}{expected}{}", &readme[..a], &readme[b..])).unwrap();
        } else {
            panic!("README's configuration table is stale; run with B24PAY_BLESS=1 to rewrite it:\n{expected}");
        }
    }
}
