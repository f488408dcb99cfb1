//! The hosted page of a connect session, for a platform's end user without a Patchbay account
//! (docs/embedding.md):
//!
//! - `GET /connect?token=…` exchanges the session token for the page's cookie and redirects to
//!   `/connect/s`, so the token leaves the address bar (and any later Referer) at once;
//! - `GET /connect/s`: the session's apps (or straight to the one app / the reconnected one);
//! - `GET`, `POST /connect/s/{provider}`: the app's form (name, API key or password, "Show
//!   advanced settings"); Save verifies the key or sends the browser to the app's consent page;
//! - `GET /connect/done`: where a consent flow lands; the result.
//!
//! A link that cannot be used (unknown, expired, used, opened before) answers a page saying so,
//! never a 500. Every page works without JavaScript and carries the page CSP. The handlers only
//! translate: the session's limits are the service's (`connect_sessions/page.rs`).

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use patchbay_domain::SecretString;
use patchbay_service::ServiceError;
use patchbay_service::connect_sessions::{ConnectSave, ConnectVisit, Opening, Saved, VisitState};
use patchbay_service::oauth::CallbackOutcome;
use patchbay_service::views::{FieldView, ProviderView};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::connections::to_provider_in;
use super::forms::FormData;
use super::pages::{AppChoice, ConnectForm, ConnectPage, ConnectResult, ConnectView, Frame, InputField};
use super::render::{page, user_text};
use super::session::percent_encode;
use crate::AppState;
use crate::cookies::{CONNECT_COOKIE, connect_cookie, cookie};
use crate::error::{Cause, status_of};
use crate::extract::LenientQuery;

/// The hosted page's routes. Their answers keep the window's opener (`Cross-Origin-Opener-Policy:
/// unsafe-none`, where every other page isolates it): the platform's page that opened the popup
/// must see it close and receive its message.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/connect", get(open))
        .route("/connect/s", get(start))
        .route("/connect/s/{provider}", get(form).post(save))
        .route("/connect/done", get(done))
        .layer(axum::middleware::map_response(keep_opener))
}

async fn keep_opener(mut response: Response) -> Response {
    response.headers_mut().insert("cross-origin-opener-policy", HeaderValue::from_static("unsafe-none"));
    response
}

/// Query of `GET /connect`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OpenQuery {
    token: Option<String>,
}

/// Query of `GET /connect/done` (what the OAuth callback appends to the landing path).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DoneQuery {
    outcome: Option<String>,
    connection: Option<String>,
}

fn render(state: &AppState, status: StatusCode, heading: String, for_whom: String, view: ConnectView) -> Response {
    let mut response =
        page(state, status, ConnectPage { frame: Frame::anonymous(heading.clone()), heading, for_whom, view });
    crate::headers::no_store(&mut response);
    response
}

fn notice(state: &AppState, status: StatusCode, message: &str) -> Response {
    let view = ConnectView::Notice { message: message.to_owned() };
    render(state, status, "This connect link cannot be used".into(), String::new(), view)
}

fn failure(state: &AppState, e: ServiceError) -> Response {
    let status = status_of(&e);
    let response = notice(state, status, &user_text(&e));
    Cause::attach_of(&e, response)
}

fn platform_name(v: &ConnectVisit) -> &str {
    if v.platform.is_empty() { "the app" } else { v.platform.as_str() }
}

fn heading(v: &ConnectVisit, app: Option<&str>) -> String {
    let platform = if v.platform.is_empty() { "This app" } else { v.platform.as_str() };
    match app {
        Some(app) => format!("{platform} wants to connect your {app}"),
        None => format!("{platform} wants to connect one of your apps"),
    }
}

fn for_whom(v: &ConnectVisit) -> String {
    format!("For {}", v.end_user.label())
}

/// The page's session from its cookie; a page answer when there is none.
async fn visit(state: &AppState, headers: &HeaderMap) -> Result<(String, ConnectVisit), Response> {
    let no_session = || {
        notice(
            state,
            StatusCode::UNAUTHORIZED,
            "This page has no connect session: open the link from the app you came from again.",
        )
    };
    let Some(secret) = cookie(headers, CONNECT_COOKIE) else { return Err(no_session()) };
    match state.patchbay.connect_visit(&secret).await {
        Ok(Some(v)) => Ok((secret, v)),
        Ok(None) => Err(no_session()),
        Err(e) => Err(failure(state, e)),
    }
}

/// The page for a completed or expired visit; `None` for one that can still save.
fn closed(state: &AppState, v: &ConnectVisit) -> Option<Response> {
    match v.state {
        VisitState::Open => None,
        VisitState::Completed => Some(result_page(state, v, true, None)),
        VisitState::Expired => Some(notice(
            state,
            StatusCode::GONE,
            "This connect link expired: go back to the app you came from and start again.",
        )),
    }
}

/// `GET /connect?token=…`.
pub(crate) async fn open(State(state): State<AppState>, LenientQuery(q): LenientQuery<OpenQuery>) -> Response {
    let Some(token) = q.token.filter(|t| !t.is_empty() && t.len() <= 200) else {
        return notice(
            &state,
            StatusCode::NOT_FOUND,
            "This connect link is not valid: open it again from the app you came from.",
        );
    };
    match state.patchbay.open_connect_session(&token).await {
        Ok(Opening::Opened(secret)) => {
            let max_age = patchbay_service::connect_sessions::MAX_LIFETIME.whole_seconds();
            let mut response = Redirect::to("/connect/s").into_response();
            response.headers_mut().append(header::SET_COOKIE, connect_cookie(&state, secret.expose_secret(), max_age));
            crate::headers::no_store(&mut response);
            response
        }
        Ok(Opening::Unknown) => notice(
            &state,
            StatusCode::NOT_FOUND,
            "This connect link is not valid: open it again from the app you came from.",
        ),
        Ok(Opening::Expired) => notice(
            &state,
            StatusCode::GONE,
            "This connect link expired: go back to the app you came from and start again.",
        ),
        Ok(Opening::Used) => notice(
            &state,
            StatusCode::GONE,
            "This connect link was already used to add a connection: go back to the app you came from.",
        ),
        Ok(Opening::AlreadyOpened) => notice(
            &state,
            StatusCode::CONFLICT,
            "This connect link was already opened: continue in the window where you opened it, or start again from the app you came from.",
        ),
        Err(e) => failure(&state, e),
    }
}

/// `GET /connect/s`: the apps of the session.
pub(crate) async fn start(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, v) = match visit(&state, &headers).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if let Some(page) = closed(&state, &v) {
        return page;
    }
    if let [only] = v.providers.as_slice() {
        return Redirect::to(&format!("/connect/s/{}", percent_encode(&only.id))).into_response();
    }
    let apps = v.providers.iter().map(AppChoice::new).collect();
    render(&state, StatusCode::OK, heading(&v, None), for_whom(&v), ConnectView::Pick { apps })
}

fn form_page(
    state: &AppState,
    v: &ConnectVisit,
    p: &ProviderView,
    status: StatusCode,
    values: &HashMap<String, String>,
    error: Option<String>,
) -> Response {
    let fields = |prefix: &str, list: Vec<&FieldView>| -> Vec<InputField> {
        list.into_iter().map(|f| InputField::new(prefix, f, values)).collect()
    };
    let (required, optional): (Vec<_>, Vec<_>) = p.settings.iter().partition(|f| f.required);
    let name = match &v.reconnect {
        Some((_, name)) => name.clone(),
        None => values.get("name").cloned().unwrap_or_else(|| default_name(p)),
    };
    let form = ConnectForm {
        app: AppChoice::new(p),
        csrf: v.csrf.clone(),
        name,
        credential_fields: fields("credential", p.credential_fields.iter().collect()),
        required_settings: fields("setting", required),
        optional_settings: fields("setting", optional),
        is_oauth: p.auth_mode == patchbay_domain::provider::AuthMode::Oauth2,
        error,
        reconnect: v.reconnect.is_some(),
        can_go_back: v.providers.len() > 1,
    };
    render(state, status, heading(v, Some(&p.display_name)), for_whom(v), ConnectView::Form(Box::new(form)))
}

fn default_name(p: &ProviderView) -> String {
    format!("My {} connection", p.display_name)
}

fn offered<'a>(v: &'a ConnectVisit, provider: &str) -> Option<&'a ProviderView> {
    v.providers.iter().find(|p| p.id == provider)
}

/// `GET /connect/s/{provider}`: the app's form.
pub(crate) async fn form(State(state): State<AppState>, headers: HeaderMap, Path(provider): Path<String>) -> Response {
    let (_, v) = match visit(&state, &headers).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if let Some(page) = closed(&state, &v) {
        return page;
    }
    match offered(&v, &provider) {
        Some(p) => form_page(&state, &v, p, StatusCode::OK, &HashMap::new(), None),
        None => notice(
            &state,
            StatusCode::NOT_FOUND,
            "This app is not offered by this connect link: pick one of the apps listed.",
        ),
    }
}

/// The form's credential and setting fields (blank ones left out) and the non-secret values to
/// re-fill it with.
fn read_fields(p: &ProviderView, form: &FormData) -> (ConnectSave, HashMap<String, String>) {
    let mut save = ConnectSave::default();
    let mut values = HashMap::new();
    let groups: [(&str, &Vec<FieldView>, &mut BTreeMap<String, SecretString>); 2] =
        [("credential", &p.credential_fields, &mut save.credentials), ("setting", &p.settings, &mut save.settings)];
    for (prefix, fields, into) in groups {
        for f in fields {
            let key = format!("{prefix}.{}", f.key);
            if let Some(v) = form.get(&key).filter(|v| !v.trim().is_empty()) {
                into.insert(f.key.clone(), SecretString::from(v.to_owned()));
                if !f.secret {
                    values.insert(key, v.to_owned());
                }
            }
        }
    }
    let name = form.get("name").unwrap_or_default().trim().to_owned();
    values.insert("name".into(), name.clone());
    // The proposed name unchanged: the service picks the next free default ("… 2").
    save.name = (!name.is_empty() && name != default_name(p)).then_some(name);
    (save, values)
}

/// `POST /connect/s/{provider}`: Save.
pub(crate) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    form: FormData,
) -> Response {
    let (secret, v) = match visit(&state, &headers).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if let Some(page) = closed(&state, &v) {
        return page;
    }
    let Some(p) = offered(&v, &provider).cloned() else {
        return notice(
            &state,
            StatusCode::NOT_FOUND,
            "This app is not offered by this connect link: pick one of the apps listed.",
        );
    };
    let csrf = form.get("csrf").unwrap_or_default().to_owned();
    let (save, values) = read_fields(&p, &form);
    // The form holds the secrets: gone before the slow part.
    drop(form);
    match state.patchbay.connect_save(&secret, &csrf, &p.id, save).await {
        Ok(Saved::Consent { authorize_url }) => to_provider_in(
            &state,
            Frame::anonymous(format!("Continue to {}", p.display_name)),
            &authorize_url,
            &p.display_name,
        ),
        Ok(Saved::Done { connection }) => {
            Redirect::to(&format!("/connect/done?outcome=connected&connection={}", percent_encode(&connection)))
                .into_response()
        }
        Err(
            e @ (ServiceError::Invalid(_)
            | ServiceError::CredentialRejected(_)
            | ServiceError::VerifyUnavailable(_)
            | ServiceError::ProviderUnavailable(_)
            | ServiceError::Conflict(_)),
        ) => {
            let response = form_page(&state, &v, &p, status_of(&e), &values, Some(user_text(&e)));
            Cause::attach_of(&e, response)
        }
        Err(e) => failure(&state, e),
    }
}

fn result_page(state: &AppState, v: &ConnectVisit, ok: bool, outcome: Option<CallbackOutcome>) -> Response {
    let app = v.connection.as_ref().and(v.providers.first()).map(|p| p.display_name.clone());
    let message = if ok {
        "The connection was added. You can go back to the app you came from.".to_owned()
    } else {
        match outcome {
            Some(CallbackOutcome::Denied) => "You did not allow access, so nothing was connected.".to_owned(),
            Some(CallbackOutcome::AccountMismatch) => {
                "You allowed access for another account than the one connected before: nothing was changed.".to_owned()
            }
            _ => "The app answered with an error, so nothing was connected.".to_owned(),
        }
    };
    let retry = (!ok && v.state == VisitState::Open).then(|| "/connect/s".to_owned());
    let word = if ok { "connected" } else { outcome.map_or("error", CallbackOutcome::as_str) };
    let back = v.return_link(word).map(|href| (href, platform_name(v).to_owned()));
    let result = ConnectResult {
        ok,
        message,
        connection: v.connection.clone(),
        retry,
        session: v.id.clone(),
        origins: v.allowed_origins.join(" "),
        back,
    };
    let heading = heading(v, if v.providers.len() == 1 { app.as_deref() } else { None });
    render(state, StatusCode::OK, heading, for_whom(v), ConnectView::Result(result))
}

/// `GET /connect/done?outcome=…&connection=…`: where the page's consent flows and saves land.
pub(crate) async fn done(
    State(state): State<AppState>,
    headers: HeaderMap,
    LenientQuery(q): LenientQuery<DoneQuery>,
) -> Response {
    let Some(secret) = cookie(&headers, CONNECT_COOKIE) else {
        return notice(
            &state,
            StatusCode::UNAUTHORIZED,
            "This page has no connect session: open the link from the app you came from again.",
        );
    };
    let outcome = q.outcome.as_deref().and_then(CallbackOutcome::parse).unwrap_or(CallbackOutcome::Error);
    let connection = q.connection.unwrap_or_default();
    match state.patchbay.connect_landed(&secret, &connection, outcome).await {
        Ok(Some(v)) => {
            let ok = v.state == VisitState::Completed;
            // Connected, with a return URL: straight back to the platform, the outcome appended.
            if ok && let Some(href) = v.return_link("connected") {
                let mut response = Redirect::to(&href).into_response();
                crate::headers::no_store(&mut response);
                return response;
            }
            result_page(&state, &v, ok, Some(outcome))
        }
        Ok(None) => notice(
            &state,
            StatusCode::UNAUTHORIZED,
            "This page has no connect session: open the link from the app you came from again.",
        ),
        Err(e) => failure(&state, e),
    }
}
