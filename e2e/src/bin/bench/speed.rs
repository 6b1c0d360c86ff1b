//! Widget speed in headless Chromium on loopback, against a plain-JavaScript baseline page that
//! implements only the documented protocol (`e2e/baseline/index.html`).
//!
//! A host page on its own origin plays the portal (the portal's iframe markup and script, with
//! timestamps). Per run it measures, in absolute time (timeOrigin + now, comparable across the
//! two documents):
//! * **first size**: from the iframe's navigation start (setting `src`) to the first
//!   `{height}` message the host receives;
//! * **message → size**: from the portal's message to the first size message after it (the
//!   height for what the message asked for: cardholder field, test note, font size); 0 for a
//!   page that sized itself only before the message (the baseline does, on DOMContentLoaded);
//! * **interactive**: from navigation start to the page's `data-state="ready"` (the `b24-ready`
//!   mark): the form with its Pay button and handlers is in the page (the widget sets it from
//!   an effect that runs after its view, handlers included, is mounted);
//! * **themed paint**: from the portal's message to the first frame painted after the page
//!   reached `data-state="ready"` (content and theme applied), marked by `e2e/bench/probe.js`
//!   loaded first in both pages (the widget's copy gets it injected into `index.html`);
//! * **total**: from navigation start to that paint.
//!
//! Cold runs start a fresh browser (empty cache) for every page load; warm runs reload in one
//! browser (hashed widget assets come from the HTTP cache). Widget and baseline runs alternate.

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use b24pay_e2e::browser::{Browser, BrowserKind};
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

const HOST: &str = include_str!("../../../bench/host.html");
const PROBE: &str = include_str!("../../../bench/probe.js");
const BASELINE: &str = include_str!("../../../baseline/index.html");

#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    pub first_size_ms: f64,
    pub message_size_ms: f64,
    pub interactive_ms: f64,
    pub themed_paint_ms: f64,
    pub total_ms: f64,
}

#[derive(Default)]
pub struct Series {
    pub widget: Vec<Sample>,
    pub baseline: Vec<Sample>,
}

pub struct Speed {
    pub cold: Series,
    pub warm: Series,
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A copy of the widget's build with the probe as the first script of `index.html`.
fn probed_copy(dist: &Path, into: &Path) {
    std::fs::create_dir_all(into).expect("copy dir");
    for entry in std::fs::read_dir(dist).expect("dist") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, into.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let index = std::fs::read_to_string(dist.join("index.html")).expect("index.html");
    // Before the first script (the loader), whatever trunk's minifier left of `<head>`.
    let (before, after) = index.split_once("<script").expect("index.html has scripts");
    std::fs::write(
        into.join("index.html"),
        format!("{before}<script src=/b24pay-bench-probe.js></script><script{after}"),
    )
    .expect("write index.html");
    std::fs::write(into.join("b24pay-bench-probe.js"), PROBE).expect("write probe");
}

async fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
}

fn js_response(body: &'static str) -> impl IntoResponse {
    ([("content-type", "text/javascript")], body)
}

/// One page load in the host; `None` when the page never reported (counted as a failure).
async fn run_once(browser: &Browser, host: &str, src: &str, payload: &Value) -> Option<Sample> {
    browser.goto(host).await;
    let t = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             b24run(arguments[0], arguments[1], 'dark', done);",
            vec![json!(src), payload.clone()],
        )
        .await;
    let t = match t {
        Ok(t) => t,
        Err(e) => {
            let seen = browser
                .eval(
                    "const f = document.getElementById('rest-payment-frame');
                     let inner = null;
                     try { inner = f.contentDocument && f.contentDocument.documentElement.outerHTML.slice(0, 600); } catch (e) { inner = String(e); }
                     return {sizes: window.b24sizes, src: f && f.src, inner};",
                    vec![],
                )
                .await;
            // A load that never sized its frame (a loaded machine, a browser hiccup): counted,
            // not measured, and the run goes on.
            eprintln!(
                "speed: {src}: the host never reported the frame's timings ({e}); it saw {seen}"
            );
            return None;
        }
    };
    browser.enter_widget().await;
    let marks = browser
        .wait_js(
            "the probe's paint mark",
            Duration::from_secs(30),
            "const at = n => performance.timeOrigin + performance.getEntriesByName(n)[0].startTime;
             return performance.getEntriesByName('b24-painted').length
                 ? {ready: at('b24-ready'), painted: at('b24-painted')} : null;",
        )
        .await;
    let (ready, painted) = (
        marks["ready"].as_f64().expect("a time"),
        marks["painted"].as_f64().expect("a time"),
    );
    browser.leave_widget().await;
    let f = |k: &str| t[k].as_f64().expect("a timestamp");
    let sizes = browser.eval("return window.b24sizes;", vec![]).await;
    let after_message = sizes
        .as_array()
        .expect("the host's size times")
        .iter()
        .filter_map(Value::as_f64)
        .find(|&at| at >= f("post"));
    Some(Sample {
        first_size_ms: f("size") - f("nav"),
        message_size_ms: after_message.map_or(0.0, |at| at - f("post")),
        interactive_ms: ready - f("nav"),
        themed_paint_ms: painted - f("post"),
        total_ms: painted - f("nav"),
    })
}

impl Series {
    fn push(&mut self, widget: bool, sample: Sample) {
        if widget {
            self.widget.push(sample);
        } else {
            self.baseline.push(sample);
        }
    }
}

/// The pages one run loads: the host (the portal stand-in) and the two framed pages.
struct Pages {
    host: String,
    widget: String,
    baseline: String,
}

impl Pages {
    /// Loads alternate between the widget and the baseline, the widget first on even runs.
    fn order(&self, run: usize) -> [(bool, &str); 2] {
        let (w, b) = (
            (true, self.widget.as_str()),
            (false, self.baseline.as_str()),
        );
        if run % 2 == 0 {
            [w, b]
        } else {
            [b, w]
        }
    }
}

/// Serves the host page on its own origin and the baseline on a third; answers the host's
/// origin (which the widget must allow) and the host's and baseline's URLs.
async fn serve_host_and_baseline() -> (String, String, String) {
    let host_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host_origin = format!("http://{}", host_listener.local_addr().unwrap());
    let baseline_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let baseline = format!(
        "http://localhost:{}/",
        baseline_listener.local_addr().unwrap().port()
    );
    serve(
        host_listener,
        axum::Router::new().route("/host", get(|| async { Html(HOST) })),
    )
    .await;
    serve(
        baseline_listener,
        axum::Router::new()
            .route("/", get(|| async { Html(BASELINE) }))
            .route("/probe.js", get(|| async { js_response(PROBE) })),
    )
    .await;
    let host = format!("{host_origin}/host");
    (host_origin, host, baseline)
}

/// The FIELDS and BX_SYSTEM_PARAMS the portal would post for a payment, from the store page.
async fn portal_payload(stack: &Stack) -> Value {
    let payment = stack.order("1250.50", "EUR");
    let page = stack
        .http
        .get(stack.pay_page(payment, "dark"))
        .send()
        .await
        .expect("store page")
        .text()
        .await
        .expect("store page text");
    page.split("id=\"sandbox-iframe-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .and_then(|json| serde_json::from_str(json).ok())
        .expect("the store page embeds the portal's payload")
}

/// A fresh browser (empty cache) for every page load.
async fn cold_runs(pages: &Pages, payload: &Value, runs: usize) -> Series {
    let mut cold = Series::default();
    for run in 0..runs {
        for (widget, src) in pages.order(run) {
            let browser = Browser::start(BrowserKind::Chromium).await;
            let sample = run_once(&browser, &pages.host, src, payload).await;
            browser.quit().await;
            if let Some(sample) = sample {
                cold.push(widget, sample);
            }
        }
    }
    cold
}

/// Reloads in one browser, after one load of each, so that "warm" means cached.
async fn warm_runs(pages: &Pages, payload: &Value, runs: usize) -> Series {
    let mut warm = Series::default();
    let browser = Browser::start(BrowserKind::Chromium).await;
    run_once(&browser, &pages.host, &pages.widget, payload).await;
    run_once(&browser, &pages.host, &pages.baseline, payload).await;
    for run in 0..runs {
        for (widget, src) in pages.order(run) {
            if let Some(sample) = run_once(&browser, &pages.host, src, payload).await {
                warm.push(widget, sample);
            }
        }
    }
    browser.quit().await;
    warm
}

pub async fn measure(dist: &Path, runs: usize) -> Speed {
    let work = tempfile::tempdir().expect("temp dir");
    let probed = work.path().join("dist");
    probed_copy(dist, &probed);
    let (host_origin, host, baseline) = serve_host_and_baseline().await;
    // The widget as deployed: the real companion (release), allowed to be framed by the host.
    let stack = Stack::start(
        StackOptions::new(StoreKind::Sqlite)
            .with_dist(probed)
            .env("B24PAY_ALLOWED_ORIGINS", &host_origin),
    )
    .await;
    let payload = portal_payload(&stack).await;
    let pages = Pages {
        host,
        widget: stack.public_url.clone(),
        baseline,
    };
    let cold = cold_runs(&pages, &payload, runs).await;
    let warm = warm_runs(&pages, &payload, runs).await;
    Speed { cold, warm }
}

/// The speed table: medians of each measure, widget against baseline, with the targets.
pub fn section(sp: &Speed, runs: usize) -> String {
    let mut s = format!(
        "## Widget speed (headless Chromium, loopback, median of {runs} runs each)\n\n\
         Measured in one run with the baseline, loads alternating. Navigation: the iframe's \
         navigation start. First size: the first height message the portal receives. Message → \
         size: from the portal's message to the first height message after it (0 for a page \
         that sized itself only before the message, as the baseline does on \
         DOMContentLoaded). Themed paint: the first frame painted with the content and theme \
         applied. Interactive: the form with its working Pay button is in the page (the pages' \
         `data-state=\"ready\"`). Baseline: `e2e/baseline/index.html`, the reference page's \
         plain-JavaScript example of the protocol around a static form. Cold: a fresh browser \
         per load; warm: reloads with the HTTP cache.\n\n\
         | | widget | baseline | widget / baseline | target |\n|---|---:|---:|---:|---|\n"
    );
    type Pick = fn(&Sample) -> f64;
    let rows: [(&str, Pick, Option<f64>); 5] = [
        ("navigation → first size", |x| x.first_size_ms, Some(1.1)),
        ("portal message → size", |x| x.message_size_ms, None),
        (
            "portal message → themed paint",
            |x| x.themed_paint_ms,
            Some(1.5),
        ),
        ("navigation → themed paint", |x| x.total_ms, None),
        ("navigation → interactive", |x| x.interactive_ms, None),
    ];
    for (label, series) in [("cold", &sp.cold), ("warm", &sp.warm)] {
        for (name, pick, target) in rows {
            let w = median(series.widget.iter().map(pick).collect());
            let b = median(series.baseline.iter().map(pick).collect());
            let ratio = if b > 0.0 {
                format!("{:.2}×", w / b)
            } else {
                "—".into()
            };
            let verdict = match target {
                Some(t) if b > 0.0 => {
                    format!("≤ {t}×: {}", if w / b <= t { "met" } else { "MISSED" })
                }
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "| {label}: {name} | {w:.1} ms | {b:.1} ms | {ratio} | {verdict} |"
            );
        }
    }
    s.push('\n');
    s
}
