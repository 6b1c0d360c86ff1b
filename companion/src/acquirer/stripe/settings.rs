//! `[acquirer.stripe]` in the configuration file and `B24PAY_STRIPE_*` in the environment
//! (which win), validated once into [`StripeSettings`] with every problem listed. The secret key
//! and the webhook secret are [`Secret`]s: never printed, never in an error. The publishable key
//! is public by design (the browser gets it for Stripe.js).

use crate::config::Secret;
use serde::Deserialize;
use std::time::Duration;
use url::Url;

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_JS_URL: &str = "https://js.stripe.com/v3/";
/// Below the payment flow's charge lease (30 s by default): a call must end inside it.
pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;

/// The `[acquirer.stripe]` table as written; every key optional until validated.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStripe {
    pub secret_key: Option<Secret>,
    pub publishable_key: Option<String>,
    pub webhook_secret: Option<Secret>,
    pub api_base: Option<String>,
    pub js_url: Option<String>,
    pub timeout_ms: Option<u64>,
}

/// Validated Stripe configuration.
#[derive(Clone, Debug)]
pub struct StripeSettings {
    pub secret_key: Secret,
    pub publishable_key: String,
    pub webhook_secret: Secret,
    pub api_base: Url,
    pub js_url: Url,
    /// Per API call, connection included.
    pub timeout: Duration,
}

impl StripeSettings {
    /// `sk_live_…`/`rk_live_…`: real money.
    pub fn livemode(&self) -> bool {
        self.secret_key.expose().contains("_live_")
    }
}

/// What Stripe.js needs in the widget page's CSP (Stripe's published list for Stripe.js, minus
/// what the page does not use): its script from `js_url`'s origin, its frames (3-D Secure
/// challenges are framed from `hooks.stripe.com`), its calls to `api_base`. Against localstripe
/// both are the fake's own origin.
pub fn csp_sources(s: &StripeSettings) -> crate::csp::AcquirerSources {
    let js = s.js_url.origin().ascii_serialization();
    let api = s.api_base.origin().ascii_serialization();
    let mut frame = vec![js.clone()];
    let mut script = vec![js.clone()];
    if s.js_url.host_str() == Some("js.stripe.com") {
        script.push("https://*.js.stripe.com".into());
        frame.push("https://*.js.stripe.com".into());
        frame.push("https://hooks.stripe.com".into());
    }
    crate::csp::AcquirerSources {
        script,
        frame,
        connect: vec![api],
    }
}

/// The key's mode (`test`/`live`) when it has one of the given prefixes.
fn key_mode<'a>(key: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    let rest = prefixes.iter().find_map(|p| key.strip_prefix(p))?;
    let (mode, tail) = rest.split_once('_')?;
    let ok = matches!(mode, "test" | "live")
        && !tail.is_empty()
        && tail.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then_some(mode)
}

impl FileStripe {
    pub fn validate(&self) -> Result<StripeSettings, Vec<String>> {
        let mut problems = Vec::new();
        let secret_mode = match &self.secret_key {
            None => {
                problems
                    .push("acquirer.stripe.secret_key (B24PAY_STRIPE_SECRET_KEY): missing".into());
                None
            }
            Some(k) => {
                let mode = key_mode(k.expose().trim(), &["sk_", "rk_"]);
                if mode.is_none() {
                    // Never echo it: it may be a real key pasted into the wrong field.
                    problems.push("acquirer.stripe.secret_key: not a Stripe secret key (sk_test_…, sk_live_…, or a restricted rk_…)".into());
                }
                mode
            }
        };
        let publishable_key = self.publishable_key.as_deref().unwrap_or("").trim();
        match key_mode(publishable_key, &["pk_"]) {
            None if publishable_key.is_empty() => problems.push(
                "acquirer.stripe.publishable_key (B24PAY_STRIPE_PUBLISHABLE_KEY): missing".into(),
            ),
            None => problems.push(
                "acquirer.stripe.publishable_key: not a Stripe publishable key (pk_test_… or pk_live_…)"
                    .into(),
            ),
            Some(mode) if secret_mode.is_some_and(|s| s != mode) => problems.push(format!(
                "acquirer.stripe: the publishable key is a {mode} key but the secret key is not; use the pair from one mode"
            )),
            Some(_) => {}
        }
        match &self.webhook_secret {
            None => problems.push(
                "acquirer.stripe.webhook_secret (B24PAY_STRIPE_WEBHOOK_SECRET): missing (the endpoint's signing secret, whsec_…)"
                    .into(),
            ),
            Some(s) if !s.expose().trim().starts_with("whsec_") || s.expose().trim().len() < 12 => problems.push(
                "acquirer.stripe.webhook_secret: not a webhook signing secret (whsec_…)".into(),
            ),
            Some(_) => {}
        }
        let api_base = endpoint(
            "api_base",
            self.api_base.as_deref(),
            DEFAULT_API_BASE,
            &mut problems,
        );
        let js_url = endpoint(
            "js_url",
            self.js_url.as_deref(),
            DEFAULT_JS_URL,
            &mut problems,
        );
        let timeout_ms = self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if !(100..=60_000).contains(&timeout_ms) {
            problems.push(format!(
                "acquirer.stripe.timeout_ms: {timeout_ms} is outside 100..=60000"
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(StripeSettings {
            secret_key: Secret::new(self.secret_key.as_ref().map_or("", |s| s.expose()).trim()),
            publishable_key: publishable_key.to_string(),
            webhook_secret: Secret::new(
                self.webhook_secret
                    .as_ref()
                    .map_or("", |s| s.expose())
                    .trim(),
            ),
            api_base: api_base.expect("checked"),
            js_url: js_url.expect("checked"),
            timeout: Duration::from_millis(timeout_ms),
        })
    }
}

/// An https URL, or http on a loopback host (localstripe in tests): the secret key and card
/// numbers never travel in clear text over a network.
fn endpoint(
    key: &str,
    text: Option<&str>,
    default: &str,
    problems: &mut Vec<String>,
) -> Option<Url> {
    let text = text.unwrap_or(default).trim();
    let url = match Url::parse(text) {
        Ok(u) if u.host_str().is_some() => u,
        _ => {
            problems.push(format!(
                "acquirer.stripe.{key}: {text:?} is not an absolute URL"
            ));
            return None;
        }
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !ok {
        problems.push(format!(
            "acquirer.stripe.{key}: {text:?} must be https (plain http only on localhost)"
        ));
        return None;
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        problems.push(format!(
            "acquirer.stripe.{key}: {text:?} must not carry a query, fragment or user"
        ));
        return None;
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn good() -> FileStripe {
        FileStripe {
            secret_key: Some(Secret::new("sk_test_abc123")),
            publishable_key: Some("pk_test_abc123".into()),
            webhook_secret: Some(Secret::new("whsec_abcdef123")),
            ..FileStripe::default()
        }
    }

    #[test]
    fn defaults() {
        let s = good().validate().unwrap();
        assert_eq!(s.api_base.as_str(), "https://api.stripe.com/");
        assert_eq!(s.js_url.as_str(), "https://js.stripe.com/v3/");
        assert_eq!(s.timeout, Duration::from_secs(20));
        assert!(!s.livemode());
        let debug = format!("{s:?}");
        assert!(!debug.contains("sk_test_abc123") && !debug.contains("whsec_abcdef123"));
        assert!(debug.contains("pk_test_abc123"));
    }

    #[test]
    fn csp_sources_of_stripe_and_of_a_stand_in() {
        let real = csp_sources(&good().validate().unwrap());
        assert_eq!(
            real.script,
            ["https://js.stripe.com", "https://*.js.stripe.com"]
        );
        assert!(real.frame.contains(&"https://hooks.stripe.com".to_string()));
        assert_eq!(real.connect, ["https://api.stripe.com"]);
        let mut local = good();
        local.api_base = Some("http://127.0.0.1:8420".into());
        local.js_url = Some("http://127.0.0.1:8420/js.stripe.com/v3/".into());
        let local = csp_sources(&local.validate().unwrap());
        assert_eq!(local.script, ["http://127.0.0.1:8420"]);
        assert_eq!(local.frame, ["http://127.0.0.1:8420"]);
        assert_eq!(local.connect, ["http://127.0.0.1:8420"]);
    }

    #[test]
    fn every_problem_at_once_and_no_secret_echoed() {
        let f = FileStripe {
            secret_key: Some(Secret::new("sk_live_SECRETVALUE")),
            publishable_key: Some("pk_test_abc".into()),
            webhook_secret: Some(Secret::new("not-a-whsec-SECRETVALUE")),
            api_base: Some("http://api.example.com".into()),
            js_url: Some("js.stripe.com".into()),
            timeout_ms: Some(5),
        };
        let problems = f.validate().unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems.iter().all(|p| !p.contains("SECRETVALUE")));
        assert!(problems[0].contains("publishable key is a test key"));
        let missing = FileStripe::default().validate().unwrap_err();
        assert_eq!(missing.len(), 3, "{missing:#?}");
        let bad_key = FileStripe {
            secret_key: Some(Secret::new("pk_test_SECRETVALUE")),
            ..good()
        };
        let problems = bad_key.validate().unwrap_err();
        assert!(problems[0].contains("not a Stripe secret key"));
        assert!(!problems[0].contains("SECRETVALUE"));
    }

    #[test]
    fn loopback_may_be_plain_http() {
        let f = FileStripe {
            api_base: Some("http://127.0.0.1:8420".into()),
            js_url: Some("http://localhost:8420/js.stripe.com/v3/".into()),
            ..good()
        };
        let s = f.validate().unwrap();
        assert_eq!(s.api_base.as_str(), "http://127.0.0.1:8420/");
    }

    #[test]
    fn env_wins_and_creates_the_table() {
        use crate::config::FileConfig;
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let f = FileConfig::layered(
            "",
            "test",
            &env(&[
                ("B24PAY_STRIPE_SECRET_KEY", "sk_test_env"),
                ("B24PAY_STRIPE_PUBLISHABLE_KEY", "pk_test_env"),
                ("B24PAY_STRIPE_WEBHOOK_SECRET", "whsec_fromenv1"),
                ("B24PAY_STRIPE_TIMEOUT_MS", "1500"),
            ]),
        )
        .unwrap();
        let s = f.acquirer.stripe.unwrap().validate().unwrap();
        assert_eq!(s.secret_key.expose(), "sk_test_env");
        assert_eq!(s.timeout, Duration::from_millis(1500));
        let none = FileConfig::layered("", "test", &env(&[])).unwrap();
        assert!(none.acquirer.stripe.is_none());
        let err = FileConfig::layered("", "test", &env(&[("B24PAY_STRIPE_TIMEOUT_MS", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("B24PAY_STRIPE_TIMEOUT_MS"), "{err}");
    }
}
