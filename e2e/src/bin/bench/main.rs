//! `b24pay-bench` (run by `scripts/bench.sh`, release build): widget weight, widget speed in
//! headless Chromium against a plain-JavaScript baseline, and companion throughput, latency and
//! memory against the sandbox, with SQLite and PostgreSQL, and throughput within the portal's
//! rate limit ([`throughput`]). Prints the figures with their
//! targets and writes them into `BENCHMARKS.md` (replacing the previous ones). Figures, not
//! assertions: nothing here fails because a target is missed, with one exception: the widget
//! over its hard weight limit (90 KB brotli) fails the command, after the figures are written.

mod breakdown;
mod load;
mod speed;
mod throughput;
mod throughput_sustained;
mod throughput_trace;
mod weight;

use b24pay_e2e::store::{pg_url, StoreKind};
use clap::Parser;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "b24pay-bench", about)]
struct Args {
    /// The widget's build (default: the repository's dist/).
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Page loads per page and cache state for the speed benchmark (medians are printed).
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Only these parts (weight, speed, load, throughput, sustained; throughput includes
    /// sustained); default all. A partial run replaces
    /// only its own sections of BENCHMARKS.md.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Simultaneous customers for the throughput part (the portal's rate limit on).
    #[arg(long, value_delimiter = ',', default_value = "50,200,1000")]
    customers: Vec<usize>,
    /// How long each throughput run waits for answers and paid payments.
    #[arg(long, default_value_t = 150)]
    patience_secs: u64,
    /// How long each level of the sustained-rate search is held and measured (seconds).
    #[arg(long, default_value_t = 60)]
    sustained_secs: u64,
    /// How long each level is offered before it is measured (seconds).
    #[arg(long, default_value_t = 10)]
    sustained_warm_up_secs: u64,
    /// Levels of the sustained-rate search with batching on (one more with batching off).
    #[arg(long, default_value_t = 4)]
    sustained_levels: usize,
    /// The sustained-rate search's upper bound, payments/s.
    #[arg(long, default_value_t = 40.0)]
    sustained_max: f64,
    /// Only these sustained rates (batching on) instead of the search, e.g. to trace one.
    #[arg(long, value_delimiter = ',')]
    sustained_rates: Vec<f64>,
    /// Write a trace of each sustained level into this directory (see `throughput_trace.rs`).
    #[arg(long)]
    sustained_trace: Option<PathBuf>,
    /// Where to write the figures (default: the repository's BENCHMARKS.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print only; leave BENCHMARKS.md alone.
    #[arg(long)]
    no_write: bool,
}

/// Targets printed next to the figures.
const TARGET_CONFIRMED_PER_S: f64 = 1000.0;
const TARGET_P99_MS_AT_8: f64 = 25.0;
const TARGET_RSS_MB: f64 = 60.0;

pub(crate) fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let ram = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or("unknown".into(), |k| {
            format!("{:.1} GiB", k / 1024.0 / 1024.0)
        });
    format!("{cpu}, {cores} cores, {ram} RAM")
}

/// `YYYY-MM-DD HH:MM UTC` from the system clock.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The 1-, 5- and 15-minute load averages (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" / "))
        .unwrap_or_else(|| "unknown".into())
}

/// How busy the machine was around a part: other work on the same cores shows in its figures.
fn load_note(before: &str) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Load on the machine ({cores} cores; 1 / 5 / 15-minute load averages, this part's own \
         processes included): {before} at the start, {} at the end.\n\n",
        load_average()
    )
}

fn git_revision() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(b24pay_e2e::repo_root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let rev = run(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{rev} (with uncommitted changes)")
    } else {
        rev
    }
}

fn load_section(loads: &[load::StoreLoad], pg_skipped: bool) -> String {
    let mut s = String::from(
        "## Companion (release build) against the sandbox portal, rate limit off\n\n\
         The full verified flow per payment: `POST /api/v1/payments` with an approved card (the \
         companion reads the payment from the portal, charges the test acquirer, records the \
         charge and its outbox row) and the outbox's `sale.paysystem.pay.payment`. Confirmed/s \
         counts `succeeded` answers per second of wall time; \"all paid\" is when the portal showed \
         the last payment paid. Load clients, sandbox and companion share this machine; the CPU \
         columns are CPU time per payment of the companion process and of the benchmark process \
         (clients and sandbox portal).\n\n\
         | store | clients | payments | confirmed/s | p50 | p99 | all paid after | paid/s | errors | companion CPU | harness CPU |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for l in loads {
        for r in &l.runs {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} s | {:.0} | {} | {:.2} ms | {:.2} ms |",
                l.store.name(),
                r.clients,
                r.payments,
                r.confirmed_per_s,
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3,
                r.paid_after.as_secs_f64(),
                r.paid_per_s,
                r.errors,
                r.companion_cpu_ms,
                r.harness_cpu_ms
            );
        }
    }
    if pg_skipped {
        s.push_str("\nPostgreSQL: not measured (B24PAY_TEST_DATABASE_URL was not set; scripts/bench.sh starts one).\n");
    }
    s.push_str("\n| target | figure | |\n|---|---|---|\n");
    if let Some(sqlite) = loads.iter().find(|l| l.store == StoreKind::Sqlite) {
        let best = sqlite
            .runs
            .iter()
            .map(|r| r.confirmed_per_s)
            .fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "| ≥ {TARGET_CONFIRMED_PER_S:.0} confirmed payments/s with SQLite | {best:.0}/s (best concurrency) | {} |",
            if best >= TARGET_CONFIRMED_PER_S { "met" } else { "MISSED" }
        );
    }
    for l in loads {
        if let Some(r) = l.runs.iter().find(|r| r.clients == 8) {
            let p99 = r.p99.as_secs_f64() * 1e3;
            let _ = writeln!(
                s,
                "| p99 < {TARGET_P99_MS_AT_8:.0} ms at 8 clients ({}) | {p99:.2} ms | {} |",
                l.store.name(),
                if p99 < TARGET_P99_MS_AT_8 {
                    "met"
                } else {
                    "MISSED"
                }
            );
        }
        if let Some(kib) = l.peak_rss_kib {
            let mb = kib as f64 * 1024.0 / 1e6;
            let _ = writeln!(
                s,
                "| < {TARGET_RSS_MB:.0} MB resident ({}, peak VmHWM over all runs) | {mb:.1} MB | {} |",
                l.store.name(),
                if mb < TARGET_RSS_MB { "met" } else { "MISSED" }
            );
        }
    }
    s.push('\n');
    s
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let wants = |part: &str| args.only.is_empty() || args.only.iter().any(|o| o == part);
    let dist = args
        .dist
        .clone()
        .unwrap_or_else(|| b24pay_e2e::repo_root().join("dist"));
    if wants("weight") || wants("speed") {
        assert!(
            dist.join("index.html").is_file(),
            "no widget build in {} (run trunk build --release)",
            dist.display()
        );
    }

    let mut report = format!(
        "# Benchmarks\n\nWritten by `scripts/bench.sh` — {}. Each section says when and at which \
         revision it was measured: a run with `--only` rewrites its own sections and keeps the \
         others.\nRelease builds; figures, not test assertions.\n\n",
        machine()
    );
    let stamp = format!("_Measured {} at revision {}._", now_utc(), git_revision());
    let push = |report: &mut String, section: String| {
        report.push_str(&stamped(&section, &stamp));
    };

    let mut over_limit = None;
    if wants("weight") {
        eprintln!("weight: {}", dist.display());
        let w = weight::measure(&dist);
        eprintln!("weight: the wasm's breakdown (twiggy)");
        push(&mut report, weight::section(&w, breakdown::measure(25)));
        over_limit = (w.total().brotli > weight::HARD_LIMIT_BROTLI).then(|| w.total().brotli);
    }
    if wants("speed") {
        eprintln!(
            "speed: {} cold and {} warm loads of each page in headless Chromium",
            args.runs, args.runs
        );
        let sp = speed::measure(&dist, args.runs).await;
        push(&mut report, speed::section(&sp, args.runs));
    }
    if wants("load") {
        push(&mut report, companion_load().await);
    }
    if wants("throughput") {
        let (section, note) = burst(&args).await;
        push(&mut report, section);
        report.push_str(&note);
    }
    if wants("throughput") || wants("sustained") {
        let (section, note) = sustained(&args).await;
        push(&mut report, section);
        report.push_str(&note);
    }

    println!("{report}");
    if !args.no_write {
        let out = args
            .out
            .unwrap_or_else(|| b24pay_e2e::repo_root().join("BENCHMARKS.md"));
        let previous = std::fs::read_to_string(&out).unwrap_or_default();
        std::fs::write(&out, keep_unmeasured(&report, &previous)).expect("write BENCHMARKS.md");
        eprintln!("wrote {}", out.display());
    }
    if let Some(total) = over_limit {
        eprintln!(
            "FAILED: the widget weighs {} brotli, over its hard limit of {}",
            kb(total),
            kb(weight::HARD_LIMIT_BROTLI)
        );
        std::process::exit(1);
    }
}

/// The companion with the portal's rate limit off, on SQLite and (given one) PostgreSQL.
async fn companion_load() -> String {
    let plan = [(1, 1500), (8, 6000), (64, 8000)];
    let mut loads = Vec::new();
    eprintln!("load: SQLite");
    loads.push(load::measure(StoreKind::Sqlite, &plan).await);
    let pg = pg_url();
    if pg.is_some() {
        eprintln!("load: PostgreSQL");
        loads.push(load::measure(StoreKind::Postgres, &plan).await);
    }
    load_section(&loads, pg.is_none())
}

/// N customers at once within the portal's rate limit: the section and the machine's load.
async fn burst(args: &Args) -> (String, String) {
    eprintln!("throughput: the portal's rate limit on, batching off and on");
    let patience = std::time::Duration::from_secs(args.patience_secs);
    let load_before = load_average();
    let regimes = throughput::measure(&args.customers, patience).await;
    (throughput::section(&regimes), load_note(&load_before))
}

/// The sustained rate within the portal's rate limit: the section and the machine's load.
async fn sustained(args: &Args) -> (String, String) {
    let plan = throughput_sustained::Plan {
        warm_up: std::time::Duration::from_secs(args.sustained_warm_up_secs),
        hold: std::time::Duration::from_secs(args.sustained_secs),
        levels: args.sustained_levels,
        max: args.sustained_max,
        rates: args.sustained_rates.clone(),
        trace: args.sustained_trace.clone(),
    };
    eprintln!(
        "sustained: payments/s paid within 10 s, each level held {} s (batching off once, then on)",
        args.sustained_secs
    );
    let load_before = load_average();
    let sustained = throughput_sustained::measure(plan).await;
    (
        throughput_sustained::section(&sustained),
        load_note(&load_before),
    )
}

/// `section` with `stamp` as its first paragraph, under its heading.
fn stamped(section: &str, stamp: &str) -> String {
    match section.split_once("\n\n") {
        Some((heading, rest)) => format!("{heading}\n\n{stamp}\n\n{rest}"),
        None => format!("{section}\n\n{stamp}\n\n"),
    }
}

/// The new report, followed by the previous file's sections this run did not measure (a run with
/// `--only`, or figures other commands write, such as the fault drills'), so one part can be
/// measured again without losing the others.
fn keep_unmeasured(report: &str, previous: &str) -> String {
    let headings: Vec<&str> = report.lines().filter(|l| l.starts_with("## ")).collect();
    let mut out = report.trim_end().to_string();
    for section in previous.split("\n## ").skip(1) {
        let heading = format!("## {}", section.lines().next().unwrap_or_default());
        if !headings.contains(&heading.as_str()) {
            out.push_str(&format!("\n\n## {}", section.trim_end()));
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_section_says_when_it_was_measured() {
        let out = super::stamped("## Weight\n\n| a |\n", "_Measured now._");
        assert_eq!(out, "## Weight\n\n_Measured now._\n\n| a |\n");
    }

    #[test]
    fn sections_not_measured_are_kept() {
        let previous = "# B\n\nold header\n\n## Weight\n\nold w\n\n## Fault drills\n\n100 kills\n";
        let report = "# B\n\nnew header\n\n## Weight\n\nnew w\n";
        let out = super::keep_unmeasured(report, previous);
        assert_eq!(
            out,
            "# B\n\nnew header\n\n## Weight\n\nnew w\n\n## Fault drills\n\n100 kills\n"
        );
    }
}
