//! A PostgreSQL 15 cluster of a test's own, which the test may stop and start again: for outage
//! tests, which must not take down the shared cluster every other test uses. Same recipe as
//! `scripts/lib/postgres.sh` (initdb into a temporary directory, trust authentication, loopback
//! only, run as the user `postgres` when the tests run as root, since the server refuses root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's PostgreSQL 15 server binaries live.
const PG_BINDIR: &str = "/usr/lib/postgresql/15/bin";

/// A private cluster on a free loopback port; stopped and deleted on drop.
#[derive(Debug)]
pub struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    /// Creates and starts the cluster, or `None` when the PostgreSQL server binaries are not
    /// installed (the test then says it skipped).
    ///
    /// # Panics
    /// When the binaries exist but the cluster cannot be created or started.
    pub fn start() -> Option<OwnPostgres> {
        if !Path::new(PG_BINDIR).join("initdb").exists() {
            return None;
        }
        let dir = tempfile::Builder::new().prefix("patchbay-own-pg").tempdir().expect("a temporary directory");
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown").arg("postgres:").arg(dir.path()).status().expect("run chown");
            assert!(status.success(), "chown postgres: {} (does the user postgres exist?)", dir.path().display());
        }
        let cluster = OwnPostgres { dir, port: crate::free_port(), as_postgres };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &["-D", path_str(&data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
        );
        cluster.start_again();
        Some(cluster)
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (`-m immediate`: like a crash, no checkpoint).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", path_str(&self.data_dir()), "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the (stopped) server again on the same port and waits until it accepts connections.
    pub fn start_again(&self) {
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &["-D", path_str(&self.data_dir()), "-l", path_str(&log), "-w", "-t", "60", "-o", &options, "start"],
        );
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let binary = Path::new(PG_BINDIR).join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&binary);
            c
        } else {
            Command::new(&binary)
        };
        let output = command.args(args).current_dir(self.dir.path()).output().expect("run a PostgreSQL tool");
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        if data.join("postmaster.pid").exists() {
            let binary = Path::new(PG_BINDIR).join("pg_ctl");
            let args = ["-D", path_str(&data), "-m", "immediate", "-w", "stop"];
            let _ = if self.as_postgres {
                Command::new("runuser").args(["-u", "postgres", "--"]).arg(&binary).args(args).output()
            } else {
                Command::new(&binary).args(args).output()
            };
        }
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn is_root() -> bool {
    // The effective uid without a libc dependency: /proc/self/status has "Uid: real effective …".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2)?.parse().ok()))
        == Some(0u32)
}
