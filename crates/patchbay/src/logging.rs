//! Log setup: `RUST_LOG` filters (default per command), text or JSON lines on stderr. Secrets
//! never reach a log line by construction (secret types redact their `Debug`, the Authorization
//! and Cookie headers are marked sensitive), so any level, even trace, is safe to enable.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once.
pub fn init(format: &str, default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if format == "json" { builder.json().try_init() } else { builder.try_init() };
    if let Err(e) = result {
        eprintln!("warning: logging was already initialised: {e}");
    }
}
