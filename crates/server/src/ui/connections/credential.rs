//! `GET|POST /connections/{id}/credential`: replace an API key or password in place. The new
//! one is checked with the app first (unless "Save without verifying"); a refused one is shown
//! again with the reason, nothing changed and nothing re-filled (the form only has secrets).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_domain::SecretString;
use patchbay_service::ServiceError;
use patchbay_service::connections::UpdateCredential;
use patchbay_service::views::{AuthModeView, ConnectionView};

use super::add::SKIP_VERIFY_HINT;
use super::detail::credential_text;
use super::{SECTION, providers_by_id};
use crate::AppState;
use crate::error::status_of;
use crate::ui::forms::CsrfForm;
use crate::ui::pages::{InputField, UpdateCredentialPage};
use crate::ui::render::{UiResult, page, user_text};
use crate::ui::session::{WebUser, percent_encode};

/// What the role check refuses on this page.
const UPDATE_CREDENTIALS: &str = "update credentials";

/// The form for one connection, with an error and the "Save without verifying" choice.
fn render_form(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    c: &ConnectionView,
    error: Option<String>,
    skip_verify: bool,
) -> Response {
    let providers = providers_by_id(state);
    let fields: Vec<InputField> = providers
        .get(&c.provider)
        .map(|p| p.credential_fields.iter().map(|f| InputField::new("credential", f, &HashMap::new())).collect())
        .unwrap_or_default();
    page(
        state,
        status,
        UpdateCredentialPage {
            frame: user.frame(SECTION, format!("Update the credential of “{}”", c.name)),
            id: c.id.clone(),
            name: c.name.clone(),
            provider_name: c.provider_name.clone(),
            current: credential_text(c),
            error,
            fields,
            skip_verify,
        },
    )
}

/// Refuses the page for a connection whose credential comes from a consent.
fn static_only(c: &ConnectionView) -> Result<(), ServiceError> {
    if matches!(c.auth_mode, AuthModeView::ApiKey | AuthModeView::Basic) {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "“{}” gets its credential from {}'s consent page: use Reauthorize on its page instead",
            c.name, c.provider_name
        )))
    }
}

/// `GET /connections/{id}/credential`.
pub(crate) async fn form(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult {
    user.require_manage(SECTION, UPDATE_CREDENTIALS)?;
    let c = state.patchbay.get_connection(&user.session.principal, &id).await.map_err(user.fail(SECTION))?;
    static_only(&c).map_err(user.fail(SECTION))?;
    Ok(render_form(&state, &user, StatusCode::OK, &c, None, false))
}

/// `POST /connections/{id}/credential`: Save.
pub(crate) async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    let who = &user.session.principal;
    let c = state.patchbay.get_connection(who, &id).await.map_err(user.fail(SECTION))?;
    let providers = providers_by_id(&state);
    let mut credentials = BTreeMap::new();
    for f in providers.get(&c.provider).map(|p| p.credential_fields.as_slice()).unwrap_or_default() {
        if let Some(v) = form.get(&format!("credential.{}", f.key)).filter(|v| !v.trim().is_empty()) {
            credentials.insert(f.key.clone(), SecretString::from(v.to_owned()));
        }
    }
    let skip_verify = form.get("skip_verify") == Some("1");
    // The form holds the secret: gone before the slow part.
    drop(form);
    let req = UpdateCredential { credentials, verify: !skip_verify };
    match state.patchbay.update_credential(who, &id, req).await {
        Ok(updated) => {
            let location = format!("/connections/{}?notice=credential_updated", percent_encode(&updated.id));
            Ok(Redirect::to(&location).into_response())
        }
        Err(e @ ServiceError::VerifyUnavailable(_)) => {
            let text = format!("{} {SKIP_VERIFY_HINT}", user_text(&e));
            Ok(render_form(&state, &user, status_of(&e), &c, Some(text), true))
        }
        Err(e @ (ServiceError::Invalid(_) | ServiceError::CredentialRejected(_))) => {
            Ok(render_form(&state, &user, status_of(&e), &c, Some(user_text(&e)), skip_verify))
        }
        Err(e) => Err(user.fail(SECTION)(e)),
    }
}
