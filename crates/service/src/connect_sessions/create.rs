//! `create_connect_session`: checks every limit of a connect-session request (end user,
//! providers, modules or scopes, the connection to reconnect, origins, return URL, lifetime),
//! then stores the session with its token's digest and audits it. Nothing is stored when a
//! check fails.

use patchbay_domain::end_user::EndUser;
use patchbay_domain::ids::{ConnectSessionId, TeamId};
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::AuthMode;
use patchbay_domain::{SecretString, random};
use patchbay_store::ConnectSessionRow;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::input::{lifetime, origins, return_url};
use crate::access::require;
use crate::audit::{AuditOutcome, action};
use crate::connections::requested_scopes;
use crate::{Patchbay, ServiceError, ServiceResult};

/// The prefix of a session token, so a leaked one is recognisable.
const TOKEN_PREFIX: &str = "pbcs_";
/// At most this many allowed providers.
const MAX_PROVIDERS: usize = 50;

/// Body of `POST /v1/connect/sessions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnectSession {
    /// Whom the connection is for: the platform's id of its user and a display name.
    pub end_user: EndUser,
    /// Providers the hosted page offers (default: the providers of `modules`, or of
    /// `connection_id`, else every interactive provider of the catalog).
    #[serde(default)]
    pub allowed_providers: Vec<String>,
    /// Modules (`provider.module`) the connection is for; not together with `scopes`.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Scopes to ask for (one allowed provider only); not together with `modules`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Reconnect this connection of the team (a reauthorize: same id).
    #[serde(default)]
    pub connection_id: Option<String>,
    /// Where the hosted page sends the browser at the end; on one of `allowed_origins`.
    #[serde(default)]
    pub return_url: Option<String>,
    /// Origins (`https://app.example.com`) the result may be posted to, at most 10.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Seconds until the session expires: 60 to 3600, default 1800.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

fn expose<S: Serializer>(v: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.expose_secret())
}

/// `201` answer of `POST /v1/connect/sessions`. The token is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectSessionCreated {
    /// Session id (`cs_…`), carried by the result's events.
    pub id: String,
    /// The session token (`pbcs_…`): it drives this session's hosted page and nothing else.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub token: SecretString,
    /// The hosted page, token included: open it in the end user's browser.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub url: SecretString,
    /// When the token and the page stop working.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

/// What a session may connect: its providers, modules and scopes, and the connection it
/// reconnects.
struct Reach {
    providers: Vec<String>,
    modules: Vec<String>,
    scopes: Vec<String>,
    connection_id: Option<String>,
}

impl Patchbay {
    /// Creates a connect session for one end user of the caller's team (admin, member).
    pub async fn create_connect_session(
        &self,
        who: &Principal,
        req: CreateConnectSession,
    ) -> ServiceResult<ConnectSessionCreated> {
        require(who, Action::Manage)?;
        let end_user =
            EndUser::new(&req.end_user.id, req.end_user.display_name.as_deref()).map_err(ServiceError::Invalid)?;
        let ttl = lifetime(req.expires_in)?;
        let allowed_origins = origins(&req.allowed_origins)?;
        let return_url = req.return_url.as_deref().map(|u| return_url(u, &allowed_origins)).transpose()?;
        let reach = self.reach(who, &req).await?;
        let now = self.clock.now();
        let token = format!("{TOKEN_PREFIX}{}", random::token(32));
        let row = ConnectSessionRow {
            id: ConnectSessionId::generate().to_string(),
            team_id: who.team_id.clone(),
            token_digest: random::sha256(token.as_bytes()),
            end_user,
            allowed_providers: reach.providers,
            modules: reach.modules,
            scopes: reach.scopes,
            connection_id: reach.connection_id,
            return_url,
            allowed_origins,
            created_by: who.actor.label(),
            created_at: now,
            expires_at: now + ttl,
            cookie_digest: None,
            csrf_token: None,
            opened_at: None,
            completed_at: None,
            connection_made: None,
        };
        let connection = row.connection_id.as_deref().map(crate::access::parse_connection_id).transpose()?;
        let detail = format!(
            "session={} end_user={} providers={} expires_in={}",
            row.id,
            row.end_user.id,
            if row.allowed_providers.is_empty() { "any".to_owned() } else { row.allowed_providers.join(",") },
            ttl.whole_seconds()
        );
        // Audited first: a session whose record cannot be written is not handed out.
        self.audit(who, action::CONNECT_SESSION_CREATE, connection.as_ref(), AuditOutcome::Ok, Some(&detail)).await?;
        self.store.insert_connect_session(&row).await?;
        let url = format!("{}/connect?token={token}", self.config.public_url);
        Ok(ConnectSessionCreated {
            id: row.id,
            token: SecretString::from(token),
            url: SecretString::from(url),
            expires_at: row.expires_at,
        })
    }

    /// The providers, modules and scopes a request may connect, checked against the catalog
    /// and (for a reconnect) the team's connection.
    async fn reach(&self, who: &Principal, req: &CreateConnectSession) -> ServiceResult<Reach> {
        if !req.modules.is_empty() && !req.scopes.is_empty() {
            return Err(ServiceError::Invalid(
                "give `modules` or `scopes`, not both: modules already name the scopes they need".into(),
            ));
        }
        if req.allowed_providers.len() > MAX_PROVIDERS {
            return Err(ServiceError::Invalid(format!("`allowed_providers` has more than {MAX_PROVIDERS} entries")));
        }
        let mut providers: Vec<String> = Vec::new();
        for id in &req.allowed_providers {
            let p = self.provider(&who.team_id, id).await?;
            if p.auth_mode == AuthMode::Oauth2ClientCredentials {
                return Err(ServiceError::Invalid(format!(
                    "{} connects without a user (client credentials): it cannot be offered to an end user",
                    p.display_name
                )));
            }
            if !providers.contains(&p.id) {
                providers.push(p.id.clone());
            }
        }
        let connection_id = match &req.connection_id {
            Some(id) => {
                let c = self.load(who, id).await?;
                if !providers.is_empty() && providers != [c.provider.clone()] {
                    return Err(ServiceError::Invalid(format!(
                        "connection `{}` is a {} connection: a reconnect offers only its own provider",
                        c.id, c.provider
                    )));
                }
                providers = vec![c.provider.clone()];
                Some(c.id.to_string())
            }
            None => None,
        };
        self.check_modules(&who.team_id, &mut providers, &req.modules).await?;
        if !req.scopes.is_empty() {
            let [only] = providers.as_slice() else {
                return Err(ServiceError::Invalid(
                    "`scopes` need exactly one provider in `allowed_providers` (or a `connection_id`): scopes are the provider's own".into(),
                ));
            };
            requested_scopes(&*self.provider(&who.team_id, only).await?, &[], &req.scopes)?;
        }
        Ok(Reach { providers, modules: req.modules.clone(), scopes: req.scopes.clone(), connection_id })
    }

    /// Each module must be one of its provider's; with no providers given, the modules'
    /// providers are the allowed ones, else each module's provider must be allowed.
    async fn check_modules(&self, team: &TeamId, providers: &mut Vec<String>, modules: &[String]) -> ServiceResult<()> {
        let given = !providers.is_empty();
        for m in modules {
            let provider_id = m.split_once('.').map_or(m.as_str(), |(p, _)| p);
            let provider = self.provider(team, provider_id).await?;
            requested_scopes(&provider, std::slice::from_ref(m), &[])?;
            if given && !providers.contains(&provider.id) {
                return Err(ServiceError::Invalid(format!(
                    "module `{m}` is for {}, which is not in `allowed_providers`",
                    provider.display_name
                )));
            }
            if !given && !providers.contains(&provider.id) {
                providers.push(provider.id.clone());
            }
        }
        Ok(())
    }
}
