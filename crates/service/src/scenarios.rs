//! Scenarios and least privilege (docs/api.md "Scenarios"): what each step needs, whether it can
//! run, and how to extend a connection's grant in place when a step needs more.
//!
//! A step's connection must belong to the same team and to the module's provider. A scenario
//! never fails silently: every step reports `ready` or exactly why not, and a step that lacks
//! scopes carries the reauthorize request that would add them to the same connection. Steps that
//! need a new connection get one with exactly what their modules need: one step
//! (`connect_step`), or several steps of the same app sharing one connection with the union of
//! their scopes (`connect_steps`).

use std::collections::BTreeMap;

use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::ids::{ConnectionId, ScenarioId};
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::Provider;
use patchbay_domain::scenario::{ModuleRef, Scenario, Step};
use patchbay_domain::scope::ScopeSet;
use patchbay_store::StoreError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::{not_found, parse_connection_id, parse_scenario_id, require, scenario_not_found};
use crate::audit::{AuditOutcome, action};
use crate::connections::{CreateConnection, Created};
use crate::views::required_scopes;
use crate::words::word_enum;
use crate::{Patchbay, ServiceError, ServiceResult};

/// A step as sent by clients.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// `provider.module`.
    pub module: String,
    /// Connection id, or null while the step has none.
    #[serde(default)]
    pub connection: Option<String>,
}

/// Body of `POST /v1/scenarios` and `PATCH /v1/scenarios/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    /// Name, unique in the team (required on create).
    #[serde(default)]
    pub name: Option<String>,
    /// Steps in order (required on create; replaces all steps on update).
    #[serde(default)]
    pub steps: Option<Vec<StepRequest>>,
}

word_enum! {
    /// Whether a step can run, or the one reason it cannot.
    pub enum StepStatus {
        /// Everything it needs is there.
        Ready = "ready",
        /// No connection is bound to it.
        NeedsConnection = "needs_connection",
        /// Its connection waits for consent.
        ConnectionPending = "connection_pending",
        /// Its connection must be reauthorized (rejected, expired or revoked).
        ConnectionNeedsReauth = "connection_needs_reauth",
        /// Its connection's provider fails transiently.
        ConnectionDegraded = "connection_degraded",
        /// Its connection lacks scopes the module needs.
        MissingScopes = "missing_scopes",
        /// The module (or its provider) is not in the catalog.
        UnknownModule = "unknown_module",
    }
}

/// What would extend a step's connection to the step's needs: reauthorizing that same connection
/// with the step's module (the API shows it as a request, built by the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendPermissions {
    /// The connection to reauthorize.
    pub connection: String,
    /// The modules to ask for (`provider.module`).
    pub modules: Vec<String>,
}

/// Why a step can or cannot run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepView {
    /// Position (0-based).
    pub position: usize,
    /// `provider.module`.
    pub module: String,
    /// Module name.
    pub module_name: String,
    /// Connection id.
    pub connection: Option<String>,
    /// Connection name.
    pub connection_name: Option<String>,
    /// `ready`, `needs_connection`, `connection_pending`, `connection_needs_reauth`,
    /// `connection_degraded`, `missing_scopes`, `unknown_module`.
    pub status: StepStatus,
    /// Scopes the module needs (with the provider's defaults).
    pub required_scopes: Vec<String>,
    /// Of those, not granted.
    pub missing_scopes: Vec<String>,
    /// What extends the connection to what this step needs (when it lacks scopes). Not
    /// serialized here: the API shows it as the HTTP request to send.
    #[serde(skip)]
    #[schema(ignore)]
    pub extend_permissions: Option<ExtendPermissions>,
}

/// A scenario with the readiness of each step.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioView {
    /// Id (`scn_…`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Whether every step is ready.
    pub ready: bool,
    /// Steps.
    pub steps: Vec<StepView>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// Body of `POST /v1/connections/{id}/replace`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRequest {
    /// The connection that takes over every step.
    pub with: String,
}

/// Result of a replace.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplaceResult {
    /// Whether this was only a preview.
    pub dry_run: bool,
    /// Steps moved (or that would move).
    pub steps: Vec<crate::views::UsageView>,
    /// Scopes the new connection lacks for those steps.
    pub missing_scopes: Vec<String>,
}

/// Body of `POST /v1/scenarios/{id}/connection`: one new connection for several steps.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectStepsRequest {
    /// The positions (0-based) of the steps to connect; each runs a module of `connection.provider`.
    pub steps: Vec<usize>,
    /// The connection to create, as for `POST /v1/connections`; its `modules` is replaced by the
    /// steps' modules.
    pub connection: CreateConnection,
}

/// The positions a shared connection is for, sorted and each once: every one a step of `s` that
/// runs a module of `provider`.
fn steps_for(s: &Scenario, positions: &[usize], provider: &str) -> ServiceResult<Vec<usize>> {
    if positions.is_empty() {
        return Err(ServiceError::Invalid("name at least one step to connect".into()));
    }
    let mut out: Vec<usize> = positions.to_vec();
    out.sort_unstable();
    out.dedup();
    for &p in &out {
        let step = s.steps.get(p).ok_or_else(|| {
            ServiceError::NotFound(format!("scenario `{}` has no step {p} (it has {})", s.id, s.steps.len()))
        })?;
        if step.module.provider != provider {
            return Err(ServiceError::Invalid(format!(
                "step {p} runs `{}`: create a `{}` connection for it",
                step.module, step.module.provider
            )));
        }
    }
    Ok(out)
}

fn validate_scenario_name(name: &str) -> ServiceResult<String> {
    patchbay_domain::name::clean_name(name, "the scenario name", 100).map_err(ServiceError::Invalid)
}

impl Patchbay {
    fn module_provider(&self, module: &ModuleRef) -> ServiceResult<std::sync::Arc<Provider>> {
        let provider = self.catalog.get(&module.provider).cloned().ok_or_else(|| {
            ServiceError::Invalid(format!(
                "unknown module `{module}`: no provider `{}` in the catalog",
                module.provider
            ))
        })?;
        if !provider.modules.contains_key(&module.module) {
            let known: Vec<String> = provider.modules.keys().map(|m| format!("`{}.{m}`", provider.id)).collect();
            return Err(ServiceError::Invalid(format!(
                "unknown module `{module}`: {} has {}",
                provider.display_name,
                if known.is_empty() { "no modules".to_owned() } else { known.join(", ") }
            )));
        }
        Ok(provider)
    }

    /// Validates steps: known modules, connections of the team and of the module's provider.
    async fn parse_steps(&self, who: &Principal, steps: &[StepRequest]) -> ServiceResult<Vec<Step>> {
        if steps.len() > 200 {
            return Err(ServiceError::Invalid("a scenario has at most 200 steps".into()));
        }
        let mut out = Vec::with_capacity(steps.len());
        for (i, s) in steps.iter().enumerate() {
            let module = ModuleRef::parse(&s.module).map_err(|e| ServiceError::Invalid(format!("step {i}: {e}")))?;
            let provider =
                self.module_provider(&module).map_err(|e| ServiceError::Invalid(format!("step {i}: {e}")))?;
            let connection = match s.connection.as_deref() {
                None => None,
                Some(id) => {
                    let id = ConnectionId::parse(id).map_err(|e| ServiceError::Invalid(format!("step {i}: {e}")))?;
                    let c =
                        self.store.get_connection(&who.team_id, &id).await?.ok_or_else(|| {
                            ServiceError::Invalid(format!("step {i}: no connection `{id}` in your team"))
                        })?;
                    if c.provider != provider.id {
                        return Err(ServiceError::Invalid(format!(
                            "step {i}: connection `{}` is a {} connection, but `{module}` needs a {} connection",
                            c.name, c.provider, provider.display_name
                        )));
                    }
                    Some(id)
                }
            };
            out.push(Step { module, connection });
        }
        Ok(out)
    }

    /// The view of a scenario, reading each bound connection once.
    async fn scenario_view(&self, s: &Scenario) -> ServiceResult<ScenarioView> {
        let mut connections: BTreeMap<String, Option<Connection>> = BTreeMap::new();
        for id in s.steps.iter().filter_map(|st| st.connection.as_ref()) {
            if !connections.contains_key(id.as_str()) {
                connections.insert(id.to_string(), self.store.get_connection(&s.team_id, id).await?);
            }
        }
        let steps: Vec<StepView> = s
            .steps
            .iter()
            .enumerate()
            .map(|(position, step)| {
                let connection =
                    step.connection.as_ref().and_then(|id| connections.get(id.as_str()).cloned().flatten());
                self.step_view(position, step, connection.as_ref())
            })
            .collect();
        Ok(ScenarioView {
            id: s.id.to_string(),
            name: s.name.clone(),
            ready: steps.iter().all(|st| st.status == StepStatus::Ready),
            steps,
            created_at: s.created_at,
            updated_at: s.updated_at,
        })
    }

    fn step_view(&self, position: usize, step: &Step, connection: Option<&Connection>) -> StepView {
        let module = step.module.to_string();
        let provider = self.catalog.get(&step.module.provider).cloned();
        let module_name = provider
            .as_ref()
            .and_then(|p| p.modules.get(&step.module.module))
            .map_or_else(|| module.clone(), |m| m.name.clone());
        let required = provider.as_deref().map(|p| required_scopes(p, [module.as_str()])).unwrap_or_default();
        let oauth = provider.as_ref().is_some_and(|p| p.auth_mode.is_oauth());
        let missing = match connection {
            Some(c) if oauth => required.difference(&c.granted_scopes),
            _ => ScopeSet::new(),
        };
        let status = match (provider.as_ref(), connection) {
            (None, _) => StepStatus::UnknownModule,
            (Some(p), _) if !p.modules.contains_key(&step.module.module) => StepStatus::UnknownModule,
            (_, None) => StepStatus::NeedsConnection,
            (_, Some(c)) => match c.status {
                ConnectionStatus::Pending => StepStatus::ConnectionPending,
                ConnectionStatus::NeedsReauth | ConnectionStatus::Revoked => StepStatus::ConnectionNeedsReauth,
                _ if !missing.is_empty() => StepStatus::MissingScopes,
                ConnectionStatus::Degraded => StepStatus::ConnectionDegraded,
                ConnectionStatus::Active => StepStatus::Ready,
            },
        };
        let extend_permissions = connection
            .filter(|_| !missing.is_empty())
            .map(|c| ExtendPermissions { connection: c.id.to_string(), modules: vec![module.clone()] });
        StepView {
            position,
            module_name,
            connection: connection
                .map(|c| c.id.to_string())
                .or_else(|| step.connection.as_ref().map(ToString::to_string)),
            connection_name: connection.map(|c| c.name.clone()),
            status,
            required_scopes: required.iter().map(str::to_owned).collect(),
            missing_scopes: missing.iter().map(str::to_owned).collect(),
            extend_permissions,
            module,
        }
    }

    /// Creates a scenario.
    pub async fn create_scenario(&self, who: &Principal, req: ScenarioRequest) -> ServiceResult<ScenarioView> {
        require(who, Action::Manage)?;
        let name = validate_scenario_name(req.name.as_deref().unwrap_or_default())?;
        let steps = self.parse_steps(who, req.steps.as_deref().unwrap_or_default()).await?;
        let now = self.clock.now();
        let scenario = Scenario {
            id: ScenarioId::generate(),
            team_id: who.team_id.clone(),
            name,
            steps,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_scenario(&scenario).await.map_err(|e| match e {
            StoreError::Conflict(_) => {
                ServiceError::Conflict(format!("a scenario named `{}` already exists in your team", scenario.name))
            }
            e => e.into(),
        })?;
        self.audit(who, action::SCENARIO_CHANGE, None, AuditOutcome::Ok, Some(&format!("created {}", scenario.id)))
            .await?;
        self.scenario_view(&scenario).await
    }

    /// The team's scenarios.
    pub async fn list_scenarios(&self, who: &Principal) -> ServiceResult<Vec<ScenarioView>> {
        require(who, Action::Read)?;
        let mut out = Vec::new();
        for s in self.store.list_scenarios(&who.team_id).await? {
            out.push(self.scenario_view(&s).await?);
        }
        Ok(out)
    }

    /// One scenario with the readiness of each step.
    pub async fn get_scenario(&self, who: &Principal, id: &str) -> ServiceResult<ScenarioView> {
        require(who, Action::Read)?;
        let s = self.load_scenario(who, id).await?;
        self.scenario_view(&s).await
    }

    /// Renames a scenario and/or replaces its steps.
    pub async fn update_scenario(
        &self,
        who: &Principal,
        id: &str,
        req: ScenarioRequest,
    ) -> ServiceResult<ScenarioView> {
        require(who, Action::Manage)?;
        let mut s = self.load_scenario(who, id).await?;
        if let Some(name) = req.name.as_deref() {
            s.name = validate_scenario_name(name)?;
        }
        if let Some(steps) = req.steps.as_deref() {
            s.steps = self.parse_steps(who, steps).await?;
        }
        s.updated_at = self.clock.now();
        match self.store.update_scenario(&s).await {
            Ok(true) => {}
            Ok(false) => return Err(scenario_not_found(&s.id)),
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::Conflict(format!(
                    "a scenario named `{}` already exists in your team",
                    s.name
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(who, action::SCENARIO_CHANGE, None, AuditOutcome::Ok, Some(&format!("updated {}", s.id))).await?;
        self.scenario_view(&s).await
    }

    /// Deletes a scenario (its connections stay).
    pub async fn delete_scenario(&self, who: &Principal, id: &str) -> ServiceResult<()> {
        require(who, Action::Manage)?;
        let id = parse_scenario_id(id)?;
        if !self.store.delete_scenario(&who.team_id, &id).await? {
            return Err(scenario_not_found(&id));
        }
        self.audit(who, action::SCENARIO_CHANGE, None, AuditOutcome::Ok, Some(&format!("deleted {id}"))).await
    }

    /// Creates a connection for one step with exactly the scopes its module needs and binds it
    /// to the step: [`Patchbay::connect_steps`] with one position.
    pub async fn connect_step(
        &self,
        who: &Principal,
        scenario: &str,
        position: usize,
        req: CreateConnection,
        binding: Option<String>,
    ) -> ServiceResult<Created> {
        self.connect_steps(who, scenario, &[position], req, binding).await
    }

    /// Creates one connection for several steps of a scenario that run modules of the same app,
    /// asking for the union of what their modules need (plus any `scopes` sent), and binds every
    /// one of those steps to it. An OAuth connection is bound while pending, so the steps are
    /// ready once the user consents. Every position is checked before anything is created.
    /// `binding` is passed on to [`Patchbay::create_connection`].
    pub async fn connect_steps(
        &self,
        who: &Principal,
        scenario: &str,
        positions: &[usize],
        mut req: CreateConnection,
        binding: Option<String>,
    ) -> ServiceResult<Created> {
        require(who, Action::Manage)?;
        let mut s = self.load_scenario(who, scenario).await?;
        let positions = steps_for(&s, positions, &req.provider)?;
        let mut modules: Vec<String> = Vec::new();
        for &p in &positions {
            let module = s.steps[p].module.to_string();
            if !modules.contains(&module) {
                modules.push(module);
            }
        }
        req.modules = modules;
        let created = self.create_connection(who, req, binding).await?;
        let id = parse_connection_id(&created.connection.id)?;
        for &p in &positions {
            s.steps[p].connection = Some(id.clone());
        }
        s.updated_at = self.clock.now();
        self.store.update_scenario(&s).await?;
        Ok(created)
    }

    /// Rebinds every step from one connection to another of the same provider, atomically; with
    /// `dry_run` only reports what would move.
    pub async fn replace_connection(
        &self,
        who: &Principal,
        id: &str,
        req: ReplaceRequest,
        dry_run: bool,
    ) -> ServiceResult<ReplaceResult> {
        require(who, Action::Manage)?;
        let from = self.load(who, id).await?;
        let to_id = parse_connection_id(&req.with)?;
        let to = self.store.get_connection(&who.team_id, &to_id).await?.ok_or_else(|| not_found(to_id.as_str()))?;
        if to.provider != from.provider {
            return Err(ServiceError::Invalid(format!(
                "`{}` is a {} connection and `{}` a {} one: steps can only move to a connection of the same provider",
                from.name, from.provider, to.name, to.provider
            )));
        }
        if to.id == from.id {
            return Err(ServiceError::Invalid("a connection cannot replace itself".into()));
        }
        let steps = self.usages_of(&from).await?;
        let missing = match self.catalog.get(&from.provider) {
            Some(p) if p.auth_mode.is_oauth() => {
                required_scopes(p, steps.iter().map(|u| u.module.as_str())).difference(&to.granted_scopes)
            }
            _ => ScopeSet::new(),
        };
        if !dry_run {
            self.store.rebind_steps(&who.team_id, &from.id, Some(&to.id), self.clock.now()).await?;
            let detail = format!("{} steps to {}", steps.len(), to.id);
            self.audit(who, action::CONNECTION_REPLACE, Some(&from.id), AuditOutcome::Ok, Some(&detail)).await?;
        }
        Ok(ReplaceResult { dry_run, steps, missing_scopes: missing.iter().map(str::to_owned).collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_are_bounded() {
        assert_eq!(validate_scenario_name("  Sync  ").unwrap(), "Sync");
        assert!(validate_scenario_name("").is_err());
        assert!(validate_scenario_name(&"x".repeat(101)).is_err());
    }
}
