//! The API's own wire types on top of the service's views: where an answer points to another
//! request, the route is the server's to write (the service knows no HTTP).
//!
//! A scenario's step that lacks scopes carries [`ExtendPermissions`] from the service (which
//! connection, which modules); the API shows it as the request that does it,
//! `{"method": "POST", "path": "/v1/connections/{id}/reauthorize", "body": {"modules": […]}}`.
//! Field names and order are those of the service's views, so the JSON is what it always was.

use patchbay_service::scenarios::{ExtendPermissions, ScenarioView, StepView};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The body of the request that extends a connection.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExtendBody {
    /// The modules to reauthorize with (`provider.module`).
    pub modules: Vec<String>,
}

/// The request that extends a step's connection to what the step needs (fields in the order
/// this object has always had on the wire: alphabetical).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExtendRequest {
    /// Its JSON body.
    pub body: ExtendBody,
    /// Always `POST`.
    pub method: &'static str,
    /// `/v1/connections/{id}/reauthorize`.
    pub path: String,
}

impl From<&ExtendPermissions> for ExtendRequest {
    fn from(e: &ExtendPermissions) -> Self {
        ExtendRequest {
            body: ExtendBody { modules: e.modules.clone() },
            method: "POST",
            path: format!("/v1/connections/{}/reauthorize", e.connection),
        }
    }
}

/// A step as the API shows it: the service's view plus the request that extends its connection.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StepBody {
    /// The step.
    #[serde(flatten)]
    pub step: StepView,
    /// The request that extends the connection to what this step needs (when it lacks scopes).
    pub extend_permissions: Option<ExtendRequest>,
}

/// A scenario with the readiness of each step, as the API returns it (named `ScenarioView` in
/// the OpenAPI document, as it always was).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ScenarioView)]
pub(crate) struct ScenarioBody {
    /// Id (`scn_…`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Whether every step is ready.
    pub ready: bool,
    /// Steps.
    pub steps: Vec<StepBody>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<ScenarioView> for ScenarioBody {
    fn from(s: ScenarioView) -> Self {
        let steps = s
            .steps
            .into_iter()
            .map(|step| StepBody {
                extend_permissions: step.extend_permissions.as_ref().map(ExtendRequest::from),
                step,
            })
            .collect();
        ScenarioBody {
            id: s.id,
            name: s.name,
            ready: s.ready,
            steps,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use patchbay_service::scenarios::StepStatus;

    use super::*;

    #[test]
    fn a_step_shows_the_request_that_extends_its_connection_last() {
        let step = StepView {
            position: 1,
            module: "democloud.create_item".into(),
            module_name: "Create an item".into(),
            connection: Some("con_1".into()),
            connection_name: Some("Items".into()),
            status: StepStatus::MissingScopes,
            required_scopes: vec!["items:write".into()],
            missing_scopes: vec!["items:write".into()],
            extend_permissions: Some(ExtendPermissions {
                connection: "con_1".into(),
                modules: vec!["democloud.create_item".into()],
            }),
        };
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let view = ScenarioView {
            id: "scn_1".into(),
            name: "S".into(),
            ready: false,
            steps: vec![step],
            created_at: t,
            updated_at: t,
        };
        let json = serde_json::to_string(&ScenarioBody::from(view)).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"id":"scn_1","name":"S","ready":false,"steps":[{"position":1,"module":"democloud.create_item","#,
                r#""module_name":"Create an item","connection":"con_1","connection_name":"Items","status":"missing_scopes","#,
                r#""required_scopes":["items:write"],"missing_scopes":["items:write"],"extend_permissions":"#,
                r#"{"body":{"modules":["democloud.create_item"]},"method":"POST","path":"/v1/connections/con_1/reauthorize"}}],"#,
                r#""created_at":"2027-01-15T08:00:00Z","updated_at":"2027-01-15T08:00:00Z"}"#
            )
        );
    }
}
