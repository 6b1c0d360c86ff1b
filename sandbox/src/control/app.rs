//! `/sandbox/api/app` (install, uninstall, status) and `/sandbox/api/move`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{Body, ControlError};
use crate::app::{self, AppEvent, AppStatus};
use crate::state::AppState;

pub(super) async fn status(
    State(state): State<Arc<AppState>>,
) -> Result<Json<AppStatus>, ControlError> {
    Ok(Json(app::status(&state)?))
}

pub(super) async fn install(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Value>, ControlError> {
    let installed = app::install(&state).await?;
    Ok(Json(json!({
        "access_token": installed.tokens.access_token,
        "refresh_token": installed.tokens.refresh_token,
        "application_token": installed.application_token,
        "event": installed.event,
    })))
}

#[derive(Deserialize)]
pub(super) struct Uninstall {
    #[serde(default)]
    clean: bool,
}

pub(super) async fn uninstall(
    State(state): State<Arc<AppState>>,
    Body(body): Body<Uninstall>,
) -> Result<Json<AppEvent>, ControlError> {
    Ok(Json(app::uninstall(&state, body.clean).await?))
}

#[derive(Deserialize)]
pub(super) struct Move {
    listen: String,
}

/// `POST /sandbox/api/move {"listen": "127.0.0.1:0"}` → `{"base_url"}`: the portal moves
/// there ([`SandboxHandle::move_to`](crate::SandboxHandle::move_to)).
pub(super) async fn move_to(
    State(state): State<Arc<AppState>>,
    Body(body): Body<Move>,
) -> Result<Json<Value>, ControlError> {
    let base_url = crate::moved::move_portal(&state, &body.listen)
        .await
        .map_err(|e| ControlError::Move(e.to_string()))?;
    Ok(Json(json!({"base_url": base_url})))
}
