//! The admin endpoint on the caller's team itself: `POST /v1/team/keys/rotate` rotates its data
//! key (docs/security.md S-04). The team comes from the token, like everywhere else.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use patchbay_service::data_keys::TeamKeyRotation;

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::Authed;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/team/keys/rotate", post(rotate_team_key))
}

#[utoipa::path(post, path = "/v1/team/keys/rotate", tag = "team",
    summary = "Rotate the team's data key (admins)",
    description = "Adds a new data key, re-encrypts every secret field of the team under it online, and destroys the old key once no field uses it. Finishes an earlier rotation that kept its old key instead of adding another one.",
    responses((status = 200, body = TeamKeyRotation, description = "Rotated: the new key id, how many fields were re-encrypted, which old keys were destroyed or kept"),
        (status = 403, body = ErrorEnvelope, description = "Not an admin"),
        (status = 409, body = ErrorEnvelope, description = "The team has stored no secret yet, so it has no data key to rotate"),
        (status = 503, body = ErrorEnvelope, description = "Sealed")),
    security(("bearer" = [])))]
pub(crate) async fn rotate_team_key(
    State(s): State<AppState>,
    Authed(who): Authed,
) -> Result<Json<TeamKeyRotation>, ApiError> {
    Ok(Json(s.patchbay.rotate_team_key(&who).await?))
}
