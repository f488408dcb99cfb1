//! `GET /connections`: the team's connections as cards, or as a compact table for many of them,
//! filtered by app, status and text.
//!
//! The view is chosen with `?view=table` or `?view=cards` and remembered in the
//! `patchbay_view` cookie (a preference, not a secret), so the next visit, a filter or a redirect
//! back here keeps it.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use patchbay_service::connections::ListFilter;
use patchbay_service::views::ConnectionView;
use serde::Deserialize;

use super::banners::notice_banner;
use super::{SECTION, nonempty, now, team_providers_by_id};
use crate::AppState;
use crate::cookies::{Scope, cookie, set_cookie};
use crate::extract::LenientQuery;
use crate::ui::pages::{Banner, Card, ConnectionsPage, STATUS_FILTERS, SelectOption};
use crate::ui::render::{UiResult, page};
use crate::ui::session::{WebUser, percent_encode};

/// The cookie that remembers the view.
const VIEW_COOKIE: &str = "patchbay_view";
/// How long the view is remembered (a year: it is a preference).
const VIEW_KEPT_SECONDS: i64 = 365 * 24 * 3600;

/// How the list shows its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Cards,
    Table,
}

impl View {
    fn parse(word: &str) -> Option<View> {
        match word {
            "cards" => Some(View::Cards),
            "table" => Some(View::Table),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            View::Cards => "cards",
            View::Table => "table",
        }
    }
}

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
    /// `cards` or `table`: switches the view (and remembers it).
    view: Option<String>,
}

/// `GET /connections`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    LenientQuery(q): LenientQuery<ListQuery>,
) -> UiResult {
    let who = &user.session.principal;
    let chosen = q.view.as_deref().and_then(View::parse);
    let view = chosen.or_else(|| cookie(&headers, VIEW_COOKIE).as_deref().and_then(View::parse)).unwrap_or(View::Cards);
    let provider = nonempty(q.provider);
    let status = nonempty(q.status).filter(|s| STATUS_FILTERS.iter().any(|(v, _)| v.as_str() == s));
    let text = nonempty(q.q).map(|t| t.chars().take(200).collect::<String>());
    let all = state.patchbay.list_connections(who, &ListFilter::default()).await.map_err(user.fail(SECTION))?;
    let filtered = provider.is_some() || status.is_some() || text.is_some();
    let shown = if filtered {
        let filter = ListFilter { provider: provider.clone(), status: status.clone(), q: text.clone(), end_user: None };
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
    let view_href = |v: View| view_href(v, provider.as_deref(), status.as_deref(), text.as_deref());
    let mut response = page(
        &state,
        StatusCode::OK,
        ConnectionsPage {
            frame: user.frame(SECTION, "Connections").with_banner(banner),
            cards,
            total: all.len(),
            app_options: app_options(&all, provider.as_deref()),
            status_options: status_options(status.as_deref()),
            q: text.clone().unwrap_or_default(),
            filtered,
            table: view == View::Table,
            cards_href: view_href(View::Cards),
            table_href: view_href(View::Table),
        },
    )
    .into_response();
    if let Some(v) = chosen {
        let scope = Scope { path: "/connections", same_site: "Lax", max_age: Some(VIEW_KEPT_SECONDS) };
        response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, VIEW_COOKIE, v.word(), &scope));
    }
    Ok(response)
}

/// This list in view `v`, with the same filters.
fn view_href(v: View, provider: Option<&str>, status: Option<&str>, q: Option<&str>) -> String {
    let mut href = format!("/connections?view={}", v.word());
    for (key, value) in [("provider", provider), ("status", status), ("q", q)] {
        if let Some(value) = value {
            href.push_str(&format!("&{key}={}", percent_encode(value)));
        }
    }
    href
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
