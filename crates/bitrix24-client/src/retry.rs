//! Retry bounds, the per-call retry policy, and the backoff schedule.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;

use crate::error::{Error, RetryClass, SystemError};

/// Bounds on retrying one call. A call gives up when either bound is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// Total attempts including the first (1 = never retry). A token refresh's retry is extra.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles for each further retry.
    pub base_delay: Duration,
    /// Cap on one backoff delay (not on waiting for `operating_reset_at`, which is bounded by
    /// `max_total`).
    pub max_delay: Duration,
    /// Cap on the whole call: attempts, backoff and waits. The per-request timeout is cut to
    /// what remains.
    pub max_total: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            max_total: Duration::from_secs(120),
        }
    }
}

impl RetryConfig {
    /// One attempt only.
    pub fn none() -> RetryConfig {
        RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        }
    }
}

/// Whether a call with side effects may be repeated when it is unknown whether the portal
/// executed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Retry {
    /// Repeating the call is harmless (the caller checks state first, or the effect is
    /// idempotent): retry every retryable failure, including timeouts, dropped connections
    /// and 5xx.
    Safe,
    /// Retry only failures where the portal provably did nothing (503 `QUERY_LIMIT_EXCEEDED`,
    /// 429 `OPERATION_TIME_LIMIT`, connection refused). An ambiguous failure is returned to the
    /// caller, whose [`Error::may_have_executed`] is then true.
    #[default]
    IfNotExecuted,
    /// A single attempt (an expired OAuth token is still refreshed and the call sent again,
    /// since the portal refused it unexecuted).
    Never,
}

impl Retry {
    pub(crate) fn allows(self, class: RetryClass) -> bool {
        match (self, class) {
            (_, RetryClass::Permanent) | (Retry::Never, _) => false,
            (Retry::Safe, _) => true,
            (Retry::IfNotExecuted, RetryClass::NotExecuted) => true,
            (Retry::IfNotExecuted, RetryClass::Ambiguous) => false,
        }
    }
}

/// How long to wait before retry number `retry` (1-based) after `error`.
pub(crate) fn delay_for(config: &RetryConfig, retry: u32, error: &Error) -> Duration {
    let backoff = jittered_backoff(config, retry);
    match error {
        Error::System {
            code: SystemError::OperationTimeLimit,
            operating_reset_at: Some(at),
            ..
        } => {
            // The method is blocked until then; asking earlier only burns the budget.
            until_unix(*at).max(config.base_delay)
        }
        Error::System {
            retry_after: Some(secs),
            ..
        } => backoff.max(Duration::from_secs(*secs)),
        _ => backoff,
    }
}

/// Exponential backoff with "equal jitter": half fixed, half random, so that concurrent
/// callers spread out but every wait still grows.
pub(crate) fn jittered_backoff(config: &RetryConfig, retry: u32) -> Duration {
    let exp = config.base_delay.saturating_mul(
        1u32.checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX),
    );
    let capped = exp.min(config.max_delay);
    let half = capped / 2;
    let jitter_ms = rand::rng().random_range(0..=half.as_millis() as u64);
    half + Duration::from_millis(jitter_ms)
}

fn until_unix(at: i64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let at = Duration::from_secs(at.max(0) as u64);
    at.saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Call;

    #[test]
    fn backoff_grows_and_is_capped() {
        let cfg = RetryConfig {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_total: Duration::from_secs(10),
        };
        for _ in 0..50 {
            let d1 = jittered_backoff(&cfg, 1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = jittered_backoff(&cfg, 3);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            let d9 = jittered_backoff(&cfg, 9);
            assert!(
                d9 >= Duration::from_millis(500) && d9 <= Duration::from_millis(1000),
                "{d9:?}"
            );
            let d_huge = jittered_backoff(&cfg, 200);
            assert!(d_huge <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn operating_reset_at_sets_the_delay() {
        let cfg = RetryConfig::default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let err = Error::System {
            call: Call::new("m", "h"),
            code: SystemError::OperationTimeLimit,
            description: String::new(),
            status: 429,
            operating_reset_at: Some(now + 3),
            retry_after: None,
        };
        let d = delay_for(&cfg, 1, &err);
        assert!(
            d > Duration::from_secs(1) && d <= Duration::from_secs(3),
            "{d:?}"
        );
    }

    #[test]
    fn policy_matrix() {
        use RetryClass::*;
        assert!(Retry::Safe.allows(Ambiguous));
        assert!(Retry::Safe.allows(NotExecuted));
        assert!(!Retry::Safe.allows(Permanent));
        assert!(Retry::IfNotExecuted.allows(NotExecuted));
        assert!(!Retry::IfNotExecuted.allows(Ambiguous));
        assert!(!Retry::Never.allows(NotExecuted));
    }
}
