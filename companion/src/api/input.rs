//! Request parsing at the edge: the strict JSON extractor (content type, size, unknown fields,
//! types, each failure mapped to a field-level `ErrorCode`), the idempotency key header, and the
//! semantic checks that turn a `ConfirmRequest` into typed, validated values.

use super::error::ApiError;
use crate::acquirer::Card;
use crate::payments::ConfirmInput;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use b24pay_protocol::api::{
    valid_idempotency_key, CardInput, ConfirmRequest, ErrorCode, IDEMPOTENCY_HEADER,
};
use b24pay_protocol::card::{self, CvcError, ExpiryError, NumberError};
use b24pay_protocol::ids::{InvalidId, InvoiceId, PaySystemId, PaymentId};
use b24pay_protocol::money::AmountError;
use b24pay_protocol::{Currency, Money};
use serde::de::DeserializeOwned;

/// A JSON body parsed strictly into `T`, or an [`ApiError`] naming the field at fault.
pub struct StrictJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| m == "application/json");
        if !json_type {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Content-Type must be application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::BodyTooLarge, "request body too large")
            } else {
                ApiError::new(ErrorCode::InvalidJson, "could not read the request body")
            }
        })?;
        parse_json(&bytes).map(StrictJson)
    }
}

/// Which error code a field's problems get.
fn field_code(path: &str) -> Option<ErrorCode> {
    Some(match path {
        "payment_id" | "invoice_id" => ErrorCode::InvalidPaymentId,
        "paysystem_id" => ErrorCode::InvalidPaysystemId,
        "amount" => ErrorCode::InvalidAmount,
        "currency" => ErrorCode::UnknownCurrency,
        "card.number" => ErrorCode::InvalidCardNumber,
        "card.exp_month" | "card.exp_year" => ErrorCode::InvalidExpiry,
        "card.cvc" => ErrorCode::InvalidCvc,
        "card.holder" => ErrorCode::InvalidHolder,
        "code" => ErrorCode::InvalidChallengeCode,
        _ => return None,
    })
}

/// The name between backticks in serde's "missing field `x`" / "unknown field `x`".
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => return Err(json_error(&e)),
    };
    de.end().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidJson,
            "trailing characters after the JSON value",
        )
    })?;
    Ok(value)
}

fn json_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let inner = e.inner();
    let path = e.path().to_string();
    let parent = if path == "." {
        String::new()
    } else {
        path.clone()
    };
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON: {inner}"))
        }
        Category::Data => {
            let message = inner.to_string();
            if message.starts_with("unknown field") {
                // The path already ends with the unknown field's name.
                let name = quoted_name(&message).unwrap_or("?");
                let field = if parent.is_empty() {
                    name.to_string()
                } else {
                    parent
                };
                // An extra field inside the card is still a card problem the widget can show.
                return ApiError::field(
                    ErrorCode::InvalidJson,
                    &field,
                    format!("unknown field {field}"),
                );
            }
            let field = if message.starts_with("missing field") {
                join(&parent, quoted_name(&message).unwrap_or("?"))
            } else {
                path
            };
            match field_code(&field) {
                Some(code) => ApiError::field(code, &field, format!("{field}: {message}")),
                None if field == "." => ApiError::new(ErrorCode::InvalidJson, message),
                None => ApiError::field(
                    ErrorCode::InvalidJson,
                    &field,
                    format!("{field}: {message}"),
                ),
            }
        }
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// The `Idempotency-Key` header, validated.
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IDEMPOTENCY_HEADER) else {
            return Err(ApiError::new(
                ErrorCode::MissingIdempotencyKey,
                "the Idempotency-Key header is required",
            ));
        };
        match value.to_str() {
            Ok(key) if valid_idempotency_key(key) => Ok(IdempotencyKey(key.to_string())),
            _ => Err(ApiError::new(
                ErrorCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 16 to 64 characters of A-Z a-z 0-9 _ -",
            )),
        }
    }
}

fn parse_id<T>(
    text: &str,
    parse: fn(&str) -> Result<T, InvalidId>,
    code: ErrorCode,
    field: &str,
) -> Result<T, ApiError> {
    parse(text)
        .map_err(|_| ApiError::field(code, field, format!("{field} must be a positive integer")))
}

/// Today's (year, month) in UTC, for expiry checks.
pub fn today() -> (u16, u8) {
    let now = time::OffsetDateTime::now_utc();
    (
        now.year().clamp(0, u16::MAX as i32) as u16,
        now.month() as u8,
    )
}

pub fn validate_confirm(req: &ConfirmRequest, today: (u16, u8)) -> Result<ConfirmInput, ApiError> {
    let payment_id = parse_id(
        &req.payment_id,
        PaymentId::parse,
        ErrorCode::InvalidPaymentId,
        "payment_id",
    )?;
    let paysystem_id = parse_id(
        &req.paysystem_id,
        PaySystemId::parse,
        ErrorCode::InvalidPaysystemId,
        "paysystem_id",
    )?;
    let invoice_id = match &req.invoice_id {
        Some(text) => Some(parse_id(
            text,
            InvoiceId::parse,
            ErrorCode::InvalidPaymentId,
            "invoice_id",
        )?),
        None => None,
    };
    Ok(ConfirmInput {
        payment_id,
        paysystem_id,
        amount: parse_amount(&req.amount, &req.currency)?,
        card: parse_card(&req.card, today)?,
        invoice_id,
        session: parse_session(req.session.as_deref())?,
        // The route's portal (`api::scope`) replaces it.
        portal: crate::portal::PortalKey::configured(),
    })
}

/// The widget's page session: shaped like an idempotency key.
fn parse_session(session: Option<&str>) -> Result<Option<String>, ApiError> {
    match session {
        Some(s) if valid_idempotency_key(s) => Ok(Some(s.to_string())),
        Some(_) => Err(ApiError::field(
            ErrorCode::InvalidJson,
            "session",
            "session must be 16 to 64 characters of A-Z a-z 0-9 _ -",
        )),
        None => Ok(None),
    }
}

fn parse_amount(amount: &str, currency: &str) -> Result<Money, ApiError> {
    let currency = Currency::parse(currency).ok_or_else(|| {
        ApiError::field(
            ErrorCode::UnknownCurrency,
            "currency",
            "not an ISO 4217 currency code",
        )
    })?;
    Money::parse(amount, currency).map_err(|e| {
        let why = match e {
            AmountError::Malformed => "not a plain decimal number",
            AmountError::TooPrecise => "more decimals than the currency has",
            AmountError::NotPositive => "must be above zero",
            AmountError::TooLarge => "too large",
        };
        ApiError::field(ErrorCode::InvalidAmount, "amount", format!("amount: {why}"))
    })
}

/// The card, checked as the widget checked it: brand and Luhn, expiry, CVC, holder.
fn parse_card(c: &CardInput, today: (u16, u8)) -> Result<Card, ApiError> {
    let brand = card::validate_number(&c.number).map_err(|e| {
        let why = match e {
            NumberError::Empty => "empty",
            NumberError::Incomplete => "too short",
            NumberError::BadLength => "not a valid length of digits",
            NumberError::Checksum => "fails the checksum",
        };
        ApiError::field(
            ErrorCode::InvalidCardNumber,
            "card.number",
            format!("card number {why}"),
        )
    })?;
    card::check_expiry(c.exp_month, c.exp_year, today.0, today.1).map_err(expiry_error)?;
    card::validate_cvc(&c.cvc, brand).map_err(|e| {
        let why = match e {
            CvcError::Empty => "empty",
            CvcError::BadLength => "wrong length or not digits",
        };
        ApiError::field(ErrorCode::InvalidCvc, "card.cvc", format!("CVC {why}"))
    })?;
    Ok(Card {
        number: c.number.clone(),
        exp_month: c.exp_month,
        exp_year: c.exp_year,
        cvc: c.cvc.clone(),
        holder: parse_holder(c.holder.as_deref())?,
        brand,
    })
}

fn expiry_error(e: ExpiryError) -> ApiError {
    match e {
        ExpiryError::Past => ApiError::field(
            ErrorCode::CardExpired,
            "card.exp_year",
            "the card has expired",
        ),
        ExpiryError::BadMonth => ApiError::field(
            ErrorCode::InvalidExpiry,
            "card.exp_month",
            "month must be 1 to 12",
        ),
        _ => ApiError::field(
            ErrorCode::InvalidExpiry,
            "card.exp_year",
            "implausible expiry year",
        ),
    }
}

fn parse_holder(holder: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(h) = holder.map(str::trim) else {
        return Ok(None);
    };
    if h.chars().count() > 64 || h.chars().any(char::is_control) {
        return Err(ApiError::field(
            ErrorCode::InvalidHolder,
            "card.holder",
            "holder: at most 64 printable characters",
        ));
    }
    Ok((!h.is_empty()).then(|| h.to_string()))
}

/// Challenge codes: 1 to 16 letters or digits.
pub fn validate_challenge_code(code: &str) -> Result<(), ApiError> {
    if (1..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ApiError::field(
            ErrorCode::InvalidChallengeCode,
            "code",
            "the code must be 1 to 16 letters or digits",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use b24pay_protocol::api::ChallengeRequest;

    fn err_of(body: &str) -> (ErrorCode, Option<String>) {
        let e = parse_json::<ConfirmRequest>(body.as_bytes()).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(err_of("{"), (ErrorCode::InvalidJson, None));
        assert_eq!(
            err_of(r#"{"payment_id":247}"#),
            (ErrorCode::InvalidPaymentId, Some("payment_id".into()))
        );
        assert_eq!(
            err_of(
                r#"{"payment_id":"1","paysystem_id":"1","amount":"1","currency":"RUB","card":{"number":"4242424242424242","exp_month":"12","exp_year":2030,"cvc":"123"}}"#
            ),
            (ErrorCode::InvalidExpiry, Some("card.exp_month".into()))
        );
        assert_eq!(
            err_of(r#"{"payment_id":"1","paysystem_id":"1","currency":"RUB"}"#),
            (ErrorCode::InvalidAmount, Some("amount".into()))
        );
        assert_eq!(
            err_of(
                r#"{"payment_id":"1","paysystem_id":"1","amount":"1","currency":"RUB","card":{"number":"4242424242424242","exp_month":300,"exp_year":2030,"cvc":"123"}}"#
            ),
            (ErrorCode::InvalidExpiry, Some("card.exp_month".into()))
        );
        assert_eq!(
            err_of(
                r#"{"payment_id":"1","paysystem_id":"1","amount":"1","currency":"RUB","card":{"number":"4242424242424242","exp_month":1,"exp_year":2030,"cvc":"123","pin":"1"}}"#
            ),
            (ErrorCode::InvalidJson, Some("card.pin".into()))
        );
        let e = parse_json::<ChallengeRequest>(br#"{"code":123}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidChallengeCode);
        assert!(parse_json::<ChallengeRequest>(br#"{"code":"123"} x"#).is_err());
    }

    #[test]
    fn ids_are_canonical() {
        let id = |t: &str| parse_id(t, PaymentId::parse, ErrorCode::InvalidPaymentId, "p");
        assert_eq!(id("0247").unwrap().to_string(), "247");
        for bad in ["", "0", "-1", "1.5", "abc", "99999999999999999999", " 1"] {
            assert!(id(bad).is_err(), "{bad}");
        }
    }
}
