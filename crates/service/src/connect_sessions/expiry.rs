//! The expiry sweep: every connect session that runs out unused gets its
//! `connect_session.expire` audit record, whether or not anyone presents its token again (a
//! token presented after expiry is audited on its own, by `page`).
//!
//! Exactly once in the cluster: a node records the expiry on the row (compare-and-set) before it
//! audits, and takes the mark back when the audit record cannot be written, so the next pass
//! tries again instead of leaving an expiry without its record.

use crate::audit::{AuditOutcome, SYSTEM_ACTOR, action};
use crate::{Patchbay, ServiceResult};

/// Sessions handled per pass; the rest wait for the next one.
const BATCH: i64 = 100;

impl Patchbay {
    /// One pass: audits the sessions that ran out unused since the last pass. Returns how many.
    pub async fn expire_connect_sessions(&self) -> ServiceResult<usize> {
        let now = self.clock.now();
        let mut n = 0;
        for s in self.store.unrecorded_connect_session_expiries(now, BATCH).await? {
            if !self.store.record_connect_session_expiry(&s.id, now).await? {
                continue;
            }
            let page = if s.opened { "opened, no connection granted" } else { "never opened" };
            let detail = format!("session={} end_user={} expired unused ({page})", s.id, s.end_user_id);
            let audited = self.audit_as(
                &s.team_id,
                SYSTEM_ACTOR,
                action::CONNECT_SESSION_EXPIRE,
                None,
                AuditOutcome::Ok,
                Some(&detail),
            );
            if let Err(e) = audited.await {
                self.store.unrecord_connect_session_expiry(&s.id).await?;
                return Err(e);
            }
            n += 1;
        }
        Ok(n)
    }
}

/// Runs the expiry sweep until `shutdown` changes, one pass per `interval`.
pub async fn run_expiry_worker(
    patchbay: std::sync::Arc<Patchbay>,
    interval: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::workers::run_every("connect-session expiry", interval, shutdown, || patchbay.expire_connect_sessions())
        .await;
}
