//! A string that must never be printed: webhook codes, OAuth tokens, the client secret.

use std::fmt;

/// A secret string. `Debug` prints `Secret("***")`; there is no `Display` and no `Serialize`,
/// so a secret cannot end up in logs, error messages or JSON by accident. Read it with
/// [`Secret::expose`] only where it is sent over the wire.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself. Call sites are easy to audit: `grep expose`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Replaces every occurrence of the given secrets in `text` with `***`: a last line of defence
/// for text that comes from elsewhere (a portal's error description, an I/O error) and might
/// echo a token back.
pub(crate) fn scrub(mut text: String, secrets: &[&Secret]) -> String {
    for secret in secrets {
        // Very short values would mangle ordinary words; real codes and tokens are long.
        if secret.0.len() >= 6 && text.contains(&secret.0) {
            text = text.replace(&secret.0, "***");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(\"***\")");
        assert_eq!(format!("{:#?}", Some(&s)), "Some(\n    Secret(\"***\"),\n)");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn scrub_replaces_long_secrets_only() {
        let code = Secret::new("abcdef123456");
        let short = Secret::new("ab");
        let out = scrub(
            "bad code abcdef123456 in /rest/1/abcdef123456/x".into(),
            &[&code, &short],
        );
        assert_eq!(out, "bad code *** in /rest/1/***/x");
    }
}
