//! Scopes: an app's OAuth token may call only the methods of the scopes it was granted
//! (`auth[scope]` of its install, e.g. `pay_system,sale`); anything else is refused with
//! `insufficient_scope` (403), as the portal refuses it. The sandbox's webhook has every scope.

use super::error::{ErrorCode, RestError};
use super::methods::Method;

/// What the caller may call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Granted {
    All,
    Only(Vec<String>),
}

impl Granted {
    /// A comma- or space-separated scope list.
    pub(crate) fn parse(scopes: &str) -> Granted {
        Granted::Only(
            scopes
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
        )
    }

    pub(crate) fn check(&self, method: &Method) -> Result<(), RestError> {
        match self {
            Granted::All => Ok(()),
            Granted::Only(scopes) if scopes.iter().any(|s| s == method.scope) => Ok(()),
            Granted::Only(_) => Err(RestError::new(
                ErrorCode::InsufficientScope,
                "The request requires higher privileges than provided by the access token",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::methods::lookup;

    #[test]
    fn a_method_needs_its_scope() {
        let pay_system = Granted::parse("pay_system");
        let list = lookup("sale.persontype.list").unwrap();
        let pay = lookup("sale.paysystem.pay.payment").unwrap();
        assert!(pay_system.check(&pay).is_ok());
        let refused = pay_system.check(&list).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InsufficientScope);
        assert_eq!(refused.code.status().as_u16(), 403);
        let both = Granted::parse("pay_system, Sale");
        assert!(both.check(&list).is_ok() && both.check(&pay).is_ok());
        assert!(Granted::All
            .check(&lookup("crm.persontype.list").unwrap())
            .is_ok());
        assert!(both.check(&lookup("crm.persontype.list").unwrap()).is_err());
    }
}
