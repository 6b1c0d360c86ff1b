//! Fault drills against the real `b24pay` process, through the HTTP API (no browser):
//!
//! * **SIGKILL drill** (`sigkill`) — a stream of payments (approved and declined cards, each
//!   payment with its own idempotency key, clients retrying the same key after connection
//!   errors) while the companion is killed with SIGKILL at random moments (seeded; the seed is
//!   printed, and `B24PAY_DRILL_SEED` replays it) and restarted on the same port and data. Every
//!   approved charge ends up paid in the sandbox exactly once (`pay_calls == 1`: the outbox
//!   re-reads the PAID flag after any try that may have reached the portal), no payment is
//!   charged twice (the acquirer's ledger), no declined payment is marked paid.
//! * **Flood drill** (`flood`) — malformed, oversized and hostile requests (HTTP and raw TCP)
//!   while real payments go on: never a 500, every API error is the documented JSON, the process
//!   never dies, and the real payments complete.
//! * **Nobody-retries drill** (`nobody_retries`) — the same kills, but every customer sends its
//!   request once and never comes back (a closed tab). After the last restart, with no client
//!   action, every approved charge is paid in the sandbox exactly once within a bounded time,
//!   nothing is charged twice, and no attempt is left unsettled: the reconciler and the outbox
//!   do it alone. `B24PAY_DRILL_KILLS` kills per store (10 in the test command;
//!   `scripts/drill.sh` runs 50 per store).
//!
//! All run against SQLite, and against PostgreSQL when `B24PAY_TEST_DATABASE_URL` is set.

mod flood;
mod nobody_retries;
mod sigkill;

use b24pay_e2e::stack::Stack;
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::Value;
use std::time::{Duration, Instant};

fn new_key(rng: &mut impl Rng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

/// The drill's seed: `B24PAY_DRILL_SEED` when set (a replay), otherwise a fresh one.
fn drill_seed() -> u64 {
    std::env::var("B24PAY_DRILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>)
}

/// One payment of a drill's plan: the order in the sandbox, the customer's idempotency key and
/// request, and whether its card can be approved.
struct Planned {
    payment_id: u64,
    key: String,
    body: Value,
    approvable: bool,
}

/// `n` orders in the sandbox with random sums, each to be paid with the card `card` picks
/// (its number, and whether it can be approved).
fn plan_payments(
    stack: &Stack,
    rng: &mut StdRng,
    n: usize,
    card: impl Fn(&mut StdRng) -> (&'static str, bool),
) -> Vec<Planned> {
    (0..n)
        .map(|_| {
            let sum = format!(
                "{}.{:02}",
                rng.random_range(1..5000),
                rng.random_range(0..100)
            );
            let payment_id = stack.order(&sum, "RUB");
            let (number, approvable) = card(rng);
            Planned {
                payment_id,
                key: new_key(rng),
                body: stack.confirm_body(payment_id, &sum, "RUB", number),
                approvable,
            }
        })
        .collect()
}

/// What the customer's client finally heard for one payment.
#[derive(Clone, Debug)]
struct Final {
    state: String,
    decline_code: Option<String>,
}

/// Confirms one payment like a careful client: the same key and body until a final answer,
/// through connection errors (the companion is dead), `payment_in_progress` (a crashed
/// attempt's lease has not run out) and transient errors. Returns the final answer and how
/// many requests it took.
async fn confirm_until_final(
    stack: &Stack,
    key: &str,
    body: &Value,
    deadline: Instant,
) -> (Final, usize) {
    let mut tries = 0;
    loop {
        assert!(
            Instant::now() < deadline,
            "no final answer for {body} (key {key}) after {tries} tries"
        );
        tries += 1;
        if let Ok(answer) = stack.confirm(key, body).await {
            if let Some(fin) = final_answer(answer, body) {
                return (fin, tries);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The final answer in one reply, or `None` when the reply says to come back; panics on a
/// reply no careful client could handle.
fn final_answer((status, reply): (u16, Value), body: &Value) -> Option<Final> {
    if status == 200 {
        return match reply["state"].as_str() {
            Some(state @ ("succeeded" | "declined")) => Some(Final {
                state: state.to_string(),
                decline_code: reply["decline_code"].as_str().map(str::to_string),
            }),
            // `failed` (a transient acquirer error) and `processing` are retried with the same
            // key, which can never charge twice.
            Some("failed" | "processing") => None,
            other => panic!("unexpected state {other:?}: {reply}"),
        };
    }
    let code = reply["error"]["code"].as_str().unwrap_or_default();
    assert!(
        matches!(status, 409 | 429 | 502 | 503 | 504)
            && matches!(
                code,
                "payment_in_progress"
                    | "rate_limited"
                    | "portal_unavailable"
                    | "timeout"
                    | "overloaded"
            ),
        "not a transient refusal: {status} {reply} for {body}"
    );
    None
}
