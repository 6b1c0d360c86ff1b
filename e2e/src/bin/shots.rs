//! `b24pay-shots`: screenshots of the payment widget as a customer sees it, for visual review.
//!
//! Starts the usual e2e world (sandbox portal in this process, the real `b24pay` serving the
//! widget's build, headless Chromium) and, for every language × store theme × window width,
//! walks the widget through its states on the sandbox's store payment page, writing one PNG of
//! the store's payment card (which holds the widget's iframe) per state:
//!
//! | state | how |
//! |---|---|
//! | `ready` | the empty form (also `…-page.png`: the whole viewport, for the store around it) |
//! | `errors` | Pay pressed with nothing filled in |
//! | `declined` | 4000 0000 0000 0002, 12/34, 123 |
//! | `typing` | 4242 4242 4242 4242 typed, focus still in the number field (focus ring, brand) |
//! | `challenge` | 4000 0027 6000 3184: the inline code step |
//! | `success` | 4242 4242 4242 4242 paid |
//!
//! Files are named `{lang}-{theme}-{width}-{state}.png`; `report.txt` next to them lists, per
//! shot, the frame's size, the Pay button's text and anything that overflows. The language is
//! forced the way a portal admin does it: the pay system's `B24PAY_LANGUAGE` setting, which the
//! portal passes to the widget as the FIELD `lang`.
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/targets/shots cargo run -p b24pay-e2e --bin b24pay-shots -- --out /tmp/b24pay-shots
//! ```

use b24pay_e2e::browser::{Browser, BrowserKind};
use b24pay_e2e::cards;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use b24pay_e2e::{say, wait};
use clap::Parser;
use fantoccini::Locator;
use serde_json::{json, Value};
use std::cell::Cell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Generous for a loaded 2-core machine; waits return as soon as their condition holds.
const UI: Duration = Duration::from_secs(20);
/// How long a state may take to stop moving (frame resized, animations over) before it is
/// shot anyway and reported as unsettled.
const SETTLE: Duration = Duration::from_secs(8);
/// Window height: tall enough that the store's payment card is never cut off.
const WINDOW_HEIGHT: u32 = 1400;
/// The amount paid: big enough to show grouping and decimals.
const SUM: &str = "1250.50";
const CURRENCY: &str = "RUB";

#[derive(Parser, Debug)]
#[command(
    name = "b24pay-shots",
    about = "Screenshots of the payment widget for visual review"
)]
struct Args {
    /// Where to write the PNGs and report.txt.
    #[arg(long, default_value = "/tmp/b24pay-shots")]
    out: PathBuf,
    /// The widget's build (default: B24PAY_E2E_DIST, else the repository's dist/, built with
    /// `trunk build --release` when missing).
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Languages (the `lang` FIELD).
    #[arg(long, value_delimiter = ',', default_value = "en,ru")]
    langs: Vec<String>,
    /// Store themes.
    #[arg(long, value_delimiter = ',', default_value = "light,dark")]
    themes: Vec<String>,
    /// Window widths in CSS pixels.
    #[arg(long, value_delimiter = ',', default_value = "320,600")]
    widths: Vec<u32>,
}

/// The widget's build: `--dist`, else the harness's (`dist/`), built first if missing.
fn widget_build(arg: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = arg {
        assert!(
            dir.join("index.html").is_file(),
            "no index.html in {}",
            dir.display()
        );
        return dir;
    }
    let root = b24pay_e2e::repo_root();
    if std::env::var_os("B24PAY_E2E_DIST").is_none() && !root.join("dist/index.html").is_file() {
        say("shots: dist/ is missing; running `trunk build --release`");
        let mut path = vec![root.join("tools/node_modules/.bin")];
        if let Some(home) = std::env::var_os("HOME") {
            path.push(PathBuf::from(home).join(".cargo/bin"));
        }
        if let Some(old) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&old));
        }
        let status = Command::new("trunk")
            .args(["build", "--release"])
            .current_dir(&root)
            .env("PATH", std::env::join_paths(path).expect("PATH"))
            .status()
            .expect("trunk runs (cargo install trunk; scripts/setup.sh does)");
        assert!(status.success(), "trunk build --release failed");
    }
    b24pay_e2e::widget::dist_dir()
}

/// A private copy of the build, so a rebuild of `dist/` during the run cannot change it halfway.
fn snapshot(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("snapshot dir");
    for entry in std::fs::read_dir(from).expect("read the widget's build") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            snapshot(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy the widget's build");
        }
    }
}

/// Resizes the window so that the page's viewport is `width` CSS pixels wide (measured on a
/// blank top-level page, whatever frame the driver was in).
async fn set_width(b: &Browser, width: u32) {
    b.goto("about:blank").await;
    let mut outer = width;
    for _ in 0..3 {
        b.client
            .set_window_size(outer, WINDOW_HEIGHT)
            .await
            .expect("window size");
        let inner = b
            .eval("return innerWidth;", vec![])
            .await
            .as_i64()
            .unwrap_or(0);
        if inner == width as i64 {
            return;
        }
        outer = (outer as i64 + width as i64 - inner).max(100) as u32;
    }
    let inner = b.eval("return innerWidth;", vec![]).await;
    say(format!(
        "shots: the viewport is {inner} px wide, not {width} (window minimum?)"
    ));
}

/// Whether the widget has settled, evaluated in its frame: the portal sized the frame to the
/// content (no scrollbars), and no finite animation or transition is running.
const SETTLED: &str = "
const r = document.querySelector('.b24-app');
if (!r) return null;
const d = document.documentElement;
const h = r.getBoundingClientRect().height;
const sized = Math.abs(innerHeight - h) <= 1 && innerWidth === d.clientWidth
    && innerHeight === d.clientHeight && d.scrollHeight <= d.clientHeight
    && d.scrollWidth <= d.clientWidth;
const moving = document.getAnimations().some(a => a.playState === 'running'
    && a.effect && a.effect.getTiming().iterations !== Infinity);
return sized && !moving;";

/// What the shot's report line says about the widget, evaluated in its frame.
const MEASURE: &str = "
const r = document.querySelector('.b24-app');
const d = document.documentElement;
const pay = document.querySelector('form.b24-form button[type=submit]');
const flagged = [];
for (const e of r.querySelectorAll('*')) {
  const b = e.getBoundingClientRect();
  if (!b.width || e.classList.contains('b24-sr')) continue;
  if (b.right > d.clientWidth + 0.5 || b.left < -0.5) flagged.push([e, 'outside the frame']);
  else if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
    flagged.push([e, e.tagName === 'INPUT' ? 'clips its text' : 'overflows its box']);
}
// Only the innermost culprits: an ancestor overflows because its descendant does.
const over = flagged
  .filter(([e]) => !flagged.some(([o]) => o !== e && e.contains(o)))
  .map(([e, what]) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (typeof e.className === 'string' && e.className.trim()
          ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' ' + what);
if (innerWidth !== d.clientWidth || innerHeight !== d.clientHeight)
  over.push('SCROLLBARS in the frame');
return {frame: innerWidth + 'x' + innerHeight, content: Math.round(r.getBoundingClientRect().height),
        scroll: d.scrollWidth + 'x' + d.scrollHeight, lang: r.getAttribute('lang'),
        scheme: r.dataset.scheme, pay: pay ? pay.innerText.trim() : null,
        focus: document.activeElement ? document.activeElement.id || document.activeElement.tagName : null,
        over};";

struct Shooter {
    stack: Stack,
    browser: Browser,
    out: PathBuf,
    report: String,
}

impl Shooter {
    /// Opens a new payment's store page and waits for the card form; leaves the driver in the
    /// widget's frame.
    async fn open(&self, theme: &str, lang: &str) {
        let id = self.stack.order(SUM, CURRENCY);
        self.browser.goto(&self.stack.pay_page(id, theme)).await;
        self.browser.enter_widget().await;
        self.browser
            .wait_js(
                "the card form",
                UI,
                "const r = document.querySelector('.b24-app');
                 return !!(r && r.dataset.state === 'ready' && document.getElementById('b24-number'));",
            )
            .await;
        let want = lang.to_string();
        let spoken = wait::try_until(Duration::from_secs(5), || {
            let want = want.clone();
            async move {
                let seen = self
                    .browser
                    .eval(
                        "const r = document.querySelector('.b24-app');
                         return [r.getAttribute('lang'), /[\\u0400-\\u04ff]/.test(r.innerText)];",
                        vec![],
                    )
                    .await;
                let cyrillic = seen[1].as_bool().unwrap_or(false);
                if seen[0] == json!(want) && cyrillic == (want == "ru") {
                    Ok(())
                } else {
                    Err(seen)
                }
            }
        })
        .await;
        if let Err(seen) = spoken {
            say(format!(
                "shots: the widget does not speak {lang} (lang, cyrillic): {seen}"
            ));
        }
    }

    /// Waits (in the frame) until the state stops moving, three polls in a row; `false` when it
    /// did not within [`SETTLE`].
    async fn settle(&self) -> bool {
        let calm = Cell::new(0);
        wait::try_until(SETTLE, || async {
            let ok = self
                .browser
                .client
                .execute(SETTLED, vec![])
                .await
                .is_ok_and(|v| v == json!(true));
            calm.set(if ok { calm.get() + 1 } else { 0 });
            if calm.get() >= 3 {
                Ok(())
            } else {
                Err(())
            }
        })
        .await
        .is_ok()
    }

    /// Settles, measures, and writes `{name}.png` (the store's payment card); back in the frame
    /// afterwards.
    async fn shoot(&mut self, name: &str, page_too: bool) {
        let settled = self.settle().await;
        let m = self.browser.eval(MEASURE, vec![]).await;
        self.browser.leave_widget().await;
        let page = self
            .browser
            .eval(
                "const f = document.getElementById('rest-payment-frame');
                 return {page: innerWidth + '/' + document.documentElement.scrollWidth,
                         frame_style: f.style.height};",
                vec![],
            )
            .await;
        let card = self
            .browser
            .client
            .find(Locator::Css("section.card.payment"))
            .await
            .expect("the store's payment card");
        let png = card.screenshot().await.expect("element screenshot");
        let path = self.out.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write PNG");
        if page_too {
            let png = self.browser.screenshot().await;
            std::fs::write(self.out.join(format!("{name}-page.png")), png).expect("write PNG");
        }
        let mut line = format!(
            "{name}: frame {} (content {}, scroll {}, portal height {}), page width/scroll {}, \
             lang {}, scheme {}, focus {}, pay {:?}",
            m["frame"].as_str().unwrap_or("?"),
            m["content"],
            m["scroll"].as_str().unwrap_or("?"),
            page["frame_style"].as_str().unwrap_or("?"),
            page["page"].as_str().unwrap_or("?"),
            m["lang"],
            m["scheme"],
            m["focus"],
            m["pay"].as_str().unwrap_or("-"),
        );
        if !settled {
            line.push_str(" | NOT SETTLED (frame not sized to content, or still animating)");
        }
        if let Some(over) = m["over"].as_array().filter(|o| !o.is_empty()) {
            let _ = write!(line, " | OVERFLOW: {}", Value::Array(over.clone()));
        }
        say(format!("shots: {}", path.display()));
        self.report.push_str(&line);
        self.report.push('\n');
        self.browser.enter_widget().await;
    }

    async fn fill(&self, fields: &[(&str, &str)]) {
        for (id, text) in fields {
            self.browser
                .client
                .find(Locator::Id(id))
                .await
                .unwrap_or_else(|e| panic!("field #{id}: {e}"))
                .send_keys(text)
                .await
                .expect("typing");
        }
    }

    async fn click(&self, css: &str) {
        self.browser
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn pay(&self) {
        self.click("form.b24-form button[type=submit]").await;
    }

    /// Every state for one language, theme and width.
    async fn combination(&mut self, lang: &str, theme: &str, width: u32) {
        let prefix = format!("{lang}-{theme}-{width}");
        set_width(&self.browser, width).await;

        // Ready, then inline errors, then a decline, on one payment.
        self.open(theme, lang).await;
        self.shoot(&format!("{prefix}-ready"), true).await;
        self.pay().await;
        self.browser
            .wait_js(
                "the inline field errors",
                UI,
                "return document.querySelectorAll('.b24-field-error').length > 0;",
            )
            .await;
        self.shoot(&format!("{prefix}-errors"), false).await;
        self.fill(&[
            ("b24-number", cards::DECLINED),
            ("b24-expiry", "1234"),
            ("b24-cvc", "123"),
        ])
        .await;
        self.pay().await;
        self.browser
            .wait_js(
                "the decline notice",
                UI,
                "const n = document.querySelector('.b24-notice');
                 return !!(n && n.innerText.trim());",
            )
            .await;
        self.shoot(&format!("{prefix}-declined"), false).await;

        // The challenge step.
        self.open(theme, lang).await;
        self.fill(&[
            ("b24-number", cards::CHALLENGE),
            ("b24-expiry", "1234"),
            ("b24-cvc", "123"),
        ])
        .await;
        self.pay().await;
        wait::until("the challenge code field", UI, || async {
            self.browser.client.find(Locator::Id("b24-code")).await
        })
        .await;
        self.shoot(&format!("{prefix}-challenge"), false).await;

        // Typing (focus ring, brand), then success.
        self.open(theme, lang).await;
        self.fill(&[("b24-number", cards::APPROVED)]).await;
        self.shoot(&format!("{prefix}-typing"), false).await;
        self.fill(&[("b24-expiry", "1234"), ("b24-cvc", "123")])
            .await;
        self.pay().await;
        self.browser
            .wait_js(
                "the success screen",
                UI,
                "const o = document.querySelector('.b24-outcome');
                 return !!(o && o.querySelector('.b24-ok'));",
            )
            .await;
        self.shoot(&format!("{prefix}-success"), false).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).expect("create the output directory");
    let build = widget_build(args.dist.clone());
    let copy = tempfile::Builder::new()
        .prefix("b24pay-shots-dist-")
        .tempdir()
        .expect("temp dir");
    snapshot(&build, copy.path());
    say(format!(
        "shots: widget from {}; starting the stack and Chromium",
        build.display()
    ));
    let (stack, browser) = tokio::join!(
        Stack::start(StackOptions::new(StoreKind::Sqlite).with_dist(copy.path().to_path_buf())),
        Browser::start(BrowserKind::Chromium)
    );
    let mut shooter = Shooter {
        stack,
        browser,
        out: args.out.clone(),
        report: String::new(),
    };
    for lang in &args.langs {
        shooter.stack.set_language(lang).await;
        for theme in &args.themes {
            for &width in &args.widths {
                shooter.combination(lang, theme, width).await;
            }
        }
    }
    let report = args.out.join("report.txt");
    std::fs::write(&report, &shooter.report).expect("write report.txt");
    print!("{}", shooter.report);
    say(format!("shots: done; report in {}", report.display()));
    shooter.browser.quit().await;
}
