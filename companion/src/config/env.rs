//! The environment's layer. Every `B24PAY_*` variable is one row of [`VARS`]: the file key(s) it
//! sets, how its text is read, and what it means. The rows write into the file's TOML tree before
//! that tree is read into [`super::FileConfig`], so the file and the environment go through one
//! deserialisation and one validation, and a variable can never mean something its key does not.
//! The README's configuration table is generated from these rows (a test compares them).

use std::collections::HashMap;
use toml::{Table, Value};

/// How a variable's text becomes a TOML value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// As written (secrets too: their fields are `Secret`s).
    Text,
    /// Space- or comma-separated.
    List,
    /// A non-negative whole number (milliseconds, counts, bytes).
    Count,
    /// A decimal number such as `0.8`.
    Number,
    Bool,
    /// `off` (the first key set to 0) or `RATE/BURST` such as `2/50` (the two keys).
    Rate,
}

/// One environment variable.
#[derive(Debug)]
pub struct Var {
    pub name: &'static str,
    /// Also read, when `name` is unset (a platform's conventional name).
    pub alias: Option<&'static str>,
    /// Dotted file keys: one, or two for [`Kind::Rate`].
    pub keys: &'static [&'static str],
    pub kind: Kind,
    /// Default and meaning, as the README shows them.
    pub about: &'static str,
}

const fn var(
    name: &'static str,
    key: &'static [&'static str],
    kind: Kind,
    about: &'static str,
) -> Var {
    Var {
        name,
        alias: None,
        keys: key,
        kind,
        about,
    }
}

use Kind::*;

/// Every variable the companion reads (besides `B24PAY_CONFIG`, the file's path, and
/// `B24PAY_LOG`).
pub const VARS: &[Var] = &[
    var("B24PAY_LISTEN", &["listen"], Text, "`127.0.0.1:8080`"),
    var("B24PAY_ADMIN_LISTEN", &["admin_listen"], Text, "none; when set (e.g. `127.0.0.1:9090`), `/readyz` and `/metrics` are served there only (`/healthz` on both)"),
    var("B24PAY_PUBLIC_URL", &["public_url"], Text, "`http://localhost:<port>/`; the widget's URL (the handler's `ACTION_URI`)"),
    var("B24PAY_ALLOWED_ORIGINS", &["allowed_origins"], List, "the portal's origin; exact origins, space/comma separated: the widget accepts messages only from these, the CSP `frame-ancestors` lists them"),
    var("B24PAY_API_BASE", &["api_base"], Text, "`/api/v1` (a path or an absolute URL)"),
    var("B24PAY_DATA_DIR", &["data_dir"], Text, "`./b24pay-data` (SQLite file `b24pay.sqlite3`, created on first run)"),
    Var {
        name: "B24PAY_DATABASE_URL",
        alias: Some("DATABASE_URL"),
        keys: &["database_url"],
        kind: Text,
        about: "none; `postgres://…` (several instances behind a load balancer) or `sqlite:…`; overrides `data_dir`",
    },
    var("B24PAY_DIST_DIR", &["dist_dir"], Text, "`dist/` next to the binary, else the repository's `dist/`, else `./dist`"),
    var("B24PAY_CORS_ORIGINS", &["cors_origins"], List, "none (the widget calls the API same-origin)"),
    var("B24PAY_PREVIEW_SAMPLE", &["preview_sample"], Text, "none; a JSON file with a portal message that the widget shows when opened on its own (the standalone preview); `b24pay preview` sets it"),
    var("B24PAY_WEBHOOK_URL", &["portal.webhook_url"], Text, "the inbound webhook (scope `pay_system`); secret"),
    var("B24PAY_OAUTH_PORTAL_URL", &["portal.oauth.portal_url"], Text, "instead of a webhook: the portal's URL"),
    var("B24PAY_OAUTH_CLIENT_ID", &["portal.oauth.client_id"], Text, "the application's client id"),
    var("B24PAY_OAUTH_CLIENT_SECRET", &["portal.oauth.client_secret"], Text, "the application's client secret; secret"),
    var("B24PAY_OAUTH_REFRESH_TOKEN", &["portal.oauth.refresh_token"], Text, "the first refresh token (later ones are kept in the store, encrypted); secret"),
    var("B24PAY_OAUTH_ACCESS_TOKEN", &["portal.oauth.access_token"], Text, "an access token to start with; secret"),
    var("B24PAY_OAUTH_TOKEN_ENDPOINT", &["portal.oauth.token_endpoint"], Text, "`https://oauth.bitrix.info/oauth/token/`"),
    var("B24PAY_APP_CLIENT_ID", &["app.client_id"], Text, "none; a Market application's `client_id` (portals install it; no portal of its own needed)"),
    var("B24PAY_APP_CLIENT_SECRET", &["app.client_secret"], Text, "the Market application's client secret; secret"),
    var("B24PAY_APP_TOKEN_ENDPOINT", &["app.token_endpoint"], Text, "`https://oauth.bitrix.info/oauth/token/`; where installs' tokens are checked and refreshed"),
    var("B24PAY_APP_BX24_SCRIPT", &["app.bx24_script"], Text, "`https://api.bitrix24.com/api/v1/`; the BX24 library the install page loads"),
    var("B24PAY_PORTAL_TIMEOUT_MS", &["portal.timeout_ms"], Count, "20000 (must be below the portal's 60 s)"),
    var("B24PAY_PORTAL_RATE_LIMIT", &["portal.rate_limit_per_second", "portal.rate_limit_burst"], Rate, "`2/50`: 2 requests/s after a burst of 50 (the portal's leaky bucket); `off`"),
    var("B24PAY_PORTAL_CUSTOMER_SHARE", &["portal.customer_share"], Number, "0.8: customer-facing portal calls may fill 80 % of that bucket; the rest is kept for the outbox (marking charged payments paid), which may use all of it; while both wait they take turns (see \"The portal's budget\")"),
    var("B24PAY_PORTAL_BATCH", &["portal.batch"], Bool, "`true`: concurrent customers' verifications share `batch` requests and the outbox sends its calls in batches (see \"The portal's budget\"); `false` sends every call alone"),
    var("B24PAY_BODY_BYTES", &["limits.body_bytes"], Count, "16384 (1024 to 1048576)"),
    var("B24PAY_REQUEST_TIMEOUT_MS", &["limits.request_timeout_ms"], Count, "30000; the handler's timeout starts once the body is in"),
    var("B24PAY_CONCURRENCY", &["limits.concurrency"], Count, "512 requests in flight"),
    var("B24PAY_HEADER_READ_TIMEOUT_MS", &["limits.header_read_timeout_ms"], Count, "10000 from a request's first byte to the end of its headers, else the connection is cut"),
    var("B24PAY_IDLE_TIMEOUT_MS", &["limits.idle_timeout_ms"], Count, "60000: a keep-alive connection without a request is closed"),
    var("B24PAY_BODY_READ_TIMEOUT_MS", &["limits.body_read_timeout_ms"], Count, "10000 for a request's body to arrive, else a JSON `timeout` error (504)"),
    var("B24PAY_CONNECTIONS_PER_IP", &["limits.connections_per_ip"], Count, "128 open connections per client address (IPv6: per /64); one more gets a JSON 429 and is closed; `0` turns it off. Behind a reverse proxy every connection comes from the proxy: raise it (or 0) and limit at the proxy"),
    var("B24PAY_READYZ_INTERVAL_MS", &["limits.readyz_interval_ms"], Count, "5000: `/readyz` asks the portal at most once per interval (its answer, a failure too, is cached)"),
    var("B24PAY_CLIENT_IP_HEADER", &["limits.client_ip_header"], Text, "none; behind a reverse proxy, the header it puts the client's address in (e.g. `X-Forwarded-For`; the last address is used); without it the per-client limits see the proxy"),
    var("B24PAY_MASTER_KEY", &["security.master_key"], Text, "32 random bytes, hex or base64 (`openssl rand -hex 32`). With SQLite, when absent, generated once as `master.key` (mode 0600) next to the database (logged); **required with PostgreSQL**, the same for every instance. Back it up with the data: stored OAuth tokens cannot be read without it; secret"),
    var("B24PAY_OUTBOX_BATCH", &["outbox.batch"], Count, "64 rows claimed at a time (1 to 1000)"),
    var("B24PAY_OUTBOX_LEASE_MS", &["outbox.lease_ms"], Count, "60000; must exceed `portal.timeout_ms`"),
    var("B24PAY_OUTBOX_BASE_BACKOFF_MS", &["outbox.base_backoff_ms"], Count, "500, doubling per failed try"),
    var("B24PAY_OUTBOX_MAX_BACKOFF_MS", &["outbox.max_backoff_ms"], Count, "300000"),
    var("B24PAY_OUTBOX_POLL_MS", &["outbox.poll_ms"], Count, "1000: how often an idle worker looks for rows others (or a crash) left behind"),
    var("B24PAY_OUTBOX_AMBIGUOUS_WAIT_MS", &["outbox.ambiguous_wait_ms"], Count, "60000 (the portal's execution limit: after a try that may have reached it, PAID is re-read no sooner)"),
    var("B24PAY_OUTBOX_DEAD_AFTER_MS", &["outbox.dead_after_ms"], Count, "3600000 of permanent refusals before a portal call is given up (`dead`)"),
    var("B24PAY_CHARGE_LEASE_MS", &["payments.charge_lease_ms"], Count, "30000: how long a charge in flight owns its attempt (every acquirer call ends within half of it)"),
    var("B24PAY_DUPLICATE_WAIT_MS", &["payments.duplicate_wait_ms"], Count, "10000: how long a duplicate request waits for the original's result"),
    var("B24PAY_ALLOW_TEST_MODE", &["payments.allow_test_mode"], Bool, "`false` (see TEST mode); `true` in `b24pay preview`"),
    var("B24PAY_ACTION_HOLD_MS", &["payments.action_hold_ms"], Count, "300000: an unanswered challenge blocks other pages this long (its own page may replace it at once)"),
    var("B24PAY_MAX_ACTION_ROUNDS", &["payments.max_action_rounds"], Count, "5 answers (challenge codes) per attempt"),
    var("B24PAY_MAX_DECLINES", &["payments.max_declines"], Count, "5 declines per payment within `decline_window_ms`, then it cools off (`too_many_attempts`)"),
    var("B24PAY_DECLINE_WINDOW_MS", &["payments.decline_window_ms"], Count, "1800000"),
    var("B24PAY_CANCEL_AFTER_MS", &["payments.cancel_after_ms"], Count, "120000: a charge still open at the acquirer after its holder gave up is cancelled after this"),
    var("B24PAY_REVIEW_AFTER_MS", &["payments.review_after_ms"], Count, "3600000: an attempt `unknown` this long is listed for manual review"),
    var("B24PAY_RECONCILE_POLL_MS", &["payments.reconcile_poll_ms"], Count, "1000: how often the reconciler looks for attempts to settle"),
    var("B24PAY_CLIENT_RATE", &["payments.client_per_minute", "payments.client_burst"], Rate, "`30/10`: confirm requests per client address and minute, burst, before any portal call; `off`"),
    var("B24PAY_PAYMENT_RATE", &["payments.payment_per_minute", "payments.payment_burst"], Rate, "`12/6`: confirm requests per portal payment and minute, burst; `off`"),
    var("B24PAY_REFUSAL_CACHE_MS", &["payments.refusal_cache_ms"], Count, "30000: \"no such payment\" and \"already paid\" answered from memory"),
    var("B24PAY_STRIPE_SECRET_KEY", &["acquirer.stripe.secret_key"], Text, "none; with the publishable key and the webhook secret, turns Stripe on for LIVE pay systems (see [Stripe](#stripe)); secret"),
    var("B24PAY_STRIPE_PUBLISHABLE_KEY", &["acquirer.stripe.publishable_key"], Text, "none; given to the browser for Stripe.js (public by design)"),
    var("B24PAY_STRIPE_WEBHOOK_SECRET", &["acquirer.stripe.webhook_secret"], Text, "none; the `whsec_…` that signs Stripe's webhooks; secret"),
    var("B24PAY_STRIPE_API_BASE", &["acquirer.stripe.api_base"], Text, "`https://api.stripe.com`; https only (plain http on localhost, for localstripe)"),
    var("B24PAY_STRIPE_JS_URL", &["acquirer.stripe.js_url"], Text, "`https://js.stripe.com/v3/`"),
    var("B24PAY_STRIPE_TIMEOUT_MS", &["acquirer.stripe.timeout_ms"], Count, "20000 per Stripe call"),
];

/// Writes every set variable into `tree`, listing the ones whose text cannot be read.
pub fn overlay(tree: &mut Table, env: &HashMap<String, String>, problems: &mut Vec<String>) {
    for var in VARS {
        let text = [Some(var.name), var.alias]
            .into_iter()
            .flatten()
            .find_map(|name| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()));
        let Some(text) = text else { continue };
        match values(var, text) {
            Ok(values) => {
                for (key, value) in var.keys.iter().zip(values) {
                    set(tree, key, value);
                }
            }
            Err(expected) => problems.push(format!("{}: {text:?} is not {expected}", var.name)),
        }
    }
}

/// The process environment, restricted to what configuration reads.
pub fn process_env() -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| VARS.iter().any(|v| v.name == k || v.alias == Some(k)))
        .collect()
}

fn values(var: &Var, text: &str) -> Result<Vec<Value>, &'static str> {
    let one = |v: Value| Ok(vec![v]);
    match var.kind {
        Text => one(Value::String(text.to_string())),
        List => one(Value::Array(
            text.split([' ', ',', '\n', '\t'])
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
        Count => count(text).map(|n| vec![n]).ok_or("a whole number"),
        Number => number(text).map(|n| vec![n]).ok_or("a number such as 0.8"),
        Bool => match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => one(Value::Boolean(true)),
            "0" | "false" | "no" | "off" => one(Value::Boolean(false)),
            _ => Err("true or false"),
        },
        Rate if text.eq_ignore_ascii_case("off") => one(Value::Integer(0)),
        Rate => text
            .split_once('/')
            .and_then(|(rate, burst)| Some(vec![number(rate)?, count(burst)?]))
            .ok_or("\"off\" or RATE/BURST such as \"2/50\""),
    }
}

/// Milliseconds once read as `u64`: anything TOML's integers hold is accepted.
fn count(text: &str) -> Option<Value> {
    let n: u64 = text.trim().parse().ok()?;
    Some(Value::Integer(i64::try_from(n).ok()?))
}

/// Whole numbers stay integers, so a per-minute count can take them too.
fn number(text: &str) -> Option<Value> {
    count(text).or_else(|| {
        let f: f64 = text.trim().parse().ok()?;
        (f.is_finite() && f >= 0.0).then_some(Value::Float(f))
    })
}

fn set(tree: &mut Table, dotted: &str, value: Value) {
    let mut table = tree;
    let mut parts = dotted.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            table.insert(part.to_string(), value);
            return;
        }
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        table = entry.as_table_mut().expect("a table was just put here");
    }
}

/// The README's configuration table, one row per variable.
pub fn markdown_table() -> String {
    let mut out = String::from("| key (TOML) | environment | default / notes |\n|---|---|---|\n");
    for var in VARS {
        let keys: Vec<String> = var.keys.iter().map(|k| file_key(k)).collect();
        let env = match var.alias {
            Some(alias) => format!("`{}` or `{alias}`", var.name),
            None => format!("`{}`", var.name),
        };
        out.push_str(&format!(
            "| {} | {env} | {} |\n",
            keys.join(", "),
            var.about
        ));
    }
    out
}

/// `portal.oauth.client_id` as a reader finds it in the file: `[portal.oauth] client_id`.
fn file_key(dotted: &str) -> String {
    match dotted.rsplit_once('.') {
        Some((table, key)) => format!("`[{table}] {key}`"),
        None => format!("`{dotted}`"),
    }
}
