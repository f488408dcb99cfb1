//! Key management: unsealing at start, per-team data keys, sealing and opening secret fields,
//! rotation and status.
//!
//! Unsealing (docs/security.md S-08): the database keeps an encrypted check value per master-key
//! version. The ring from the key file or `PATCHBAY_MASTER_KEY` must contain every version the
//! database knows and decrypt its check value; otherwise the service is *sealed*: metadata stays
//! readable, every secret operation answers 503 with the reason, and nothing is written. A key file
//! is only generated when the database has no check value at all (a fresh data directory), so a
//! lost or wrong key never silently becomes a new one.
//!
//! Rotation adds a master-key version to the key file, re-wraps every data key under it (the data
//! keys themselves, and so every ciphertext, stay unchanged), and retires versions older than the
//! previous one once no data key uses them. A running server re-reads the key file before it
//! wraps a new data key or meets an unknown version, so a rotation reaches it without a restart.
//!
//! A team's data key is rotated by adding a newer data key ([`KeyService::add_team_key`]): new
//! fields are sealed with the team's newest key at once, on every node (each seal reads which key
//! is newest), and [`KeyService::reseal`] moves an old field over. Which fields to move and when
//! an old key may be destroyed is the `data_keys` use-case's business.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use patchbay_domain::SecretString;
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_store::{Store, StoreError, TeamKeyRow};
use patchbay_vault::{DataKey, FieldAad, MasterKeyRing, VaultError, WrappedKey};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::error::{ServiceError, ServiceResult};

/// Where the master key ring comes from.
#[derive(Clone)]
pub enum KeySource {
    /// A key-ring file (created 0600 on first start of a fresh database).
    File(PathBuf),
    /// The value of `PATCHBAY_MASTER_KEY` (one base64 key, or the key-file format).
    Env(SecretString),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(p) => write!(f, "File({})", p.display()),
            KeySource::Env(_) => f.write_str("Env([redacted])"),
        }
    }
}

enum KeyState {
    Sealed(String),
    Unsealed { ring: Arc<MasterKeyRing>, file_mtime: Option<SystemTime> },
}

/// The unsealed (or sealed) key ring plus a cache of unwrapped data keys.
pub struct KeyService {
    source: KeySource,
    state: RwLock<KeyState>,
    data_keys: RwLock<HashMap<(TeamId, u32), Arc<DataKey>>>,
}

impl std::fmt::Debug for KeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyService({:?}, sealed: {})", self.source, self.sealed_reason().is_some())
    }
}

/// Key ring facts for `patchbay keys status` (no key material).
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyStatus {
    /// `null` when unsealed, else why not.
    pub sealed: Option<String>,
    /// Where the key comes from.
    pub source: String,
    /// Versions in the ring.
    pub versions: Vec<u32>,
    /// The version new data keys are wrapped with.
    pub active_version: Option<u32>,
    /// Data keys per master-key version.
    pub data_keys_by_version: Vec<(u32, usize)>,
}

/// What `patchbay keys rotate` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RotationReport {
    /// The new active version.
    pub new_version: u32,
    /// How many data keys were re-wrapped.
    pub rewrapped: usize,
    /// Versions removed from the key file because nothing uses them any more.
    pub retired: Vec<u32>,
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// An unreachable database stays `DatabaseUnavailable` (503, retried by the refresh commit);
/// any other store error is internal.
fn store_err(e: StoreError) -> ServiceError {
    ServiceError::from(e)
}

/// Takes the rotation lock next to the key file, or says that another rotation holds it.
fn rotation_lock(key_file: &std::path::Path) -> ServiceResult<std::fs::File> {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ServiceError::Internal(format!("cannot open the rotation lock {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServiceError::Conflict(format!(
            "another `patchbay keys rotate` is running (it holds {}): wait for it to finish, then run it again if needed",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(ServiceError::Internal(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

fn vault_internal(e: VaultError) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

/// Checks `ring` against every check value in the database.
async fn check_ring(store: &Store, ring: &MasterKeyRing) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let checks = store.key_checks().await.map_err(|e| e.to_string())?;
    for (version, blob) in &checks {
        if !ring.has_version(*version) {
            return Err(format!(
                "the master key ring has no version {version}, which this database uses: restore the key file from \
                 your backup (see `patchbay keys status`)"
            ));
        }
        ring.verify_key_check(*version, blob).map_err(|e| e.to_string())?;
    }
    Ok(checks)
}

impl KeyService {
    /// Loads the ring and unseals against the database, or comes up sealed with the reason.
    /// Errors only when the database itself fails.
    pub async fn open(store: &Store, source: KeySource, now: OffsetDateTime) -> ServiceResult<KeyService> {
        let checks = store.key_checks().await.map_err(store_err)?;
        let fresh = checks.is_empty();
        if fresh && !store.all_team_keys().await.map_err(store_err)?.is_empty() {
            let reason =
                "the database holds data keys but no master-key check value: it is damaged; restore it from a backup"
                    .to_owned();
            return Ok(Self::sealed(source, reason));
        }
        let loaded = match &source {
            KeySource::Env(value) => MasterKeyRing::from_env_value(value.expose_secret()),
            KeySource::File(path) if path.exists() => MasterKeyRing::load_file(path),
            KeySource::File(path) if fresh => {
                let ring = MasterKeyRing::generate();
                ring.create_file(path).map(|()| {
                    tracing::info!(path = %path.display(), "generated a new master key file (mode 0600): back it up, it cannot be recovered");
                    ring
                })
            }
            KeySource::File(path) => Err(VaultError::KeyFileMissing { path: path.clone() }),
        };
        let ring = match loaded {
            Ok(ring) => ring,
            Err(e) => return Ok(Self::sealed(source, e.to_string())),
        };
        let checks = match check_ring(store, &ring).await {
            Ok(checks) => checks,
            Err(reason) => return Ok(Self::sealed(source, reason)),
        };
        // Adopt versions the database has not seen yet (fresh database, or a version added to the
        // file by hand): only after every known version proved itself above.
        for version in ring.versions() {
            if !checks.iter().any(|(v, _)| *v == version) {
                let blob = ring.key_check(version).map_err(vault_internal)?;
                match store.insert_key_check(version, &blob, now).await {
                    Ok(()) | Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(store_err(e)),
                }
            }
        }
        // Two nodes starting together on a fresh database may each have adopted a different key;
        // whoever lost the race must not run with a key the database does not know.
        if let Err(reason) = check_ring(store, &ring).await {
            return Ok(Self::sealed(source, reason));
        }
        let file_mtime = match &source {
            KeySource::File(p) => mtime(p),
            KeySource::Env(_) => None,
        };
        Ok(KeyService {
            source,
            state: RwLock::new(KeyState::Unsealed { ring: Arc::new(ring), file_mtime }),
            data_keys: RwLock::new(HashMap::new()),
        })
    }

    fn sealed(source: KeySource, reason: String) -> KeyService {
        tracing::error!(%reason, "key ring sealed: secret operations are refused until the right master key is configured");
        KeyService { source, state: RwLock::new(KeyState::Sealed(reason)), data_keys: RwLock::new(HashMap::new()) }
    }

    /// Why the service is sealed, or `None` when it is unsealed.
    pub fn sealed_reason(&self) -> Option<String> {
        match &*self.state.read().expect("key state lock") {
            KeyState::Sealed(reason) => Some(reason.clone()),
            KeyState::Unsealed { .. } => None,
        }
    }

    fn ring(&self) -> ServiceResult<Arc<MasterKeyRing>> {
        match &*self.state.read().expect("key state lock") {
            KeyState::Sealed(reason) => Err(ServiceError::Sealed(format!(
                "secrets are sealed: {reason}. Configure the right master key and restart Patchbay"
            ))),
            KeyState::Unsealed { ring, .. } => Ok(ring.clone()),
        }
    }

    /// Re-reads the key file when it changed on disk (a `keys rotate` by another process), keeping
    /// the current ring if the new one does not pass the database's check values.
    async fn refresh_ring(&self, store: &Store) -> ServiceResult<Arc<MasterKeyRing>> {
        let current = self.ring()?;
        let KeySource::File(path) = &self.source else {
            return Ok(current);
        };
        let seen = match &*self.state.read().expect("key state lock") {
            KeyState::Unsealed { file_mtime, .. } => *file_mtime,
            KeyState::Sealed(_) => None,
        };
        let now_mtime = mtime(path);
        if now_mtime == seen {
            return Ok(current);
        }
        match MasterKeyRing::load_file(path) {
            Ok(ring) => match check_ring(store, &ring).await {
                Ok(_) => {
                    let ring = Arc::new(ring);
                    *self.state.write().expect("key state lock") =
                        KeyState::Unsealed { ring: ring.clone(), file_mtime: now_mtime };
                    tracing::info!(active_version = ring.active_version(), "reloaded the master key file");
                    Ok(ring)
                }
                Err(reason) => {
                    tracing::warn!(%reason, "the changed master key file does not match the database; keeping the loaded keys");
                    Ok(current)
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the master key file; keeping the loaded keys");
                Ok(current)
            }
        }
    }

    async fn data_key(&self, store: &Store, team: &TeamId, key_id: u32) -> ServiceResult<Arc<DataKey>> {
        if let Some(k) = self.data_keys.read().expect("data key cache").get(&(team.clone(), key_id)) {
            return Ok(k.clone());
        }
        let row = store.team_key(team, key_id).await.map_err(store_err)?.ok_or_else(|| {
            ServiceError::Internal(format!("data key {key_id} of team {team} is missing from the database"))
        })?;
        self.unwrap_row(store, row).await
    }

    async fn unwrap_row(&self, store: &Store, row: TeamKeyRow) -> ServiceResult<Arc<DataKey>> {
        let mut ring = self.ring()?;
        if !ring.has_version(row.master_version) {
            ring = self.refresh_ring(store).await?;
        }
        let wrapped = WrappedKey { master_version: row.master_version, blob: row.wrapped };
        let key = Arc::new(ring.unwrap_data_key(row.team_id.as_str(), row.key_id, &wrapped).map_err(vault_internal)?);
        self.data_keys.write().expect("data key cache").insert((row.team_id, row.key_id), key.clone());
        Ok(key)
    }

    /// The team's current data key, created (and wrapped under the active master key) on first use.
    async fn current_data_key(&self, store: &Store, team: &TeamId, now: OffsetDateTime) -> ServiceResult<Arc<DataKey>> {
        if let Some(row) = store.current_team_key(team).await.map_err(store_err)? {
            let cached = self.data_keys.read().expect("data key cache").get(&(team.clone(), row.key_id)).cloned();
            return match cached {
                Some(key) => Ok(key),
                None => self.unwrap_row(store, row).await,
            };
        }
        let ring = self.refresh_ring(store).await?;
        let key = DataKey::generate(1);
        let wrapped = ring.wrap_data_key(team.as_str(), &key);
        let row = TeamKeyRow {
            team_id: team.clone(),
            key_id: 1,
            master_version: wrapped.master_version,
            wrapped: wrapped.blob,
        };
        match store.insert_team_key(&row, now).await {
            Ok(()) => {
                let key = Arc::new(key);
                self.data_keys.write().expect("data key cache").insert((team.clone(), 1), key.clone());
                Ok(key)
            }
            // Another request or node created it first: use theirs.
            Err(StoreError::Conflict(_)) => self.data_key(store, team, 1).await,
            Err(e) => Err(store_err(e)),
        }
    }

    /// Adds data key `key_id` (the team's newest + 1) to the team, wrapped under the active master
    /// key: from now on every new field of the team is sealed with it. A
    /// [`ServiceError::Conflict`] when another rotation added that id first.
    pub async fn add_team_key(
        &self,
        store: &Store,
        team: &TeamId,
        key_id: u32,
        now: OffsetDateTime,
    ) -> ServiceResult<()> {
        let ring = self.refresh_ring(store).await?;
        let key = DataKey::generate(key_id);
        let wrapped = ring.wrap_data_key(team.as_str(), &key);
        let row =
            TeamKeyRow { team_id: team.clone(), key_id, master_version: wrapped.master_version, wrapped: wrapped.blob };
        store.insert_team_key(&row, now).await.map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::Conflict(format!(
                "another rotation of this team's data key added key {key_id} at the same moment: run it again to finish it"
            )),
            e => store_err(e),
        })?;
        self.data_keys.write().expect("data key cache").insert((team.clone(), key_id), Arc::new(key));
        Ok(())
    }

    /// Re-seals one stored field under the team's data key `target`, with the same AAD (team,
    /// `connection`, `field`): opened with the key it names, sealed afresh. `None` when it is
    /// sealed under `target` already. The plaintext lives only inside this call, zeroized.
    pub async fn reseal(
        &self,
        store: &Store,
        team: &TeamId,
        aad: (&str, &str),
        blob: &[u8],
        target: u32,
    ) -> ServiceResult<Option<Vec<u8>>> {
        self.ring()?;
        let (connection, field) = aad;
        let key_id = patchbay_vault::blob_key_id(blob).map_err(vault_internal)?;
        if key_id == target {
            return Ok(None);
        }
        let old = self.data_key(store, team, key_id).await?;
        let new = self.data_key(store, team, target).await?;
        let aad = FieldAad { team: team.as_str(), connection, field };
        let plain = patchbay_vault::open(&old, &aad, blob).map_err(|e| {
            ServiceError::Internal(format!("stored secret `{field}` of {connection} failed to decrypt: {e}"))
        })?;
        Ok(Some(patchbay_vault::seal(&new, &aad, plain.expose_secret())))
    }

    /// Drops the team's cached data keys: all of them, or the ones in `ids`. Called once they are
    /// destroyed, so this process cannot open what the database no longer can.
    pub fn forget_team_keys(&self, team: &TeamId, ids: Option<&[u32]>) {
        self.data_keys
            .write()
            .expect("data key cache")
            .retain(|(t, id), _| t != team || ids.is_some_and(|ids| !ids.contains(id)));
    }

    /// Encrypts credential fields of a connection under the team's data key.
    pub async fn seal_fields(
        &self,
        store: &Store,
        team: &TeamId,
        connection: &ConnectionId,
        fields: &[(String, &SecretString)],
        now: OffsetDateTime,
    ) -> ServiceResult<Vec<(String, Vec<u8>)>> {
        let dek = self.current_data_key(store, team, now).await?;
        Ok(fields
            .iter()
            .map(|(field, value)| {
                let aad = FieldAad { team: team.as_str(), connection: connection.as_str(), field };
                (field.clone(), patchbay_vault::seal(&dek, &aad, value.expose_secret().as_bytes()))
            })
            .collect())
    }

    /// Encrypts one secret that belongs to something other than a connection (a team provider's
    /// registered client secret): `owner` takes the connection's place in the AAD, so the blob
    /// opens only for that owner and field. Owners are prefixed (`provider:…`) and so never equal
    /// a connection id.
    pub async fn seal_owned(
        &self,
        store: &Store,
        team: &TeamId,
        owner: &str,
        field: &str,
        value: &SecretString,
        now: OffsetDateTime,
    ) -> ServiceResult<Vec<u8>> {
        let dek = self.current_data_key(store, team, now).await?;
        let aad = FieldAad { team: team.as_str(), connection: owner, field };
        Ok(patchbay_vault::seal(&dek, &aad, value.expose_secret().as_bytes()))
    }

    /// Decrypts a blob sealed by [`seal_owned`](Self::seal_owned) for the same owner and field.
    pub async fn open_owned(
        &self,
        store: &Store,
        team: &TeamId,
        owner: &str,
        field: &str,
        blob: &[u8],
    ) -> ServiceResult<SecretString> {
        self.ring()?;
        let key_id = patchbay_vault::blob_key_id(blob).map_err(vault_internal)?;
        let dek = self.data_key(store, team, key_id).await?;
        let aad = FieldAad { team: team.as_str(), connection: owner, field };
        patchbay_vault::open_string(&dek, &aad, blob)
            .map_err(|e| ServiceError::Internal(format!("stored secret `{field}` of {owner} failed to decrypt: {e}")))
    }

    /// A short keyed fingerprint of a secret for display ("set · 3f9a1c2b…"): HMAC-SHA256 under
    /// a subkey of the team's data key, over the connection id and the secret. It tells two
    /// credentials apart without letting anyone who reads it test guesses offline.
    pub async fn fingerprint(
        &self,
        store: &Store,
        team: &TeamId,
        connection: &ConnectionId,
        secret: &SecretString,
        now: OffsetDateTime,
    ) -> ServiceResult<String> {
        let dek = self.current_data_key(store, team, now).await?;
        let mut data = Vec::with_capacity(connection.as_str().len() + 1 + secret.expose_secret().len());
        data.extend_from_slice(connection.as_str().as_bytes());
        data.push(0);
        data.extend_from_slice(secret.expose_secret().as_bytes());
        let fp = dek.fingerprint(&data);
        zeroize::Zeroize::zeroize(&mut data);
        Ok(fp)
    }

    /// Decrypts stored fields of a connection. Any tampered or misplaced blob is an error, never
    /// garbage.
    pub async fn open_fields(
        &self,
        store: &Store,
        team: &TeamId,
        connection: &ConnectionId,
        blobs: &[(String, Vec<u8>)],
    ) -> ServiceResult<HashMap<String, SecretString>> {
        self.ring()?;
        let mut out = HashMap::with_capacity(blobs.len());
        for (field, blob) in blobs {
            let key_id = patchbay_vault::blob_key_id(blob).map_err(vault_internal)?;
            let dek = self.data_key(store, team, key_id).await?;
            let aad = FieldAad { team: team.as_str(), connection: connection.as_str(), field };
            let value = patchbay_vault::open_string(&dek, &aad, blob).map_err(|e| {
                ServiceError::Internal(format!(
                    "stored secret `{field}` of connection {connection} failed to decrypt: {e}"
                ))
            })?;
            out.insert(field.clone(), value);
        }
        Ok(out)
    }

    /// Fails with [`ServiceError::Sealed`] when secrets are sealed.
    pub fn require_unsealed(&self) -> ServiceResult<()> {
        self.ring().map(|_| ())
    }

    /// Key ring facts for `keys status`.
    pub async fn status(&self, store: &Store) -> ServiceResult<KeyStatus> {
        let keys = store.all_team_keys().await.map_err(store_err)?;
        let mut by_version: Vec<(u32, usize)> = Vec::new();
        for k in &keys {
            match by_version.iter_mut().find(|(v, _)| *v == k.master_version) {
                Some((_, n)) => *n += 1,
                None => by_version.push((k.master_version, 1)),
            }
        }
        by_version.sort();
        let (versions, active) = match self.ring() {
            Ok(r) => (r.versions(), Some(r.active_version())),
            Err(_) => (Vec::new(), None),
        };
        Ok(KeyStatus {
            sealed: self.sealed_reason(),
            source: match &self.source {
                KeySource::File(p) => format!("file {}", p.display()),
                KeySource::Env(_) => "PATCHBAY_MASTER_KEY".to_owned(),
            },
            versions,
            active_version: active,
            data_keys_by_version: by_version,
        })
    }

    /// Checks that a key file (e.g. a backup) holds every master-key version this database uses and
    /// that each decrypts its check value (docs/security.md S-10). Returns the versions checked.
    pub async fn verify_key_file(&self, store: &Store, path: &std::path::Path) -> ServiceResult<Vec<u32>> {
        let ring = MasterKeyRing::load_file(path).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let checks = check_ring(store, &ring).await.map_err(ServiceError::Invalid)?;
        if checks.is_empty() {
            return Err(ServiceError::Invalid(
                "this database has no master-key check value yet: start it once first".into(),
            ));
        }
        Ok(checks.into_iter().map(|(v, _)| v).collect())
    }

    /// Writes a copy of the key file to `dest` (created 0600, never overwritten) and verifies the
    /// copy against the database before reporting success.
    pub async fn backup(&self, store: &Store, dest: &std::path::Path) -> ServiceResult<Vec<u32>> {
        let ring = self.ring()?;
        ring.create_file(dest).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        self.verify_key_file(store, dest).await
    }

    /// Adds a master-key version, re-wraps every data key under it and retires versions that are
    /// neither active nor the previous one and that no data key uses.
    pub async fn rotate(&self, store: &Store, now: OffsetDateTime) -> ServiceResult<RotationReport> {
        let KeySource::File(path) = &self.source else {
            return Err(ServiceError::Invalid(
                "key rotation needs a key file: set PATCHBAY_MASTER_KEY_FILE instead of PATCHBAY_MASTER_KEY".into(),
            ));
        };
        // One rotation at a time: an advisory lock on `<key file>.lock`, released when the
        // handle drops (also when the process dies), so two runs cannot interleave.
        let _lock = rotation_lock(path)?;
        let mut ring = (*self.ring()?).clone();
        let new_version = ring.add_version().map_err(vault_internal)?;
        // The file first: if anything below fails, the new version is already safe on disk.
        ring.write_file(path).map_err(vault_internal)?;
        let check = ring.key_check(new_version).map_err(vault_internal)?;
        store.insert_key_check(new_version, &check, now).await.map_err(store_err)?;
        let mut rewrapped = 0;
        for row in store.all_team_keys().await.map_err(store_err)? {
            if row.master_version == new_version {
                continue;
            }
            let old = WrappedKey { master_version: row.master_version, blob: row.wrapped.clone() };
            let new = ring.rewrap(row.team_id.as_str(), row.key_id, &old).map_err(vault_internal)?;
            let updated = TeamKeyRow { master_version: new.master_version, wrapped: new.blob, ..row.clone() };
            if store.rewrap_team_key(&updated, row.master_version).await.map_err(store_err)? {
                rewrapped += 1;
            }
        }
        let in_use: Vec<u32> =
            store.all_team_keys().await.map_err(store_err)?.iter().map(|k| k.master_version).collect();
        let mut retired = Vec::new();
        for version in ring.versions() {
            // Keep the previous version: a node that has not re-read the file yet may still wrap with it.
            if version + 1 < new_version && !in_use.contains(&version) {
                ring.retire(version).map_err(vault_internal)?;
                retired.push(version);
            }
        }
        if !retired.is_empty() {
            ring.write_file(path).map_err(vault_internal)?;
            for v in &retired {
                store.delete_key_check(*v).await.map_err(store_err)?;
            }
        }
        *self.state.write().expect("key state lock") =
            KeyState::Unsealed { ring: Arc::new(ring), file_mtime: mtime(path) };
        Ok(RotationReport { new_version, rewrapped, retired })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_rotations_cannot_hold_the_lock_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("master.key");
        let first = rotation_lock(&key).unwrap();
        let second = rotation_lock(&key).unwrap_err();
        assert!(
            matches!(&second, ServiceError::Conflict(m) if m.contains("another `patchbay keys rotate`")),
            "{second:?}"
        );
        drop(first);
        assert!(rotation_lock(&key).is_ok(), "released when the first run ends");
    }
}
