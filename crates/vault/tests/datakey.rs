//! Data-key wrapping under the master key ring: binding, rewrap after rotation, fingerprints.

use patchbay_vault::{DataKey, FieldAad, MasterKeyRing, VaultError, WrappedKey, open, seal};
use secrecy::ExposeSecret;

const AAD: FieldAad<'static> = FieldAad { team: "team_a", connection: "conn_1", field: "api_key" };

#[test]
fn wrap_unwrap_round_trip_keeps_the_key() {
    let ring = MasterKeyRing::generate();
    let dek = DataKey::generate(4);
    let wrapped = ring.wrap_data_key("team_a", &dek);
    assert_eq!(wrapped.master_version, 1);
    assert_eq!(wrapped.blob.len(), 61);
    let back = ring.unwrap_data_key("team_a", 4, &wrapped).unwrap();
    assert_eq!(back.id(), 4);
    let blob = seal(&dek, &AAD, b"v");
    assert_eq!(open(&back, &AAD, &blob).unwrap().expose_secret().as_slice(), b"v");
}

#[test]
fn wrapped_key_moved_to_another_team_or_id_fails() {
    let ring = MasterKeyRing::generate();
    let wrapped = ring.wrap_data_key("team_a", &DataKey::generate(1));
    assert!(matches!(ring.unwrap_data_key("team_b", 1, &wrapped), Err(VaultError::Unwrap { .. })));
    assert!(matches!(ring.unwrap_data_key("team_a", 2, &wrapped), Err(VaultError::Unwrap { .. })));
    // A wrong master_version recorded next to the blob also fails.
    let mut ring2 = ring.clone();
    ring2.add_version().unwrap();
    let relabelled = WrappedKey { master_version: 2, ..wrapped.clone() };
    assert!(matches!(ring2.unwrap_data_key("team_a", 1, &relabelled), Err(VaultError::Unwrap { .. })));
}

#[test]
fn wrong_ring_tampering_and_truncation_fail() {
    let ring = MasterKeyRing::generate();
    let wrapped = ring.wrap_data_key("team_a", &DataKey::generate(1));
    let other = MasterKeyRing::generate();
    assert!(matches!(other.unwrap_data_key("team_a", 1, &wrapped), Err(VaultError::Unwrap { .. })));
    for bit in 0..wrapped.blob.len() * 8 {
        let mut bad = wrapped.clone();
        bad.blob[bit / 8] ^= 1 << (bit % 8);
        assert!(ring.unwrap_data_key("team_a", 1, &bad).is_err(), "bit {bit}");
    }
    for n in 0..wrapped.blob.len() {
        let short = WrappedKey { master_version: 1, blob: wrapped.blob[..n].to_vec() };
        assert!(ring.unwrap_data_key("team_a", 1, &short).is_err(), "len {n}");
    }
    let missing = WrappedKey { master_version: 9, ..wrapped };
    assert!(matches!(
        ring.unwrap_data_key("team_a", 1, &missing),
        Err(VaultError::MissingMasterKeyVersion { version: 9 })
    ));
}

#[test]
fn rewrap_after_add_version_uses_the_new_version_only() {
    let old_ring = MasterKeyRing::generate();
    let dek = DataKey::generate(1);
    let field = seal(&dek, &AAD, b"CANARY");
    let wrapped_v1 = old_ring.wrap_data_key("team_a", &dek);

    let mut ring = old_ring.clone();
    assert_eq!(ring.add_version().unwrap(), 2);
    let wrapped_v2 = ring.rewrap("team_a", 1, &wrapped_v1).unwrap();
    assert_eq!(wrapped_v2.master_version, 2);

    // The re-wrapped key opens with the new ring and still decrypts the untouched field.
    let dek2 = ring.unwrap_data_key("team_a", 1, &wrapped_v2).unwrap();
    assert_eq!(open(&dek2, &AAD, &field).unwrap().expose_secret().as_slice(), b"CANARY");
    // The old ring does not have v2.
    assert!(matches!(
        old_ring.unwrap_data_key("team_a", 1, &wrapped_v2),
        Err(VaultError::MissingMasterKeyVersion { version: 2 })
    ));
    // Once v1 is retired, only the re-wrapped copy opens.
    ring.retire(1).unwrap();
    assert!(ring.unwrap_data_key("team_a", 1, &wrapped_v1).is_err());
    assert!(ring.unwrap_data_key("team_a", 1, &wrapped_v2).is_ok());
}

#[test]
fn fingerprints_are_keyed_and_stable() {
    let dek = DataKey::generate(1);
    let a = dek.fingerprint(b"sk-live-CANARY");
    assert_eq!(a.len(), 16);
    assert_eq!(a, dek.clone().fingerprint(b"sk-live-CANARY"));
    assert_ne!(a, DataKey::generate(1).fingerprint(b"sk-live-CANARY"));
    assert_ne!(a, dek.fingerprint(b"sk-live-CANARY2"));
}

#[test]
fn debug_of_wrapped_key_is_short() {
    let ring = MasterKeyRing::generate();
    let wrapped = ring.wrap_data_key("t", &DataKey::generate(1));
    assert_eq!(format!("{wrapped:?}"), "WrappedKey { master_version: 1, blob_len: 61 }");
}
