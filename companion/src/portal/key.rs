//! Which portal a payment is on. A companion serves the portal configured in its file (webhook
//! or single-portal OAuth) and any number of portals that installed it as a Market application;
//! every attempt, outbox call and portal client is keyed by one of these.

use std::fmt;

/// `""` is the portal configured in the file; anything else is an installed portal's public id
/// ([`PublicId`]). Stored as is in `attempts.portal` and in outbox payloads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortalKey(String);

impl PortalKey {
    /// The portal configured in the file.
    pub fn configured() -> PortalKey {
        PortalKey(String::new())
    }

    pub fn installed(id: &PublicId) -> PortalKey {
        PortalKey(id.as_str().to_string())
    }

    /// As read back from the store (written by this code: no validation needed to route it).
    pub fn from_stored(text: String) -> PortalKey {
        PortalKey(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_configured(&self) -> bool {
        self.0.is_empty()
    }

    /// The installed portal's public id, unless this is the configured portal.
    pub fn public_id(&self) -> Option<PublicId> {
        PublicId::parse(&self.0)
    }
}

impl fmt::Display for PortalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(configured portal)")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// An installed portal's id in its widget URL (`/p/{id}/`): random, ours, so the platform's
/// `member_id` is never published and ids cannot be guessed from one another.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublicId(String);

/// Characters of a public id: lowercase letters and digits, none that read alike.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
const LEN: usize = 20;

impl PublicId {
    /// 20 characters of a 32-letter alphabet: 100 bits.
    pub fn generate() -> PublicId {
        // 32 letters divide 256 evenly: `byte % 32` is uniform.
        let bytes: [u8; LEN] = rand::random();
        PublicId(
            bytes
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect(),
        )
    }

    /// Untrusted text (a URL segment) as an id, or `None`.
    pub fn parse(text: &str) -> Option<PublicId> {
        (text.len() == LEN && text.bytes().all(|b| ALPHABET.contains(&b)))
            .then(|| PublicId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_parse_back_and_refuse_anything_else() {
        let id = PublicId::generate();
        assert_eq!(PublicId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(PublicId::generate(), id);
        for bad in [
            "",
            "../etc",
            "ABCDEFGHJKMNPQRSTUVW",
            "abcdefghijkmnpqrstuv0",
            "abc",
        ] {
            assert_eq!(PublicId::parse(bad), None, "{bad}");
        }
        assert!(PortalKey::configured().is_configured());
        assert_eq!(PortalKey::installed(&id).public_id(), Some(id));
    }
}
