//! The control API's one body extractor and one error type, both answering in the portal's
//! error envelope `{"error": CODE, "error_description": TEXT}`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::app::AppError;
use crate::world::WorldError;

/// Why a control request was refused.
#[derive(Debug)]
pub(crate) enum ControlError {
    /// The body is not the JSON the endpoint takes (400 `INVALID_BODY`).
    Body(String),
    /// The world refused the change (404 for an unknown payment, else 400, with its code).
    World(WorldError),
    /// `POST /faults` with a kind the sandbox does not know (400 `UNKNOWN_FAULT`).
    UnknownFault(String),
    /// `POST /rate-limit` with a non-positive rate or burst (400 `INVALID_RATE_LIMIT`).
    InvalidRateLimit,
    /// An app action refused (404 `NO_APP`, 409 `NOT_INSTALLED`).
    App(AppError),
    /// `POST /move` could not listen there (400 `CANNOT_MOVE`).
    Move(String),
}

impl ControlError {
    fn parts(&self) -> (StatusCode, &str, String) {
        match self {
            ControlError::Body(text) => (StatusCode::BAD_REQUEST, "INVALID_BODY", text.clone()),
            ControlError::World(e) if e.is_not_found() => {
                (StatusCode::NOT_FOUND, e.code(), e.to_string())
            }
            ControlError::World(e) => (StatusCode::BAD_REQUEST, e.code(), e.to_string()),
            ControlError::UnknownFault(text) => {
                (StatusCode::BAD_REQUEST, "UNKNOWN_FAULT", text.clone())
            }
            ControlError::App(e @ AppError::NoApp) => {
                (StatusCode::NOT_FOUND, e.code(), e.to_string())
            }
            ControlError::App(e) => (StatusCode::CONFLICT, e.code(), e.to_string()),
            ControlError::Move(text) => (StatusCode::BAD_REQUEST, "CANNOT_MOVE", text.clone()),
            ControlError::InvalidRateLimit => (
                StatusCode::BAD_REQUEST,
                "INVALID_RATE_LIMIT",
                "drain_per_second and burst must be positive".to_string(),
            ),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let (status, code, description) = self.parts();
        (
            status,
            Json(json!({"error": code, "error_description": description})),
        )
            .into_response()
    }
}

impl From<AppError> for ControlError {
    fn from(e: AppError) -> ControlError {
        ControlError::App(e)
    }
}

impl From<WorldError> for ControlError {
    fn from(e: WorldError) -> ControlError {
        ControlError::World(e)
    }
}

/// A JSON body; one that does not parse is a [`ControlError::Body`].
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ControlError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(rejection_error(rejection)),
        }
    }
}

fn rejection_error(rejection: JsonRejection) -> ControlError {
    ControlError::Body(rejection.body_text())
}
