//! Turning HTTP-library failures into [`Error::Transport`] without leaking the URL.

use std::error::Error as _;

use crate::error::{Call, Error, ProtocolKind, TransportKind};

pub(crate) fn error(call: &Call, err: reqwest::Error, scrub: &dyn Fn(String) -> String) -> Error {
    // reqwest prints the URL, which for webhooks contains the code.
    let err = err.without_url();
    let kind = if err.is_connect() {
        TransportKind::Connect
    } else if err.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Connection
    };
    let mut detail = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    Error::Transport {
        call: call.clone(),
        kind,
        detail: scrub(detail),
    }
}

/// Reads a reply body of at most `max` bytes. A bigger one (announced or not) is refused
/// without being buffered: a broken or hostile server cannot make us hold gigabytes.
pub(crate) async fn read_body(
    call: &Call,
    mut response: reqwest::Response,
    max: usize,
    scrub: &(dyn Fn(String) -> String + Send + Sync),
) -> Result<Vec<u8>, Error> {
    let status = response.status().as_u16();
    let too_large = || Error::Protocol {
        call: call.clone(),
        kind: ProtocolKind::UnexpectedShape,
        status,
        detail: format!("reply body over {max} bytes"),
    };
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| error(call, e, scrub))? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
