//! Sets of OAuth scopes: granted, required, missing and unused are all set arithmetic.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// An ordered set of scope names. Order is canonical (sorted) so equal sets compare and print equally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Splits a provider's scope string on the given separator (and on whitespace, which some
    /// providers use even when they declare a comma).
    pub fn parse(text: &str, separator: &str) -> Self {
        let sep = if separator.is_empty() { " " } else { separator };
        text.split(sep).flat_map(|part| part.split_whitespace()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    /// Joins the scopes with the provider's separator, for an authorize URL.
    pub fn join(&self, separator: &str) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join(separator)
    }

    /// Whether the set contains `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether the set has no scopes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Scopes in `self` that are not in `other`.
    pub fn difference(&self, other: &ScopeSet) -> ScopeSet {
        self.0.difference(&other.0).cloned().collect()
    }

    /// Scopes in either set.
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        self.0.union(&other.0).cloned().collect()
    }

    /// Iterates the scopes in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl FromIterator<String> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> FromIterator<&'a str> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        Self(iter.into_iter().map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_join_and_set_arithmetic() {
        let granted = ScopeSet::parse("b a  c", " ");
        assert_eq!(granted.join(","), "a,b,c");
        let required: ScopeSet = ["a", "d"].into_iter().collect();
        assert_eq!(required.difference(&granted).join(" "), "d");
        assert_eq!(granted.difference(&required).join(" "), "b c");
        assert_eq!(ScopeSet::parse("x,y", ",").len(), 2);
    }
}
