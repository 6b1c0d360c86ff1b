//! Injected faults: the next N REST calls (optionally only of some methods) fail the way a
//! portal or the network fails.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One way a REST call can fail. Inject with [`SandboxHandle::inject`](crate::SandboxHandle::inject)
/// or `POST /sandbox/api/faults`.
///
/// Whether the method ran matters for exactly-once tests, so each kind says so.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// 503 `QUERY_LIMIT_EXCEEDED`. The method does not run.
    QueryLimitExceeded,
    /// 500 `INTERNAL_SERVER_ERROR`. The method does not run.
    InternalServerError,
    /// 429 `OPERATION_TIME_LIMIT` with `time.operating_reset_at` = the injection time plus
    /// `reset_after` (rounded up to a whole second). The method does not run.
    OperationTimeLimit { reset_after: Duration },
    /// 401 `expired_token`, as if the OAuth access token had expired (for any call form).
    /// The method does not run.
    ExpiredToken,
    /// The request is held for the duration, then the connection is closed without a reply.
    /// The method does not run. Use a duration longer than the client's timeout.
    Hang(Duration),
    /// The method runs at once, and the reply is sent only after the duration: a client with a
    /// shorter timeout gives up although the call took effect.
    SlowReply(Duration),
    /// The connection is closed without a reply. The method does not run.
    DropConnection,
    /// The method runs, then the connection is closed without a reply (a lost reply).
    DropAfterExecution,
    /// The call gets no reply, and the method takes effect only `delay` after the call
    /// arrived: a portal whose front end cuts a request at 60 s while PHP keeps running. The
    /// connection is held for `cut_after` (zero: closed at once), then closed without a reply;
    /// the method runs at `delay` whether or not the client is still there. A client that
    /// re-reads the payment before `delay` sees it unpaid, and a repeated call lands too.
    DelayedExecution {
        delay: Duration,
        cut_after: Duration,
    },
    /// `sale.paysystem.pay.payment` / `pay.invoice` only: the method checks its parameters as
    /// usual and answers `true`, but the payment is not saved (it stays unpaid, without the
    /// new `PS_*` values), as the portal does when saving fails on its side. Counted in the
    /// payment's `unsaved_pay_calls`, not in `pay_calls`. Other methods never draw this fault.
    TrueWithoutSaving,
}

impl Fault {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Fault::QueryLimitExceeded => "query_limit_exceeded",
            Fault::InternalServerError => "internal_server_error",
            Fault::OperationTimeLimit { .. } => "operation_time_limit",
            Fault::ExpiredToken => "expired_token",
            Fault::Hang(_) => "hang",
            Fault::SlowReply(_) => "slow_reply",
            Fault::DropConnection => "drop_connection",
            Fault::DropAfterExecution => "drop_after_execution",
            Fault::DelayedExecution { .. } => "delayed_execution",
            Fault::TrueWithoutSaving => "true_without_saving",
        }
    }

    /// Whether a command inside a `batch` draws this fault without being named: only the
    /// faults that are about one method's effect (the others, untargeted, hit the batch
    /// request itself).
    fn is_command_level(&self) -> bool {
        matches!(self, Fault::TrueWithoutSaving)
    }

    /// Whether a call of `method` (lower-case) can draw this fault.
    pub(crate) fn applies_to(&self, method: &str) -> bool {
        match self {
            Fault::TrueWithoutSaving => PAY_METHODS.contains(&method),
            _ => true,
        }
    }
}

/// The methods that mark a payment paid.
const PAY_METHODS: [&str; 2] = ["sale.paysystem.pay.payment", "sale.paysystem.pay.invoice"];

/// The wire form of a fault for `POST /sandbox/api/faults`:
/// `{"kind": "hang", "count": 1, "methods": ["sale.paysystem.pay.payment"], "duration_ms": 5000}`,
/// `{"kind": "delayed_execution", "duration_ms": 3000, "cut_after_ms": 0}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultRequest {
    /// `query_limit_exceeded`, `internal_server_error`, `operation_time_limit`,
    /// `expired_token`, `hang`, `slow_reply`, `drop_connection`, `drop_after_execution`,
    /// `delayed_execution` or `true_without_saving`.
    pub kind: String,
    /// How many matching calls fail (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// Only calls of these methods (default: any method).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// For `hang`, `slow_reply` and `delayed_execution` (default 30000).
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// For `delayed_execution`: how long the connection is held before it is closed without
    /// a reply (default 0: at once).
    #[serde(default)]
    pub cut_after_ms: Option<u64>,
    /// For `operation_time_limit` (default 10).
    #[serde(default)]
    pub reset_after_secs: Option<u64>,
}

fn one() -> u32 {
    1
}

impl FaultRequest {
    pub(crate) fn to_fault(&self) -> Result<Fault, String> {
        let duration = Duration::from_millis(self.duration_ms.unwrap_or(30_000));
        Ok(match self.kind.as_str() {
            "query_limit_exceeded" => Fault::QueryLimitExceeded,
            "internal_server_error" => Fault::InternalServerError,
            "operation_time_limit" => Fault::OperationTimeLimit {
                reset_after: Duration::from_secs(self.reset_after_secs.unwrap_or(10)),
            },
            "expired_token" => Fault::ExpiredToken,
            "hang" => Fault::Hang(duration),
            "slow_reply" => Fault::SlowReply(duration),
            "drop_connection" => Fault::DropConnection,
            "drop_after_execution" => Fault::DropAfterExecution,
            "delayed_execution" => Fault::DelayedExecution {
                delay: duration,
                cut_after: Duration::from_millis(self.cut_after_ms.unwrap_or(0)),
            },
            "true_without_saving" => Fault::TrueWithoutSaving,
            other => return Err(format!("unknown fault kind {other:?}")),
        })
    }
}

/// A fault waiting for its calls.
#[derive(Clone, Debug)]
pub(crate) struct PendingFault {
    pub fault: Fault,
    pub remaining: u32,
    /// Lower-case method names; `None` = any.
    pub methods: Option<Vec<String>>,
    /// For `OperationTimeLimit`: fixed when injected.
    pub reset_at: i64,
}

/// Pending faults in injection order; a call takes the first one that matches it.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    pending: Vec<PendingFault>,
}

/// A fault a call drew, with its `operating_reset_at`.
#[derive(Clone, Debug)]
pub(crate) struct DrawnFault {
    pub fault: Fault,
    pub reset_at: i64,
}

impl FaultQueue {
    pub(crate) fn inject(
        &mut self,
        fault: Fault,
        count: u32,
        methods: Option<Vec<String>>,
        now_unix_f64: f64,
    ) {
        if count == 0 {
            return;
        }
        let reset_at = match &fault {
            Fault::OperationTimeLimit { reset_after } => {
                (now_unix_f64 + reset_after.as_secs_f64()).ceil() as i64
            }
            _ => 0,
        };
        self.pending.push(PendingFault {
            fault,
            remaining: count,
            methods: methods.map(|m| m.into_iter().map(|s| s.to_lowercase()).collect()),
            reset_at,
        });
    }

    pub(crate) fn take(&mut self, method: &str) -> Option<DrawnFault> {
        let index = self.pending.iter().position(|p| {
            p.fault.applies_to(method)
                && p.methods
                    .as_ref()
                    .is_none_or(|methods| methods.iter().any(|m| m == method))
        })?;
        Some(self.draw(index))
    }

    /// The fault a command of a `batch` draws: the first pending one that names its method,
    /// or an untargeted one about the method's effect ([`Fault::TrueWithoutSaving`]).
    pub(crate) fn take_for_command(&mut self, method: &str) -> Option<DrawnFault> {
        let index = self.pending.iter().position(|p| {
            p.fault.applies_to(method)
                && match &p.methods {
                    Some(methods) => methods.iter().any(|m| m == method),
                    None => p.fault.is_command_level(),
                }
        })?;
        Some(self.draw(index))
    }

    fn draw(&mut self, index: usize) -> DrawnFault {
        let pending = &mut self.pending[index];
        pending.remaining -= 1;
        let drawn = DrawnFault {
            fault: pending.fault.clone(),
            reset_at: pending.reset_at,
        };
        if pending.remaining == 0 {
            self.pending.remove(index);
        }
        drawn
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }

    pub(crate) fn pending(&self) -> &[PendingFault] {
        &self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_to_matching_methods_only() {
        let mut queue = FaultQueue::default();
        queue.inject(
            Fault::InternalServerError,
            2,
            Some(vec!["sale.paysystem.pay.payment".into()]),
            0.0,
        );
        queue.inject(Fault::QueryLimitExceeded, 1, None, 0.0);
        assert_eq!(
            queue.take("sale.paysystem.list").unwrap().fault,
            Fault::QueryLimitExceeded
        );
        assert!(queue.take("sale.paysystem.list").is_none());
        assert_eq!(
            queue.take("sale.paysystem.pay.payment").unwrap().fault,
            Fault::InternalServerError
        );
        assert!(queue.take("sale.paysystem.pay.payment").is_some());
        assert!(queue.take("sale.paysystem.pay.payment").is_none());
    }

    #[test]
    fn true_without_saving_waits_for_a_pay_call() {
        let mut queue = FaultQueue::default();
        queue.inject(Fault::TrueWithoutSaving, 1, None, 0.0);
        assert!(queue.take("sale.paysystem.list").is_none());
        assert!(queue.take("sale.paysystem.settings.payment.get").is_none());
        assert_eq!(
            queue.take("sale.paysystem.pay.invoice").unwrap().fault,
            Fault::TrueWithoutSaving
        );
        assert!(queue.take("sale.paysystem.pay.payment").is_none());
    }

    #[test]
    fn batch_commands_draw_only_faults_about_them() {
        let mut queue = FaultQueue::default();
        queue.inject(Fault::InternalServerError, 1, None, 0.0);
        queue.inject(Fault::TrueWithoutSaving, 1, None, 0.0);
        queue.inject(
            Fault::DropAfterExecution,
            1,
            Some(vec!["sale.paysystem.pay.payment".into()]),
            0.0,
        );
        // An untargeted transport or error fault is the batch request's, not a command's.
        assert_eq!(
            queue
                .take_for_command("sale.paysystem.pay.payment")
                .unwrap()
                .fault,
            Fault::TrueWithoutSaving
        );
        assert_eq!(
            queue
                .take_for_command("sale.paysystem.pay.payment")
                .unwrap()
                .fault,
            Fault::DropAfterExecution
        );
        assert!(queue
            .take_for_command("sale.paysystem.pay.payment")
            .is_none());
        assert_eq!(
            queue.take("batch").unwrap().fault,
            Fault::InternalServerError
        );
    }

    #[test]
    fn operation_time_limit_reset_is_fixed_at_injection() {
        let mut queue = FaultQueue::default();
        queue.inject(
            Fault::OperationTimeLimit {
                reset_after: Duration::from_secs(5),
            },
            1,
            None,
            100.2,
        );
        assert_eq!(queue.take("x").unwrap().reset_at, 106);
    }
}
