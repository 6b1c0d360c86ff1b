//! Assertions on the companion's answers, `(status, JSON body)` as [`super::Env::post`] returns
//! them.

use serde_json::Value;

/// The answer is the JSON error envelope with `status` and `code` (the body is printed when not).
#[track_caller]
pub fn assert_error(reply: &(u16, Value), status: u16, code: &str) {
    let (got, body) = reply;
    assert_eq!(
        (*got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
}

/// The answer is a 200 with the attempt `succeeded` (the body is printed when not).
#[track_caller]
pub fn assert_succeeded(reply: &(u16, Value)) {
    let (got, body) = reply;
    assert_eq!(
        (*got, body["state"].as_str()),
        (200, Some("succeeded")),
        "{body}"
    );
}

/// The answer is a 200 with the attempt `declined` for `decline_code` (the body is printed when
/// not).
#[track_caller]
pub fn assert_declined(reply: &(u16, Value), decline_code: &str) {
    let (got, body) = reply;
    assert_eq!(
        (*got, body["state"].as_str(), body["decline_code"].as_str()),
        (200, Some("declined"), Some(decline_code)),
        "{body}"
    );
}
