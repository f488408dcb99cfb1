//! Google: the OAuth 2.0 web-server flow on accounts.google.com / oauth2.googleapis.com, the
//! OpenID userinfo, and the Gmail, Drive, Sheets and Calendar calls the catalog uses.
//! Refresh tokens only with `access_type=offline`; they do not rotate; revoking any token of a
//! grant ends the whole grant.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Google profile.
#[derive(Debug, Default)]
pub struct Google;

const WEB_SERVER: &str = "https://developers.google.com/identity/protocols/oauth2/web-server";
const CLIENT: Client = Client { id: "1234567890-conformance.apps.googleusercontent.com", secret: "GOCSPX-conformance" };
const GMAIL_READ: &[&str] = &[
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.metadata",
    "https://www.googleapis.com/auth/gmail.compose",
];
const DRIVE: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/drive.metadata.readonly",
    "https://www.googleapis.com/auth/drive.appdata",
];
const SHEETS: &[&str] = &[
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/spreadsheets.readonly",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/drive.readonly",
];
const CALENDAR: &[&str] = &[
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
];
const EMAIL: &str = "ada@conformance.example";

impl Profile for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[
            "accounts.google.com",
            "oauth2.googleapis.com",
            "openidconnect.googleapis.com",
            "www.googleapis.com",
            "gmail.googleapis.com",
            "sheets.googleapis.com",
        ]
    }

    fn token_hosts(&self) -> &'static [&'static str] {
        &["oauth2.googleapis.com"]
    }

    fn client(&self) -> Client {
        CLIENT
    }

    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }

    fn api_calls(&self) -> &'static [ApiCall] {
        &[
            ApiCall { method: "GET", url: "https://gmail.googleapis.com/gmail/v1/users/me/labels", body: None },
            ApiCall { method: "GET", url: "https://www.googleapis.com/drive/v3/files", body: None },
            ApiCall {
                method: "GET",
                url: "https://sheets.googleapis.com/v4/spreadsheets/conformance-sheet",
                body: None,
            },
            ApiCall { method: "GET", url: "https://www.googleapis.com/calendar/v3/users/me/calendarList", body: None },
        ]
    }

    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://oauth2.googleapis.com/revoke with the token as `token` (query or form body); ends the whole grant",
            doc: "https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke",
        })
    }

    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "oauth2.googleapis.com"
            && r.path == "/revoke"
            && (r.query_param("token").is_some() || r.form_param("token").is_some())
    }

    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize: client_id, redirect_uri, response_type=code and scope required; a wrong redirect_uri or client is an error page, not a redirect; the callback carries code, state, scope",
                doc: WEB_SERVER,
            },
            Behaviour {
                what: "a refresh token only with access_type=offline",
                doc: "https://developers.google.com/identity/protocols/oauth2/web-server#offline",
            },
            Behaviour {
                what: "token endpoint: form body; client_secret_post or client_secret_basic; wrong client 401 invalid_client",
                doc: "https://accounts.google.com/.well-known/openid-configuration",
            },
            Behaviour {
                what: "refresh: reply without refresh_token (not rotating)",
                doc: "https://developers.google.com/identity/protocols/oauth2/web-server#offline",
            },
            Behaviour {
                what: "userinfo GET openidconnect.googleapis.com/v1/userinfo (sub, email, name)",
                doc: "https://developers.google.com/identity/openid-connect/openid-connect#obtaininguserprofileinformation",
            },
            Behaviour {
                what: "Gmail GET /gmail/v1/users/me/profile → emailAddress; needs a Gmail read scope, else 403",
                doc: "https://developers.google.com/workspace/gmail/api/reference/rest/v1/users/getProfile",
            },
            Behaviour {
                what: "Drive GET /drive/v3/about?fields=user → user.emailAddress",
                doc: "https://developers.google.com/workspace/drive/api/reference/rest/v3/about/get",
            },
            Behaviour {
                what: "API errors 401 UNAUTHENTICATED / 403 PERMISSION_DENIED",
                doc: "https://cloud.google.com/apis/design/errors",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "accounts.google.com", "/o/oauth2/v2/auth") => authorize(ctx, r),
            ("POST", "oauth2.googleapis.com", "/token") => token(ctx, r),
            ("POST", "oauth2.googleapis.com", "/revoke") => revoke(ctx, r),
            ("GET", "openidconnect.googleapis.com", "/v1/userinfo")
            | ("GET", "www.googleapis.com", "/oauth2/v3/userinfo") => api(
                ctx,
                r,
                &["openid", "email", "profile"],
                || json!({"sub": "108000000000000000001", "email": EMAIL, "email_verified": true, "name": "Ada Lovelace"}),
            ),
            ("GET", "gmail.googleapis.com", "/gmail/v1/users/me/profile") => api(
                ctx,
                r,
                GMAIL_READ,
                || json!({"emailAddress": EMAIL, "messagesTotal": 12, "threadsTotal": 9, "historyId": "4321"}),
            ),
            ("GET", "gmail.googleapis.com", "/gmail/v1/users/me/labels") => {
                api(ctx, r, GMAIL_READ, || json!({"labels": [{"id": "INBOX", "name": "INBOX", "type": "system"}]}))
            }
            ("GET", "www.googleapis.com", "/drive/v3/about") => api(
                ctx,
                r,
                DRIVE,
                || json!({"user": {"kind": "drive#user", "displayName": "Ada Lovelace", "emailAddress": EMAIL}}),
            ),
            ("GET", "www.googleapis.com", "/drive/v3/files") => {
                api(ctx, r, DRIVE, || json!({"kind": "drive#fileList", "incompleteSearch": false, "files": []}))
            }
            ("GET", "sheets.googleapis.com", p) if p.starts_with("/v4/spreadsheets/") => api(
                ctx,
                r,
                SHEETS,
                || json!({"spreadsheetId": "conformance-sheet", "properties": {"title": "Conformance"}, "sheets": []}),
            ),
            ("GET", "www.googleapis.com", "/calendar/v3/users/me/calendarList") => api(
                ctx,
                r,
                CALENDAR,
                || json!({"kind": "calendar#calendarList", "items": [{"id": EMAIL, "summary": EMAIL, "primary": true}]}),
            ),
            _ => api_error(404, "Requested entity was not found.", "NOT_FOUND"),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(401, "Error 401: invalid_client. The OAuth client was not found.");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Error 400: redirect_uri_mismatch");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "Error 400: invalid_request. Missing or unsupported response_type");
    }
    let scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.is_empty() {
        return page(400, "Error 400: invalid_request. Missing required parameter: scope");
    }
    let offline = match q(r, "access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(_) => return page(400, "Error 400: invalid_request. Invalid access_type"),
    };
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, &format!("Error 400: invalid_request. {e}")),
    };
    let granted = scopes.join(" ");
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline,
        code_challenge: challenge,
        extra: Default::default(),
    };
    approve(ctx, grant, q(r, "state"), &[("scope", &granted)])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Invalid request: expected a form body");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic | ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Unauthorized"),
    };
    let reply = |grant: &Grant, family: u64, refresh: bool| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "ya29.conf-"),
            "expires_in": 3599,
            "scope": grant.scopes.join(" "),
            "token_type": "Bearer",
        });
        if refresh {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "1//conf-"));
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = field(r, "code").unwrap_or_default();
            let Some(redirect) = field(r, "redirect_uri") else {
                return oauth_error(400, "invalid_request", "Missing required parameter: redirect_uri");
            };
            match ctx.grants.redeem_code(&code, &client, Some(&redirect), field(r, "code_verifier").as_deref()) {
                Ok((grant, family)) => reply(&grant, family, grant.offline),
                Err(Refusal::RedirectMismatch) => oauth_error(400, "redirect_uri_mismatch", "Bad Request"),
                Err(_) => oauth_error(400, "invalid_grant", "Bad Request"),
            }
        }
        Some("refresh_token") => {
            let token = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&token, &client, false) {
                Ok((grant, family)) => reply(&grant, family, false),
                Err(_) => oauth_error(400, "invalid_grant", "Token has been expired or revoked."),
            }
        }
        other => oauth_error(400, "unsupported_grant_type", &format!("Invalid grant_type: {}", other.unwrap_or(""))),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    let token = r.query_param("token").map(str::to_owned).or_else(|| r.form_param("token"));
    match token {
        Some(t) if ctx.grants.revoke(&t, true) => json(200, json!({})),
        _ => oauth_error(400, "invalid_token", "Token expired or revoked"),
    }
}

fn api_error(code: u16, message: &str, status: &str) -> Response {
    json(code, json!({"error": {"code": code, "message": message, "status": status}}))
}

fn api(ctx: &Ctx, r: &Recorded, any_of: &[&str], body: impl FnOnce() -> serde_json::Value) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return api_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED");
    };
    // Short OpenID scope names are also granted as their URL forms.
    let has =
        |s: &&str| grant.scopes.iter().any(|g| g == s || g == &format!("https://www.googleapis.com/auth/userinfo.{s}"));
    if !any_of.iter().any(has) {
        return api_error(403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED");
    }
    json(200, body())
}
