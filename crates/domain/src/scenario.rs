//! Scenarios: named lists of steps, each a module run through a connection. They are what
//! decides the scopes a connection *needs* (least privilege): the union of the scopes of the
//! modules of the steps that use it.

use time::OffsetDateTime;

use crate::ids::{ConnectionId, ScenarioId, TeamId};

/// A module reference, written `provider.module` everywhere (API, provider files, UI).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleRef {
    /// Provider id.
    pub provider: String,
    /// Module id within the provider.
    pub module: String,
}

impl ModuleRef {
    /// Parses `provider.module`; the provider id may contain dashes, the module id may not
    /// contain dots.
    pub fn parse(text: &str) -> Result<ModuleRef, String> {
        match text.rsplit_once('.') {
            Some((p, m)) if !p.is_empty() && !m.is_empty() => {
                Ok(ModuleRef { provider: p.to_owned(), module: m.to_owned() })
            }
            _ => Err(format!(
                "`{text}` is not a module reference: write `provider.module`, e.g. `stripe.create_customer`"
            )),
        }
    }
}

impl std::fmt::Display for ModuleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.provider, self.module)
    }
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The module it runs.
    pub module: ModuleRef,
    /// The connection it runs through (none yet: the step cannot run).
    pub connection: Option<ConnectionId>,
}

/// A scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Id.
    pub id: ScenarioId,
    /// Team.
    pub team_id: TeamId,
    /// Name, unique in the team.
    pub name: String,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_refs_split_on_the_last_dot() {
        let m = ModuleRef::parse("mailgun-eu.send_message").unwrap();
        assert_eq!((m.provider.as_str(), m.module.as_str()), ("mailgun-eu", "send_message"));
        assert_eq!(m.to_string(), "mailgun-eu.send_message");
        for bad in ["", "stripe", ".x", "x."] {
            assert!(ModuleRef::parse(bad).is_err(), "{bad}");
        }
    }
}
