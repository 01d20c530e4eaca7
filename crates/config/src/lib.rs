//! Typed configuration for bank processes. Values come from defaults, then a
//! TOML file, then `BANK_`-prefixed environment variables (`__` separates
//! nesting levels: `BANK_DATABASE__URL`). Secrets are [`SecretString`]s,
//! whose `Debug` output is redacted, so a config can be logged safely.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
pub use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Prefix of every environment variable read by [`load`].
pub const ENV_PREFIX: &str = "BANK_";
/// Default number of pooled PostgreSQL connections per service. PostgreSQL
/// on two cores is fastest at 8-16 connections in total per hot service.
pub const DB_POOL_SIZE_DEFAULT: usize = 10;

/// A configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// Loads `T` from `file` (when given) and the `BANK_` environment.
pub fn load<T: DeserializeOwned>(file: Option<&Path>) -> Result<T, ConfigError> {
    let mut figment = Figment::new();
    if let Some(file) = file {
        if !file.exists() {
            return Err(ConfigError(format!("config file {} does not exist", file.display())));
        }
        figment = figment.merge(Toml::file(file));
    }
    figment
        .merge(Env::prefixed(ENV_PREFIX).split("__"))
        .extract()
        .map_err(|e| ConfigError(e.to_string()))
}

/// Paths to this workload's mTLS material (PEM files).
#[derive(Clone, Debug, Deserialize)]
pub struct TlsPaths {
    /// The mesh CA certificate.
    pub ca: PathBuf,
    /// This workload's certificate (chain).
    pub cert: PathBuf,
    /// This workload's private key.
    pub key: PathBuf,
    /// Optional certificate revocation list of the mesh CA (PEM).
    #[serde(default)]
    pub crl: Option<PathBuf>,
}

impl TlsPaths {
    /// The conventional layout of `bank certs`: `<dir>/ca.crt`,
    /// `<dir>/<name>.crt`, `<dir>/<name>.key`.
    pub fn in_dir(dir: &Path, name: &str) -> Self {
        Self {
            ca: dir.join("ca.crt"),
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
            crl: None,
        }
    }
}

/// A PostgreSQL database owned by one service.
#[derive(Clone, Debug, Deserialize)]
pub struct DatabaseConfig {
    /// `postgres://user[:password]@host:port/database`; may hold a password.
    pub url: SecretString,
    /// Pooled connections.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
}

fn default_pool_size() -> usize {
    DB_POOL_SIZE_DEFAULT
}

/// A Redis server.
#[derive(Clone, Debug, Deserialize)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS;
    /// may hold a password.
    pub url: SecretString,
    /// For a `rediss://` URL: the PEM file of the CA(s) that issued the
    /// server's certificate. Without it, the system's roots are trusted.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Prefix of every key the bank writes, so several meshes (or tests)
    /// can share one Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

fn default_key_prefix() -> String {
    "bank".to_owned()
}

/// Where the other services of the mesh listen (`https://host:port`). A
/// service only needs the peers it calls.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PeerUrls {
    /// The Auth service (JWKS for token verification).
    pub auth: Option<String>,
    /// The Account service.
    pub account: Option<String>,
    /// The Transfer service.
    pub transfer: Option<String>,
    /// The Finance service.
    pub finance: Option<String>,
    /// The Analytics service.
    pub analytics: Option<String>,
}

/// What every service of the mesh is configured with.
#[derive(Clone, Debug, Deserialize)]
pub struct MeshConfig {
    /// Address the gRPC port binds (`127.0.0.1:0` picks a free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// This workload's mTLS material.
    pub tls: TlsPaths,
    /// The service's own database.
    pub database: DatabaseConfig,
    /// Redis (throttling, revoked sessions, event streams).
    pub redis: RedisConfig,
    /// Where the peers are.
    #[serde(default)]
    pub peers: PeerUrls,
    /// Log line format.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Address of the admin port (`/metrics`, `/livez`, `/readyz`); none
    /// when unset.
    #[serde(default)]
    pub admin_listen: Option<SocketAddr>,
    /// Seconds after which the gRPC server asks a client connection to
    /// close (HTTP/2 GOAWAY; calls in flight finish), so that clients
    /// reconnect: new replicas behind a Service get their share of
    /// long-lived mesh connections, and a revoked client certificate stops
    /// being used. 0 keeps connections forever.
    #[serde(default = "default_max_connection_age_secs")]
    pub max_connection_age_secs: u64,
    /// Seconds that calls still open when a connection reaches its age
    /// (long server streams) get to finish before the connection is
    /// closed; their clients reconnect. Bounds how long a stream opened
    /// with a since-revoked certificate lives. 0 waits for them forever.
    #[serde(default = "default_max_connection_age_grace_secs")]
    pub max_connection_age_grace_secs: u64,
}

/// Default of [`MeshConfig::max_connection_age_secs`].
pub const MAX_CONNECTION_AGE_SECS_DEFAULT: u64 = 300;
/// Default of [`MeshConfig::max_connection_age_grace_secs`].
pub const MAX_CONNECTION_AGE_GRACE_SECS_DEFAULT: u64 = 300;

fn default_max_connection_age_secs() -> u64 {
    MAX_CONNECTION_AGE_SECS_DEFAULT
}

fn default_max_connection_age_grace_secs() -> u64 {
    MAX_CONNECTION_AGE_GRACE_SECS_DEFAULT
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON lines unless stdout is a terminal.
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Sample {
        database: DatabaseConfig,
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let dir = std::env::temp_dir().join(format!("bank-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("c.toml");
        std::fs::write(&file, "[database]\nurl = \"postgres://u:hunter2@localhost/db\"\n").expect("write");
        let sample: Sample = load(Some(&file)).expect("load");
        assert_eq!(sample.database.pool_size, DB_POOL_SIZE_DEFAULT);
        assert_eq!(sample.database.url.expose_secret(), "postgres://u:hunter2@localhost/db");
        assert!(!format!("{sample:?}").contains("hunter2"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = load::<Sample>(Some(Path::new("/nonexistent/bank.toml"))).expect_err("must fail");
        assert!(err.to_string().contains("does not exist"));
    }
}
