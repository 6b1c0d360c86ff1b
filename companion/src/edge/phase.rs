//! Where one connection is in its life, for its two timeouts: waiting for a request
//! (`idle_timeout`), reading a request's headers (`header_read_timeout`, from their first
//! byte), or serving requests (no edge timeout: the body-read and handler timeouts apply).
//!
//! The socket wrapper [`Watched`] sees bytes arrive and leave; the service sees requests begin
//! and end; [`Phase::watchdog`] ends the connection when the timeout of its state runs out.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No request; last activity at `since`.
    Idle { since: Instant },
    /// A request's first bytes arrived at `since`; its headers are not complete yet.
    Head { since: Instant },
    /// Requests being served.
    Busy { requests: usize },
}

/// Why the watchdog ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Headers not complete within `header_read_timeout`.
    Header,
    /// No request within `idle_timeout`.
    Idle,
}

impl Cut {
    pub fn as_str(self) -> &'static str {
        match self {
            Cut::Header => "header",
            Cut::Idle => "idle",
        }
    }
}

#[derive(Debug)]
pub struct Phase {
    state: Mutex<State>,
    changed: Notify,
}

impl Phase {
    pub fn new() -> Arc<Phase> {
        Arc::new(Phase {
            state: Mutex::new(State::Idle {
                since: Instant::now(),
            }),
            changed: Notify::new(),
        })
    }

    fn update(&self, f: impl FnOnce(State) -> State) {
        let mut state = self.state.lock().expect("not poisoned");
        let next = f(*state);
        if next != *state {
            *state = next;
            self.changed.notify_one();
        }
    }

    fn bytes_read(&self) {
        self.update(|s| match s {
            State::Idle { .. } => State::Head {
                since: Instant::now(),
            },
            other => other,
        });
    }

    fn bytes_written(&self) {
        // A response still being written to a slow reader is activity, not idleness.
        self.update(|s| match s {
            State::Idle { .. } => State::Idle {
                since: Instant::now(),
            },
            other => other,
        });
    }

    /// True while a request is being served.
    pub fn serving(&self) -> bool {
        matches!(
            *self.state.lock().expect("not poisoned"),
            State::Busy { .. }
        )
    }

    /// A request's headers are in; the returned guard ends it when dropped.
    pub fn begin(self: &Arc<Self>) -> Serving {
        self.update(|s| match s {
            State::Busy { requests } => State::Busy {
                requests: requests + 1,
            },
            _ => State::Busy { requests: 1 },
        });
        Serving(self.clone())
    }

    fn end(&self) {
        self.update(|s| match s {
            State::Busy { requests } if requests > 1 => State::Busy {
                requests: requests - 1,
            },
            _ => State::Idle {
                since: Instant::now(),
            },
        });
    }

    /// Resolves when the connection has been idle for `idle`, or has been reading one
    /// request's headers for `header`.
    pub async fn watchdog(&self, header: Duration, idle: Duration) -> Cut {
        loop {
            // Registered before reading the state, so a change in between is not missed.
            let changed = self.changed.notified();
            let deadline = match *self.state.lock().expect("not poisoned") {
                State::Idle { since } => Some((since + idle, Cut::Idle)),
                State::Head { since } => Some((since + header, Cut::Header)),
                State::Busy { .. } => None,
            };
            match deadline {
                Some((at, cut)) if at <= Instant::now() => return cut,
                Some((at, _)) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// A request being served; ends it when dropped (its response done, or abandoned).
pub struct Serving(Arc<Phase>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A connection's socket, telling its [`Phase`] when bytes move.
pub struct Watched<T> {
    inner: T,
    phase: Arc<Phase>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, phase: Arc<Phase>) -> Watched<T> {
        Watched { inner, phase }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.phase.bytes_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.phase.bytes_written();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.phase.bytes_written();
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_then_header_then_busy() {
        let header = Duration::from_secs(2);
        let idle = Duration::from_secs(10);
        let phase = Phase::new();
        let start = Instant::now();
        assert_eq!(phase.watchdog(header, idle).await, Cut::Idle);
        assert_eq!(start.elapsed(), idle);

        // The first byte of a request starts the (shorter) header clock.
        let phase = Phase::new();
        let p = phase.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            p.bytes_read();
        });
        let start = Instant::now();
        assert_eq!(phase.watchdog(header, idle).await, Cut::Header);
        assert_eq!(start.elapsed(), Duration::from_secs(3));

        // Serving stops both clocks; idleness counts again from the end of the response.
        let phase = Phase::new();
        let p = phase.clone();
        tokio::spawn(async move {
            p.bytes_read();
            let serving = p.begin();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(serving);
        });
        let start = Instant::now();
        assert_eq!(phase.watchdog(header, idle).await, Cut::Idle);
        assert_eq!(start.elapsed(), Duration::from_secs(40));
    }
}
