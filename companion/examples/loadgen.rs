//! A load check of the full verified confirm flow: an in-process sandbox portal (no rate limit),
//! the `b24pay` binary as a child process, N payments confirmed by C concurrent clients for each
//! C in a list, against one companion after a warm-up. Prints throughput, latency percentiles,
//! time until every payment is marked paid, CPU time spent by each of the three parties (they
//! share the machine's cores) and the companion's peak RSS. Not a test; issue 6's benchmark
//! command (`scripts/bench.sh`) is the official one.
//!
//! ```text
//! cargo build --release -p b24pay-companion --bin b24pay --example loadgen
//! target/release/examples/loadgen [payments per run] [clients,clients,…]
//! DATABASE_URL=postgres://… target/release/examples/loadgen …   (PostgreSQL instead of SQLite)
//! B24PAY_BIN=/path/to/wrapper …   (run the companion under a profiler; it is stopped with
//!                                  SIGTERM so the profiler can write its output)
//! ```
//!
//! The sandbox runs on its own runtime whose threads are named `sandbox`, the clients on threads
//! named `loadgen`, so `/proc/self/task/*/stat` tells their CPU time apart.

use b24pay_companion::register::{register, RegisterOptions};
use b24pay_sandbox::{NewPayment, Sandbox, SandboxHandle};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// CPU seconds (user + system) of `/proc/<pid>/task/<tid>/stat` or `/proc/<pid>/stat`.
fn stat_cpu(path: &str) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((name, ticks / 100.0))
}

/// This process's CPU seconds split into (sandbox threads, everything else).
fn own_cpu() -> (f64, f64) {
    let (mut sandbox, mut rest) = (0.0, 0.0);
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten() {
        let Ok(task) = task else { continue };
        let path = format!("{}/stat", task.path().display());
        if let Some((name, cpu)) = stat_cpu(&path) {
            if name.starts_with("sandbox") {
                sandbox += cpu;
            } else {
                rest += cpu;
            }
        }
    }
    (sandbox, rest)
}

/// CPU seconds the whole machine spent busy (all cores; `/proc/stat`).
fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next() else {
        return 0.0;
    };
    let v: Vec<f64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: everything but idle and iowait.
    let busy: f64 =
        v.iter().take(8).sum::<f64>() - v.get(3).unwrap_or(&0.0) - v.get(4).unwrap_or(&0.0);
    busy / 100.0
}

/// CPU seconds of every process named `postgres` (the server, when the store is PostgreSQL).
fn postgres_cpu() -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| stat_cpu(&format!("{}/stat", e.path().display())))
        .filter(|(name, _)| name == "postgres")
        .map(|(_, cpu)| cpu)
        .sum()
}

fn companion_cpu(pid: u32) -> f64 {
    stat_cpu(&format!("/proc/{pid}/stat")).map_or(0.0, |(_, c)| c)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Companion {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

/// A fresh database on the server `DATABASE_URL` names, so runs never see each other's rows.
async fn fresh_pg_database(server_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("b24pay_loadgen_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(server_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    let mut url = url::Url::parse(server_url).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn start_companion(sandbox: &SandboxHandle, database_url: Option<&str>) -> Companion {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::var("B24PAY_BIN").unwrap_or_else(|_| {
        let me = std::env::current_exe().unwrap();
        let release = me.parent().unwrap().parent().unwrap();
        release.join("b24pay").display().to_string()
    });
    let mut cmd = Command::new(&exe);
    cmd.arg("serve")
        .env("B24PAY_LISTEN", "127.0.0.1:0")
        .env("B24PAY_WEBHOOK_URL", sandbox.webhook_url())
        .env("B24PAY_DATA_DIR", dir.path())
        .env("B24PAY_PORTAL_RATE_LIMIT", "off")
        .stdout(Stdio::piped());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    if std::env::var_os("B24PAY_LOG").is_none() {
        cmd.env("B24PAY_LOG", "warn");
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{exe}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    Companion {
        child,
        url: format!("{base}/api/v1/payments"),
        _dir: dir,
    }
}

/// SIGTERM (graceful stop, so a profiler wrapping the companion writes its output), then
/// SIGKILL if it has not exited after a while.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

struct Run {
    confirmed_per_s: f64,
    latencies: Vec<Duration>,
    paid_after: Duration,
}

async fn run(
    sandbox: &SandboxHandle,
    http: &reqwest::Client,
    url: &str,
    paysystem_id: u64,
    payments: usize,
    clients: usize,
) -> Run {
    // Payments and bodies first: only the confirm calls are timed.
    let work: Arc<Vec<(u64, String, Vec<u8>)>> = Arc::new(
        (0..payments)
            .map(|_| {
                let id = sandbox
                    .create_payment(NewPayment::order("3000", "RUB").with_pay_system(paysystem_id))
                    .unwrap()
                    .payment_id;
                let body = serde_json::json!({"payment_id": id.to_string(),
                    "paysystem_id": paysystem_id.to_string(), "amount": "3000", "currency": "RUB",
                    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034,
                             "cvc": "123"}});
                let key = format!("{:032x}", rand::random::<u128>());
                (id, key, serde_json::to_vec(&body).unwrap())
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, url, work, next) = (http.clone(), url.to_string(), work.clone(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while let Some((_, key, body)) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("Idempotency-Key", key)
                    .header("Content-Type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let bytes = r.bytes().await.unwrap();
                latencies.push(t.elapsed());
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
                assert!(
                    bytes.windows(19).any(|w| w == b"\"state\":\"succeeded\""),
                    "{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(payments);
    while let Some(l) = tasks.join_next().await {
        latencies.extend(l.unwrap());
    }
    let confirmed_per_s = payments as f64 / started.elapsed().as_secs_f64();
    for (id, _, _) in work.iter() {
        while !sandbox.payment(*id).unwrap().paid {
            assert!(started.elapsed() < Duration::from_secs(600), "not all paid");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let paid_after = started.elapsed();
    latencies.sort();
    Run {
        confirmed_per_s,
        latencies,
        paid_after,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let payments: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let plan: Vec<usize> = args
        .next()
        .map(|a| a.split(',').filter_map(|c| c.parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 64]);

    // The sandbox on threads of its own (named, for the CPU split).
    let sandbox_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sandbox")
        .enable_all()
        .build()
        .unwrap();
    let sandbox = sandbox_rt
        .block_on(async { Sandbox::builder().start().await })
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("loadgen")
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = bitrix24_client::Client::builder(
            bitrix24_client::Auth::webhook(&sandbox.webhook_url()).unwrap(),
        )
        .rate_limit(None)
        .build()
        .unwrap();
        let mut o = RegisterOptions::new(url::Url::parse("http://localhost:8080/").unwrap());
        o.person_type = Some(1);
        let ps = register(&client, &o).await.unwrap().paysystem_id;
        let pg = match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Some(fresh_pg_database(&url).await),
            _ => None,
        };
        let companion = start_companion(&sandbox, pg.as_deref());
        let pid = companion.child.id();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        // Warm-up: connections, caches, the database's first pages.
        run(&sandbox, &http, &companion.url, ps, 300, 8).await;
        let store = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        for &clients in &plan {
            let (m0, c0, (s0, l0)) = (machine_busy(), companion_cpu(pid), own_cpu());
            let p0 = postgres_cpu();
            let wall = Instant::now();
            let r = run(&sandbox, &http, &companion.url, ps, payments, clients).await;
            let (m1, c1, (s1, l1)) = (machine_busy(), companion_cpu(pid), own_cpu());
            let p1 = postgres_cpu();
            let wall = wall.elapsed().as_secs_f64();
            let others = (m1 - m0) - (c1 - c0) - (s1 - s0) - (l1 - l0) - (p1 - p0);
            let per = |cpu: f64| cpu / payments as f64 * 1e6;
            let l = &r.latencies;
            println!(
                "{store} {clients:>3} clients: {:>5.0} confirmed/s; p50 {:.2} ms, p90 {:.2} ms, \
                 p99 {:.2} ms, max {:.2} ms; all paid after {:.2} s; CPU µs/payment: \
                 companion {:.0}, sandbox {:.0}, load generator {:.0}, postgres {:.0}; other processes \
                 {:.0}% of a core",
                r.confirmed_per_s,
                ms(percentile(l, 50.0)),
                ms(percentile(l, 90.0)),
                ms(percentile(l, 99.0)),
                ms(l[l.len() - 1]),
                r.paid_after.as_secs_f64(),
                per(c1 - c0),
                per(s1 - s0),
                per(l1 - l0),
                per(p1 - p0),
                100.0 * others.max(0.0) / wall,
            );
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .unwrap_or("?")
            .trim()
            .to_string();
        println!("companion peak RSS (VmHWM): {hwm}");
        stop(companion.child);
    });
    sandbox_rt.block_on(sandbox.shutdown());
}
