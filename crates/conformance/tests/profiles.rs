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
async fn hubspot_v3_takes_body_credentials_keeps_its_refresh_token_and_revokes_it_by_form() {
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
    let revoke = "https://api.hubapi.com/oauth/2026-03/token/revoke";
    let by_basic = [("token", refresh.as_str()), ("token_type_hint", "refresh_token")];
    assert_eq!(t.form(revoke, Some(basic(c.id, c.secret)), &by_basic).await.0, 401, "the client goes in the body");
    let form =
        [("client_id", c.id), ("client_secret", c.secret), ("token", &refresh), ("token_type_hint", "refresh_token")];
    assert_eq!(t.form(revoke, None, &form).await.0, 204);
    assert_eq!(t.form(revoke, None, &form).await.0, 400, "gone");
    let (status, _) = t.call("GET", contacts, &access, None, &[]).await;
    assert_eq!(status, 200, "the access token lives out its 30 minutes");
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

/// A Google access token for `scope` through the documented web-server flow (PKCE, the client
/// in the body, offline access); the refusals of that flow are in the Gmail test above.
async fn google_access(t: &T, scope: &str) -> String {
    let c = t.kit.service("google").profile.client();
    let challenge = s256(VERIFIER);
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", scope),
        ("access_type", "offline"),
        ("state", "st"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    let cb = t.authorize("https://accounts.google.com/o/oauth2/v2/auth", &params).await.unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, reply) = t.form("https://oauth2.googleapis.com/token", None, &form).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["scope"], scope);
    s(&reply, "/access_token")
}

#[tokio::test]
async fn youtube_takes_youtube_upload_for_uploads_only_requires_part_and_force_ssl_for_comments() {
    let t = kit().await;
    let upload = google_access(&t, "https://www.googleapis.com/auth/youtube.upload").await;
    let insert = "https://www.googleapis.com/upload/youtube/v3/videos?part=snippet,status&uploadType=resumable";
    let (status, video) = t.call("POST", insert, &upload, Some(r#"{"snippet": {"title": "t"}}"#), &[]).await;
    assert_eq!(status, 200, "{video}");
    assert!(video.contains("youtube#video"), "{video}");
    let channels = "https://www.googleapis.com/youtube/v3/channels?part=snippet&mine=true";
    assert_eq!(t.call("GET", channels, &upload, None, &[]).await.0, 403, "youtube.upload cannot list channels");
    let comment = "https://www.googleapis.com/youtube/v3/commentThreads?part=snippet";
    assert_eq!(t.call("POST", comment, &upload, Some("{}"), &[]).await.0, 403, "comments need youtube.force-ssl");

    let read = google_access(&t, "https://www.googleapis.com/auth/youtube.readonly").await;
    let (status, body) = t.call("GET", channels, &read, None, &[]).await;
    assert_eq!((status, body.contains("youtube#channelListResponse")), (200, true), "{body}");
    let on_youtube_host = "https://youtube.googleapis.com/youtube/v3/channels?part=id&mine=true";
    assert_eq!(t.call("GET", on_youtube_host, &read, None, &[]).await.0, 200, "the API's own host answers too");
    let no_part = "https://www.googleapis.com/youtube/v3/channels?mine=true";
    assert_eq!(t.call("GET", no_part, &read, None, &[]).await.0, 400, "part is required");
    assert_eq!(t.call("POST", comment, &read, Some("{}"), &[]).await.0, 403);
    assert_eq!(t.call("GET", channels, "ya29.not-a-token", None, &[]).await.0, 401);

    let ssl = google_access(&t, "https://www.googleapis.com/auth/youtube.force-ssl").await;
    assert_eq!(t.call("POST", comment, &ssl, Some("{}"), &[]).await.0, 200);
}

#[tokio::test]
async fn google_docs_creates_and_edits_with_drive_file_and_reads_with_documents_readonly() {
    let t = kit().await;
    let file = google_access(&t, "https://www.googleapis.com/auth/drive.file").await;
    let (status, created) =
        t.call("POST", "https://docs.googleapis.com/v1/documents", &file, Some(r#"{"title": "Notes"}"#), &[]).await;
    assert_eq!(status, 200, "{created}");
    let id = s(&serde_json::from_str(&created).unwrap(), "/documentId");
    let update = format!("https://docs.googleapis.com/v1/documents/{id}:batchUpdate");
    let text = r#"{"requests": [{"insertText": {"text": "hi", "endOfSegmentLocation": {}}}]}"#;
    assert_eq!(t.call("POST", &update, &file, Some(text), &[]).await.0, 200);

    let read = google_access(&t, "https://www.googleapis.com/auth/documents.readonly").await;
    let (status, doc) = t.call("GET", "https://docs.googleapis.com/v1/documents/abc", &read, None, &[]).await;
    assert_eq!((status, doc.contains("\"documentId\":\"abc\"")), (200, true), "{doc}");
    assert_eq!(t.call("POST", &update, &read, Some(text), &[]).await.0, 403, "readonly cannot edit");
    assert_eq!(t.call("POST", "https://docs.googleapis.com/v1/documents", &read, Some("{}"), &[]).await.0, 403);
}

#[tokio::test]
async fn google_contacts_lists_connections_with_person_fields_and_creates_only_with_contacts() {
    let t = kit().await;
    let read = google_access(&t, "https://www.googleapis.com/auth/contacts.readonly").await;
    let connections = "https://people.googleapis.com/v1/people/me/connections";
    assert_eq!(t.call("GET", connections, &read, None, &[]).await.0, 400, "personFields is required");
    let with_fields = format!("{connections}?personFields=names,emailAddresses");
    let (status, body) = t.call("GET", &with_fields, &read, None, &[]).await;
    assert_eq!((status, body.contains("people/c")), (200, true), "{body}");
    let create = "https://people.googleapis.com/v1/people:createContact";
    let person = r#"{"names": [{"givenName": "Charles"}]}"#;
    assert_eq!(t.call("POST", create, &read, Some(person), &[]).await.0, 403, "creating needs contacts");
    let search = "https://people.googleapis.com/v1/people:searchContacts?query=cha&readMask=names";
    assert_eq!(t.call("GET", search, &read, None, &[]).await.0, 200);

    let write = google_access(&t, "https://www.googleapis.com/auth/contacts").await;
    let (status, created) = t.call("POST", create, &write, Some(person), &[]).await;
    assert_eq!((status, created.contains("resourceName")), (200, true), "{created}");
}

#[tokio::test]
async fn google_tasks_reads_with_tasks_readonly_and_inserts_only_with_tasks() {
    let t = kit().await;
    let read = google_access(&t, "https://www.googleapis.com/auth/tasks.readonly").await;
    let (status, lists) =
        t.call("GET", "https://tasks.googleapis.com/tasks/v1/users/@me/lists", &read, None, &[]).await;
    assert_eq!(status, 200, "{lists}");
    let list = s(&serde_json::from_str(&lists).unwrap(), "/items/0/id");
    let insert = format!("https://tasks.googleapis.com/tasks/v1/lists/{list}/tasks");
    assert_eq!(t.call("GET", &insert, &read, None, &[]).await.0, 200);
    assert_eq!(t.call("POST", &insert, &read, Some(r#"{"title": "t"}"#), &[]).await.0, 403, "inserting needs tasks");
    let write = google_access(&t, "https://www.googleapis.com/auth/tasks").await;
    let (status, task) = t.call("POST", &insert, &write, Some(r#"{"title": "t"}"#), &[]).await;
    assert_eq!((status, task.contains("tasks#task")), (200, true), "{task}");
}

#[tokio::test]
async fn google_forms_reads_responses_with_responses_readonly_and_creates_with_drive_file() {
    let t = kit().await;
    let responses = google_access(&t, "https://www.googleapis.com/auth/forms.responses.readonly").await;
    let list = "https://forms.googleapis.com/v1/forms/f1/responses";
    let (status, body) = t.call("GET", list, &responses, None, &[]).await;
    assert_eq!((status, body.contains("responseId")), (200, true), "{body}");
    let form = "https://forms.googleapis.com/v1/forms/f1";
    assert_eq!(t.call("GET", form, &responses, None, &[]).await.0, 403, "the form itself needs forms.body(.readonly)");
    let create = "https://forms.googleapis.com/v1/forms";
    let info = r#"{"info": {"title": "Survey"}}"#;
    assert_eq!(t.call("POST", create, &responses, Some(info), &[]).await.0, 403);

    let file = google_access(&t, "https://www.googleapis.com/auth/drive.file").await;
    assert_eq!(t.call("POST", create, &file, Some(info), &[]).await.0, 200);
    let update = "https://forms.googleapis.com/v1/forms/f1:batchUpdate";
    assert_eq!(t.call("POST", update, &file, Some(r#"{"requests": []}"#), &[]).await.0, 200);
    let body_read = google_access(&t, "https://www.googleapis.com/auth/forms.body.readonly").await;
    assert_eq!(t.call("GET", form, &body_read, None, &[]).await.0, 200);
    assert_eq!(t.call("GET", list, &body_read, None, &[]).await.0, 403, "responses need forms.responses.readonly");
}

#[tokio::test]
async fn google_slides_creates_with_drive_file_and_refuses_edits_with_presentations_readonly() {
    let t = kit().await;
    let file = google_access(&t, "https://www.googleapis.com/auth/drive.file").await;
    let create = "https://slides.googleapis.com/v1/presentations";
    let (status, deck) = t.call("POST", create, &file, Some(r#"{"title": "Deck"}"#), &[]).await;
    assert_eq!(status, 200, "{deck}");
    let id = s(&serde_json::from_str(&deck).unwrap(), "/presentationId");
    let update = format!("https://slides.googleapis.com/v1/presentations/{id}:batchUpdate");
    let slide = r#"{"requests": [{"createSlide": {}}]}"#;
    assert_eq!(t.call("POST", &update, &file, Some(slide), &[]).await.0, 200);

    let read = google_access(&t, "https://www.googleapis.com/auth/presentations.readonly").await;
    let (status, got) = t.call("GET", "https://slides.googleapis.com/v1/presentations/d1", &read, None, &[]).await;
    assert_eq!((status, got.contains("\"presentationId\":\"d1\"")), (200, true), "{got}");
    assert_eq!(t.call("POST", &update, &read, Some(slide), &[]).await.0, 403, "readonly cannot edit");
    assert_eq!(t.call("POST", create, &read, Some("{}"), &[]).await.0, 403);
    assert_eq!(t.call("GET", "https://slides.googleapis.com/v1/presentations/d1", "bad", None, &[]).await.0, 401);
}

#[tokio::test]
async fn monday_requires_pkce_takes_body_credentials_rotates_refresh_tokens_and_takes_the_raw_token() {
    let t = kit().await;
    let c = t.kit.service("monday").profile.client();
    let auth = "https://auth.monday.com/oauth2/authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "me:read boards:read"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    assert_eq!(t.authorize(auth, &params[..5]).await, Err(400), "OAuth 2.1 requires PKCE");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://auth.monday.com/oauth_ms/oauth/token";
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &exchange).await.0, 400, "the code verifier is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]);
    exchange.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(t.form(token, None, &exchange).await.0, 400, "a code is good once");
    let access = s(&reply, "/access_token");
    let me = r#"{"query": "{ me { id name email } }"}"#;
    let raw = |token: &str| {
        t.http
            .post("https://api.monday.com/v2")
            .header("authorization", token.to_owned())
            .header("content-type", "application/json")
            .body(me)
            .send()
    };
    let r = raw(&access).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["me"]["email"], "ada@conformance.example", "{body}");
    assert_eq!(raw("not-a-token").await.unwrap().status(), 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"], "refresh tokens rotate");
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "the used refresh token is spent");
    let revoke = "https://auth.monday.com/oauth_ms/oauth/revoke";
    let newest = s(&rotated, "/refresh_token");
    assert_eq!(t.form(revoke, None, &[("token", newest.as_str())]).await.0, 401, "the client must authenticate");
    let (status, _) =
        t.form(revoke, None, &[("token", newest.as_str()), ("client_id", c.id), ("client_secret", c.secret)]).await;
    assert_eq!(status, 200);
    assert_eq!(raw(&s(&rotated, "/access_token")).await.unwrap().status(), 401, "the grant is revoked");
}

#[tokio::test]
async fn clickup_takes_the_client_and_code_in_the_query_and_gives_a_token_that_does_not_expire() {
    let t = kit().await;
    let c = t.kit.service("clickup").profile.client();
    let auth = "https://app.clickup.com/api";
    assert_eq!(t.authorize(auth, &[("client_id", c.id)]).await, Err(400), "redirect_uri is required");
    let cb = t.authorize(auth, &[("client_id", c.id), ("redirect_uri", REDIRECT), ("state", "st")]).await.unwrap();
    assert_eq!(cb["state"], "st");
    let token = "https://api.clickup.com/api/v2/oauth/token";
    let in_body = [("client_id", c.id), ("client_secret", c.secret), ("code", cb["code"].as_str())];
    assert_eq!(t.form(token, None, &in_body).await.0, 400, "the parameters go in the query string");
    let url = reqwest::Url::parse_with_params(token, &in_body).unwrap();
    let r = t.http.post(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let reply: Value = r.json().await.unwrap();
    assert!(reply.get("refresh_token").is_none() && reply.get("expires_in").is_none(), "{reply}");
    let access = s(&reply, "/access_token");
    let (status, user) = t.call("GET", "https://api.clickup.com/api/v2/user", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(user.contains("\"email\":\"ada@conformance.example\""), "{user}");
    let (status, teams) = t.call("GET", "https://api.clickup.com/api/v2/team", &access, None, &[]).await;
    assert_eq!(status, 200, "{teams}");
    assert_eq!(t.call("GET", "https://api.clickup.com/api/v2/user", "pk_wrong", None, &[]).await.0, 401);
    let again = reqwest::Url::parse_with_params(token, &in_body).unwrap();
    assert_eq!(t.http.post(again).send().await.unwrap().status(), 400, "a code is good once");
}

#[tokio::test]
async fn zoho_names_the_data_center_needs_offline_access_keeps_its_refresh_token_and_revokes_by_query() {
    let t = kit().await;
    let c = t.kit.service("zoho-crm").profile.client();
    let auth = "https://accounts.zoho.eu/oauth/v2/auth";
    let online = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "ZohoCRM.users.READ,ZohoCRM.modules.leads.READ"),
        ("state", "st"),
    ];
    assert_eq!(t.authorize(auth, &online[..3]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &online).await.unwrap();
    assert_eq!((cb["location"].as_str(), cb["accounts-server"].as_str()), ("eu", "https://accounts.zoho.eu"));
    let token = "https://accounts.zoho.eu/oauth/v2/token";
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none(), "no refresh token without access_type=offline: {reply}");
    let mut offline = online.to_vec();
    offline.extend([("access_type", "offline"), ("prompt", "consent")]);
    let cb = t.authorize(auth, &offline).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 400, "the client goes in the body");
    let cb = t.authorize(auth, &offline).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["api_domain"], "https://www.zohoapis.eu");
    let access = s(&reply, "/access_token");
    let users = "https://www.zohoapis.eu/crm/v8/users?type=CurrentUser";
    let zoho = |token: &str| t.http.get(users).header("authorization", format!("Zoho-oauthtoken {token}")).send();
    let r = zoho(&access).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("ada@conformance.example"));
    assert_eq!(t.call("GET", users, &access, None, &[]).await.0, 401, "Bearer is not Zoho's scheme");
    let refresh_token = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, renewed) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{renewed}");
    assert!(renewed.get("refresh_token").is_none(), "the refresh token is not replaced: {renewed}");
    assert_eq!(t.form(token, None, &refresh).await.0, 200, "and stays good");
    let revoke =
        reqwest::Url::parse_with_params("https://accounts.zoho.eu/oauth/v2/token/revoke", &[("token", &refresh_token)])
            .unwrap();
    assert_eq!(t.http.post(revoke.clone()).send().await.unwrap().status(), 200);
    assert_eq!(zoho(&s(&renewed, "/access_token")).await.unwrap().status(), 401, "the grant is revoked");
    assert_eq!(t.http.post(revoke).send().await.unwrap().status(), 400, "an unknown token is refused");
}

#[tokio::test]
async fn wrike_takes_comma_scopes_names_the_host_and_answers_only_there_and_rotates_refresh_tokens() {
    let t = kit().await;
    let c = t.kit.service("wrike").profile.client();
    let auth = "https://login.wrike.com/oauth2/authorize/v4";
    let params = [
        ("client_id", c.id),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "wsReadOnly,wsReadWrite"),
    ];
    assert_eq!(
        t.authorize(auth, &[("client_id", c.id), ("scope", "wsReadOnly")]).await,
        Err(400),
        "response_type is required"
    );
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://login.wrike.com/oauth2/token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["host"], "app-eu.wrike.com");
    let access = s(&reply, "/access_token");
    let me = "https://app-eu.wrike.com/api/v4/contacts?me=true";
    let (status, body) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"email\":\"ada@conformance.example\""), "{body}");
    let elsewhere = "https://www.wrike.com/api/v4/contacts?me=true";
    assert_eq!(t.call("GET", elsewhere, &access, None, &[]).await.0, 401, "only the account's host knows it");
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
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "the used refresh token is spent");
}

#[tokio::test]
async fn smartsheet_takes_the_secret_or_its_hash_issues_week_long_tokens_and_revokes_by_delete() {
    let t = kit().await;
    let c = t.kit.service("smartsheet").profile.client();
    let auth = "https://app.smartsheet.com/b/authorize";
    let params =
        [("response_type", "code"), ("client_id", c.id), ("scope", "READ_SHEETS WRITE_SHEETS"), ("state", "st")];
    assert_eq!(t.authorize(auth, &params[..2]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.smartsheet.com/2.0/token";
    let wrong =
        [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("client_id", c.id), ("hash", "00")];
    assert_eq!(t.form(token, None, &wrong).await.0, 401, "a wrong hash is refused");
    let cb = t.authorize(auth, &params).await.unwrap();
    let hash = {
        let d =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{}|{}", c.secret, cb["code"]).as_bytes());
        d.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("client_id", c.id),
        ("hash", hash.as_str()),
    ];
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 604799);
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.smartsheet.com/2.0/users/me", &access, None, &[]).await;
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
    assert_ne!(rotated["refresh_token"], reply["refresh_token"], "a new refresh token every time");
    let fresh = s(&rotated, "/access_token");
    assert_eq!(t.call("DELETE", token, "not-a-token", None, &[]).await.0, 401);
    assert_eq!(t.call("DELETE", token, &fresh, None, &[]).await.0, 200);
    assert_eq!(t.call("GET", "https://api.smartsheet.com/2.0/sheets", &fresh, None, &[]).await.0, 401, "revoked");
}

#[tokio::test]
async fn miro_grants_the_apps_scopes_on_a_team_rotates_the_pair_and_names_user_and_team() {
    let t = kit().await;
    let c = t.kit.service("miro").profile.client();
    let auth = "https://miro.com/oauth/authorize";
    let params = [("response_type", "code"), ("client_id", c.id), ("redirect_uri", REDIRECT), ("state", "st")];
    assert_eq!(t.authorize(auth, &params[..2]).await, Err(400), "redirect_uri is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.miro.com/v1/oauth/token";
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT)]);
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &exchange).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["scope"], "boards:read boards:write");
    assert!(reply["team_id"].is_string() && reply["user_id"].is_string(), "{reply}");
    let access = s(&reply, "/access_token");
    let (status, context) = t.call("GET", "https://api.miro.com/v1/oauth-token", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(context.contains("\"name\":\"Ada Lovelace\""), "{context}");
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "the old refresh token stops working");
    let fresh = s(&rotated, "/access_token");
    let revoke = "https://api.miro.com/v2/oauth/revoke";
    let client = json!({"clientId": c.id, "clientSecret": c.secret}).to_string();
    assert_eq!(t.call("POST", revoke, &fresh, Some("{}"), &[]).await.0, 400, "the client is required");
    assert_eq!(t.call("POST", revoke, &fresh, Some(&client), &[]).await.0, 204);
    assert_eq!(t.call("GET", "https://api.miro.com/v2/boards", &fresh, None, &[]).await.0, 401, "revoked");
}

#[tokio::test]
async fn todoist_takes_body_credentials_gives_a_lasting_token_and_revokes_it_with_basic() {
    let t = kit().await;
    let c = t.kit.service("todoist").profile.client();
    let auth = "https://todoist.com/oauth/authorize";
    let params = [("client_id", c.id), ("scope", "data:read,task:add"), ("state", "st")];
    assert_eq!(t.authorize(auth, &params[..2]).await, Err(400), "state is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    assert_eq!(cb["state"], "st");
    let token = "https://todoist.com/oauth/access_token";
    let code = [("code", cb["code"].as_str())];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 400, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let (status, reply) =
        t.form(token, None, &[("client_id", c.id), ("client_secret", c.secret), ("code", cb["code"].as_str())]).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none() && reply.get("expires_in").is_none(), "{reply}");
    let access = s(&reply, "/access_token");
    let (status, user) = t.call("GET", "https://api.todoist.com/api/v1/user", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(user.contains("\"email\":\"ada@conformance.example\""), "{user}");
    let revoke = "https://api.todoist.com/api/v1/revoke";
    let body = [("token", access.as_str()), ("token_type_hint", "access_token")];
    assert_eq!(t.form(revoke, None, &body).await.0, 401, "the client authenticates by Basic");
    assert_eq!(t.form(revoke, Some(basic(c.id, c.secret)), &body).await.0, 200);
    assert_eq!(t.call("GET", "https://api.todoist.com/api/v1/user", &access, None, &[]).await.0, 401, "revoked");
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
async fn gitlab_takes_body_credentials_and_pkce_spends_refresh_tokens_checks_scopes_and_revokes_by_form() {
    let t = kit().await;
    let c = t.kit.service("gitlab").profile.client();
    let auth = "https://gitlab.com/oauth/authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "st"),
        ("scope", "read_user read_repository"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let mut other = params.to_vec();
    other[1] = ("redirect_uri", "https://elsewhere.example/cb");
    assert_eq!(t.authorize(auth, &other).await, Err(400), "an unregistered redirect is refused");
    let mut unknown = params.to_vec();
    unknown[4] = ("scope", "read_user write_everything");
    let cb = t.authorize(auth, &unknown).await.unwrap();
    assert_eq!(cb["error"], "invalid_scope");
    let cb = t.authorize(auth, &params).await.unwrap();
    assert_eq!(cb["state"], "st");
    let token = "https://gitlab.com/oauth/token";
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", "wrong")]);
    assert_eq!(t.form(token, None, &exchange).await.0, 401, "a wrong secret is invalid_client");
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
    assert_eq!(reply["expires_in"], 7200);
    assert_eq!(reply["token_type"], "bearer");
    assert!(reply["created_at"].is_u64(), "{reply}");
    assert_eq!(t.form(token, None, &exchange).await.0, 400, "a code is good once");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://gitlab.com/api/v4/user", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"username\":\"ada-conformance\""), "{me}");
    let (status, denied) = t.call("GET", "https://gitlab.com/api/v4/projects", &access, None, &[]).await;
    assert_eq!(status, 403, "listing projects needs read_api: {denied}");
    assert!(denied.contains("insufficient_scope"), "{denied}");
    assert_eq!(t.call("GET", "https://gitlab.com/api/v4/user", "bad", None, &[]).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"], "a new pair");
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "the used refresh token is invalidated");
    let revoke = "https://gitlab.com/oauth/revoke";
    let newest = s(&rotated, "/refresh_token");
    assert_eq!(t.form(revoke, None, &[("token", newest.as_str())]).await.0, 403, "the application must authenticate");
    let (status, done) =
        t.form(revoke, None, &[("client_id", c.id), ("client_secret", c.secret), ("token", &newest)]).await;
    assert_eq!((status, done), (200, json!({})));
    let fresh = s(&rotated, "/access_token");
    assert_eq!(t.call("GET", "https://gitlab.com/api/v4/user", &fresh, None, &[]).await.0, 401, "both are revoked");
}

#[tokio::test]
async fn asana_takes_body_credentials_names_the_user_keeps_its_refresh_token_and_revokes_it_by_form() {
    let t = kit().await;
    let c = t.kit.service("asana").profile.client();
    let auth = "https://app.asana.com/-/oauth_authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "st"),
        ("scope", "users:read tasks:read"),
        ("code_challenge_method", "S256"),
        ("code_challenge", challenge.as_str()),
    ];
    let mut unknown = params.to_vec();
    unknown[4] = ("scope", "users:read everything:write");
    assert_eq!(t.authorize(auth, &unknown).await.unwrap()["error"], "invalid_scope");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://app.asana.com/-/oauth_token";
    let code = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]);
    exchange.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 3600);
    assert_eq!(reply["data"]["email"], "ada@conformance.example", "the reply names the user");
    let access = s(&reply, "/access_token");
    let me = "https://app.asana.com/api/1.0/users/me";
    let (status, body) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"gid\":\"1201234567890123\""), "{body}");
    let projects = "https://app.asana.com/api/1.0/workspaces/1201234567890001/projects";
    assert_eq!(t.call("GET", projects, &access, None, &[]).await.0, 403, "projects:read was not granted");
    assert_eq!(t.call("GET", me, "bad", None, &[]).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, refreshed) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(refreshed.get("refresh_token").is_none(), "no new refresh token: {refreshed}");
    assert_eq!(t.form(token, None, &refresh).await.0, 200, "the refresh token stays good");
    let revoke = "https://app.asana.com/-/oauth_revoke";
    assert_eq!(t.form(revoke, None, &[("token", old.as_str())]).await.0, 401, "the client must authenticate");
    let (status, _) = t.form(revoke, None, &[("client_id", c.id), ("client_secret", c.secret), ("token", &old)]).await;
    assert_eq!(status, 200);
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "the refresh token is revoked");
    let fresh = s(&refreshed, "/access_token");
    assert_eq!(t.call("GET", me, &fresh, None, &[]).await.0, 401, "and its access tokens with it");
}

#[tokio::test]
async fn zoom_refuses_url_scopes_takes_basic_rotates_single_use_refresh_tokens_and_revokes_by_basic() {
    let t = kit().await;
    let c = t.kit.service("zoom").profile.client();
    let auth = "https://zoom.us/oauth/authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let mut with_scope = params.to_vec();
    with_scope.push(("scope", "meeting:write:meeting"));
    assert_eq!(t.authorize(auth, &with_scope).await, Err(400), "scopes belong to the app, not the URL");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://zoom.us/oauth/token";
    let mut in_body = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    in_body.extend([("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]);
    in_body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 401, "the client authenticates with Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["api_url"], "https://api.zoom.us");
    assert!(s(&reply, "/scope").split(' ').any(|x| x == "user:read:user"), "{reply}");
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 400, "a code is good once");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.zoom.us/v2/users/me", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"email\":\"ada@conformance.example\""), "{me}");
    let (status, bad) = t.call("GET", "https://api.zoom.us/v2/users/me", "bad", None, &[]).await;
    assert_eq!(status, 401);
    assert!(bad.contains("\"code\":124"), "{bad}");
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, rotated) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &refresh).await.0, 400, "the used refresh token is spent");
    let revoke = "https://zoom.us/oauth/revoke";
    let fresh = s(&rotated, "/access_token");
    assert_eq!(t.form(revoke, None, &[("token", fresh.as_str())]).await.0, 401, "Basic is required");
    let (status, done) = t.form(revoke, Some(basic(c.id, c.secret)), &[("token", fresh.as_str())]).await;
    assert_eq!((status, done), (200, json!({"status": "success"})));
    let meetings = "https://api.zoom.us/v2/users/me/meetings";
    assert_eq!(t.call("GET", meetings, &fresh, None, &[]).await.0, 401);
    let last = s(&rotated, "/refresh_token");
    let again = [("grant_type", "refresh_token"), ("refresh_token", last.as_str())];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &again).await.0, 400, "the authorization is gone");
}

#[tokio::test]
async fn bitbucket_grants_the_consumers_scopes_takes_basic_and_refreshes_without_a_revocation_endpoint() {
    let t = kit().await;
    let c = t.kit.service("bitbucket").profile.client();
    let auth = "https://bitbucket.org/site/oauth2/authorize";
    let params = [("client_id", c.id), ("response_type", "code"), ("redirect_uri", REDIRECT), ("state", "st")];
    let mut other = params.to_vec();
    other[2] = ("redirect_uri", "https://elsewhere.example/cb");
    assert_eq!(t.authorize(auth, &other).await, Err(400), "a callback outside the consumer's is refused");
    let mut more = params.to_vec();
    more.push(("scope", "account repository:admin"));
    assert_eq!(t.authorize(auth, &more).await.unwrap()["error"], "invalid_scope", "no scope beyond the consumer's");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://bitbucket.org/site/oauth2/access_token";
    let mut in_body = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    in_body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 401, "the consumer authenticates with Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 7200);
    assert!(s(&reply, "/scopes").contains("account"), "the consumer's permissions: {reply}");
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 400, "a code is good once");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.bitbucket.org/2.0/user", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"display_name\":\"Ada Lovelace\""), "{me}");
    let repos = "https://api.bitbucket.org/2.0/repositories/conformance";
    assert_eq!(t.call("GET", repos, &access, None, &[]).await.0, 200);
    let (status, bad) = t.call("GET", repos, "bad", None, &[]).await;
    assert_eq!(status, 401);
    assert!(bad.contains("\"type\":\"error\""), "{bad}");
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, refreshed) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_ne!(refreshed["access_token"], reply["access_token"]);
    let fresh = s(&refreshed, "/access_token");
    assert_eq!(t.call("GET", repos, &fresh, None, &[]).await.0, 200);
    assert!(t.kit.service("bitbucket").profile.revocation().is_none(), "Bitbucket documents no revocation");
}

#[tokio::test]
async fn spotify_takes_basic_keeps_the_refresh_token_and_has_no_revocation() {
    let t = kit().await;
    let c = t.kit.service("spotify").profile.client();
    let auth = "https://accounts.spotify.com/authorize";
    let params = [
        ("client_id", c.id),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "user-read-email user-read-recently-played"),
        ("state", "st"),
    ];
    let mut other = params.to_vec();
    other[2] = ("redirect_uri", "https://elsewhere.example/cb");
    assert_eq!(t.authorize(auth, &other).await, Err(400), "an unregistered redirect is refused");
    let cb = t.authorize(auth, &params).await.unwrap();
    assert_eq!(cb["state"], "st");
    let token = "https://accounts.spotify.com/api/token";
    let mut in_body = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    in_body.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    let (status, refused) = t.form(token, None, &in_body).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_client")), "the client goes in Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!((reply["expires_in"].as_i64(), reply["token_type"].as_str()), (Some(3600), Some("Bearer")));
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.1["error"], "invalid_grant", "one use");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.spotify.com/v1/me", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"email\":\"ada@conformance.example\""), "{me}");
    let played = "https://api.spotify.com/v1/me/player/recently-played";
    assert_eq!(t.call("GET", played, &access, None, &[]).await.0, 200);
    assert_eq!(t.call("GET", played, "bad", None, &[]).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, refreshed) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(refreshed.get("refresh_token").is_none(), "no new refresh token: the old one is kept");
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &refresh).await.0, 200, "the old one stays good");

    // Without user-read-recently-played the listening history is out of reach.
    let narrow = [("client_id", c.id), ("response_type", "code"), ("redirect_uri", REDIRECT)];
    let cb = t.authorize(auth, &narrow).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    let (_, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(t.call("GET", played, &s(&reply, "/access_token"), None, &[]).await.0, 403);
}

#[tokio::test]
async fn discord_takes_basic_rotates_and_revokes_every_token_of_the_user() {
    let t = kit().await;
    let c = t.kit.service("discord").profile.client();
    let auth = "https://discord.com/oauth2/authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("client_id", c.id),
        ("scope", "identify email guilds"),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    assert_eq!(t.authorize(auth, &params[..2]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    assert_eq!((cb["state"].as_str(), cb.get("iss")), ("st", None), "no issuer is documented");
    let token = "https://discord.com/api/oauth2/token";
    let code = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(t.form(token, Some(basic(c.id, "wrong")), &code).await.0, 401, "a wrong secret is refused");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut code = code.to_vec();
    code[1] = ("code", cb["code"].as_str());
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 604800);
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://discord.com/api/v10/users/@me", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"email\":\"ada@conformance.example\""), "{me}");
    let guilds = "https://discord.com/api/v10/users/@me/guilds";
    assert_eq!(t.call("GET", guilds, &access, None, &[]).await.0, 200);
    assert_eq!(t.call("GET", guilds, "bad", None, &[]).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, rotated) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"], "a new refresh token");
    let revoke = "https://discord.com/api/oauth2/token/revoke";
    let fresh = s(&rotated, "/access_token");
    assert_eq!(t.form(revoke, None, &[("token", fresh.as_str())]).await.0, 401, "the client must authenticate");
    let form = [("token", fresh.as_str()), ("token_type_hint", "access_token")];
    assert_eq!(t.form(revoke, Some(basic(c.id, c.secret)), &form).await.0, 200);
    let newest = s(&rotated, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", newest.as_str())];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &refresh).await.0, 400, "the refresh token died too");
}

#[tokio::test]
async fn x_requires_pkce_and_basic_gives_refresh_only_offline_and_revokes() {
    let t = kit().await;
    let c = t.kit.service("x").profile.client();
    let auth = "https://x.com/i/oauth2/authorize";
    let challenge = s256(VERIFIER);
    let base = [
        ("response_type", "code"),
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("scope", "tweet.read users.read offline.access"),
        ("state", "st"),
    ];
    assert_eq!(t.authorize(auth, &base).await, Err(400), "PKCE is required");
    let mut params = base.to_vec();
    params.extend([("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")]);
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.x.com/2/oauth2/token";
    let code = [
        ("code", cb["code"].as_str()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let mut in_body = code.to_vec();
    in_body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 401, "a confidential client uses Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut code = code.to_vec();
    code[0] = ("code", cb["code"].as_str());
    let wrong = [code[0], code[1], code[2], ("code_verifier", "not-the-verifier-0123456789-0123456789-012345")];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &wrong).await.0, 400, "the verifier must match");
    let cb = t.authorize(auth, &params).await.unwrap();
    code[0] = ("code", cb["code"].as_str());
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 7200);
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.x.com/2/users/me", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"username\":\"ada_lovelace\""), "{me}");
    assert_eq!(t.call("GET", "https://api.x.com/2/users/me", "bad", None, &[]).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, rotated) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    let revoke = "https://api.x.com/2/oauth2/revoke";
    let fresh = s(&rotated, "/access_token");
    let form = [("token", fresh.as_str()), ("token_type_hint", "access_token")];
    assert_eq!(t.form(revoke, Some(basic(c.id, c.secret)), &form).await.0, 200);
    assert_eq!(t.call("GET", "https://api.x.com/2/users/me", &fresh, None, &[]).await.0, 401, "revoked");

    // Without offline.access there is no refresh token.
    let mut online = params.clone();
    online[3] = ("scope", "tweet.read users.read");
    let cb = t.authorize(auth, &online).await.unwrap();
    code[0] = ("code", cb["code"].as_str());
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none(), "{reply}");
}

#[tokio::test]
async fn reddit_needs_duration_permanent_for_refresh_and_a_descriptive_user_agent() {
    let t = kit().await;
    let c = t.kit.service("reddit").profile.client();
    let auth = "https://www.reddit.com/api/v1/authorize";
    let params = [
        ("client_id", c.id),
        ("response_type", "code"),
        ("state", "st"),
        ("redirect_uri", REDIRECT),
        ("duration", "permanent"),
        ("scope", "identity read"),
    ];
    assert_eq!(t.authorize(auth, &params[..4]).await, Err(400), "duration and scope are required");
    let mut temporary = params.to_vec();
    temporary[4] = ("duration", "temporary");
    let token = "https://www.reddit.com/api/v1/access_token";
    let cb = t.authorize(auth, &temporary).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none(), "temporary grants have no refresh token");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, None, &code).await.0, 401, "the client authenticates with Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    let access = s(&reply, "/access_token");
    let me = "https://oauth.reddit.com/api/v1/me";
    let ua = [("user-agent", "web:conformance-test:v1 (by /u/ada_lovelace)")];
    assert_eq!(t.call("GET", me, &access, None, &[("user-agent", "reqwest")]).await.0, 429, "a generic agent");
    let (status, body) = t.call("GET", me, &access, None, &ua).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"name\":\"ada_lovelace\""), "{body}");
    assert_eq!(t.call("GET", "https://oauth.reddit.com/r/rust/new", &access, None, &ua).await.0, 200);
    assert_eq!(t.call("GET", me, "bad", None, &ua).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, refreshed) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["refresh_token"], reply["refresh_token"], "the refresh token does not change");
    let revoke = "https://www.reddit.com/api/v1/revoke_token";
    let form = [("token", old.as_str()), ("token_type_hint", "refresh_token")];
    assert_eq!(t.form(revoke, Some(basic(c.id, c.secret)), &form).await.0, 204);
    let fresh = s(&refreshed, "/access_token");
    assert_eq!(t.call("GET", me, &fresh, None, &ua).await.0, 401, "the refresh token took its access tokens");
}

#[tokio::test]
async fn twitch_takes_body_credentials_needs_client_id_on_helix_and_revokes_with_client_id() {
    let t = kit().await;
    let c = t.kit.service("twitch").profile.client();
    let auth = "https://id.twitch.tv/oauth2/authorize";
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "user:read:email moderator:read:followers"),
        ("state", "st"),
    ];
    assert_eq!(t.authorize(auth, &params[..3]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://id.twitch.tv/oauth2/token";
    let code = [("code", cb["code"].as_str()), ("grant_type", "authorization_code"), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 400, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut code = code.to_vec();
    code[0] = ("code", cb["code"].as_str());
    code.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &code).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["scope"].is_array(), "the scope is a JSON array: {reply}");
    let access = s(&reply, "/access_token");
    let users = "https://api.twitch.tv/helix/users";
    assert_eq!(t.call("GET", users, &access, None, &[]).await.0, 401, "Client-Id is required");
    let id = [("client-id", c.id)];
    let (status, body) = t.call("GET", users, &access, None, &id).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"login\":\"ada_lovelace\""), "{body}");
    let followers = "https://api.twitch.tv/helix/channels/followers";
    assert_eq!(t.call("GET", followers, &access, None, &id).await.0, 200);
    let validate = "https://id.twitch.tv/oauth2/validate";
    assert_eq!(t.call("GET", validate, &access, None, &[]).await.0, 401, "the documented form is `OAuth <token>`");
    let r = t.http.get(validate).header("authorization", format!("OAuth {access}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!((me["login"].as_str(), me["user_id"].as_str()), (Some("ada_lovelace"), Some("141981764")), "{me}");
    let old = s(&reply, "/refresh_token");
    let refresh =
        [("client_id", c.id), ("client_secret", c.secret), ("grant_type", "refresh_token"), ("refresh_token", &old)];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    let revoke = "https://id.twitch.tv/oauth2/revoke";
    let fresh = s(&rotated, "/access_token");
    assert_eq!(t.form(revoke, None, &[("client_id", "nobody"), ("token", &fresh)]).await.0, 404);
    assert_eq!(t.form(revoke, None, &[("client_id", c.id), ("token", "not-a-token")]).await.0, 400);
    assert_eq!(t.form(revoke, None, &[("client_id", c.id), ("token", &fresh)]).await.0, 200);
    assert_eq!(t.call("GET", users, &fresh, None, &id).await.0, 401, "revoked");
    let r = t.http.get(validate).header("authorization", format!("OAuth {fresh}")).send().await.unwrap();
    assert_eq!(r.status(), 401, "validation notices the revocation");
}

#[tokio::test]
async fn linkedin_takes_body_credentials_gives_partners_a_fixed_refresh_token_and_needs_a_version() {
    let t = kit().await;
    let c = t.kit.service("linkedin").profile.client();
    let auth = "https://www.linkedin.com/oauth/v2/authorization";
    let params = [
        ("response_type", "code"),
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
        ("scope", "openid profile email w_member_social"),
    ];
    let mut other = params.to_vec();
    other[2] = ("redirect_uri", "https://elsewhere.example/cb");
    assert_eq!(t.authorize(auth, &other).await, Err(400), "an unregistered redirect is refused");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://www.linkedin.com/oauth/v2/accessToken";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut code = code.to_vec();
    code[1] = ("code", cb["code"].as_str());
    code.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (reply["expires_in"].as_u64(), reply["refresh_token_expires_in"].as_u64()),
        (Some(5_184_000), Some(31_536_000))
    );
    assert_eq!(t.form(token, None, &code).await.0, 400, "a code is used once");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.linkedin.com/v2/userinfo", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"sub\":\"782bbtaQ\"") && me.contains(EMAIL_LI), "{me}");
    let posts = "https://api.linkedin.com/rest/posts";
    let body = Some(r#"{"author": "urn:li:person:782bbtaQ", "commentary": "Hello"}"#);
    assert_eq!(t.call("POST", posts, &access, body, &[]).await.0, 400, "LinkedIn-Version is required");
    let version = [("linkedin-version", "202605"), ("x-restli-protocol-version", "2.0.0")];
    assert_eq!(t.call("POST", posts, &access, body, &version).await.0, 200);
    assert_eq!(t.call("POST", posts, "bad", body, &version).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, refreshed) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["refresh_token"], reply["refresh_token"], "the same refresh token");
    assert!(
        refreshed["refresh_token_expires_in"].as_u64() < reply["refresh_token_expires_in"].as_u64(),
        "not extended"
    );
}

const EMAIL_LI: &str = "ada@conformance.example";

#[tokio::test]
async fn strava_takes_body_credentials_names_accepted_scopes_and_deauthorizes_with_the_access_token() {
    let t = kit().await;
    let c = t.kit.service("strava").profile.client();
    let auth = "https://www.strava.com/oauth/authorize";
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "read,activity:read"),
        ("state", "st"),
    ];
    assert_eq!(t.authorize(auth, &[("client_id", c.id), ("redirect_uri", REDIRECT)]).await, Err(400));
    let cb = t.authorize(auth, &params).await.unwrap();
    assert_eq!((cb["scope"].as_str(), cb["state"].as_str()), ("read,activity:read", "st"));
    let token = "https://www.strava.com/oauth/token";
    let code = [("code", cb["code"].as_str()), ("grant_type", "authorization_code")];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [
        ("client_id", c.id),
        ("client_secret", c.secret),
        ("code", cb["code"].as_str()),
        ("grant_type", "authorization_code"),
    ];
    let (status, reply) = t.form(token, None, &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!((reply["expires_in"].as_i64(), reply["athlete"]["id"].as_i64()), (Some(21600), Some(134815)));
    let access = s(&reply, "/access_token");
    let (status, athlete) = t.call("GET", "https://www.strava.com/api/v3/athlete", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(athlete.contains("\"username\":\"ada_lovelace\""), "{athlete}");
    let activities = "https://www.strava.com/api/v3/athlete/activities";
    assert_eq!(t.call("GET", activities, &access, None, &[]).await.0, 200);
    assert_eq!(t.call("GET", activities, "bad", None, &[]).await.0, 401);
    let old = s(&reply, "/refresh_token");
    let refresh =
        [("client_id", c.id), ("client_secret", c.secret), ("grant_type", "refresh_token"), ("refresh_token", &old)];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "the old refresh token no longer works");
    let fresh = s(&rotated, "/access_token");
    let deauthorize = "https://www.strava.com/oauth/deauthorize";
    assert_eq!(t.form(deauthorize, None, &[("access_token", "bad")]).await.0, 401);
    assert_eq!(t.form(deauthorize, None, &[("access_token", &fresh)]).await.0, 200);
    let newest = s(&rotated, "/refresh_token");
    let refresh =
        [("client_id", c.id), ("client_secret", c.secret), ("grant_type", "refresh_token"), ("refresh_token", &newest)];
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "deauthorization ends the refresh token too");
}

#[tokio::test]
async fn calendly_takes_basic_and_pkce_spends_refresh_tokens_checks_scopes_and_revokes_by_form() {
    let t = kit().await;
    let c = t.kit.service("calendly").profile.client();
    let auth = "https://auth.calendly.com/oauth/authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("client_id", c.id),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "users:read event_types:read"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let mut other = params.to_vec();
    other[2] = ("redirect_uri", "https://elsewhere.example/cb");
    assert_eq!(t.authorize(auth, &other).await, Err(400), "an unregistered redirect is refused");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://auth.calendly.com/oauth/token";
    let mut in_body = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    in_body.extend([("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]);
    in_body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 401, "a web client authenticates by Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let no_verifier = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &no_verifier).await.0, 400, "the PKCE verifier is checked");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 7200);
    assert!(s(&reply, "/owner").starts_with("https://api.calendly.com/users/"), "{reply}");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.calendly.com/users/me", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"email\":\"ada@conformance.example\""), "{me}");
    let events = "https://api.calendly.com/scheduled_events";
    assert_eq!(t.call("GET", events, &access, None, &[]).await.0, 403, "scheduled_events:read was not granted");
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, rotated) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &refresh).await.0, 400, "a used refresh token is revoked");
    let revoke = "https://auth.calendly.com/oauth/revoke";
    let newest = s(&rotated, "/refresh_token");
    assert_eq!(
        t.form(revoke, Some(basic(c.id, c.secret)), &[("token", newest.as_str())]).await.0,
        400,
        "the revocation wants the client in the form body"
    );
    let (status, _) =
        t.form(revoke, None, &[("client_id", c.id), ("client_secret", c.secret), ("token", &newest)]).await;
    assert_eq!(status, 200);
    let fresh = s(&rotated, "/access_token");
    assert_eq!(t.call("GET", "https://api.calendly.com/users/me", &fresh, None, &[]).await.0, 401, "the grant is gone");
}

#[tokio::test]
async fn typeform_takes_body_credentials_and_gives_a_refresh_token_only_with_offline() {
    let t = kit().await;
    let c = t.kit.service("typeform").profile.client();
    let auth = "https://api.typeform.com/oauth/authorize";
    let params = [("client_id", c.id), ("redirect_uri", REDIRECT), ("scope", "offline accounts:read"), ("state", "st")];
    assert_eq!(t.authorize(auth, &params[..2]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.typeform.com/oauth/token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.typeform.com/me", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"email\":\"ada@conformance.example\""), "{me}");
    assert_eq!(t.call("GET", "https://api.typeform.com/forms", &access, None, &[]).await.0, 403, "forms:read missing");
    let old = s(&reply, "/refresh_token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old.as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, renewed) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{renewed}");
    assert!(renewed.get("refresh_token").is_some(), "{renewed}");
    // Without offline there is no refresh token.
    let online = [("client_id", c.id), ("redirect_uri", REDIRECT), ("scope", "accounts:read forms:read")];
    let cb = t.authorize(auth, &online).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    let (_, reply) = t.form(token, None, &exchange).await;
    assert!(reply.get("refresh_token").is_none(), "{reply}");
    assert_eq!(t.call("GET", "https://api.typeform.com/forms", &s(&reply, "/access_token"), None, &[]).await.0, 200);
    assert_eq!(t.call("GET", "https://api.typeform.com/me", "bad", None, &[]).await.0, 401);
}

#[tokio::test]
async fn airtable_requires_pkce_and_state_takes_basic_and_spends_refresh_tokens() {
    let t = kit().await;
    let c = t.kit.service("airtable").profile.client();
    let auth = "https://airtable.com/oauth2/v1/authorize";
    let challenge = s256(VERIFIER);
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "user.email:read"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let refused = t.authorize(auth, &params[..5]).await.unwrap();
    assert_eq!((refused["error"].as_str(), refused["state"].as_str()), ("invalid_request", "st"), "PKCE is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://airtable.com/oauth2/v1/token";
    let mut in_body = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    in_body.extend([("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]);
    in_body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 401, "an integration with a secret uses Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!((reply["expires_in"].clone(), reply["refresh_expires_in"].clone()), (json!(3600), json!(5_184_000)));
    let access = s(&reply, "/access_token");
    let (status, me) = t.call("GET", "https://api.airtable.com/v0/meta/whoami", &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(me.contains("\"email\":\"ada@conformance.example\""), "{me}");
    let bases = "https://api.airtable.com/v0/meta/bases";
    assert_eq!(t.call("GET", bases, &access, None, &[]).await.0, 403, "schema.bases:read was not granted");
    let old = s(&reply, "/refresh_token");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    let (status, rotated) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    let (status, again) = t.form(token, Some(basic(c.id, c.secret)), &refresh).await;
    assert_eq!((status, again["error"].clone()), (400, json!("invalid_grant")), "a refresh token is good for one use");
}

#[tokio::test]
async fn webflow_gives_a_lasting_token_checks_scopes_and_revokes_the_authorization_by_json() {
    let t = kit().await;
    let c = t.kit.service("webflow").profile.client();
    let auth = "https://webflow.com/oauth/authorize";
    let params = [("response_type", "code"), ("client_id", c.id), ("scope", "authorized_user:read"), ("state", "st")];
    assert_eq!(t.authorize(auth, &params[..2]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.webflow.com/oauth/access_token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", cb["code"].as_str()),
        ("client_id", c.id),
        ("client_secret", c.secret),
    ];
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none() && reply.get("expires_in").is_none(), "{reply}");
    let access = s(&reply, "/access_token");
    let me = "https://api.webflow.com/v2/token/authorized_by";
    let (status, user) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(user.contains("\"email\":\"ada@conformance.example\""), "{user}");
    assert_eq!(
        t.call("GET", "https://api.webflow.com/v2/sites", &access, None, &[]).await.0,
        403,
        "sites:read missing"
    );
    let revoke = "https://webflow.com/oauth/revoke_authorization";
    let as_form = [("client_id", c.id), ("client_secret", c.secret), ("access_token", access.as_str())];
    assert_eq!(t.form(revoke, None, &as_form).await.0, 400, "the revocation takes JSON");
    let body = json!({"client_id": c.id, "client_secret": c.secret, "access_token": access});
    let r = t.http.post(revoke).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["did_revoke"], true);
    assert_eq!(t.call("GET", me, &access, None, &[]).await.0, 401, "the authorization is gone");
}

#[tokio::test]
async fn eventbrite_takes_body_credentials_and_gives_a_token_without_refresh() {
    let t = kit().await;
    let c = t.kit.service("eventbrite").profile.client();
    let auth = "https://www.eventbrite.com/oauth/authorize";
    assert_eq!(t.authorize(auth, &[("response_type", "token"), ("client_id", c.id)]).await, Err(400), "code only");
    let params = [("response_type", "code"), ("client_id", c.id), ("redirect_uri", REDIRECT), ("state", "st")];
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://www.eventbrite.com/oauth/token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut exchange = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    exchange.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &exchange).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none() && reply.get("expires_in").is_none(), "{reply}");
    assert_eq!(t.form(token, None, &exchange).await.0, 400, "a code is good once");
    let access = s(&reply, "/access_token");
    let me = "https://www.eventbriteapi.com/v3/users/me/";
    let (status, user) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(user.contains("\"email\":\"ada@conformance.example\""), "{user}");
    assert_eq!(t.call("GET", me, "not-a-token", None, &[]).await.0, 401);
}

#[tokio::test]
async fn pipedrive_takes_basic_names_the_company_host_grants_the_app_scopes_and_revokes_by_rfc7009() {
    let t = kit().await;
    let c = t.kit.service("pipedrive").profile.client();
    let auth = "https://oauth.pipedrive.com/oauth/authorize";
    assert_eq!(t.authorize(auth, &[("client_id", c.id)]).await, Err(400), "redirect_uri is required");
    let params = [("client_id", c.id), ("redirect_uri", REDIRECT), ("state", "st")];
    let cb = t.authorize(auth, &params).await.unwrap();
    assert_eq!(cb["state"], "st");
    let token = "https://oauth.pipedrive.com/oauth/token";
    let mut in_body = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str())];
    in_body.extend([("redirect_uri", REDIRECT), ("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 401, "the client authenticates with Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["api_domain"], "https://conformance.pipedrive.com");
    assert!(s(&reply, "/scope").contains("deals:read"), "the app's scopes are granted: {reply}");
    assert_eq!(
        t.form(token, Some(basic(c.id, c.secret)), &code).await.1["error"],
        "invalid_grant",
        "a code is used once"
    );
    let access = s(&reply, "/access_token");
    let me = "https://conformance.pipedrive.com/api/v1/users/me";
    let (status, body) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("ada@conformance.example"), "{body}");
    assert_eq!(t.call("GET", me, "bad", None, &[]).await.0, 401);
    let refresh = s(&reply, "/refresh_token");
    let (status, refreshed) = t
        .form(token, Some(basic(c.id, c.secret)), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(refreshed.get("refresh_token").is_some() && refreshed.get("api_domain").is_some(), "{refreshed}");
    let revoke = "https://oauth.pipedrive.com/oauth/revoke";
    let newest = s(&refreshed, "/refresh_token");
    let hint = [("token", newest.as_str()), ("token_type_hint", "refresh_token")];
    assert_eq!(t.form(revoke, None, &hint).await.0, 401, "revocation needs Basic");
    assert_eq!(t.form(revoke, Some(basic(c.id, c.secret)), &hint).await.0, 200);
    let fresh = s(&refreshed, "/access_token");
    assert_eq!(t.call("GET", me, &fresh, None, &[]).await.0, 401, "the grant is gone");
}

#[tokio::test]
async fn mailchimp_takes_body_credentials_never_expires_and_names_the_data_center_for_the_oauth_scheme() {
    let t = kit().await;
    let c = t.kit.service("mailchimp").profile.client();
    let auth = "https://login.mailchimp.com/oauth2/authorize";
    let params = [("response_type", "code"), ("client_id", c.id), ("redirect_uri", REDIRECT), ("state", "st")];
    assert_eq!(t.authorize(auth, &params[1..]).await, Err(400), "response_type=code is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://login.mailchimp.com/oauth2/token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &code).await.0, 401, "the client goes in the body");
    let cb = t.authorize(auth, &params).await.unwrap();
    let mut f = vec![("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("redirect_uri", REDIRECT)];
    f.extend([("client_id", c.id), ("client_secret", c.secret)]);
    let (status, reply) = t.form(token, None, &f).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 0, "tokens do not expire");
    assert!(reply.get("refresh_token").is_none(), "{reply}");
    let access = s(&reply, "/access_token");
    let metadata = "https://login.mailchimp.com/oauth2/metadata";
    assert_eq!(
        t.call("GET", metadata, &access, None, &[]).await.0,
        401,
        "the metadata endpoint wants the OAuth scheme"
    );
    let r = t.http.get(metadata).header("authorization", format!("OAuth {access}")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let meta: Value = r.json().await.unwrap();
    assert_eq!(meta["dc"], "us6");
    let root = format!("{}/3.0/", s(&meta, "/api_endpoint"));
    let (status, body) = t.call("GET", &root, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"account_id\""), "{body}");
    assert_eq!(t.call("GET", &root, "bad", None, &[]).await.0, 401);
}

#[tokio::test]
async fn docusign_takes_basic_and_pkce_names_the_account_base_uri_and_rotates_refresh_tokens() {
    let t = kit().await;
    let c = t.kit.service("docusign").profile.client();
    let auth = "https://account.docusign.com/oauth/auth";
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("scope", "signature extended"),
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    assert_eq!(t.authorize(auth, &[params[0], params[2], params[3]]).await, Err(400), "scope is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://account.docusign.com/oauth/token";
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("code_verifier", VERIFIER)];
    let mut in_body = code.to_vec();
    in_body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 400, "the integration key and secret go by Basic");
    let cb = t.authorize(auth, &params).await.unwrap();
    let wrong = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("code_verifier", "other")];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &wrong).await.1["error"], "invalid_grant", "PKCE is checked");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("code_verifier", VERIFIER)];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["expires_in"], 28800);
    let access = s(&reply, "/access_token");
    let (status, info) = t.call("GET", "https://account.docusign.com/oauth/userinfo", &access, None, &[]).await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&info).unwrap();
    let api = format!(
        "{}/restapi/v2.1/accounts/{}/templates",
        s(&info, "/accounts/0/base_uri"),
        s(&info, "/accounts/0/account_id")
    );
    assert_eq!(t.call("GET", &api, &access, None, &[]).await.0, 200);
    assert_eq!(t.call("GET", &api, "bad", None, &[]).await.0, 401);
    let refresh = s(&reply, "/refresh_token");
    let (status, refreshed) = t
        .form(token, Some(basic(c.id, c.secret)), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_ne!(refreshed["refresh_token"], reply["refresh_token"], "a new refresh token on every refresh");
}

#[tokio::test]
async fn zendesk_takes_json_with_body_credentials_spends_refresh_tokens_and_revokes_the_current_token() {
    let t = kit().await;
    let profile = &t.kit.service("zendesk").profile;
    assert_eq!(profile.settings(), &[("subdomain", "conformance")]);
    let c = profile.client();
    let auth = "https://conformance.zendesk.com/oauth/authorizations/new";
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("scope", "users:read tickets:read"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    assert_eq!(t.authorize(auth, &params[..3]).await, Err(400), "scope is required");
    let token = "https://conformance.zendesk.com/oauth/tokens";
    let exchange = |code: &str| {
        json!({"grant_type": "authorization_code", "code": code, "client_id": c.id, "client_secret": c.secret,
               "redirect_uri": REDIRECT, "code_verifier": VERIFIER})
    };
    let cb = t.authorize(auth, &params).await.unwrap();
    let form = [("grant_type", "authorization_code"), ("code", cb["code"].as_str()), ("client_id", c.id)];
    assert_eq!(t.form(token, None, &form).await.0, 400, "the parameters must be JSON");
    let cb = t.authorize(auth, &params).await.unwrap();
    let (status, reply) = post_json(&t, token, exchange(cb["code"].as_str())).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["token_type"], "bearer");
    assert!(reply["expires_in"].is_number() && reply["refresh_token_expires_in"].is_number(), "{reply}");
    let access = s(&reply, "/access_token");
    let me = "https://conformance.zendesk.com/api/v2/users/me.json";
    let (status, body) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("ada@conformance.example"), "{body}");
    let search = "https://conformance.zendesk.com/api/v2/tickets.json";
    assert_eq!(t.call("GET", search, &access, None, &[]).await.0, 200);
    let refresh = s(&reply, "/refresh_token");
    let again =
        json!({"grant_type": "refresh_token", "refresh_token": refresh, "client_id": c.id, "client_secret": c.secret});
    let (status, refreshed) = post_json(&t, token, again.clone()).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(post_json(&t, token, again).await.1["error"], "invalid_grant", "a refresh token is spent by its use");
    let fresh = s(&refreshed, "/access_token");
    let revoke = "https://conformance.zendesk.com/api/v2/oauth/tokens/current.json";
    assert_eq!(t.call("DELETE", revoke, &fresh, None, &[]).await.0, 204);
    assert_eq!(t.call("GET", me, &fresh, None, &[]).await.0, 401, "the revoked token is dead");
    let spent = json!({"grant_type": "refresh_token", "refresh_token": s(&refreshed, "/refresh_token"),
                       "client_id": c.id, "client_secret": c.secret});
    assert_eq!(post_json(&t, token, spent).await.0, 400, "its refresh token went with it");
}

/// POSTs `body` as JSON (Zendesk's token endpoint); the status and the JSON reply.
async fn post_json(t: &T, url: &str, body: Value) -> (u16, Value) {
    let r = t.http.post(url).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
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

#[tokio::test]
async fn figma_takes_basic_only_refreshes_on_its_own_endpoint_and_keeps_the_refresh_token() {
    let t = kit().await;
    let c = t.kit.service("figma").profile.client();
    let auth = "https://www.figma.com/oauth";
    let params = [
        ("client_id", c.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "current_user:read,file_comments:read"),
        ("state", "st"),
    ];
    assert_eq!(t.authorize(auth, &params[..3]).await, Err(400), "scope and state are required");
    let cb = t.authorize(auth, &params).await.unwrap();
    let token = "https://api.figma.com/v1/oauth/token";
    let code = [("code", cb["code"].as_str()), ("grant_type", "authorization_code"), ("redirect_uri", REDIRECT)];
    let mut in_body = code.to_vec();
    in_body.extend([("client_id", c.id), ("client_secret", c.secret)]);
    assert_eq!(t.form(token, None, &in_body).await.0, 401, "the client goes by HTTP Basic only");
    let cb = t.authorize(auth, &params).await.unwrap();
    let code = [("code", cb["code"].as_str()), ("grant_type", "authorization_code"), ("redirect_uri", REDIRECT)];
    let (status, reply) = t.form(token, Some(basic(c.id, c.secret)), &code).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["user_id_string"], "1138");
    let access = s(&reply, "/access_token");
    let me = "https://api.figma.com/v1/me";
    let (status, body) = t.call("GET", me, &access, None, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"email\":\"ada@conformance.example\""), "{body}");
    let comments = "https://api.figma.com/v1/files/k/comments";
    assert_eq!(t.call("GET", comments, &access, None, &[]).await.0, 200);
    assert_eq!(t.call("POST", comments, &access, Some("{}"), &[]).await.0, 403, "file_comments:write not granted");

    let old = s(&reply, "/refresh_token");
    let at_token = [("grant_type", "refresh_token"), ("refresh_token", old.as_str())];
    assert_eq!(t.form(token, Some(basic(c.id, c.secret)), &at_token).await.0, 400, "refreshes have their own URL");
    let refresh = "https://api.figma.com/v1/oauth/refresh";
    let (status, fresh) = t.form(refresh, Some(basic(c.id, c.secret)), &[("refresh_token", old.as_str())]).await;
    assert_eq!(status, 200, "{fresh}");
    assert!(fresh.get("refresh_token").is_none(), "no new refresh token: {fresh}");
    let (status, again) = t.form(refresh, Some(basic(c.id, c.secret)), &[("refresh_token", old.as_str())]).await;
    assert_eq!(status, 200, "the refresh token stays good: {again}");
    assert_eq!(t.call("GET", me, &s(&again, "/access_token"), None, &[]).await.0, 200);
}

#[tokio::test]
async fn shopify_signs_its_redirect_issues_expiring_tokens_on_request_and_uninstalls() {
    let t = kit().await;
    let c = t.kit.service("shopify").profile.client();
    let auth = "https://conformance.myshopify.com/admin/oauth/authorize";
    let params =
        [("client_id", c.id), ("redirect_uri", REDIRECT), ("scope", "read_orders,write_products"), ("state", "st")];
    assert_eq!(t.authorize(auth, &params[..3]).await, Err(400), "state is required");
    let cb = t.authorize(auth, &params).await.unwrap();
    // The signature covers every other parameter, sorted, under the client secret.
    let mut others: Vec<(&String, &String)> = cb.iter().filter(|(k, _)| k.as_str() != "hmac").collect();
    others.sort();
    let message: Vec<String> = others.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, c.secret.as_bytes());
    let expected: String =
        aws_lc_rs::hmac::sign(&key, message.join("&").as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(cb["hmac"], expected);
    assert_eq!(cb["shop"], "conformance.myshopify.com");

    let token = "https://conformance.myshopify.com/admin/oauth/access_token";
    let wrong = [("client_id", c.id), ("client_secret", "nope"), ("code", cb["code"].as_str())];
    assert_eq!(t.form(token, None, &wrong).await.0, 401);
    let cb = t.authorize(auth, &params).await.unwrap();
    let plain = [("client_id", c.id), ("client_secret", c.secret), ("code", cb["code"].as_str())];
    let (status, reply) = t.form(token, None, &plain).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.get("refresh_token").is_none(), "without expiring=1 the token does not expire: {reply}");
    let cb = t.authorize(auth, &params).await.unwrap();
    let expiring = [("client_id", c.id), ("client_secret", c.secret), ("code", cb["code"].as_str()), ("expiring", "1")];
    let (status, reply) = t.form(token, None, &expiring).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        (reply["expires_in"].as_i64(), reply["refresh_token_expires_in"].as_i64()),
        (Some(3600), Some(7_776_000))
    );
    assert_eq!(reply["scope"], "read_orders,write_products");
    let access = s(&reply, "/access_token");

    let graphql = "https://conformance.myshopify.com/admin/api/2026-10/graphql.json";
    let shop = r#"{"query": "{ shop { id name } }"}"#;
    assert_eq!(t.call("POST", graphql, &access, Some(shop), &[]).await.0, 401, "Bearer is not how Shopify takes it");
    let header = [("x-shopify-access-token", access.as_str())];
    let (status, body) = t.call("POST", graphql, "unused", Some(shop), &header).await;
    assert_eq!(status, 200);
    assert!(body.contains("gid://shopify/Shop/1138"), "{body}");

    let old = s(&reply, "/refresh_token");
    let refresh =
        [("client_id", c.id), ("client_secret", c.secret), ("grant_type", "refresh_token"), ("refresh_token", &old)];
    let (status, rotated) = t.form(token, None, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], reply["refresh_token"]);
    assert_eq!(t.form(token, None, &refresh).await.0, 400, "the old refresh token is spent");

    let fresh = s(&rotated, "/access_token");
    let uninstall = "https://conformance.myshopify.com/admin/api_permissions/current.json";
    let r = t.http.delete(uninstall).header("x-shopify-access-token", &fresh).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let header = [("x-shopify-access-token", fresh.as_str())];
    assert_eq!(t.call("POST", graphql, "unused", Some(shop), &header).await.0, 401, "uninstalled");
}
