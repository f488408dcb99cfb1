//! The page structs of a connect session's hosted page (`templates/connect.html`): the app
//! picker, the form of one app, the result, and the notices for a link that cannot be used.
//! Every printed value is plain text computed here; the template escapes it.

use askama::Template;
use askama_web::WebTemplate;

use super::{AppChoice, Frame, InputField};

/// What the hosted page shows.
pub(crate) enum ConnectView {
    /// Pick one of the session's apps.
    Pick { apps: Vec<AppChoice> },
    /// The form of one app.
    Form(Box<ConnectForm>),
    /// How the session ended or stands.
    Result(ConnectResult),
    /// A link or page that cannot be used, with why.
    Notice { message: String },
}

/// The form of one app: name, credential fields, settings behind "Show advanced settings".
pub(crate) struct ConnectForm {
    pub app: AppChoice,
    pub csrf: String,
    pub name: String,
    pub credential_fields: Vec<InputField>,
    pub required_settings: Vec<InputField>,
    pub optional_settings: Vec<InputField>,
    pub is_oauth: bool,
    pub error: Option<String>,
    /// A reconnect: the name is the connection's and cannot change.
    pub reconnect: bool,
    /// More than one app offered: a link back to the picker.
    pub can_go_back: bool,
}

/// The result: connected, or not (with a retry).
pub(crate) struct ConnectResult {
    pub ok: bool,
    pub message: String,
    pub connection: Option<String>,
    /// Where "Try again" goes (not connected yet).
    pub retry: Option<String>,
    /// The session (for the message to the opener) and the origins it may go to.
    pub session: String,
    pub origins: String,
    /// Back to the platform (its `return_url` with the outcome), and its name.
    pub back: Option<(String, String)>,
}

/// `GET /connect/…`: the hosted page.
#[derive(Template, WebTemplate)]
#[template(path = "connect.html")]
pub(crate) struct ConnectPage {
    pub frame: Frame,
    /// "Acme Automations wants to connect your Slack".
    pub heading: String,
    /// "for Ada Lovelace".
    pub for_whom: String,
    pub view: ConnectView,
}
