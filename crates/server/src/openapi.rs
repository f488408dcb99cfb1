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
    servers((url = "/", description = "This Patchbay server (every path is relative to its public URL)")),
    paths(
        crate::api::list_providers, crate::api::get_provider, crate::api::discover_provider,
        crate::api::rediscover_provider, crate::api::delete_provider,
        crate::api::create_connection, crate::api::list_connections, crate::api::get_connection,
        crate::api::rename_connection, crate::api::delete_connection, crate::api::verify_connection,
        crate::api::update_credential,
        crate::api::reauthorize_connection, crate::callback::callback, crate::api::replace_connection,
        crate::api::discard_connection,
        crate::api::list_scenarios, crate::api::create_scenario, crate::api::get_scenario, crate::api::update_scenario,
        crate::api::delete_scenario, crate::api::connect_step, crate::api::connect_steps,
        crate::api::list_audit, crate::api::list_events, crate::api::list_webhooks, crate::api::create_webhook,
        crate::api::delete_webhook, crate::runtime::issue_token, crate::runtime::proxy,
        crate::tokens::create_token, crate::tokens::list_tokens, crate::tokens::delete_token,
        crate::team::rotate_team_key, crate::connect::create_session,
        crate::health::healthz, crate::health::readyz, crate::health::metrics,
    ),
    modifiers(&BearerAuth, &UniqueOperationIds),
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

/// One handler documented for several methods (the proxy) gets one operation id per method,
/// `proxy_get`, `proxy_post`, …: OpenAPI requires them unique.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                ("get", &mut item.get),
                ("head", &mut item.head),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            let ids: Vec<Option<String>> =
                ops.iter().map(|(_, op)| op.as_ref().and_then(|o| o.operation_id.clone())).collect();
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                let Some(id) = op.operation_id.clone() else { continue };
                if ids.iter().filter(|other| other.as_deref() == Some(id.as_str())).count() > 1 {
                    op.operation_id = Some(format!("{id}_{method}"));
                }
            }
        }
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

    use super::*;

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
        let categories = words("Category");
        assert_eq!(categories.as_array().map(Vec::len), Some(17), "{categories}");
        assert!(categories.as_array().unwrap().contains(&json!("ecommerce")), "{categories}");
        assert!(categories.as_array().unwrap().contains(&json!("project-management")), "{categories}");
        assert_eq!(words("CredentialKind"), json!(["api_key", "basic", "oauth2", "unknown"]));
        assert_eq!(words("CredentialState"), json!(["set", "not_set"]));
        assert_eq!(
            words("RevocationOutcome"),
            json!(["revoked", "pending", "not_supported", "failed", "not_needed", "kept"])
        );
        assert!(words("StepStatus").as_array().unwrap().contains(&json!("connection_needs_reauth")), "{doc}");
        assert!(words("AuditOutcome").as_array().unwrap().contains(&json!("gave_up")), "{doc}");
        assert!(words("AuditAction").as_array().unwrap().contains(&json!("secret.read")), "{doc}");
    }

    #[test]
    fn views_refer_to_the_closed_sets() {
        let doc = serde_json::to_value(document()).unwrap();
        let field = |name: &str, f: &str| schema(&doc, name)["properties"][f].to_string();
        assert!(field("ConnectionView", "status").contains("ConnectionStatus"), "{doc}");
        assert!(field("Verified", "status").contains("ConnectionStatus"), "{doc}");
        assert!(field("RevocationItem", "outcome").contains("RevocationOutcome"), "{doc}");
        assert!(field("ProviderView", "auth_mode").contains("AuthMode"), "{doc}");
        assert!(field("ProviderView", "category").contains("Category"), "{doc}");
        assert!(field("AuditRecord", "outcome").contains("RecordedOutcome"), "{doc}");
        assert!(field("AuditRecord", "action").contains("RecordedAction"), "{doc}");
        // The API's scenario keeps its name and shows the extend request as an object.
        assert!(schema(&doc, "ScenarioView")["properties"]["steps"].is_object(), "{doc}");
        assert!(schema(&doc, "ExtendRequest")["properties"]["path"].is_object(), "{doc}");
    }

    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    out.push((method.to_owned(), path.clone(), op));
                }
            }
        }
        out
    }

    #[test]
    fn every_operation_has_a_summary_and_every_response_a_description() {
        let doc = serde_json::to_value(document()).unwrap();
        let ops = operations(&doc);
        assert!(ops.len() > 25, "the document lists the API ({} operations)", ops.len());
        let mut problems = Vec::new();
        for (method, path, op) in &ops {
            if op["summary"].as_str().is_none_or(|s| s.trim().is_empty()) {
                problems.push(format!("{method} {path}: no summary"));
            }
            let responses = op["responses"].as_object().map(|r| r.iter().collect::<Vec<_>>()).unwrap_or_default();
            if responses.is_empty() {
                problems.push(format!("{method} {path}: no responses"));
            }
            for (status, response) in responses {
                if response["description"].as_str().is_none_or(|d| d.trim().is_empty()) {
                    problems.push(format!("{method} {path} {status}: no description"));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn the_document_names_a_server_and_every_proxy_method() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        assert!(doc["servers"].as_array().is_some_and(|s| !s.is_empty()), "a servers entry");
        let proxy = &doc["paths"]["/v1/connections/{id}/proxy/{path}"];
        for method in ["get", "head", "post", "put", "patch", "delete"] {
            assert!(proxy.get(method).is_some(), "the proxy is documented for {method}");
        }
        assert!(doc["paths"]["/v1/connections/{id}/credentials"].get("put").is_some());
        let mut ids: Vec<&str> = operations(&doc).iter().filter_map(|(_, _, op)| op["operationId"].as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "operation ids are unique");
    }
}
