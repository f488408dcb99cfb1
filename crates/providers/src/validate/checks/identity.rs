//! Identity checks: the provider id and display name, and the declared settings (keys unique and
//! well-formed, labels present).

use std::collections::BTreeSet;

use patchbay_domain::provider::Provider;

use super::{Checker, Seg};
use crate::template;

impl Checker<'_> {
    pub(super) fn check_identity(&mut self, p: &Provider) {
        if !is_provider_id(&p.id) {
            self.err(
                &[Seg::Key("id")],
                "id",
                format!(
                    "`{}` is not a valid id: use lowercase letters, digits and inner hyphens \
                     ([a-z0-9-]+, at most 64 characters), e.g. `acme-crm`",
                    p.id
                ),
            );
        }
        if p.display_name.trim().is_empty() {
            self.err(&[Seg::Key("display_name")], "display_name", "must not be empty: it is the name users see");
        }
    }

    pub(super) fn check_settings(&mut self, p: &Provider) {
        let mut seen = BTreeSet::new();
        for (i, s) in p.settings.iter().enumerate() {
            let path = [Seg::Key("settings"), Seg::Item(i), Seg::Key("key")];
            if !template::is_setting_key(&s.key) {
                self.err(
                    &path,
                    format!("settings[{i}].key"),
                    format!("`{}` is not a valid setting key: use a-z, 0-9 and _ (e.g. `subdomain`)", s.key),
                );
            }
            if !seen.insert(s.key.as_str()) {
                self.err(&path, format!("settings[{i}].key"), format!("the setting `{}` is declared twice", s.key));
            }
            if s.label.trim().is_empty() {
                self.err(
                    &[Seg::Key("settings"), Seg::Item(i), Seg::Key("label")],
                    format!("settings[{i}].label"),
                    "must not be empty: it is the form label",
                );
            }
        }
    }
}

/// `[a-z0-9-]+`, no leading/trailing hyphen, at most 64 characters.
pub(super) fn is_provider_id(id: &str) -> bool {
    let b = id.as_bytes();
    (1..=64).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}
