//! The HTTP edge against the real server: a client that never finishes its headers (or drips
//! them) is cut after `header_read_timeout`, an idle keep-alive connection after
//! `idle_timeout`; one address holding `connections_per_ip` connections is refused more while
//! other clients are served; a body that arrives too slowly gets a JSON `timeout` error; and a
//! graceful stop does not wait for idle or stalled connections.

use crate::common::*;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A companion with the edge limits given (milliseconds; 0 leaves the default).
async fn env_with(header_ms: u64, idle_ms: u64, body_ms: u64, per_ip: Option<usize>) -> Env {
    let mut env = Env::start(StoreKind::Sqlite).await;
    env.stop_server().await;
    let l = &mut env.file_config.limits;
    l.header_read_timeout_ms = (header_ms > 0).then_some(header_ms);
    l.idle_timeout_ms = (idle_ms > 0).then_some(idle_ms);
    l.body_read_timeout_ms = (body_ms > 0).then_some(body_ms);
    l.connections_per_ip = per_ip;
    env.start_server().await;
    env
}

fn addr(env: &Env) -> SocketAddr {
    env.server().addr
}

/// Reads until the server closes the connection (or `limit` passes); what it sent, and
/// whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

/// Reads one response whose body is delimited by Content-Length.
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
            .await
            .expect("a response in time")
            .expect("readable");
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&data)
        );
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
                return (status, body[..length].to_string());
            }
        }
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: companion\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_cut() {
    // Headers within 1 s; idle connections may stay 30 s (so a cut at ~1 s is the header
    // timer, not the idle one).
    let env = env_with(1000, 30_000, 0, None).await;
    let mut stream = TcpStream::connect(addr(&env)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: companion\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    let took = started.elapsed();
    eprintln!("slow-header client (silent) cut after {took:?}");
    assert!(closed, "still open after 20 s");
    assert!(answer.is_empty() || String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"));
    assert!(took >= Duration::from_millis(900), "cut early: {took:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");

    // Dripping a byte every 200 ms keeps the connection busy but does not extend the limit.
    let mut stream = TcpStream::connect(addr(&env)).await.unwrap();
    let started = Instant::now();
    let drip = async {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: companion\r\nX-Drip: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if stream.write_all(&[*byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    };
    let cut = tokio::time::timeout(Duration::from_secs(20), drip)
        .await
        .unwrap_or(false);
    let took = started.elapsed();
    eprintln!("slow-header client (dripping) cut after {took:?}");
    assert!(cut, "the dripping client was never cut");
    assert!(took < Duration::from_secs(8), "{took:?}");

    // A complete request is answered as usual.
    let mut stream = TcpStream::connect(addr(&env)).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut stream).await.0, 200);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_keep_alive_still_works() {
    // Idle 1.5 s, headers 10 s.
    let env = env_with(10_000, 1500, 0, None).await;
    let mut stream = TcpStream::connect(addr(&env)).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut stream).await.0, 200);
    // Within the idle timeout the connection is reused.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut stream).await.0, 200);
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    let took = started.elapsed();
    eprintln!("idle keep-alive connection closed after {took:?}");
    assert!(closed);
    assert!(
        took >= Duration::from_millis(1300) && took < Duration::from_secs(8),
        "{took:?}"
    );

    // A connection that never sends anything is idle too (not a header read).
    let mut silent = TcpStream::connect(addr(&env)).await.unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(20)).await;
    assert!(closed);
    assert!(started.elapsed() < Duration::from_secs(8));
    env.stop().await;
}

/// A connection from a given loopback address (all of 127/8 reaches the server).
async fn connect_from(source: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(server).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_over_the_cap_is_refused_while_others_are_served() {
    let env = env_with(0, 0, 0, Some(3)).await;
    let server = addr(&env);
    // Three connections from 127.0.0.1, held open (idle).
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = connect_from("127.0.0.1", server).await;
        s.write_all(HEALTHZ).await.unwrap();
        assert_eq!(read_response(&mut s).await.0, 200);
        held.push(s);
    }
    // The fourth is answered 429 with the API's error body, and closed.
    let mut fourth = connect_from("127.0.0.1", server).await;
    fourth.write_all(HEALTHZ).await.unwrap();
    let (answer, closed) = read_until_closed(&mut fourth, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(closed);
    assert!(text.starts_with("HTTP/1.1 429 "), "{text}");
    let body: serde_json::Value =
        serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    // Another client (127.0.0.2) is served meanwhile, and the held ones still work.
    let mut other = connect_from("127.0.0.2", server).await;
    other.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut other).await.0, 200);
    held[0].write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut held[0]).await.0, 200);

    // Closing one gives its place back.
    drop(held.pop());
    let mut admitted = false;
    for _ in 0..100 {
        let mut s = connect_from("127.0.0.1", server).await;
        s.write_all(HEALTHZ).await.unwrap();
        if read_response(&mut s).await.0 == 200 {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(admitted, "the closed connection's place was not given back");
    let metrics = env.metrics().await;
    let refused = metrics
        .lines()
        .find(|l| l.starts_with("b24pay_http_connections_refused_total "))
        .unwrap_or_default();
    assert!(!refused.ends_with(" 0"), "{refused}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_gets_a_json_timeout_error() {
    // The body within 800 ms; the handler itself may take its usual 30 s.
    let env = env_with(0, 0, 800, None).await;
    let mut stream = TcpStream::connect(addr(&env)).await.unwrap();
    let head = "POST /api/v1/payments HTTP/1.1\r\nHost: companion\r\nContent-Type: application/json\r\nIdempotency-Key: 0123456789abcdef0123456789abcdef\r\nContent-Length: 200\r\n\r\n{\"payment_id\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (status, body) = read_response(&mut stream).await;
    let took = started.elapsed();
    eprintln!("slow body answered {status} after {took:?}: {body}");
    assert_eq!(status, 504);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "timeout");
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(8),
        "{took:?}"
    );

    // A body that arrives in time is handled as before.
    let id = env.order("10", "USD");
    let (status, v) = env.pay_order(id, "10", "USD", APPROVED).await;
    assert_eq!(status, 200, "{v}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_does_not_wait_for_idle_or_stalled_clients() {
    let mut env = env_with(30_000, 60_000, 0, None).await;
    let server = addr(&env);
    let mut idle = TcpStream::connect(server).await.unwrap();
    idle.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut idle).await.0, 200);
    let mut stalled = TcpStream::connect(server).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    env.stop_server().await;
    let took = started.elapsed();
    eprintln!("graceful stop with an idle and a stalled connection took {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(read_until_closed(&mut idle, Duration::from_secs(5)).await.1);
    assert!(
        TcpStream::connect(server).await.is_err(),
        "no longer accepting"
    );
    env.stop().await;
}
