//! The mesh as separate processes: the five service binaries and the
//! gateway, each with its own TOML file (`BANK_CONFIG`) and admin port,
//! mTLS between them (development certificates from `bank certs`), on the
//! run's private PostgreSQL and Redis. Peers reach Transfer through a
//! proxy that can be made slow.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::infra::{PgBin, Postgres, redis_spec};
use crate::procs::{Probe, Spec, Supervisor};
use crate::proxy::DelayProxy;

/// Every process, in start order (they are stopped in reverse).
pub const ORDER: [&str; 8] = [
    "postgres",
    "redis",
    "auth",
    "transfer",
    "account",
    "finance",
    "analytics",
    "gateway",
];
/// The services (not the gateway), in start order.
pub const SERVICES: [&str; 5] = ["auth", "transfer", "account", "finance", "analytics"];
/// Currencies of the bank under test.
pub const CURRENCIES: [&str; 2] = ["USD", "EUR"];
/// Redis key prefix of the mesh.
const REDIS_PREFIX: &str = "chaos";
/// Time for one process to become ready at start-up (debug builds migrate
/// their databases first).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Access tokens outlive the longest run.
const ACCESS_TTL_SECS: u64 = 4 * 3600;
/// Expired reservations are released this often.
const EXPIRY_SWEEP_MS: u64 = 500;

fn binary_of(process: &str) -> &'static str {
    match process {
        "auth" => "auth-service",
        "account" => "account-service",
        "transfer" => "transfer-service",
        "finance" => "finance-service",
        "analytics" => "analytics-service",
        _ => "bank-gateway",
    }
}

/// Where the mesh's binaries are: `explicit`, else the directory of this
/// executable (`target/<profile>/`, where cargo puts the workspace's
/// binaries).
pub fn bin_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match explicit {
        Some(dir) => dir.to_owned(),
        None => std::env::current_exe()?
            .parent()
            .context("this executable has no directory")?
            .to_owned(),
    };
    let missing: Vec<&str> = ORDER[2..]
        .iter()
        .map(|p| binary_of(p))
        .filter(|b| !dir.join(b).exists())
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "{} missing in {}: build them first (cargo build -p auth-service -p account-service -p transfer-service \
         -p finance-service -p analytics-service -p bank-gateway)",
        missing.join(", "),
        dir.display()
    );
    Ok(dir)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn quoted(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

/// The running mesh and the run's temp dir (removed on drop).
#[derive(Debug)]
pub struct Mesh {
    /// The gateway's public address (plain HTTP/2 and HTTP/1.1).
    pub gateway: SocketAddr,
    /// The proxy in front of Transfer.
    pub proxy: DelayProxy,
    /// The children.
    pub supervisor: Arc<Supervisor>,
    /// The bootstrap admin.
    pub admin_email: String,
    /// Its password.
    pub admin_password: String,
    /// Where the processes' logs are.
    pub logs: PathBuf,
    dir: tempfile::TempDir,
}

/// Options of [`Mesh::create`].
#[derive(Debug)]
pub struct MeshOptions {
    /// Directory of the mesh's binaries.
    pub bin_dir: PathBuf,
    /// PostgreSQL's server binaries.
    pub pg_bin: PgBin,
    /// `BANK_LOG` of the processes.
    pub log_level: String,
}

fn setpriv() -> Option<PathBuf> {
    ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

impl Mesh {
    /// Writes certificates and configs into a new temp dir, creates the
    /// PostgreSQL cluster and registers every process (none started).
    pub async fn create(options: &MeshOptions) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("bank-chaos-").tempdir()?;
        // PostgreSQL (another user when we are root) must reach its data dir.
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        }
        let root = dir.path().to_owned();
        let certs = root.join("certs");
        let logs = root.join("logs");
        let configs = root.join("config");
        for d in [&certs, &logs, &configs] {
            std::fs::create_dir_all(d)?;
        }
        bank_cli::write_dev_certs(&certs, true)?;
        let secret = |file: &str| -> anyhow::Result<String> {
            Ok(std::fs::read_to_string(certs.join(file))
                .with_context(|| format!("reading {file}"))?
                .trim()
                .to_owned())
        };
        let card_key = secret(bank_cli::CARD_KEY_FILE)?;
        let cvv_key = secret(bank_cli::CVV_KEY_FILE)?;
        let admin_email = "admin@chaos.test".to_owned();
        // Not containing the e-mail's local part, which Auth refuses.
        let admin_password = format!("chaos bootstrap passphrase {}", uuid::Uuid::new_v4().simple());

        let setpriv = setpriv();
        let supervisor = Arc::new(Supervisor::new(setpriv.clone()));
        let pg = Postgres::init(
            &root.join("pg"),
            free_port()?,
            options.pg_bin.clone(),
            setpriv.as_deref(),
        )?;
        supervisor.add(pg.spec(logs.join("postgres.log")));
        let redis_port = free_port()?;
        supervisor.add(redis_spec(redis_port, &root.join("redis"), logs.join("redis.log"))?);
        let redis_url = format!("redis://127.0.0.1:{redis_port}");

        let mut listen = std::collections::BTreeMap::new();
        let mut admin = std::collections::BTreeMap::new();
        for service in SERVICES {
            listen.insert(service, SocketAddr::from(([127, 0, 0, 1], free_port()?)));
            admin.insert(service, SocketAddr::from(([127, 0, 0, 1], free_port()?)));
        }
        let gateway = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let proxy = DelayProxy::start(listen["transfer"]).await?;
        let url = |service: &str| format!("https://{}", listen[service]);
        let mut peers = String::from("[peers]\n");
        for service in SERVICES {
            let target = if service == "transfer" {
                format!("https://{}", proxy.addr)
            } else {
                url(service)
            };
            writeln!(peers, "{service} = {target:?}")?;
        }
        let tls = |name: &str| {
            format!(
                "[tls]\nca = {}\ncert = {}\nkey = {}\n",
                quoted(&certs.join("ca.crt")),
                quoted(&certs.join(format!("{name}.crt"))),
                quoted(&certs.join(format!("{name}.key")))
            )
        };
        let redis = format!("[redis]\nurl = {redis_url:?}\nkey_prefix = {REDIS_PREFIX:?}\n");
        let currencies = format!("{:?}", CURRENCIES);
        for service in SERVICES {
            let mut text = format!(
                "listen = \"{}\"\nadmin_listen = \"{}\"\nlog_format = \"json\"\n",
                listen[service], admin[service]
            );
            if service == "account" {
                writeln!(text, "currencies = {currencies}")?;
            }
            text.push_str(&tls(service));
            write!(
                text,
                "[database]\nurl = {:?}\npool_size = {}\n",
                pg.url(&format!("bank_{service}")),
                if service == "transfer" { 10 } else { 4 }
            )?;
            text.push_str(&redis);
            text.push_str(&peers);
            match service {
                "auth" => write!(
                    text,
                    "[jwt]\nsigning_key = {}\naccess_ttl_secs = {ACCESS_TTL_SECS}\n\
                     [bootstrap_admin]\nemail = {admin_email:?}\npassword = {admin_password:?}\n",
                    quoted(&certs.join(bank_cli::JWT_KEY_FILE))
                )?,
                "account" => write!(
                    text,
                    "[cards]\nactive_key = \"dev1\"\ncvv_key = {cvv_key:?}\n[cards.keys]\ndev1 = {card_key:?}\n"
                )?,
                "transfer" => write!(
                    text,
                    "[ledger]\ncurrencies = {currencies}\nexpiry_sweep_interval_ms = {EXPIRY_SWEEP_MS}\n"
                )?,
                _ => {}
            }
            let path = configs.join(format!("{service}.toml"));
            std::fs::write(&path, text)?;
            supervisor.add(service_spec(
                service,
                options,
                &path,
                &logs,
                &root,
                Probe::Readyz(admin[service]),
            ));
        }
        // The gateway: no rate limit in practice (every client is on
        // 127.0.0.1), but still a Redis call per request.
        let mut text = format!("listen = \"{gateway}\"\nlog_format = \"json\"\n");
        text.push_str(&tls("gateway"));
        text.push_str(&redis);
        text.push_str(&peers);
        text.push_str("[rate_limit]\nper_second = 1000000\nburst = 1000000\n");
        let path = configs.join("gateway.toml");
        std::fs::write(&path, text)?;
        supervisor.add(service_spec(
            "gateway",
            options,
            &path,
            &logs,
            &root,
            Probe::Tcp(gateway),
        ));
        Ok(Self {
            gateway,
            proxy,
            supervisor,
            admin_email,
            admin_password,
            logs,
            dir,
        })
    }

    /// Starts every process in order, each once the previous is ready.
    pub async fn start(&self) -> anyhow::Result<()> {
        for name in ORDER {
            self.supervisor.start(name)?;
            self.supervisor.wait_ready(&[name], START_TIMEOUT).await?;
        }
        Ok(())
    }

    /// The run's temp dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn service_spec(
    name: &'static str,
    options: &MeshOptions,
    config: &Path,
    logs: &Path,
    root: &Path,
    probe: Probe,
) -> Spec {
    Spec {
        name,
        program: options.bin_dir.join(binary_of(name)),
        args: Vec::new(),
        env: vec![
            (OsString::from("BANK_CONFIG"), config.as_os_str().to_owned()),
            (OsString::from("BANK_LOG"), OsString::from(&options.log_level)),
        ],
        cwd: root.to_owned(),
        log: logs.join(format!("{name}.log")),
        run_as: None,
        probe,
        stop_signal: "TERM",
    }
}
