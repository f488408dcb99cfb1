//! Log setup: `RUST_LOG` filters (default per command), text or JSON lines on stderr. Secrets
//! never reach a log line by construction (secret types redact their `Debug`, the Authorization
//! and Cookie headers are marked sensitive), so any level, even trace, is safe to enable.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once.
pub fn init(format: &str, default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    use std::io::IsTerminal;
    // Colours only for a terminal: log files and collectors get plain text.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let result = if format == "json" { builder.json().try_init() } else { builder.try_init() };
    if let Err(e) = result {
        eprintln!("warning: logging was already initialised: {e}");
    }
}
