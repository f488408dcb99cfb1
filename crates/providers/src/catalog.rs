//! The provider catalog: the built-in YAML files compiled into the binary, then the operator's
//! `PATCHBAY_PROVIDERS_DIR`.
//!
//! Loading is all-or-nothing: one invalid file fails the load with every error of every file, so
//! `patchbay serve` refuses to start on a broken catalog instead of silently serving part of it.
//! A file in the providers directory whose id equals a built-in one replaces the built-in (logged
//! at info); two files of the directory with the same id are an error.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use patchbay_domain::provider::Provider;

use crate::validate::{self, CatalogError, CatalogErrors};

/// Lists catalog files as `(name, contents)`, embedding each with `include_str!`.
macro_rules! builtin_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../catalog/", $name)))),*]
    };
}

/// The built-in provider files, embedded at compile time. A test checks that every file of
/// `crates/providers/catalog/` is listed here.
const BUILTIN: &[(&str, &str)] = builtin_files![
    "airtable.yaml",
    "airtable-oauth.yaml",
    "anthropic.yaml",
    "asana.yaml",
    "asana-oauth.yaml",
    "bitbucket.yaml",
    "box.yaml",
    "brevo.yaml",
    "calendly.yaml",
    "clicksend.yaml",
    "clickup.yaml",
    "cloudflare.yaml",
    "confluence.yaml",
    "datadog.yaml",
    "datadog-eu.yaml",
    "digitalocean.yaml",
    "discord.yaml",
    "docusign.yaml",
    "dropbox.yaml",
    "eventbrite.yaml",
    "figma.yaml",
    "freshdesk.yaml",
    "github.yaml",
    "github-oauth.yaml",
    "gitlab.yaml",
    "gitlab-oauth.yaml",
    "gmail.yaml",
    "google-calendar.yaml",
    "google-contacts.yaml",
    "google-docs.yaml",
    "google-drive.yaml",
    "google-forms.yaml",
    "google-sheets.yaml",
    "google-slides.yaml",
    "google-tasks.yaml",
    "hubspot.yaml",
    "hubspot-oauth.yaml",
    "intercom.yaml",
    "jira.yaml",
    "jira-oauth.yaml",
    "klaviyo.yaml",
    "linear.yaml",
    "linkedin.yaml",
    "mailchimp.yaml",
    "mailchimp-oauth.yaml",
    "mailgun.yaml",
    "mailgun-eu.yaml",
    "mailjet.yaml",
    "microsoft-excel.yaml",
    "microsoft-onedrive.yaml",
    "microsoft-onenote.yaml",
    "microsoft-outlook.yaml",
    "microsoft-planner.yaml",
    "microsoft-sharepoint.yaml",
    "microsoft-teams.yaml",
    "microsoft-todo.yaml",
    "miro.yaml",
    "mistral.yaml",
    "monday.yaml",
    "notion.yaml",
    "notion-oauth.yaml",
    "openai.yaml",
    "pagerduty.yaml",
    "pipedrive.yaml",
    "pipedrive-oauth.yaml",
    "postmark.yaml",
    "quickbooks.yaml",
    "reddit.yaml",
    "resend.yaml",
    "salesforce.yaml",
    "sendgrid.yaml",
    "sendgrid-eu.yaml",
    "sentry.yaml",
    "shopify.yaml",
    "slack.yaml",
    "smartsheet.yaml",
    "spotify.yaml",
    "strava.yaml",
    "stripe.yaml",
    "todoist.yaml",
    "todoist-oauth.yaml",
    "twilio.yaml",
    "twitch.yaml",
    "typeform.yaml",
    "vercel.yaml",
    "webflow.yaml",
    "wrike.yaml",
    "x.yaml",
    "xero.yaml",
    "youtube.yaml",
    "zendesk.yaml",
    "zendesk-oauth.yaml",
    "zoho-crm.yaml",
    "zoom.yaml",
];

/// The built-in provider files as `(file name, YAML text)`.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}

/// Reads the process environment: the usual `env` argument of the loaders.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A validated set of providers, keyed and listed by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    providers: BTreeMap<String, Arc<Provider>>,
    /// The file each provider came from (for errors across files).
    files: BTreeMap<String, String>,
}

impl Catalog {
    /// Loads the built-in catalog, then every `*.yaml`/`*.yml` file of `extra_dir` (in file-name
    /// order). `env` resolves `${VAR}` references.
    ///
    /// # Errors
    /// Every error of every file (and an unreadable directory), when there is at least one.
    pub fn load(extra_dir: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Catalog, CatalogErrors> {
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        catalog.add_all(
            BUILTIN.iter().map(|(name, text)| (format!("builtin:{name}"), Ok((*text).to_owned()))),
            false,
            env,
            &mut errors,
        );
        if let Some(dir) = extra_dir {
            match provider_files(dir) {
                Ok(files) => {
                    let sources = files.into_iter().map(|path| {
                        let text = read_limited(&path);
                        (path.display().to_string(), text)
                    });
                    catalog.add_all(sources, true, env, &mut errors);
                }
                Err(message) => errors.push(CatalogError {
                    file: dir.display().to_string(),
                    line: None,
                    field: "PATCHBAY_PROVIDERS_DIR".into(),
                    message,
                }),
            }
        }
        errors.extend(crate::catalog_apps::check(&catalog.providers, &catalog.files));
        if errors.is_empty() { Ok(catalog) } else { Err(CatalogErrors(errors)) }
    }

    /// A catalog of exactly these `(name, YAML text)` sources, without the built-ins (tests, the
    /// demo). Two sources with the same id are an error.
    ///
    /// # Errors
    /// Every error of every source.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Catalog, CatalogErrors> {
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        catalog.add_all(sources.into_iter().map(|(n, t)| (n.to_owned(), Ok(t.to_owned()))), false, env, &mut errors);
        errors.extend(crate::catalog_apps::check(&catalog.providers, &catalog.files));
        if errors.is_empty() { Ok(catalog) } else { Err(CatalogErrors(errors)) }
    }

    /// Validates one more source and adds it, replacing a provider with the same id (returned).
    ///
    /// # Errors
    /// The errors of that source; the catalog is unchanged then.
    pub fn add_source(
        &mut self,
        name: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Arc<Provider>>, Vec<CatalogError>> {
        let parsed = validate::parse_provider(name, text, env)?;
        log_warnings(&parsed.warnings);
        let provider = Arc::new(parsed.provider);
        Ok(self.providers.insert(provider.id.clone(), provider))
    }

    /// Validates one file without loading it into a catalog (`patchbay providers validate FILE`).
    /// Warnings (such as an unset `${CLIENT_ID}`) are logged.
    ///
    /// # Errors
    /// Every error found in the file, or one error when it cannot be read.
    pub fn validate_file(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Provider, Vec<CatalogError>> {
        let name = path.display().to_string();
        let text = read_limited(path).map_err(|message| {
            vec![CatalogError { file: name.clone(), line: None, field: "(file)".into(), message }]
        })?;
        Self::parse(&name, &text, env)
    }

    /// Validates one file's text; `name` is used in error messages.
    ///
    /// # Errors
    /// Every error found.
    pub fn parse(name: &str, text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Provider, Vec<CatalogError>> {
        let parsed = validate::parse_provider(name, text, env)?;
        log_warnings(&parsed.warnings);
        Ok(parsed.provider)
    }

    /// Puts `provider` in place of the one with its id (discovery filling endpoints).
    pub(crate) fn replace(&mut self, provider: Arc<Provider>) {
        self.providers.insert(provider.id.clone(), provider);
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Provider>> {
        self.providers.get(id)
    }

    /// Every provider, sorted by id.
    pub fn list(&self) -> impl Iterator<Item = &Arc<Provider>> + '_ {
        self.providers.values()
    }

    /// Number of providers.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Adds a batch of sources. Within the batch ids must be unique; a batch marked `overrides`
    /// may replace providers loaded before it.
    fn add_all(
        &mut self,
        sources: impl Iterator<Item = (String, Result<String, String>)>,
        overrides: bool,
        env: &dyn Fn(&str) -> Option<String>,
        errors: &mut Vec<CatalogError>,
    ) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (name, text) in sources {
            let text = match text {
                Ok(t) => t,
                Err(message) => {
                    errors.push(CatalogError { file: name, line: None, field: "(file)".into(), message });
                    continue;
                }
            };
            let parsed = match validate::parse_provider(&name, &text, env) {
                Ok(p) => p,
                Err(e) => {
                    errors.extend(e);
                    continue;
                }
            };
            log_warnings(&parsed.warnings);
            let id = parsed.provider.id.clone();
            if let Some(first) = seen.get(&id) {
                errors.push(CatalogError {
                    file: name.clone(),
                    line: validate::Locator::new(&text).find(&[validate::Seg::Key("id")]),
                    field: "id".into(),
                    message: format!("the id `{id}` is already used by {first}; ids must be unique"),
                });
                continue;
            }
            seen.insert(id.clone(), name.clone());
            self.files.insert(id.clone(), name.clone());
            if let Some(old) = self.providers.insert(id.clone(), Arc::new(parsed.provider)) {
                if overrides {
                    tracing::info!(provider = %id, file = %name, replaced = %old.display_name, "provider file replaces the built-in definition");
                } else {
                    errors.push(CatalogError {
                        file: name,
                        line: None,
                        field: "id".into(),
                        message: format!("the id `{id}` is declared twice"),
                    });
                }
            }
        }
    }
}

fn log_warnings(warnings: &[String]) {
    for w in warnings {
        tracing::warn!("{w}");
    }
}

/// The `*.yaml` / `*.yml` files of a directory, sorted by name.
fn provider_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the providers directory: {e}"))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read the providers directory: {e}"))?;
        let path = entry.path();
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if is_yaml && path.is_file() {
            files.push(path);
        } else {
            tracing::debug!(path = %path.display(), "skipping a non-YAML entry of the providers directory");
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a provider file as UTF-8: only a regular file (a FIFO would block for ever, a device
/// such as `/dev/zero` would never end), and never more than the size cap, even when the file
/// grows while it is read.
fn read_limited(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let too_big =
        || format!("the file is larger than {} KiB; a provider file is a few KiB", validate::MAX_FILE_BYTES / 1024);
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file (a directory, FIFO, socket or device): give the path of a YAML file".into());
    }
    if meta.len() > validate::MAX_FILE_BYTES as u64 {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    // Checked again on the open handle: the path may have been swapped since.
    if !file.metadata().map_err(|e| format!("cannot read the file: {e}"))?.is_file() {
        return Err("not a regular file: give the path of a YAML file".into());
    }
    let mut bytes = Vec::new();
    file.take(validate::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() > validate::MAX_FILE_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| format!("cannot read the file as UTF-8 text: {e}"))
}
