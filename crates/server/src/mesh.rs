use std::time::Duration;

use bank_authn::{RemoteJwks, Revocations, Verifier};
use bank_config::{ExposeSecret, MeshConfig, RedisConfig};
use std::sync::Arc;

use bank_mtls::ReloadableTls;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Connect and response timeout of Redis calls: Redis is never on the
/// money path, so a slow Redis must fail fast rather than stall a request.
pub const REDIS_TIMEOUT_MS: u64 = 500;

/// A multiplexed, self-reconnecting Redis connection. Lazy: a service
/// starts even when Redis is down, and features that need Redis degrade.
pub fn redis_manager(config: &RedisConfig) -> anyhow::Result<ConnectionManager> {
    let client = redis_client(config)?;
    let timeout = Duration::from_millis(REDIS_TIMEOUT_MS);
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(timeout);
    Ok(ConnectionManager::new_lazy_with_config(client, manager_config)?)
}

/// A Redis client for `config`: TLS (rustls) for a `rediss://` URL,
/// trusting `ca_file` when given, else the system's roots; the server's
/// name is checked either way.
pub fn redis_client(config: &RedisConfig) -> anyhow::Result<redis::Client> {
    let url = config.url.expose_secret();
    let tls = url.starts_with("rediss://");
    if url.contains("#insecure") {
        anyhow::bail!("redis url: #insecure (TLS without certificate checks) is refused; give redis.ca_file");
    }
    match &config.ca_file {
        None => Ok(redis::Client::open(url)?),
        Some(_) if !tls => anyhow::bail!("redis.ca_file is set but the url is not rediss://"),
        Some(path) => {
            let root_cert =
                std::fs::read(path).map_err(|e| anyhow::anyhow!("redis.ca_file {}: {e}", path.display()))?;
            let certificates = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_cert),
            };
            Ok(redis::Client::build_with_tls(url, certificates)?)
        }
    }
}

/// What every service opens at start-up: its mTLS material, its database
/// (created and migrated) and Redis.
pub struct ServiceDeps {
    /// mTLS material of this workload; follows its files (rotation).
    pub tls: Arc<ReloadableTls>,
    /// The service's own database, migrated.
    pub pool: bank_db::Pool,
    /// Redis (lazy: the service starts while Redis is down).
    pub redis: ConnectionManager,
}

impl std::fmt::Debug for ServiceDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceDeps")
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl ServiceDeps {
    /// Loads the TLS files, prepares the database with `migrations`, and
    /// connects Redis lazily.
    pub async fn start(config: &MeshConfig, migrations: bank_db::EmbeddedMigrations) -> anyhow::Result<Self> {
        let tls = ReloadableTls::load(
            &config.tls.ca,
            &config.tls.cert,
            &config.tls.key,
            config.tls.crl.as_deref(),
        )?;
        let pool = bank_db::prepare(
            config.database.url.expose_secret(),
            config.database.pool_size,
            migrations,
        )
        .await?;
        let redis = redis_manager(&config.redis)?;
        Ok(Self { tls, pool, redis })
    }
}

impl ServiceDeps {
    /// Readiness of this service's database and Redis.
    pub fn readiness(&self, service: &'static str) -> crate::admin::Readiness {
        crate::admin::dependency_checks(service, self.pool.clone(), Some(self.redis.clone()))
    }

    /// A [`crate::MeshServer`] for `workload` that reports these
    /// dependencies in its readiness and serves the admin port when
    /// `config.admin_listen` is set. Also samples the pool for metrics.
    pub async fn server(&self, workload: &'static str, config: &MeshConfig) -> anyhow::Result<crate::MeshServer> {
        let admin = match config.admin_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| anyhow::anyhow!("admin_listen {addr}: {e}"))?,
            ),
            None => None,
        };
        let pool = self.pool.clone();
        let sampler = BackgroundTask::new(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(POOL_SAMPLE_SECS));
            loop {
                ticker.tick().await;
                crate::metrics::record_pool(workload, &pool);
            }
        }));
        Ok(crate::MeshServer::new(workload)
            .max_connection_age(config.max_connection_age_secs)
            .max_connection_age_grace(config.max_connection_age_grace_secs)
            .readiness(self.readiness(workload))
            .admin(admin)
            .keep(sampler))
    }
}

/// How often pool occupancy is sampled for metrics.
const POOL_SAMPLE_SECS: u64 = 5;

/// A task that is aborted when this handle is dropped, so background work
/// ends with the server that started it.
#[derive(Debug)]
pub struct BackgroundTask(tokio::task::JoinHandle<()>);

impl BackgroundTask {
    /// Owns `handle`.
    pub fn new(handle: tokio::task::JoinHandle<()>) -> Self {
        Self(handle)
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The token verifier of a service other than Auth: keys from Auth's JWKS
/// over mTLS, revoked sessions synced from Redis in the background.
pub fn remote_verifier(
    config: &MeshConfig,
    tls: &Arc<ReloadableTls>,
    redis: ConnectionManager,
) -> anyhow::Result<(Verifier, BackgroundTask)> {
    let auth_url = config
        .peers
        .auth
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("peers.auth (the Auth service URL) is required to verify tokens"))?;
    let channel = tls.endpoint(auth_url)?.connect_lazy();
    let revocations = Revocations::new(&config.redis.key_prefix);
    let sync = BackgroundTask::new(revocations.spawn_sync(redis));
    Ok((Verifier::new(RemoteJwks::new(channel), revocations), sync))
}

/// Resolves on SIGTERM or Ctrl-C: what every binary passes as `shutdown`.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
