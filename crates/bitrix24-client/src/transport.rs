//! Turning HTTP-library failures into [`Error::Transport`] without leaking the URL.

use std::error::Error as _;

use crate::error::{Call, Error, TransportKind};

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
