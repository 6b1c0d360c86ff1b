//! OAuth 2.0 as Bitrix24 does it: access tokens valid for an hour, refresh tokens that work
//! once (each refresh returns a new one), and the token endpoint of `oauth.bitrix.info`:
//! `GET /oauth/token/?grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…`
//! (`endpoint.rs`). This file holds one portal's issued tokens and its app installation.

mod endpoint;

pub(crate) use endpoint::{
    token, token_for, token_reply, unknown_refresh_token, TokenQuery, MEMBER_ID,
};

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

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

/// The Market app installed on the portal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installation {
    /// The proof on every event the portal sends the app.
    pub application_token: String,
    /// The install completed: the event was sent, or the install page called
    /// `BX24.installFinish()`.
    pub finished: bool,
    /// Unix seconds.
    pub installed_at: i64,
}

/// Issued tokens (persisted with the world, so tokens survive a restart with a data file).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct OAuthState {
    access: BTreeMap<String, AccessToken>,
    refresh: BTreeMap<String, RefreshToken>,
    counter: u64,
    stats: OAuthStats,
    /// Makes this portal's tokens differ from other portals' (0: the single sandbox's, so its
    /// tokens stay what they always were).
    #[serde(default)]
    salt: u64,
    #[serde(default)]
    installation: Option<Installation>,
}

impl OAuthState {
    /// A fresh portal's tokens, `salt` apart from other portals'.
    pub(crate) fn with_salt(salt: u64) -> OAuthState {
        OAuthState {
            salt,
            ..OAuthState::default()
        }
    }

    /// Whether this portal issued `refresh_token` (used or not).
    pub(crate) fn issued_refresh(&self, refresh_token: &str) -> bool {
        self.refresh.contains_key(refresh_token)
    }

    /// Every token issued so far stops working (the app was uninstalled).
    pub(crate) fn revoke_all(&mut self) {
        self.access.clear();
        for token in self.refresh.values_mut() {
            token.used = true;
        }
    }

    /// Installs the app: a fresh `application_token`, unless it is installed already (the
    /// admin reinstalling it keeps its installation's token; only an uninstall ends it).
    pub(crate) fn install(&mut self, finished: bool, now: i64) -> Installation {
        let application_token = match &self.installation {
            Some(installed) => installed.application_token.clone(),
            None => self.fresh_token(),
        };
        let installation = Installation {
            application_token,
            finished,
            installed_at: now,
        };
        self.installation = Some(installation.clone());
        installation
    }

    /// The install page's `BX24.installFinish()`.
    pub(crate) fn finish_install(&mut self) -> bool {
        match &mut self.installation {
            Some(installation) => {
                installation.finished = true;
                true
            }
            None => false,
        }
    }

    pub(crate) fn uninstall(&mut self) -> Option<Installation> {
        self.revoke_all();
        self.installation.take()
    }

    /// A fresh id that is no token (an install page's `APP_SID`).
    pub(crate) fn fresh_id(&mut self) -> String {
        self.fresh_token()
    }

    pub(crate) fn installation(&self) -> Option<&Installation> {
        self.installation.as_ref()
    }

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
        let seed = self.counter.wrapping_mul(2) ^ self.salt.rotate_left(40);
        let a = splitmix64(seed);
        let b = splitmix64(seed + 1);
        format!("{a:016x}{b:016x}")
    }
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
    fn portals_issue_different_tokens_and_uninstall_revokes_them() {
        let (mut a, mut b) = (OAuthState::default(), OAuthState::with_salt(2));
        let (ta, tb) = (a.issue(0), b.issue(0));
        assert_ne!(ta, tb);
        assert_eq!(
            ta.access_token, "975835de1c9756ce1d0b14e4db018fed",
            "the single sandbox's first token is unchanged"
        );
        let installed = a.install(true, 0);
        assert_ne!(installed.application_token, ta.access_token);
        assert_eq!(
            a.install(true, 1).application_token,
            installed.application_token,
            "a reinstall keeps the installation's token"
        );
        let installed = a.installation().cloned().unwrap();
        assert_eq!(a.uninstall(), Some(installed));
        assert_eq!(
            a.check_access(&ta.access_token, 1),
            Err(TokenProblem::Unknown)
        );
        assert!(a.refresh(&ta.refresh_token, 1).is_err());
        assert!(a.installation().is_none());
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
