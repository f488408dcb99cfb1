//! The Events page (admins).

use askama::Template;
use askama_web::WebTemplate;

use super::{Frame, SelectOption, TimeText};

/// One event as shown.
pub(crate) struct EventLine {
    pub at: TimeText,
    pub event_type: String,
    pub label: &'static str,
    pub class: &'static str,
    pub connection_id: Option<String>,
    pub connection_name: String,
    /// Whether the connection still exists (then its name links to it).
    pub exists: bool,
    pub details: Vec<(String, String)>,
}

/// `GET /events`.
#[derive(Template, WebTemplate)]
#[template(path = "events.html")]
pub(crate) struct EventsPage {
    pub frame: Frame,
    pub events: Vec<EventLine>,
    pub type_options: Vec<SelectOption>,
    pub connection_options: Vec<SelectOption>,
    pub filtered: bool,
    /// Link to the next page of older events.
    pub older: Option<String>,
}
