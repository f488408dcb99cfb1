//! Patchbay's vault: the master key ring and envelope encryption of secret fields.
//!
//! The chain is: master key (KEK, [`MasterKeyRing`], from a file or `PATCHBAY_MASTER_KEY`) →
//! per-team data keys ([`DataKey`], stored only wrapped as [`WrappedKey`]) → one AES-256-GCM
//! ciphertext per secret field ([`seal`] / [`open`]). This crate does no database access: the caller
//! persists the bytes it returns. See docs/security.md, "Key hierarchy", and its checklist
//! S-01..S-10.
//!
//! # Byte formats
//!
//! All integers are big-endian. Every nonce is 96 fresh random bits (S-04). `‖` is concatenation;
//! `str(s)` is `len(s) as u64 BE ‖ s`, so two different field lists can never produce the same AAD.
//!
//! **Field ciphertext** ([`seal`], format 1, E-1):
//! `[0x01][key id u32][nonce 12][ciphertext (= plaintext length)][GCM tag 16]`, so 33 bytes of
//! overhead. AAD = `0x01 ‖ str(team) ‖ str(connection) ‖ str(field) ‖ key id u32` (S-03).
//! The key id is readable without any key ([`blob_key_id`]) so the caller knows which data key to load.
//!
//! **Wrapped data key** ([`WrappedKey::blob`], format 1), under master key version
//! [`WrappedKey::master_version`] (kept by the caller in its own column):
//! `[0x01][nonce 12][encrypted key 32][tag 16]` (61 bytes).
//! AAD = `str("patchbay data-key") ‖ 0x01 ‖ str(team) ‖ key id u32 ‖ master version u32`.
//!
//! **Key-check value** ([`MasterKeyRing::key_check`], format 1, S-08):
//! `[0x01][nonce 12][encrypted constant "patchbay key-check v1"][tag 16]`.
//! AAD = `str("patchbay key-check") ‖ 0x01 ‖ master version u32`.
//!
//! **Key-ring file**: UTF-8 text, one `v<N>:<standard base64 of 32 bytes>` line per version
//! (N ≥ 1, the highest is active); blank lines and `#` comments are ignored. A file or
//! environment value holding one bare base64 key is version 1.
//!
//! The distinct labels keep a key-check value, a wrapped key and a field ciphertext from ever
//! being accepted in place of one another.

mod aead;
mod datakey;
mod error;
mod field;
mod fingerprint;
mod keybytes;
mod master;

pub use aead::FORMAT_VERSION;
pub use datakey::{DataKey, WrappedKey};
pub use error::{DecryptFailure, KeyRingProblem, VaultError};
pub use field::{DATA_KEY_SEAL_LIMIT, FieldAad, blob_key_id, open, open_string, seal};
pub use fingerprint::hmac_fingerprint;
pub use master::{KEY_LEN, MasterKeyRing};
