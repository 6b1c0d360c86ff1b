//! The REST API: `/rest/{user}/{code}/{method}[.json]` (incoming webhook) and
//! `/rest/{method}[.json]` with `auth=ACCESS_TOKEN` (OAuth), over GET or POST.
//!
//! | file | stage or concern |
//! |---|---|
//! | `pipeline.rs` | the stages in order: fault, admission, parameters, authentication, method, reply |
//! | `route.rs` | call form and method name from the path |
//! | `auth.rs` | webhook code or OAuth token |
//! | `scope.rs` | the scopes an app's token was granted |
//! | `methods.rs` | the method table (one listing of every implemented method) |
//! | `batch/` | `batch`: commands, `$result[…]` references, the answer |
//! | `invoke.rs` | running one method: persistence, call counts, operating time |
//! | `delivery.rs` | the reply: now, later, or the connection closed without one |
//! | `envelope.rs`, `error.rs` | the portal's reply and error shapes |
//! | `handlers.rs` (+ `handler_settings.rs`), `paysystems.rs` (+ `paysystem_list.rs`), `settings.rs`, `pay.rs`, `person_types.rs` | the methods |

mod auth;
mod batch;
mod delivery;
mod envelope;
pub(crate) mod error;
mod handler_settings;
mod handlers;
mod invoke;
mod methods;
mod pay;
mod paysystem_list;
mod paysystems;
mod person_types;
mod pipeline;
mod route;
pub(crate) mod scope;
mod settings;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Extension;

use crate::server::ConnControl;
use crate::state::AppState;
pub use methods::METHODS;

/// The axum handler of `/rest/{*path}`.
pub(crate) async fn entry(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    conn: Option<Extension<ConnControl>>,
    body: Bytes,
) -> Response {
    let incoming = pipeline::Incoming {
        path,
        query,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
        start: SystemTime::now(),
        arrived: tokio::time::Instant::now(),
    };
    let delivery = pipeline::run(&state, &incoming);
    delivery.send(conn.map(|Extension(conn)| conn)).await
}

/// Seconds since the Unix epoch with a fraction, for fault injection times.
pub(crate) fn unix_now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}
