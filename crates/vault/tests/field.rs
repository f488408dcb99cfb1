//! Field encryption: round trip, uniqueness, tamper/move/wrong-key/truncation rejection (S-01..S-04).

use std::collections::HashSet;

use patchbay_vault::{
    DataKey, DecryptFailure, FORMAT_VERSION, FieldAad, VaultError, blob_key_id, open, open_string, seal,
};
use proptest::prelude::*;
use secrecy::ExposeSecret;

const AAD: FieldAad<'static> = FieldAad { team: "team_a", connection: "conn_1", field: "refresh_token" };

fn plaintext64() -> Vec<u8> {
    (0..64u8).map(|i| b'A' + (i % 26)).collect()
}

fn is_decrypt_err<T>(r: Result<T, VaultError>) -> bool {
    matches!(r, Err(VaultError::Decrypt(_)))
}

#[test]
fn round_trip_bytes_and_string() {
    let dek = DataKey::generate(7);
    let blob = seal(&dek, &AAD, b"CANARY-token-123");
    assert_eq!(open(&dek, &AAD, &blob).unwrap().expose_secret().as_slice(), b"CANARY-token-123");
    assert_eq!(open_string(&dek, &AAD, &blob).unwrap().expose_secret(), "CANARY-token-123");
    // Empty values are legal too.
    let empty = seal(&dek, &AAD, b"");
    assert!(open(&dek, &AAD, &empty).unwrap().expose_secret().is_empty());
}

#[test]
fn layout_is_the_documented_one() {
    let dek = DataKey::generate(0x0102_0304);
    let pt = plaintext64();
    let blob = seal(&dek, &AAD, &pt);
    assert_eq!(blob.len(), 1 + 4 + 12 + pt.len() + 16);
    assert_eq!(blob[0], FORMAT_VERSION);
    assert_eq!(&blob[1..5], &[1, 2, 3, 4]);
    assert_eq!(blob_key_id(&blob).unwrap(), 0x0102_0304);
    // S-01: the plaintext does not appear in the stored bytes.
    assert!(!blob.windows(8).any(|w| pt.windows(8).any(|p| p == w)));
}

#[test]
fn same_plaintext_sealed_twice_differs() {
    let dek = DataKey::generate(1);
    let a = seal(&dek, &AAD, b"same");
    let b = seal(&dek, &AAD, b"same");
    assert_ne!(a, b);
    assert_ne!(a[5..17], b[5..17], "nonces must differ");
}

#[test]
fn nonces_do_not_repeat() {
    let dek = DataKey::generate(1);
    let mut seen = HashSet::new();
    for _ in 0..100_000 {
        let blob = seal(&dek, &AAD, b"x");
        assert!(seen.insert(blob[5..17].to_vec()), "nonce repeated");
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let dek = DataKey::generate(3);
    let blob = seal(&dek, &AAD, &plaintext64());
    for bit in 0..blob.len() * 8 {
        let mut bad = blob.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(is_decrypt_err(open(&dek, &AAD, &bad)), "bit {bit} flip was accepted");
    }
}

#[test]
fn moved_ciphertext_is_rejected() {
    let dek = DataKey::generate(1);
    let blob = seal(&dek, &AAD, b"secret");
    let elsewhere = [
        FieldAad { team: "team_b", ..AAD },
        FieldAad { connection: "conn_2", ..AAD },
        FieldAad { field: "access_token", ..AAD },
        // Shifting bytes between parts must not produce the same AAD.
        FieldAad { team: "team_", connection: "aconn_1", field: "refresh_token" },
        FieldAad { team: "team_a", connection: "conn_1refresh", field: "_token" },
    ];
    for aad in elsewhere {
        assert!(
            matches!(open(&dek, &aad, &blob), Err(VaultError::Decrypt(DecryptFailure::Authentication))),
            "{aad:?} accepted"
        );
    }
}

#[test]
fn wrong_data_key_is_rejected() {
    let dek = DataKey::generate(1);
    let blob = seal(&dek, &AAD, b"secret");
    // Same id, different key: the tag fails.
    let other = DataKey::generate(1);
    assert!(matches!(open(&other, &AAD, &blob), Err(VaultError::Decrypt(DecryptFailure::Authentication))));
    // Different id: refused before decrypting, with the id the caller should load.
    let other_id = DataKey::generate(2);
    assert!(matches!(
        open(&other_id, &AAD, &blob),
        Err(VaultError::Decrypt(DecryptFailure::KeyMismatch { blob_key_id: 1, key_id: 2 }))
    ));
}

#[test]
fn truncated_blobs_are_rejected() {
    let dek = DataKey::generate(1);
    let blob = seal(&dek, &AAD, &plaintext64());
    for n in 0..blob.len() {
        assert!(is_decrypt_err(open(&dek, &AAD, &blob[..n])), "truncation to {n} accepted");
    }
    assert!(is_decrypt_err(blob_key_id(&[])));
    assert!(is_decrypt_err(blob_key_id(&blob[..20])));
}

#[test]
fn unknown_format_version_is_a_hard_error() {
    let dek = DataKey::generate(1);
    let mut blob = seal(&dek, &AAD, b"secret");
    blob[0] = 2;
    assert!(matches!(blob_key_id(&blob), Err(VaultError::Decrypt(DecryptFailure::UnknownFormat(2)))));
    assert!(matches!(open(&dek, &AAD, &blob), Err(VaultError::Decrypt(DecryptFailure::UnknownFormat(2)))));
}

#[test]
fn non_utf8_is_an_error_for_open_string() {
    let dek = DataKey::generate(1);
    let blob = seal(&dek, &AAD, &[0xff, 0xfe]);
    assert!(matches!(open_string(&dek, &AAD, &blob), Err(VaultError::Decrypt(DecryptFailure::NotUtf8))));
    assert!(open(&dek, &AAD, &blob).is_ok());
}

#[test]
fn errors_and_debug_do_not_leak() {
    let dek = DataKey::generate(9);
    let blob = seal(&dek, &AAD, b"CANARY-plain");
    let err = open(&DataKey::generate(9), &AAD, &blob).unwrap_err();
    for text in [format!("{err:?}"), err.to_string(), format!("{dek:?}")] {
        assert!(!text.contains("CANARY"), "{text}");
    }
    assert_eq!(format!("{dek:?}"), "DataKey { id: 9, key: \"[REDACTED]\" }");
    let opened = open_string(&dek, &AAD, &blob).unwrap();
    assert!(!format!("{opened:?}").contains("CANARY"));
}

proptest! {
    #[test]
    fn prop_round_trip_and_binding(
        pt in proptest::collection::vec(any::<u8>(), 0..256),
        team in ".{0,12}", conn in ".{0,12}", field in ".{0,12}", other in ".{0,12}",
        id in any::<u32>(),
    ) {
        let dek = DataKey::generate(id);
        let aad = FieldAad { team: &team, connection: &conn, field: &field };
        let blob = seal(&dek, &aad, &pt);
        let opened = open(&dek, &aad, &blob).unwrap();
        prop_assert_eq!(opened.expose_secret(), &pt);
        prop_assert_eq!(blob_key_id(&blob).unwrap(), id);
        if other != team {
            let moved = FieldAad { team: &other, ..aad };
            prop_assert!(is_decrypt_err(open(&dek, &moved, &blob)));
        }
        if other != conn {
            let moved = FieldAad { connection: &other, ..aad };
            prop_assert!(is_decrypt_err(open(&dek, &moved, &blob)));
        }
        if other != field {
            let moved = FieldAad { field: &other, ..aad };
            prop_assert!(is_decrypt_err(open(&dek, &moved, &blob)));
        }
    }

    #[test]
    fn prop_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let dek = DataKey::generate(1);
        let _ = blob_key_id(&bytes);
        prop_assert!(open(&dek, &AAD, &bytes).is_err());
    }
}
