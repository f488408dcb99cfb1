//! The two error types of catalog loading: one [`CatalogError`] per problem (file, line, field,
//! message, displayed as `file:line: field: message`) and [`CatalogErrors`], all of them at once.

use std::fmt;

/// One problem in one provider file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    /// The file (a path, or `builtin:<name>` for the embedded catalog).
    pub file: String,
    /// 1-based line of the offending key, when known.
    pub line: Option<usize>,
    /// The field, as a dotted path (`verify.account`, `modules.create_post.scopes`).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file, line, self.field, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.field, self.message),
        }
    }
}

impl std::error::Error for CatalogError {}

/// Every problem found while loading a catalog, one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogErrors(pub Vec<CatalogError>);

impl CatalogErrors {
    /// The individual errors.
    pub fn errors(&self) -> &[CatalogError] {
        &self.0
    }
}

impl fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CatalogErrors {}

impl From<Vec<CatalogError>> for CatalogErrors {
    fn from(v: Vec<CatalogError>) -> Self {
        CatalogErrors(v)
    }
}

impl IntoIterator for CatalogErrors {
    type Item = CatalogError;
    type IntoIter = std::vec::IntoIter<CatalogError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
