//! `VaultError`: every way the vault can refuse, each with a message that says what to do.
//!
//! No variant carries key material, plaintext or the text of a key file line: a message may end
//! up in logs, an HTTP body or a support bundle (S-05), so malformed input is described by line
//! number and kind only.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Errors from the key ring, key files, key wrapping and field encryption.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The master key file does not exist.
    #[error(
        "master key file {} not found: restore it from your backup, or point PATCHBAY_MASTER_KEY_FILE or PATCHBAY_MASTER_KEY at the right key; Patchbay will not create a new key for an existing database",
        path.display()
    )]
    KeyFileMissing {
        /// The path that was looked up.
        path: PathBuf,
    },

    /// [`MasterKeyRing::create_file`](crate::MasterKeyRing::create_file) found a file already there.
    #[error(
        "master key file {} already exists; refusing to overwrite it, since replacing a key makes every secret encrypted under it unreadable: load the existing file instead, or move it away first if you really mean to replace it",
        path.display()
    )]
    KeyFileExists {
        /// The path that already exists.
        path: PathBuf,
    },

    /// Reading or writing a key file failed at the OS level.
    #[error("cannot {action} master key file {}: {cause}; check the path, its permissions and free space", path.display())]
    KeyFileIo {
        /// What was being done ("read", "write", ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The OS error (never contains key material).
        cause: io::Error,
    },

    /// A key file or environment value is not a well-formed key ring.
    #[error(
        "{origin}, line {line}: {problem}; expected one `v<N>:<base64 of 32 bytes>` line per key version (or a single base64 key): restore the key file from your backup"
    )]
    MalformedKeyRing {
        /// Where the text came from: a file path or `PATCHBAY_MASTER_KEY`.
        origin: String,
        /// 1-based line number of the offending line.
        line: usize,
        /// What is wrong with it.
        problem: KeyRingProblem,
    },

    /// A key file or environment value contains no key at all.
    #[error(
        "{origin} contains no master key: restore the key file from your backup, or set PATCHBAY_MASTER_KEY; Patchbay will not create a new key for an existing database"
    )]
    EmptyKeyRing {
        /// Where the text came from: a file path or `PATCHBAY_MASTER_KEY`.
        origin: String,
    },

    /// The key-check value does not decrypt under this master key version (S-08).
    #[error(
        "the master key (version {version}) does not match this database: restore the right key file or set PATCHBAY_MASTER_KEY; Patchbay will not create a new key for an existing database"
    )]
    WrongMasterKey {
        /// The master key version whose check failed.
        version: u32,
    },

    /// The key ring lacks a version the data needs (S-08, S-10).
    #[error(
        "master key version {version} is not in the key ring but this database needs it: restore the key file (or backup) that contains v{version}; Patchbay will not create a new key for an existing database"
    )]
    MissingMasterKeyVersion {
        /// The version that was asked for.
        version: u32,
    },

    /// A stored key-check value is not even well-formed (truncated or an unknown format).
    #[error(
        "the stored key-check value for master key version {version} is corrupt: restore the database from backup, or re-create the key-check value only if you are certain the key is right"
    )]
    CorruptKeyCheck {
        /// The master key version the value belongs to.
        version: u32,
    },

    /// [`MasterKeyRing::retire`](crate::MasterKeyRing::retire) was asked to drop the active version.
    #[error(
        "master key version {version} is the active version and cannot be retired: add a new version and re-wrap every data key first"
    )]
    CannotRetireActive {
        /// The active version.
        version: u32,
    },

    /// The key ring already holds version `u32::MAX`.
    #[error("the key ring has no version numbers left after v{}: retire old versions into a fresh key file", u32::MAX)]
    VersionsExhausted,

    /// A wrapped data key does not open under the master key (wrong key, moved, or corrupted).
    #[error(
        "data key {key_id} cannot be unwrapped with master key version {master_version}: the master key does not match this database, or the wrapped key was moved to another team or corrupted; restore the right key file or set PATCHBAY_MASTER_KEY"
    )]
    Unwrap {
        /// The data key id that was being unwrapped.
        key_id: u32,
        /// The master key version it claims to be wrapped under.
        master_version: u32,
    },

    /// A field ciphertext could not be decrypted; no plaintext is returned (S-02).
    #[error("cannot decrypt a stored secret: {0}")]
    Decrypt(DecryptFailure),
}

/// Why a field ciphertext was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptFailure {
    /// Shorter than the fixed header plus tag.
    Truncated,
    /// The first byte names a format this build does not know.
    UnknownFormat(u8),
    /// The ciphertext names another data key than the one supplied.
    KeyMismatch {
        /// Key id written in the ciphertext.
        blob_key_id: u32,
        /// Key id of the data key supplied.
        key_id: u32,
    },
    /// The GCM tag did not verify.
    Authentication,
    /// The plaintext is not UTF-8 where a string was expected.
    NotUtf8,
}

impl fmt::Display for DecryptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("the ciphertext is truncated; restore the row from backup"),
            Self::UnknownFormat(v) => write!(
                f,
                "unknown ciphertext format version {v}; it was written by a newer Patchbay, or the row is corrupt"
            ),
            Self::KeyMismatch { blob_key_id, key_id } => write!(
                f,
                "the ciphertext was sealed with data key {blob_key_id}, not {key_id}; load the key named by the ciphertext"
            ),
            Self::Authentication => f.write_str(
                "authentication failed: the ciphertext was altered, moved to another team, connection or field, or sealed with a different data key",
            ),
            Self::NotUtf8 => f.write_str("the decrypted value is not UTF-8 text"),
        }
    }
}

/// What is wrong with one line of a key-ring file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRingProblem {
    /// The text is not UTF-8.
    NotText,
    /// The line does not start with `v<N>:` (and is not a lone bare key).
    NotVersioned,
    /// `<N>` is not a decimal number from 1 to 4294967295.
    BadVersion,
    /// The same version appears twice.
    DuplicateVersion(u32),
    /// The key is not valid standard base64.
    NotBase64,
    /// The key decodes to the wrong number of bytes.
    WrongLength {
        /// Number of bytes decoded (a length, never the bytes).
        len: usize,
    },
}

impl fmt::Display for KeyRingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotText => f.write_str("not UTF-8 text"),
            Self::NotVersioned => f.write_str("line does not start with `v<N>:`"),
            Self::BadVersion => f.write_str("version is not a whole number from 1 to 4294967295"),
            Self::DuplicateVersion(v) => write!(f, "version v{v} appears more than once"),
            Self::NotBase64 => f.write_str("key is not valid base64 (truncated or mangled?)"),
            Self::WrongLength { len } => {
                write!(f, "key is {len} bytes long, not 32 (truncated or not a Patchbay key?)")
            }
        }
    }
}
