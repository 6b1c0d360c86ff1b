//! The authentication stage: the webhook's user and code, or the OAuth access token.

use serde_json::Value;

use super::error::RestError;
use super::route::Caller;
use super::scope::Granted;
use crate::oauth::TokenProblem;
use crate::params;
use crate::portal_format::now_unix;
use crate::state::AppState;

pub(crate) fn authenticate(
    state: &AppState,
    caller: &Caller,
    auth: Option<&Value>,
) -> Result<Granted, RestError> {
    match caller {
        Caller::Webhook { user, code } => {
            let config = &state.config;
            if *user == config.webhook_user_id.to_string() && *code == config.webhook_code {
                Ok(Granted::All)
            } else {
                Err(RestError::access_denied())
            }
        }
        Caller::OAuth => {
            let token = auth
                .and_then(params::php_string)
                .filter(|t| !t.is_empty())
                .ok_or_else(RestError::no_auth)?;
            match state.read_oauth(|oauth| oauth.check_access(&token, now_unix())) {
                // An installed app's token carries the app's scopes; other tokens (a local
                // app's) every scope.
                Ok(()) => Ok(state
                    .config
                    .app
                    .as_ref()
                    .map_or(Granted::All, |app| Granted::parse(&app.scope))),
                Err(TokenProblem::Expired) => Err(RestError::expired_token()),
                Err(TokenProblem::Unknown) => Err(RestError::no_auth()),
            }
        }
    }
}
