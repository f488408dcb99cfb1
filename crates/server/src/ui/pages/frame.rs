//! The frame every page shares: its title, the top bar of a signed-in user, the session's
//! anti-CSRF token for the page's forms, whether the user may change things, and the message at
//! the top. `base.html` and the shared includes read these as `frame.*`.

/// The part of every page that is not its content.
pub(crate) struct Frame {
    pub title: String,
    /// The top bar; `None` on pages for signed-out browsers.
    pub nav: Option<Nav>,
    /// The anti-CSRF token the page's forms carry (empty on pages without forms).
    pub csrf: String,
    /// Whether the page offers the actions that change things (admin, member).
    pub can_manage: bool,
    pub banner: Option<Banner>,
}

impl Frame {
    /// The frame of a page for a browser without a session.
    pub fn anonymous(title: impl Into<String>) -> Frame {
        Frame { title: title.into(), nav: None, csrf: String::new(), can_manage: false, banner: None }
    }

    /// The same frame with a message at the top.
    pub fn with_banner(mut self, banner: Option<Banner>) -> Frame {
        self.banner = banner;
        self
    }
}

/// The top bar of a signed-in page.
pub(crate) struct Nav {
    pub login: String,
    pub role: String,
    pub csrf: String,
    pub section: &'static str,
    /// Whether the Events entry is shown (admins only: the service refuses others).
    pub events: bool,
}

/// A message at the top of a page. Its text is always chosen by the server (a fixed sentence or
/// stored data), never copied from the URL.
pub(crate) struct Banner {
    pub class: &'static str,
    pub title: String,
    pub detail: Option<String>,
}

impl Banner {
    pub fn ok(title: impl Into<String>, detail: Option<String>) -> Banner {
        Banner { class: "ok", title: title.into(), detail }
    }

    pub fn bad(title: impl Into<String>, detail: Option<String>) -> Banner {
        Banner { class: "bad", title: title.into(), detail }
    }

    pub fn warn(title: impl Into<String>, detail: Option<String>) -> Banner {
        Banner { class: "warn", title: title.into(), detail }
    }
}
