//! Google: the OAuth 2.0 web-server flow on accounts.google.com / oauth2.googleapis.com, the
//! OpenID userinfo, and the Gmail, Drive, Sheets, Calendar, YouTube Data, Docs, People
//! (contacts), Tasks, Forms and Slides calls the catalog uses, each with the scopes its method's
//! reference accepts. Refresh tokens only with `access_type=offline`; they do not rotate;
//! revoking any token of a grant ends the whole grant.

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
// The scopes each method accepts, as its reference's "Authorization scopes" lists them.
const YOUTUBE_READ: &[&str] = &[
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtubepartner",
    "https://www.googleapis.com/auth/youtubepartner-channel-audit",
];
const YOUTUBE_PLAYLIST_READ: &[&str] = &[
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtubepartner",
];
const YOUTUBE_UPLOAD: &[&str] = &[
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtubepartner",
];
/// commentThreads.insert and comments.insert: force-ssl only.
const YOUTUBE_COMMENT: &[&str] = &["https://www.googleapis.com/auth/youtube.force-ssl"];
const DOCS_READ: &[&str] = &[
    "https://www.googleapis.com/auth/documents",
    "https://www.googleapis.com/auth/documents.readonly",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/drive.readonly",
];
const DOCS_WRITE: &[&str] = &[
    "https://www.googleapis.com/auth/documents",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
];
const CONTACTS_READ: &[&str] =
    &["https://www.googleapis.com/auth/contacts", "https://www.googleapis.com/auth/contacts.readonly"];
const CONTACTS_WRITE: &[&str] = &["https://www.googleapis.com/auth/contacts"];
const TASKS_READ: &[&str] =
    &["https://www.googleapis.com/auth/tasks", "https://www.googleapis.com/auth/tasks.readonly"];
const TASKS_WRITE: &[&str] = &["https://www.googleapis.com/auth/tasks"];
const FORMS_READ: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/forms.body",
    "https://www.googleapis.com/auth/forms.body.readonly",
];
const FORMS_RESPONSES: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/forms.responses.readonly",
];
const FORMS_WRITE: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/forms.body",
];
const SLIDES_READ: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/presentations",
    "https://www.googleapis.com/auth/presentations.readonly",
];
const SLIDES_CREATE: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/presentations",
];
/// presentations.batchUpdate also accepts the read-only Drive and Sheets scopes (the reference
/// lists them, for refreshing linked charts), but not presentations.readonly.
const SLIDES_UPDATE: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/presentations",
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/spreadsheets.readonly",
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
            "youtube.googleapis.com",
            "docs.googleapis.com",
            "people.googleapis.com",
            "tasks.googleapis.com",
            "forms.googleapis.com",
            "slides.googleapis.com",
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
            ApiCall {
                method: "GET",
                url: "https://www.googleapis.com/youtube/v3/channels?part=snippet&mine=true",
                body: None,
            },
            ApiCall { method: "GET", url: "https://docs.googleapis.com/v1/documents/conformance-doc", body: None },
            ApiCall {
                method: "GET",
                url: "https://people.googleapis.com/v1/people/me/connections?personFields=names,emailAddresses",
                body: None,
            },
            ApiCall { method: "GET", url: "https://tasks.googleapis.com/tasks/v1/users/@me/lists", body: None },
            ApiCall {
                method: "GET",
                url: "https://forms.googleapis.com/v1/forms/conformance-form/responses",
                body: None,
            },
            ApiCall {
                method: "GET",
                url: "https://slides.googleapis.com/v1/presentations/conformance-deck",
                body: None,
            },
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
                what: "YouTube GET /youtube/v3/channels (www.googleapis.com or youtube.googleapis.com): `part` required (else 400); youtube.readonly or a broader YouTube scope",
                doc: "https://developers.google.com/youtube/v3/docs/channels/list",
            },
            Behaviour {
                what: "YouTube GET /youtube/v3/playlistItems: `part` required; youtube.readonly or broader (not youtube.upload)",
                doc: "https://developers.google.com/youtube/v3/docs/playlistItems/list",
            },
            Behaviour {
                what: "YouTube POST /upload/youtube/v3/videos (videos.insert): `part` required; youtube.upload is enough",
                doc: "https://developers.google.com/youtube/v3/docs/videos/insert",
            },
            Behaviour {
                what: "YouTube POST /youtube/v3/commentThreads: `part` required; only youtube.force-ssl",
                doc: "https://developers.google.com/youtube/v3/docs/commentThreads/insert",
            },
            Behaviour {
                what: "Docs GET /v1/documents/{id}: documents(.readonly) or drive(.file/.readonly)",
                doc: "https://developers.google.com/docs/api/reference/rest/v1/documents/get",
            },
            Behaviour {
                what: "Docs POST /v1/documents and POST /v1/documents/{id}:batchUpdate: documents, drive or drive.file (not readonly)",
                doc: "https://developers.google.com/docs/api/reference/rest/v1/documents/batchUpdate",
            },
            Behaviour {
                what: "People GET /v1/people/me/connections: `personFields` required (else 400); contacts or contacts.readonly",
                doc: "https://developers.google.com/people/api/rest/v1/people.connections/list",
            },
            Behaviour {
                what: "People GET /v1/people:searchContacts (`readMask` required) with contacts(.readonly); POST /v1/people:createContact with contacts",
                doc: "https://developers.google.com/people/api/rest/v1/people/createContact",
            },
            Behaviour {
                what: "Tasks GET /tasks/v1/users/@me/lists with tasks(.readonly); POST /tasks/v1/lists/{id}/tasks with tasks",
                doc: "https://developers.google.com/tasks/reference/rest/v1/tasks/insert",
            },
            Behaviour {
                what: "Forms GET /v1/forms/{id} with forms.body(.readonly) or drive(.file/.readonly); GET /v1/forms/{id}/responses with forms.responses.readonly, drive or drive.file",
                doc: "https://developers.google.com/forms/api/reference/rest/v1/forms.responses/list",
            },
            Behaviour {
                what: "Forms POST /v1/forms and POST /v1/forms/{id}:batchUpdate with forms.body, drive or drive.file",
                doc: "https://developers.google.com/forms/api/reference/rest/v1/forms/create",
            },
            Behaviour {
                what: "Slides GET /v1/presentations/{id} with presentations(.readonly) or drive(.file/.readonly); POST /v1/presentations with presentations, drive or drive.file; POST /v1/presentations/{id}:batchUpdate not with presentations.readonly",
                doc: "https://developers.google.com/slides/api/reference/rest/v1/presentations/batchUpdate",
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
            (method, "www.googleapis.com" | "youtube.googleapis.com", path) => youtube(ctx, r, method, path),
            (method, "docs.googleapis.com", path) => docs(ctx, r, method, path),
            (method, "people.googleapis.com", path) => people(ctx, r, method, path),
            (method, "tasks.googleapis.com", path) => tasks(ctx, r, method, path),
            (method, "forms.googleapis.com", path) => forms(ctx, r, method, path),
            (method, "slides.googleapis.com", path) => slides(ctx, r, method, path),
            _ => not_found(),
        }
    }
}

fn not_found() -> Response {
    api_error(404, "Requested entity was not found.", "NOT_FOUND")
}

/// YouTube Data API v3: `part` is required on every method the catalog uses.
fn youtube(ctx: &Ctx, r: &Recorded, method: &str, path: &str) -> Response {
    let any_of = match (method, path) {
        ("GET", "/youtube/v3/channels") => YOUTUBE_READ,
        ("GET", "/youtube/v3/playlistItems") => YOUTUBE_PLAYLIST_READ,
        ("POST", "/upload/youtube/v3/videos") => YOUTUBE_UPLOAD,
        ("POST", "/youtube/v3/commentThreads") => YOUTUBE_COMMENT,
        _ => return not_found(),
    };
    api_with(ctx, r, any_of, &["part"], || match path {
        "/youtube/v3/channels" => json!({
            "kind": "youtube#channelListResponse",
            "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
            "items": [{
                "kind": "youtube#channel",
                "id": "UCconformance0000000000",
                "snippet": {"title": "Ada Lovelace", "customUrl": "@adalovelace"},
                "contentDetails": {"relatedPlaylists": {"uploads": "UUconformance0000000000"}},
            }],
        }),
        "/youtube/v3/playlistItems" => json!({"kind": "youtube#playlistItemListResponse", "items": []}),
        "/upload/youtube/v3/videos" => json!({
            "kind": "youtube#video",
            "id": "conf-video-1",
            "status": {"uploadStatus": "uploaded", "privacyStatus": "private"},
        }),
        _ => json!({"kind": "youtube#commentThread", "id": "conf-thread-1"}),
    })
}

/// Google Docs API v1: documents.get, documents.create, documents.batchUpdate.
fn docs(ctx: &Ctx, r: &Recorded, method: &str, path: &str) -> Response {
    let Some(rest) = path.strip_prefix("/v1/documents") else { return not_found() };
    match (method, rest.strip_prefix('/')) {
        ("POST", None) if rest.is_empty() => api(
            ctx,
            r,
            DOCS_WRITE,
            || json!({"documentId": "conf-doc-new", "title": "Untitled document", "revisionId": "r1"}),
        ),
        ("POST", Some(id)) if id.ends_with(":batchUpdate") && !id.contains('/') => {
            let id = id.trim_end_matches(":batchUpdate").to_owned();
            api(
                ctx,
                r,
                DOCS_WRITE,
                || json!({"documentId": id, "replies": [{}], "writeControl": {"requiredRevisionId": "r2"}}),
            )
        }
        ("GET", Some(id)) if !id.is_empty() && !id.contains(['/', ':']) => {
            let id = id.to_owned();
            api(
                ctx,
                r,
                DOCS_READ,
                || json!({"documentId": id, "title": "Conformance", "body": {"content": []}, "revisionId": "r1"}),
            )
        }
        _ => not_found(),
    }
}

/// People API v1: the user's contacts.
fn people(ctx: &Ctx, r: &Recorded, method: &str, path: &str) -> Response {
    match (method, path) {
        ("GET", "/v1/people/me/connections") => api_with(ctx, r, CONTACTS_READ, &["personFields"], || {
            json!({
                "connections": [{
                    "resourceName": "people/c1000000000000000001",
                    "etag": "%EgUBAi43PRoEAQIFByIMconformance",
                    "names": [{"displayName": "Charles Babbage"}],
                }],
                "totalPeople": 1,
                "totalItems": 1,
            })
        }),
        ("GET", "/v1/people:searchContacts") => {
            api_with(ctx, r, CONTACTS_READ, &["readMask"], || json!({"results": []}))
        }
        ("POST", "/v1/people:createContact") => api(
            ctx,
            r,
            CONTACTS_WRITE,
            || json!({"resourceName": "people/c1000000000000000002", "etag": "%EgUBAi43PRoEAQIFByIMnew"}),
        ),
        _ => not_found(),
    }
}

/// Tasks API v1 on tasks.googleapis.com.
fn tasks(ctx: &Ctx, r: &Recorded, method: &str, path: &str) -> Response {
    let in_list = path.strip_prefix("/tasks/v1/lists/").and_then(|p| p.strip_suffix("/tasks"));
    match (method, path) {
        // `@me` may arrive percent-encoded; both name the same resource.
        ("GET", "/tasks/v1/users/@me/lists" | "/tasks/v1/users/%40me/lists") => api(
            ctx,
            r,
            TASKS_READ,
            || json!({"kind": "tasks#taskLists", "items": [{"kind": "tasks#taskList", "id": "MDEconformance", "title": "My Tasks"}]}),
        ),
        ("GET", _) if in_list.is_some_and(|l| !l.is_empty() && !l.contains('/')) => {
            api(ctx, r, TASKS_READ, || json!({"kind": "tasks#tasks", "items": []}))
        }
        ("POST", _) if in_list.is_some_and(|l| !l.is_empty() && !l.contains('/')) => api(
            ctx,
            r,
            TASKS_WRITE,
            || json!({"kind": "tasks#task", "id": "conf-task-1", "title": "New task", "status": "needsAction"}),
        ),
        _ => not_found(),
    }
}

/// Forms API v1: forms, their responses.
fn forms(ctx: &Ctx, r: &Recorded, method: &str, path: &str) -> Response {
    let Some(rest) = path.strip_prefix("/v1/forms") else { return not_found() };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (method, rest.is_empty(), segments.as_slice()) {
        ("POST", true, _) => api(
            ctx,
            r,
            FORMS_WRITE,
            || json!({"formId": "conf-form-new", "info": {"title": "Untitled form"}, "revisionId": "00000001"}),
        ),
        ("POST", false, [id]) if id.ends_with(":batchUpdate") => {
            api(ctx, r, FORMS_WRITE, || json!({"replies": [{}], "writeControl": {"requiredRevisionId": "00000002"}}))
        }
        ("GET", false, [id]) if !id.is_empty() && !id.contains(':') => {
            let id = (*id).to_owned();
            api(
                ctx,
                r,
                FORMS_READ,
                || json!({"formId": id, "info": {"title": "Conformance survey"}, "items": [], "revisionId": "00000001"}),
            )
        }
        ("GET", false, [id, "responses"]) if !id.is_empty() => {
            let id = (*id).to_owned();
            api(ctx, r, FORMS_RESPONSES, || {
                json!({"responses": [{
                    "formId": id,
                    "responseId": "ACYDBNconformance",
                    "createTime": "2026-01-01T00:00:00Z",
                    "lastSubmittedTime": "2026-01-01T00:00:00Z",
                    "answers": {},
                }]})
            })
        }
        _ => not_found(),
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
    api_with(ctx, r, any_of, &[], body)
}

/// [`api`] for a method with required query parameters: after the token and scope checks, a
/// missing one is a 400 INVALID_ARGUMENT.
fn api_with(
    ctx: &Ctx,
    r: &Recorded,
    any_of: &[&str],
    required: &[&str],
    body: impl FnOnce() -> serde_json::Value,
) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return api_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED");
    };
    // Short OpenID scope names are also granted as their URL forms.
    let has =
        |s: &&str| grant.scopes.iter().any(|g| g == s || g == &format!("https://www.googleapis.com/auth/userinfo.{s}"));
    if !any_of.iter().any(has) {
        return api_error(403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED");
    }
    if let Some(missing) = required.iter().find(|p| r.query_param(p).is_none_or(str::is_empty)) {
        return api_error(400, &format!("Required parameter: {missing}"), "INVALID_ARGUMENT");
    }
    json(200, body())
}

/// Slides API v1: presentations.create, .get, .batchUpdate.
fn slides(ctx: &Ctx, r: &Recorded, method: &str, path: &str) -> Response {
    let Some(rest) = path.strip_prefix("/v1/presentations") else { return not_found() };
    match (method, rest.strip_prefix('/')) {
        ("POST", None) if rest.is_empty() => api(
            ctx,
            r,
            SLIDES_CREATE,
            || json!({"presentationId": "conf-deck-new", "title": "Untitled presentation", "slides": [], "revisionId": "r1"}),
        ),
        ("POST", Some(id)) if id.ends_with(":batchUpdate") && !id.contains('/') => {
            let id = id.trim_end_matches(":batchUpdate").to_owned();
            api(
                ctx,
                r,
                SLIDES_UPDATE,
                || json!({"presentationId": id, "replies": [{}], "writeControl": {"requiredRevisionId": "r2"}}),
            )
        }
        ("GET", Some(id)) if !id.is_empty() && !id.contains(['/', ':']) => {
            let id = id.to_owned();
            api(
                ctx,
                r,
                SLIDES_READ,
                || json!({"presentationId": id, "title": "Conformance", "slides": [{"objectId": "p"}], "revisionId": "r1"}),
            )
        }
        _ => not_found(),
    }
}
