//! The web UI over real HTTP against a real `patchbay serve`: sign-in, the session cookie's flags,
//! the anti-CSRF checks, the sign-in rate limit, the strict headers, team isolation and that no
//! secret reaches a page. (The browser flows themselves are tested in `e2e/` with Chromium.)

mod common;

use std::collections::HashMap;
use std::process::Stdio;

use common::World;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "correct horse battery";

/// Creates a web user through `patchbay admin create-user` (password on stdin).
async fn create_user(w: &World, team: &str, login: &str, role: &str) {
    let mut cmd = w.app.command(["admin", "create-user", "--team", team, "--login", login, "--role", role]);
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
}

impl Browser {
    fn new(w: &World) -> Browser {
        Browser {
            base: w.app.url(),
            http: reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() { req } else { req.header("cookie", self.cookie_header()) };
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
    create_user(&w, &w.team, "ann@acme.test", "member").await;
    let mut b = Browser::new(&w);

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
    let mut replay = Browser::new(&w);
    replay.cookies.insert("patchbay_session".into(), token.to_owned());
    let p = replay.get("/connections").await;
    assert_eq!((p.status, p.location()), (303, "/login"));
}

#[tokio::test]
async fn posts_without_the_forms_csrf_token_change_nothing() {
    let w = World::start().await;
    create_user(&w, &w.team, "ann@acme.test", "member").await;
    let c = w.bearer_connection(&patchbay_testkit::canary("csrf"), "ops@acme.test", Some("Original")).await;
    let id = c["id"].as_str().unwrap();

    // The sign-in form itself needs its double-submit cookie.
    let mut b = Browser::new(&w);
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
    create_user(&w, &w.team, "ann@acme.test", "member").await;
    let mut b = Browser::new(&w);
    for _ in 0..5 {
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
    create_user(&w, &w.team, "bob@acme.test", "viewer").await;
    let p = b.sign_in("bob@acme.test", PASSWORD).await;
    assert_eq!(p.status, 303);
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    let w = World::start_with(vec![("PATCHBAY_PUBLIC_URL".into(), "https://patchbay.example".into())]).await;
    create_user(&w, &w.team, "ann@acme.test", "member").await;
    let mut b = Browser::new(&w);
    let p = b.sign_in("ann@acme.test", PASSWORD).await;
    assert_eq!(p.status, 303);
    let cookie = p.set_cookie("patchbay_session").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn pages_show_metadata_never_secrets_and_only_the_teams_own() {
    let w = World::start().await;
    create_user(&w, &w.team, "ann@acme.test", "viewer").await;
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

    let mut b = Browser::new(&w);
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
