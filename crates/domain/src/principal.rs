//! Who calls, and what each role may do (docs/api.md, "Roles and permissions").
//!
//! The permission table lives here, in one place, so handlers ask "may this principal do X" instead
//! of comparing roles themselves (docs/security.md T-04: the check names the action performed).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{ConnectionId, ScenarioId, TeamId, TokenId, UserId};

/// A principal's role within its team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including the audit trail and events.
    Admin,
    /// Creates and manages connections and scenarios.
    Member,
    /// Reads metadata only.
    Viewer,
    /// The scenario executor: obtains access tokens and uses the proxy, changes nothing.
    Runtime,
}

/// An action that needs a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// List or read connections, providers, scenarios (metadata only).
    Read,
    /// Create, rename, verify, reauthorize or delete connections; edit scenarios.
    Manage,
    /// Obtain an access token or call the proxy.
    UseCredential,
    /// Read the audit trail and lifecycle events; manage webhooks.
    Administer,
}

impl Role {
    /// All roles, for help texts and validation messages.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Member, Role::Viewer, Role::Runtime];

    /// Whether this role may perform `action`.
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Member => matches!(action, Read | Manage),
            Role::Viewer => matches!(action, Read),
            Role::Runtime => matches!(action, Read | UseCredential),
        }
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
            Role::Runtime => "runtime",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`: use one of admin, member, viewer, runtime"))
    }
}

/// Who is acting: the team always comes from here, never from the request body (docs/security.md
/// T-01, T-03).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The principal's team.
    pub team_id: TeamId,
    /// Its role in that team.
    pub role: Role,
    /// What acted, for the audit trail.
    pub actor: Actor,
    /// What a bound runtime token may use; `None`: the whole team (an unbound token, a user,
    /// the system).
    pub binding: Option<Binding>,
}

/// The limits of a bound runtime token (least privilege): it may obtain a credential or use the
/// proxy only for a named module, and only through a listed connection or a step of a listed
/// scenario that runs that module on that connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binding {
    /// Scenarios whose steps (module + connection) it may run.
    pub scenarios: Vec<ScenarioId>,
    /// Connections it may use for any of their modules.
    pub connections: Vec<ConnectionId>,
}

/// The identity behind a principal, as recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An API token.
    Token {
        /// Token id.
        id: TokenId,
        /// Its name.
        name: String,
    },
    /// A signed-in user.
    User {
        /// User id.
        id: UserId,
        /// Their email or login.
        login: String,
    },
    /// The hosted page of a connect session, acting for a platform's end user.
    ConnectSession {
        /// Session id (`cs_…`).
        id: crate::ids::ConnectSessionId,
        /// The platform's id of the end user.
        end_user: String,
    },
    /// The server itself (scheduler, CLI on the database).
    System,
}

impl Actor {
    /// A short label for logs and the audit trail, e.g. `token:ci (tok_…)`.
    pub fn label(&self) -> String {
        match self {
            Actor::Token { id, name } => format!("token:{name} ({id})"),
            Actor::User { id, login } => format!("user:{login} ({id})"),
            Actor::ConnectSession { id, end_user } => format!("connect:{end_user} ({id})"),
            Actor::System => "system".to_owned(),
        }
    }
}

impl Principal {
    /// Whether this principal may perform `action`.
    pub fn may(&self, action: Action) -> bool {
        self.role.allows(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table_matches_design() {
        use Action::*;
        let table = [
            (Role::Admin, [true, true, true, true]),
            (Role::Member, [true, true, false, false]),
            (Role::Viewer, [true, false, false, false]),
            (Role::Runtime, [true, false, true, false]),
        ];
        for (role, expected) in table {
            for (action, want) in [Read, Manage, UseCredential, Administer].into_iter().zip(expected) {
                assert_eq!(role.allows(action), want, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn roles_parse_by_name_only() {
        assert_eq!("runtime".parse::<Role>().unwrap(), Role::Runtime);
        assert!("root".parse::<Role>().unwrap_err().contains("admin, member"));
    }
}
