//! A trace of one sustained-rate level, for finding where a slow customer's seconds go
//! (`b24pay-bench --only sustained --sustained-trace DIR`): per customer, each try of Pay (sent,
//! answered, status, `Retry-After`) and when the portal showed the payment paid; the portal's
//! request counters sampled every [`SAMPLE_EVERY`]; and the companion's log (its filter from
//! `B24PAY_BENCH_LOG`, e.g. `warn,b24pay_companion::portal=debug,b24pay_companion::outbox=debug`).
//! Figures for reading, not for BENCHMARKS.md.

use super::throughput::Try;
use b24pay_e2e::stack::Stack;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The portal's counters at one moment.
#[derive(Clone, Copy)]
struct Sample {
    at: Duration,
    requests: u64,
    batches: u64,
    reads: u64,
    pays: u64,
    refused: u64,
}

/// Samples the sandbox's counters until aborted.
pub struct Sampler {
    /// The level's first arrival, as the companion's log writes times (UTC).
    t0_wall: std::time::SystemTime,
    samples: Arc<Mutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    pub fn start(stack: Arc<Stack>, t0: Instant) -> Sampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let out = samples.clone();
        let task = tokio::spawn(async move {
            loop {
                let s = &stack.sandbox;
                let sample = Sample {
                    at: t0.elapsed(),
                    requests: s.requests(),
                    batches: s.method_calls("batch"),
                    reads: s.method_calls("sale.paysystem.settings.payment.get"),
                    pays: s.method_calls("sale.paysystem.pay.payment"),
                    refused: s.rate_limited_calls(),
                };
                {
                    let mut samples = out.lock().expect("not poisoned");
                    // Only changes are worth a line.
                    let changed = samples.last().is_none_or(|l: &Sample| {
                        (l.requests, l.reads, l.pays, l.refused)
                            != (sample.requests, sample.reads, sample.pays, sample.refused)
                    });
                    if changed {
                        samples.push(sample);
                    }
                }
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        });
        let ahead = t0.saturating_duration_since(Instant::now());
        let t0_wall = std::time::SystemTime::now() + ahead;
        Sampler {
            t0_wall,
            samples,
            task,
        }
    }

    fn stop(self) -> Vec<Sample> {
        self.task.abort();
        self.samples.lock().expect("not poisoned").clone()
    }
}

/// One customer as the trace shows it.
pub struct Traced<'a> {
    pub index: usize,
    pub payment: u64,
    pub pressed: Duration,
    pub measured: bool,
    pub paid_after: Option<Duration>,
    pub tries: &'a [Try],
}

/// `HH:MM:SS.mmm` UTC, as the companion's log writes times.
fn utc_time_of_day(t: std::time::SystemTime) -> String {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let s = ms / 1000 % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// Writes `NAME.txt` (the measured customers, slowest first, then the warm-up's; then the portal's requests)
/// and copies the companion's log next to it.
pub fn write(dir: &Path, name: &str, stack: &Stack, customers: &[Traced<'_>], sampler: Sampler) {
    let _ = std::fs::create_dir_all(dir);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# the level's first arrival: {}\n\
         # times in s since then; paid: after the press\n\
         # index payment pressed measured paid_after | tries: sent..answered status retry_after",
        utc_time_of_day(sampler.t0_wall)
    );
    let mut ranked: Vec<&Traced> = customers.iter().collect();
    ranked.sort_by_key(|c| std::cmp::Reverse((c.measured, c.paid_after.unwrap_or(Duration::MAX))));
    for c in ranked {
        let tries: Vec<String> = c
            .tries
            .iter()
            .map(|t| {
                format!(
                    "{}..{} {} ra={}",
                    secs(t.sent),
                    secs(t.answered),
                    t.status,
                    t.retry_after.map_or("-".into(), |r| r.to_string())
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{} {} {} {} {} | {}",
            c.index,
            c.payment,
            secs(c.pressed),
            if c.measured { "m" } else { "w" },
            c.paid_after.map_or("-".into(), secs),
            tries.join(" ; ")
        );
    }
    let _ = writeln!(
        out,
        "\n# portal: at requests batches reads pays refused (cumulative)"
    );
    for s in sampler.stop() {
        let _ = writeln!(
            out,
            "{} {} {} {} {} {}",
            secs(s.at),
            s.requests,
            s.batches,
            s.reads,
            s.pays,
            s.refused
        );
    }
    let _ = std::fs::write(dir.join(format!("{name}.txt")), out);
    if let Ok(entries) = std::fs::read_dir(stack.dir.path()) {
        for entry in entries.flatten() {
            let file = entry.file_name();
            if file.to_string_lossy().ends_with(".log") {
                let _ = std::fs::copy(entry.path(), dir.join(format!("{name}.companion.log")));
            }
        }
    }
    eprintln!("  trace: {}", dir.join(format!("{name}.txt")).display());
}
