//! Master key ring: parsing, key files (0600, no overwrite, atomic replace), versions,
//! key-check values (S-08) and redaction (S-05).

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use patchbay_vault::{KeyRingProblem, MasterKeyRing, VaultError};

/// base64 of bytes 0..32, and of 32 × 0xAA.
const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=";

fn assert_no_key(text: &str) {
    for key in [KEY_A, KEY_B, KEY_A.trim_end_matches('='), &KEY_A[..20], &KEY_B[..20]] {
        assert!(!text.contains(key), "key material in {text:?}");
    }
}

fn malformed(r: Result<MasterKeyRing, VaultError>) -> (usize, KeyRingProblem) {
    match r {
        Err(VaultError::MalformedKeyRing { line, problem, .. }) => (line, problem),
        other => panic!("expected MalformedKeyRing, got {other:?}"),
    }
}

#[test]
fn env_value_bare_key_is_version_1() {
    let ring = MasterKeyRing::from_env_value(KEY_A).unwrap();
    assert_eq!(ring.versions(), vec![1]);
    assert_eq!(ring.active_version(), 1);
    // Surrounding whitespace (a trailing newline from `$(cat file)`) and missing padding are fine.
    let loose = MasterKeyRing::from_env_value(&format!("  {}\n", KEY_A.trim_end_matches('='))).unwrap();
    loose.verify_key_check(1, &ring.key_check(1).unwrap()).unwrap();
}

#[test]
fn file_format_versions_and_active() {
    let text = format!("# patchbay master keys\nv1:{KEY_A}\n\nv3:{KEY_B}\n");
    let ring = MasterKeyRing::from_env_value(&text).unwrap();
    assert_eq!(ring.versions(), vec![1, 3]);
    assert_eq!(ring.active_version(), 3);
    assert!(ring.has_version(1) && !ring.has_version(2));
}

#[test]
fn malformed_rings_are_clear_errors_without_key_material() {
    let truncated = &KEY_A[..30];
    let cases: Vec<(String, usize, KeyRingProblem)> = vec![
        (truncated.to_owned(), 1, KeyRingProblem::NotBase64),
        (format!("v1:{truncated}"), 1, KeyRingProblem::NotBase64),
        (format!("v1:{}", &KEY_A[..40]), 1, KeyRingProblem::WrongLength { len: 30 }),
        (format!("v1:{KEY_A}\nv2:{KEY_B}x!"), 2, KeyRingProblem::NotBase64),
        (format!("v1:{KEY_A}AAAA"), 1, KeyRingProblem::NotBase64),
        ("v1:AAAA".to_owned(), 1, KeyRingProblem::WrongLength { len: 3 }),
        (format!("v1:{KEY_A}\nv1:{KEY_B}"), 2, KeyRingProblem::DuplicateVersion(1)),
        (format!("v1:{KEY_A}\n{KEY_B}"), 2, KeyRingProblem::NotVersioned),
        (format!("x1:{KEY_A}"), 1, KeyRingProblem::NotVersioned),
        (format!("v0:{KEY_A}"), 1, KeyRingProblem::BadVersion),
        (format!("v+1:{KEY_A}"), 1, KeyRingProblem::BadVersion),
        (format!("v99999999999:{KEY_A}"), 1, KeyRingProblem::BadVersion),
        (format!("v:{KEY_A}"), 1, KeyRingProblem::BadVersion),
        (format!("{}-{}", &KEY_A[..10], &KEY_A[11..]), 1, KeyRingProblem::NotBase64),
    ];
    for (text, line, problem) in cases {
        let result = MasterKeyRing::from_env_value(&text);
        if let Err(e) = &result {
            assert_no_key(&e.to_string());
            assert_no_key(&format!("{e:?}"));
            assert!(!e.to_string().contains(&text), "input echoed: {e}");
        }
        assert_eq!(malformed(result), (line, problem), "input {text:?}");
    }
    for empty in ["", "\n\n", "# only a comment\n"] {
        assert!(matches!(MasterKeyRing::from_env_value(empty), Err(VaultError::EmptyKeyRing { .. })));
    }
}

#[test]
fn malformed_file_errors_name_path_and_line_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    fs::write(&path, format!("v1:{KEY_A}\nv2:{}\n", &KEY_B[..30])).unwrap();
    let err = MasterKeyRing::load_file(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("master.key") && msg.contains("line 2"), "{msg}");
    assert_no_key(&msg);
    assert_no_key(&format!("{err:?}"));

    fs::write(&path, b"v1:\xff\xfe\n").unwrap();
    assert_eq!(malformed(MasterKeyRing::load_file(&path)), (1, KeyRingProblem::NotText));

    let missing = dir.path().join("nope.key");
    assert!(matches!(MasterKeyRing::load_file(&missing), Err(VaultError::KeyFileMissing { .. })));
}

#[test]
fn create_file_is_0600_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let ring = MasterKeyRing::generate();
    ring.create_file(&path).unwrap();
    #[cfg(unix)]
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let before = fs::read(&path).unwrap();
    let text = String::from_utf8(before.clone()).unwrap();
    assert!(text.starts_with("v1:") && text.ends_with('\n') && text.lines().count() == 1);

    let other = MasterKeyRing::generate();
    assert!(matches!(other.create_file(&path), Err(VaultError::KeyFileExists { .. })));
    assert_eq!(fs::read(&path).unwrap(), before, "existing key file was modified");
    // No temp files left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    let loaded = MasterKeyRing::load_file(&path).unwrap();
    loaded.verify_key_check(1, &ring.key_check(1).unwrap()).unwrap();
}

#[test]
fn create_file_refuses_dangling_symlink() {
    #[cfg(unix)]
    {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("master.key");
        std::os::unix::fs::symlink(dir.path().join("target.key"), &link).unwrap();
        assert!(matches!(MasterKeyRing::generate().create_file(&link), Err(VaultError::KeyFileExists { .. })));
        assert!(!dir.path().join("target.key").exists());
    }
}

#[test]
fn add_version_write_file_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let mut ring = MasterKeyRing::generate();
    ring.create_file(&path).unwrap();
    assert_eq!(ring.add_version().unwrap(), 2);
    assert_eq!(ring.add_version().unwrap(), 3);
    ring.write_file(&path).unwrap();
    #[cfg(unix)]
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    let loaded = MasterKeyRing::load_file(&path).unwrap();
    assert_eq!(loaded.versions(), vec![1, 2, 3]);
    assert_eq!(loaded.active_version(), 3);
    for v in 1..=3 {
        loaded.verify_key_check(v, &ring.key_check(v).unwrap()).unwrap();
    }
}

#[test]
fn retire_rules() {
    let mut ring = MasterKeyRing::generate();
    ring.add_version().unwrap();
    assert!(matches!(ring.retire(2), Err(VaultError::CannotRetireActive { version: 2 })));
    assert!(matches!(ring.retire(5), Err(VaultError::MissingMasterKeyVersion { version: 5 })));
    ring.retire(1).unwrap();
    assert_eq!(ring.versions(), vec![2]);
    // New versions keep counting up from the active one.
    assert_eq!(ring.add_version().unwrap(), 3);
}

#[test]
fn versions_exhausted_is_an_error_not_a_panic() {
    let mut ring = MasterKeyRing::from_env_value(&format!("v4294967295:{KEY_A}")).unwrap();
    assert!(matches!(ring.add_version(), Err(VaultError::VersionsExhausted)));
}

#[test]
fn key_check_detects_wrong_and_missing_keys() {
    let ring = MasterKeyRing::from_env_value(KEY_A).unwrap();
    let check = ring.key_check(1).unwrap();
    ring.verify_key_check(1, &check).unwrap();
    // Fresh nonce each time, both verify.
    let check2 = ring.key_check(1).unwrap();
    assert_ne!(check, check2);
    ring.verify_key_check(1, &check2).unwrap();

    let wrong = MasterKeyRing::from_env_value(KEY_B).unwrap();
    let err = wrong.verify_key_check(1, &check).unwrap_err();
    assert!(matches!(err, VaultError::WrongMasterKey { version: 1 }));
    assert!(err.to_string().contains("does not match this database"), "{err}");

    assert!(matches!(ring.verify_key_check(2, &check), Err(VaultError::MissingMasterKeyVersion { version: 2 })));
    assert!(matches!(ring.key_check(2), Err(VaultError::MissingMasterKeyVersion { version: 2 })));

    // A check value for v1 is not valid for v2 even under the same key bytes.
    let two = MasterKeyRing::from_env_value(&format!("v1:{KEY_A}\nv2:{KEY_A}")).unwrap();
    assert!(matches!(two.verify_key_check(2, &check), Err(VaultError::WrongMasterKey { version: 2 })));

    for n in 0..check.len() {
        assert!(ring.verify_key_check(1, &check[..n]).is_err(), "truncated to {n}");
    }
    assert!(matches!(ring.verify_key_check(1, &[]), Err(VaultError::CorruptKeyCheck { version: 1 })));
    let mut bad_format = check.clone();
    bad_format[0] = 9;
    assert!(matches!(ring.verify_key_check(1, &bad_format), Err(VaultError::CorruptKeyCheck { version: 1 })));
    for bit in 8..check.len() * 8 {
        let mut bad = check.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(matches!(ring.verify_key_check(1, &bad), Err(VaultError::WrongMasterKey { .. })), "bit {bit}");
    }
}

#[test]
fn debug_of_ring_is_redacted() {
    let ring = MasterKeyRing::from_env_value(&format!("v1:{KEY_A}\nv2:{KEY_B}")).unwrap();
    let dbg = format!("{ring:?}");
    assert_no_key(&dbg);
    assert_eq!(dbg, "MasterKeyRing { versions: [1, 2], active: 2, keys: \"[REDACTED]\" }");
    let dbg_alt = format!("{ring:#?}");
    assert_no_key(&dbg_alt);

    // A generated ring: read its key from the file it writes, then check Debug lacks it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let generated = MasterKeyRing::generate();
    generated.create_file(&path).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let b64 = text.trim().strip_prefix("v1:").unwrap();
    assert!(!format!("{generated:?}").contains(b64));
    assert!(!format!("{generated:?}").contains(&b64[..12]));
}
