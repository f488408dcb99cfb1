//! Masking credentials out of provider text before Patchbay keeps it (docs/security.md S-05).
//!
//! A provider's error text ends up in `last_verify`, `status_reason`, events, webhooks, the audit
//! trail and delete receipts. Some providers echo what they were sent, and not always verbatim:
//! upper-cased, base64-encoded, as the `Basic` header they received, or URL-encoded. A
//! [`Masker`] knows the secrets of one request and replaces each of those forms with
//! `[redacted]`. It owns the forms only; the callers (verify calls, the token endpoint,
//! revocation) decide which secrets a request carried.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};

/// What a masked form is replaced with.
pub const MASK: &str = "[redacted]";

/// Secrets shorter than this are not masked: they would mask ordinary words.
const MIN_LEN: usize = 4;

/// The secrets of one request, in every form a provider may echo them in. `Debug` is redacted
/// and the forms are zeroized on drop (they are the secrets themselves).
#[derive(Default)]
pub struct Masker {
    forms: Vec<SecretString>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Masker({} forms, [redacted])", self.forms.len())
    }
}

impl Masker {
    /// A masker for these secret values (empty and very short ones are skipped).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Masker {
        let mut masker = Masker::default();
        for secret in secrets {
            masker.add(secret);
        }
        masker
    }

    /// Adds one secret value in all its forms.
    pub fn add(&mut self, secret: &str) {
        if secret.len() < MIN_LEN {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(secret.as_bytes()));
        }
        forms.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
        forms.push(percent_encode_all(secret));
        self.forms.extend(forms.into_iter().map(SecretString::from));
    }

    /// Adds the `user:password` pair of a `Basic` header, as sent raw (RFC 7617) and with both
    /// parts form-urlencoded first (RFC 6749 §2.3.1, OAuth client authentication), so its
    /// base64 is masked as a whole; the password alone is added too.
    pub fn add_basic(&mut self, user: &str, password: &str) {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        self.add(&format!("{user}:{password}"));
        self.add(&format!("{}:{}", enc(user), enc(password)));
        self.add(password);
    }

    /// `text` with every form of every secret replaced by [`MASK`], matched ignoring ASCII case
    /// (an upper-cased echo, and hex digits of either case in URL-encoding).
    pub fn mask(&self, text: &str) -> String {
        let mut forms: Vec<&str> = self.forms.iter().map(|f| f.expose_secret()).collect();
        // Longest first, so a form that contains another is masked whole.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        let mut out = text.to_owned();
        for form in forms.into_iter().filter(|f| f.len() >= MIN_LEN) {
            out = replace_ignoring_case(&out, form);
        }
        out
    }
}

/// `text` with every secret masked in its common forms (see [`Masker`]); `secrets` may carry a
/// `username:password` pair, whose base64 is then the `Basic` header form.
pub fn mask_secrets(text: &str, secrets: &[String]) -> String {
    Masker::new(secrets.iter().map(String::as_str)).mask(text)
}

/// Every byte but unreserved ones percent-encoded (RFC 3986), upper-case hex.
fn percent_encode_all(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Replaces every ASCII-case-insensitive occurrence of `needle` with [`MASK`]. ASCII
/// lower-casing keeps byte offsets, so the positions found in the lowered text are valid in
/// the original.
fn replace_ignoring_case(haystack: &str, needle: &str) -> String {
    let (lower_h, lower_n) = (haystack.to_ascii_lowercase(), needle.to_ascii_lowercase());
    let mut out = String::with_capacity(haystack.len());
    let mut rest = 0;
    while let Some(found) = lower_h[rest..].find(&lower_n) {
        let at = rest + found;
        out.push_str(&haystack[rest..at]);
        out.push_str(MASK);
        rest = at + needle.len();
    }
    out.push_str(&haystack[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // 19 bytes: its base64 is padded and has a `/` (`_` in the URL-safe alphabet).
    const SECRET: &str = "sk_Live+Key/42?x=1?";

    /// Masks `echo` inside a sentence and checks that nothing of the secret is left.
    fn assert_masked(masker: &Masker, echo: &str) {
        let masked = masker.mask(&format!("invalid credential {echo} given"));
        assert_eq!(masked, format!("invalid credential {MASK} given"), "{echo}");
        assert!(!masked.to_lowercase().contains("sk_live"), "{echo}: {masked}");
    }

    #[test]
    fn the_exact_value_and_any_letter_case() {
        let m = Masker::new([SECRET]);
        for echo in [SECRET.to_owned(), SECRET.to_uppercase(), SECRET.to_lowercase(), "SK_live+kEY/42?X=1?".into()] {
            assert_masked(&m, &echo);
        }
    }

    #[test]
    fn base64_standard_and_url_safe_with_and_without_padding() {
        let m = Masker::new([SECRET]);
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            assert_masked(&m, &engine.encode(SECRET));
        }
        // The secret's base64 has both `+`/`/` and `-`/`_` variants and padding: all differ.
        assert_ne!(STANDARD.encode(SECRET), URL_SAFE.encode(SECRET));
        assert_ne!(STANDARD.encode(SECRET), STANDARD_NO_PAD.encode(SECRET));
    }

    #[test]
    fn the_basic_header_form_of_user_and_password() {
        let mut m = Masker::default();
        m.add_basic("client id", SECRET);
        assert_masked(&m, &STANDARD.encode(format!("client id:{SECRET}")));
        // RFC 6749 §2.3.1: OAuth clients form-urlencode both parts first.
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let header = STANDARD.encode(format!("{}:{}", enc("client id"), enc(SECRET)));
        let masked = m.mask(&format!("bad client: Basic {header}"));
        assert_eq!(masked, format!("bad client: Basic {MASK}"));
        assert_masked(&m, SECRET);
    }

    #[test]
    fn url_encoded_forms() {
        let m = Masker::new([SECRET]);
        let form: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        for echo in
            [form.clone(), form.to_lowercase(), percent_encode_all(SECRET), percent_encode_all(SECRET).to_lowercase()]
        {
            assert_masked(&m, &echo);
        }
    }

    #[test]
    fn secrets_are_masked_in_their_common_transformations() {
        let pair = format!("api:{SECRET}");
        let secrets = vec![SECRET.to_owned(), pair.clone()];
        let echoes = [
            SECRET.to_owned(),
            SECRET.to_uppercase(),
            STANDARD.encode(SECRET),
            URL_SAFE_NO_PAD.encode(SECRET),
            format!("Basic {}", STANDARD.encode(&pair)),
            url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect(),
            percent_encode_all(SECRET).to_lowercase(),
        ];
        for echo in echoes {
            let masked = mask_secrets(&format!("invalid credential {echo} given"), &secrets);
            assert!(masked.contains(MASK), "{echo}: {masked}");
            assert!(!masked.contains(&echo), "{echo}: {masked}");
            assert!(!masked.to_lowercase().contains("sk_live"), "{echo}: {masked}");
        }
        assert_eq!(mask_secrets("nothing here", &secrets), "nothing here");
    }

    #[test]
    fn short_secrets_and_other_text_are_left_alone() {
        let m = Masker::new(["abc", ""]);
        assert_eq!(m.mask("abc is fine"), "abc is fine");
        assert_eq!(format!("{:?}", Masker::new([SECRET])), "Masker(7 forms, [redacted])");
        // Non-ASCII text around a match keeps its characters.
        assert_eq!(Masker::new([SECRET]).mask(&format!("é{SECRET}ü")), format!("é{MASK}ü"));
    }
}
