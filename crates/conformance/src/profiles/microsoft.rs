//! Microsoft identity platform (v2.0 endpoints on login.microsoftonline.com, any of the
//! documented tenant values) and Microsoft Graph: `/me`, mail, and the Teams, SharePoint, To Do,
//! Planner, Excel and OneNote calls the catalog's Graph files make, each refusing a token without one of the
//! permissions its reference page lists (403 `accessDenied`). Refresh tokens only with the
//! `offline_access` scope; every refresh returns a new refresh token and the old one stays
//! good until it expires (rotating, not single-use). There is no revocation endpoint.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, pkce_challenge, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Microsoft profile.
#[derive(Debug, Default)]
pub struct Microsoft;

const AUTH_CODE: &str = "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow";
const CLIENT: Client = Client { id: "00000000-0000-4000-8000-00000c0f0a11", secret: "conformance~secret" };
const MAIL: &str = "ada@conformance.onmicrosoft.com";
/// The ids the emulated tenant's team, channel and To Do list carry.
const TEAM: &str = "172b0cce-e65d-44ce-9a49-91d9f2e8493a";
const CHANNEL: &str = "19:conformance@thread.tacv2";
const TASK_LIST: &str = "AAMkConformanceList";
const ONENOTE_SECTION: &str = "1-conformance-section";

impl Profile for Microsoft {
    fn name(&self) -> &'static str {
        "microsoft"
    }

    fn hosts(&self) -> &'static [&'static str] {
        &["login.microsoftonline.com", "graph.microsoft.com"]
    }

    fn token_hosts(&self) -> &'static [&'static str] {
        &["login.microsoftonline.com"]
    }

    fn client(&self) -> Client {
        CLIENT
    }

    fn account_labels(&self) -> &'static [&'static str] {
        &[MAIL, "Ada Lovelace"]
    }

    fn api_calls(&self) -> &'static [ApiCall] {
        // Every Graph file shares one base URL, so the harness proxies the first of these for
        // each of them; the others are driven by the profile tests.
        &[
            ApiCall { method: "GET", url: "https://graph.microsoft.com/v1.0/me/messages", body: None },
            ApiCall { method: "GET", url: "https://graph.microsoft.com/v1.0/me/joinedTeams", body: None },
            ApiCall { method: "GET", url: "https://graph.microsoft.com/v1.0/me/todo/lists", body: None },
            ApiCall {
                method: "GET",
                url: "https://graph.microsoft.com/v1.0/sites/conformance.sharepoint.com,1,2/lists/Tasks/items",
                body: None,
            },
        ]
    }

    fn revocation(&self) -> Option<Behaviour> {
        None
    }

    fn is_documented_revocation(&self, _: &Recorded) -> bool {
        false
    }

    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize /{tenant}/oauth2/v2.0/authorize: client_id, response_type=code, redirect_uri, scope required; tenant common|organizations|consumers|id; a wrong redirect is an AADSTS50011 page",
                doc: AUTH_CODE,
            },
            Behaviour {
                what: "token: form body, client_id and client_secret in the body (a confidential web app); AADSTS errors with error_codes, trace_id, correlation_id",
                doc: AUTH_CODE,
            },
            Behaviour {
                what: "refresh token only with offline_access; each refresh returns a new one, the old one is not revoked",
                doc: "https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens",
            },
            Behaviour {
                what: "Graph GET /v1.0/me → id, displayName, mail, userPrincipalName",
                doc: "https://learn.microsoft.com/en-us/graph/api/user-get",
            },
            Behaviour {
                what: "Teams: GET /me/joinedTeams (Team.ReadBasic.All), GET /teams/{id}/channels (Channel.ReadBasic.All), POST /teams/{id}/channels/{id}/messages (ChannelMessage.Send) and POST /chats/{id}/messages (ChatMessage.Send) → 201 chatMessage, GET channel messages (ChannelMessage.Read.All, admin consent); work or school accounts only",
                doc: "https://learn.microsoft.com/en-us/graph/api/channel-post-messages",
            },
            Behaviour {
                what: "Teams permissions and which need admin consent (ChannelMessage.Read.All: yes; ChannelMessage.Send, ChatMessage.Send, Channel.ReadBasic.All, Team.ReadBasic.All: no)",
                doc: "https://learn.microsoft.com/en-us/graph/permissions-reference",
            },
            Behaviour {
                what: "SharePoint: GET /sites/{id}/lists/{id}/items (Sites.Read.All), POST …/items with fields → 201 listItem (Sites.ReadWrite.All), PUT /sites/{id}/drive/items/{parent}:/{name}:/content → 201 driveItem",
                doc: "https://learn.microsoft.com/en-us/graph/api/listitem-create",
            },
            Behaviour {
                what: "To Do: GET /me/todo/lists and …/tasks (Tasks.Read), POST /me/todo/lists/{id}/tasks with a title → 201 todoTask, PATCH …/tasks/{id} (Tasks.ReadWrite)",
                doc: "https://learn.microsoft.com/en-us/graph/api/todotasklist-post-tasks",
            },
            Behaviour {
                what: "Excel: POST /me/drive/items/{id}/workbook/tables/{id}/rows with values → 201 workbookTableRow; GET …/worksheets/{id}/range(address='…') → workbookRange; Files.ReadWrite is the least privileged permission for both",
                doc: "https://learn.microsoft.com/en-us/graph/api/table-post-rows",
            },
            Behaviour {
                what: "Planner: GET /me/planner/tasks (Tasks.Read), POST /planner/tasks with planId and title → 201 plannerTask (Tasks.ReadWrite, or Group.ReadWrite.All); work or school accounts only",
                doc: "https://learn.microsoft.com/en-us/graph/api/planner-post-tasks",
            },
            Behaviour {
                what: "OneNote: GET /me/onenote/notebooks and …/sections (Notes.Create shows the hierarchy), POST /me/onenote/sections/{id}/pages with a text/html body → 201 page (Notes.Create), GET /me/onenote/pages (Notes.Read)",
                doc: "https://learn.microsoft.com/en-us/graph/api/section-post-pages",
            },
            Behaviour {
                what: "a token without a permission the call lists is 403 with error code accessDenied",
                doc: "https://learn.microsoft.com/en-us/graph/errors",
            },
            Behaviour {
                what: "no revocation endpoint (revokeSignInSessions ends every session, not one grant)",
                doc: "https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        let tenant_path = |suffix: &str| -> bool {
            r.path.strip_suffix(suffix).and_then(|t| t.strip_prefix('/')).is_some_and(valid_tenant)
        };
        match (r.method.as_str(), r.host.as_str()) {
            ("GET", "login.microsoftonline.com") if tenant_path("/oauth2/v2.0/authorize") => authorize(ctx, r),
            ("POST", "login.microsoftonline.com") if tenant_path("/oauth2/v2.0/token") => token(ctx, r),
            ("GET", "graph.microsoft.com") if r.path == "/v1.0/me" => graph(ctx, r, || {
                json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
                    "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
                    "displayName": "Ada Lovelace",
                    "mail": MAIL,
                    "userPrincipalName": MAIL,
                })
            }),
            ("GET", "graph.microsoft.com") if r.path == "/v1.0/me/messages" => graph(
                ctx,
                r,
                || json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('me')/messages", "value": []}),
            ),
            (_, "graph.microsoft.com") => match graph_call(r) {
                Some(call) => scoped(ctx, r, call),
                None => not_found(),
            },
            _ => not_found(),
        }
    }
}

/// `common`, `organizations`, `consumers`, a GUID or a domain name.
fn valid_tenant(t: &str) -> bool {
    !t.is_empty() && !t.contains('/') && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn aadsts(status: u16, error: &str, code: u32, description: &str) -> Response {
    json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: 0000 Correlation ID: 0000 Timestamp: 2026-01-01 00:00:00Z"),
            "error_codes": [code],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
            "error_uri": "https://login.microsoftonline.com/error?code=".to_owned() + &code.to_string(),
        }),
    )
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "AADSTS700016: Application with identifier was not found in the directory.");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(
            400,
            "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.",
        );
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "AADSTS900144: The request body must contain the following parameter: 'response_type'.");
    }
    let scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.is_empty() {
        return page(400, "AADSTS900144: The request body must contain the following parameter: 'scope'.");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, &format!("AADSTS501491: {e}")),
    };
    let offline = scopes.iter().any(|s| s == "offline_access");
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline,
        code_challenge: challenge,
        extra: Default::default(),
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return aadsts(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    }
    // A web app's secret goes in the body (the documented request); Basic is not documented.
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        Ok((ClientAuth::Body, id, _)) if id == CLIENT.id => {
            return aadsts(401, "invalid_client", 7000215, "Invalid client secret provided.");
        }
        _ => {
            return aadsts(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
    };
    let reply = |grant: &Grant, family: u64| {
        let mut body = json!({
            "token_type": "Bearer",
            "scope": grant.scopes.join(" "),
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": ctx.grants.access_token(family, "eyJ0eXAiOi.conf-"),
        });
        if grant.offline {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "0.AAAA-conf-"));
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = field(r, "code").unwrap_or_default();
            match ctx.grants.redeem_code(
                &code,
                &client,
                field(r, "redirect_uri").as_deref(),
                field(r, "code_verifier").as_deref(),
            ) {
                Ok((grant, family)) => reply(&grant, family),
                Err(Refusal::RedirectMismatch) => {
                    aadsts(400, "invalid_grant", 70000, "The provided value for the 'redirect_uri' is not valid.")
                }
                Err(Refusal::Pkce) => aadsts(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                ),
                Err(_) => aadsts(
                    400,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity.",
                ),
            }
        }
        Some("refresh_token") => {
            let token = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&token, &client, false) {
                Ok((grant, family)) => reply(&grant, family),
                Err(_) => aadsts(
                    400,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity.",
                ),
            }
        }
        _ => aadsts(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."),
    }
}

fn graph(ctx: &Ctx, r: &Recorded, body: impl FnOnce() -> serde_json::Value) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(
            401,
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "IDX14100: JWT is not well formed."}}),
        );
    }
    json(200, body())
}

fn not_found() -> Response {
    json(404, json!({"error": {"code": "ResourceNotFound", "message": "Resource not found."}}))
}

/// One emulated Graph call: the permissions its reference page accepts (the least privileged
/// first), and its reply, or the 400 a missing required body property gets.
struct GraphCall {
    any_of: &'static [&'static str],
    reply: Result<(u16, serde_json::Value), &'static str>,
}

/// The Teams, SharePoint, To Do, Planner, Excel and OneNote calls, by method and path segments.
fn graph_call(r: &Recorded) -> Option<GraphCall> {
    let path = r.path.strip_prefix("/v1.0/")?;
    let seg: Vec<&str> = path.split('/').collect();
    let body = r.json().unwrap_or_default();
    let has = |pointer: &str| body.pointer(pointer).is_some_and(|v| !v.is_null());
    let need = |ok: bool, reply: serde_json::Value, what: &'static str| if ok { Ok((201, reply)) } else { Err(what) };
    let call = |any_of: &'static [&'static str], reply| Some(GraphCall { any_of, reply });
    match (r.method.as_str(), seg.as_slice()) {
        // https://learn.microsoft.com/en-us/graph/api/user-list-joinedteams
        ("GET", ["me", "joinedTeams"]) => call(
            &["Team.ReadBasic.All"],
            Ok((200, json!({"value": [{"id": TEAM, "displayName": "Conformance", "description": "The kit's team"}]}))),
        ),
        // https://learn.microsoft.com/en-us/graph/api/channel-list
        ("GET", ["teams", _, "channels"]) => call(
            &["Channel.ReadBasic.All"],
            Ok((200, json!({"value": [{"id": CHANNEL, "displayName": "General", "membershipType": "standard"}]}))),
        ),
        // https://learn.microsoft.com/en-us/graph/api/channel-post-messages
        ("POST", ["teams", _, "channels", _, "messages"]) => call(
            &["ChannelMessage.Send", "Group.ReadWrite.All"],
            need(has("/body/content"), chat_message(&body), "body.content is required"),
        ),
        // https://learn.microsoft.com/en-us/graph/api/channel-list-messages
        ("GET", ["teams", _, "channels", _, "messages"]) => {
            call(&["ChannelMessage.Read.All", "Group.Read.All", "Group.ReadWrite.All"], Ok((200, json!({"value": []}))))
        }
        // https://learn.microsoft.com/en-us/graph/api/chat-post-messages
        ("POST", ["chats", _, "messages"]) => call(
            &["ChatMessage.Send", "Chat.ReadWrite", "Group.ReadWrite.All"],
            need(has("/body/content"), chat_message(&body), "body.content is required"),
        ),
        // https://learn.microsoft.com/en-us/graph/api/listitem-list
        ("GET", ["sites", _, "lists", _, "items"]) => call(
            &["Sites.Read.All", "Sites.ReadWrite.All", "Sites.Selected"],
            Ok((200, json!({"value": [{"id": "1", "fields": {"Title": "First"}}]}))),
        ),
        // https://learn.microsoft.com/en-us/graph/api/listitem-create
        ("POST", ["sites", _, "lists", _, "items"]) => call(
            &["Sites.ReadWrite.All", "Sites.Selected"],
            need(has("/fields"), json!({"id": "2", "fields": body["fields"]}), "fields is required"),
        ),
        // https://learn.microsoft.com/en-us/graph/api/driveitem-put-content: Files.ReadWrite is
        // the user's own drive; a site's library takes the .All or Sites write permissions.
        (
            "PUT",
            ["sites", _, "drive", "items", _, name, "content"] | ["sites", _, "drive", "root:", name, "content"],
        ) => call(
            &["Files.ReadWrite.All", "Sites.ReadWrite.All"],
            Ok((201, json!({"id": "01CONFORMANCE", "name": name.trim_end_matches(':'), "size": r.body.len()}))),
        ),
        // https://learn.microsoft.com/en-us/graph/api/todo-list-lists
        ("GET", ["me", "todo", "lists"]) => call(
            &["Tasks.Read", "Tasks.ReadWrite"],
            Ok((
                200,
                json!({"value": [{"id": TASK_LIST, "displayName": "Tasks", "wellknownListName": "defaultList"}]}),
            )),
        ),
        // https://learn.microsoft.com/en-us/graph/api/todotasklist-list-tasks
        ("GET", ["me", "todo", "lists", _, "tasks"]) => {
            call(&["Tasks.Read", "Tasks.ReadWrite"], Ok((200, json!({"value": []}))))
        }
        // https://learn.microsoft.com/en-us/graph/api/todotasklist-post-tasks
        ("POST", ["me", "todo", "lists", _, "tasks"]) => call(
            &["Tasks.ReadWrite"],
            need(
                has("/title"),
                json!({"id": "AAMkConformanceTask", "title": body["title"], "status": "notStarted"}),
                "title is required",
            ),
        ),
        // https://learn.microsoft.com/en-us/graph/api/todotask-update
        ("PATCH", ["me", "todo", "lists", _, "tasks", id]) => call(
            &["Tasks.ReadWrite"],
            Ok((
                200,
                json!({"id": id, "title": "Task", "status": body.get("status").cloned().unwrap_or(json!("notStarted"))}),
            )),
        ),
        // https://learn.microsoft.com/en-us/graph/api/onenote-list-notebooks: Notes.Create also
        // shows the notebook hierarchy (permissions reference, Notes remarks).
        ("GET", ["me", "onenote", "notebooks" | "sections"]) => call(
            &["Notes.Create", "Notes.Read", "Notes.ReadWrite"],
            Ok((200, json!({"value": [{"id": ONENOTE_SECTION, "displayName": "Quick Notes"}]}))),
        ),
        // https://learn.microsoft.com/en-us/graph/api/section-post-pages: the page is HTML.
        ("POST", ["me", "onenote", "sections", _, "pages"]) => call(
            &["Notes.Create", "Notes.ReadWrite"],
            need(
                matches!(
                    r.media_type().as_deref(),
                    Some("text/html" | "application/xhtml+xml" | "multipart/form-data")
                ),
                json!({"id": "1-conformance!41-page", "title": html_title(&r.body), "contentUrl": "https://graph.microsoft.com/v1.0/me/onenote/pages/1-conformance!41-page/content"}),
                "the page goes as text/html or application/xhtml+xml (or a multipart Presentation part)",
            ),
        ),
        // https://learn.microsoft.com/en-us/graph/api/onenote-list-pages
        ("GET", ["me", "onenote", "pages"]) => {
            call(&["Notes.Read", "Notes.ReadWrite"], Ok((200, json!({"value": []}))))
        }
        // https://learn.microsoft.com/en-us/graph/api/planneruser-list-tasks
        ("GET", ["me", "planner", "tasks"]) => call(
            &["Tasks.Read", "Tasks.ReadWrite", "Group.Read.All", "Group.ReadWrite.All"],
            Ok((200, json!({"value": []}))),
        ),
        // https://learn.microsoft.com/en-us/graph/api/planner-post-tasks: planId is required.
        ("POST", ["planner", "tasks"]) => call(
            &["Tasks.ReadWrite", "Group.ReadWrite.All"],
            need(
                has("/planId") && has("/title"),
                json!({"id": "01gzSlKkIUSUl6DF_EilrmQAKDhh", "planId": body["planId"], "title": body["title"], "percentComplete": 0, "@odata.etag": "W/\"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBARCc=\""}),
                "planId and title are required",
            ),
        ),
        // https://learn.microsoft.com/en-us/graph/api/table-post-rows
        ("POST", ["me", "drive", "items", _, "workbook", "tables", _, "rows"]) => call(
            &["Files.ReadWrite"],
            need(
                body.get("values").is_some_and(serde_json::Value::is_array),
                json!({"index": 7, "values": body["values"]}),
                "values is required",
            ),
        ),
        // https://learn.microsoft.com/en-us/graph/api/range-get
        ("GET", ["me", "drive", "items", _, "workbook", "worksheets", sheet, range]) if range.starts_with("range(") => {
            call(
                &["Files.ReadWrite"],
                Ok((200, json!({"address": format!("{sheet}!A1:B2"), "values": [["Name", "Amount"], ["Ada", 1815]]}))),
            )
        }
        _ => None,
    }
}

/// The `<title>` of an input HTML page (the page's title in OneNote).
fn html_title(html: &[u8]) -> String {
    let text = String::from_utf8_lossy(html);
    let start = text.find("<title>").map(|i| i + "<title>".len());
    let end = text.find("</title>");
    match (start, end) {
        (Some(a), Some(b)) if a <= b => text[a..b].to_owned(),
        _ => String::new(),
    }
}

fn chat_message(body: &serde_json::Value) -> serde_json::Value {
    json!({
        "id": "1616965872395",
        "messageType": "message",
        "createdDateTime": "2026-01-01T00:00:00Z",
        "from": {"user": {"id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "displayName": "Ada Lovelace"}},
        "body": body["body"],
    })
}

/// A Graph call behind its permissions: 401 without a live token, 403 `accessDenied` without
/// one of the permissions the call lists, 400 `BadRequest` without its required body.
fn scoped(ctx: &Ctx, r: &Recorded, call: GraphCall) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(
            401,
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "IDX14100: JWT is not well formed."}}),
        );
    };
    if !call.any_of.iter().any(|p| grant.scopes.iter().any(|s| s == p)) {
        return json(
            403,
            json!({"error": {"code": "accessDenied", "message": format!("Missing scope permissions on the request. API requires one of '{}'.", call.any_of.join(", "))}}),
        );
    }
    match call.reply {
        Ok((status, body)) => json(status, body),
        Err(what) => json(400, json!({"error": {"code": "BadRequest", "message": what}})),
    }
}
