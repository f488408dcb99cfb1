//! The web UI over real HTTP against a real `patchbay serve`: sign-in, the session cookie's flags,
//! the anti-CSRF checks, the sign-in rate limit, the strict headers, team isolation, that no
//! secret reaches a page, the delete receipt's own page (read only by the deleting browser) and a
//! card that needs reauthorization. (The browser flows themselves are tested in `e2e/` with
//! Chromium.)

mod common;

use std::collections::HashMap;
use std::process::Stdio;

use common::World;
use patchbay_testkit::PatchbayProcess;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "correct horse battery";

/// Creates a web user through `patchbay admin create-user` (password on stdin).
async fn create_user(app: &PatchbayProcess, team: &str, login: &str, role: &str) {
    let mut cmd = app.command(["admin", "create-user", "--team", team, "--login", login, "--role", role]);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn patchbay admin create-user");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "create-user failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// One answer: status, headers, body.
struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find(|c| c.starts_with(&format!("{name}=")))
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).unwrap_or_else(|| panic!("no csrf field in:\n{}", self.body)) + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

/// A minimal browser: keeps cookies, never follows redirects.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
    /// An `X-Forwarded-For` header sent with every request, as a reverse proxy would add it.
    forwarded_for: Option<String>,
}

impl Browser {
    fn new(app: &PatchbayProcess) -> Browser {
        Browser {
            base: app.url(),
            http: reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: HashMap::new(),
            forwarded_for: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() { req } else { req.header("cookie", self.cookie_header()) };
        let req = match &self.forwarded_for {
            Some(chain) => req.header("x-forwarded-for", chain),
            None => req,
        };
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap();
        for c in headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page { status, headers, body }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Signs in through the form; returns the answer to the POST.
    async fn sign_in(&mut self, login: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        self.post("/login", &[("csrf", &csrf), ("login", login), ("password", password), ("next", "/connections")])
            .await
    }
}

fn assert_strict_headers(p: &Page) {
    let csp = p.header("content-security-policy");
    for part in [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "CSP {csp:?} lacks {part:?}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(p.header("x-content-type-options"), "nosniff");
    assert_eq!(p.header("referrer-policy"), "no-referrer");
    assert_eq!(p.header("cache-control"), "no-store");
}

#[tokio::test]
async fn sign_in_sets_a_strict_session_cookie_and_pages_carry_strict_headers() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    let mut b = Browser::new(&w.app);

    // Signed out: pages lead to the sign-in form, remembering the page.
    let p = b.get("/").await;
    assert_eq!((p.status, p.location()), (303, "/login"));
    assert_strict_headers(&p);
    let p = b.get("/connections?status=active").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/login?next=/connections%3Fstatus%3Dactive");

    let form = b.get("/login").await;
    assert_eq!(form.status, 200);
    assert_strict_headers(&form);
    assert!(form.header("content-type").starts_with("text/html"));
    let login_csrf = form.set_cookie("patchbay_login_csrf").expect("the sign-in form sets its csrf cookie");
    assert!(login_csrf.contains("HttpOnly") && login_csrf.contains("SameSite=Strict"), "{login_csrf}");
    assert!(login_csrf.contains("Path=/login"), "{login_csrf}");

    let p = b.sign_in("ann@acme.test", PASSWORD).await;
    assert_eq!((p.status, p.location()), (303, "/connections"), "{}", p.body);
    let cookie = p.set_cookie("patchbay_session").expect("a session cookie");
    let token = cookie.split(';').next().unwrap().trim_start_matches("patchbay_session=");
    assert!(token.starts_with("pbs_") && token.len() == 4 + 43, "256 random bits, base64url: {token}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Secure"), "http public URL: no Secure flag: {cookie}");

    let page = b.get("/connections").await;
    assert_eq!(page.status, 200);
    assert_strict_headers(&page);
    assert!(page.body.contains("Signed in as <strong>ann@acme.test</strong>"), "{}", page.body);

    // Static files are served with the same headers and the right types.
    for (path, ty) in [
        ("/static/app.css", "text/css"),
        ("/static/app.js", "text/javascript"),
        ("/static/favicon.svg", "image/svg+xml"),
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(p.header("content-type").starts_with(ty), "{path}: {}", p.header("content-type"));
        assert_eq!(p.header("x-content-type-options"), "nosniff");
    }

    // The session is stored only as a digest: the token appears nowhere in the data directory.
    for entry in std::fs::read_dir(w.app.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(token.len()).any(|win| win == token.as_bytes()),
            "the session token is stored in clear in {}",
            path.display()
        );
    }

    // Sign out ends the session; the old cookie no longer works.
    let csrf = page.csrf();
    let p = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((p.status, p.location()), (303, "/login?signed_out=1"));
    let mut replay = Browser::new(&w.app);
    replay.cookies.insert("patchbay_session".into(), token.to_owned());
    let p = replay.get("/connections").await;
    assert_eq!((p.status, p.location()), (303, "/login"));
}

#[tokio::test]
async fn posts_without_the_forms_csrf_token_change_nothing() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    let c = w.bearer_connection(&patchbay_testkit::canary("csrf"), "ops@acme.test", Some("Original")).await;
    let id = c["id"].as_str().unwrap();

    // The sign-in form itself needs its double-submit cookie.
    let mut b = Browser::new(&w.app);
    let form = b.get("/login").await;
    let csrf = form.csrf();
    b.cookies.clear();
    let p = b.post("/login", &[("csrf", &csrf), ("login", "ann@acme.test"), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 403);
    assert!(p.set_cookie("patchbay_session").is_none());

    let p = b.sign_in("ann@acme.test", PASSWORD).await;
    assert_eq!(p.status, 303);
    for (path, form) in [
        (format!("/connections/{id}/rename"), vec![("name", "Forged")]),
        (format!("/connections/{id}/rename"), vec![("name", "Forged"), ("csrf", "wrong")]),
        (format!("/connections/{id}/delete"), vec![]),
        (format!("/connections/{id}/verify"), vec![("csrf", "")]),
        ("/connections/new/mock-bearer".to_owned(), vec![("name", "x"), ("credential.api_key", "k")]),
        ("/logout".to_owned(), vec![]),
    ] {
        let p = b.post(&path, &form).await;
        assert_eq!(p.status, 403, "{path} {form:?}");
        assert_strict_headers(&p);
    }
    let (_, body) = w.admin.get(&format!("/v1/connections/{id}")).await;
    assert_eq!(body["name"], "Original");

    // With the token, the same rename works and redirects back with a notice.
    let page = b.get(&format!("/connections/{id}")).await;
    let csrf = page.csrf();
    let p =
        b.post(&format!("/connections/{id}/rename"), &[("csrf", &csrf), ("name", "Renamed"), ("back", "detail")]).await;
    assert_eq!((p.status, p.location()), (303, format!("/connections/{id}?notice=renamed").as_str()));
    let (_, body) = w.admin.get(&format!("/v1/connections/{id}")).await;
    assert_eq!(body["name"], "Renamed");
    let page = b.get(&format!("/connections/{id}?notice=renamed")).await;
    assert!(page.body.contains("Renamed to “Renamed”"), "{}", page.body);
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_login() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    let mut b = Browser::new(&w.app);
    for attempt in 0..5 {
        // No proxy is trusted: a forged X-Forwarded-For cannot give each attempt its own bucket.
        b.forwarded_for = Some(format!("198.51.100.{attempt}"));
        let p = b.sign_in("ann@acme.test", "wrong password").await;
        assert_eq!(p.status, 401);
        assert!(p.body.contains("Wrong login or password."));
        assert!(!p.body.contains("wrong password"), "the password is never echoed");
    }
    // Locked out: even the right password is not checked.
    let p = b.sign_in("ANN@acme.test", PASSWORD).await;
    assert_eq!(p.status, 429, "{}", p.body);
    assert!(p.body.contains("Too many failed attempts"));
    assert!(p.header("retry-after").parse::<u64>().unwrap() > 0);
    assert!(p.set_cookie("patchbay_session").is_none());

    // Another login is not affected.
    create_user(&w.app, &w.team, "bob@acme.test", "viewer").await;
    let p = b.sign_in("bob@acme.test", PASSWORD).await;
    assert_eq!(p.status, 303);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_address_is_rate_limited() {
    // The test client connects from loopback, which plays the trusted reverse proxy.
    let w = World::start_with(vec![("PATCHBAY_TRUSTED_PROXIES".into(), "127.0.0.0/8, ::1".into())]).await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    let mut attacker = Browser::new(&w.app);
    for spoof in 0..5 {
        // Whatever the client prepends, the proxy's own entry (rightmost) is the one counted.
        attacker.forwarded_for = Some(format!("192.0.2.{spoof}, 203.0.113.5"));
        assert_eq!(attacker.sign_in("ann@acme.test", "wrong password").await.status, 401);
    }
    attacker.forwarded_for = Some("203.0.113.5".into());
    let p = attacker.sign_in("ann@acme.test", PASSWORD).await;
    assert_eq!(p.status, 429, "{}", p.body);
    // Another client behind the same proxy is not locked out of the same login.
    let mut colleague = Browser::new(&w.app);
    colleague.forwarded_for = Some("198.51.100.7".into());
    assert_eq!(colleague.sign_in("ann@acme.test", PASSWORD).await.status, 303);
    // A trusted hop on the right is skipped: the attacker is still the one counted.
    attacker.forwarded_for = Some("203.0.113.5, 127.0.0.9".into());
    assert_eq!(attacker.sign_in("ann@acme.test", PASSWORD).await.status, 429);
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    let w = World::start_with(vec![("PATCHBAY_PUBLIC_URL".into(), "https://patchbay.example".into())]).await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    let mut b = Browser::new(&w.app);
    let p = b.sign_in("ann@acme.test", PASSWORD).await;
    assert_eq!(p.status, 303);
    let cookie = p.set_cookie("patchbay_session").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn pages_show_metadata_never_secrets_and_only_the_teams_own() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "viewer").await;
    let key = patchbay_testkit::canary("page");
    let c = w.bearer_connection(&key, "ops@acme.test", Some("Acme key")).await;
    let id = c["id"].as_str().unwrap();
    w.mock.add_key("other-team-key", "x@globex.test");
    let (status, other) = w
        .other_team
        .post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": "other-team-key"}}))
        .await;
    assert_eq!(status, 201, "{other}");
    let other_id = other["connection"]["id"].as_str().unwrap();

    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ann@acme.test", PASSWORD).await.status, 303);
    for path in ["/connections".to_owned(), format!("/connections/{id}"), format!("/connections/{id}/delete")] {
        let p = b.get(&path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(!p.body.contains(&key), "{path} shows the key");
        assert!(p.body.contains("Acme key"), "{path}");
    }
    let list = b.get("/connections").await;
    assert!(list.body.contains("ops@acme.test"));
    assert!(!list.body.contains(other_id), "another team's connection is listed");
    // A viewer sees no action buttons and cannot add; events are for admins.
    assert!(!list.body.contains(">Verify</button>"));
    assert!(!list.body.contains("href=\"/events\""));
    assert_eq!(b.get("/connections/new").await.status, 403);
    assert_eq!(b.get("/events").await.status, 403);
    assert_eq!(b.get("/scenarios").await.status, 200);

    // Another team's connection and malformed ids are simply not found.
    assert_eq!(b.get(&format!("/connections/{other_id}")).await.status, 404);
    assert_eq!(b.get("/connections/con_nope").await.status, 404);

    // Query words map to fixed messages; anything else in the URL is not reflected.
    let p = b.get(&format!("/connections/{id}?outcome=%3Cscript%3Ealert(1)%3C/script%3E&notice=x")).await;
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("<script>alert"), "query text reflected");
    let p = b.get("/connections?q=%3Cb%3Ebold%3C/b%3E").await;
    assert!(p.body.contains("&lt;b&gt;bold&lt;/b&gt;") || p.body.contains("&#60;b&#62;"), "search text is escaped");
    assert!(!p.body.contains("<b>bold</b>"));
}

/// The value of the first `<input … name="NAME" value="…">` in a page.
fn input_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {name} field in:\n{body}")) + marker.len();
    let end = body[start..].find('"').unwrap() + start;
    body[start..end].to_owned()
}

/// The stored steps of a scenario as (module, connection) pairs, over the API.
async fn stored_steps(w: &World, id: &str) -> Vec<(String, Option<String>)> {
    let (status, body) = w.admin.get(&format!("/v1/scenarios/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["module"].as_str().unwrap().to_owned(), s["connection"].as_str().map(str::to_owned)))
        .collect()
}

#[tokio::test]
async fn the_scenario_editor_needs_the_csrf_token_and_explains_what_it_refuses() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    let c = w.bearer_connection(&patchbay_testkit::canary("scn"), "ops@acme.test", Some("Ops key")).await;
    let conn = c["id"].as_str().unwrap();
    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ann@acme.test", PASSWORD).await.status, 303);

    // Add: the name form; without the token nothing is created.
    let form = b.get("/scenarios/new").await;
    assert_eq!(form.status, 200);
    assert_strict_headers(&form);
    assert!(form.body.contains("<label for=\"name\">Scenario name</label>"), "{}", form.body);
    let csrf = form.csrf();
    for fields in [vec![("name", "Forged")], vec![("name", "Forged"), ("csrf", "wrong")]] {
        let p = b.post("/scenarios", &fields).await;
        assert_eq!(p.status, 403, "{fields:?}");
    }
    let (_, list) = w.admin.get("/v1/scenarios").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");

    // A bad name is shown on the form again with the reason.
    let p = b.post("/scenarios", &[("csrf", &csrf), ("name", "   ")]).await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("The scenario was not saved"), "{}", p.body);
    assert!(p.body.contains("the scenario name is empty"), "{}", p.body);

    let p = b.post("/scenarios", &[("csrf", &csrf), ("name", "Sync items")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let location = p.location().to_owned();
    assert!(location.starts_with("/scenarios?notice=created&s=scn_"), "{location}");
    let id = location.rsplit('#').next().unwrap().to_owned();
    let p = b.post("/scenarios", &[("csrf", &csrf), ("name", "Sync items")]).await;
    assert_eq!(p.status, 409);
    assert!(p.body.contains("already exists"), "{}", p.body);
    assert!(p.body.contains("value=\"Sync items\""), "the name is kept: {}", p.body);

    // The list: the new scenario with its New step row (module picker grouped by app, the
    // connection picker starting with Add and offering the team's connection).
    let page = b.get(&location).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("“Sync items” was created"), "{}", page.body);
    assert!(page.body.contains("<optgroup label=\"Mock Bearer\">"), "{}", page.body);
    assert!(page.body.contains("<option value=\"mock-bearer.read_items\">Read items</option>"), "{}", page.body);
    let picker = &page.body[page.body.find("name=\"new.connection\"").unwrap()..];
    let first = picker.find("<option").unwrap();
    assert!(picker[first..].starts_with("<option value=\"add\">Add</option>"), "{picker}");
    assert!(picker.contains(&format!("<option value=\"{conn}\">Ops key</option>")), "{picker}");
    let version = input_value(&page.body, "version");

    // Save without the token changes nothing.
    let path = format!("/scenarios/{id}");
    let step = [("version", version.as_str()), ("new.module", "mock-bearer.read_items"), ("new.connection", conn)];
    let p = b.post(&path, &step).await;
    assert_eq!(p.status, 403);
    assert!(stored_steps(&w, &id).await.is_empty());

    // Validation: a connection without a module, and a connection of another app.
    let p =
        b.post(&path, &[("csrf", &csrf), ("version", &version), ("new.module", ""), ("new.connection", conn)]).await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("“Sync items” was not saved"), "{}", p.body);
    assert!(p.body.contains("no module"), "{}", p.body);
    assert!(p.body.contains(&format!("<option value=\"{conn}\" selected>Ops key</option>")), "choice kept: {}", p.body);
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("new.module", "mock-header.read_items"),
                ("new.connection", conn),
            ],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(
        p.body.contains("“Ops key” is a connection to Mock Bearer, but Read items runs on Mock Header"),
        "{}",
        p.body
    );
    let p = b
        .post(
            &path,
            &[("csrf", &csrf), ("version", &version), ("new.module", "nope.nothing"), ("new.connection", "add")],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(stored_steps(&w, &id).await.is_empty());

    // Save: the step through the existing connection.
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("new.module", "mock-bearer.read_items"),
                ("new.connection", conn),
            ],
        )
        .await;
    assert_eq!((p.status, p.location()), (303, format!("/scenarios?notice=saved&s={id}#{id}").as_str()), "{}", p.body);
    assert_eq!(stored_steps(&w, &id).await, vec![("mock-bearer.read_items".to_owned(), Some(conn.to_owned()))]);

    // A form from before that Save is out of date: nothing changes.
    let p = b.post(&path, &[("csrf", &csrf), ("version", &version), ("new.module", "mock-bearer.create_item")]).await;
    assert_eq!(p.status, 409);
    assert!(p.body.contains("was changed since this page was loaded"), "{}", p.body);
    assert_eq!(stored_steps(&w, &id).await.len(), 1);

    // Add on the new step: saved without a connection, then on to the Add form made for it.
    let page = b.get("/scenarios").await;
    let version = input_value(&page.body, "version");
    assert!(page.body.contains(&format!("<option value=\"{conn}\" selected>Ops key</option>")), "{}", page.body);
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("step.0.module", "mock-bearer.read_items"),
                ("step.0.connection", conn),
                ("new.module", "mock-bearer.create_item"),
                ("new.connection", "add"),
            ],
        )
        .await;
    assert_eq!((p.status, p.location()), (303, format!("/connections/new/mock-bearer?scenario={id}&step=1").as_str()));
    assert_eq!(
        stored_steps(&w, &id).await,
        vec![
            ("mock-bearer.read_items".to_owned(), Some(conn.to_owned())),
            ("mock-bearer.create_item".to_owned(), None)
        ]
    );
    let add = b.get(p.location()).await;
    assert_eq!(add.status, 200);
    assert!(add.body.contains("For step 2 of “Sync items”: Create an item"), "{}", add.body);

    // Remove: needs the token, then takes the step out.
    let page = b.get("/scenarios").await;
    let version = input_value(&page.body, "version");
    let remove = format!("/scenarios/{id}/steps/0/remove");
    assert_eq!(b.post(&remove, &[("version", &version)]).await.status, 403);
    assert_eq!(stored_steps(&w, &id).await.len(), 2);
    let p = b.post(&remove, &[("csrf", &csrf), ("version", &version)]).await;
    assert_eq!((p.status, p.location()), (303, format!("/scenarios?notice=removed&s={id}#{id}").as_str()));
    assert_eq!(stored_steps(&w, &id).await, vec![("mock-bearer.create_item".to_owned(), None)]);
    let p = b.post(&format!("/scenarios/{id}/steps/5/remove"), &[("csrf", &csrf), ("version", &version)]).await;
    assert_eq!(p.status, 409, "an out-of-date form removes nothing");

    // Delete: a confirmation page, then the token.
    let confirm = b.get(&format!("/scenarios/{id}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Delete “Sync items”?"), "{}", confirm.body);
    let version = input_value(&confirm.body, "version");
    let delete = format!("/scenarios/{id}/delete");
    assert_eq!(b.post(&delete, &[("version", &version)]).await.status, 403);
    assert_eq!(w.admin.get(&format!("/v1/scenarios/{id}")).await.0, 200);
    let p = b.post(&delete, &[("csrf", &csrf), ("version", &version)]).await;
    assert_eq!((p.status, p.location()), (303, "/scenarios?notice=deleted"));
    assert_eq!(w.admin.get(&format!("/v1/scenarios/{id}")).await.0, 404);
    let (status, _) = w.admin.get(&format!("/v1/connections/{conn}")).await;
    assert_eq!(status, 200, "the connection stays");
    assert!(b.get("/scenarios?notice=deleted").await.body.contains("The scenario was deleted"));
}

#[tokio::test]
async fn the_scenario_editor_shows_and_changes_only_the_teams_own() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    create_user(&w.app, &w.team, "vic@acme.test", "viewer").await;
    let own = w.bearer_connection(&patchbay_testkit::canary("own"), "ops@acme.test", Some("Own key")).await;
    let own_id = own["id"].as_str().unwrap();
    let (status, own_scenario) = w
        .member
        .post(
            "/v1/scenarios",
            &json!({"name": "Ours", "steps": [{"module": "mock-bearer.read_items", "connection": own_id}]}),
        )
        .await;
    assert_eq!(status, 201, "{own_scenario}");
    let own_sid = own_scenario["id"].as_str().unwrap();

    w.mock.add_key("globex-key", "x@globex.test");
    let (status, theirs) = w
        .other_team
        .post(
            "/v1/connections",
            &json!({"provider": "mock-bearer", "name": "Globex key", "credentials": {"api_key": "globex-key"}}),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");
    let their_conn = theirs["connection"]["id"].as_str().unwrap();
    let (status, their_scenario) = w
        .other_team
        .post(
            "/v1/scenarios",
            &json!({"name": "Theirs", "steps": [{"module": "mock-bearer.read_items", "connection": their_conn}]}),
        )
        .await;
    assert_eq!(status, 201, "{their_scenario}");
    let their_sid = their_scenario["id"].as_str().unwrap();

    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ann@acme.test", PASSWORD).await.status, 303);
    let page = b.get("/scenarios").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Ours") && page.body.contains("Own key"), "{}", page.body);
    for hidden in [their_sid, their_conn, "Theirs", "Globex key"] {
        assert!(!page.body.contains(hidden), "another team's {hidden} is shown");
    }
    let csrf = page.csrf();
    let version = input_value(&page.body, "version");

    // Another team's scenario is not found, whatever the form.
    assert_eq!(b.get(&format!("/scenarios/{their_sid}")).await.status, 404);
    assert_eq!(b.get(&format!("/scenarios/{their_sid}/delete")).await.status, 404);
    for path in [
        format!("/scenarios/{their_sid}"),
        format!("/scenarios/{their_sid}/steps/0/remove"),
        format!("/scenarios/{their_sid}/delete"),
    ] {
        let p =
            b.post(&path, &[("csrf", &csrf), ("version", &version), ("new.module", "mock-bearer.create_item")]).await;
        assert_eq!(p.status, 404, "{path}");
    }
    let (_, still) = w.other_team.get(&format!("/v1/scenarios/{their_sid}")).await;
    assert_eq!(still["steps"].as_array().unwrap().len(), 1, "{still}");

    // Nor can another team's connection be bound, as a new step or an existing one.
    let path = format!("/scenarios/{own_sid}");
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("new.module", "mock-bearer.create_item"),
                ("new.connection", their_conn),
            ],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("The new step: the connection chosen is not a connection of your team"), "{}", p.body);
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("step.0.module", "mock-bearer.read_items"),
                ("step.0.connection", their_conn),
            ],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("Step 1: the connection chosen is not a connection of your team"), "{}", p.body);
    assert!(!p.body.contains("Globex key"));
    assert_eq!(stored_steps(&w, own_sid).await, vec![("mock-bearer.read_items".to_owned(), Some(own_id.to_owned()))]);

    // A viewer sees the scenarios but no editor, and cannot use its forms.
    let mut v = Browser::new(&w.app);
    assert_eq!(v.sign_in("vic@acme.test", PASSWORD).await.status, 303);
    let page = v.get("/scenarios").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Ours"));
    for editor in ["href=\"/scenarios/new\"", "name=\"new.module\"", ">Save</button>", "/delete\""] {
        assert!(!page.body.contains(editor), "a viewer sees {editor}");
    }
    assert_eq!(v.get("/scenarios/new").await.status, 403);
    let csrf = page.csrf();
    assert_eq!(v.post("/scenarios", &[("csrf", &csrf), ("name", "Viewer's")]).await.status, 403);
    assert_eq!(
        v.post(&path, &[("csrf", &csrf), ("version", &version), ("new.module", "mock-bearer.create_item")])
            .await
            .status,
        403
    );
    assert_eq!(v.post(&format!("{path}/delete"), &[("csrf", &csrf), ("version", &version)]).await.status, 403);
    assert_eq!(stored_steps(&w, own_sid).await.len(), 1);
}

#[tokio::test]
async fn the_delete_receipt_is_a_page_of_its_own_that_only_the_deleting_browser_reads() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "bo@acme.test", "member").await;
    create_user(&w.app, &w.team, "cy@acme.test", "member").await;
    create_user(&w.app, "globex", "gil@globex.test", "admin").await;
    let key = patchbay_testkit::canary("receipt");
    let c = w.bearer_connection(&key, "ops@acme.test", Some("Short-lived")).await;
    let id = c["id"].as_str().unwrap();

    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("bo@acme.test", PASSWORD).await.status, 303);
    let csrf = b.get(&format!("/connections/{id}/delete")).await.csrf();
    let done = b.post(&format!("/connections/{id}/delete"), &[("csrf", &csrf)]).await;
    let page = format!("/connections/{id}/deleted");
    assert_eq!((done.status, done.location()), (303, page.as_str()), "{}", done.body);

    // The receipt is a GET page: a reload reads it again and deletes nothing more.
    let receipt = b.get(&page).await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert_strict_headers(&receipt);
    for text in ["Connection deleted", "“Short-lived”", "Revocation receipt", "Not supported"] {
        assert!(receipt.body.contains(text), "{text} missing from:\n{}", receipt.body);
    }
    assert!(!receipt.body.contains(&key), "the receipt shows the key");
    let reload = b.get(&page).await;
    assert_eq!((reload.status, &reload.body), (200, &receipt.body));
    let (_, audit) = w.admin.get(&format!("/v1/audit?connection={id}")).await;
    let deletes = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "connection.delete").count();
    assert_eq!(deletes, 1, "{audit}");
    // Posting the old form again finds nothing to delete.
    assert_eq!(b.post(&format!("/connections/{id}/delete"), &[("csrf", &csrf)]).await.status, 404);

    // Another browser of the same team and another team's user do not see it.
    for login in ["cy@acme.test", "gil@globex.test"] {
        let mut other = Browser::new(&w.app);
        assert_eq!(other.sign_in(login, PASSWORD).await.status, 303, "{login}");
        let p = other.get(&page).await;
        assert_eq!(p.status, 404, "{login}: {}", p.body);
        assert!(!p.body.contains("Short-lived"), "{login} sees the receipt");
    }
    // Nor does the same user in a new session.
    let mut again = Browser::new(&w.app);
    assert_eq!(again.sign_in("bo@acme.test", PASSWORD).await.status, 303);
    assert_eq!(again.get(&page).await.status, 404);
}

#[tokio::test]
async fn a_connection_that_needs_reauthorization_shows_no_live_token_expiry_and_offers_reauthorize_first() {
    let w = common::oauth::start(patchbay_demo_provider::DemoOptions::default(), None, Vec::new()).await;
    create_user(&w.app, "acme", "ann@acme.test", "member").await;
    let id = w.connect(json!({"provider": "democloud", "name": "Items"})).await;
    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ann@acme.test", PASSWORD).await.status, 303);
    let active = b.get(&format!("/connections/{id}")).await;
    assert!(active.body.contains("Access token expires"), "{}", active.body);
    assert!(active.body.contains("<button type=\"submit\">Reauthorize</button>"), "a plain Reauthorize while active");

    // Demo Cloud forgets the grant: the next check is refused and the connection needs reauthorizing.
    w.demo.revoke_all();
    let (status, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["status"].as_str()), (200, Some("needs_reauth")), "{v}");
    for path in [format!("/connections/{id}"), "/connections".to_owned()] {
        let p = b.get(&path).await;
        assert!(p.body.contains("Needs reauthorization"), "{path}: {}", p.body);
        assert!(!p.body.contains("Access token expires"), "{path} shows a token expiry as if it still worked");
        assert!(p.body.contains("<button class=\"primary\" type=\"submit\">Reauthorize</button>"), "{path}");
    }
}

#[tokio::test]
async fn the_connections_section_shows_whom_a_connection_was_made_for() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "viewer").await;
    w.mock.add_key("end-user-key", "ada@platform.test");
    let body = json!({
        "provider": "mock-bearer",
        "name": "Ada key",
        "credentials": {"api_key": "end-user-key"},
        "end_user": {"id": "user-42", "display_name": "Ada <Lovelace>"},
    });
    let (status, created) = w.member.post("/v1/connections", &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["connection"]["id"].as_str().unwrap();
    w.bearer_connection("team-key", "ops@acme.test", Some("Team key")).await;

    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ann@acme.test", PASSWORD).await.status, 303);
    let escaped = ["Ada &lt;Lovelace&gt; (user-42)", "Ada &#60;Lovelace&#62; (user-42)"];
    let shown = |body: &str| escaped.iter().any(|e| body.contains(e)) && !body.contains("<Lovelace>");
    for path in ["/connections".to_owned(), format!("/connections/{id}")] {
        let p = b.get(&path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(p.body.contains("For end user") && shown(&p.body), "{path}: escaped label");
        assert!(p.body.contains("href=\"/connections?q=user-42\""), "{path}: links the end user's connections");
    }
    let table = b.get("/connections?view=table").await;
    assert!(table.body.contains("end-user\">for Ada") && shown(&table.body), "the table row names the end user");
    let found = b.get("/connections?q=lovelace").await;
    assert!(found.body.contains("Ada key") && !found.body.contains("Team key"), "the search matches the end user");
}

#[tokio::test]
async fn a_server_is_connected_by_url_from_the_add_page() {
    let w = World::start().await;
    let demo = patchbay_demo_provider::DemoProvider::start(patchbay_demo_provider::DemoOptions::default()).await;
    create_user(&w.app, &w.team, "ada@acme.test", "admin").await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;

    // A member sees the form but the service refuses: admins add servers.
    let mut member = Browser::new(&w.app);
    assert_eq!(member.sign_in("ann@acme.test", PASSWORD).await.status, 303);
    let pick = member.get("/connections/new").await;
    assert!(pick.body.contains("Connect a server by URL"), "{}", pick.body);
    let p = member.post("/connections/new/discover", &[("csrf", &pick.csrf()), ("url", &demo.resource_url())]).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(demo.registered_clients().is_empty());

    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ada@acme.test", PASSWORD).await.status, 303);
    let pick = b.get("/connections/new").await;
    let csrf = pick.csrf();
    // Without the form's token nothing happens.
    let p = b.post("/connections/new/discover", &[("url", &demo.resource_url())]).await;
    assert_ne!(p.status, 303);
    // A refusal shows the picker again with the reason and the URL typed.
    let p = b.post("/connections/new/discover", &[("csrf", &csrf), ("url", "ftp://nowhere.example")]).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("The server could not be connected") && p.body.contains("nowhere.example"), "{}", p.body);

    let p = b
        .post(
            "/connections/new/discover",
            &[("csrf", &csrf), ("url", &demo.resource_url()), ("display_name", "Items API")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let form_path = p.location().to_owned();
    assert!(form_path.starts_with("/connections/new/127-0-0-1-"), "{form_path}");
    // The new app is listed with the others and has an Add form with its scopes.
    assert!(b.get("/connections/new").await.body.contains("Items API"));
    let form = b.get(&form_path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("items:read"), "{}", form.body);
    // Save goes on to the server's consent page (through the page that continues there, as the
    // page policy does not list a discovered origin).
    let p = b.post(&form_path, &[("csrf", &form.csrf()), ("name", "My items"), ("scope", "items:read")]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    // (askama escapes `/` in attributes.)
    assert!(p.body.contains(&format!("127.0.0.1:{}", demo.port())) && p.body.contains("resource="), "{}", p.body);
}

#[tokio::test]
async fn where_patchbay_cannot_limit_access_the_form_and_the_connection_say_so_with_the_services_advice() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ann@acme.test", "member").await;
    w.mock.add_basic("ops", "pw-CANARY-77", "ops@acme.test");
    let advice = "Give Patchbay a user of its own with read-only rights.";
    let link = "href=\"https://mock.example/docs/restrict\"";

    let (status, p) = w.member.get("/v1/providers/mock-basic").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["access_advice"]["text"], advice, "{p}");
    let (_, bearer) = w.member.get("/v1/providers/mock-bearer").await;
    assert!(bearer.get("access_advice").is_none(), "no advice declared: {bearer}");

    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ann@acme.test", PASSWORD).await.status, 303);
    let form = b.get("/connections/new/mock-basic").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("decides what this credential may do: Patchbay can use all of it."), "{}", form.body);
    assert!(form.body.contains(advice) && form.body.contains(link), "{}", form.body);
    // Without advice the note still says so; it carries no link.
    let plain = b.get("/connections/new/mock-bearer").await;
    assert!(plain.body.contains("decides what this credential may do") && !plain.body.contains("How to restrict it"));

    let body = json!({"provider": "mock-basic", "name": "Ops", "credentials": {"username": "ops", "password": "pw-CANARY-77"}});
    let (status, created) = w.member.post("/v1/connections", &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["connection"]["id"].as_str().unwrap();
    let page = b.get(&format!("/connections/{id}")).await;
    assert!(page.body.contains("Full access: Mock Basic does not let Patchbay narrow"), "{}", page.body);
    assert!(page.body.contains(advice) && page.body.contains(link), "{}", page.body);
    assert!(!page.body.contains("pw-CANARY-77"));
}

/// The part of `body` from `from` to the next `</section>`: one category group of the picker.
fn group<'a>(body: &'a str, from: &str) -> &'a str {
    let start = body.find(from).unwrap_or_else(|| panic!("no {from} in:\n{body}"));
    let end = body[start..].find("</section>").map_or(body.len(), |e| start + e);
    &body[start..end]
}

#[tokio::test]
async fn the_app_picker_groups_searches_filters_and_points_past_the_catalog() {
    let w = World::start().await;
    create_user(&w.app, &w.team, "ada@acme.test", "admin").await;
    let mut b = Browser::new(&w.app);
    assert_eq!(b.sign_in("ada@acme.test", PASSWORD).await.status, 303);

    // Grouped under category headings in the catalog's order; a file without a category (the
    // test's mock providers) is under Other, last.
    let all = b.get("/connections/new").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let crm = group(&all.body, "<h2 id=\"category-crm\">CRM</h2>");
    assert!(crm.contains("href=\"/connections/new/salesforce\"") && crm.contains("href=\"/connections/new/hubspot\""));
    assert!(!crm.contains("/connections/new/gmail\""), "{crm}");
    let email = group(&all.body, "<h2 id=\"category-email\">Email</h2>");
    assert!(email.contains("href=\"/connections/new/gmail\""), "{email}");
    let other = group(&all.body, "<h2 id=\"category-other\">Other</h2>");
    assert!(other.contains("href=\"/connections/new/mock-bearer\""), "{other}");
    let at = |s: &str| all.body.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at("id=\"category-crm\"") < at("id=\"category-email\""));
    assert!(at("id=\"category-ai\"") < at("id=\"category-other\""));

    // Search by what an app does: a module name, a scope's description (Gmail's "See and edit
    // your email labels"), every word anywhere.
    let by_module = b.get("/connections/new?q=Create+a+label").await;
    assert!(by_module.body.contains("/connections/new/gmail\""), "{}", by_module.body);
    assert!(!by_module.body.contains("/connections/new/slack\""), "{}", by_module.body);
    let by_scope = b.get("/connections/new?q=labels").await;
    assert!(by_scope.body.contains("/connections/new/gmail\""), "{}", by_scope.body);
    assert!(!by_scope.body.contains("/connections/new/microsoft-outlook\""), "{}", by_scope.body);
    let none = b.get("/connections/new?q=nothing+does+this").await;
    assert!(!none.body.contains("id=\"app-search-empty\" class=\"panel empty\" hidden"), "{}", none.body);
    assert!(!none.body.contains("data-search="), "{}", none.body);

    // The category filter is a link (no JavaScript): only that category, its chip current, and
    // the search form keeps it. An unknown word shows everything.
    let chip = "<a href=\"/connections/new?category=crm\" aria-current=\"page\">CRM";
    let only_crm = b.get("/connections/new?category=crm").await;
    assert!(only_crm.body.contains(chip), "{}", only_crm.body);
    assert!(only_crm.body.contains("/connections/new/pipedrive\""), "{}", only_crm.body);
    assert!(!only_crm.body.contains("/connections/new/gmail\""), "{}", only_crm.body);
    assert!(!only_crm.body.contains("id=\"category-email\""), "{}", only_crm.body);
    assert!(only_crm.body.contains("<input type=\"hidden\" name=\"category\" value=\"crm\">"));
    assert!(all.body.contains("<a href=\"/connections/new?category=email\">Email"), "{}", all.body);
    let narrowed = b.get("/connections/new?category=crm&q=deals").await;
    assert!(narrowed.body.contains("/connections/new/hubspot\"") && !narrowed.body.contains("/gmail\""));
    // Its chips keep the search.
    assert!(narrowed.body.contains("href=\"/connections/new?q=deals&#38;category=crm\""), "{}", narrowed.body);
    let unknown = b.get("/connections/new?category=nope").await;
    assert_eq!(unknown.status, 200);
    assert!(unknown.body.contains("/connections/new/gmail\"") && unknown.body.contains("/salesforce\""));
    // The page runs no inline script: the live filter is the static app.js under the strict CSP.
    assert!(
        !all.header("content-security-policy").contains("unsafe-inline"),
        "{}",
        all.header("content-security-policy")
    );
    assert!(!all.body.contains("<script>"), "{}", all.body);

    // Not in the catalog: the provider file format and the catalog, served by this server, and
    // the form that connects an OAuth server by its URL.
    let past = group(&all.body, "<h2>Not in the catalog?</h2>");
    assert!(past.contains("href=\"/docs/providers.md\"") && past.contains("PATCHBAY_PROVIDERS_DIR"), "{past}");
    assert!(past.contains("href=\"#by-url\""), "{past}");
    assert!(all.body.contains("<h2 id=\"by-url\">Connect a server by URL</h2>"));
    let format = b.get("/docs/providers.md").await;
    assert_eq!((format.status, format.header("content-type")), (200, "text/plain; charset=utf-8"));
    assert!(format.body.starts_with("# Provider files") && format.body.contains("`category`"));
    let catalog = b.get("/docs/catalog.md").await;
    assert!(catalog.body.contains("<a id=\"salesforce\"></a>"), "{}", catalog.body);
    assert_eq!(b.get("/docs/secrets.md").await.status, 404);
}
