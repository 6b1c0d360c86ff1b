//! The HTTP edge: our own accept loop over hyper's HTTP/1.1 connections (`axum::serve` offers
//! no limits), so that no client can hold the server's resources for long:
//!
//! - at most `connections_per_ip` open connections per client address ([`per_ip`]); one more
//!   is answered `429 rate_limited` and closed, while other clients are served;
//! - a request's headers must be complete within `header_read_timeout` of their first byte,
//!   and a connection without a request is closed after `idle_timeout` ([`phase`]);
//! - a request's body must arrive within `body_read_timeout` ([`body`]), before the handler
//!   and its own timeout run.
//!
//! Every request carries the client's address as `ConnectInfo<SocketAddr>`. A graceful stop
//! stops accepting, lets requests in flight finish (idle connections close at once), and after
//! a grace period drops what is left.

pub mod body;
pub mod per_ip;
pub mod phase;

use crate::config::Limits;
use crate::metrics::{CutReason, SharedMetrics};
use axum::extract::ConnectInfo;
use axum::Router;
use b24pay_protocol::api::{ErrorBody, ErrorCode, ErrorDetail};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use per_ip::{PerIp, Slot};
use phase::{Cut, Phase, Watched};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// The edge's limits (from `[limits]`).
#[derive(Clone, Debug)]
pub struct EdgeSettings {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// 0: no cap.
    pub connections_per_ip: usize,
    /// How long a graceful stop waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl EdgeSettings {
    pub fn from_limits(limits: &Limits) -> EdgeSettings {
        EdgeSettings {
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            connections_per_ip: limits.connections_per_ip,
            shutdown_grace: limits.body_read_timeout + limits.request_timeout,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` turns true; returns when every connection is
/// done (or the grace period is over).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: EdgeSettings,
    metrics: SharedMetrics,
    shutdown: watch::Receiver<bool>,
) {
    let mut stop = shutdown.clone();
    let per_ip = PerIp::new(settings.connections_per_ip);
    let settings = Arc::new(settings);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match per_ip.admit(peer.ip()) {
                    Some(slot) => {
                        let conn = Connection {
                            app: app.clone(),
                            settings: settings.clone(),
                            metrics: metrics.clone(),
                            peer,
                            _slot: slot,
                        };
                        connections.spawn(conn.run(stream, shutdown.clone()));
                    }
                    None => {
                        metrics.connections_refused.inc();
                        tracing::debug!(client = %peer.ip(), "connection refused: too many open from this address");
                        connections.spawn(refuse(stream));
                    }
                },
                Err(e) if client_gone(&e) => {}
                Err(e) => {
                    // Out of file descriptors or memory: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(settings.shutdown_grace, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            left = connections.len(),
            "connections still open after the grace period; closing them"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// An accept error that concerns one client only (it hung up before we took it).
fn client_gone(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

/// Resolves once `shutdown` is true (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// One accepted connection.
struct Connection {
    app: Router,
    settings: Arc<EdgeSettings>,
    metrics: SharedMetrics,
    peer: SocketAddr,
    /// Its place in the per-address count, given back when the connection ends.
    _slot: Slot,
}

impl Connection {
    async fn run(self, stream: TcpStream, mut shutdown: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        self.metrics.connections_open.inc();
        let phase = Phase::new();
        let io = TokioIo::new(Watched::new(stream, phase.clone()));
        let (app, peer, serving) = (self.app.clone(), self.peer, phase.clone());
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = serving.begin();
            let app = app.clone();
            async move {
                let response = app.oneshot(request.map(axum::body::Body::new)).await;
                drop(busy);
                response
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        // hyper's own header timer (it also runs between requests) as a backstop that never
        // fires before ours.
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.settings.header_read_timeout + self.settings.idle_timeout)
            .keep_alive(true);
        let conn = builder.serve_connection(io, service);
        tokio::pin!(conn);
        let watchdog = phase.watchdog(
            self.settings.header_read_timeout,
            self.settings.idle_timeout,
        );
        tokio::pin!(watchdog);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    break;
                }
                cut = &mut watchdog => {
                    // Dropping the connection closes the socket.
                    self.metrics.connection_cut(match cut {
                        Cut::Header => CutReason::header,
                        Cut::Idle => CutReason::idle,
                    });
                    tracing::debug!(client = %peer.ip(), reason = cut.as_str(), "connection cut");
                    break;
                }
                () = stopped(&mut shutdown), if !stopping => {
                    // Nothing in flight (idle, or headers still arriving): close now.
                    if !phase.serving() {
                        break;
                    }
                    conn.as_mut().graceful_shutdown();
                    stopping = true;
                }
            }
        }
        self.metrics.connections_open.dec();
    }
}

/// The answer to a connection over the per-address cap: `429 rate_limited`, then close.
fn refusal() -> Vec<u8> {
    let body = serde_json::to_string(&ErrorBody {
        error: ErrorDetail {
            code: ErrorCode::RateLimited,
            message: "too many open connections from this address; retry shortly".into(),
            field: None,
        },
    })
    .expect("an error body serialises");
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn refuse(mut stream: TcpStream) {
    // Read what the client sent first (briefly), so closing does not reset the connection
    // before it reads the answer.
    let mut scratch = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut scratch)).await;
    let answer = async {
        stream.write_all(&refusal()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_json_response() {
        let text = String::from_utf8(refusal()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 429 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "rate_limited");
    }
}
