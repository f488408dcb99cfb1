//! The Events page (admins): the team's lifecycle events, newest first, filtered by type and
//! connection on the server, paged with an "Older events" link.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use patchbay_service::connections::ListFilter;
use patchbay_service::events::{EventQuery, EventView, kind};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::pages::{EventLine, EventsPage, SelectOption, TimeText};
use super::render::{UiResult, page};
use super::session::{WebUser, percent_encode};
use crate::AppState;
use crate::extract::LenientQuery;

/// The section's name in the top bar.
const SECTION: &str = "events";

/// Events per page.
const PAGE: u32 = 50;

/// Query of `GET /events`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EventsQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    connection: Option<String>,
    before: Option<i64>,
}

/// A user-facing label and badge class per event type.
fn label_of(event_type: &str) -> (&'static str, &'static str) {
    match event_type {
        kind::CREATED => ("Created", "ok"),
        kind::VERIFIED => ("Verified", "ok"),
        kind::VERIFY_FAILED => ("Verify failed", "bad"),
        kind::REFRESHED => ("Token refreshed", "muted"),
        kind::REFRESH_FAILED => ("Refresh failed", "warn"),
        kind::DEGRADED => ("Degraded", "warn"),
        kind::RECOVERED => ("Recovered", "ok"),
        kind::NEEDS_REAUTH => ("Needs reauthorization", "bad"),
        kind::EXPIRING => ("Grant expiring", "warn"),
        kind::REAUTHORIZED => ("Reauthorized", "ok"),
        kind::DELETED => ("Deleted", "muted"),
        _ => ("Event", "muted"),
    }
}

/// The event's data as `key: value` lines, without the fields shown in their own columns.
fn details(data: &Value) -> Vec<(String, String)> {
    let Value::Object(map) = data else { return Vec::new() };
    map.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "connection_id" | "connection_name" | "provider"))
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) if items.iter().all(Value::is_string) => {
                    items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
                }
                other => other.to_string(),
            };
            (k.replace('_', " "), text.chars().take(300).collect())
        })
        .collect()
}

fn line(e: &EventView, names: &HashMap<String, String>, now: OffsetDateTime) -> EventLine {
    let (label, class) = label_of(&e.event_type);
    let recorded_name = e.data.get("connection_name").and_then(Value::as_str).map(str::to_owned);
    let current = e.connection_id.as_ref().and_then(|id| names.get(id));
    EventLine {
        at: TimeText::new(e.at, now),
        event_type: e.event_type.clone(),
        label,
        class,
        exists: current.is_some(),
        connection_name: current.cloned().or(recorded_name).or_else(|| e.connection_id.clone()).unwrap_or_default(),
        connection_id: e.connection_id.clone(),
        details: details(&e.data),
    }
}

/// `GET /events`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    LenientQuery(q): LenientQuery<EventsQuery>,
) -> UiResult {
    let who = &user.session.principal;
    let event_type = q.event_type.filter(|t| kind::ALL.contains(&t.as_str()));
    let connections = state.patchbay.list_connections(who, &ListFilter::default()).await.map_err(user.fail(SECTION))?;
    let connection = q.connection.filter(|c| connections.iter().any(|v| &v.id == c));
    let filter = EventQuery {
        connection_id: connection.clone(),
        event_type: event_type.clone(),
        before_id: q.before,
        limit: PAGE,
        ..EventQuery::default()
    };
    let rows = state.patchbay.list_events(who, &filter).await.map_err(user.fail(SECTION))?;
    let names: HashMap<String, String> = connections.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
    let now = state.patchbay.now();
    let older = (rows.len() == PAGE as usize).then(|| rows.last().map(|e| e.id)).flatten().map(|before| {
        let mut url = format!("/events?before={before}");
        if let Some(t) = &event_type {
            url.push_str(&format!("&type={}", percent_encode(t)));
        }
        if let Some(c) = &connection {
            url.push_str(&format!("&connection={}", percent_encode(c)));
        }
        url
    });
    let type_options = kind::ALL
        .iter()
        .map(|t| SelectOption {
            value: (*t).to_owned(),
            label: label_of(t).0.to_owned(),
            selected: event_type.as_deref() == Some(*t),
        })
        .collect();
    let connection_options = connections
        .iter()
        .map(|c| SelectOption {
            value: c.id.clone(),
            label: c.name.clone(),
            selected: connection.as_deref() == Some(c.id.as_str()),
        })
        .collect();
    Ok(page(
        &state,
        StatusCode::OK,
        EventsPage {
            frame: user.frame(SECTION, "Events"),
            events: rows.iter().map(|e| line(e, &names, now)).collect(),
            type_options,
            connection_options,
            filtered: event_type.is_some() || connection.is_some(),
            older,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_leave_out_the_columns_and_stringify_values() {
        let d = details(&serde_json::json!({
            "connection_id": "con_1", "connection_name": "x", "provider": "p",
            "reason": "invalid_grant", "days_left": 6, "revocation": ["revoked", "pending"]
        }));
        assert_eq!(
            d,
            vec![
                ("days left".to_owned(), "6".to_owned()),
                ("reason".to_owned(), "invalid_grant".to_owned()),
                ("revocation".to_owned(), "revoked, pending".to_owned()),
            ]
        );
    }
}
