//! Each profile on its own, driven by a raw HTTPS client through the documented flow (and the
//! documented refusals), so profiles that no definition can exercise yet are still checked.

use std::collections::BTreeMap;

use base64::Engine;
use patchbay_conformance::{Kit, grants::s256};
use serde_json::{Value, json};

const REDIRECT: &str = "https://app.example/oauth/callback";
const VERIFIER: &str = "conformance-verifier-0123456789-0123456789-0123456789";

struct T {
    kit: Kit,
    http: reqwest::Client,
}

async fn kit() -> T {
    let kit = Kit::start(&[REDIRECT]).await;
    let http = kit.client();
    T { kit, http }
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

impl T {
    /// GETs an authorize URL; Ok(callback query) on a redirect to REDIRECT, Err(status) otherwise.
    async fn authorize(&self, url: &str, params: &[(&str, &str)]) -> Result<BTreeMap<String, String>, u16> {
        let url = reqwest::Url::parse_with_params(url, params).unwrap();
        let r = self.http.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        match r.headers().get("location").and_then(|l| l.to_str().ok()) {
            Some(loc) if status == 302 && loc.starts_with(REDIRECT) => {
                Ok(reqwest::Url::parse(loc).unwrap().query_pairs().into_owned().collect())
            }
            _ => Err(status),
        }
    }

    async fn form(&self, url: &str, auth: Option<String>, form: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.http.post(url).form(form);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn call(
        &self,
        method: &str,
        url: &str,
        token: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let mut req = self.http.request(method.parse().unwrap(), url).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_owned());
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

fn s(v: &Value, p: &str) -> String {
    v.pointer(p).and_then(Value::as_str).unwrap_or_else(|| panic!("{p} in {v}")).to_owned()
}

#[tokio::test]
async fn google_offline_access_refresh_and_grant_wide_revocation() {
    let t = kit().await;
    let c = t.kit.service("google").profile.client();
    let auth = "https://accounts.google.com/o/oauth2/v2/auth";
    let gmail = "https://www.googleapis.com/auth/gmail.readonly";
    let base = [("client_id", c.id), ("redirect_uri", REDIRECT), ("response_type", "code")];
    assert_eq!(t.authorize(auth, &base).await, Err(400), "scope is required");
    let wrong =
        [("client_id", c.id), ("redirect_uri", "https://evil.example/cb"), ("response_type", "code"), ("scope", gmail)];
    assert_eq!(t.authorize(auth, &wrong).await, Err(400), "an unregistered redirect is an error page");
    let challenge = s256(VERIFIER);
    let mut params = base.to_vec();
    params.extend([
        ("scope", gmail),
        ("state", "st"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let online = t.authorize(auth, &params).await.unwrap();
    assert_eq!(online["state"], "st");
    let token = "https://oauth2.googleapis.com/token";
    let exchange = |code: String| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
            ("code_verifier", VERIFIER.into()),
        ]
    };
    let f = exchange(online["code"].clone());
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(t.form(token, Some(basic(c.id, "wrong")), &f).await.0, 401);
    let (status, online_reply) = t.form(token, Some(basic(c.id, c.secret)), &f).await;
    assert_eq!(status, 200, "client_secret_basic is accepted too: {online_reply}");
    assert!(online_reply.get("refresh_token").is_none(), "no refresh token without access_type=offline");
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &f).await.1["error"], "invalid_grant", "a code is used once");

    params.push(("access_type", "offline"));
    let offline = t.authorize(auth, &params).await.unwrap();
    let f = exchange(offline["code"].clone());
    let mut f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    f.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &f).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["token_type"], "Bearer");
    assert_eq!(reply["scope"], gmail);
    let (access, refresh) = (s(&reply, "/access_token"), s(&reply, "/refresh_token"));
    let (status, profile) =
        t.call("GET", "https://gmail.googleapis.com/gmail/v1/users/me/profile", &access, None, &[]).await;
    assert_eq!((status, profile.contains("emailAddress")), (200, true), "{profile}");
    let (status, _) = t.call("GET", "https://openidconnect.googleapis.com/v1/userinfo", &access, None, &[]).await;
    assert_eq!(status, 403, "userinfo needs an OpenID scope");
    let (status, refreshed) = t
        .form(
            token,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", c.id),
                ("client_secret", c.secret),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(refreshed.get("refresh_token").is_none(), "Google refresh tokens do not rotate: {refreshed}");
    let revoke = format!("https://oauth2.googleapis.com/revoke?token={refresh}");
    assert_eq!(t.form(&revoke, None, &[]).await.0, 200);
    let (status, _) = t.call("GET", "https://gmail.googleapis.com/gmail/v1/users/me/labels", &access, None, &[]).await;
    assert_eq!(status, 401, "revoking the refresh token ended the whole grant");
}

#[tokio::test]
async fn microsoft_rotates_refresh_tokens_takes_body_credentials_and_has_graph_me() {
    let t = &kit().await;
    let c = t.kit.service("microsoft").profile.client();
    let auth = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
    let token = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
    let cb = t
        .authorize(
            auth,
            &[
                ("client_id", c.id),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "offline_access User.Read"),
            ],
        )
        .await
        .unwrap();
    let code = [("grant_type", "authorization_code"), ("code", &cb["code"]), ("redirect_uri", REDIRECT)];
    let (status, err) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!((status, s(&err, "/error")), (401, "invalid_client".into()), "Basic is not the documented method");
    let cb = t
        .authorize(
            auth,
            &[
                ("client_id", c.id),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "offline_access User.Read"),
            ],
        )
        .await
        .unwrap();
    let (status, reply) = t
        .form(
            token,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &cb["code"]),
                ("redirect_uri", REDIRECT),
                ("client_id", c.id),
                ("client_secret", c.secret),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let first = s(&reply, "/refresh_token");
    let refresh = |rt: String| async move {
        t.form(
            token,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", c.id),
                ("client_secret", c.secret),
            ],
        )
        .await
    };
    let (_, second) = refresh(first.clone()).await;
    let second_rt = s(&second, "/refresh_token");
    assert_ne!(first, second_rt, "each refresh returns a new refresh token");
    assert_eq!(refresh(first).await.0, 200, "the old one is not revoked");
    let (status, me) =
        t.call("GET", "https://graph.microsoft.com/v1.0/me", &s(&second, "/access_token"), None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("userPrincipalName"), "{me}");
    assert_eq!(t.call("GET", "https://graph.microsoft.com/v1.0/me", "dead", None, &[]).await.0, 401);
}

#[tokio::test]
async fn slack_v2_install_reply_errors_as_ok_false_single_use_rotation_and_auth_revoke() {
    let t = kit().await;
    let c = t.kit.service("slack").profile.client();
    let auth = "https://slack.com/oauth/v2/authorize";
    let access = "https://slack.com/api/oauth.v2.access";
    let cb = t
        .authorize(
            auth,
            &[
                ("client_id", c.id),
                ("scope", "chat:write,channels:read"),
                ("user_scope", "search:read"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await
        .unwrap();
    let (status, err) =
        t.form(access, Some(basic(c.id, "nope")), &[("code", &cb["code"]), ("redirect_uri", REDIRECT)]).await;
    assert_eq!((status, err.clone()), (200, json!({"ok": false, "error": "bad_client_secret"})));
    let cb = t
        .authorize(
            auth,
            &[
                ("client_id", c.id),
                ("scope", "chat:write,channels:read"),
                ("user_scope", "search:read"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await
        .unwrap();
    let (_, reply) =
        t.form(access, Some(basic(c.id, c.secret)), &[("code", &cb["code"]), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["token_type"], "bot");
    assert_eq!(reply["team"]["name"], "Conformance");
    assert_eq!(reply["authed_user"]["token_type"], "user");
    assert!(s(&reply, "/authed_user/access_token").starts_with("xoxp-"));
    let bot = s(&reply, "/access_token");
    let (_, test) = t.call("POST", "https://slack.com/api/auth.test", &bot, None, &[]).await;
    assert!(test.contains("\"ok\":true"), "{test}");
    let (status, dead) = t.call("POST", "https://slack.com/api/auth.test", "xoxb-dead", None, &[]).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&dead).unwrap()),
        (200, json!({"ok": false, "error": "invalid_auth"}))
    );
    let rt = s(&reply, "/refresh_token");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (_, refreshed) = t.form(access, None, &form).await;
    assert_eq!(refreshed["ok"], true, "{refreshed}");
    assert_eq!(t.form(access, None, &form).await.1["error"], "invalid_refresh_token", "a refresh token is used once");
    let new_bot = s(&refreshed, "/access_token");
    let (_, posted) = t
        .call(
            "POST",
            "https://slack.com/api/chat.postMessage",
            &new_bot,
            Some(r#"{"channel":"C0CONF01","text":"hi"}"#),
            &[],
        )
        .await;
    assert!(posted.contains("\"ok\":true"), "{posted}");
    let (_, revoked) = t.call("POST", "https://slack.com/api/auth.revoke", &new_bot, None, &[]).await;
    assert_eq!(serde_json::from_str::<Value>(&revoked).unwrap(), json!({"ok": true, "revoked": true}));
    let (_, after) = t.call("POST", "https://slack.com/api/auth.test", &new_bot, None, &[]).await;
    assert!(after.contains("invalid_auth"), "{after}");
}

#[tokio::test]
async fn notion_takes_basic_and_json_requires_notion_version_and_revokes_by_json() {
    let t = kit().await;
    let c = t.kit.service("notion").profile.client();
    let auth = "https://api.notion.com/v1/oauth/authorize";
    assert_eq!(
        t.authorize(auth, &[("client_id", c.id), ("redirect_uri", REDIRECT), ("response_type", "code")]).await,
        Err(400),
        "owner=user is required"
    );
    let cb = t
        .authorize(
            auth,
            &[("client_id", c.id), ("redirect_uri", REDIRECT), ("response_type", "code"), ("owner", "user")],
        )
        .await
        .unwrap();
    let token = "https://api.notion.com/v1/oauth/token";
    let form = t
        .http
        .post(token)
        .header("authorization", basic(c.id, c.secret))
        .header("notion-version", "2022-06-28")
        .form(&[("grant_type", "authorization_code"), ("code", cb["code"].as_str())]);
    let refused: Value = form.send().await.unwrap().json().await.unwrap();
    assert_eq!(refused["code"], "validation_error", "a form body is refused: {refused}");
    let (status, missing) = t
        .form(token, Some(basic(c.id, c.secret)), &[("grant_type", "authorization_code"), ("code", &cb["code"])])
        .await;
    assert_eq!((status, missing["code"].clone()), (400, json!("missing_version")), "Notion-Version is required");
    let cb = t
        .authorize(
            auth,
            &[("client_id", c.id), ("redirect_uri", REDIRECT), ("response_type", "code"), ("owner", "user")],
        )
        .await
        .unwrap();
    let body = json!({"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT});
    let send = |url: &'static str, body: Value, auth: String| {
        let req = t.http.post(url).header("authorization", auth).header("notion-version", "2022-06-28").json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, reply) = send(token, body, basic(c.id, c.secret)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["workspace_name"], "Conformance Workspace");
    assert_eq!(reply["token_type"], "bearer");
    let access = s(&reply, "/access_token");
    let me = "https://api.notion.com/v1/users/me";
    let (status, missing) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 400);
    assert!(missing.contains("missing_version"), "{missing}");
    let (status, bot) = t.call("GET", me, &access, None, &[("notion-version", "2022-06-28")]).await;
    assert_eq!(status, 200);
    assert!(bot.contains("\"workspace_name\":\"Conformance Workspace\""), "{bot}");
    let (status, refreshed) = send(
        token,
        json!({"grant_type": "refresh_token", "refresh_token": reply["refresh_token"]}),
        basic(c.id, c.secret),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(refreshed["refresh_token"], reply["refresh_token"], "Notion refresh tokens rotate");
    let new = s(&refreshed, "/access_token");
    assert_eq!(
        send("https://api.notion.com/v1/oauth/revoke", json!({"token": new}), basic(c.id, c.secret)).await.0,
        200
    );
    assert_eq!(t.call("GET", me, &new, None, &[("notion-version", "2022-06-28")]).await.0, 401);
}

#[tokio::test]
async fn salesforce_reply_has_instance_url_and_no_expires_in_and_revokes_by_form() {
    let t = kit().await;
    let c = t.kit.service("salesforce").profile.client();
    let cb = t
        .authorize(
            "https://login.salesforce.com/services/oauth2/authorize",
            &[
                ("response_type", "code"),
                ("client_id", c.id),
                ("redirect_uri", REDIRECT),
                ("scope", "api refresh_token"),
            ],
        )
        .await
        .unwrap();
    let token = "https://login.salesforce.com/services/oauth2/token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(
        t.form(token, Some(basic(c.id, c.secret)), &code).await.1["error"],
        "invalid_client",
        "credentials go in the body"
    );
    let cb = t
        .authorize(
            "https://login.salesforce.com/services/oauth2/authorize",
            &[
                ("response_type", "code"),
                ("client_id", c.id),
                ("redirect_uri", REDIRECT),
                ("scope", "api refresh_token"),
            ],
        )
        .await
        .unwrap();
    let (status, reply) = t
        .form(
            token,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &cb["code"]),
                ("redirect_uri", REDIRECT),
                ("client_id", c.id),
                ("client_secret", c.secret),
            ],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    for key in ["instance_url", "id", "issued_at", "signature", "refresh_token"] {
        assert!(reply.get(key).is_some(), "{key} in {reply}");
    }
    assert!(reply.get("expires_in").is_none(), "Salesforce states no lifetime");
    let instance = s(&reply, "/instance_url");
    let access = s(&reply, "/access_token");
    let (status, info) = t.call("GET", &format!("{instance}/services/oauth2/userinfo"), &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(info.contains("preferred_username"), "{info}");
    let (_, refreshed) = t
        .form(
            token,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&reply, "/refresh_token")),
                ("client_id", c.id),
                ("client_secret", c.secret),
            ],
        )
        .await;
    assert!(refreshed.get("refresh_token").is_none() && refreshed.get("instance_url").is_some(), "{refreshed}");
    assert_eq!(t.form(&format!("{instance}/services/oauth2/revoke"), None, &[("token", &access)]).await.0, 200);
    assert_eq!(t.call("GET", &format!("{instance}/services/data/v62.0/sobjects"), &access, None, &[]).await.0, 401);
}

#[tokio::test]
async fn dropbox_offline_only_rpc_bodies_and_bearer_revocation() {
    let t = &kit().await;
    let c = t.kit.service("dropbox").profile.client();
    let auth = "https://www.dropbox.com/oauth2/authorize";
    let token = "https://api.dropboxapi.com/oauth2/token";
    let exchange = |code: String| async move {
        t.form(
            token,
            Some(basic(c.id, c.secret)),
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)],
        )
        .await
    };
    let online =
        t.authorize(auth, &[("client_id", c.id), ("response_type", "code"), ("redirect_uri", REDIRECT)]).await.unwrap();
    let (_, reply) = exchange(online["code"].clone()).await;
    assert!(reply.get("refresh_token").is_none(), "no refresh token without token_access_type=offline: {reply}");
    let offline = t
        .authorize(
            auth,
            &[
                ("client_id", c.id),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("token_access_type", "offline"),
            ],
        )
        .await
        .unwrap();
    let (status, reply) = exchange(offline["code"].clone()).await;
    assert_eq!(status, 200);
    for key in ["refresh_token", "account_id", "uid", "expires_in"] {
        assert!(reply.get(key).is_some(), "{key} in {reply}");
    }
    let access = s(&reply, "/access_token");
    let account = "https://api.dropboxapi.com/2/users/get_current_account";
    assert_eq!(t.call("POST", account, &access, None, &[]).await.0, 200, "no body at all is accepted");
    let (status, me) = t.call("POST", account, &access, Some("null"), &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("account_id"), "{me}");
    assert_eq!(t.call("POST", account, &access, Some(""), &[]).await.0, 400, "a JSON content type needs a JSON body");
    let (_, refreshed) = t
        .form(
            token,
            Some(basic(c.id, c.secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", &s(&reply, "/refresh_token"))],
        )
        .await;
    assert!(refreshed.get("refresh_token").is_none(), "Dropbox refresh tokens do not rotate: {refreshed}");
    assert_eq!(t.call("POST", "https://api.dropboxapi.com/2/auth/token/revoke", &access, None, &[]).await.0, 200);
    assert_eq!(
        t.call("POST", account, &s(&refreshed, "/access_token"), None, &[]).await.0,
        401,
        "the whole grant is gone"
    );
}

#[tokio::test]
async fn quickbooks_requires_state_sends_realm_id_and_revokes_by_json() {
    let t = kit().await;
    let c = t.kit.service("quickbooks").profile.client();
    let auth = "https://appcenter.intuit.com/connect/oauth2";
    let scope = "com.intuit.quickbooks.accounting";
    let base = [("client_id", c.id), ("scope", scope), ("redirect_uri", REDIRECT), ("response_type", "code")];
    assert_eq!(t.authorize(auth, &base).await, Err(400), "state is required");
    let mut with_state = base.to_vec();
    with_state.push(("state", "st"));
    let cb = t.authorize(auth, &with_state).await.unwrap();
    let realm = cb["realmId"].clone();
    let token = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    let mut body_creds = code.to_vec();
    body_creds.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &body_creds).await.0, 401, "Basic only");
    let cb = t.authorize(auth, &with_state).await.unwrap();
    let (status, reply) = t
        .form(
            token,
            Some(basic(c.id, c.secret)),
            &[("grant_type", "authorization_code"), ("code", &cb["code"]), ("redirect_uri", REDIRECT)],
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["x_refresh_token_expires_in"].as_i64().is_some(), "{reply}");
    let access = s(&reply, "/access_token");
    let info = format!("https://quickbooks.api.intuit.com/v3/company/{realm}/companyinfo/{realm}");
    let (status, company) = t.call("GET", &info, &access, None, &[("accept", "application/json")]).await;
    assert_eq!(status, 200);
    assert!(company.contains("Conformance Books Ltd"), "{company}");
    let r = t
        .http
        .post("https://developer.api.intuit.com/v2/oauth2/tokens/revoke")
        .header("authorization", basic(c.id, c.secret))
        .json(&json!({"token": reply["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(t.call("GET", &info, &access, None, &[]).await.0, 401);
}

#[tokio::test]
async fn github_takes_body_credentials_answers_json_only_when_asked_and_revokes_one_token_by_basic() {
    let t = &kit().await;
    let c = t.kit.service("github").profile.client();
    let auth = "https://github.com/login/oauth/authorize";
    let token = "https://github.com/login/oauth/access_token";
    let challenge = s256(VERIFIER);
    let consent = || async {
        t.authorize(
            auth,
            &[
                ("client_id", c.id),
                ("redirect_uri", REDIRECT),
                ("scope", "repo gist"),
                ("state", "st"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await
        .unwrap()
    };
    assert_eq!(
        t.authorize(auth, &[("client_id", c.id), ("redirect_uri", "https://evil.example/cb")]).await,
        Err(400),
        "an unregistered redirect_uri is refused"
    );
    let cb = consent().await;
    assert_eq!(cb["state"], "st");
    // HTTP Basic is not GitHub's documented client authentication: refused, as HTTP 200.
    let code = [("code", cb["code"].as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let r = t
        .http
        .post(token)
        .header("authorization", basic(c.id, c.secret))
        .header("accept", "application/json")
        .form(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "GitHub token errors are HTTP 200");
    let refused: Value = r.json().await.unwrap();
    assert_eq!(s(&refused, "/error"), "incorrect_client_credentials");
    // Without Accept: application/json the reply is form-encoded.
    let cb = consent().await;
    let body = [
        ("client_id", c.id),
        ("client_secret", c.secret),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let r = t.http.post(token).form(&body).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(text.starts_with("access_token=gho_"), "form-encoded without Accept: {text}");
    let cb = consent().await;
    let mut body = body.to_vec();
    body[2] = ("code", cb["code"].as_str());
    let mut wrong_verifier = body.clone();
    wrong_verifier[4] = ("code_verifier", "another-verifier-0123456789-0123456789-0123456789");
    let r = t.http.post(token).header("accept", "application/json").form(&wrong_verifier).send().await.unwrap();
    let refused: Value = r.json().await.unwrap();
    assert_eq!(s(&refused, "/error"), "bad_verification_code", "the PKCE verifier is checked: {refused}");
    let cb = consent().await;
    body[2] = ("code", cb["code"].as_str());
    let r = t.http.post(token).header("accept", "application/json").form(&body).send().await.unwrap();
    let reply: Value = r.json().await.unwrap();
    assert_eq!(s(&reply, "/scope"), "repo,gist", "granted scopes are comma-separated");
    assert!(reply.get("refresh_token").is_none() && reply.get("expires_in").is_none(), "{reply}");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.github.com/user", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"id\":583231"), "{me}");
    let revoke = format!("https://api.github.com/applications/{}/token", c.id);
    let r = t.http.delete(&revoke).bearer_auth(&access).json(&json!({"access_token": access})).send().await.unwrap();
    assert_eq!(r.status(), 401, "the token itself is not the credential");
    let r = t.http.delete(&revoke).header("authorization", basic(c.id, c.secret)).send().await.unwrap();
    assert_eq!(r.status(), 422, "access_token is required");
    let r = t
        .http
        .delete(&revoke)
        .header("authorization", basic(c.id, c.secret))
        .json(&json!({"access_token": access}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(t.call("GET", "https://api.github.com/user", &access, None, &[]).await.0, 401);
}

#[tokio::test]
async fn hubspot_v3_takes_body_credentials_keeps_its_refresh_token_and_deletes_it_by_path() {
    let t = &kit().await;
    let c = t.kit.service("hubspot").profile.client();
    let auth = "https://app.hubspot.com/oauth/authorize";
    let token = "https://api.hubapi.com/oauth/v3/token";
    let scope = "oauth crm.objects.contacts.read";
    assert_eq!(
        t.authorize(auth, &[("client_id", c.id), ("redirect_uri", REDIRECT)]).await,
        Err(400),
        "scope is required"
    );
    let consent = || async {
        t.authorize(auth, &[("client_id", c.id), ("redirect_uri", REDIRECT), ("scope", scope), ("state", "st")])
            .await
            .unwrap()
    };
    let cb = consent().await;
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 400, "v3 takes the client in the body");
    let cb = consent().await;
    let mut body =
        vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 1800, "{reply}");
    let access = s(&reply, "/access_token");
    let refresh = s(&reply, "/refresh_token");
    let details = "https://api.hubapi.com/account-info/2026-03/details";
    let (status, me) = t.call("GET", details, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"portalId\":62515"), "{me}");
    let contacts = "https://api.hubapi.com/crm/v3/objects/contacts";
    assert_eq!(t.call("GET", contacts, &access, None, &[]).await.0, 200);
    let (_, refreshed) = t
        .form(
            token,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", c.id),
                ("client_secret", c.secret),
            ],
        )
        .await;
    assert_eq!(s(&refreshed, "/refresh_token"), refresh, "HubSpot refresh tokens do not rotate");
    let delete = format!("https://api.hubapi.com/oauth/v1/refresh-tokens/{refresh}");
    assert_eq!(t.http.delete(&delete).send().await.unwrap().status(), 204);
    assert_eq!(t.http.delete(&delete).send().await.unwrap().status(), 404, "gone");
    let (_, again) = t
        .form(
            token,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", c.id),
                ("client_secret", c.secret),
            ],
        )
        .await;
    assert_eq!(s(&again, "/category"), "BAD_REFRESH_TOKEN", "{again}");
}

#[tokio::test]
async fn the_kit_resolves_only_its_hosts_and_every_behaviour_cites_an_official_page() {
    let t = kit().await;
    assert!(t.http.get("https://example.com/").send().await.is_err(), "a name the kit does not emulate never resolves");
    for s in t.kit.services() {
        for b in s.profile.behaviours().iter().chain(s.profile.revocation().as_ref()) {
            assert!(b.doc.starts_with("https://"), "{}: {}", s.profile.name(), b.what);
        }
        assert!(!s.profile.api_calls().is_empty(), "{} has a proxied call", s.profile.name());
    }
    // A client that trusts the system roots (not the kit's CA) cannot talk to an emulator.
    let plain = reqwest::Client::builder().no_proxy().dns_resolver(t.kit.resolver()).build().unwrap();
    assert!(plain.get("https://slack.com/api/auth.test").send().await.is_err());
}

#[tokio::test]
async fn atlassian_requires_audience_and_consent_takes_json_rotates_single_use_and_names_the_cloud_id() {
    let t = kit().await;
    let c = t.kit.service("atlassian").profile.client();
    let auth = "https://auth.atlassian.com/authorize";
    let scope = "read:jira-user read:jira-work offline_access";
    let base = [
        ("client_id", c.id),
        ("scope", scope),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "st"),
        ("prompt", "consent"),
    ];
    assert_eq!(t.authorize(auth, &base).await, Err(400), "audience is required");
    let mut full = base.to_vec();
    full.push(("audience", "api.atlassian.com"));
    let no_prompt: Vec<_> = full.iter().copied().filter(|(k, _)| *k != "prompt").collect();
    assert_eq!(t.authorize(auth, &no_prompt).await, Err(400), "prompt=consent is required");
    let cb = t.authorize(auth, &full).await.unwrap();
    let token = "https://auth.atlassian.com/oauth/token";
    let code = [
        ("grant_type", "authorization_code"),
        ("client_id", c.id),
        ("client_secret", c.secret),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
    ];
    assert_eq!(t.form(token, None, &code).await.0, 400, "a form body is refused");
    let cb = t.authorize(auth, &full).await.unwrap();
    let post = |body: Value| {
        let req = t.http.post(token).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let exchange = json!({"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT});
    let mut with_basic = t.http.post(token).header("authorization", basic(c.id, c.secret)).json(&exchange);
    with_basic = with_basic.header("accept", "application/json");
    assert_eq!(with_basic.send().await.unwrap().status(), 401, "the client goes in the body, not Basic");
    let cb = t.authorize(auth, &full).await.unwrap();
    let (status, reply) = post(json!({
        "grant_type": "authorization_code", "client_id": c.id, "client_secret": c.secret,
        "code": cb["code"], "redirect_uri": REDIRECT,
    }))
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 3600);
    let access = s(&reply, "/access_token");
    let (status, sites) =
        t.call("GET", "https://api.atlassian.com/oauth/token/accessible-resources", &access, None, &[]).await;
    assert_eq!(status, 200);
    let sites: Value = serde_json::from_str(&sites).unwrap();
    let cloud = s(&sites, "/0/id");
    let me = format!("https://api.atlassian.com/ex/jira/{cloud}/rest/api/3/myself");
    let (status, user) = t.call("GET", &me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(user.contains("\"accountId\""), "{user}");
    let refresh = json!({"grant_type": "refresh_token", "client_id": c.id, "client_secret": c.secret, "refresh_token": reply["refresh_token"]});
    let (status, rotated) = post(refresh.clone()).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"], "a new refresh token every time");
    let (status, reused) = post(refresh).await;
    assert_eq!((status, reused["error"].clone()), (403, json!("invalid_grant")), "the used one is disabled");
    // Without offline_access there is no refresh token.
    let online: Vec<_> = full.iter().map(|&(k, v)| if k == "scope" { (k, "read:jira-user") } else { (k, v) }).collect();
    let cb = t.authorize(auth, &online).await.unwrap();
    let (_, reply) = post(json!({
        "grant_type": "authorization_code", "client_id": c.id, "client_secret": c.secret,
        "code": cb["code"], "redirect_uri": REDIRECT,
    }))
    .await;
    assert!(reply.get("refresh_token").is_none(), "{reply}");
    let search = format!("https://api.atlassian.com/ex/jira/{cloud}/rest/api/3/search/jql?jql=project%20%3D%20CONF");
    assert_eq!(
        t.call("GET", &search, &s(&reply, "/access_token"), None, &[]).await.0,
        401,
        "read:jira-work not granted"
    );
    assert_eq!(t.call("GET", &me, "not-a-token", None, &[]).await.0, 401);
}

#[tokio::test]
async fn linear_takes_comma_scopes_pkce_and_body_credentials_rotates_and_revokes_by_bearer() {
    let t = kit().await;
    let c = t.kit.service("linear").profile.client();
    let auth = "https://linear.app/oauth/authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "issues:create,comments:create"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let mut plain = params.to_vec();
    plain[6] = ("code_challenge_method", "plain");
    assert_eq!(t.authorize(auth, &plain).await, Err(400), "the kit never accepts plain PKCE");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.linear.app/oauth/token";
    let code = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut without_verifier = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    without_verifier.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &without_verifier).await.0, 400, "the PKCE verifier is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]);
    exchange.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["scope"], "read issues:create comments:create", "read is always granted, space-separated");
    let access = s(&reply, "/access_token");
    let viewer = r#"{"query": "{ viewer { id name email } }"}"#;
    let graphql = "https://api.linear.app/graphql";
    let (status, me) = t.call("POST", graphql, &access, Some(viewer), &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"email\":\"ada@conformance.example\""), "{me}");
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "a used refresh token is spent");
    let new = s(&rotated, "/access_token");
    let revoked = t.http.post("https://api.linear.app/oauth/revoke").bearer_auth(&new).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(t.call("POST", graphql, &new, Some(viewer), &[]).await.0, 401);
    let last = s(&rotated, "/refresh_token");
    let rest = [
        ("grant_type", "refresh_token"),
        ("refresh_token", last.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    assert_eq!(t.form(token, None, &rest).await.0, 400, "the revocation ended the refresh token too");
}

#[tokio::test]
async fn box_takes_body_credentials_spends_refresh_tokens_and_revokes_the_pair_by_form() {
    let t = kit().await;
    let c = t.kit.service("box").profile.client();
    let auth = "https://account.box.com/api/oauth2/authorize";
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "root_readonly"),
        ("state", "st"),
    ];
    let mut other = params.to_vec();
    other[1] = ("redirect_uri", "https://elsewhere.example/cb");
    assert_eq!(t.authorize(auth, &other).await, Err(400), "an unregistered redirect is refused");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.box.com/oauth2/token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 400, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 3600);
    let access = s(&reply, "/access_token");
    let me = "https://api.box.com/2.0/users/me";
    let (status, user) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(user.contains("\"login\":\"ada@conformance.example\""), "{user}");
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "a refresh token is good for one use");
    let revoke = "https://api.box.com/oauth2/revoke";
    let last = s(&rotated, "/refresh_token");
    assert_eq!(t.form(revoke, None, &[("token", last.as_str())]).await.0, 400, "the client must authenticate");
    let (status, _) = t.form(revoke, None, &[("client_id", c.id), ("client_secret", c.secret), ("token", &last)]).await;
    assert_eq!(status, 200);
    assert_eq!(t.call("GET", me, &s(&rotated, "/access_token"), None, &[]).await.0, 401, "the pair is revoked");
}

#[tokio::test]
async fn intercom_takes_body_credentials_and_gives_a_token_that_does_not_expire() {
    let t = kit().await;
    let c = t.kit.service("intercom").profile.client();
    let auth = "https://app.intercom.com/oauth";
    assert_eq!(t.authorize(auth, &[("client_id", "someone-else"), ("state", "st")]).await, Err(400));
    let cb = t.authorize(auth, &[("client_id", c.id), ("state", "st"), ("redirect_uri", REDIRECT)]).await.unwrap();
    assert_eq!(cb["state"], "st");
    let token = "https://api.intercom.io/auth/eagle/token";
    let code = [("code", cb["code"].as_str())];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &[("client_id", c.id), ("state", "st")]).await.unwrap();
    let (status, reply) =
        t.form(token, None, &[("code", cb["code"].as_str()), ("client_id", c.id), ("client_secret", c.secret)]).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none() && reply.get("expires_in").is_none(), "{reply}");
    let access = s(&reply, "/access_token");
    assert_eq!(reply["token"], reply["access_token"]);
    let (status, me) =
        t.call("GET", "https://api.intercom.io/me", &access, None, &[("intercom-version", "2.11")]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"type\":\"admin\""), "{me}");
    assert_eq!(t.call("GET", "https://api.intercom.io/me", "bad", None, &[]).await.0, 401);
}

#[tokio::test]
async fn xero_takes_basic_names_tenants_requires_the_tenant_header_and_revokes_the_grant() {
    let t = kit().await;
    let c = t.kit.service("xero").profile.client();
    let auth = "https://login.xero.com/identity/connect/authorize";
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "offline_access accounting.settings.read"),
        ("state", "st"),
    ];
    assert_eq!(t.authorize(auth, &params[..3]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://identity.xero.com/connect/token";
    let mut in_body = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    in_body.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 400, "a web app authenticates with Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 1800);
    let access = s(&reply, "/access_token");
    let (status, tenants) = t.call("GET", "https://api.xero.com/connections", &access, None, &[]).await;
    assert_eq!(status, 200);
    let tenants: Value = serde_json::from_str(&tenants).unwrap();
    let tenant = s(&tenants, "/0/tenantId");
    let org = "https://api.xero.com/api.xro/2.0/Organisation";
    assert_eq!(t.call("GET", org, &access, None, &[]).await.0, 403, "xero-tenant-id is required");
    let (status, body) = t.call("GET", org, &access, None, &[("xero-tenant-id", &tenant)]).await;
    assert_eq!(status, 200);
    assert!(body.contains("Conformance Trading Ltd"), "{body}");
    let invoices = "https://api.xero.com/api.xro/2.0/Invoices";
    assert_eq!(
        t.call("GET", invoices, &access, None, &[("xero-tenant-id", &tenant)]).await.0,
        401,
        "scope not granted"
    );
    let old = s(&reply, "/refresh_token");
    let (status, rotated) =
        t.form(token, Some(basic(c.id, c.secret)), &[("grant_type", "refresh_token"), ("refresh_token", &old)]).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"], "a new refresh token every time");
    let revoke = "https://identity.xero.com/connect/revocation";
    let newest = s(&rotated, "/refresh_token");
    assert_eq!(t.form(revoke, Some(basic(c.id, c.secret)), &[("token", &newest)]).await.0, 200);
    let fresh = s(&rotated, "/access_token");
    assert_eq!(t.call("GET", org, &fresh, None, &[("xero-tenant-id", &tenant)]).await.0, 401, "the grant is gone");
}

/// A Microsoft identity platform grant for `scope` at `tenant`, the client in the form body.
async fn microsoft_grant(t: &T, tenant: &str, scope: &str) -> Value {
    let c = t.kit.service("microsoft").profile.client();
    let auth = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize");
    let params = [("client_id", c.id), ("redirect_uri", REDIRECT), ("response_type", "code"), ("scope", scope)];
    let cb = t.authorize(&auth, &params).await.unwrap();
    let token = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, reply) = t.form(&token, None, &form).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

const GRAPH: &str = "https://graph.microsoft.com/v1.0";

#[tokio::test]
async fn microsoft_teams_sends_channel_and_chat_messages_lists_channels_and_checks_each_permission() {
    let t = kit().await;
    let scope =
        "offline_access User.Read Team.ReadBasic.All Channel.ReadBasic.All ChannelMessage.Send ChatMessage.Send";
    let reply = microsoft_grant(&t, "organizations", scope).await;
    let access = s(&reply, "/access_token");
    assert!(reply.get("refresh_token").is_some(), "offline_access gives a refresh token");
    let (status, teams) = t.call("GET", &format!("{GRAPH}/me/joinedTeams"), &access, None, &[]).await;
    assert_eq!(status, 200, "{teams}");
    let team = s(&serde_json::from_str(&teams).unwrap(), "/value/0/id");
    let (status, channels) = t.call("GET", &format!("{GRAPH}/teams/{team}/channels"), &access, None, &[]).await;
    assert_eq!(status, 200, "{channels}");
    let channel = s(&serde_json::from_str(&channels).unwrap(), "/value/0/id");
    let post = format!("{GRAPH}/teams/{team}/channels/{channel}/messages");
    let hello = r#"{"body": {"content": "Hello from the kit"}}"#;
    let (status, sent) = t.call("POST", &post, &access, Some(hello), &[]).await;
    assert_eq!(status, 201, "{sent}");
    assert!(sent.contains("Hello from the kit"), "{sent}");
    assert_eq!(t.call("POST", &post, &access, Some("{}"), &[]).await.0, 400, "body.content is required");
    let chat = format!("{GRAPH}/chats/19:2da4c29f6d7041eca70b638b43d45437@thread.v2/messages");
    assert_eq!(t.call("POST", &chat, &access, Some(hello), &[]).await.0, 201);
    // Reading channel messages needs ChannelMessage.Read.All (admin consent), not granted here.
    let (status, denied) = t.call("GET", &post, &access, None, &[]).await;
    assert_eq!(status, 403, "{denied}");
    assert!(denied.contains("accessDenied"), "{denied}");
    assert_eq!(t.call("POST", &post, "not-a-token", Some(hello), &[]).await.0, 401);
    // A token for the identity call alone cannot post.
    let narrow = microsoft_grant(&t, "organizations", "User.Read").await;
    assert_eq!(t.call("POST", &post, &s(&narrow, "/access_token"), Some(hello), &[]).await.0, 403);
    assert!(narrow.get("refresh_token").is_none(), "no offline_access, no refresh token");
}

#[tokio::test]
async fn microsoft_sharepoint_lists_creates_items_and_uploads_behind_sites_permissions() {
    let t = kit().await;
    let site = "conformance.sharepoint.com,2c712e3b-0f4f-4e17-b2e5-ba2b6dd4e2f3,8f3a4b6b-4d8e-4bd5-9d53-2e3f5b3b4c2a";
    let items = format!("{GRAPH}/sites/{site}/lists/Tasks/items");
    let read = microsoft_grant(&t, "organizations", "offline_access User.Read Sites.Read.All").await;
    let read = s(&read, "/access_token");
    let (status, listed) = t.call("GET", &items, &read, None, &[]).await;
    assert_eq!(status, 200, "{listed}");
    assert!(listed.contains("\"fields\""), "{listed}");
    let item = r#"{"fields": {"Title": "Widget"}}"#;
    assert_eq!(t.call("POST", &items, &read, Some(item), &[]).await.0, 403, "Sites.Read.All does not write");
    let write = microsoft_grant(&t, "organizations", "offline_access User.Read Sites.ReadWrite.All").await;
    let write = s(&write, "/access_token");
    let (status, created) = t.call("POST", &items, &write, Some(item), &[]).await;
    assert_eq!(status, 201, "{created}");
    assert!(created.contains("Widget"), "{created}");
    assert_eq!(t.call("POST", &items, &write, Some("{}"), &[]).await.0, 400, "fields is required");
    let upload = format!("{GRAPH}/sites/{site}/drive/items/01PARENT:/report.txt:/content");
    let (status, file) = t.call("PUT", &upload, &write, Some(r#""report""#), &[]).await;
    assert_eq!(status, 201, "{file}");
    assert!(file.contains("report.txt"), "{file}");
    assert_eq!(t.call("PUT", &upload, &read, Some(r#""report""#), &[]).await.0, 403);
}

#[tokio::test]
async fn microsoft_todo_reads_lists_and_creates_and_completes_tasks_for_any_account() {
    let t = kit().await;
    let reader = microsoft_grant(&t, "consumers", "offline_access User.Read Tasks.Read").await;
    let reader = s(&reader, "/access_token");
    let (status, lists) = t.call("GET", &format!("{GRAPH}/me/todo/lists"), &reader, None, &[]).await;
    assert_eq!(status, 200, "{lists}");
    let list = s(&serde_json::from_str(&lists).unwrap(), "/value/0/id");
    let tasks = format!("{GRAPH}/me/todo/lists/{list}/tasks");
    assert_eq!(t.call("GET", &tasks, &reader, None, &[]).await.0, 200);
    let task = r#"{"title": "Water the plants"}"#;
    assert_eq!(t.call("POST", &tasks, &reader, Some(task), &[]).await.0, 403, "Tasks.Read does not write");
    let writer = microsoft_grant(&t, "common", "offline_access User.Read Tasks.ReadWrite").await;
    let writer = s(&writer, "/access_token");
    let (status, created) = t.call("POST", &tasks, &writer, Some(task), &[]).await;
    assert_eq!(status, 201, "{created}");
    let id = s(&serde_json::from_str(&created).unwrap(), "/id");
    let (status, done) =
        t.call("PATCH", &format!("{tasks}/{id}"), &writer, Some(r#"{"status": "completed"}"#), &[]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("completed"), "{done}");
    assert_eq!(t.call("POST", &tasks, &writer, Some("{}"), &[]).await.0, 400, "title is required");
}

#[tokio::test]
async fn microsoft_excel_adds_table_rows_and_reads_ranges_only_with_files_readwrite() {
    let t = kit().await;
    let book = format!("{GRAPH}/me/drive/items/01WORKBOOK");
    let rows = format!("{book}/workbook/tables/Table1/rows");
    let range = format!("{book}/workbook/worksheets/Sheet1/range(address='A1:B2')");
    let reader = microsoft_grant(&t, "organizations", "offline_access User.Read Files.Read").await;
    let reader = s(&reader, "/access_token");
    // Graph lists Files.ReadWrite as the least privileged permission even for reading a range.
    assert_eq!(t.call("GET", &range, &reader, None, &[]).await.0, 403);
    let writer = microsoft_grant(&t, "organizations", "offline_access User.Read Files.ReadWrite").await;
    let writer = s(&writer, "/access_token");
    let (status, added) = t.call("POST", &rows, &writer, Some(r#"{"values": [["Ada", 1815]]}"#), &[]).await;
    assert_eq!(status, 201, "{added}");
    assert!(added.contains("\"index\""), "{added}");
    assert_eq!(t.call("POST", &rows, &writer, Some(r#"{"index": 1}"#), &[]).await.0, 400, "values is required");
    let (status, cells) = t.call("GET", &range, &writer, None, &[]).await;
    assert_eq!(status, 200, "{cells}");
    assert!(cells.contains("Sheet1!A1:B2"), "{cells}");
}

#[tokio::test]
async fn confluence_uses_the_atlassian_3lo_flow_searches_with_cql_and_creates_pages_by_granular_scope() {
    let t = kit().await;
    let c = t.kit.service("atlassian").profile.client();
    let auth = "https://auth.atlassian.com/authorize";
    let scope = "read:confluence-user search:confluence read:space:confluence offline_access";
    let params = [
        ("audience", "api.atlassian.com"),
        ("client_id", c.id),
        ("scope", scope),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
        ("response_type", "code"),
        ("prompt", "consent"),
    ];
    assert_eq!(t.authorize(auth, &params[1..]).await, Err(400), "audience is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let exchange = json!({
        "grant_type": "authorization_code", "client_id": c.id, "client_secret": c.secret,
        "code": cb["code"], "redirect_uri": REDIRECT,
    });
    let r = t.http.post("https://auth.atlassian.com/oauth/token").json(&exchange).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let reply: Value = r.json().await.unwrap();
    assert!(reply.get("refresh_token").is_some(), "{reply}");
    let access = s(&reply, "/access_token");
    let (_, sites) =
        t.call("GET", "https://api.atlassian.com/oauth/token/accessible-resources", &access, None, &[]).await;
    let cloud = s(&serde_json::from_str(&sites).unwrap(), "/0/id");
    let wiki = format!("https://api.atlassian.com/ex/confluence/{cloud}/wiki");
    let (status, me) = t.call("GET", &format!("{wiki}/rest/api/user/current"), &access, None, &[]).await;
    assert_eq!(status, 200, "{me}");
    assert!(me.contains("\"accountId\"") && me.contains("\"publicName\""), "{me}");
    let (status, found) = t.call("GET", &format!("{wiki}/rest/api/search?cql=type%3Dpage"), &access, None, &[]).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(t.call("GET", &format!("{wiki}/rest/api/search"), &access, None, &[]).await.0, 400, "cql is required");
    let (status, spaces) = t.call("GET", &format!("{wiki}/api/v2/spaces?keys=CONF"), &access, None, &[]).await;
    assert_eq!(status, 200, "{spaces}");
    let space = s(&serde_json::from_str(&spaces).unwrap(), "/results/0/id");
    let page = json!({"spaceId": space, "status": "current", "title": "Kit notes", "body": {"representation": "storage", "value": "<p>Hi</p>"}}).to_string();
    let pages = format!("{wiki}/api/v2/pages");
    let (status, denied) = t.call("POST", &pages, &access, Some(&page), &[]).await;
    assert_eq!(status, 401, "write:page:confluence is not granted: {denied}");
    assert!(denied.contains("scope does not match"), "{denied}");
    let writer: Vec<_> =
        params.iter().map(|&(k, v)| if k == "scope" { (k, "write:page:confluence") } else { (k, v) }).collect();
    let cb = t.authorize(auth, &writer).await.unwrap();
    let exchange = json!({
        "grant_type": "authorization_code", "client_id": c.id, "client_secret": c.secret,
        "code": cb["code"], "redirect_uri": REDIRECT,
    });
    let r = t.http.post("https://auth.atlassian.com/oauth/token").json(&exchange).send().await.unwrap();
    let writer = s(&r.json::<Value>().await.unwrap(), "/access_token");
    let (status, created) = t.call("POST", &pages, &writer, Some(&page), &[]).await;
    assert_eq!(status, 200, "{created}");
    assert!(created.contains("Kit notes"), "{created}");
    assert_eq!(t.call("POST", &pages, &writer, Some(r#"{"title": "x"}"#), &[]).await.0, 400, "spaceId is required");
    assert_eq!(t.call("GET", &format!("{wiki}/rest/api/user/current"), "nope", None, &[]).await.0, 401);
}

#[tokio::test]
async fn microsoft_onenote_creates_html_pages_with_notes_create_and_reads_with_notes_read() {
    let t = kit().await;
    let creator = microsoft_grant(&t, "consumers", "offline_access User.Read Notes.Create").await;
    let creator = s(&creator, "/access_token");
    let (status, sections) = t.call("GET", &format!("{GRAPH}/me/onenote/sections"), &creator, None, &[]).await;
    assert_eq!(status, 200, "Notes.Create shows the hierarchy: {sections}");
    let section = s(&serde_json::from_str(&sections).unwrap(), "/value/0/id");
    let pages = format!("{GRAPH}/me/onenote/sections/{section}/pages");
    let html = "<!DOCTYPE html><html><head><title>Kit page</title></head><body><p>Hi</p></body></html>";
    let post = |content_type: &'static str| {
        let req = t.http.post(&pages).bearer_auth(&creator).header("content-type", content_type).body(html);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, page) = post("text/html").await;
    assert_eq!(status, 201, "{page}");
    assert!(page.contains("Kit page"), "{page}");
    assert_eq!(post("application/json").await.0, 400, "the page goes as HTML");
    let list = format!("{GRAPH}/me/onenote/pages");
    assert_eq!(t.call("GET", &list, &creator, None, &[]).await.0, 403, "Notes.Create does not read pages");
    let reader = microsoft_grant(&t, "common", "offline_access User.Read Notes.Read").await;
    assert_eq!(t.call("GET", &list, &s(&reader, "/access_token"), None, &[]).await.0, 200);
}

#[tokio::test]
async fn microsoft_planner_creates_tasks_with_tasks_readwrite_and_requires_a_plan() {
    let t = kit().await;
    let reader = microsoft_grant(&t, "organizations", "offline_access User.Read Tasks.Read").await;
    let reader = s(&reader, "/access_token");
    assert_eq!(t.call("GET", &format!("{GRAPH}/me/planner/tasks"), &reader, None, &[]).await.0, 200);
    let tasks = format!("{GRAPH}/planner/tasks");
    let task = r#"{"planId": "xqQg5FS2LkCp935s-FIFm2QAFkHM", "title": "Update client list"}"#;
    assert_eq!(t.call("POST", &tasks, &reader, Some(task), &[]).await.0, 403, "Tasks.Read does not write");
    let writer = microsoft_grant(&t, "organizations", "offline_access User.Read Tasks.ReadWrite").await;
    let writer = s(&writer, "/access_token");
    let (status, created) = t.call("POST", &tasks, &writer, Some(task), &[]).await;
    assert_eq!(status, 201, "{created}");
    assert!(created.contains("Update client list"), "{created}");
    let no_plan = r#"{"title": "Orphan"}"#;
    assert_eq!(t.call("POST", &tasks, &writer, Some(no_plan), &[]).await.0, 400, "planId is required");
}
