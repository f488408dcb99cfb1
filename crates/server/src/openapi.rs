//! `/openapi.json`: the OpenAPI 3.1 document generated from the handlers' annotations, so the
//! spec cannot drift from the routes.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Patchbay", description = "Connections service for workflow automation: stored, verified, least-privilege grants of access to third-party services."),
    paths(
        crate::api::list_providers, crate::api::get_provider,
        crate::api::create_connection, crate::api::list_connections, crate::api::get_connection,
        crate::api::rename_connection, crate::api::delete_connection, crate::api::verify_connection,
        crate::api::reauthorize_connection, crate::callback::callback, crate::api::replace_connection,
        crate::api::discard_connection,
        crate::api::list_scenarios, crate::api::create_scenario, crate::api::get_scenario, crate::api::update_scenario,
        crate::api::delete_scenario, crate::api::connect_step,
        crate::api::list_audit, crate::api::list_events, crate::api::list_webhooks, crate::api::create_webhook,
        crate::api::delete_webhook, crate::runtime::issue_token, crate::runtime::proxy,
        crate::health::healthz, crate::health::readyz, crate::health::metrics,
    ),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The generated document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}
