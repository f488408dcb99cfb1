//! The command line: bootstrap commands, catalog validation, key rotation while serving (the
//! master key and a team's data key), team deletion, and a graceful stop on SIGTERM.

mod common;

use common::{BIN, World};
use patchbay_testkit::{PatchbayOptions, PatchbayProcess};
use serde_json::json;

#[tokio::test]
async fn admin_commands_work_before_the_first_serve() {
    let app = PatchbayProcess::prepare(BIN, PatchbayOptions::default());
    let team = app.create_team("early").await;
    assert!(team.starts_with("team_"), "{team}");
    let out = app.admin(&["create-token", "--team", "early", "--role", "runtime"]).await;
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the token: {stdout:?}");
    assert!(stdout.starts_with("pbt_") && stdout.trim().len() == 47, "{stdout:?}");
    assert!(app.data_dir().join("master.key").exists(), "initialised like serve");
    let out = app.admin(&["create-token", "--team", "nope", "--role", "admin"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no team `nope`"));
    let out = app.admin(&["create-token", "--team", "early", "--role", "root"]).await;
    assert!(!out.status.success());
    let out = app.admin(&["create-team", "early"]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"), "{out:?}");
}

#[tokio::test]
async fn providers_validate_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "id: bad\ndisplay_name: Bad\nauth_mode: api_key\napi_key: {in: header, name: X-Key}\napi_base_url: https://api.bad.example\nverify: {path: /me, acount: /email}\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN).args(["providers", "validate"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:6"), "{err}");
    assert!(err.contains("acount"), "{err}");

    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        "id: good\ndisplay_name: Good\nauth_mode: api_key\napi_key: {in: header, name: X-Key}\napi_base_url: https://api.good.example\nverify: {path: /me, account: /email}\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN).args(["providers", "validate"]).arg(&good).output().unwrap();
    assert!(out.status.success(), "{out:?}");

    let out = std::process::Command::new(BIN)
        .args(["providers", "list"])
        .env("PATCHBAY_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let list = String::from_utf8_lossy(&out.stdout);
    for id in [
        "stripe",
        "openai",
        "anthropic",
        "sendgrid",
        "mailgun",
        "twilio",
        "airtable",
        "notion",
        "mailchimp",
        "postmark",
        "pipedrive",
        "zendesk",
    ] {
        assert!(list.contains(id), "{id} missing from:\n{list}");
    }
}

#[test]
fn providers_list_markdown_is_the_catalog_page_and_json_names_categories() {
    let dir = tempfile::tempdir().unwrap();
    let run = |flag: &str| {
        let out = std::process::Command::new(BIN)
            .args(["providers", "list", flag])
            .env("PATCHBAY_DATA_DIR", dir.path())
            .env_remove("PATCHBAY_PROVIDERS_DIR")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    // The built-ins alone render exactly docs/catalog.md (whose own test keeps it current).
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/catalog.md")).unwrap();
    assert!(run("--markdown") == page, "`providers list --markdown` differs from docs/catalog.md");
    let list: serde_json::Value = serde_json::from_str(&run("--json")).unwrap();
    let hubspot = list.as_array().unwrap().iter().find(|p| p["id"] == "hubspot").unwrap();
    assert_eq!(hubspot["category"], "crm");
}

#[test]
fn providers_validate_reports_every_error_of_a_file_in_one_run_in_line_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("several.yaml");
    // Mistakes of every pass: an unknown key, a refused type (a missing name) and meaning errors.
    std::fs::write(
        &file,
        "id: several\ndisplay_name: Several\nauth_mode: api_key\napi_kee: {in: header, name: X-Key}\n\
         api_base_url: http://api.several.example\nverify: {method: DELET, path: me}\n\
         modules:\n  post: {scopes: []}\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN).args(["providers", "validate"]).arg(&file).output().unwrap();
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    let name = file.display().to_string();
    let got: Vec<&str> = err.lines().collect();
    let want = [
        format!("{name}:4: api_kee: unknown key `api_kee`; did you mean `api_key`?"),
        format!("{name}:5: api_base_url: `http://api.several.example` must be an https:// URL"),
        format!("{name}:6: verify.method: `DELET` is not allowed"),
        format!("{name}:6: verify.path: `me` must start with `/`"),
        format!("{name}:8: modules.post.name: this field is required"),
    ];
    assert_eq!(got.len(), want.len(), "{err}");
    for (line, want) in got.iter().zip(&want) {
        assert!(line.starts_with(want.as_str()), "{line:?} is not {want:?} in:\n{err}");
    }
}

#[tokio::test]
async fn unknown_database_scheme_is_an_error_not_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["admin", "create-team", "x"])
        .env("PATCHBAY_DATA_DIR", dir.path())
        .env("PATCHBAY_DATABASE_URL", "mysql://localhost/patchbay")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL scheme `mysql`"), "{out:?}");
}

#[tokio::test]
async fn keys_rotate_online_and_sigterm_stops_gracefully() {
    let mut w = World::start().await;
    let c = w.bearer_connection("rot-key", "r@acme.test", Some("Rotating")).await;
    let id = c["id"].as_str().unwrap().to_owned();

    for expected_version in [2, 3] {
        let out = w.app.run(&["keys", "rotate"]).await;
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(&format!("v{expected_version}")), "{stdout}");
        // The running server still opens the old connection's secret…
        let (status, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
        assert_eq!((status, v["ok"].clone()), (200, json!(true)), "{v}");
    }
    // …and a team created after the rotation gets a data key wrapped by the new version.
    let team = w.app.create_team("after-rotation").await;
    let fresh = w.app.client(&w.app.create_token(&team, "member").await);
    w.mock.add_key("new-team-key", "n@acme.test");
    let (status, body) = fresh
        .post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": "new-team-key"}}))
        .await;
    assert_eq!(status, 201, "{body}");

    let out = w.app.run(&["keys", "status"]).await;
    let status_text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{status_text}");
    assert!(status_text.contains("active: 3"), "{status_text}");
    assert!(status_text.contains("v3: 2 team data key(s)"), "{status_text}");
    assert!(!status_text.contains("v1:"), "v1 was retired once unused: {status_text}");

    let exit = w.app.terminate().await;
    assert!(exit.success(), "{exit:?}");
    assert!(w.app.logs().contains("patchbay stopped"));
    // Restarting with the rotated key file unseals and serves the old secrets.
    w.app.restart().await;
    let (status, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "{v}");
}

// Multi-threaded: the CLI runs as a blocking child process while the mock provider, on this
// runtime, must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connections_client_speaks_the_api() {
    let w = World::start().await;
    w.mock.add_key("cli-key", "cli@acme.test");
    let token = w.app.create_token(&w.team, "admin").await;
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = std::process::Command::new(BIN);
        cmd.arg("connections").args(args).env("PATCHBAY_URL", w.app.url()).env("PATCHBAY_TOKEN", &token);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    };
    // The secret comes on stdin, never in argv.
    let out = run(&["create", "mock-bearer", "--name", "From CLI"], Some(r#"{"api_key": "cli-key"}"#));
    assert!(out.status.success(), "{out:?}");
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["connection"]["id"].as_str().unwrap().to_owned();
    let out = run(&["list"], None);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("From CLI") && table.contains("cli@acme.test"), "{table}");
    assert!(run(&["rename", &id, "Renamed"], None).status.success());
    let out = run(&["verify", &id], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"ok\": true"), "{out:?}");
    // A typo in an id or a provider gets the closest existing one.
    let last = if id.ends_with('0') { '1' } else { '0' };
    let typo = format!("{}{last}", &id[..id.len() - 1]);
    let out = run(&["show", &typo], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("did you mean {id} (Renamed)?")), "{out:?}");
    let out = run(&["create", "mock-berer"], Some(r#"{"api_key": "cli-key"}"#));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean mock-bearer?"), "{out:?}");
    // --scope and --module reach the API (an unknown scope is refused, naming it).
    let out = run(&["create", "mock-bearer", "--scope", "nope:never"], Some(r#"{"api_key": "cli-key"}"#));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope:never"), "{out:?}");
    let out = run(&["create", "mock-bearer", "--module", "mock-bearer.nothing"], Some(r#"{"api_key": "cli-key"}"#));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mock-bearer.nothing"), "{out:?}");
    // A failed check is a failed command.
    assert!(w.mock.revoke_key("cli-key"));
    let out = run(&["verify", &id], None);
    assert!(!out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the check failed"), "{out:?}");
    let out = run(&["reauthorize", &id], None);
    assert!(!out.status.success(), "API-key connections have no consent flow");
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 400"), "{out:?}");
    // Update the credential in place: a wrong key changes nothing, a good one replaces it.
    let out = run(&["update-credential", &id], Some(r#"{"api_key": "not-a-key"}"#));
    assert!(!out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 422"), "{out:?}");
    w.mock.add_key("cli-key-2", "cli@acme.test");
    let out = run(&["update-credential", &id], Some(r#"{"api_key": "cli-key-2"}"#));
    assert!(out.status.success(), "{out:?}");
    let updated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(updated["id"], id.as_str(), "same connection");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("cli-key-2"), "the secret is not echoed");
    // An unreachable provider: the CLI names its own flag, not the API's `"verify": false`.
    w.mock.fail_next(1, 503);
    let out = run(&["update-credential", &id], Some(r#"{"api_key": "cli-key-3"}"#));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("HTTP 502"), "{out:?}");
    assert!(stderr.contains("--no-verify") && !stderr.contains("\"verify\""), "{stderr}");
    let out = run(&["update-credential", &id, "--no-verify"], Some(r#"{"api_key": "cli-key-3"}"#));
    assert!(out.status.success(), "{out:?}");
    let table = String::from_utf8_lossy(&run(&["list"], None).stdout).into_owned();
    assert!(table.contains("active (not verified)"), "{table}");
    let out = run(&["delete", &id], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("not_supported"), "{out:?}");
    let out = run(&["show", &id], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 404"), "{out:?}");
}

#[tokio::test]
async fn api_tokens_can_be_listed_and_revoked() {
    let w = World::start().await;
    assert_eq!(w.viewer.get("/v1/connections").await.0, 200);
    let out = w.app.admin(&["list-tokens", "--team", "acme"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{out:?}");
    assert!(!listing.contains("pbt_"), "no secret in the listing: {listing}");
    let viewer_id = listing.lines().find(|l| l.contains("\tviewer\t")).unwrap().split('\t').next().unwrap().to_owned();
    let out = w.app.admin(&["revoke-token", "--team", "acme", &viewer_id]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(w.viewer.get("/v1/connections").await.0, 401, "a revoked token stops at once");
    assert_eq!(w.member.get("/v1/connections").await.0, 200, "the others keep working");
    let out = w.app.admin(&["revoke-token", "--team", "globex", &viewer_id]).await;
    assert!(!out.status.success(), "another team cannot revoke it (it is gone anyway)");

    // The same limits as POST /v1/tokens: bound to a connection, expiring.
    let c = w.bearer_connection("cli-key", "cli@acme.test", Some("CLI")).await;
    let id = c["id"].as_str().unwrap();
    let args = ["create-token", "--team", "acme", "--role", "runtime", "--name", "bound", "--connection", id];
    let out = w.app.admin(&[&args[..], &["--expires-in", "1d"]].concat()).await;
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(token.starts_with("pbt_"), "{token}");
    let bound = w.app.client(&token);
    let (status, _) = bound.post(&format!("/v1/connections/{id}/token"), &serde_json::json!({})).await;
    assert_eq!(status, 403, "a bound token must name its module");
    let out = w.app.admin(&["list-tokens", "--team", "acme"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    let line = listing.lines().find(|l| l.contains("\tbound\t")).unwrap();
    assert!(line.contains(&format!("bound:{id}")) && !line.contains("expires:never"), "{line}");
    assert!(listing.lines().any(|l| l.contains("\truntime\t") && l.contains("team-wide")), "{listing}");
    let bad = ["create-token", "--team", "acme", "--role", "admin", "--connection", id];
    let out = w.app.admin(&bad).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only runtime tokens"), "{out:?}");
}

#[tokio::test]
async fn key_backups_are_written_private_and_verified() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::start().await;
    w.bearer_connection("backup-key", "b@acme.test", Some("Backed up")).await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("patchbay.key");
    let out = w.app.run(&["keys", "backup", backup.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read(&backup).unwrap(), std::fs::read(w.app.data_dir().join("master.key")).unwrap());
    let out = w.app.run(&["keys", "backup", backup.to_str().unwrap()]).await;
    assert!(!out.status.success(), "an existing file is never overwritten");
    let out = w.app.run(&["keys", "verify", backup.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    // A different key does not verify, and says why.
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, "v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    let out = w.app.run(&["keys", "verify", wrong.to_str().unwrap()]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not open this database"), "{out:?}");
}

#[tokio::test]
async fn read_only_commands_refuse_a_missing_installation_and_creating_ones_announce_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nowhere");
    for args in [&["admin", "list-teams"][..], &["admin", "list-tokens", "--team", "acme"], &["keys", "status"]] {
        let out = std::process::Command::new(BIN).args(args).env("PATCHBAY_DATA_DIR", &data).output().unwrap();
        assert!(!out.status.success(), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("no Patchbay database at {}", data.join("patchbay.db").display())), "{err}");
        assert!(err.contains("nothing was created"), "{err}");
        assert!(!data.join("patchbay.db").exists(), "{args:?} created a database");
    }
    let out = std::process::Command::new(BIN)
        .args(["admin", "create-team", "acme"])
        .env("PATCHBAY_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("initialised a new data directory at {}", data.display())), "{err}");
    let out =
        std::process::Command::new(BIN).args(["admin", "list-teams"]).env("PATCHBAY_DATA_DIR", &data).output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("acme"), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("initialised"), "only a new installation is announced");
}

#[tokio::test]
async fn providers_list_includes_demo_cloud_on_request_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let list = |extra: &[&str]| {
        let out = std::process::Command::new(BIN)
            .args(["providers", "list"])
            .args(extra)
            .env("PATCHBAY_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(!list(&[]).contains("democloud"));
    assert!(list(&["--demo"]).contains("democloud"));
    let json: serde_json::Value = serde_json::from_str(&list(&["--json", "--demo"])).unwrap();
    let demo = json.as_array().unwrap().iter().find(|p| p["id"] == "democloud").expect("democloud listed");
    assert_eq!(demo["auth_mode"], "oauth2");
    assert!(demo["modules"].as_array().unwrap().iter().any(|m| m == "democloud.watch_items"), "{demo}");
    assert!(json.as_array().unwrap().iter().any(|p| p["id"] == "stripe"));
}

#[test]
fn connections_help_lists_only_the_clients_flags() {
    let help = |args: &[&str]| {
        let out = std::process::Command::new(BIN).args(args).arg("--help").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let client = help(&["connections"]);
    assert!(client.contains("--url") && client.contains("--json"), "{client}");
    for server_flag in ["--data-dir", "--database-url", "--listen", "--master-key-file", "--providers-dir"] {
        assert!(!client.contains(server_flag), "{server_flag} in:\n{client}");
    }
    assert!(help(&["connections", "verify"]).lines().all(|l| !l.contains("--data-dir")));
    assert!(help(&["admin"]).contains("--data-dir"), "the admin commands keep theirs");
    assert!(help(&["serve"]).contains("--listen"));
}

#[tokio::test]
async fn team_data_keys_rotate_online_and_teams_are_deleted_for_good_from_the_cli() {
    let w = World::start_with(vec![("PATCHBAY_DATA_KEY_SETTLE_MS".into(), "200".into())]).await;
    let c = w.bearer_connection("cli-rotating", "r@acme.test", Some("Rotating")).await;
    let id = c["id"].as_str().unwrap().to_owned();

    // Rotated by another process while `serve` runs (and has data key 1 in memory).
    let out = w.app.run(&["keys", "rotate-team", "--team", "acme"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for line in ["rotated to data key 2 of team acme", "re-encrypted secret fields: 1", "destroyed data keys: [1]"] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    let (status, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "the server opens the re-encrypted key: {v}");
    let out = w.app.run(&["keys", "rotate-team", "--team", "nope"]).await;
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no team `nope`"), "{out:?}");

    // Deleting a team needs its exact name; without it nothing changes.
    let out = w.app.admin(&["delete-team", "acme"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("Nothing was changed"), "{stderr}");
    assert!(stderr.contains("--confirm 'acme'"), "{stderr}");
    let out = w.app.admin(&["delete-team", "acme", "--confirm", "Acme"]).await;
    assert!(!out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("confirm with its exact name"), "{out:?}");
    assert_eq!(w.member.get(&format!("/v1/connections/{id}")).await.0, 200, "still there");

    let out = w.app.admin(&["delete-team", "acme", "--confirm", "acme"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for line in ["api_key: not_supported", "deleted team acme", "team_keys=1", "1 credential(s) may still work"] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert_eq!(w.member.get(&format!("/v1/connections/{id}")).await.0, 401, "its tokens are gone");
    assert_eq!(w.other_team.get("/v1/connections").await.0, 200, "another team is untouched");
    let db = common::TestDb::open(&w.app).await;
    assert_eq!(db.count("SELECT COUNT(*) FROM team_keys").await, 0, "acme's data keys are destroyed");
    assert_eq!(db.count("SELECT COUNT(*) FROM connection_secrets").await, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'team.delete'").await, 1);
}
