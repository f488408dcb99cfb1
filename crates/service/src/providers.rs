//! The provider catalog as principals see it, and the team's audit trail.

use patchbay_domain::principal::{Action, Principal};
use patchbay_store::{AuditEntry, AuditQuery};

use crate::views::ProviderView;
use crate::{Patchbay, ServiceError, ServiceResult};

impl Patchbay {
    /// Every provider, sorted by id.
    pub fn list_providers(&self) -> Vec<ProviderView> {
        self.catalog.list().map(|p| ProviderView::new(p)).collect()
    }

    /// One provider.
    pub fn get_provider(&self, id: &str) -> ServiceResult<ProviderView> {
        self.catalog
            .get(id)
            .map(|p| ProviderView::new(p))
            .ok_or_else(|| ServiceError::NotFound(format!("no provider `{id}` in the catalog: see GET /v1/providers")))
    }

    /// The team's audit trail, newest first (admins only).
    pub async fn list_audit(&self, who: &Principal, query: &AuditQuery) -> ServiceResult<Vec<AuditEntry>> {
        if !who.may(Action::Administer) {
            return Err(ServiceError::Forbidden(format!("the `{}` role may not read the audit trail", who.role)));
        }
        Ok(self.store.list_audit(&who.team_id, query).await?)
    }
}
