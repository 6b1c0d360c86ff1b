//! `[security] master_key` (`B24PAY_MASTER_KEY`): the key everything secret at rest is
//! encrypted or keyed with (see [`crate::keys`]).

use super::{FileConfig, Secret};
use crate::keys::{self, KeyError, MasterKey};
use crate::store::StoreLocation;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSecurity {
    /// 32 random bytes, hex or base64 (`openssl rand -hex 32`).
    pub master_key: Option<Secret>,
}

/// Validated `[security]`.
#[derive(Clone, Debug, Default)]
pub struct SecuritySettings {
    /// `None`: a SQLite store's `master.key` file (generated on first start).
    pub master_key: Option<MasterKey>,
}

pub(super) fn validate(
    file: &FileConfig,
    store: &StoreLocation,
    problems: &mut Vec<String>,
) -> SecuritySettings {
    let master_key = match &file.security.master_key {
        Some(text) => match MasterKey::parse(text.expose()) {
            Ok(key) => Some(key),
            Err(e) => {
                // Never echo the value.
                problems.push(format!("security.master_key (B24PAY_MASTER_KEY): {e}"));
                None
            }
        },
        None => {
            if let Err(e @ KeyError::Required) = keys::key_file_for(store) {
                problems.push(format!("security.master_key: {e}"));
            }
            None
        }
    };
    SecuritySettings { master_key }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    /// With a portal, so that only the security section can be wrong.
    fn validate(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let webhook = [(
            "B24PAY_WEBHOOK_URL",
            "https://p.bitrix24.ru/rest/1/code123/",
        )];
        super::super::tests::from_env(&[pairs, &webhook].concat())
    }

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn postgres_requires_a_master_key_sqlite_does_not() {
        let pg = [(
            "DATABASE_URL",
            "postgres://b24pay:hunter2@db.internal/b24pay",
        )];
        let err = validate(&pg).unwrap_err().to_string();
        assert!(err.contains("master_key"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let mut with_key = pg.to_vec();
        with_key.push(("B24PAY_MASTER_KEY", KEY));
        let c = validate(&with_key).unwrap();
        assert!(c.security.master_key.is_some());
        let printed = format!("{c:#?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("00112233"), "{printed}");
        assert!(printed.contains("db.internal"), "{printed}");

        let c = validate(&[]).unwrap();
        assert!(c.security.master_key.is_none());
    }

    #[test]
    fn a_bad_master_key_is_reported_without_its_value() {
        let err = validate(&[("B24PAY_MASTER_KEY", "not-a-key-at-all-secretvalue")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("master_key"), "{err}");
        assert!(!err.contains("secretvalue"), "{err}");
    }
}
