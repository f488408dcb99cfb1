//! The use-cases on an existing connection: list (filtered), get, rename, verify, reauthorize
//! (a new consent flow for the same connection) and delete (revoke at the provider, destroy the
//! local secret, refuse while scenario steps use it unless forced).
//!
//! Invariants: a failing verify keeps the connection and says why; a reauthorize changes nothing
//! until its callback completes; the team always comes from the principal.

use patchbay_domain::connection::{ConnectionStatus, validate_connection_name};
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::AuthMode;
use patchbay_store::StoreError;

use super::dto::{DeleteReceipt, ListFilter, Verified};
use super::input::{requested_scopes, validate_return_to, verify_effect};
use crate::access::{not_found, require};
use crate::audit::{AuditOutcome, action};
use crate::error::not_connected;
use crate::events::kind;
use crate::oauth::{AuthorizeStart, FlowKind, FlowStart, ReauthorizeRequest};
use crate::views::ConnectionView;
use crate::{Patchbay, ServiceError, ServiceResult};

impl Patchbay {
    /// The team's connections, filtered.
    pub async fn list_connections(&self, who: &Principal, filter: &ListFilter) -> ServiceResult<Vec<ConnectionView>> {
        require(who, Action::Read)?;
        // `status=active,degraded`: any of several (a picker lists every status but `pending`).
        let statuses = match filter.status.as_deref() {
            Some(list) => Some(
                list.split(',')
                    .map(|s| s.trim().parse::<ConnectionStatus>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(ServiceError::Invalid)?,
            ),
            None => None,
        };
        let q = filter.q.as_deref().map(str::to_lowercase);
        let usages = self.store.team_usages(&who.team_id).await?;
        let fields = self.store.secret_field_names(&who.team_id, None).await?;
        let mut out = Vec::new();
        let mut providers: std::collections::HashMap<
            String,
            Option<std::sync::Arc<patchbay_domain::provider::Provider>>,
        > = std::collections::HashMap::new();
        for c in self.store.list_connections(&who.team_id).await? {
            let keep = filter.provider.as_deref().is_none_or(|p| p == c.provider)
                && statuses.as_ref().is_none_or(|list| list.contains(&c.status))
                && filter.end_user.as_deref().is_none_or(|u| c.end_user.as_ref().is_some_and(|e| e.id == u))
                && q.as_deref().is_none_or(|q| {
                    c.name.to_lowercase().contains(q)
                        || c.account.as_deref().is_some_and(|a| a.to_lowercase().contains(q))
                        || c.end_user.as_ref().is_some_and(|u| {
                            u.id.to_lowercase().contains(q)
                                || u.display_name.as_deref().is_some_and(|d| d.to_lowercase().contains(q))
                        })
                });
            if keep {
                // Each provider once per list (a team provider is a database read).
                let provider = match providers.get(&c.provider) {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.find_provider(&who.team_id, &c.provider).await?;
                        providers.insert(c.provider.clone(), p.clone());
                        p
                    }
                };
                out.push(self.view_with(&c, provider, &usages, &fields));
            }
        }
        Ok(out)
    }

    /// One connection of the team.
    pub async fn get_connection(&self, who: &Principal, id: &str) -> ServiceResult<ConnectionView> {
        require(who, Action::Read)?;
        let c = self.load(who, id).await?;
        self.view(&c).await
    }

    /// Renames a connection; the name must stay unique in the team.
    pub async fn rename_connection(&self, who: &Principal, id: &str, name: &str) -> ServiceResult<ConnectionView> {
        require(who, Action::Manage)?;
        let name = validate_connection_name(name).map_err(ServiceError::Invalid)?;
        let c = self.load(who, id).await?;
        let now = self.clock.now();
        match self.store.rename_connection(&who.team_id, &c.id, &name, now).await {
            Ok(true) => {}
            Ok(false) => return Err(not_found(c.id.as_str())),
            Err(StoreError::Conflict(_)) if name == c.name => {}
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::Conflict(format!(
                    "a connection named `{name}` already exists in your team: choose another name"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        let detail = format!("from={} to={name}", c.name);
        self.audit(who, action::CONNECTION_RENAME, Some(&c.id), AuditOutcome::Ok, Some(&detail)).await?;
        let c = self.store.get_connection(&who.team_id, &c.id).await?.ok_or_else(|| not_found(c.id.as_str()))?;
        self.view(&c).await
    }

    /// Calls the provider's verify endpoint with the stored credential and records the outcome.
    /// A rejected credential marks the connection `needs_reauth`, an unreachable provider marks it
    /// `degraded`; either way it is kept.
    pub async fn verify_connection(&self, who: &Principal, id: &str) -> ServiceResult<Verified> {
        require(who, Action::Manage)?;
        let c = self.load(who, id).await?;
        if c.status == ConnectionStatus::Pending {
            // Nothing stored to check: a denied, abandoned or unfinished consent.
            return Err(not_connected(&c));
        }
        let provider = self.find_provider(&c.team_id, &c.provider).await?.ok_or_else(|| {
            ServiceError::Invalid(format!(
                "provider `{}` is no longer in the catalog: restore its file or delete the connection",
                c.provider
            ))
        })?;
        let c = self.renew_client_credentials_if_due(who, c, &provider).await?;
        let credential = self.read_credential(who, &c, &provider, "verify").await?;
        let outcome =
            patchbay_providers::verify_credential(&self.http, &provider, &c.template_values(), &credential).await;
        drop(credential);
        let now = self.clock.now();
        let (result, status, reason) = verify_effect(&outcome, now);
        self.store.record_verify(&who.team_id, &c.id, status, reason.as_deref(), &result).await?;
        self.emit_verify(&c, status, &result).await;
        let outcome_label = if result.ok { AuditOutcome::Ok } else { AuditOutcome::Failed };
        self.audit(who, action::CONNECTION_VERIFY, Some(&c.id), outcome_label, result.error.as_deref()).await?;
        Ok(Verified {
            ok: result.ok,
            account: result.account.or(c.account),
            checked_at: now,
            error: result.error,
            status,
        })
    }

    /// Starts a new consent flow for an existing connection (same id, name, settings and
    /// scenario bindings), asking for at least the scopes already granted, the scopes it was
    /// asked for and never granted, and any asked for now.
    pub async fn reauthorize_connection(
        &self,
        who: &Principal,
        id: &str,
        req: ReauthorizeRequest,
        binding: Option<String>,
    ) -> ServiceResult<AuthorizeStart> {
        require(who, Action::Manage)?;
        let connection = self.load(who, id).await?;
        let provider = self.provider(&who.team_id, &connection.provider).await?;
        if provider.auth_mode != AuthMode::Oauth2 {
            return Err(ServiceError::Invalid(format!(
                "{} uses {}: there is no consent flow to run; verify the connection, or delete it and create it again with a new credential",
                provider.display_name,
                provider.auth_mode.as_str()
            )));
        }
        let return_to = req.return_to.as_deref().map(validate_return_to).transpose()?;
        let asked = requested_scopes(&provider, &req.modules, &req.scopes)?;
        // At least what it has, plus what it was asked for and never got (a denied or abandoned
        // consent does not make the connection forget what it is for), plus what is asked now.
        let scopes = connection.granted_scopes.union(&connection.requested_scopes).union(&asked);
        self.keys.require_unsealed()?;
        if connection.status == ConnectionStatus::Pending && scopes != connection.requested_scopes {
            // Never granted: what it is for now includes this request too.
            self.store.set_requested_scopes(&who.team_id, &connection.id, &scopes).await?;
        }
        let client = self.connection_client(&connection, &provider).await?;
        let start = FlowStart {
            // A never-granted connection is continued: its first grant is a creation.
            kind: if connection.status == ConnectionStatus::Pending { FlowKind::Create } else { FlowKind::Reauthorize },
            client_id: &client.client_id,
            scopes: &scopes,
            binding,
            allow_account_change: req.allow_account_change,
            return_to,
        };
        let url = self.start_flow(&who.actor.label(), &connection, &provider, start).await?;
        let detail = format!("scopes={}", scopes.join(" "));
        self.audit(who, action::CONNECTION_REAUTHORIZE, Some(&connection.id), AuditOutcome::Started, Some(&detail))
            .await?;
        Ok(AuthorizeStart {
            authorize_url: url,
            connection: self.view(&connection).await?,
            requested_scopes: scopes.iter().map(str::to_owned).collect(),
        })
    }

    /// Deletes a connection that no scenario uses (see [`Patchbay::delete_connection_with`]).
    pub async fn delete_connection(&self, who: &Principal, id: &str) -> ServiceResult<DeleteReceipt> {
        self.delete_connection_with(who, id, false).await
    }

    /// Deletes a connection: revokes at the provider where possible, destroys the local secret,
    /// and returns a receipt. A connection that scenario steps use answers 409 listing them,
    /// unless `force`, which unbinds those steps (they then report `needs_connection`).
    pub async fn delete_connection_with(&self, who: &Principal, id: &str, force: bool) -> ServiceResult<DeleteReceipt> {
        require(who, Action::Manage)?;
        let c = self.load(who, id).await?;
        let used_by = self.usages_of(&c).await?;
        if !used_by.is_empty() && !force {
            let list: Vec<String> =
                used_by.iter().map(|u| format!("\"{}\" step {} ({})", u.scenario_name, u.step, u.module)).collect();
            return Err(ServiceError::Conflict(format!(
                "connection `{}` is used by {}: replace it there first, or force the delete to unbind those steps",
                c.name,
                list.join(", ")
            )));
        }
        let provider = self.find_provider(&c.team_id, &c.provider).await?;
        let (revocation, grants) = self.revoke_for_delete(who, &c, provider.as_deref()).await?;
        if !used_by.is_empty() {
            self.store.rebind_steps(&who.team_id, &c.id, None, self.clock.now()).await?;
        }
        if !self.store.delete_connection(&who.team_id, &c.id).await? {
            return Err(not_found(c.id.as_str()));
        }
        let detail = format!("provider={} name={}", c.provider, c.name);
        self.audit(who, action::CONNECTION_DELETE, Some(&c.id), AuditOutcome::Ok, Some(&detail)).await?;
        tracing::info!(connection_id = %c.id, provider = %c.provider, "connection deleted");
        self.emit(
            &c,
            kind::DELETED,
            serde_json::json!({
                "revocation": revocation.iter().map(|r| &r.outcome).collect::<Vec<_>>(),
                "grants_held": grants.held,
                "grants_still_live": grants.still_live,
            }),
        )
        .await;
        Ok(DeleteReceipt {
            id: c.id.to_string(),
            name: c.name,
            provider: c.provider,
            secret_destroyed: true,
            revocation,
            grants,
            unbound_steps: used_by,
        })
    }
}
