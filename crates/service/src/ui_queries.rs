//! Read-only questions the web UI asks that the JSON API does not: the default name an Add form
//! proposes. (Where a browser may be sent for consent is the server's to compute, from the
//! catalog: `patchbay-server`'s `ui::origins`.)

use patchbay_domain::connection::default_connection_name;
use patchbay_domain::principal::{Action, Principal};

use crate::access::require_to;
use crate::{Patchbay, ServiceError, ServiceResult};

impl Patchbay {
    /// The name the Add form proposes for a new connection to `provider`: "My {app} connection",
    /// or the next free "… N" in the team — the same rule the service applies when no name is
    /// given. The user may change it; the service checks uniqueness again on save.
    pub async fn proposed_connection_name(&self, who: &Principal, provider: &str) -> ServiceResult<String> {
        require_to(who, Action::Read, "read connections")?;
        let display = self
            .find_provider(&who.team_id, provider)
            .await?
            .map(|p| p.display_name.clone())
            .ok_or_else(|| ServiceError::NotFound(format!("no provider `{provider}` in the catalog")))?;
        let base = format!("My {display} connection");
        let taken = self.store.connection_names_like(&who.team_id, &base).await?;
        Ok(default_connection_name(&display, taken.iter().map(String::as_str)))
    }
}
