//! Explicit waits: poll a condition until it holds or a deadline passes, then fail saying what
//! was awaited and what was last seen. Never a bare sleep as synchronisation.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// How often conditions are polled.
pub const POLL: Duration = Duration::from_millis(25);

/// Polls `check` until it returns `Ok(value)`; `Err(last)` keeps what was seen for the message.
/// Panics after `timeout` with `what` and the last observation.
pub async fn until<T, E, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    match try_until(timeout, &mut check).await {
        Ok(value) => value,
        Err(last) => panic!("timed out after {timeout:?} waiting for {what}; last seen: {last:?}"),
    }
}

/// Like [`until`], but returns the last observation instead of panicking.
pub async fn try_until<T, E, F, Fut>(timeout: Duration, mut check: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(value) => return Ok(value),
            Err(last) if started.elapsed() >= timeout => return Err(last),
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
