//! The master key and the keys derived from it, so that nothing stored in the database is
//! readable (or forgeable) with the database alone.
//!
//! The master key is 32 random bytes from the configuration (`[security] master_key`,
//! `B24PAY_MASTER_KEY`, hex or base64). Without one, a SQLite store keeps it in `master.key`
//! beside the database (created once, mode 0600); a PostgreSQL store requires it, since every
//! instance must share it. Each use gets its own subkey (HKDF-SHA256 with the [`Purpose`] as
//! info), so one purpose's key says nothing about another's.
//!
//! [`seal`] and [`open`] encrypt small values at rest with XChaCha20-Poly1305 (a random 192-bit
//! nonce per value; the caller's "associated data" binds a value to where it is stored).

use crate::store::StoreLocation;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file a SQLite store's generated master key lives in.
pub const KEY_FILE: &str = "master.key";
/// Prefix of sealed values; anything else is a value written before encryption.
const SEALED_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 24;

/// What a subkey is for. Each purpose has its own key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// OAuth tokens at rest.
    TokenEncryption,
    /// The keyed hash of card numbers in request fingerprints.
    CardHash,
    /// The keyed hash of each installed portal's `application_token`.
    AppToken,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::TokenEncryption => "token-encryption",
            Purpose::CardHash => "card-hash",
            Purpose::AppToken => "app-token",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the master key must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)"
    )]
    Format,
    #[error("the master key is required with PostgreSQL (every instance must use the same one): set [security] master_key or B24PAY_MASTER_KEY (e.g. `openssl rand -hex 32`)")]
    Required,
    #[error("master key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("master key file {path}: not a master key (64 hex digits)")]
    BadFile { path: String },
    #[error("a stored secret cannot be decrypted with this master key (was it changed?)")]
    Decrypt,
}

/// 32 secret bytes. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

/// A key derived for one [`Purpose`]. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Subkey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(\"***\")")
    }
}

impl fmt::Debug for Subkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subkey(\"***\")")
    }
}

impl MasterKey {
    /// 64 hex digits, or base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn parse(text: &str) -> Result<MasterKey, KeyError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| KeyError::Format)?
        } else {
            decode_base64(text).ok_or(KeyError::Format)?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Format)?;
        Ok(MasterKey(bytes))
    }

    pub fn generate() -> MasterKey {
        MasterKey(rand::random())
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key for `purpose`: HKDF-SHA256 (RFC 5869) of the master key.
    pub fn subkey(&self, purpose: Purpose) -> Subkey {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"b24pay master key"), &self.0);
        let mut out = [0u8; 32];
        hkdf.expand(purpose.as_str().as_bytes(), &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        Subkey(out)
    }

    /// The configured key, else the SQLite store's key file (created on first use), else, for
    /// an in-memory database, a key that lives as long as the process (like the data).
    pub fn resolve(
        configured: Option<&MasterKey>,
        store: &StoreLocation,
    ) -> Result<MasterKey, KeyError> {
        if let Some(key) = configured {
            return Ok(key.clone());
        }
        match key_file_for(store)? {
            Some(path) => load_or_create(&path),
            None => {
                tracing::warn!(
                    "no master key configured; the in-memory store's secrets use a key that ends with the process"
                );
                Ok(MasterKey::generate())
            }
        }
    }
}

/// Standard or URL-safe base64, with or without padding.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    [base64::alphabet::STANDARD, base64::alphabet::URL_SAFE]
        .iter()
        .find_map(|alphabet| GeneralPurpose::new(alphabet, config).decode(text).ok())
}

impl Subkey {
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Where a SQLite store's generated key lives; `None` for an in-memory database.
pub fn key_file_for(store: &StoreLocation) -> Result<Option<PathBuf>, KeyError> {
    match store {
        StoreLocation::DataDir(dir) => Ok(Some(dir.join(KEY_FILE))),
        StoreLocation::Url(url)
            if url.starts_with("postgres:") || url.starts_with("postgresql:") =>
        {
            Err(KeyError::Required)
        }
        StoreLocation::Url(url) => {
            let path = url
                .trim_start_matches("sqlite:")
                .trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or_default();
            if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
                return Ok(None);
            }
            let parent = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Ok(Some(parent.join(KEY_FILE)))
        }
    }
}

fn file_error(path: &Path) -> impl Fn(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::File {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the key file, or creates it (mode 0600) without ever overwriting one that another
/// process created meanwhile.
fn load_or_create(path: &Path) -> Result<MasterKey, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            return MasterKey::parse(&text).map_err(|_| KeyError::BadFile {
                path: path.display().to_string(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(path)(e)),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::store::ensure_private_dir(dir).map_err(|e| file_error(dir)(e))?;
    let key = MasterKey::generate();
    let tmp = dir.join(format!(".{KEY_FILE}.{:016x}", rand::random::<u64>()));
    let written = write_private(&tmp, &key.to_hex());
    // A hard link publishes the complete file atomically and fails if the name is taken.
    let published = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match published {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new master key; back it up with the data (without it, stored tokens cannot be read)");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
        Err(e) => Err(file_error(path)(e)),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the master key file is readable by other users; chmod 600 it");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Encrypts `plaintext`; `context` (e.g. the row's key) must be given again to open it.
pub fn seal(key: &Subkey, context: &[u8], plaintext: &[u8]) -> String {
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let nonce: [u8; NONCE_LEN] = rand::random();
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: context,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message of a few KB");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    format!(
        "{SEALED_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(out)
    )
}

/// True for what [`seal`] writes (anything else predates encryption).
pub fn is_sealed(text: &str) -> bool {
    text.starts_with(SEALED_PREFIX)
}

/// Decrypts what [`seal`] wrote with the same key and context.
pub fn open(key: &Subkey, context: &[u8], sealed: &str) -> Result<Vec<u8>, KeyError> {
    let body = sealed
        .strip_prefix(SEALED_PREFIX)
        .ok_or(KeyError::Decrypt)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| KeyError::Decrypt)?;
    if bytes.len() < NONCE_LEN {
        return Err(KeyError::Decrypt);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.expose().into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: context,
            },
        )
        .map_err(|_| KeyError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_base64_and_refuses_the_rest() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let key = MasterKey::parse(hex).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(key.0);
        assert_eq!(MasterKey::parse(&b64).unwrap(), key);
        assert_eq!(MasterKey::parse(b64.trim_end_matches('=')).unwrap(), key);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.0);
        assert_eq!(MasterKey::parse(&url).unwrap(), key);
        assert_eq!(MasterKey::parse(&format!("  {hex}\n")).unwrap(), key);
        for bad in [
            "",
            "short",
            &hex[..62],
            &format!("{hex}00"),
            "zz".repeat(32).as_str(),
        ] {
            assert!(MasterKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{key:?} {:?}", key.subkey(Purpose::CardHash)).contains("0011"));
    }

    #[test]
    fn subkeys_differ_by_purpose_and_key() {
        let a = MasterKey::generate();
        let b = MasterKey::generate();
        assert_ne!(
            a.subkey(Purpose::CardHash),
            a.subkey(Purpose::TokenEncryption)
        );
        assert_ne!(a.subkey(Purpose::CardHash), b.subkey(Purpose::CardHash));
        assert_eq!(a.subkey(Purpose::CardHash), a.subkey(Purpose::CardHash));
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let key = MasterKey::generate().subkey(Purpose::TokenEncryption);
        let sealed = seal(&key, b"oauth_tokens", b"{\"access_token\":\"abc\"}");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("abc"));
        assert_ne!(
            sealed,
            seal(&key, b"oauth_tokens", b"{\"access_token\":\"abc\"}")
        );
        assert_eq!(
            open(&key, b"oauth_tokens", &sealed).unwrap(),
            b"{\"access_token\":\"abc\"}"
        );
        assert!(open(&key, b"other_row", &sealed).is_err());
        let other = MasterKey::generate().subkey(Purpose::TokenEncryption);
        assert!(open(&other, b"oauth_tokens", &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(open(&key, b"oauth_tokens", &tampered).is_err());
        assert!(open(&key, b"oauth_tokens", "v1:").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_privately_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = StoreLocation::DataDir(data.clone());
        let first = MasterKey::resolve(None, &store).unwrap();
        let second = MasterKey::resolve(None, &store).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(&data).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let configured = MasterKey::generate();
        assert_eq!(
            MasterKey::resolve(Some(&configured), &store).unwrap(),
            configured
        );
        let pg = StoreLocation::Url("postgres://u:p@h/db".into());
        assert!(matches!(
            MasterKey::resolve(None, &pg),
            Err(KeyError::Required)
        ));
        let file = StoreLocation::Url(format!("sqlite:{}", dir.path().join("x.db").display()));
        assert_eq!(
            key_file_for(&file).unwrap(),
            Some(dir.path().join(KEY_FILE))
        );
        let memory = StoreLocation::Url("sqlite::memory:".into());
        assert_eq!(key_file_for(&memory).unwrap(), None);
    }
}
