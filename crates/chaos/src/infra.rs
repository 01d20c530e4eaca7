//! The run's own PostgreSQL and Redis, so that restarting or stopping them
//! never touches a developer's or CI's shared servers: a fresh `initdb`
//! cluster (trust authentication on 127.0.0.1, fsync on) and a Redis
//! without persistence, each on a free port under the run's temp dir.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context as _;

use crate::procs::{Probe, Spec};

/// Where PostgreSQL's server binaries are.
#[derive(Clone, Debug)]
pub struct PgBin {
    /// Directory with `initdb`, `postgres` and `pg_isready`.
    pub dir: PathBuf,
}

impl PgBin {
    /// `explicit`, else the newest `/usr/lib/postgresql/<v>/bin` (Debian),
    /// else `pg_config --bindir`.
    pub fn find(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let has_all = |dir: &Path| {
            ["initdb", "postgres", "pg_isready"]
                .iter()
                .all(|b| dir.join(b).exists())
        };
        if let Some(dir) = explicit {
            anyhow::ensure!(has_all(dir), "{} lacks initdb, postgres or pg_isready", dir.display());
            return Ok(Self { dir: dir.to_owned() });
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| {
                        let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                        Some((version, e.path().join("bin")))
                    })
                    .collect()
            })
            .unwrap_or_default();
        versions.sort();
        if let Some((_, dir)) = versions.into_iter().rev().find(|(_, d)| has_all(d)) {
            return Ok(Self { dir });
        }
        let output = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
            .context("no /usr/lib/postgresql/<version>/bin and no pg_config: install PostgreSQL's server")?;
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        anyhow::ensure!(has_all(&dir), "{} lacks initdb, postgres or pg_isready", dir.display());
        Ok(Self { dir })
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// uid and gid of `user`, from `id(1)`.
pub fn user_ids(user: &str) -> anyhow::Result<(u32, u32)> {
    let id = |flag: &str| -> anyhow::Result<u32> {
        let output = std::process::Command::new("id")
            .args([flag, user])
            .output()
            .with_context(|| format!("running id {flag} {user}"))?;
        anyhow::ensure!(output.status.success(), "no user {user}");
        Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
    };
    Ok((id("-u")?, id("-g")?))
}

/// Whether this process runs as root (PostgreSQL then runs as `postgres`).
pub fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A private PostgreSQL cluster.
#[derive(Clone, Debug)]
pub struct Postgres {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The data directory.
    pub data: PathBuf,
    /// Server binaries.
    pub bin: PgBin,
    /// (uid, gid) it runs as when we are root.
    pub run_as: Option<(u32, u32)>,
}

impl Postgres {
    /// Runs `initdb` into `<dir>/data` (as `postgres` when we are root,
    /// through setpriv): superuser `postgres`, trust authentication.
    pub fn init(dir: &Path, port: u16, bin: PgBin, setpriv: Option<&Path>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let run_as = if running_as_root() {
            let ids =
                user_ids("postgres").context("PostgreSQL refuses to run as root and there is no postgres user")?;
            std::os::unix::fs::chown(dir, Some(ids.0), Some(ids.1))
                .with_context(|| format!("chown {}", dir.display()))?;
            Some(ids)
        } else {
            None
        };
        let data = dir.join("data");
        let log = dir.join("initdb.log");
        let mut command = match (run_as, setpriv) {
            (Some((uid, gid)), Some(setpriv)) => {
                let mut command = std::process::Command::new(setpriv);
                command
                    .arg("--reuid")
                    .arg(uid.to_string())
                    .arg("--regid")
                    .arg(gid.to_string())
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(bin.bin("initdb"));
                command
            }
            (Some(_), None) => anyhow::bail!("running as root needs setpriv (util-linux) to start PostgreSQL"),
            (None, _) => std::process::Command::new(bin.bin("initdb")),
        };
        let status = command
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(dir.join("initdb.err"))?)
            .status()
            .context("running initdb")?;
        anyhow::ensure!(
            status.success(),
            "initdb failed ({status}): {}",
            std::fs::read_to_string(dir.join("initdb.err")).unwrap_or_default()
        );
        Ok(Self {
            port,
            data,
            bin,
            run_as,
        })
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The postmaster as a supervised process. Stopping it with SIGQUIT is
    /// `pg_ctl stop -m immediate`: no checkpoint, crash recovery at the
    /// next start.
    pub fn spec(&self, log: PathBuf) -> Spec {
        let args: Vec<OsString> = [
            "-D".into(),
            self.data.clone().into_os_string(),
            "-p".into(),
            self.port.to_string().into(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            "unix_socket_directories=".into(),
            "-c".into(),
            "fsync=on".into(),
            "-c".into(),
            "synchronous_commit=on".into(),
            "-c".into(),
            "max_connections=200".into(),
            "-c".into(),
            "shared_buffers=64MB".into(),
            "-c".into(),
            "log_min_messages=warning".into(),
        ]
        .into_iter()
        .collect();
        Spec {
            name: "postgres",
            program: self.bin.bin("postgres"),
            args,
            env: Vec::new(),
            cwd: self
                .data
                .parent()
                .map(Path::to_owned)
                .unwrap_or_else(|| self.data.clone()),
            log,
            run_as: self.run_as,
            probe: Probe::PgIsReady {
                program: self.bin.bin("pg_isready"),
                port: self.port,
            },
            stop_signal: "QUIT",
        }
    }
}

/// A private Redis without persistence: a restart loses every stream,
/// consumer group, rate-limit bucket and revocation.
pub fn redis_spec(port: u16, dir: &Path, log: PathBuf) -> anyhow::Result<Spec> {
    std::fs::create_dir_all(dir)?;
    let args: Vec<OsString> = [
        "--port".into(),
        port.to_string().into(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        "".into(),
        "--appendonly".into(),
        "no".into(),
        "--protected-mode".into(),
        "no".into(),
        "--dir".into(),
        dir.as_os_str().to_owned(),
    ]
    .into_iter()
    .collect();
    Ok(Spec {
        name: "redis",
        program: PathBuf::from("redis-server"),
        args,
        env: Vec::new(),
        cwd: dir.to_owned(),
        log,
        run_as: None,
        probe: Probe::RedisPing(SocketAddr::from(([127, 0, 0, 1], port))),
        stop_signal: "KILL",
    })
}
