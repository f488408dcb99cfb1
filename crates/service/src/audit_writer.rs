//! Group commit of audit records: one writer task owns the durable appends, and every caller
//! waits for the commit of the batch its own record is in.
//!
//! While one batch commits (an fsync on SQLite's `synchronous=FULL`, a WAL flush on PostgreSQL),
//! the records that arrive queue up in the channel and go together in the next batch, so the
//! number of fsyncs per second stays bounded while throughput grows with concurrency. Nothing is
//! acknowledged before its batch has committed, and a failed batch fails every caller in it
//! (docs/security.md S-09: no record, no secret). The task starts with the first record, on the
//! caller's runtime, and ends when the service is dropped.

use std::sync::OnceLock;

use patchbay_store::{AuditRecord, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Largest batch written at once.
const MAX_BATCH: usize = 1024;
/// Records waiting beyond this make callers wait to enqueue (back-pressure, never a drop).
const QUEUE_DEPTH: usize = 8192;

/// A batch's failure as every caller in it gets it: whether the database was unreachable (so the
/// caller answers 503, retry later) and the driver's message.
#[derive(Debug, Clone)]
struct BatchFailed {
    unavailable: bool,
    message: String,
}

type Reply = oneshot::Sender<Result<(), BatchFailed>>;
type Queue = mpsc::Sender<(AuditRecord, Reply)>;

/// The handle callers append through.
pub(crate) struct AuditWriter {
    store: Store,
    queue: OnceLock<Queue>,
}

impl AuditWriter {
    /// A writer for `store`; its task starts with the first record.
    pub(crate) fn new(store: Store) -> AuditWriter {
        AuditWriter { store, queue: OnceLock::new() }
    }

    /// Appends `record` and returns once the batch holding it has committed durably.
    pub(crate) async fn append(&self, record: AuditRecord) -> Result<(), StoreError> {
        let stopped = || StoreError::Database("the audit writer stopped before committing the record".into());
        let (reply, committed) = oneshot::channel();
        let queue = self.queue.get_or_init(|| spawn_writer(self.store.clone()));
        queue.send((record, reply)).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?.map_err(|f| {
            if f.unavailable { StoreError::Unavailable(f.message) } else { StoreError::Database(f.message) }
        })
    }
}

fn spawn_writer(store: Store) -> Queue {
    let (queue, mut incoming) = mpsc::channel::<(AuditRecord, Reply)>(QUEUE_DEPTH);
    tokio::spawn(async move {
        let mut pending = Vec::with_capacity(MAX_BATCH);
        while incoming.recv_many(&mut pending, MAX_BATCH).await > 0 {
            let (records, replies): (Vec<AuditRecord>, Vec<Reply>) = pending.drain(..).unzip();
            let outcome = store.append_audit_batch(&records).await.map_err(|e| {
                tracing::error!(error = %e, records = records.len(), "an audit batch could not be written");
                match e {
                    StoreError::Unavailable(message) => BatchFailed { unavailable: true, message },
                    StoreError::Database(message) => BatchFailed { unavailable: false, message },
                    other => BatchFailed { unavailable: false, message: other.to_string() },
                }
            });
            for reply in replies {
                // A caller that went away (client disconnected) needs no answer.
                let _ = reply.send(outcome.clone());
            }
        }
    });
    queue
}
