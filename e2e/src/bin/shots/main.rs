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
use b24pay_e2e::say;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod shooter;
use shooter::Shooter;

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
