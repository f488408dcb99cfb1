//! The floor of the use-cases: the one authorization check and the shared ways to name and load
//! what a principal asks for. Every use-case module may call this one; it calls none of them.
//!
//! - [`require`] / [`require_to`]: may this principal perform this action? (the only place a
//!   role is checked; the message says what was refused);
//! - [`not_found`], [`parse_connection_id`], [`parse_scenario_id`]: a malformed id is answered
//!   like a missing one (404), so ids cannot be probed, and the team always comes from the
//!   principal;
//! - `provider()`, `load()`, `load_scenario()`, `view()`, `view_with()`, `usages_of()`: reads
//!   without secrets; `runtime_entry()`: the hot path's generation-checked read of a connection
//!   (its sealed fields included, never opened here).
//!
//! Decrypting a connection's secrets is one floor up, in `secrets` (it writes the audit record
//! first, and the audit module itself relies on [`require`]).

use std::sync::Arc;

use patchbay_domain::connection::Connection;
use patchbay_domain::ids::{ConnectionId, ScenarioId, TeamId};
use patchbay_domain::principal::{Action, Actor, Principal, Role};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_domain::scenario::Scenario;

use crate::runtime_cache::{ConnectionEntry, RuntimeCaller};
use crate::views::{ConnectionView, UsageView, secret_setting_names};
use crate::{Patchbay, ServiceError, ServiceResult};

/// Refuses unless `who`'s role allows `action`: "the `viewer` role may not do this".
pub(crate) fn require(who: &Principal, action: Action) -> ServiceResult<()> {
    require_to(who, action, "do this")
}

/// [`require`] with the refused deed named: "the `viewer` role may not {what}".
pub(crate) fn require_to(who: &Principal, action: Action, what: &str) -> ServiceResult<()> {
    if who.may(action) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!("the `{}` role may not {what}", who.role)))
    }
}

/// The principal of background work for a team (scheduler, refresh): an admin with the system
/// actor, so its audit records read `system`.
pub(crate) fn system(team: &TeamId) -> Principal {
    Principal { team_id: team.clone(), role: Role::Admin, actor: Actor::System, binding: None }
}

/// The answer for a connection that is missing or belongs to another team.
pub(crate) fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no connection `{id}` in your team"))
}

/// Parses a connection id from a path; a malformed id is answered like a missing one (404) so ids
/// cannot be probed, but with a message that says what shape was expected.
pub fn parse_connection_id(id: &str) -> ServiceResult<ConnectionId> {
    ConnectionId::parse(id)
        .map_err(|e| ServiceError::NotFound(format!("no connection `{}` in your team ({e})", e.value)))
}

/// Parses a scenario id like [`parse_connection_id`].
pub(crate) fn parse_scenario_id(id: &str) -> ServiceResult<ScenarioId> {
    ScenarioId::parse(id).map_err(|e| ServiceError::NotFound(format!("no scenario `{}` in your team ({e})", e.value)))
}

/// The answer for a scenario that is missing or belongs to another team.
pub(crate) fn scenario_not_found(id: &ScenarioId) -> ServiceError {
    ServiceError::NotFound(format!("no scenario `{id}` in your team"))
}

impl Patchbay {
    /// A provider a request names; unknown ones are the request's fault (400).
    pub(crate) async fn provider(&self, team: &TeamId, id: &str) -> ServiceResult<Arc<Provider>> {
        self.find_provider(team, id).await?.ok_or_else(|| {
            ServiceError::Invalid(format!("unknown provider `{id}`: pick one of the providers in the catalog"))
        })
    }

    /// A provider as `team` sees it: the catalog's, else one the team discovered (issue 16),
    /// with its registered client secret opened. Another team's providers are never found.
    pub(crate) async fn find_provider(&self, team: &TeamId, id: &str) -> ServiceResult<Option<Arc<Provider>>> {
        if let Some(p) = self.catalog.get(id) {
            return Ok(Some(p.clone()));
        }
        let Some(row) = self.store.team_provider(team, id).await? else { return Ok(None) };
        self.team_provider_from(team, &row).await.map(Some)
    }

    /// The provider a stored team-provider row defines.
    pub(crate) async fn team_provider_from(
        &self,
        team: &TeamId,
        row: &patchbay_store::TeamProviderRow,
    ) -> ServiceResult<Arc<Provider>> {
        let mut provider = team_provider_definition(row)?;
        if let Some(blob) = &row.client_secret {
            let owner = team_provider_owner(&row.id);
            provider.client_secret =
                Some(self.keys.open_owned(&self.store, team, &owner, TEAM_PROVIDER_SECRET_FIELD, blob).await?);
        }
        Ok(Arc::new(provider))
    }

    /// A connection of the principal's team.
    pub(crate) async fn load(&self, who: &Principal, id: &str) -> ServiceResult<Connection> {
        let id = parse_connection_id(id)?;
        self.store.get_connection(&who.team_id, &id).await?.ok_or_else(|| not_found(id.as_str()))
    }

    /// What the runtime hot path needs of a connection of the caller's team (the row, the
    /// lifecycle columns for OAuth, the sealed fields): from the runtime cache when it was read
    /// at the caller's generation, else from the database (and cached, tagged with it; the
    /// generation was read before these reads, so a write in between only makes the entry stale).
    pub(crate) async fn runtime_entry(&self, caller: &RuntimeCaller, id: &str) -> ServiceResult<Arc<ConnectionEntry>> {
        let team = &caller.principal.team_id;
        let id = parse_connection_id(id)?;
        if let Some(entry) = self.cache.connection(team, &id, caller.generation) {
            return Ok(entry);
        }
        let connection = self.store.get_connection(team, &id).await?.ok_or_else(|| not_found(id.as_str()))?;
        let oauth =
            self.find_provider(team, &connection.provider).await?.is_some_and(|p| p.auth_mode == AuthMode::Oauth2);
        let lifecycle = if oauth { self.store.lifecycle(team, &id).await? } else { None };
        let sealed = self.store.connection_secrets(team, &id).await?;
        let entry = Arc::new(ConnectionEntry { connection, lifecycle, sealed });
        self.cache.put_connection(caller.generation, Arc::clone(&entry));
        Ok(entry)
    }

    /// A scenario of the principal's team.
    pub(crate) async fn load_scenario(&self, who: &Principal, id: &str) -> ServiceResult<Scenario> {
        let id = parse_scenario_id(id)?;
        self.store.get_scenario(&who.team_id, &id).await?.ok_or_else(|| scenario_not_found(&id))
    }

    /// The view of one connection (reads its step usages and secret field names).
    pub(crate) async fn view(&self, c: &Connection) -> ServiceResult<ConnectionView> {
        let usages = self.store.connection_usages(&c.team_id, &c.id).await?;
        let fields = self.store.secret_field_names(&c.team_id, Some(&c.id)).await?;
        let provider = self.find_provider(&c.team_id, &c.provider).await?;
        Ok(self.view_with(c, provider, &usages, &fields))
    }

    /// The view of a connection given the team's step usages and secret field names (each read
    /// once for a whole list).
    pub(crate) fn view_with(
        &self,
        c: &Connection,
        provider: Option<Arc<Provider>>,
        usages: &[patchbay_store::Usage],
        fields: &[(String, String)],
    ) -> ConnectionView {
        let own: Vec<String> =
            fields.iter().filter(|(id, _)| id.as_str() == c.id.as_str()).map(|(_, f)| f.clone()).collect();
        ConnectionView::new(c, provider.as_deref(), secret_setting_names(&own)).with_usages(
            provider.as_deref(),
            c,
            usages,
        )
    }

    /// The scenario steps that use a connection (the delete guard, replace).
    pub(crate) async fn usages_of(&self, c: &Connection) -> ServiceResult<Vec<UsageView>> {
        Ok(self.store.connection_usages(&c.team_id, &c.id).await?.iter().map(UsageView::from).collect())
    }
}

/// The AAD field name of a team provider's sealed client secret.
pub(crate) const TEAM_PROVIDER_SECRET_FIELD: &str = "client_secret";

/// The AAD owner of a team provider's sealed client secret.
pub(crate) fn team_provider_owner(id: &str) -> String {
    format!("provider:{id}")
}

/// A stored team provider's definition, without its client secret (for views).
pub(crate) fn team_provider_definition(row: &patchbay_store::TeamProviderRow) -> ServiceResult<Provider> {
    serde_json::from_str(&row.definition)
        .map_err(|e| ServiceError::Internal(format!("stored provider `{}` does not parse: {e}", row.id)))
}
