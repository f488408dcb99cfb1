//! The provider catalog as principals see it (`GET /v1/providers`).

use crate::views::ProviderView;
use crate::{Patchbay, ServiceError, ServiceResult};

impl Patchbay {
    /// Every provider, sorted by id.
    pub fn list_providers(&self) -> Vec<ProviderView> {
        self.catalog.list().map(|p| ProviderView::new(p)).collect()
    }

    /// One provider.
    pub fn get_provider(&self, id: &str) -> ServiceResult<ProviderView> {
        self.catalog.get(id).map(|p| ProviderView::new(p)).ok_or_else(|| {
            ServiceError::NotFound(format!("no provider `{id}` in the catalog: list the providers to see which exist"))
        })
    }
}
