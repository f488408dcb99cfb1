//! The Add flow: pick an app, fill its form (optionally made for scenario steps: one, or several
//! of the same app sharing the connection), Save. Save
//! creates the connection and goes on to the app's consent page (OAuth) or to the new
//! connection's page; a refused form is shown again with the reason and what the user typed
//! (never a secret).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_domain::SecretString;
use patchbay_domain::provider::{AuthMode, Category};
use patchbay_service::ServiceError;
use patchbay_service::connections::{CreateConnection, Created};
use patchbay_service::team_providers::DiscoverProvider;
use patchbay_service::views::{FieldView, ProviderView};
use serde::Deserialize;

use super::actions::to_provider;
use super::{SECTION, nonempty, picker};
use crate::AppState;
use crate::error::status_of;
use crate::extract::LenientQuery;
use crate::ui::forms::{CsrfForm, FormData};
use crate::ui::pages::{
    AppChoice, Banner, InputField, NewConnectionPage, PickAppPage, ScopeChoice, StepContext, and_list, steps_phrase,
    with_article,
};
use crate::ui::render::{UiError, UiResult, page, user_text};
use crate::ui::session::{WebUser, percent_encode};

/// How a web user saves a credential the app could not check (the API names `"verify": false`).
pub(super) const SKIP_VERIFY_HINT: &str =
    "To save it anyway, enter it again with “Save without verifying” ticked (it is ticked below).";

/// What the role check refuses on these pages.
const ADD_CONNECTIONS: &str = "add connections";

/// Query of `GET /connections/new`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PickQuery {
    q: Option<String>,
    /// A category's word (`crm`); an unknown one shows every category.
    category: Option<String>,
}

/// `GET /connections/new`: pick an app.
pub(crate) async fn pick_app(
    State(state): State<AppState>,
    user: WebUser,
    LenientQuery(query): LenientQuery<PickQuery>,
) -> UiResult {
    // Listing the catalog is open to every role, so only this check keeps the picker from a
    // viewer.
    user.require_manage(SECTION, ADD_CONNECTIONS)?;
    let q = nonempty(query.q).map(|q| q.chars().take(100).collect::<String>()).unwrap_or_default();
    let category = query.category.as_deref().and_then(Category::parse);
    render_pick(&state, &user, StatusCode::OK, q, category, Discovering::default(), None).await
}

/// What the "Connect a server by URL" form re-fills after a refusal (never the secret).
#[derive(Default)]
struct Discovering {
    url: String,
    advanced: bool,
}

/// The app picker: the catalog and the team's discovered providers, filtered by `q` and
/// `category`, under category headings.
async fn render_pick(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    q: String,
    category: Option<Category>,
    discovering: Discovering,
    error: Option<String>,
) -> UiResult {
    let providers = state.patchbay.list_providers_for(&user.session.principal).await.map_err(user.fail(SECTION))?;
    let arranged = picker::arrange(&providers, &q.to_lowercase(), &q, category);
    let banner = error.map(|e| Banner::bad("The server could not be connected", Some(e)));
    let frame = user.frame(SECTION, "Add a connection").with_banner(banner);
    let page_data = PickAppPage {
        frame,
        q,
        category: category.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        chips: arranged.chips,
        empty: arranged.groups.is_empty(),
        groups: arranged.groups,
        discover_url: discovering.url,
        discover_advanced: discovering.advanced,
    };
    Ok(page(state, status, page_data))
}

/// `POST /connections/new/discover`: "Connect a server by URL". Success goes on to the new
/// provider's Add form; a refusal shows the picker again with the reason and the URL.
pub(crate) async fn discover(State(state): State<AppState>, CsrfForm { user, form }: CsrfForm) -> UiResult {
    let url = form.get("url").unwrap_or_default().trim().to_owned();
    let client_id = nonempty(form.get("client_id").map(str::to_owned));
    let req = DiscoverProvider {
        url: url.clone(),
        id: None,
        display_name: nonempty(form.get("display_name").map(str::to_owned)),
        client_id: client_id.clone(),
        client_secret: nonempty(form.get("client_secret").map(str::to_owned)).map(SecretString::from),
    };
    // The form holds the secret: gone before the slow part.
    drop(form);
    match state.patchbay.discover_provider(&user.session.principal, req).await {
        Ok(p) => Ok(Redirect::to(&format!("/connections/new/{}", percent_encode(&p.id))).into_response()),
        Err(
            e @ (ServiceError::Invalid(_)
            | ServiceError::Conflict(_)
            | ServiceError::ProviderUnavailable(_)
            | ServiceError::Forbidden(_)),
        ) => {
            let discovering = Discovering { url, advanced: client_id.is_some() };
            render_pick(&state, &user, status_of(&e), String::new(), None, discovering, Some(user_text(&e))).await
        }
        Err(e) => Err(user.fail(SECTION)(e)),
    }
}

/// What the user typed into the Add form, kept to re-fill it after a failed save (secret fields
/// are never re-filled: [`InputField::new`] leaves them empty).
struct Given {
    name: String,
    values: HashMap<String, String>,
    scopes: Vec<String>,
    for_step: Option<StepContext>,
    /// "Save without verifying" ticked.
    skip_verify: bool,
}

/// Query of `GET /connections/new/{provider}`: the scenario steps the connection is for, one
/// (`step`) or several sharing it (`steps=1,2`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewQuery {
    scenario: Option<String>,
    step: Option<usize>,
    steps: Option<String>,
}

/// The most steps one form is made for (a scenario has at most 200).
const MAX_FORM_STEPS: usize = 200;

/// The positions of `step` or `steps` (`1,2`); `None` when neither names a step.
fn positions(step: Option<usize>, steps: Option<&str>) -> Option<Vec<usize>> {
    let mut out: Vec<usize> = match steps {
        Some(list) => list.split(',').filter_map(|p| p.trim().parse().ok()).take(MAX_FORM_STEPS).collect(),
        None => step.into_iter().collect(),
    };
    out.sort_unstable();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// Loads the scenario steps an Add form is for, checking each runs a module of `provider`.
/// Returns the context and the scopes the steps need together.
async fn step_context(
    state: &AppState,
    user: &WebUser,
    provider: &str,
    scenario: &str,
    positions: Vec<usize>,
) -> Result<(StepContext, Vec<String>), UiError> {
    let fail = user.fail("scenarios");
    let s = match state.patchbay.get_scenario(&user.session.principal, scenario).await {
        Ok(s) => s,
        Err(e) => return Err(fail(e)),
    };
    let (mut names, mut scopes): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for &position in &positions {
        let Some(step) = s.steps.iter().find(|st| st.position == position) else {
            return Err(fail(ServiceError::NotFound(format!("scenario “{}” has no step {}", s.name, position + 1))));
        };
        if step.module.split_once('.').map(|(p, _)| p) != Some(provider) {
            return Err(fail(ServiceError::Invalid(format!(
                "step {} of “{}” runs {}: add a connection of its app instead",
                position + 1,
                s.name,
                step.module
            ))));
        }
        if !names.contains(&step.module_name) {
            names.push(step.module_name.clone());
        }
        scopes.extend(step.required_scopes.iter().filter(|sc| !scopes.contains(sc)).cloned().collect::<Vec<_>>());
    }
    let context = StepContext {
        scenario: s.id.clone(),
        scenario_name: s.name.clone(),
        positions: positions.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        which: steps_phrase(&positions),
        module_names: and_list(&names),
        several: positions.len() > 1,
        steps: positions,
    };
    Ok((context, scopes))
}

/// The scope checkboxes of an OAuth app's form: defaults fixed, the rest as given (all of them
/// when the app cannot limit access).
fn scope_choices(p: &ProviderView, given: &Given) -> Vec<ScopeChoice> {
    if p.auth_mode != AuthMode::Oauth2 {
        return Vec::new();
    }
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
}

fn render_new_form(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    p: &ProviderView,
    given: &Given,
    error: Option<String>,
) -> Response {
    let fields = |prefix: &str, list: Vec<&FieldView>| -> Vec<InputField> {
        list.into_iter().map(|f| InputField::new(prefix, f, &given.values)).collect()
    };
    let (required, optional): (Vec<_>, Vec<_>) = p.settings.iter().partition(|f| f.required);
    let optional_settings = fields("setting", optional);
    // Without a platform client the user's own one is the only way in: say which variables the
    // operator would set, and open the advanced settings where the own client goes.
    let client_notice = p.client.as_ref().filter(|c| !c.configured).map(|c| {
        let operator = if c.variables.is_empty() {
            "The operator can set its client_id and client_secret in the provider file".to_owned()
        } else {
            format!("The operator can set {} and restart Patchbay", c.variables.join(" and "))
        };
        if c.own_client {
            format!("{operator}; or enter your own client id and secret under Show advanced settings.")
        } else {
            format!("{operator}.")
        }
    });
    let show_advanced = optional_settings.iter().any(|f| !f.value.is_empty())
        || client_notice.is_some() && !optional_settings.is_empty();
    page(
        state,
        status,
        NewConnectionPage {
            frame: user.frame(SECTION, format!("Add {} connection", with_article(&p.display_name))),
            app: AppChoice::new(p),
            error,
            name: given.name.clone(),
            credential_fields: fields("credential", p.credential_fields.iter().collect()),
            required_settings: fields("setting", required),
            optional_settings,
            show_advanced,
            client_notice,
            scopes: scope_choices(p, given),
            granular: p.granular_scopes,
            is_oauth: p.auth_mode == AuthMode::Oauth2,
            full_access: p.full_access(),
            advice: p.access_advice.clone(),
            skip_verify: given.skip_verify,
            for_step: given.for_step.as_ref().map(|c| StepContext {
                scenario: c.scenario.clone(),
                scenario_name: c.scenario_name.clone(),
                steps: c.steps.clone(),
                positions: c.positions.clone(),
                which: c.which.clone(),
                module_names: c.module_names.clone(),
                several: c.several,
            }),
        },
    )
}

/// `GET /connections/new/{provider}`: the Add form.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(provider): Path<String>,
    LenientQuery(q): LenientQuery<NewQuery>,
) -> UiResult {
    // The use-cases this page calls are open to every role (`proposed_connection_name` needs
    // only read access), so only this check keeps the form from a viewer.
    user.require_manage(SECTION, ADD_CONNECTIONS)?;
    let who = &user.session.principal;
    let p = state.patchbay.get_provider_for(who, &provider).await.map_err(user.fail(SECTION))?;
    let name = state.patchbay.proposed_connection_name(who, &p.id).await.map_err(user.fail(SECTION))?;
    let (for_step, scopes) = match (q.scenario.as_deref(), positions(q.step, q.steps.as_deref())) {
        (Some(scenario), Some(positions)) => {
            let (ctx, scopes) = step_context(&state, &user, &p.id, scenario, positions).await?;
            (Some(ctx), scopes)
        }
        _ => (None, Vec::new()),
    };
    let given = Given { name, values: HashMap::new(), scopes, for_step, skip_verify: false };
    Ok(render_new_form(&state, &user, StatusCode::OK, &p, &given, None))
}

/// The credential and setting fields of a submitted form.
struct Entered {
    credentials: BTreeMap<String, SecretString>,
    settings: BTreeMap<String, SecretString>,
    /// The non-secret values by input name, to re-fill the form.
    values: HashMap<String, String>,
}

/// Reads the app's credential and setting fields from the form (blank ones are left out).
fn read_fields(p: &ProviderView, form: &FormData) -> Entered {
    let mut entered = Entered { credentials: BTreeMap::new(), settings: BTreeMap::new(), values: HashMap::new() };
    let groups = [
        ("credential", &p.credential_fields, &mut entered.credentials),
        ("setting", &p.settings, &mut entered.settings),
    ];
    for (prefix, fields, into) in groups {
        for f in fields {
            let key = format!("{prefix}.{}", f.key);
            if let Some(v) = form.get(&key).filter(|v| !v.trim().is_empty()) {
                into.insert(f.key.clone(), SecretString::from(v.to_owned()));
                if !f.secret {
                    entered.values.insert(key, v.to_owned());
                }
            }
        }
    }
    entered
}

/// The scenario steps a submitted form was made for, checked like the form's page did.
async fn posted_step(
    state: &AppState,
    user: &WebUser,
    p: &ProviderView,
    form: &FormData,
) -> Result<Option<StepContext>, UiError> {
    let step = form.get("step").and_then(|s| s.parse::<usize>().ok());
    match (form.get("scenario"), positions(step, form.get("steps"))) {
        (Some(scenario), Some(positions)) => Ok(Some(step_context(state, user, &p.id, scenario, positions).await?.0)),
        _ => Ok(None),
    }
}

/// `POST /connections/new/{provider}`: Save.
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    let p = state.patchbay.get_provider_for(&user.session.principal, &provider).await.map_err(user.fail(SECTION))?;
    let entered = read_fields(&p, &form);
    let name = form.get("name").unwrap_or_default().trim().to_owned();
    let scopes: Vec<String> =
        form.all("scope").into_iter().filter(|s| p.scopes.iter().any(|k| &k.scope == s)).collect();
    let for_step = posted_step(&state, &user, &p, &form).await?;
    let skip_verify = form.get("skip_verify") == Some("1");
    // The form holds the secrets: gone before the slow part.
    drop(form);
    let mut given = Given { name: name.clone(), values: entered.values, scopes: scopes.clone(), for_step, skip_verify };
    let req = CreateConnection {
        provider: p.id.clone(),
        name: (!name.is_empty()).then_some(name),
        modules: Vec::new(),
        scopes,
        settings: entered.settings,
        credentials: entered.credentials,
        verify: !skip_verify,
        return_to: given.for_step.as_ref().map(|_| "/scenarios".to_owned()),
        end_user: None,
        connect_session: None,
    };
    let binding = Some(user.session.binding.clone());
    let who = &user.session.principal;
    let result = match &given.for_step {
        // Made for steps: the service asks for their modules' scopes and binds every one of them.
        Some(ctx) => state.patchbay.connect_steps(who, &ctx.scenario, &ctx.steps, req, binding).await,
        None => state.patchbay.create_connection(who, req, binding).await,
    };
    match result {
        Ok(created) => Ok(after_create(&state, &user, &p, created, given.for_step.is_some())),
        // The app could not be reached: offer to save without the check, the choice ticked.
        Err(e @ ServiceError::VerifyUnavailable(_)) => {
            given.skip_verify = true;
            let text = format!("{} {SKIP_VERIFY_HINT}", user_text(&e));
            Ok(render_new_form(&state, &user, status_of(&e), &p, &given, Some(text)))
        }
        // What the user can fix in the form: the form again, with the reason.
        Err(
            e @ (ServiceError::Invalid(_)
            | ServiceError::Conflict(_)
            | ServiceError::CredentialRejected(_)
            | ServiceError::ProviderUnavailable(_)
            | ServiceError::Unsupported(_)),
        ) => Ok(render_new_form(&state, &user, status_of(&e), &p, &given, Some(user_text(&e)))),
        Err(e) => Err(user.fail(SECTION)(e)),
    }
}

/// Where a saved connection goes on: the consent page (OAuth), the scenarios (made for a step),
/// or its own page.
fn after_create(state: &AppState, user: &WebUser, p: &ProviderView, created: Created, for_step: bool) -> Response {
    match (created.authorize_url, for_step) {
        (Some(url), _) => to_provider(state, user, &url, &p.display_name),
        (None, true) => {
            Redirect::to(&format!("/scenarios?outcome=connected&connection={}", percent_encode(&created.connection.id)))
                .into_response()
        }
        (None, false) => {
            Redirect::to(&format!("/connections/{}?notice=created", percent_encode(&created.connection.id)))
                .into_response()
        }
    }
}
