//! The Connections section: list with filters, detail, Add (app picker and form), Verify, Rename,
//! Reauthorize, and Delete with a confirmation page and the revocation receipt.
//!
//! Changes are POST → redirect → GET, so a reload never repeats an action; the page the browser
//! lands on reads what happened from the database (the connection's status, last verify,
//! reason) and takes only a fixed word (`notice`, `outcome`) from the URL.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_domain::SecretString;
use patchbay_service::ServiceError;
use patchbay_service::connections::{CreateConnection, DeleteReceipt, ListFilter};
use patchbay_service::oauth::ReauthorizeRequest;
use patchbay_service::ui_queries::static_origin;
use patchbay_service::views::{ConnectionView, ProviderView};
use serde::Deserialize;
use time::OffsetDateTime;

use super::session::{FormData, WebUser, csrf_rejected};
use super::views::{
    AppChoice, Banner, Card, ConnectionPage, ConnectionsPage, DeletePage, InputField, NewConnectionPage, PickAppPage,
    ReceiptLine, ReceiptPage, RedirectPage, STATUS_FILTERS, ScopeChoice, SelectOption, SettingLine, StepContext,
    TimeText, UsageLine,
};
use super::{error_page, error_text, page};
use crate::AppState;

/// Query of `GET /connections`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    provider: Option<String>,
    status: Option<String>,
    q: Option<String>,
    /// What just happened: `verified`, `renamed`, `created`.
    notice: Option<String>,
    /// The connection the notice is about.
    c: Option<String>,
}

/// Query of `GET /connections/{id}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailQuery {
    /// Set by the OAuth callback: `connected`, `denied`, `error`, `account_mismatch`.
    outcome: Option<String>,
    /// What just happened here: `verified`, `renamed`, `created`.
    notice: Option<String>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn providers_by_id(state: &AppState) -> HashMap<String, ProviderView> {
    state.patchbay.list_providers().into_iter().map(|p| (p.id.clone(), p)).collect()
}

fn now(state: &AppState) -> OffsetDateTime {
    state.patchbay.now()
}

/// The banner after a redirect, from a fixed word and the stored connection.
fn notice_banner(notice: &str, c: &ConnectionView, now: OffsetDateTime) -> Option<Banner> {
    match notice {
        "verified" => {
            let v = c.last_verify.as_ref()?;
            let at = TimeText::new(v.checked_at, now).text;
            if v.ok {
                let account =
                    v.account.as_deref().or(c.account.as_deref()).map(|a| format!(" for {a}")).unwrap_or_default();
                Some(Banner::ok(
                    format!("“{}” is working", c.name),
                    Some(format!("{} accepted the credential{account} ({at}).", c.provider_name)),
                ))
            } else {
                Some(Banner::bad(
                    format!("“{}” failed verification", c.name),
                    Some(format!("{} ({at})", v.error.as_deref().unwrap_or("no reason given"))),
                ))
            }
        }
        "renamed" => Some(Banner::ok(format!("Renamed to “{}”", c.name), None)),
        "created" => Some(Banner::ok(
            format!("“{}” is connected", c.name),
            c.account.as_ref().map(|a| format!("Connected as {a}.")),
        )),
        _ => None,
    }
}

/// The banner after the OAuth callback sent the browser back, from the outcome word and the
/// connection's stored status (never from text in the URL).
fn outcome_banner(outcome: &str, c: &ConnectionView) -> Option<Banner> {
    let provider = &c.provider_name;
    let unchanged = "Nothing was changed: the connection keeps the access it had.".to_owned();
    let reason_or = |fallback: String| {
        if c.status == "active" { fallback } else { c.status_reason.clone().unwrap_or(fallback) }
    };
    match outcome {
        "connected" if c.status == "active" => Some(Banner::ok(
            format!("“{}” is connected", c.name),
            Some(match &c.account {
                Some(a) => format!("{provider} granted access as {a}."),
                None => format!("{provider} granted access."),
            }),
        )),
        "connected" => Some(Banner::bad(format!("“{}” is not connected", c.name), c.status_reason.clone())),
        // The card below shows the stored reason; the banner says what it means for the user.
        "denied" => Some(Banner::bad(
            format!("Access was denied at {provider}"),
            Some(if c.status == "active" {
                unchanged
            } else {
                "Nothing was granted, so the connection is not usable yet: Reauthorize to ask again, or Delete it."
                    .to_owned()
            }),
        )),
        "error" => {
            Some(Banner::bad(format!("{provider} could not complete the authorization"), Some(reason_or(unchanged))))
        }
        "account_mismatch" => Some(Banner::warn(
            format!("You granted access for a different {provider} account"),
            Some(format!(
                "Nothing was changed. Reauthorize while signed in to {provider} as {}.",
                c.account.as_deref().unwrap_or("the account this connection is for")
            )),
        )),
        _ => None,
    }
}

/// `GET /connections`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let who = &user.session.principal;
    let provider = nonempty(q.provider);
    let status = nonempty(q.status).filter(|s| STATUS_FILTERS.iter().any(|(v, _)| v == s));
    let text = nonempty(q.q).map(|t| t.chars().take(200).collect::<String>());
    let all = match state.patchbay.list_connections(who, &ListFilter::default()).await {
        Ok(v) => v,
        Err(e) => return error_page(user.nav("connections"), e),
    };
    let filtered = provider.is_some() || status.is_some() || text.is_some();
    let shown = if filtered {
        let filter = ListFilter { provider: provider.clone(), status: status.clone(), q: text.clone() };
        match state.patchbay.list_connections(who, &filter).await {
            Ok(v) => v,
            Err(e) => return error_page(user.nav("connections"), e),
        }
    } else {
        all.clone()
    };
    let providers = providers_by_id(&state);
    let now = now(&state);

    // The app filter offers the apps the team has connections to.
    let mut apps: Vec<(String, String)> = all.iter().map(|c| (c.provider.clone(), c.provider_name.clone())).collect();
    apps.sort_by_key(|a| a.1.to_lowercase());
    apps.dedup();
    let app_options = apps
        .into_iter()
        .map(|(id, name)| SelectOption { selected: provider.as_deref() == Some(id.as_str()), value: id, label: name })
        .collect();
    let status_options = STATUS_FILTERS
        .iter()
        .map(|(v, label)| SelectOption {
            value: (*v).to_owned(),
            label: (*label).to_owned(),
            selected: status.as_deref() == Some(v),
        })
        .collect();

    let banner = match (&q.notice, &q.c) {
        (Some(notice), Some(id)) => all.iter().find(|c| &c.id == id).and_then(|c| notice_banner(notice, c, now)),
        _ => None,
    };
    let cards = shown.iter().map(|c| Card::new(c, providers.get(&c.provider), now, "list")).collect();
    page(
        &state,
        StatusCode::OK,
        ConnectionsPage {
            title: "Connections".into(),
            nav: user.nav("connections"),
            csrf: user.csrf(),
            can_manage: user.can_manage(),
            banner,
            cards,
            total: all.len(),
            app_options,
            status_options,
            q: text.unwrap_or_default(),
            filtered,
        },
    )
}

/// Renders the detail page of a loaded connection.
fn detail_page(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    c: &ConnectionView,
    banner: Option<Banner>,
    rename_open: bool,
) -> Response {
    let providers = providers_by_id(state);
    let provider = providers.get(&c.provider);
    let now = now(state);
    let mut card = Card::new(c, provider, now, "detail");
    card.rename_open = rename_open;
    let label_of = |key: &str| {
        provider
            .and_then(|p| p.settings.iter().find(|s| s.key == key))
            .map_or_else(|| key.to_owned(), |s| s.label.clone())
    };
    let mut settings: Vec<SettingLine> =
        c.settings.iter().map(|(k, v)| SettingLine { label: label_of(k), value: v.clone(), secret: false }).collect();
    settings.extend(c.secret_settings.iter().map(|k| SettingLine {
        label: label_of(k),
        value: String::new(),
        secret: true,
    }));
    let credential = {
        let kind = match c.credential.kind.as_str() {
            "api_key" => "API key",
            "basic" => "Username and password",
            "oauth2" => "OAuth 2.0 tokens",
            _ => "Credential",
        };
        match (&c.credential.fingerprint, c.credential.state.as_str()) {
            (Some(fp), "set") => format!("{kind} · stored encrypted · fingerprint {fp}"),
            (_, "set") => format!("{kind} · stored encrypted"),
            _ => format!("{kind} · not stored yet"),
        }
    };
    let extra_scopes = match provider {
        Some(p) if card.is_oauth && p.granular_scopes => p
            .scopes
            .iter()
            .filter(|s| !c.granted_scopes.iter().any(|g| g.scope == s.scope) && !p.default_scopes.contains(&s.scope))
            .map(|s| ScopeChoice {
                scope: s.scope.clone(),
                description: s.description.clone().unwrap_or_default(),
                checked: false,
                fixed: false,
            })
            .collect(),
        _ => Vec::new(),
    };
    page(
        state,
        status,
        ConnectionPage {
            title: c.name.clone(),
            nav: user.nav("connections"),
            csrf: user.csrf(),
            can_manage: user.can_manage(),
            banner,
            cards: vec![card],
            id: c.id.clone(),
            provider: c.provider.clone(),
            provider_name: c.provider_name.clone(),
            credential,
            settings,
            extra_scopes,
            created: TimeText::new(c.created_at, now),
            updated: TimeText::new(c.updated_at, now),
        },
    )
}

/// `GET /connections/{id}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    query: Result<Query<DetailQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let c = match state.patchbay.get_connection(&user.session.principal, &id).await {
        Ok(c) => c,
        Err(e) => return error_page(user.nav("connections"), e),
    };
    let now = now(&state);
    let banner = q
        .outcome
        .as_deref()
        .and_then(|o| outcome_banner(o, &c))
        .or_else(|| q.notice.as_deref().and_then(|n| notice_banner(n, &c, now)));
    detail_page(&state, &user, StatusCode::OK, &c, banner, false)
}

/// Where a card's form sends the browser afterwards, with a notice word.
fn back_to(form: &FormData, id: &str, notice: &str) -> Response {
    // Ids are `con_` + hex once the service accepted them; encode anyway so nothing else can
    // shape the Location header.
    let id = super::session::percent_encode(id);
    let location = if form.get("back") == Some("list") {
        format!("/connections?notice={notice}&c={id}#{id}")
    } else {
        format!("/connections/{id}?notice={notice}")
    };
    Redirect::to(&location).into_response()
}

/// `POST /connections/{id}/verify`.
pub(crate) async fn verify(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    match state.patchbay.verify_connection(&user.session.principal, &id).await {
        // The outcome (ok or the provider's reason) is stored with the connection; the page
        // the browser lands on shows it.
        Ok(_) => back_to(&form, &id, "verified"),
        Err(e) => error_page(user.nav("connections"), e),
    }
}

/// `POST /connections/{id}/rename`.
pub(crate) async fn rename(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    let who = &user.session.principal;
    let name = form.get("name").unwrap_or_default();
    match state.patchbay.rename_connection(who, &id, name).await {
        Ok(c) => back_to(&form, &c.id, "renamed"),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let status =
                if matches!(e, ServiceError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
            match state.patchbay.get_connection(who, &id).await {
                Ok(c) => detail_page(
                    &state,
                    &user,
                    status,
                    &c,
                    Some(Banner::bad("The name was not changed", Some(error_text(&e)))),
                    true,
                ),
                Err(e) => error_page(user.nav("connections"), e),
            }
        }
        Err(e) => error_page(user.nav("connections"), e),
    }
}

/// Sends the browser to a consent page: a 303 when the page CSP allows its origin as a form
/// target (a fixed catalog address), else an interstitial page that continues by navigation.
fn to_provider(state: &AppState, user: &WebUser, url: &str, provider_name: &str) -> Response {
    let allowed = static_origin(url).is_some_and(|origin| state.patchbay.authorization_origins().contains(&origin));
    if allowed {
        return Redirect::to(url).into_response();
    }
    page(
        state,
        StatusCode::OK,
        RedirectPage {
            title: format!("Continue to {provider_name}"),
            nav: user.nav("connections"),
            url: url.to_owned(),
            provider_name: provider_name.to_owned(),
        },
    )
}

/// `POST /connections/{id}/reauthorize`.
pub(crate) async fn reauthorize(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    let req = ReauthorizeRequest {
        modules: form.all("module"),
        scopes: form.all("scope"),
        allow_account_change: form.get("allow_account_change") == Some("1"),
        // A fixed word, not a path from the form: only known pages can be the landing.
        return_to: (form.get("return") == Some("scenarios")).then(|| "/scenarios".to_owned()),
    };
    match state
        .patchbay
        .reauthorize_connection(&user.session.principal, &id, req, Some(user.session.binding.clone()))
        .await
    {
        Ok(start) => to_provider(&state, &user, &start.authorize_url, &start.connection.provider_name),
        Err(e) => error_page(user.nav("connections"), e),
    }
}

/// Query of `GET /connections/new`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PickQuery {
    q: Option<String>,
}

/// `GET /connections/new`: pick an app.
pub(crate) async fn pick_app(
    State(state): State<AppState>,
    user: WebUser,
    query: Result<Query<PickQuery>, QueryRejection>,
) -> Response {
    if !user.can_manage() {
        return error_page(
            user.nav("connections"),
            ServiceError::Forbidden(format!(
                "the `{}` role may not add connections: ask an admin",
                user.session.principal.role
            )),
        );
    }
    let q = query
        .ok()
        .and_then(|Query(q)| nonempty(q.q))
        .map(|q| q.chars().take(100).collect::<String>())
        .unwrap_or_default();
    let needle = q.to_lowercase();
    let mut apps: Vec<AppChoice> = state
        .patchbay
        .list_providers()
        .iter()
        .map(AppChoice::new)
        .filter(|a| needle.is_empty() || a.search.contains(&needle))
        .collect();
    apps.sort_by_key(|a| a.name.to_lowercase());
    page(
        &state,
        StatusCode::OK,
        PickAppPage { title: "Add a connection".into(), nav: user.nav("connections"), q, apps },
    )
}

/// What the user typed into the Add form, kept to re-fill it after a failed save (secret fields
/// are never re-filled: [`InputField::new`] leaves them empty).
struct Given {
    name: String,
    values: HashMap<String, String>,
    scopes: Vec<String>,
    for_step: Option<StepContext>,
}

/// Query of `GET /connections/new/{provider}`: the scenario step the connection is for.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewQuery {
    scenario: Option<String>,
    step: Option<usize>,
}

/// Loads the scenario step an Add form is for, checking it runs a module of `provider`.
/// Returns the context and the scopes the step needs.
async fn step_context(
    state: &AppState,
    user: &WebUser,
    provider: &str,
    scenario: &str,
    position: usize,
) -> Result<(StepContext, Vec<String>), ServiceError> {
    let s = state.patchbay.get_scenario(&user.session.principal, scenario).await?;
    let step = s
        .steps
        .iter()
        .find(|st| st.position == position)
        .ok_or_else(|| ServiceError::NotFound(format!("scenario “{}” has no step {}", s.name, position + 1)))?;
    if step.module.split_once('.').map(|(p, _)| p) != Some(provider) {
        return Err(ServiceError::Invalid(format!(
            "step {} of “{}” runs {}: add a connection of its app instead",
            position + 1,
            s.name,
            step.module
        )));
    }
    Ok((
        StepContext {
            scenario: s.id.clone(),
            scenario_name: s.name.clone(),
            position,
            module_name: step.module_name.clone(),
        },
        step.required_scopes.clone(),
    ))
}

fn render_new_form(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    p: &ProviderView,
    given: &Given,
    error: Option<String>,
) -> Response {
    let is_oauth = p.auth_mode == "oauth2";
    let scopes = if is_oauth {
        p.scopes
            .iter()
            .map(|s| {
                let fixed = p.default_scopes.contains(&s.scope);
                ScopeChoice {
                    scope: s.scope.clone(),
                    description: s.description.clone().unwrap_or_default(),
                    checked: fixed || given.scopes.contains(&s.scope) || !p.granular_scopes,
                    fixed,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let credential_fields =
        p.credential_fields.iter().map(|f| InputField::new("credential", f, &given.values)).collect();
    let (required, optional): (Vec<_>, Vec<_>) = p.settings.iter().partition(|f| f.required);
    let optional_settings: Vec<InputField> =
        optional.into_iter().map(|f| InputField::new("setting", f, &given.values)).collect();
    let show_advanced = optional_settings.iter().any(|f| !f.value.is_empty());
    page(
        state,
        status,
        NewConnectionPage {
            title: format!("Add a {} connection", p.display_name),
            nav: user.nav("connections"),
            csrf: user.csrf(),
            app: AppChoice::new(p),
            error,
            name: given.name.clone(),
            credential_fields,
            required_settings: required.into_iter().map(|f| InputField::new("setting", f, &given.values)).collect(),
            optional_settings,
            show_advanced,
            scopes,
            granular: p.granular_scopes,
            is_oauth,
            for_step: given.for_step.as_ref().map(|c| StepContext {
                scenario: c.scenario.clone(),
                scenario_name: c.scenario_name.clone(),
                position: c.position,
                module_name: c.module_name.clone(),
            }),
        },
    )
}

/// `GET /connections/new/{provider}`: the Add form.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(provider): Path<String>,
    query: Result<Query<NewQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let who = &user.session.principal;
    if !user.can_manage() {
        return error_page(
            user.nav("connections"),
            ServiceError::Forbidden(format!("the `{}` role may not add connections: ask an admin", who.role)),
        );
    }
    let p = match state.patchbay.get_provider(&provider) {
        Ok(p) => p,
        Err(e) => return error_page(user.nav("connections"), e),
    };
    let name = match state.patchbay.proposed_connection_name(who, &p.id).await {
        Ok(n) => n,
        Err(e) => return error_page(user.nav("connections"), e),
    };
    let (for_step, scopes) = match (q.scenario.as_deref(), q.step) {
        (Some(scenario), Some(position)) => match step_context(&state, &user, &p.id, scenario, position).await {
            Ok((ctx, scopes)) => (Some(ctx), scopes),
            Err(e) => return error_page(user.nav("scenarios"), e),
        },
        _ => (None, Vec::new()),
    };
    let given = Given { name, values: HashMap::new(), scopes, for_step };
    render_new_form(&state, &user, StatusCode::OK, &p, &given, None)
}

/// `POST /connections/new/{provider}`: Save.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: WebUser,
    Path(provider): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    let p = match state.patchbay.get_provider(&provider) {
        Ok(p) => p,
        Err(e) => return error_page(user.nav("connections"), e),
    };
    let mut credentials = std::collections::BTreeMap::new();
    let mut settings = std::collections::BTreeMap::new();
    let mut values = HashMap::new();
    for f in &p.credential_fields {
        let key = format!("credential.{}", f.key);
        if let Some(v) = form.get(&key).filter(|v| !v.trim().is_empty()) {
            credentials.insert(f.key.clone(), SecretString::from(v.to_owned()));
            if !f.secret {
                values.insert(key, v.to_owned());
            }
        }
    }
    for f in &p.settings {
        let key = format!("setting.{}", f.key);
        if let Some(v) = form.get(&key).filter(|v| !v.trim().is_empty()) {
            settings.insert(f.key.clone(), SecretString::from(v.to_owned()));
            if !f.secret {
                values.insert(key, v.to_owned());
            }
        }
    }
    let name = form.get("name").unwrap_or_default().trim().to_owned();
    let scopes: Vec<String> =
        form.all("scope").into_iter().filter(|s| p.scopes.iter().any(|k| &k.scope == s)).collect();
    let for_step = match (form.get("scenario"), form.get("step").and_then(|s| s.parse::<usize>().ok())) {
        (Some(scenario), Some(position)) => match step_context(&state, &user, &p.id, scenario, position).await {
            Ok((ctx, _)) => Some(ctx),
            Err(e) => return error_page(user.nav("scenarios"), e),
        },
        _ => None,
    };
    let given = Given { name: name.clone(), values, scopes: scopes.clone(), for_step };
    drop(form);
    let req = CreateConnection {
        provider: p.id.clone(),
        name: (!name.is_empty()).then_some(name),
        modules: Vec::new(),
        scopes,
        settings,
        credentials,
        verify: true,
        return_to: given.for_step.as_ref().map(|_| "/scenarios".to_owned()),
        binding: Some(user.session.binding.clone()),
    };
    let who = &user.session.principal;
    let result = match &given.for_step {
        // Made for a step: the service adds the step's module scopes and binds the step.
        Some(ctx) => state.patchbay.connect_step(who, &ctx.scenario, ctx.position, req).await,
        None => state.patchbay.create_connection(who, req).await,
    };
    match result {
        Ok(created) => match (created.authorize_url, &given.for_step) {
            (Some(url), _) => to_provider(&state, &user, &url, &p.display_name),
            (None, Some(_)) => Redirect::to("/scenarios?outcome=connected").into_response(),
            (None, None) => Redirect::to(&format!(
                "/connections/{}?notice=created",
                super::session::percent_encode(&created.connection.id)
            ))
            .into_response(),
        },
        Err(
            e @ (ServiceError::Invalid(_)
            | ServiceError::Conflict(_)
            | ServiceError::CredentialRejected(_)
            | ServiceError::ProviderUnavailable(_)
            | ServiceError::Unsupported(_)),
        ) => {
            let status = match e {
                ServiceError::Conflict(_) => StatusCode::CONFLICT,
                ServiceError::CredentialRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
                ServiceError::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
                _ => StatusCode::BAD_REQUEST,
            };
            render_new_form(&state, &user, status, &p, &given, Some(error_text(&e)))
        }
        Err(e) => error_page(user.nav("connections"), e),
    }
}

/// `GET /connections/{id}/delete`: the confirmation.
pub(crate) async fn confirm_delete(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> Response {
    let c = match state.patchbay.get_connection(&user.session.principal, &id).await {
        Ok(c) => c,
        Err(e) => return error_page(user.nav("connections"), e),
    };
    page(
        &state,
        StatusCode::OK,
        DeletePage {
            title: format!("Delete “{}”?", c.name),
            nav: user.nav("connections"),
            csrf: user.csrf(),
            used_by: c.used_by.iter().map(UsageLine::new).collect(),
            id: c.id,
            name: c.name,
            provider_name: c.provider_name,
        },
    )
}

fn receipt_line(item: &patchbay_service::connections::RevocationItem) -> ReceiptLine {
    let (outcome, class) = match item.outcome.as_str() {
        "revoked" => ("Revoked", "ok"),
        "pending" => ("Pending: retried in the background", "info"),
        "not_supported" => ("Not supported", "warn"),
        "failed" => ("Failed", "bad"),
        other => (other, "muted"),
    };
    ReceiptLine { credential: item.credential.clone(), outcome: outcome.to_owned(), class, detail: item.detail.clone() }
}

/// `POST /connections/{id}/delete`: delete and show the receipt.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    // The confirmation page listed the scenario steps that use it (and sends `force` only then);
    // a step bound since then makes the service refuse, and the user sees why.
    let force = form.get("force") == Some("1");
    let receipt: DeleteReceipt = match state.patchbay.delete_connection_with(&user.session.principal, &id, force).await
    {
        Ok(r) => r,
        Err(e) => return error_page(user.nav("connections"), e),
    };
    page(
        &state,
        StatusCode::OK,
        ReceiptPage {
            title: "Connection deleted".into(),
            nav: user.nav("connections"),
            revocation: receipt.revocation.iter().map(receipt_line).collect(),
            id: receipt.id,
            name: receipt.name,
            provider: receipt.provider,
            secret_destroyed: receipt.secret_destroyed,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_service::views::CredentialView;

    fn view(status: &str, reason: Option<&str>) -> ConnectionView {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        ConnectionView {
            id: "con_1".into(),
            name: "Mine".into(),
            provider: "democloud".into(),
            provider_name: "Demo Cloud".into(),
            auth_mode: "oauth2".into(),
            status: status.into(),
            status_reason: reason.map(str::to_owned),
            account: Some("ann@example.test".into()),
            granted_scopes: Vec::new(),
            required_scopes: Vec::new(),
            missing_scopes: Vec::new(),
            unused_scopes: Vec::new(),
            full_access: false,
            expires_at: None,
            reauthorize_by: None,
            last_verified_at: None,
            last_verify: None,
            used_by: Vec::new(),
            settings: Default::default(),
            secret_settings: Vec::new(),
            credential: CredentialView { kind: "oauth2".into(), state: "set".into(), fingerprint: None },
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn outcome_banners_come_from_the_stored_status() {
        let b = outcome_banner("connected", &view("active", None)).unwrap();
        assert_eq!(b.class, "ok");
        // A "connected" word in the URL does not make a pending connection look connected.
        let b = outcome_banner("connected", &view("pending", Some("access denied at Demo Cloud"))).unwrap();
        assert_eq!(b.class, "bad");
        let b = outcome_banner("error", &view("pending", Some("the token exchange failed: invalid_client"))).unwrap();
        assert_eq!(b.detail.as_deref(), Some("the token exchange failed: invalid_client"));
        let b = outcome_banner("denied", &view("pending", Some("access denied at Demo Cloud"))).unwrap();
        assert!(b.detail.unwrap().contains("not usable yet"));
        // An active connection whose reauthorization was denied keeps working.
        let b = outcome_banner("denied", &view("active", None)).unwrap();
        assert!(b.detail.unwrap().contains("Nothing was changed"));
        assert!(outcome_banner("<script>", &view("active", None)).is_none());
    }
}
