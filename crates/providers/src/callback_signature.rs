//! A provider's signature of its own callback (Shopify's `hmac`): the proof that the redirect
//! back came from the provider, so the shop (or tenant) it names is the one the user approved
//! and not one an attacker pasted into the address.
//!
//! The scheme is Shopify's documented one: every callback parameter except the signature,
//! sorted by name, joined as `name=value&…` (a `%` or `&` inside a name or value written as
//! `%25` / `%26`, a `=` inside a name as `%3D`), HMAC-SHA256 under the app's client secret, in
//! lower-case hex. Compared in constant time.

use std::collections::BTreeMap;

use aws_lc_rs::hmac;
use secrecy::{ExposeSecret, SecretString};

/// The message the signature covers: `params` without `signature_param`, in name order.
fn signed_message(params: &BTreeMap<String, String>, signature_param: &str) -> String {
    let escape = |s: &str, name: bool| {
        let s = s.replace('%', "%25").replace('&', "%26");
        if name { s.replace('=', "%3D") } else { s }
    };
    params
        .iter()
        .filter(|(k, _)| k.as_str() != signature_param)
        .map(|(k, v)| format!("{}={}", escape(k, true), escape(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks the callback's signature. The error is a sentence for the landing page; it never
/// shows the signature or the secret.
pub fn check(
    provider_name: &str,
    signature_param: &str,
    params: &BTreeMap<String, String>,
    client_secret: Option<&SecretString>,
) -> Result<(), String> {
    let Some(secret) = client_secret else {
        return Err(format!(
            "{provider_name} signs its callback with the app's client secret, and this connection's app has none: set the client secret and start again"
        ));
    };
    let Some(given) = params.get(signature_param) else {
        return Err(format!(
            "{provider_name} sent no `{signature_param}` signature with the authorization, so it cannot be trusted: start again"
        ));
    };
    let Some(given) = decode_hex(given) else {
        return Err(format!("the `{signature_param}` signature from {provider_name} is malformed: start again"));
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes());
    // `verify` compares in constant time.
    hmac::verify(&key, signed_message(params, signature_param).as_bytes(), &given).map_err(|_| {
        format!(
            "the callback's `{signature_param}` signature does not match {provider_name}'s: the authorization was refused and nothing was stored; start again"
        )
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// Shopify's documented example (secret `hush`), with and without `state`.
    #[test]
    fn shopifys_documented_examples_verify() {
        let secret = SecretString::from("hush");
        let plain = params(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("hmac", "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"),
            ("shop", "some-shop.myshopify.com"),
            ("timestamp", "1337178173"),
        ]);
        assert_eq!(check("Shopify", "hmac", &plain, Some(&secret)), Ok(()));
        let mut with_state = plain.clone();
        with_state.insert("state".into(), "0.6784241404160823".into());
        with_state.insert("hmac".into(), "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf".into());
        assert_eq!(check("Shopify", "hmac", &with_state, Some(&secret)), Ok(()));
    }

    #[test]
    fn a_changed_parameter_a_wrong_secret_or_a_missing_signature_is_refused() {
        let secret = SecretString::from("hush");
        let good = params(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("hmac", "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"),
            ("shop", "some-shop.myshopify.com"),
            ("timestamp", "1337178173"),
        ]);
        let mut other_shop = good.clone();
        other_shop.insert("shop".into(), "attacker.myshopify.com".into());
        let err = check("Shopify", "hmac", &other_shop, Some(&secret)).unwrap_err();
        assert!(err.contains("does not match") && !err.contains("4712bf92"), "{err}");
        assert!(check("Shopify", "hmac", &good, Some(&SecretString::from("other"))).is_err());
        let mut unsigned = good.clone();
        unsigned.remove("hmac");
        assert!(check("Shopify", "hmac", &unsigned, Some(&secret)).unwrap_err().contains("sent no `hmac`"));
        let mut short = good.clone();
        short.insert("hmac".into(), "abc".into());
        assert!(check("Shopify", "hmac", &short, Some(&secret)).unwrap_err().contains("malformed"));
        assert!(check("Shopify", "hmac", &good, None).unwrap_err().contains("has none"));
    }

    #[test]
    fn separators_inside_names_and_values_are_escaped_as_documented() {
        let p = params(&[("a=b", "1&2"), ("c", "50%"), ("hmac", "x")]);
        assert_eq!(signed_message(&p, "hmac"), "a%3Db=1%262&c=50%25");
    }
}
