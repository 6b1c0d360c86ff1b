//! The reply stage: how an answer reaches the client — at once, after a pause, or not at all
//! (the connection closed without a reply).

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::server::ConnControl;

/// What the client gets.
pub(crate) enum Delivery {
    Now(Response),
    /// The reply after a pause (a slow portal).
    Later(Duration, Response),
    /// No reply: the connection is closed after the pause.
    Close(Duration),
}

impl Delivery {
    /// Sends the reply. For [`Delivery::Close`] the connection task drops the connection (and
    /// this future with it), so that arm never returns when served by the sandbox.
    pub(crate) async fn send(self, conn: Option<ConnControl>) -> Response {
        match self {
            Delivery::Now(response) => response,
            Delivery::Later(pause, response) => {
                tokio::time::sleep(pause).await;
                response
            }
            Delivery::Close(pause) => {
                tokio::time::sleep(pause).await;
                match conn {
                    Some(conn) => {
                        conn.drop_now();
                        std::future::pending::<Response>().await
                    }
                    // Not served over a socket (e.g. `Router::oneshot`): nothing to drop.
                    None => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "connection dropped").into_response()
                    }
                }
            }
        }
    }
}
