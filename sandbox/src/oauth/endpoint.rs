//! The token endpoint of `oauth.bitrix.info`, served by every portal for its own tokens (and
//! by a [`Platform`](crate::Platform)'s OAuth server for all of its portals').

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{OAuthState, OAuthTokens, ACCESS_TOKEN_LIFETIME_SECS};
use crate::portal_format::now_unix;
use crate::state::AppState;

/// The single sandbox's `member_id` (a platform's portals get their own).
pub(crate) const MEMBER_ID: &str = "5a4d62b9c0de4f3a8e1b24a7d5c0ffee";

/// The token endpoint's query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenQuery {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    pub refresh_token: Option<String>,
}

/// `GET|POST /oauth/token/` of one portal.
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    Query(query): Query<TokenQuery>,
) -> Response {
    token_for(&state, &query)
}

fn refusal(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// A refresh at the portal that issued the token (refusals are counted there).
pub(crate) fn token_for(state: &AppState, query: &TokenQuery) -> Response {
    if query.grant_type.as_deref() != Some("refresh_token") {
        state.mutate_oauth(OAuthState::reject);
        return refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=refresh_token is supported",
        );
    }
    let config = &state.config;
    if query.client_id.as_deref() != Some(config.oauth_client_id.as_str())
        || query.client_secret.as_deref() != Some(config.oauth_client_secret.as_str())
    {
        state.mutate_oauth(OAuthState::reject);
        return refusal(StatusCode::UNAUTHORIZED, "invalid_client", "Invalid client");
    }
    let now = now_unix();
    let refresh_token = query.refresh_token.as_deref().unwrap_or("");
    let refreshed = state.mutate_oauth(|oauth| oauth.refresh(refresh_token, now));
    match refreshed {
        Ok(tokens) => Json(token_reply(state, &tokens, now)).into_response(),
        Err((status, error, description)) => refusal(status, error, description),
    }
}

/// A refresh token no portal issued.
pub(crate) fn unknown_refresh_token() -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid refresh token",
    )
}

/// The token endpoint's reply, in the shape `oauth.bitrix.info` sends: `client_endpoint` and
/// `domain`… name where the portal is now (they change when it moves).
pub(crate) fn token_reply(state: &AppState, tokens: &OAuthTokens, now: i64) -> serde_json::Value {
    let public_url = state.public_url();
    let server = state
        .config
        .oauth_server
        .clone()
        .unwrap_or_else(|| format!("{public_url}/oauth"));
    json!({
        "access_token": tokens.access_token,
        "expires": now + ACCESS_TOKEN_LIFETIME_SECS,
        "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "scope": state.config.app.as_ref().map_or("pay_system", |app| app.scope.as_str()),
        "domain": "oauth.bitrix.info",
        "server_endpoint": format!("{server}/rest/"),
        "status": "L",
        "client_endpoint": format!("{public_url}/rest/"),
        "member_id": state.config.member_id,
        "user_id": state.config.webhook_user_id,
        "refresh_token": tokens.refresh_token,
    })
}
