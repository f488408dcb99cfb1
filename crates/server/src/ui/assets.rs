//! The UI's static files and the provider documents, embedded in the binary so a deployment is
//! one file.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");
const CONNECT_RESULT_JS: &str = include_str!("../../static/connect-result.js");
/// The platform's helper, served at `/connect.js` (docs/embedding.md).
const CONNECT_JS: &str = include_str!("../../static/connect.js");
/// The provider file format and the built-in catalog, linked from the app picker's "Not in the
/// catalog?" so a user can read them on the server they use, whatever its version.
const PROVIDERS_MD: &str = include_str!("../../../../docs/providers.md");
const CATALOG_MD: &str = include_str!("../../../../docs/catalog.md");

/// `GET /static/{file}`.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        "connect-result.js" => (CONNECT_RESULT_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// `GET /docs/{file}`: the two provider documents, as plain text (Markdown reads well as it is,
/// and plain text runs no script whatever the CSP).
pub(crate) async fn docs(Path(file): Path<String>) -> Response {
    let body = match file.as_str() {
        "providers.md" => PROVIDERS_MD,
        "catalog.md" => CATALOG_MD,
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `GET /connect.js`: loaded by a platform's page from another origin, so it may be read
/// cross-origin (`Cross-Origin-Resource-Policy: cross-origin`); it carries no data.
pub(crate) async fn connect_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::HeaderName::from_static("cross-origin-resource-policy"), "cross-origin"),
        ],
        CONNECT_JS,
    )
        .into_response()
}
