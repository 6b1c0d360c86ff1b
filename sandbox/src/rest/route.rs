//! Which call form a REST path uses and which method it names.

/// How the caller authenticates, read from the path.
pub(crate) enum Caller {
    /// `/rest/{user}/{code}/{method}`.
    Webhook { user: String, code: String },
    /// `/rest/{method}` with `auth` in the query or body.
    OAuth,
}

/// `{user}/{code}/{method}` or `{method}` (the path after `/rest/`), the method lower-cased
/// and without `.json`.
pub(crate) fn route(path: &str) -> Option<(Caller, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    let (caller, method) = match segments.as_slice() {
        [method] => (Caller::OAuth, *method),
        [user, code, method] => (
            Caller::Webhook {
                user: user.to_string(),
                code: code.to_string(),
            },
            *method,
        ),
        _ => return None,
    };
    Some((caller, method_name(method)))
}

/// A method name as the portal looks it up: lower-case, without a `.json` suffix.
pub(crate) fn method_name(method: &str) -> String {
    let method = method.to_lowercase();
    match method.strip_suffix(".json") {
        Some(stripped) => stripped.to_string(),
        None => method,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_call_forms_route() {
        let (caller, method) = route("1/abc/sale.paysystem.list.json").unwrap();
        assert!(matches!(caller, Caller::Webhook { .. }));
        assert_eq!(method, "sale.paysystem.list");
        let (caller, method) = route("Sale.PaySystem.List").unwrap();
        assert!(matches!(caller, Caller::OAuth));
        assert_eq!(method, "sale.paysystem.list");
        assert!(route("1/abc").is_none());
    }
}
