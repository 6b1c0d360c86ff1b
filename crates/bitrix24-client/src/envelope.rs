//! Reading the portal's reply: `{"result": …, "time": {…}}` on success, `{"error", "error_description"}`
//! on failure, and whatever a proxy might send instead.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Call, Error, ProtocolKind};

/// Parses a reply body into the method's typed `result`, or the error it describes.
/// `scrub` removes secrets from any text copied into the error.
pub(crate) fn parse<T: DeserializeOwned>(
    call: &Call,
    status: u16,
    retry_after: Option<u64>,
    body: &[u8],
    scrub: &dyn Fn(String) -> String,
) -> Result<T, Error> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return Err(Error::Protocol {
                call: call.clone(),
                kind: ProtocolKind::NotJson,
                status,
                detail: format!("{} byte body is not JSON", body.len()),
            })
        }
    };
    if let Some(err) = portal_error(call, status, retry_after, &value, scrub) {
        return Err(err);
    }
    let success = (200..300).contains(&status);
    if !success || value.get("result").is_none() {
        return Err(Error::Protocol {
            call: call.clone(),
            kind: ProtocolKind::UnexpectedShape,
            status,
            detail: "reply has neither result nor error".into(),
        });
    }
    // Deserialised from the bytes (not the `Value`) so that key order survives.
    #[derive(Deserialize)]
    struct Reply<T> {
        result: T,
    }
    serde_json::from_slice::<Reply<T>>(body)
        .map(|r| r.result)
        .map_err(|e| Error::Protocol {
            call: call.clone(),
            kind: ProtocolKind::UnexpectedShape,
            status,
            detail: scrub(format!("result: {}", without_quoted(&e.to_string()))),
        })
}

/// Longest error code kept from a reply (the portal's are under 40 characters).
pub(crate) const MAX_CODE_CHARS: usize = 64;
/// Longest error description kept from a reply: enough for any real message, and a hostile
/// portal cannot fill the logs.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 1024;

/// The first `max` characters of `text` (with "…" when cut).
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `{"error": "CODE", "error_description": "…"}`, possibly with `time.operating_reset_at`.
fn portal_error(
    call: &Call,
    status: u16,
    retry_after: Option<u64>,
    value: &Value,
    scrub: &dyn Fn(String) -> String,
) -> Option<Error> {
    let code = clip(value.get("error")?.as_str()?, MAX_CODE_CHARS);
    let description = value
        .get("error_description")
        .and_then(crate::lenient::scalar_to_string)
        .map(|d| clip(&d, MAX_DESCRIPTION_CHARS))
        .unwrap_or_default();
    let reset_at = value
        .get("time")
        .and_then(|t| t.get("operating_reset_at"))
        .or_else(|| value.get("operating_reset_at"))
        .and_then(as_unix_seconds);
    Some(Error::from_portal(
        call.clone(),
        &code,
        scrub(description),
        status,
        reset_at,
        retry_after,
    ))
}

fn as_unix_seconds(v: &Value) -> Option<i64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    // Rounded up: waking a moment late is harmless, a moment early costs another 429.
    (f.is_finite() && f > 0.0).then(|| f.ceil() as i64)
}

/// serde's messages quote the offending value; the value may be a secret setting.
pub(crate) fn without_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            if !inside {
                out.push_str("\"…");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{MethodError, SystemError};
    use std::collections::BTreeMap;

    fn call() -> Call {
        Call::new("sale.paysystem.add", "portal")
    }

    fn id(s: String) -> String {
        s
    }

    #[test]
    fn success_envelope() {
        let body =
            br#"{"result":1,"time":{"start":1712132792.910734,"operating_reset_at":1705765533}}"#;
        let n: u64 = parse(&call(), 200, None, body, &id).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn error_envelope() {
        let body = br#"{"error":"ERROR_CHECK_FAILURE","error_description":"Parameter NAME is not defined"}"#;
        let err = parse::<u64>(&call(), 400, None, body, &id).unwrap_err();
        match err {
            Error::Method {
                code,
                description,
                status,
                ..
            } => {
                assert_eq!(code, MethodError::CheckFailure);
                assert_eq!(description, "Parameter NAME is not defined");
                assert_eq!(status, 400);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn operation_time_limit_carries_reset_time() {
        let body = br#"{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked","time":{"operating_reset_at":1705765533.2}}"#;
        let err = parse::<u64>(&call(), 429, None, body, &id).unwrap_err();
        assert!(matches!(
            err,
            Error::System {
                code: SystemError::OperationTimeLimit,
                operating_reset_at: Some(1705765534),
                ..
            }
        ));
    }

    #[test]
    fn non_json_and_odd_shapes_are_protocol_errors() {
        let err = parse::<u64>(&call(), 502, None, b"<html>Bad gateway</html>", &id).unwrap_err();
        assert!(matches!(
            err,
            Error::Protocol {
                kind: ProtocolKind::NotJson,
                status: 502,
                ..
            }
        ));
        assert!(err.is_retryable());
        let err = parse::<u64>(&call(), 200, None, br#"{"ok":true}"#, &id).unwrap_err();
        assert!(matches!(
            err,
            Error::Protocol {
                kind: ProtocolKind::UnexpectedShape,
                ..
            }
        ));
        let err =
            parse::<u64>(&call(), 200, None, br#"{"result":{"x":"topsecret"}}"#, &id).unwrap_err();
        assert!(matches!(
            err,
            Error::Protocol {
                kind: ProtocolKind::UnexpectedShape,
                ..
            }
        ));
        let err = parse::<BTreeMap<String, u64>>(
            &call(),
            200,
            None,
            br#"{"result":{"KEY":"topsecret"}}"#,
            &id,
        )
        .unwrap_err();
        assert!(!err.to_string().contains("topsecret"), "{err}");
    }

    #[test]
    fn error_description_is_scrubbed() {
        let body = br#"{"error":"NO_AUTH_FOUND","error_description":"Wrong code abcdef123456"}"#;
        let scrub = |s: String| s.replace("abcdef123456", "***");
        let err = parse::<u64>(&call(), 401, None, body, &scrub).unwrap_err();
        assert_eq!(err.description(), Some("Wrong code ***"));
    }
}
