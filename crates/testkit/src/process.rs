//! [`PatchbayProcess`]: the real `patchbay` binary run as a child process for black-box tests,
//! with its own temporary data directory, a free loopback port, captured logs and an HTTP client.
//!
//! Layout of the temporary root ([`PatchbayProcess::root_dir`]):
//!
//! ```text
//! <root>/data/       PATCHBAY_DATA_DIR (unless PatchbayOptions::data_dir is given)
//! <root>/logs/serve.log   stdout and stderr of every `patchbay serve` started, appended
//! ```
//!
//! Set `PATCHBAY_TEST_KEEP=1` to keep the root after the test (its path is printed).

use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use tempfile::TempDir;

/// How long [`PatchbayProcess::start`] waits for `GET /healthz` to answer 200.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`PatchbayProcess::terminate`] waits for the process to exit after SIGTERM.
pub const TERMINATE_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of the end of the logs goes into panic messages.
const LOG_TAIL: usize = 30_000;

/// Environment variables that are never inherited from the test's own environment.
fn is_scrubbed(name: &str) -> bool {
    name.starts_with("PATCHBAY_")
        || name == "RUST_LOG"
        || name.eq_ignore_ascii_case("http_proxy")
        || name.eq_ignore_ascii_case("https_proxy")
        || name.eq_ignore_ascii_case("all_proxy")
        || name.eq_ignore_ascii_case("no_proxy")
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read, released).
///
/// # Panics
/// When no loopback socket can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0 to find a free port")
        .port()
}

/// How to start Patchbay.
#[derive(Debug, Clone, Default)]
pub struct PatchbayOptions {
    /// `PATCHBAY_PROVIDERS_DIR` (e.g. [`crate::MockProvider::write_providers_dir`]).
    pub providers_dir: Option<PathBuf>,
    /// Extra environment, applied last (overrides the defaults, e.g. `RUST_LOG`).
    pub extra_env: Vec<(String, String)>,
    /// An existing data directory owned by the caller; default: a fresh `<root>/data`.
    /// For a restart of the same process prefer [`PatchbayProcess::restart`].
    pub data_dir: Option<PathBuf>,
}

/// A running `patchbay serve` child process. Dropping it kills the process (SIGKILL) and removes
/// its temporary root; when dropped during a panic it prints the tail of the logs to stderr.
pub struct PatchbayProcess {
    bin: PathBuf,
    root: TempDir,
    data_dir: PathBuf,
    log_path: PathBuf,
    port: u16,
    env: Vec<(String, String)>,
    child: Option<Child>,
    starts: u32,
    http: reqwest::Client,
}

impl std::fmt::Debug for PatchbayProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatchbayProcess")
            .field("bin", &self.bin)
            .field("root", &self.root.path())
            .field("port", &self.port)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl PatchbayProcess {
    /// Starts `bin serve` on a free loopback port and waits until `GET /healthz` answers 200.
    ///
    /// Environment: everything the test has, minus `PATCHBAY_*`, `RUST_LOG` and proxy variables,
    /// plus `PATCHBAY_LISTEN=127.0.0.1:PORT`, `PATCHBAY_PUBLIC_URL=http://127.0.0.1:PORT`,
    /// `PATCHBAY_DATA_DIR`, `PATCHBAY_PROVIDERS_DIR` (when given),
    /// `PATCHBAY_ALLOW_PRIVATE_NETWORKS=true`, `RUST_LOG=trace`, `NO_COLOR=1`, then
    /// [`PatchbayOptions::extra_env`].
    ///
    /// # Panics
    /// When the binary cannot be spawned, exits early, or is not ready within [`READY_TIMEOUT`]
    /// (the message carries the captured logs).
    pub async fn start(bin: impl AsRef<Path>, options: PatchbayOptions) -> PatchbayProcess {
        let mut process = Self::prepare(bin, options);
        process.spawn_serve().await;
        process
    }

    /// Sets everything up like [`start`](Self::start) without starting `serve`, so admin commands
    /// can run against a data directory that no server has opened yet; then call
    /// [`restart`](Self::restart) to start it.
    ///
    /// # Panics
    /// When the binary does not exist or the temporary root cannot be created.
    pub fn prepare(bin: impl AsRef<Path>, options: PatchbayOptions) -> PatchbayProcess {
        let bin = bin.as_ref().to_path_buf();
        assert!(bin.is_file(), "patchbay binary not found at {} (use env!(\"CARGO_BIN_EXE_patchbay\"))", bin.display());
        let mut root =
            tempfile::Builder::new().prefix("patchbay-test-").tempdir().expect("create a temp dir for patchbay");
        if std::env::var_os("PATCHBAY_TEST_KEEP").is_some_and(|v| v == "1") {
            root.disable_cleanup(true);
            eprintln!("PATCHBAY_TEST_KEEP=1: keeping {}", root.path().display());
        }
        let logs = root.path().join("logs");
        std::fs::create_dir_all(&logs).expect("create the logs dir");
        let data_dir = options.data_dir.clone().unwrap_or_else(|| root.path().join("data"));
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut env = vec![
            ("PATCHBAY_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            ("PATCHBAY_PUBLIC_URL".to_owned(), url),
            ("PATCHBAY_DATA_DIR".to_owned(), path_string(&data_dir)),
            ("PATCHBAY_ALLOW_PRIVATE_NETWORKS".to_owned(), "true".to_owned()),
            ("RUST_LOG".to_owned(), "trace".to_owned()),
            ("RUST_BACKTRACE".to_owned(), "1".to_owned()),
            ("NO_COLOR".to_owned(), "1".to_owned()),
        ];
        if let Some(dir) = &options.providers_dir {
            env.push(("PATCHBAY_PROVIDERS_DIR".to_owned(), path_string(dir)));
        }
        for (k, v) in options.extra_env {
            env.retain(|(name, _)| *name != k);
            env.push((k, v));
        }
        PatchbayProcess {
            bin,
            log_path: logs.join("serve.log"),
            root,
            data_dir,
            port,
            env,
            child: None,
            starts: 0,
            http: http_client(),
        }
    }

    /// `http://127.0.0.1:PORT` (also `PATCHBAY_PUBLIC_URL`), without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port `serve` listens on (kept across [`restart`](Self::restart)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `PATCHBAY_DATA_DIR`.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The temporary root holding `data/` and `logs/`: scan it for leaked secrets.
    pub fn root_dir(&self) -> &Path {
        self.root.path()
    }

    /// The file that captures stdout and stderr of `serve`.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Everything `serve` printed so far (all starts), lossily decoded.
    pub fn logs(&self) -> String {
        std::fs::read(&self.log_path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }

    /// The environment given to every command (after the inherited one is scrubbed).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// The process id of the running `serve`, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether `serve` is still running (reaps it if it exited).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// A `patchbay <args>` command with this process's environment, stdin closed and output
    /// captured; for any subcommand (`keys status`, `providers validate`, ...).
    pub fn command<I, S>(&self, args: I) -> tokio::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = tokio::process::Command::new(&self.bin);
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        apply_env(cmd.as_std_mut(), &self.env);
        cmd
    }

    /// Runs `patchbay <args>` to completion.
    ///
    /// # Panics
    /// When the binary cannot be spawned.
    pub async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.unwrap_or_else(|e| panic!("run patchbay {args:?}: {e}"))
    }

    /// Runs `patchbay admin <args>` to completion (works with or without `serve` running).
    pub async fn admin(&self, args: &[&str]) -> Output {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        self.run(&all).await
    }

    /// `patchbay admin create-team NAME`; returns the team id (`team_...`).
    ///
    /// # Panics
    /// When the command fails or prints no team id.
    pub async fn create_team(&self, name: &str) -> String {
        let out = self.admin(&["create-team", name]).await;
        let stdout = expect_success("admin create-team", &out);
        let id = stdout.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or_default().to_owned();
        assert!(id.starts_with("team_"), "create-team printed no team id: {stdout:?}");
        id
    }

    /// `patchbay admin create-token --team TEAM --role ROLE`; returns the token.
    pub async fn create_token(&self, team: &str, role: &str) -> String {
        self.create_token_args(&["create-token", "--team", team, "--role", role]).await
    }

    /// `patchbay admin create-token --team TEAM --role ROLE --name NAME`; returns the token.
    pub async fn create_token_named(&self, team: &str, role: &str, name: &str) -> String {
        self.create_token_args(&["create-token", "--team", team, "--role", role, "--name", name]).await
    }

    async fn create_token_args(&self, args: &[&str]) -> String {
        let out = self.admin(args).await;
        let stdout = expect_success("admin create-token", &out);
        let token = stdout.trim().to_owned();
        assert!(
            !token.is_empty() && !token.contains(char::is_whitespace),
            "create-token must print only the token, got {stdout:?}"
        );
        token
    }

    /// An HTTP client for this server that sends `Authorization: Bearer <token>`.
    pub fn client(&self, token: &str) -> PatchbayClient {
        PatchbayClient { base: self.url(), token: Some(token.to_owned()), http: self.http.clone() }
    }

    /// An HTTP client for this server without credentials.
    pub fn anonymous_client(&self) -> PatchbayClient {
        PatchbayClient { base: self.url(), token: None, http: self.http.clone() }
    }

    /// Starts `serve` again on the same port, data directory and environment (terminating the
    /// running one gracefully first, if any) and waits until it is ready.
    pub async fn restart(&mut self) {
        if self.is_running() {
            self.terminate().await;
        }
        self.spawn_serve().await;
    }

    /// Waits until `GET /healthz` answers 200.
    ///
    /// # Panics
    /// When `serve` exits or is not ready within [`READY_TIMEOUT`]; the message carries the logs.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = format!("{}/healthz", self.url());
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!("patchbay serve exited before it was ready ({status}); logs:\n{}", self.log_tail());
            }
            let answer = self.http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if answer.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                return;
            }
            if Instant::now() >= deadline {
                panic!("patchbay serve not ready at {url} after {READY_TIMEOUT:?}; logs:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM (`kill -TERM pid`) and waits for the exit, at most [`TERMINATE_TIMEOUT`].
    ///
    /// # Panics
    /// When `serve` is not running, or does not exit in time (it is then killed).
    pub async fn terminate(&mut self) -> ExitStatus {
        let pid = self.pid().expect("terminate: patchbay serve is not running");
        let sent =
            std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("run kill -TERM");
        assert!(sent.success(), "kill -TERM {pid} failed: {sent}");
        let deadline = Instant::now() + TERMINATE_TIMEOUT;
        loop {
            let child = self.child.as_mut().expect("child present");
            if let Some(status) = child.try_wait().expect("wait for patchbay serve") {
                self.child = None;
                return status;
            }
            if Instant::now() >= deadline {
                let status = self.kill();
                panic!(
                    "patchbay serve did not exit within {TERMINATE_TIMEOUT:?} of SIGTERM (killed: {status}); logs:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills `serve` with SIGKILL (a crash) and reaps it.
    ///
    /// # Panics
    /// When `serve` is not running.
    pub fn kill(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("kill: patchbay serve is not running");
        let _ = child.kill();
        child.wait().expect("reap patchbay serve")
    }

    async fn spawn_serve(&mut self) {
        assert!(self.child.is_none(), "patchbay serve is already running");
        self.starts += 1;
        let mut log = OpenOptions::new().create(true).append(true).open(&self.log_path).expect("open the serve log");
        let _ = writeln!(log, "==== testkit: patchbay serve, start #{} ====", self.starts);
        let stderr = log.try_clone().expect("clone the log handle");
        let mut cmd = std::process::Command::new(&self.bin);
        cmd.arg("serve").stdin(Stdio::null()).stdout(log).stderr(stderr);
        apply_env(&mut cmd, &self.env);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {} serve: {e}", self.bin.display()));
        self.child = Some(child);
        self.wait_ready().await;
    }

    fn log_tail(&self) -> String {
        tail(&self.logs(), LOG_TAIL)
    }
}

impl Drop for PatchbayProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "==== patchbay logs ({}, last {LOG_TAIL} bytes) ====\n{}\n==== end of patchbay logs ====",
                self.log_path.display(),
                self.log_tail()
            );
        }
    }
}

/// A small JSON client for the Patchbay API. Every call returns `(status, body)`: the body parsed
/// as JSON, `Value::String` when it is not JSON, `Value::Null` when empty. Redirects are not
/// followed; requests time out after 30 s.
#[derive(Debug, Clone)]
pub struct PatchbayClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl PatchbayClient {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8080`), with an optional bearer token.
    pub fn new(base_url: &str, token: Option<&str>) -> PatchbayClient {
        PatchbayClient {
            base: base_url.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
            http: http_client(),
        }
    }

    /// The same server with another bearer token.
    pub fn with_token(&self, token: &str) -> PatchbayClient {
        PatchbayClient { token: Some(token.to_owned()), ..self.clone() }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request builder for `path` (relative to the base URL) with the bearer token set, for
    /// anything the helpers do not cover (custom headers, raw bodies, reading headers).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        builder
    }

    /// `method path` with an optional JSON body.
    ///
    /// # Panics
    /// When the request cannot be sent or the body not read (server down, timeout).
    pub async fn send<B: Serialize + ?Sized>(&self, method: Method, path: &str, body: Option<&B>) -> (u16, Value) {
        let mut builder = self.request(method.clone(), path);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        (status, parse_body(&bytes))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send::<Value>(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    /// `POST path` without a body.
    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        self.send::<Value>(Method::POST, path, None).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> (u16, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send::<Value>(Method::DELETE, path, None).await
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the test HTTP client")
}

pub(crate) fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn apply_env(cmd: &mut std::process::Command, env: &[(String, String)]) {
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str()
            && is_scrubbed(name)
        {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
}

fn expect_success(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "patchbay {what} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn path_string(path: &Path) -> String {
    path.to_str().unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display())).to_owned()
}

/// The last `max` bytes of `text` (on a character boundary).
fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[... {start} bytes cut ...]\n{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_parsing() {
        assert_eq!(parse_body(b""), Value::Null);
        assert_eq!(parse_body(b"{\"a\":1}"), serde_json::json!({"a": 1}));
        assert_eq!(parse_body(b"ok"), Value::String("ok".into()));
    }

    #[test]
    fn tail_cuts_on_char_boundary() {
        assert_eq!(tail("abc", 10), "abc");
        let t = tail("ééé", 3);
        assert!(t.ends_with('é') && !t.ends_with("éé"), "{t}");
    }

    #[test]
    fn free_ports_are_bindable() {
        let port = free_port();
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("port is free");
    }
}
