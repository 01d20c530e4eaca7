use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;

use bank_config::{DatabaseConfig, LogFormat, MeshConfig, PeerUrls, RedisConfig, SecretString, TlsPaths};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::certs::{CARD_KEY_FILE, CVV_KEY_FILE, JWT_KEY_FILE};

/// The gateway's default public port.
pub const GATEWAY_PORT: u16 = 8080;

/// The services of the mesh, in start order, with their default ports.
pub const SERVICES: [(&str, u16); 5] = [
    ("auth", 50051),
    ("account", 50052),
    ("transfer", 50053),
    ("finance", 50054),
    ("analytics", 50055),
];

/// How to run the mesh in one process.
#[derive(Clone, Debug)]
pub struct MeshSettings {
    /// Directory written by `bank certs`.
    pub certs_dir: PathBuf,
    /// Address every port binds (loopback for local development).
    pub host: IpAddr,
    /// Use the ports below (`true`) or let the OS pick free ones (tests).
    pub fixed_ports: bool,
    /// First service port with `fixed_ports`: auth, account, transfer,
    /// finance, analytics get base .. base + 4.
    pub service_base_port: u16,
    /// The gateway's port with `fixed_ports`.
    pub gateway_port: u16,
    /// A URL of the PostgreSQL server; each service gets its own database
    /// `<database_prefix>_<service>` on it.
    pub database_url: String,
    /// Prefix of the per-service database names.
    pub database_prefix: String,
    /// PostgreSQL connections per service.
    pub pool_size: usize,
    /// The Redis server.
    pub redis_url: String,
    /// Prefix of every Redis key.
    pub redis_prefix: String,
    /// The bootstrap admin (email, password), if any.
    pub admin: Option<(String, SecretString)>,
    /// Log line format.
    pub log_format: LogFormat,
    /// The gateway's per-client rate limit.
    pub rate_limit: bank_gateway::RateLimitConfig,
    /// First admin port (`/metrics`, `/livez`, `/readyz`): service i listens
    /// on base + i; none when unset.
    pub admin_base_port: Option<u16>,
}

impl MeshSettings {
    fn database_url_for(&self, service: &str) -> anyhow::Result<String> {
        Ok(bank_db::with_database(
            &self.database_url,
            &format!("{}_{service}", self.database_prefix),
        )?)
    }

    fn mesh_config(&self, service: &str, listen: SocketAddr, peers: &PeerUrls) -> anyhow::Result<MeshConfig> {
        Ok(MeshConfig {
            listen,
            tls: TlsPaths::in_dir(&self.certs_dir, service),
            database: DatabaseConfig {
                url: SecretString::from(self.database_url_for(service)?),
                pool_size: self.pool_size,
            },
            redis: RedisConfig {
                ca_file: None,
                url: SecretString::from(self.redis_url.clone()),
                key_prefix: self.redis_prefix.clone(),
            },
            peers: peers.clone(),
            log_format: self.log_format,
            admin_listen: self.admin_base_port.map(|base| {
                let offset = SERVICES.iter().position(|(s, _)| *s == service).unwrap_or(0);
                SocketAddr::new(self.host, base + u16::try_from(offset).unwrap_or(0))
            }),
            max_connection_age_secs: bank_config::MAX_CONNECTION_AGE_SECS_DEFAULT,
            max_connection_age_grace_secs: bank_config::MAX_CONNECTION_AGE_GRACE_SECS_DEFAULT,
        })
    }
}

/// Creates every service's database if missing and applies its migrations.
pub async fn migrate(settings: &MeshSettings) -> anyhow::Result<()> {
    let migrations = [
        ("auth", auth_service::MIGRATIONS),
        ("account", account_service::MIGRATIONS),
        ("transfer", transfer_service::MIGRATIONS),
        ("finance", finance_service::MIGRATIONS),
        ("analytics", analytics_service::MIGRATIONS),
    ];
    for (service, migrations) in migrations {
        let url = settings.database_url_for(service)?;
        bank_db::ensure_database(&url).await?;
        let applied = bank_db::run_migrations(&url, migrations).await?;
        tracing::info!(service, applied, "migrated");
    }
    Ok(())
}

/// The mesh running in this process.
#[derive(Debug)]
pub struct RunningMesh {
    /// Where each service listens.
    pub addrs: BTreeMap<&'static str, SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
}

type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

fn shutdown_of(stop: &watch::Sender<bool>) -> Shutdown {
    let mut rx = stop.subscribe();
    Box::pin(async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
    })
}

impl RunningMesh {
    /// `https://host:port` of `service`.
    pub fn url(&self, service: &str) -> Option<String> {
        self.addrs.get(service).map(|addr| format!("https://{addr}"))
    }

    /// Runs until `signal` resolves or a service fails; then stops all.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        let first_exit = tokio::select! {
            () = signal => None,
            exit = self.tasks.join_next() => exit,
        };
        let failure = match first_exit {
            Some(Ok((service, Err(error)))) => Some(anyhow::anyhow!("{service} failed: {error:#}")),
            Some(Ok((service, Ok(())))) => Some(anyhow::anyhow!("{service} stopped unexpectedly")),
            Some(Err(join)) => Some(anyhow::anyhow!("a service panicked: {join}")),
            None => None,
        };
        self.stop().await?;
        failure.map_or(Ok(()), Err)
    }

    /// Stops every service and waits for them to drain.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let mut first_error = None;
        while let Some(exit) = self.tasks.join_next().await {
            if let Ok((service, Err(error))) = exit {
                tracing::error!(service, error = %format!("{error:#}"), "service failed");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Runs a service and logs how it ended, so a failure at start-up is
/// visible even when nobody awaits the task yet.
async fn logged(
    service: &'static str,
    serving: impl Future<Output = anyhow::Result<()>>,
) -> (&'static str, anyhow::Result<()>) {
    let result = serving.await;
    if let Err(error) = &result {
        tracing::error!(service, error = %format!("{error:#}"), "service stopped with an error");
    }
    (service, result)
}

/// Binds every service's port, then starts them all with mTLS between
/// them. Returns once every port is bound (services finish their start-up
/// in the background).
pub async fn start(settings: &MeshSettings) -> anyhow::Result<RunningMesh> {
    let mut listeners = BTreeMap::new();
    let mut addrs = BTreeMap::new();
    for (offset, (service, _)) in SERVICES.iter().copied().enumerate() {
        let port = if settings.fixed_ports {
            settings.service_base_port + u16::try_from(offset).unwrap_or(0)
        } else {
            0
        };
        let listener = TcpListener::bind(SocketAddr::new(settings.host, port))
            .await
            .map_err(|e| anyhow::anyhow!("{service}: cannot bind {}:{port}: {e}", settings.host))?;
        addrs.insert(service, listener.local_addr()?);
        listeners.insert(service, listener);
    }
    let gateway_port = if settings.fixed_ports { settings.gateway_port } else { 0 };
    let gateway_listener = TcpListener::bind(SocketAddr::new(settings.host, gateway_port))
        .await
        .map_err(|e| anyhow::anyhow!("gateway: cannot bind {}:{gateway_port}: {e}", settings.host))?;
    addrs.insert("gateway", gateway_listener.local_addr()?);
    let url = |service: &str| addrs.get(service).map(|addr| format!("https://{addr}"));
    let peers = PeerUrls {
        auth: url("auth"),
        account: url("account"),
        transfer: url("transfer"),
        finance: url("finance"),
        analytics: url("analytics"),
    };

    let (stop, _) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for (service, listener) in listeners {
        let mesh = settings.mesh_config(service, addrs[service], &peers)?;
        let shutdown = shutdown_of(&stop);
        match service {
            "auth" => {
                let config = auth_service::Config {
                    mesh,
                    jwt: auth_service::JwtConfig {
                        signing_key: settings.certs_dir.join(JWT_KEY_FILE),
                        previous_keys: Vec::new(),
                        access_ttl_secs: 900,
                        refresh_ttl_secs: 30 * 24 * 3600,
                    },
                    throttle: auth_service::ThrottleConfig::default(),
                    bootstrap_admin: settings
                        .admin
                        .clone()
                        .map(|(email, password)| auth_service::BootstrapAdmin { email, password }),
                };
                tasks.spawn(logged("auth", auth_service::serve(config, listener, shutdown)));
            }
            "account" => {
                let secret = |file: &str| -> anyhow::Result<SecretString> {
                    let path = settings.certs_dir.join(file);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("reading {}: {e} (run `bank certs --force`)", path.display()))?;
                    Ok(SecretString::from(text.trim().to_owned()))
                };
                let config = account_service::Config {
                    mesh,
                    cards: account_service::CardsConfig {
                        issuer_prefix: "400000".to_owned(),
                        keys: [("dev1".to_owned(), secret(CARD_KEY_FILE)?)].into_iter().collect(),
                        active_key: "dev1".to_owned(),
                        cvv_key: secret(CVV_KEY_FILE)?,
                    },
                    currencies: transfer_service::LedgerConfig::default().currencies,
                    lookup_limit: account_service::LookupLimitConfig::default(),
                };
                tasks.spawn(logged("account", account_service::serve(config, listener, shutdown)));
            }
            "transfer" => {
                let config = transfer_service::Config {
                    mesh,
                    ledger: transfer_service::LedgerConfig::default(),
                };
                tasks.spawn(logged("transfer", transfer_service::serve(config, listener, shutdown)));
            }
            "finance" => {
                let config = finance_service::Config {
                    mesh,
                    finance: finance_service::FinanceConfig::default(),
                };
                tasks.spawn(logged("finance", finance_service::serve(config, listener, shutdown)));
            }
            "analytics" => {
                let config = analytics_service::Config {
                    mesh,
                    consumer: analytics_service::ConsumerConfig::default(),
                    fraud: analytics_service::FraudConfig::default(),
                };
                tasks.spawn(logged(
                    "analytics",
                    analytics_service::serve(config, listener, shutdown),
                ));
            }
            other => anyhow::bail!("unknown service {other}"),
        }
    }
    let gateway = bank_gateway::Config {
        listen: addrs["gateway"],
        tls: TlsPaths::in_dir(&settings.certs_dir, "gateway"),
        public_tls: None,
        redis: RedisConfig {
            ca_file: None,
            url: SecretString::from(settings.redis_url.clone()),
            key_prefix: settings.redis_prefix.clone(),
        },
        peers,
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        limits: bank_gateway::EdgeLimits::default(),
        rate_limit: settings.rate_limit.clone(),
        log_format: settings.log_format,
    };
    let shutdown = shutdown_of(&stop);
    tasks.spawn(async move {
        (
            "gateway",
            bank_gateway::serve(gateway, gateway_listener, shutdown).await,
        )
    });
    Ok(RunningMesh { addrs, stop, tasks })
}
