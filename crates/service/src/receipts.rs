//! Delete receipts kept for the web session that deleted: the web UI's Delete answers with a
//! redirect to a page that shows the receipt (POST → 303 → GET), so a reload of that page shows
//! the receipt again instead of posting the delete a second time.
//!
//! A receipt is kept for [`RECEIPT_KEPT_FOR`] under the session's binding and team, and read only
//! with both: another browser of the same team, another team, or the same browser after it
//! signed in again finds nothing (the same answer as for a connection that never had one). It is
//! the receipt the API answers with, metadata only (docs/security.md S-06). Calls
//! `connections` (the delete) and the store.

use patchbay_domain::principal::Action;
use patchbay_store::KeptReceipt;
use time::Duration;

use crate::access::require;
use crate::connections::DeleteReceipt;
use crate::sessions::WebSession;
use crate::{Patchbay, ServiceError, ServiceResult};

/// How long the receipt page shows a receipt after the delete.
pub const RECEIPT_KEPT_FOR: Duration = Duration::minutes(15);

/// A delete from a web session.
#[derive(Debug)]
pub struct SessionDelete {
    /// The receipt.
    pub receipt: DeleteReceipt,
    /// Whether it was kept for the receipt page. `false` when keeping it failed: the connection
    /// is deleted all the same, so the receipt must be shown at once.
    pub kept: bool,
}

impl Patchbay {
    /// Deletes a connection as [`Patchbay::delete_connection_with`] does, then keeps the receipt
    /// for the session's receipt page ([`Patchbay::kept_receipt`]).
    pub async fn delete_connection_in_session(
        &self,
        session: &WebSession,
        id: &str,
        force: bool,
    ) -> ServiceResult<SessionDelete> {
        let receipt = self.delete_connection_with(&session.principal, id, force).await?;
        let kept = match self.keep_receipt(session, &receipt).await {
            Ok(()) => true,
            Err(e) => {
                // Not returned: the delete happened, and the caller shows the receipt itself.
                tracing::warn!(error = %e, connection_id = %receipt.id, "could not keep a delete receipt for its page");
                false
            }
        };
        Ok(SessionDelete { receipt, kept })
    }

    async fn keep_receipt(&self, session: &WebSession, receipt: &DeleteReceipt) -> ServiceResult<()> {
        let body = serde_json::to_string(receipt)
            .map_err(|e| ServiceError::Internal(format!("a delete receipt does not serialize: {e}")))?;
        let now = self.clock.now();
        let kept = KeptReceipt {
            session_binding: &session.binding,
            team_id: &session.principal.team_id,
            connection_id: &receipt.id,
            body: &body,
            expires_at: now + RECEIPT_KEPT_FOR,
        };
        Ok(self.store.keep_receipt(&kept, now).await?)
    }

    /// The receipt of connection `id` that this session deleted, while it is kept.
    pub async fn kept_receipt(&self, session: &WebSession, id: &str) -> ServiceResult<DeleteReceipt> {
        require(&session.principal, Action::Read)?;
        let body = self
            .store
            .kept_receipt(&session.binding, &session.principal.team_id, id, self.clock.now())
            .await?
            .ok_or_else(|| {
            ServiceError::NotFound(format!(
                "there is no delete receipt for this connection here: a receipt is shown for {} minutes \
                     after the delete, in the browser that deleted the connection",
                RECEIPT_KEPT_FOR.whole_minutes()
            ))
        })?;
        serde_json::from_str(&body)
            .map_err(|e| ServiceError::Internal(format!("a kept delete receipt does not parse: {e}")))
    }
}
