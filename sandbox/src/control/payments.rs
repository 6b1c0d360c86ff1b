//! `/sandbox/api/payments`: create, list and look at payments; bind a pay system; set the
//! external id.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::error::{Body, ControlError};
use crate::state::AppState;
use crate::world::{CreatedPayment, NewPayment, PaymentSnapshot, World, WorldError};

pub(super) async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<PaymentSnapshot>> {
    Json(state.read(World::snapshots))
}

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    Body(new): Body<NewPayment>,
) -> Result<(StatusCode, Json<CreatedPayment>), ControlError> {
    let created = crate::sandbox::create_payment(&state, &new)?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
) -> Result<Json<PaymentSnapshot>, ControlError> {
    snapshot(&state, id)
}

fn snapshot(state: &AppState, id: u64) -> Result<Json<PaymentSnapshot>, ControlError> {
    state
        .read(|world| world.payment_snapshot(id))
        .map(Json)
        .ok_or(ControlError::World(WorldError::UnknownPayment(id)))
}

#[derive(Deserialize)]
pub(super) struct PaySystemChoice {
    #[serde(alias = "paysystem_id")]
    pay_system_id: u64,
}

pub(super) async fn set_pay_system(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
    Body(choice): Body<PaySystemChoice>,
) -> Result<Json<PaymentSnapshot>, ControlError> {
    state.mutate(|world| world.set_payment_pay_system(id, choice.pay_system_id))?;
    snapshot(&state, id)
}

#[derive(Deserialize)]
pub(super) struct ExternalId {
    external_payment_id: Option<String>,
}

pub(super) async fn set_external_id(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
    Body(body): Body<ExternalId>,
) -> Result<Json<PaymentSnapshot>, ControlError> {
    state.mutate(|world| world.set_external_payment_id(id, body.external_payment_id))?;
    snapshot(&state, id)
}
