//! `GET /connections`: the team's connections as cards, filtered by app, status and text.

use axum::extract::State;
use axum::http::StatusCode;
use patchbay_service::connections::ListFilter;
use patchbay_service::views::ConnectionView;
use serde::Deserialize;

use super::banners::notice_banner;
use super::{SECTION, nonempty, now, team_providers_by_id};
use crate::AppState;
use crate::extract::LenientQuery;
use crate::ui::pages::{Banner, Card, ConnectionsPage, STATUS_FILTERS, SelectOption};
use crate::ui::render::{UiResult, page};
use crate::ui::session::WebUser;

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

/// `GET /connections`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    LenientQuery(q): LenientQuery<ListQuery>,
) -> UiResult {
    let who = &user.session.principal;
    let provider = nonempty(q.provider);
    let status = nonempty(q.status).filter(|s| STATUS_FILTERS.iter().any(|(v, _)| v.as_str() == s));
    let text = nonempty(q.q).map(|t| t.chars().take(200).collect::<String>());
    let all = state.patchbay.list_connections(who, &ListFilter::default()).await.map_err(user.fail(SECTION))?;
    let filtered = provider.is_some() || status.is_some() || text.is_some();
    let shown = if filtered {
        let filter = ListFilter { provider: provider.clone(), status: status.clone(), q: text.clone() };
        state.patchbay.list_connections(who, &filter).await.map_err(user.fail(SECTION))?
    } else {
        all.clone()
    };
    let providers = team_providers_by_id(&state, &user).await;
    let now = now(&state);
    let banner = match (&q.notice, &q.c) {
        (Some(notice), Some(id)) => all.iter().find(|c| &c.id == id).and_then(|c| notice_banner(notice, c, now)),
        // The connection is gone, so the banner cannot name it.
        (Some(notice), None) if notice == "discarded" => Some(Banner::ok(
            "The connection was discarded",
            Some("It had never been granted access, so there was nothing to revoke.".into()),
        )),
        _ => None,
    };
    let cards = shown.iter().map(|c| Card::new(c, providers.get(&c.provider), now, "list")).collect();
    Ok(page(
        &state,
        StatusCode::OK,
        ConnectionsPage {
            frame: user.frame(SECTION, "Connections").with_banner(banner),
            cards,
            total: all.len(),
            app_options: app_options(&all, provider.as_deref()),
            status_options: status_options(status.as_deref()),
            q: text.unwrap_or_default(),
            filtered,
        },
    ))
}

/// The app filter: the apps the team has connections to, by name.
fn app_options(all: &[ConnectionView], selected: Option<&str>) -> Vec<SelectOption> {
    let mut apps: Vec<(String, String)> = all.iter().map(|c| (c.provider.clone(), c.provider_name.clone())).collect();
    apps.sort_by_key(|a| a.1.to_lowercase());
    apps.dedup();
    apps.into_iter()
        .map(|(id, name)| SelectOption { selected: selected == Some(id.as_str()), value: id, label: name })
        .collect()
}

/// The status filter.
fn status_options(selected: Option<&str>) -> Vec<SelectOption> {
    STATUS_FILTERS
        .iter()
        .map(|(v, label)| SelectOption {
            value: v.as_str().to_owned(),
            label: (*label).to_owned(),
            selected: selected == Some(v.as_str()),
        })
        .collect()
}
