//! Secret canaries and leak scans: make a unique, recognisable secret, put it through Patchbay,
//! then prove it appears in no file (database, WAL, logs) — neither raw nor hex/base64-encoded.

use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// A unique secret string, `CANARY-<label>-<32 hex>`, to use as an API key, password or token.
///
/// The hex part is 128 bits from the standard library's randomly seeded hasher plus a process-wide
/// counter, so two canaries never collide within a test run.
pub fn canary(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let a = RandomState::new().hash_one((n, nanos, std::process::id()));
    let b = RandomState::new().hash_one((a, n));
    format!("CANARY-{label}-{a:016x}{b:016x}")
}

/// Every regular file under `dir` (recursively) whose bytes contain `needle` exactly.
///
/// Unreadable entries are skipped; symlinks are not followed.
pub fn scan_dir_for(dir: impl AsRef<Path>, needle: impl AsRef<[u8]>) -> Vec<PathBuf> {
    let needle = needle.as_ref();
    scan(dir.as_ref(), &[needle.to_vec()])
}

/// Like [`scan_dir_for`], but also finds `needle` hex-encoded (both cases), base64-encoded
/// (standard and URL-safe alphabets, at any byte alignment) and as UTF-16LE: a secret stored
/// merely encoded is still a leak.
pub fn scan_dir_for_encoded(dir: impl AsRef<Path>, needle: impl AsRef<[u8]>) -> Vec<PathBuf> {
    scan(dir.as_ref(), &encodings_of(needle.as_ref()))
}

/// The byte strings [`scan_dir_for_encoded`] looks for: `needle` itself and its encodings.
pub fn encodings_of(needle: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![needle.to_vec()];
    let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
    out.push(hex.to_uppercase().into_bytes());
    out.push(hex.into_bytes());
    for engine in [&base64::engine::general_purpose::STANDARD_NO_PAD, &base64::engine::general_purpose::URL_SAFE_NO_PAD]
    {
        for prefix in 0..3usize {
            // With `prefix` unknown bytes before the needle, base64 characters
            // ceil(8*prefix/6) .. floor(8*(prefix+len)/6) depend on the needle alone.
            let mut padded = vec![0u8; prefix];
            padded.extend_from_slice(needle);
            let encoded = engine.encode(&padded).into_bytes();
            let start = (8 * prefix).div_ceil(6);
            let end = (8 * (prefix + needle.len())) / 6;
            if end > start + 4 {
                out.push(encoded[start..end].to_vec());
            }
        }
    }
    out.push(needle.iter().flat_map(|&b| [b, 0]).collect());
    out.sort();
    out.dedup();
    out
}

fn scan(dir: &Path, needles: &[Vec<u8>]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        } else if meta.is_file()
            && let Ok(bytes) = std::fs::read(&path)
            && needles.iter().any(|n| contains(&bytes, n))
        {
            hits.push(path);
        }
    }
    hits.sort();
    hits
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_are_unique_and_labelled() {
        let a = canary("key");
        let b = canary("key");
        assert_ne!(a, b);
        assert!(a.starts_with("CANARY-key-"));
        assert_eq!(a.len(), "CANARY-key-".len() + 32);
    }

    #[test]
    fn scan_finds_raw_and_encoded_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let secret = canary("scan");
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("xy{secret}z"));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("raw.log"), format!("before {secret} after")).unwrap();
        std::fs::write(dir.path().join("sub/enc.db"), format!("..{b64}..")).unwrap();
        std::fs::write(dir.path().join("clean.db"), "nothing here").unwrap();

        assert_eq!(scan_dir_for(dir.path(), &secret), vec![dir.path().join("raw.log")]);
        assert_eq!(
            scan_dir_for_encoded(dir.path(), &secret),
            vec![dir.path().join("raw.log"), dir.path().join("sub/enc.db")]
        );
        assert!(scan_dir_for_encoded(dir.path(), canary("other")).is_empty());
    }

    #[test]
    fn base64_fragments_match_every_alignment() {
        let secret = b"CANARY-align-0123456789abcdef";
        for prefix in 0..3 {
            let mut data = vec![b'#'; prefix];
            data.extend_from_slice(secret);
            data.extend_from_slice(b"!!");
            let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
            assert!(encodings_of(secret).iter().any(|n| contains(encoded.as_bytes(), n)), "prefix {prefix}");
        }
    }
}
