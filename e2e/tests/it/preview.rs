//! The preview as a new user runs it (`b24pay preview`, what `scripts/preview.sh` ends with), on
//! free ports: both sandbox portals installed b24pay as a Market application, and it prints
//! each one's widget URL and store payment pages; a store page of the first, opened in headless
//! Chromium, frames the widget at that portal's own URL, themed to the store; paying with
//! 4242 4242 4242 4242 marks the payment paid on the sandbox's admin page; a store page of the
//! second pays through the second portal's own URL; nothing is logged at WARN or above on the
//! way; Ctrl-C stops everything cleanly.

use b24pay_e2e::browser::{Browser, BrowserKind};
use b24pay_e2e::{free_port, say};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const UI: Duration = Duration::from_secs(30);

/// The preview process; killed if the test ends early.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The three ports: the companion, the first portal, the second portal.
type Ports = (u16, u16, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_pays_a_demo_payment() {
    let ports @ (_, sandbox_port, app_port) = (free_port(), free_port(), free_port());
    let (mut child, banner) = start_preview(ports);
    let sandbox = format!("http://127.0.0.1:{sandbox_port}");
    let pages: Vec<&str> = banner
        .split_whitespace()
        .filter(|w| w.starts_with(&format!("{sandbox}/pay/")))
        .collect();
    assert!(pages.len() >= 3, "store pages printed: {banner}");
    assert!(
        pages.iter().any(|p| p.contains("/pay/invoice/")),
        "a legacy invoice among the demos: {banner}"
    );
    let page = pages[0];
    let payment_id: u64 = page.rsplit('/').next().unwrap().parse().unwrap();
    // One widget URL per portal, each its own.
    let widget_urls: Vec<&str> = banner
        .lines()
        .filter_map(|l| l.trim().strip_prefix("its widget URL:"))
        .map(str::trim)
        .collect();
    assert_eq!(widget_urls.len(), 2, "both portals' widget URLs: {banner}");
    assert!(widget_urls.iter().all(|u| u.contains("/p/")), "{banner}");
    assert_ne!(widget_urls[0], widget_urls[1]);

    let browser = Browser::start(BrowserKind::Chromium).await;
    browser.goto(page).await;
    assert_frames(&browser, widget_urls[0]).await;
    check_themes(&browser, page).await;
    browser.enter_widget().await;
    pay_in_widget(&browser).await;

    // What the seller sees: the sandbox's control API and its admin page.
    let http = reqwest::Client::new();
    let payment = wait_paid(&http, &sandbox, payment_id).await;
    assert_eq!(payment["pay_calls"], serde_json::json!(1), "{payment}");

    // The second portal's store page frames the widget at its own `/p/{public id}/` URL,
    // and pays there.
    let second = format!("http://127.0.0.1:{app_port}");
    let app_page = banner
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{second}/pay/")))
        .unwrap_or_else(|| panic!("the second portal's store page printed: {banner}"));
    let app_payment: u64 = app_page.rsplit('/').next().unwrap().parse().unwrap();
    browser.leave_widget().await;
    browser.goto(app_page).await;
    assert_frames(&browser, widget_urls[1]).await;
    browser.enter_widget().await;
    pay_in_widget(&browser).await;
    browser.quit().await;
    let paid = wait_paid(&http, &second, app_payment).await;
    assert_eq!(paid["pay_calls"], serde_json::json!(1), "{paid}");
    let admin = http
        .get(format!("{sandbox}/admin"))
        .send()
        .await
        .expect("admin page")
        .text()
        .await
        .expect("admin text");
    assert!(
        admin.contains("tx_test_"),
        "the admin page shows the acquirer's transaction id"
    );
    stop_cleanly(&mut child, ports).await;
}

/// `b24pay preview` on `ports`, until its banner ends; the process and the banner. It starts
/// without a warning or an error in its log (`B24PAY_LOG=warn`: its stderr has nothing else).
fn start_preview((companion, sandbox, app): Ports) -> (Running, String) {
    let dist = b24pay_e2e::widget::dist_dir();
    let mut child = Running(
        Command::new(b24pay_e2e::binary::b24pay())
            .args(["preview", "--listen"])
            .arg(format!("127.0.0.1:{companion}"))
            .arg("--sandbox-listen")
            .arg(format!("127.0.0.1:{sandbox}"))
            .arg("--app-sandbox-listen")
            .arg(format!("127.0.0.1:{app}"))
            .arg("--dist-dir")
            .arg(&dist)
            .env("B24PAY_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("b24pay preview starts"),
    );
    let logged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stderr = child.0.stderr.take().expect("piped");
    std::thread::spawn({
        let logged = logged.clone();
        move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                logged.lock().unwrap().push(line);
            }
        }
    });
    let stdout = child.0.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut banner = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(90))
            .unwrap_or_else(|_| panic!("the preview stopped talking:\n{}", banner.join("\n")));
        let end = line.contains("Ctrl-C");
        banner.push(line);
        if end {
            break;
        }
    }
    let banner = banner.join("\n");
    say(format!("preview banner:\n{banner}"));
    assert!(!banner.contains("WARNING"), "{banner}");
    let logged = logged.lock().unwrap().clone();
    assert!(
        logged.is_empty(),
        "the preview started with warnings: {logged:#?}"
    );
    (child, banner)
}

/// The store `page` in a dark and a light theme: the widget follows it and fits its frame.
async fn check_themes(browser: &Browser, page: &str) {
    for theme in ["dark", "light"] {
        browser.goto(&format!("{page}?theme={theme}")).await;
        browser.enter_widget().await;
        browser
            .wait_js(
                "the card form in the preview's widget",
                UI,
                "const r = document.querySelector('.b24-app');
                 return !!(r && r.dataset.state === 'ready' && document.getElementById('b24-number'));",
            )
            .await;
        browser
            .wait_js(
                "the iframe sized to the content",
                UI,
                "return innerHeight !== 350 && document.documentElement.scrollHeight <= innerHeight;",
            )
            .await;
        let scheme = browser
            .eval(
                "return document.querySelector('.b24-app').dataset.scheme;",
                vec![],
            )
            .await;
        assert_eq!(scheme, serde_json::json!(theme), "themed to the store");
        browser.leave_widget().await;
        std::fs::write(
            std::env::temp_dir().join(format!("b24pay-preview-{theme}.png")),
            browser.screenshot().await,
        )
        .ok();
    }
}

/// Ctrl-C stops the preview cleanly: a clean exit, and nothing listens on its ports.
async fn stop_cleanly(child: &mut Running, (companion, sandbox, app): Ports) {
    let status = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            started.elapsed() < UI,
            "the preview still runs {UI:?} after Ctrl-C"
        );
        tokio::time::sleep(b24pay_e2e::wait::POLL).await;
    };
    assert!(exit.success(), "clean exit: {exit}");
    for port in [companion, sandbox, app] {
        let open = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
        assert!(open.is_err(), "every server stopped (port {port})");
    }
}

/// The store page (the browser is on it, outside the frame) frames the widget at
/// `widget_url`.
async fn assert_frames(browser: &Browser, widget_url: &str) {
    let frame = browser
        .eval(
            "return document.getElementById(arguments[0]).src;",
            vec![serde_json::json!(b24pay_e2e::widget::FRAME_ID)],
        )
        .await;
    assert!(
        frame
            .as_str()
            .is_some_and(|src| src.starts_with(widget_url)),
        "the store page frames {frame}, not {widget_url}"
    );
}

/// Types the approved test card into the widget (entered already) and waits for success.
async fn pay_in_widget(browser: &Browser) {
    browser
        .wait_js(
            "the card form",
            UI,
            "const r = document.querySelector('.b24-app');
             return !!(r && r.dataset.state === 'ready' && document.getElementById('b24-number'));",
        )
        .await;
    for (id, text) in [
        ("b24-number", "4242 4242 4242 4242"),
        ("b24-expiry", "1234"),
        ("b24-cvc", "123"),
    ] {
        browser
            .client
            .find(fantoccini::Locator::Id(id))
            .await
            .expect("card field")
            .send_keys(text)
            .await
            .expect("typing");
    }
    browser
        .client
        .find(fantoccini::Locator::Css(
            "form.b24-form button[type=submit]",
        ))
        .await
        .expect("Pay")
        .click()
        .await
        .expect("click");
    browser
        .wait_js(
            "the success screen",
            UI,
            "return !!document.querySelector('.b24-outcome .b24-ok');",
        )
        .await;
}

/// The payment as the sandbox's control API reports it, once paid.
async fn wait_paid(http: &reqwest::Client, sandbox: &str, payment_id: u64) -> serde_json::Value {
    b24pay_e2e::wait::until("the demo payment paid", UI, || async {
        let p: serde_json::Value = http
            .get(format!("{sandbox}/sandbox/api/payments/{payment_id}"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if p["paid"] == serde_json::json!(true) {
            Ok(p)
        } else {
            Err(p.to_string())
        }
    })
    .await
}
