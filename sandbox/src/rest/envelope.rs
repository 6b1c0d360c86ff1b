//! The portal's reply envelope: `{"result": …, "time": {…}}`, or `{"error", "error_description"}`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::RestError;
use crate::portal_format::rfc3339;

/// Timing of one call, for the `time` block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    pub start: SystemTime,
    pub processing: Duration,
    /// Seconds of method time used in the current operating window.
    pub operating: f64,
    /// Unix seconds when the operating window resets.
    pub operating_reset_at: i64,
}

fn unix_f64(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

pub(crate) fn time_block(timing: &Timing) -> Value {
    let finish = SystemTime::now();
    let start = unix_f64(timing.start);
    let finish_f = unix_f64(finish).max(start);
    json!({
        "start": start,
        "finish": finish_f,
        "duration": finish_f - start,
        "processing": timing.processing.as_secs_f64(),
        "date_start": rfc3339(start as i64),
        "date_finish": rfc3339(finish_f as i64),
        "operating_reset_at": timing.operating_reset_at,
        "operating": timing.operating,
    })
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

pub(crate) fn success(result: Value, timing: &Timing) -> Response {
    json_response(
        StatusCode::OK,
        json!({"result": result, "time": time_block(timing)}),
    )
}

/// An error answer. `timing` adds the `time` block (sent with `OPERATION_TIME_LIMIT`, so a
/// client can read `operating_reset_at`).
pub(crate) fn error(error: &RestError, timing: Option<&Timing>) -> Response {
    let mut body = json!({
        "error": error.code.as_str(),
        "error_description": error.description,
    });
    if let Some(timing) = timing {
        body["time"] = time_block(timing);
    }
    json_response(error.code.status(), body)
}
