//! The OAuth tokens of a portal that installed the app, in its `portals` row: sealed under the
//! master key's `token-encryption` subkey bound to the portal's `member_id` (a row's tokens
//! cannot be copied into another row and read there), refreshed under a store lock of that
//! portal's own, so portals never wait for each other's refreshes. A refresh whose answer names
//! another REST endpoint (a portal that moved or was renamed) updates the stored location.

use crate::keys::{self, Subkey};
use crate::store::{now_ms, PortalLocation, SharedStore};
use bitrix24_client::{BoxError, BoxFuture, OAuthTokens, TokenLock, TokenLockGuard, TokenStore};

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    access_token: String,
    refresh_token: String,
    expires_at: Option<i64>,
}

/// What seals a portal's tokens (and opens them).
#[derive(Clone)]
pub struct TokenSeal {
    key: Subkey,
}

impl TokenSeal {
    pub fn new(key: Subkey) -> TokenSeal {
        TokenSeal { key }
    }

    fn context(member_id: &str) -> Vec<u8> {
        format!("portal-tokens:{member_id}").into_bytes()
    }

    pub fn seal(&self, member_id: &str, tokens: &OAuthTokens) -> String {
        let saved = Saved {
            access_token: tokens.access_token.expose().to_string(),
            refresh_token: tokens.refresh_token.expose().to_string(),
            expires_at: tokens.expires_at,
        };
        let json = serde_json::to_vec(&saved).expect("serialisable");
        keys::seal(&self.key, &Self::context(member_id), &json)
    }

    pub fn open(&self, member_id: &str, sealed: &str) -> Result<OAuthTokens, BoxError> {
        let json = keys::open(&self.key, &Self::context(member_id), sealed)?;
        let saved: Saved = serde_json::from_slice(&json)?;
        let mut tokens = OAuthTokens::new(saved.access_token, saved.refresh_token);
        tokens.expires_at = saved.expires_at;
        Ok(tokens)
    }
}

/// One installed portal's [`TokenStore`].
pub struct PortalTokens {
    store: SharedStore,
    seal: TokenSeal,
    member_id: String,
    /// The REST endpoint the client was built for; a refresh naming another one is a move.
    client_endpoint: String,
}

impl PortalTokens {
    pub fn new(
        store: SharedStore,
        seal: TokenSeal,
        member_id: String,
        client_endpoint: String,
    ) -> PortalTokens {
        PortalTokens {
            store,
            seal,
            member_id,
            client_endpoint,
        }
    }

    /// Follows a portal that moved: its new endpoint comes with refreshed tokens.
    async fn follow_move(&self, tokens: &OAuthTokens) -> Result<(), BoxError> {
        let Some(endpoint) = tokens.client_endpoint.as_deref() else {
            return Ok(());
        };
        if endpoint == self.client_endpoint {
            return Ok(());
        }
        let url = url::Url::parse(endpoint)?;
        let Some(host) = url.host_str() else {
            return Ok(());
        };
        let domain = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let location = PortalLocation {
            domain,
            origin: url.origin().ascii_serialization(),
            client_endpoint: endpoint.to_string(),
        };
        tracing::info!(member_id = %self.member_id, to = %location.origin, "portal moved");
        self.store
            .portal_moved(&self.member_id, &location, now_ms())
            .await?;
        Ok(())
    }
}

struct Held(crate::store::MetaLock);

impl TokenLockGuard for Held {
    fn release(self: Box<Self>) -> BoxFuture<'static, ()> {
        let Held(lock) = *self;
        Box::pin(lock.release())
    }
}

impl TokenStore for PortalTokens {
    fn save<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async move {
            let sealed = self.seal.seal(&self.member_id, tokens);
            if !self
                .store
                .portal_save_tokens(&self.member_id, &sealed, now_ms())
                .await?
            {
                return Err("the portal is no longer installed".into());
            }
            self.follow_move(tokens).await
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>, BoxError>> {
        Box::pin(async move {
            let row = self.store.portal_by_member(&self.member_id).await?;
            match row.and_then(|r| r.tokens) {
                Some(sealed) => Ok(Some(self.seal.open(&self.member_id, &sealed)?)),
                None => Ok(None),
            }
        })
    }

    fn lock(&self) -> BoxFuture<'_, Result<TokenLock, BoxError>> {
        Box::pin(async move {
            let name = format!("portal_tokens:{}", self.member_id);
            let lock = self.store.meta_lock(&name).await?;
            Ok(TokenLock::new(Box::new(Held(lock))))
        })
    }
}
