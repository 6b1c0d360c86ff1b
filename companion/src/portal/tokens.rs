//! OAuth tokens in the companion's store: encrypted at rest (XChaCha20-Poly1305 under the
//! master key's `token-encryption` subkey, bound to the row's key), shared by every instance on
//! the store (their refreshes serialised by the store's lock, see
//! [`bitrix24_client::TokenStore`]). Tokens an older version stored in clear are still read,
//! and written back encrypted at once.

use crate::keys::{self, Subkey};
use crate::store::{MetaLock, SharedStore};
use bitrix24_client::{BoxError, BoxFuture, OAuthTokens, TokenLock, TokenLockGuard, TokenStore};

/// The meta row the tokens live in.
pub const TOKENS_KEY: &str = "oauth_tokens";

pub struct StoreTokens {
    store: SharedStore,
    key: Subkey,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedTokens {
    access_token: String,
    refresh_token: String,
    expires_at: Option<i64>,
}

impl StoreTokens {
    pub fn new(store: SharedStore, key: Subkey) -> StoreTokens {
        StoreTokens { store, key }
    }

    /// The stored tokens, if any. Tokens stored in clear (by an older version) are re-saved
    /// encrypted before they are returned.
    pub async fn saved(&self) -> Result<Option<OAuthTokens>, BoxError> {
        let Some(text) = self.store.meta_get(TOKENS_KEY).await? else {
            return Ok(None);
        };
        let tokens = self.decode(&text)?;
        if !keys::is_sealed(&text) {
            self.save(&tokens).await?;
            tracing::info!("OAuth tokens stored unencrypted by an older version are now encrypted");
        }
        Ok(Some(tokens))
    }

    fn encode(&self, tokens: &OAuthTokens) -> Result<String, BoxError> {
        let saved = SavedTokens {
            access_token: tokens.access_token.expose().to_string(),
            refresh_token: tokens.refresh_token.expose().to_string(),
            expires_at: tokens.expires_at,
        };
        let json = serde_json::to_vec(&saved)?;
        Ok(keys::seal(&self.key, TOKENS_KEY.as_bytes(), &json))
    }

    fn decode(&self, text: &str) -> Result<OAuthTokens, BoxError> {
        let saved: SavedTokens = if keys::is_sealed(text) {
            let json = keys::open(&self.key, TOKENS_KEY.as_bytes(), text)?;
            serde_json::from_slice(&json)?
        } else {
            serde_json::from_str(text)
                .map_err(|_| "the stored OAuth tokens are neither encrypted nor readable JSON")?
        };
        let mut tokens = OAuthTokens::new(saved.access_token, saved.refresh_token);
        tokens.expires_at = saved.expires_at;
        Ok(tokens)
    }
}

/// The store's lock as the client's.
struct Held(MetaLock);

impl TokenLockGuard for Held {
    fn release(self: Box<Self>) -> BoxFuture<'static, ()> {
        let Held(lock) = *self;
        Box::pin(lock.release())
    }
}

impl TokenStore for StoreTokens {
    fn save<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async move {
            let sealed = self.encode(tokens)?;
            self.store.meta_put(TOKENS_KEY, &sealed).await?;
            Ok(())
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>, BoxError>> {
        Box::pin(async move {
            match self.store.meta_get(TOKENS_KEY).await? {
                Some(text) => Ok(Some(self.decode(&text)?)),
                None => Ok(None),
            }
        })
    }

    fn lock(&self) -> BoxFuture<'_, Result<TokenLock, BoxError>> {
        Box::pin(async move {
            let lock = self.store.meta_lock(TOKENS_KEY).await?;
            Ok(TokenLock::new(Box::new(Held(lock))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{MasterKey, Purpose};
    use crate::store::SqliteStore;
    use std::sync::Arc;

    #[tokio::test]
    async fn tokens_are_encrypted_and_clear_ones_are_upgraded() {
        let store: SharedStore =
            Arc::new(SqliteStore::connect_url("sqlite::memory:").await.unwrap());
        let key = MasterKey::generate().subkey(Purpose::TokenEncryption);
        let tokens = StoreTokens::new(store.clone(), key.clone());
        assert!(tokens.saved().await.unwrap().is_none());

        // Written in clear by an older version.
        store
            .meta_put(
                TOKENS_KEY,
                r#"{"access_token":"old-access-token-1","refresh_token":"old-refresh-token-1","expires_at":null}"#,
            )
            .await
            .unwrap();
        let read = tokens.saved().await.unwrap().unwrap();
        assert_eq!(read.refresh_token.expose(), "old-refresh-token-1");
        let raw = store.meta_get(TOKENS_KEY).await.unwrap().unwrap();
        assert!(keys::is_sealed(&raw), "re-written encrypted: {raw}");
        assert!(!raw.contains("old-refresh-token-1"));
        assert_eq!(tokens.load().await.unwrap().unwrap(), read);

        let mut next = OAuthTokens::new("new-access-token-2", "new-refresh-token-2");
        next.expires_at = Some(1_700_000_000);
        tokens.save(&next).await.unwrap();
        let raw = store.meta_get(TOKENS_KEY).await.unwrap().unwrap();
        assert!(!raw.contains("new-refresh-token-2") && !raw.contains("new-access-token-2"));
        assert_eq!(tokens.load().await.unwrap().unwrap(), next);

        // Another master key cannot read them: an error, not tokens.
        let other = StoreTokens::new(
            store,
            MasterKey::generate().subkey(Purpose::TokenEncryption),
        );
        assert!(other.load().await.is_err());
    }
}
