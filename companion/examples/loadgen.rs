//! A quick load check of the full verified confirm flow: an in-process sandbox portal (no rate
//! limit), the `b24pay` binary as a child process, N payments confirmed by C concurrent clients.
//! Prints throughput, p50/p99 latency, time until every payment is marked paid, and the
//! companion's peak RSS. Not a test; issue 6's benchmark command builds on the same idea.
//!
//! ```text
//! cargo build --release -p b24pay-companion
//! cargo run --release -p b24pay-companion --example loadgen -- [payments] [clients]
//! DATABASE_URL=postgres://… cargo run --release … (PostgreSQL instead of SQLite)
//! ```

use b24pay_companion::register::{register, RegisterOptions};
use b24pay_sandbox::{NewPayment, Sandbox};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let payments: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let sandbox = Sandbox::builder().start().await.unwrap();
    let client = bitrix24_client::Client::builder(
        bitrix24_client::Auth::webhook(&sandbox.webhook_url()).unwrap(),
    )
    .rate_limit(None)
    .build()
    .unwrap();
    let mut o = RegisterOptions::new(url::Url::parse("http://localhost:8080/").unwrap());
    o.person_type = Some(1);
    let ps = register(&client, &o).await.unwrap().paysystem_id;
    let ids: Vec<u64> = (0..payments)
        .map(|_| {
            sandbox
                .create_payment(NewPayment::order("3000", "RUB").with_pay_system(ps))
                .unwrap()
                .payment_id
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::var("B24PAY_BIN").unwrap_or_else(|_| {
        let me = std::env::current_exe().unwrap();
        me.parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("b24pay")
            .display()
            .to_string()
    });
    let mut cmd = Command::new(&exe);
    cmd.arg("serve")
        .env("B24PAY_LOG", "warn")
        .env("B24PAY_LISTEN", "127.0.0.1:0")
        .env("B24PAY_WEBHOOK_URL", sandbox.webhook_url())
        .env("B24PAY_DATA_DIR", dir.path())
        .env("B24PAY_PORTAL_RATE_LIMIT", "off")
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{exe}: {e}"));
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let url = format!("{base}/api/v1/payments");

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let queue = Arc::new(std::sync::Mutex::new(ids.clone()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, queue) = (http.clone(), url.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(id) = queue.lock().unwrap().pop() else { break };
                let body = serde_json::json!({"payment_id": id.to_string(), "paysystem_id": ps.to_string(),
                    "amount": "3000", "currency": "RUB",
                    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}});
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("Idempotency-Key", format!("{:032x}", rand::random::<u128>()))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
                let _ = r.bytes().await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let confirm_time = started.elapsed();
    while sandbox.payments().iter().filter(|p| p.paid).count() < payments {
        assert!(started.elapsed() < Duration::from_secs(600), "not all paid");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_paid = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?")
        .to_string();
    let cpu = |pid: String| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        ticks / 100.0
    };
    println!(
        "CPU seconds: companion {:.2}, sandbox + load generator {:.2}",
        cpu(pid.to_string()),
        cpu("self".into())
    );
    println!(
        "{payments} payments, {clients} clients: {:.0} confirmed/s, p50 {:?}, p99 {:?}; all marked paid after {:?}; companion {hwm}",
        payments as f64 / confirm_time.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        all_paid
    );
    let _ = child.kill();
    let _ = child.wait();
    sandbox.shutdown().await;
}
