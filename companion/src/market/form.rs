//! What the platform sends the app, parsed once: the `ONAPPINSTALL` / `ONAPPUNINSTALL` events
//! (form-encoded, PHP-style `auth[...]` and `data[...]` names) and the install page's POST.

use std::collections::HashMap;

/// A portal's tokens as the platform hands them over (not yet checked).
#[derive(Clone)]
pub struct Handover {
    pub member_id: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub enum Event {
    Install {
        tokens: Handover,
        application_token: String,
    },
    Uninstall {
        member_id: String,
        /// Empty when missing: then nothing matches.
        application_token: String,
        clean: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
}

fn required(form: &HashMap<String, String>, key: &'static str) -> Result<String, FormError> {
    form.get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 512)
        .ok_or(FormError::Missing(key))
}

/// A `member_id` is 32 hex digits on every portal we know; anything else is refused.
fn member_id(form: &HashMap<String, String>, key: &'static str) -> Result<String, FormError> {
    let id = required(form, key)?;
    if id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(FormError::Missing(key))
    }
}

impl Event {
    pub fn parse(form: &HashMap<String, String>) -> Result<Event, FormError> {
        let event = required(form, "event")?.to_ascii_uppercase();
        match event.as_str() {
            "ONAPPINSTALL" => Ok(Event::Install {
                tokens: Handover {
                    member_id: member_id(form, "auth[member_id]")?,
                    access_token: required(form, "auth[access_token]")?,
                    refresh_token: required(form, "auth[refresh_token]")?,
                },
                application_token: required(form, "auth[application_token]")?,
            }),
            "ONAPPUNINSTALL" => Ok(Event::Uninstall {
                member_id: member_id(form, "auth[member_id]")?,
                application_token: form
                    .get("auth[application_token]")
                    .map(|t| t.trim().to_string())
                    .unwrap_or_default(),
                clean: form
                    .get("data[CLEAN]")
                    .is_some_and(|c| c.trim() == "1" || c.trim().eq_ignore_ascii_case("Y")),
            }),
            _ => Err(FormError::UnknownEvent(event)),
        }
    }
}

/// The install page's POST (`AUTH_ID`, `REFRESH_ID`, `member_id`).
pub fn install_page(form: &HashMap<String, String>) -> Result<Handover, FormError> {
    Ok(Handover {
        member_id: member_id(form, "member_id")?,
        access_token: required(form, "AUTH_ID")?,
        refresh_token: required(form, "REFRESH_ID")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn events_parse_and_gaps_are_refused() {
        let install = form(&[
            ("event", "ONAPPINSTALL"),
            ("auth[member_id]", "5a4d62b9c0de4f3a8e1b24a7d5c0ffee"),
            ("auth[access_token]", "a"),
            ("auth[refresh_token]", "r"),
            ("auth[application_token]", "t"),
        ]);
        assert!(matches!(Event::parse(&install), Ok(Event::Install { .. })));
        let mut no_token = install.clone();
        no_token.remove("auth[application_token]");
        assert!(Event::parse(&no_token).is_err());
        let uninstall = form(&[
            ("event", "ONAPPUNINSTALL"),
            ("auth[member_id]", "5a4d62b9c0de4f3a8e1b24a7d5c0ffee"),
            ("data[CLEAN]", "1"),
        ]);
        match Event::parse(&uninstall) {
            Ok(Event::Uninstall {
                application_token,
                clean,
                ..
            }) => assert!(application_token.is_empty() && clean),
            _ => panic!("an uninstall"),
        }
        let odd = form(&[("event", "ONAPPINSTALL"), ("auth[member_id]", "../x")]);
        assert!(Event::parse(&odd).is_err());
    }
}
