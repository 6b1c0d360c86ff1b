//! OAuth 2.0 as Bitrix24 does it: access tokens valid for an hour, refresh tokens that work
//! once (each refresh returns a new one), and the token endpoint of `oauth.bitrix.info`:
//! `GET /oauth/token/?grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::portal_format::now_unix;
use crate::state::AppState;

/// An access token's lifetime, as on the portal.
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3600;

/// A pair of tokens issued by the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// Counters of the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthStats {
    /// Successful refreshes.
    pub refreshes: u64,
    /// Refused refresh attempts (reused or unknown refresh token, wrong client).
    pub rejected_refreshes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct AccessToken {
    expires_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RefreshToken {
    used: bool,
}

/// Why an access token was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired,
}

/// Why a refresh was refused: `(status, error, error_description)`.
pub(crate) type RefreshRefusal = (StatusCode, &'static str, &'static str);

/// Issued tokens (persisted with the world, so tokens survive a restart with a data file).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct OAuthState {
    access: BTreeMap<String, AccessToken>,
    refresh: BTreeMap<String, RefreshToken>,
    counter: u64,
    stats: OAuthStats,
}

impl OAuthState {
    pub(crate) fn issue(&mut self, now: i64) -> OAuthTokens {
        let access_token = self.fresh_token();
        let refresh_token = self.fresh_token();
        self.access.insert(
            access_token.clone(),
            AccessToken {
                expires_at: now + ACCESS_TOKEN_LIFETIME_SECS,
            },
        );
        self.refresh
            .insert(refresh_token.clone(), RefreshToken { used: false });
        OAuthTokens {
            access_token,
            refresh_token,
        }
    }

    pub(crate) fn check_access(&self, token: &str, now: i64) -> Result<(), TokenProblem> {
        match self.access.get(token) {
            None => Err(TokenProblem::Unknown),
            Some(t) if t.expires_at <= now => Err(TokenProblem::Expired),
            Some(_) => Ok(()),
        }
    }

    /// Every access token issued so far expires now (refresh tokens stay valid).
    pub(crate) fn expire_all(&mut self, now: i64) {
        for token in self.access.values_mut() {
            token.expires_at = token.expires_at.min(now);
        }
    }

    pub(crate) fn refresh(
        &mut self,
        refresh_token: &str,
        now: i64,
    ) -> Result<OAuthTokens, RefreshRefusal> {
        match self.refresh.get_mut(refresh_token) {
            Some(token) if !token.used => {
                token.used = true;
                self.stats.refreshes += 1;
                Ok(self.issue(now))
            }
            _ => {
                self.stats.rejected_refreshes += 1;
                Err((
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token",
                ))
            }
        }
    }

    pub(crate) fn reject(&mut self) {
        self.stats.rejected_refreshes += 1;
    }

    pub(crate) fn stats(&self) -> OAuthStats {
        self.stats
    }

    /// 32 lower-case hex digits, like the portal's tokens; deterministic (a counter run
    /// through SplitMix64) so a fresh sandbox always issues the same sequence.
    fn fresh_token(&mut self) -> String {
        self.counter += 1;
        let a = splitmix64(self.counter.wrapping_mul(2));
        let b = splitmix64(self.counter.wrapping_mul(2) + 1);
        format!("{a:016x}{b:016x}")
    }
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The portal's `member_id`: fixed for the sandbox.
pub(crate) const MEMBER_ID: &str = "5a4d62b9c0de4f3a8e1b24a7d5c0ffee";

#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// `GET|POST /oauth/token/`.
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let refusal = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
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
        Ok(tokens) => Json(token_reply(&state, &tokens, now)).into_response(),
        Err((status, error, description)) => refusal(status, error, description),
    }
}

/// The token endpoint's reply, in the shape `oauth.bitrix.info` sends.
pub(crate) fn token_reply(state: &AppState, tokens: &OAuthTokens, now: i64) -> serde_json::Value {
    json!({
        "access_token": tokens.access_token,
        "expires": now + ACCESS_TOKEN_LIFETIME_SECS,
        "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "scope": "pay_system",
        "domain": "oauth.bitrix.info",
        "server_endpoint": format!("{}/oauth/rest/", state.config.public_url),
        "status": "L",
        "client_endpoint": format!("{}/rest/", state.config.public_url),
        "member_id": MEMBER_ID,
        "user_id": state.config.webhook_user_id,
        "refresh_token": tokens.refresh_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_rotate_and_work_once() {
        let mut state = OAuthState::default();
        let first = state.issue(0);
        let second = state.refresh(&first.refresh_token, 10).unwrap();
        assert_ne!(first, second);
        assert!(state.refresh(&first.refresh_token, 10).is_err());
        assert!(state.refresh(&second.refresh_token, 10).is_ok());
        assert_eq!(
            state.stats(),
            OAuthStats {
                refreshes: 2,
                rejected_refreshes: 1
            }
        );
    }

    #[test]
    fn access_tokens_expire() {
        let mut state = OAuthState::default();
        let tokens = state.issue(0);
        assert_eq!(state.check_access(&tokens.access_token, 10), Ok(()));
        assert_eq!(
            state.check_access(&tokens.access_token, 3600),
            Err(TokenProblem::Expired)
        );
        state.expire_all(5);
        assert_eq!(
            state.check_access(&tokens.access_token, 5),
            Err(TokenProblem::Expired)
        );
        assert_eq!(state.check_access("nope", 5), Err(TokenProblem::Unknown));
    }
}
