//! The master key ring: versioned key-encryption keys (KEKs), their key file, and key-check values.
//!
//! Owns parsing and writing the key-ring file (format in the crate docs), choosing the active
//! version (the highest), adding and retiring versions, and the S-08 key-check value that lets
//! the service prove a key matches its database before touching any data. Wrapping data keys
//! under the ring lives in [`crate::datakey`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

use crate::aead::FORMAT_VERSION;
use crate::aead::{self, AadBuilder};
use crate::error::{KeyRingProblem, VaultError};
use crate::keybytes::KeyBytes;

/// Length in bytes of every master key (AES-256).
pub const KEY_LEN: usize = crate::keybytes::KEY_LEN;

/// Standard alphabet; padding optional on input because hand-made keys often drop it.
const B64_IN: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const B64_OUT: GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Origin label for errors about the environment value (it has no path).
const ENV_ORIGIN: &str = "PATCHBAY_MASTER_KEY";

/// Label and plaintext of the key-check value. The plaintext is public: the check proves only
/// that the key decrypts what it encrypted, which the GCM tag already does.
const KEY_CHECK_LABEL: &str = "patchbay key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"patchbay key-check v1";

/// The master key ring: one 32-byte KEK per version, the highest version active.
///
/// Always holds at least one version. `Debug` shows version numbers only; key bytes are
/// zeroized on drop.
#[derive(Clone)]
pub struct MasterKeyRing {
    keys: BTreeMap<u32, KeyBytes>,
}

impl fmt::Debug for MasterKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeyRing")
            .field("versions", &self.versions())
            .field("active", &self.active_version())
            .field("keys", &"[REDACTED]")
            .finish()
    }
}

impl MasterKeyRing {
    /// A new ring with one freshly generated key as version 1.
    pub fn generate() -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(1, KeyBytes::generate());
        Self { keys }
    }

    /// Loads a key-ring file.
    ///
    /// A missing file is [`VaultError::KeyFileMissing`] (never a reason to generate a key: the
    /// caller decides whether this is a first start). Malformed content names the line and the
    /// problem, never the content.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self, VaultError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(fs::read(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => VaultError::KeyFileMissing { path: path.to_owned() },
            _ => VaultError::KeyFileIo { action: "read", path: path.to_owned(), cause: e },
        })?);
        let origin = format!("master key file {}", path.display());
        let text = std::str::from_utf8(&bytes).map_err(|e| VaultError::MalformedKeyRing {
            line: 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count(),
            origin: origin.clone(),
            problem: KeyRingProblem::NotText,
        })?;
        Self::parse(text, &origin)
    }

    /// Parses the value of `PATCHBAY_MASTER_KEY`: one bare base64 32-byte key (version 1), or
    /// the key-ring file format.
    pub fn from_env_value(value: &str) -> Result<Self, VaultError> {
        Self::parse(value, ENV_ORIGIN)
    }

    fn parse(text: &str, origin: &str) -> Result<Self, VaultError> {
        let malformed =
            |line: usize, problem| VaultError::MalformedKeyRing { origin: origin.to_owned(), line, problem };
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .collect();

        // A lone line without `:` is a bare key (as `openssl rand -base64 32` prints); base64
        // never contains `:`, so this cannot misread a versioned line.
        if let [(line, only)] = lines[..]
            && !only.contains(':')
        {
            let key = decode_key(only).map_err(|p| malformed(line, p))?;
            return Ok(Self { keys: BTreeMap::from([(1, key)]) });
        }

        let mut keys = BTreeMap::new();
        for (line, l) in lines {
            let (label, b64) = l.split_once(':').ok_or_else(|| malformed(line, KeyRingProblem::NotVersioned))?;
            let digits = label.trim().strip_prefix('v').ok_or_else(|| malformed(line, KeyRingProblem::NotVersioned))?;
            let version = parse_version(digits).ok_or_else(|| malformed(line, KeyRingProblem::BadVersion))?;
            let key = decode_key(b64.trim()).map_err(|p| malformed(line, p))?;
            if keys.insert(version, key).is_some() {
                return Err(malformed(line, KeyRingProblem::DuplicateVersion(version)));
            }
        }
        if keys.is_empty() {
            return Err(VaultError::EmptyKeyRing { origin: origin.to_owned() });
        }
        Ok(Self { keys })
    }

    /// Version numbers present, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// The version new data keys are wrapped under: the highest present.
    pub fn active_version(&self) -> u32 {
        // The constructors never build an empty ring and `retire` never removes the active key.
        *self.keys.keys().next_back().expect("a key ring is never empty")
    }

    /// Whether `version` is in the ring.
    pub fn has_version(&self, version: u32) -> bool {
        self.keys.contains_key(&version)
    }

    /// Adds a freshly generated key as the new active version and returns its number.
    ///
    /// Only changes this in-memory ring; persist it with [`write_file`](Self::write_file) before
    /// wrapping anything under the new version.
    pub fn add_version(&mut self) -> Result<u32, VaultError> {
        let version = self.active_version().checked_add(1).ok_or(VaultError::VersionsExhausted)?;
        self.keys.insert(version, KeyBytes::generate());
        Ok(version)
    }

    /// Removes an old, non-active version.
    ///
    /// Call only once no wrapped data key references it (docs/security.md E-3): anything still
    /// wrapped under it becomes unrecoverable.
    pub fn retire(&mut self, version: u32) -> Result<(), VaultError> {
        if version == self.active_version() {
            return Err(VaultError::CannotRetireActive { version });
        }
        self.keys.remove(&version).map(drop).ok_or(VaultError::MissingMasterKeyVersion { version })
    }

    pub(crate) fn key(&self, version: u32) -> Result<&KeyBytes, VaultError> {
        self.keys.get(&version).ok_or(VaultError::MissingMasterKeyVersion { version })
    }

    pub(crate) fn active_key(&self) -> (u32, &KeyBytes) {
        let (v, k) = self.keys.iter().next_back().expect("a key ring is never empty");
        (*v, k)
    }

    /// The key-check value for `version` (S-08): a known constant sealed under that KEK.
    ///
    /// The service stores one per version and checks it with
    /// [`verify_key_check`](Self::verify_key_check) before unsealing.
    pub fn key_check(&self, version: u32) -> Result<Vec<u8>, VaultError> {
        let key = self.key(version)?;
        Ok(aead::seal(key.expose(), &key_check_aad(version), &[FORMAT_VERSION], KEY_CHECK_PLAINTEXT))
    }

    /// Checks a stored key-check value against this ring.
    ///
    /// [`VaultError::MissingMasterKeyVersion`] if the version is absent,
    /// [`VaultError::WrongMasterKey`] if the key does not decrypt it,
    /// [`VaultError::CorruptKeyCheck`] if the value is not well-formed.
    pub fn verify_key_check(&self, version: u32, check: &[u8]) -> Result<(), VaultError> {
        let key = self.key(version)?;
        let Some((&FORMAT_VERSION, sealed)) = check.split_first() else {
            return Err(VaultError::CorruptKeyCheck { version });
        };
        match aead::open(key.expose(), &key_check_aad(version), sealed) {
            Some(pt) if pt[..] == *KEY_CHECK_PLAINTEXT => Ok(()),
            // A tag failure is indistinguishable from a flipped stored bit; "wrong key" is by
            // far the likelier cause, and either way the right answer is to stay sealed.
            _ => Err(VaultError::WrongMasterKey { version }),
        }
    }

    /// Creates a new key-ring file with mode 0600, refusing to overwrite anything.
    ///
    /// The content is written and synced to a temporary file first, then hard-linked into
    /// place (which fails if `path` exists), so a crash never leaves a half-written key file.
    /// Filesystems without hard links fall back to `create_new` on the final path.
    pub fn create_file(&self, path: impl AsRef<Path>) -> Result<(), VaultError> {
        let path = path.as_ref();
        let exists = || VaultError::KeyFileExists { path: path.to_owned() };
        if fs::symlink_metadata(path).is_ok() {
            return Err(exists());
        }
        let content = self.to_file_text();
        let tmp = write_temp(path, content.as_bytes())?;
        let linked = fs::hard_link(&tmp, path);
        // The temp name is only a staging area; losing it on error changes nothing.
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(_) => {
                let mut file = new_private_file(path).map_err(|e| match e.kind() {
                    io::ErrorKind::AlreadyExists => exists(),
                    _ => io_err("create", path, e),
                })?;
                if let Err(e) = file.write_all(content.as_bytes()).and_then(|()| file.sync_all()) {
                    // Do not leave a truncated key file that a later start would trip over.
                    let _ = fs::remove_file(path);
                    return Err(io_err("write", path, e));
                }
            }
        }
        sync_parent(path);
        Ok(())
    }

    /// Writes the ring to `path`, atomically replacing any existing file (temp file + rename,
    /// mode 0600). Used after [`add_version`](Self::add_version) / [`retire`](Self::retire) and
    /// for `keys backup`.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<(), VaultError> {
        let path = path.as_ref();
        let content = self.to_file_text();
        let tmp = write_temp(path, content.as_bytes())?;
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(io_err("replace", path, e));
        }
        sync_parent(path);
        Ok(())
    }

    /// The key-ring file text, in a zeroizing buffer.
    fn to_file_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(self.keys.len() * 60));
        for (v, k) in &self.keys {
            let b64 = Zeroizing::new(B64_OUT.encode(k.expose()));
            out.push_str(&format!("v{v}:"));
            out.push_str(&b64);
            out.push('\n');
        }
        out
    }
}

fn key_check_aad(version: u32) -> Vec<u8> {
    AadBuilder::new().str(KEY_CHECK_LABEL).u8(FORMAT_VERSION).u32(version).finish()
}

fn parse_version(digits: &str) -> Option<u32> {
    // Digits only: `u32::from_str` would also accept a leading `+`.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().filter(|&v| v >= 1)
}

fn decode_key(b64: &str) -> Result<KeyBytes, KeyRingProblem> {
    // The decode error is dropped unseen: base64's error names the offending byte, which is
    // key material.
    let bytes = Zeroizing::new(B64_IN.decode(b64).map_err(|_| KeyRingProblem::NotBase64)?);
    KeyBytes::from_slice(&bytes).ok_or(KeyRingProblem::WrongLength { len: bytes.len() })
}

fn io_err(action: &'static str, path: &Path, cause: io::Error) -> VaultError {
    VaultError::KeyFileIo { action, path: path.to_owned(), cause }
}

fn new_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Set at creation, not chmod afterwards, so the key is never readable by others even
        // for an instant.
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes `content` to a fresh 0600 temp file next to `path` (same filesystem, so a rename or
/// link is atomic) and syncs it. Returns the temp path.
fn write_temp(path: &Path, content: &[u8]) -> Result<PathBuf, VaultError> {
    let name = path
        .file_name()
        .ok_or_else(|| io_err("write", path, io::Error::new(io::ErrorKind::InvalidInput, "path has no file name")))?;
    let suffix = patchbay_domain::random::hex(&patchbay_domain::random::bytes::<8>());
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{suffix}"));
    let tmp = path.with_file_name(tmp_name);

    let mut file = new_private_file(&tmp).map_err(|e| io_err("create a temporary", &tmp, e))?;
    if let Err(e) = file.write_all(content).and_then(|()| file.sync_all()) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("write", &tmp, e));
    }
    Ok(tmp)
}

/// Makes the new directory entry durable. Best effort: some filesystems refuse to fsync a
/// directory, and the file content itself is already synced.
fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
