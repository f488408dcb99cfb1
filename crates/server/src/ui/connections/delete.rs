//! Deleting a connection: the confirmation page (which lists the scenario steps that use it), the
//! delete (POST → 303), and the page of the revocation receipt the service kept for this browser
//! (`GET /connections/{id}/deleted`, which a reload only reads again).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_service::connections::{DeleteReceipt, RevocationItem};
use patchbay_service::revocations::RevocationOutcome;

use super::SECTION;
use crate::AppState;
use crate::ui::forms::CsrfForm;
use crate::ui::pages::{DeletePage, ReceiptLine, ReceiptPage, UsageLine};
use crate::ui::render::{UiResult, page};
use crate::ui::session::{WebUser, percent_encode};

/// `GET /connections/{id}/delete`: the confirmation.
pub(crate) async fn confirm_delete(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult {
    let c = state.patchbay.get_connection(&user.session.principal, &id).await.map_err(user.fail(SECTION))?;
    Ok(page(
        &state,
        StatusCode::OK,
        DeletePage {
            frame: user.frame(SECTION, format!("Delete “{}”?", c.name)),
            used_by: c.used_by.iter().map(UsageLine::new).collect(),
            id: c.id,
            name: c.name,
            provider_name: c.provider_name,
        },
    ))
}

fn receipt_line(item: &RevocationItem) -> ReceiptLine {
    let (outcome, class) = match item.outcome {
        RevocationOutcome::Revoked => ("Revoked", "ok"),
        RevocationOutcome::Pending => ("Pending: retried in the background", "info"),
        RevocationOutcome::NotSupported => ("Not supported", "warn"),
        RevocationOutcome::Failed => ("Failed", "bad"),
        RevocationOutcome::Kept => ("Kept: another connection of the account uses it", "info"),
        // Shown as the word itself, as before this outcome had a label of its own.
        RevocationOutcome::NotNeeded => ("not_needed", "muted"),
    };
    ReceiptLine { credential: item.credential.clone(), outcome: outcome.to_owned(), class, detail: item.detail.clone() }
}

/// `POST /connections/{id}/delete`: delete, then on to the receipt's page, so a reload does not
/// post the delete again.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    // The confirmation page listed the scenario steps that use it (and sends `force` only then);
    // a step bound since then makes the service refuse, and the user sees why.
    let force = form.get("force") == Some("1");
    let done =
        state.patchbay.delete_connection_in_session(&user.session, &id, force).await.map_err(user.fail(SECTION))?;
    if !done.kept {
        // The receipt could not be kept for its page: show it now rather than lose it.
        return Ok(receipt_page(&state, &user, done.receipt));
    }
    Ok(Redirect::to(&format!("/connections/{}/deleted", percent_encode(&done.receipt.id))).into_response())
}

/// `GET /connections/{id}/deleted`: the receipt of a delete this browser just made.
pub(crate) async fn receipt(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult {
    let receipt = state.patchbay.kept_receipt(&user.session, &id).await.map_err(user.fail(SECTION))?;
    Ok(receipt_page(&state, &user, receipt))
}

fn receipt_page(state: &AppState, user: &WebUser, receipt: DeleteReceipt) -> Response {
    page(
        state,
        StatusCode::OK,
        ReceiptPage {
            frame: user.frame(SECTION, "Connection deleted"),
            revocation: receipt.revocation.iter().map(receipt_line).collect(),
            id: receipt.id,
            name: receipt.name,
            provider: receipt.provider,
            secret_destroyed: receipt.secret_destroyed,
        },
    )
}
