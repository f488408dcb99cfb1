//! `docs/catalog.md` is the rendering of the built-in files: this test fails when it is stale,
//! and rewrites it when `PATCHBAY_UPDATE_CATALOG_DOC=1` is set.

use std::path::Path;

use patchbay_providers::Catalog;
use patchbay_providers::catalog_doc::{REGENERATE, render_markdown};

#[test]
fn catalog_doc_is_up_to_date() {
    // No environment: the page must not depend on which client variables this machine has.
    let catalog = Catalog::load(None, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    let want = render_markdown(catalog.list().map(AsRef::as_ref));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/catalog.md");
    if std::env::var_os("PATCHBAY_UPDATE_CATALOG_DOC").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/catalog.md is stale (a provider file changed): regenerate it with\n    {REGENERATE}");
    for p in catalog.list() {
        assert!(have.contains(&format!("<a id=\"{}\"></a>", p.id)), "{} is not listed", p.id);
    }
}
