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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::document;

    fn schema(doc: &Value, name: &str) -> Value {
        doc["components"]["schemas"][name].clone()
    }

    #[test]
    fn closed_sets_list_their_words() {
        let doc = serde_json::to_value(document()).unwrap();
        let words = |name: &str| schema(&doc, name)["enum"].clone();
        assert_eq!(words("ConnectionStatus"), json!(["pending", "active", "degraded", "needs_reauth", "revoked"]));
        assert_eq!(words("AuthMode"), json!(["oauth2", "oauth2_client_credentials", "api_key", "basic"]));
        assert_eq!(
            words("AuthModeView"),
            json!(["oauth2", "oauth2_client_credentials", "api_key", "basic", "unknown"])
        );
        assert_eq!(words("CredentialKind"), json!(["api_key", "basic", "oauth2", "unknown"]));
        assert_eq!(words("CredentialState"), json!(["set", "not_set"]));
        assert_eq!(words("RevocationOutcome"), json!(["revoked", "pending", "not_supported", "failed", "not_needed"]));
        assert!(words("StepStatus").as_array().unwrap().contains(&json!("connection_needs_reauth")), "{doc}");
        assert!(words("AuditOutcome").as_array().unwrap().contains(&json!("gave_up")), "{doc}");
    }

    #[test]
    fn views_refer_to_the_closed_sets() {
        let doc = serde_json::to_value(document()).unwrap();
        let field = |name: &str, f: &str| schema(&doc, name)["properties"][f].to_string();
        assert!(field("ConnectionView", "status").contains("ConnectionStatus"), "{doc}");
        assert!(field("Verified", "status").contains("ConnectionStatus"), "{doc}");
        assert!(field("RevocationItem", "outcome").contains("RevocationOutcome"), "{doc}");
        assert!(field("ProviderView", "auth_mode").contains("AuthMode"), "{doc}");
        assert!(field("AuditRecord", "outcome").contains("RecordedOutcome"), "{doc}");
        // The API's scenario keeps its name and shows the extend request as an object.
        assert!(schema(&doc, "ScenarioView")["properties"]["steps"].is_object(), "{doc}");
        assert!(schema(&doc, "ExtendRequest")["properties"]["path"].is_object(), "{doc}");
    }
}
