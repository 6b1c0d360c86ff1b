//! Which portal an API request is for: the configured portal at `/api/v1`, an installed portal
//! at `/p/{pid}/api/v1` (the API base its widget page names). The path decides, never the
//! body, so a payment id sent through portal A's page is only ever looked up on portal A.

use super::error::ApiError;
use crate::portal::{PortalKey, PublicId};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use b24pay_protocol::api::ErrorCode;

/// The route's portal.
pub struct Scope(pub PortalKey);

/// The `{id}` path segment (an attempt id), beside an optional `{pid}`.
pub struct AttemptPath(pub String);

fn param(params: &RawPathParams, name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

async fn params<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<RawPathParams, ApiError> {
    RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such API endpoint"))
}

impl<S: Send + Sync> FromRequestParts<S> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = params(parts, state).await?;
        match param(&params, "pid") {
            None => Ok(Scope(PortalKey::configured())),
            Some(pid) => PublicId::parse(&pid)
                .map(|id| Scope(PortalKey::installed(&id)))
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such portal")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AttemptPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = params(parts, state).await?;
        param(&params, "id")
            .map(AttemptPath)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such payment attempt"))
    }
}
