//! Broken HTTP on raw TCP connections: what never reaches a handler.

use rand::rngs::StdRng;
use rand::Rng;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Raw bytes on a fresh TCP connection: broken HTTP that never reaches a handler.
pub(super) fn raw_attacks(rng: &mut StdRng) -> Vec<(String, Vec<u8>)> {
    let post = "POST /api/v1/payments HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nIdempotency-Key: 0123456789abcdef0123456789abcdef\r\n";
    let mut noise = vec![0u8; 4096];
    rng.fill(&mut noise[..]);
    vec![
        ("garbage line".into(), b"GARBAGE\r\n\r\n".to_vec()),
        ("random bytes".into(), noise),
        (
            "truncated body".into(),
            format!("{post}Content-Length: 100\r\n\r\n{{").into_bytes(),
        ),
        (
            "absurd Content-Length".into(),
            format!("{post}Content-Length: 99999999999999999999\r\n\r\n").into_bytes(),
        ),
        (
            "bad chunk".into(),
            format!("{post}Transfer-Encoding: chunked\r\n\r\nZZZ\r\n").into_bytes(),
        ),
        (
            "Content-Length and chunked".into(),
            format!("{post}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n")
                .into_bytes(),
        ),
        (
            "100 KiB header".into(),
            format!("{post}X-Big: {}\r\n\r\n", "a".repeat(100 * 1024)).into_bytes(),
        ),
        (
            "HTTP/1.0 without Host".into(),
            b"GET /api/v1/payments/x HTTP/1.0\r\n\r\n".to_vec(),
        ),
        (
            "50 pipelined requests".into(),
            "GET /api/v1/payments/pa_x HTTP/1.1\r\nHost: localhost\r\n\r\n"
                .repeat(50)
                .into_bytes(),
        ),
    ]
}

/// Sends raw bytes and reads whatever comes back within a few seconds; the status codes of the
/// HTTP responses in it.
pub(super) async fn send_raw(addr: &str, bytes: &[u8]) -> Vec<u16> {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        panic!("the companion no longer accepts connections");
    };
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply)
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|r| r.get(..3)?.parse().ok())
        .collect()
}

/// Holds a connection open sending one header byte at a time (a slow client).
pub(super) async fn slow_client(addr: &str) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    for b in b"POST /api/v1/payments HTTP/1.1\r\nHost: localhost\r\nX-Slow: yes" {
        if stream.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}
