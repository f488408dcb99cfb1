//! What `patchbay demo` keeps across restarts, in `{data_dir}/demo-state.json` (mode 0600): Demo
//! Cloud's client secret and issued grants, and the demo user's password. Without it a restart
//! would give Demo Cloud a new secret and an empty memory, breaking every Demo Cloud connection,
//! and print a new password.
//!
//! The file holds live demo tokens and the password, so it is written like a key file: mode
//! 0600, through a temporary file renamed into place (a crash leaves the old or the new file,
//! never half of one). It is saved every two seconds while something changed, and at shutdown.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use patchbay_demo_provider::DemoProvider;
use serde::{Deserialize, Serialize};

/// File name inside the data directory.
pub const FILE_NAME: &str = "demo-state.json";

/// The saved state.
#[derive(Serialize, Deserialize, Default)]
pub struct DemoState {
    /// Demo Cloud's client secret (Patchbay's built-in provider file uses it).
    pub client_secret: Option<String>,
    /// The demo user's password (unless `PATCHBAY_DEMO_PASSWORD` sets one).
    pub password: Option<String>,
    /// Demo Cloud's grants ([`DemoProvider::export_state`]).
    pub democloud: Option<serde_json::Value>,
}

impl std::fmt::Debug for DemoState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoState").finish_non_exhaustive()
    }
}

/// The state file of a data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Reads the state; a missing file is an empty state, an unreadable one an error naming it.
pub fn load(path: &Path) -> anyhow::Result<DemoState> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!("{} is not a demo state file: move it away to start the demo afresh", path.display())
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DemoState::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the state atomically, mode 0600.
pub fn save(path: &Path, state: &DemoState) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_vec(state).context("serializing the demo state")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(&text).and_then(|()| file.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Saves Demo Cloud's grants into `state` at `path` now.
pub fn save_grants(path: &Path, state: &mut DemoState, demo: &DemoProvider) -> anyhow::Result<()> {
    state.democloud = Some(serde_json::from_str(&demo.export_state()).context("reading Demo Cloud's state")?);
    save(path, state)
}

/// Saves Demo Cloud's grants every two seconds while they change, until `stop` fires; then once
/// more. Returns the state as last saved.
pub async fn keep_saving(
    path: PathBuf,
    mut state: DemoState,
    demo: DemoProvider,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> DemoState {
    let mut last = demo.export_state();
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => false,
            _ = &mut stop => true,
        };
        let now = demo.export_state();
        if now != last || stopping {
            if let Err(e) = save_grants(&path, &mut state, &demo) {
                tracing::warn!(error = %e, "cannot save the demo state");
            }
            last = now;
        }
        if stopping {
            return state;
        }
    }
}
