//! The HTML pages: the consent page, the error page and the home page.
//!
//! Every page is self-contained (inline CSS and SVG, no scripts, no external resources) and
//! works without JavaScript. Every dynamic value goes through [`escape`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::scopes::scope_description;

/// What the consent page shows.
pub(crate) struct ConsentView<'a> {
    pub client_id: &'a str,
    pub account: &'a str,
    /// `(scope, checked)` in request order.
    pub scopes: Vec<(&'a str, bool)>,
    /// Host (and port) of the redirect URI, where the user will land.
    pub redirect_host: &'a str,
    pub request_id: &'a str,
    pub nonce: &'a str,
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #e3e7ef; --brand: #3b5bdb; --brand-dark: #2f4ac0; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  background: linear-gradient(160deg, #eef2ff 0%, #f8fafc 60%); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: 100%; max-width: 440px; margin: 24px; background: #fff; border: 1px solid var(--line);
  border-radius: 14px; box-shadow: 0 10px 30px rgba(29, 36, 51, .08); padding: 28px 28px 20px; }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 650; font-size: 17px; color: var(--brand); }
.brand svg { width: 30px; height: 30px; }
h1 { font-size: 19px; font-weight: 600; margin: 18px 0 6px; }
p { margin: 8px 0; }
.muted { color: var(--muted); font-size: 13.5px; }
label.account { display: block; margin: 14px 0 4px; font-size: 13px; color: var(--muted); }
input[type=text] { width: 100%; margin-top: 4px; padding: 8px 10px; border: 1px solid var(--line);
  border-radius: 8px; font: inherit; color: var(--ink); }
input[type=text]:focus { outline: 2px solid var(--brand); outline-offset: 1px; }
ul.scopes { list-style: none; margin: 10px 0 14px; padding: 0; border: 1px solid var(--line); border-radius: 10px; }
ul.scopes li + li { border-top: 1px solid var(--line); }
ul.scopes label { display: flex; align-items: flex-start; gap: 10px; padding: 10px 12px; cursor: pointer; }
ul.scopes input { margin-top: 4px; accent-color: var(--brand); }
ul.scopes code { display: block; font-size: 12px; color: var(--muted); }
.actions { display: flex; gap: 10px; justify-content: flex-end; margin-top: 18px; }
button { font: inherit; font-weight: 600; padding: 9px 20px; border-radius: 8px; cursor: pointer; border: 1px solid var(--line); }
button.allow { background: var(--brand); border-color: var(--brand); color: #fff; }
button.allow:hover { background: var(--brand-dark); }
button.deny { background: #fff; color: var(--ink); }
button.deny:hover { background: #f3f5f9; }
footer { margin-top: 20px; padding-top: 12px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
.error { border-left: 4px solid #d9480f; padding-left: 12px; }
"#;

const LOGO: &str = r##"<svg viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="8" fill="#3b5bdb"/><path d="M10.5 22.5h11.2a4.3 4.3 0 0 0 .6-8.56 6 6 0 0 0-11.5 1.6 3.5 3.5 0 0 0-.3 6.96z" fill="#fff"/></svg>"##;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <div class=\"brand\">{LOGO}<span>Demo Cloud</span></div>\n{body}\n\
         <footer>Demo Cloud is a practice service running on this computer for Patchbay's demo. \
         Nothing you do here leaves your machine.</footer>\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// Adds the headers every page carries: no caching, no framing, nothing loaded from elsewhere.
pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The consent page: who asks, as whom, for what, with **Deny** and **Allow**.
pub(crate) fn consent_page(view: &ConsentView<'_>) -> String {
    let client = escape(view.client_id);
    let mut scopes = String::new();
    for (scope, checked) in &view.scopes {
        let description = scope_description(scope).unwrap_or(scope);
        scopes.push_str(&format!(
            "<li><label><input type=\"checkbox\" name=\"scope\" value=\"{value}\"{checked}>\
             <span>{description}<code>{value}</code></span></label></li>\n",
            value = escape(scope),
            checked = if *checked { " checked" } else { "" },
            description = escape(description),
        ));
    }
    let body = format!(
        "<h1><strong>{client}</strong> wants to access your Demo Cloud account</h1>\n\
         <form method=\"post\" action=\"/oauth/authorize/decision\">\n\
         <input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\n\
         <input type=\"hidden\" name=\"nonce\" value=\"{nonce}\">\n\
         <input type=\"hidden\" name=\"scope_choice\" value=\"1\">\n\
         <label class=\"account\">Signed in as\n\
         <input type=\"text\" name=\"account\" value=\"{account}\" autocomplete=\"username\" spellcheck=\"false\">\
         </label>\n\
         <p>This will allow <strong>{client}</strong> to:</p>\n\
         <ul class=\"scopes\">\n{scopes}</ul>\n\
         <p class=\"muted\">Untick anything you do not want to share. After your choice you will be \
         sent back to <strong>{host}</strong>.</p>\n\
         <div class=\"actions\">\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"deny\">Deny</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"allow\" class=\"allow\">Allow</button>\n\
         </div>\n</form>",
        request_id = escape(view.request_id),
        nonce = escape(view.nonce),
        account = escape(view.account),
        host = escape(view.redirect_host),
    );
    page("Sign in to Demo Cloud", &body)
}

/// A page explaining why the request cannot go on (no redirect is safe).
pub(crate) fn error_page(title: &str, message: &str) -> String {
    let body = format!(
        "<h1>{}</h1>\n<p class=\"error\">{}</p>\n\
         <p class=\"muted\">Go back to the application and start again.</p>",
        escape(title),
        escape(message)
    );
    page(title, &body)
}

/// The page at `/`.
pub(crate) fn home_page(issuer: &str) -> String {
    let body = format!(
        "<h1>Demo Cloud is running</h1>\n\
         <p>This is a small OAuth 2.0 service for trying Patchbay offline. Connect it from \
         Patchbay; you will come back here to approve access.</p>\n\
         <p class=\"muted\">Issuer: <code>{}</code></p>",
        escape(issuer)
    );
    page("Demo Cloud", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn consent_page_escapes_every_value() {
        let html = consent_page(&ConsentView {
            client_id: "<script>",
            account: "\"><img>",
            scopes: vec![("profile", true), ("items:read", false)],
            redirect_host: "127.0.0.1:1",
            request_id: "req_1",
            nonce: "n",
        });
        assert!(!html.contains("<script>") && !html.contains("<img>"));
        assert!(html.contains(">Allow</button>") && html.contains(">Deny</button>"));
        assert!(html.contains("See your profile") && html.contains("Read your items"));
        assert!(html.contains("value=\"profile\" checked>"));
        assert!(html.contains("value=\"items:read\">"));
        assert!(!html.contains("<script") && !html.contains("src="));
    }
}
