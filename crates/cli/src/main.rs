//! `bank`: development certificates, migrations, and the whole mesh on
//! loopback (`bank up`), for `make run`; and the client subcommands
//! (`bank login`, `bank accounts`, `bank transfer`, ...) against a gateway.

mod client;

use std::net::IpAddr;
use std::path::PathBuf;

use bank_cli::{ADMIN_PASSWORD_FILE, CertsOutcome, MeshSettings};
use bank_config::{LogFormat, SecretString};
use clap::{Args, Parser, Subcommand};

/// Admin ports of `bank up`: auth 9101, account 9102, ... (metrics, probes).
const ADMIN_BASE_PORT: u16 = 9101;

#[derive(Parser)]
#[command(name = "bank", version, about = "Run and operate the bank mesh")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    client: client::ClientArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Write a development CA, per-workload certificates, the JWT signing
    /// key and a bootstrap-admin password (kept if they exist).
    Certs {
        /// Output directory.
        #[arg(long, default_value = "certs")]
        dir: PathBuf,
        /// Replace an existing set.
        #[arg(long)]
        force: bool,
    },
    /// Create every service's database if needed and apply migrations.
    Migrate(Stores),
    /// Start all five services on loopback with mTLS between them.
    Up {
        #[command(flatten)]
        stores: Stores,
        /// Directory written by `bank certs`.
        #[arg(long, default_value = "certs")]
        certs: PathBuf,
        /// Address to bind (keep it on loopback for development).
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Email of the bootstrap admin; its password is `<certs>/admin.password`.
        #[arg(long, env = "BANK_ADMIN_EMAIL", default_value = "admin@bank.local")]
        admin_email: String,
        /// First service port (auth; account, transfer, finance, analytics follow).
        #[arg(long, default_value_t = bank_cli::SERVICES[0].1)]
        base_port: u16,
        /// The gateway's public port.
        #[arg(long, default_value_t = bank_cli::GATEWAY_PORT)]
        gateway_port: u16,
        /// Let the OS choose every port (see --addresses-file to learn them).
        #[arg(long)]
        ephemeral_ports: bool,
        /// First admin port (/metrics, /livez, /readyz); 0 disables them.
        #[arg(long, default_value_t = ADMIN_BASE_PORT)]
        admin_base_port: u16,
        /// Writes `{"gateway": "127.0.0.1:8080", "auth": ...}` here once every port is bound.
        #[arg(long)]
        addresses_file: Option<PathBuf>,
    },
    #[command(flatten)]
    Client(client::ClientCommand),
}

#[derive(Args, Clone)]
struct Stores {
    /// PostgreSQL server (any database on it); services get `bank_<service>`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Redis server.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Prefix of the per-service database names (`<prefix>_auth`, ...).
    #[arg(long, default_value = "bank")]
    database_prefix: String,
    /// Prefix of every Redis key, so several meshes can share one Redis.
    #[arg(long, default_value = "bank")]
    redis_prefix: String,
}

fn settings(stores: Stores, certs: PathBuf, host: IpAddr, admin: Option<(String, SecretString)>) -> MeshSettings {
    MeshSettings {
        certs_dir: certs,
        host,
        fixed_ports: true,
        service_base_port: bank_cli::SERVICES[0].1,
        gateway_port: bank_cli::GATEWAY_PORT,
        database_url: stores.database_url,
        database_prefix: stores.database_prefix,
        pool_size: bank_config::DB_POOL_SIZE_DEFAULT,
        redis_url: stores.redis_url,
        redis_prefix: stores.redis_prefix,
        admin,
        log_format: LogFormat::Auto,
        rate_limit: bank_gateway::RateLimitConfig::default(),
        admin_base_port: Some(ADMIN_BASE_PORT),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Client(command) => std::process::exit(i32::from(client::run(cli.client, command).await)),
        Command::Certs { dir, force } => {
            match bank_cli::write_dev_certs(&dir, force)? {
                CertsOutcome::Written => println!("wrote development CA, certificates and keys to {}", dir.display()),
                CertsOutcome::Kept => {
                    println!("{} already holds a CA; kept it (use --force to replace)", dir.display())
                }
            }
            Ok(())
        }
        Command::Migrate(stores) => {
            let _telemetry = bank_telemetry::init(LogFormat::Auto);
            bank_cli::migrate(&settings(stores, PathBuf::new(), IpAddr::from([127, 0, 0, 1]), None)).await
        }
        Command::Up {
            stores,
            certs,
            host,
            admin_email,
            base_port,
            gateway_port,
            ephemeral_ports,
            admin_base_port,
            addresses_file,
        } => {
            let _telemetry = bank_telemetry::init(LogFormat::Auto);
            if !certs.join("ca.crt").exists() {
                anyhow::bail!(
                    "no certificates in {}: run `bank certs --dir {0}` first",
                    certs.display()
                );
            }
            let password = std::fs::read_to_string(certs.join(ADMIN_PASSWORD_FILE))
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", certs.join(ADMIN_PASSWORD_FILE).display()))?;
            let admin = Some((admin_email.clone(), SecretString::from(password.trim().to_owned())));
            let mut settings = settings(stores, certs.clone(), host, admin);
            settings.fixed_ports = !ephemeral_ports;
            settings.service_base_port = base_port;
            settings.gateway_port = gateway_port;
            settings.admin_base_port = (admin_base_port != 0).then_some(admin_base_port);
            let mesh = bank_cli::start(&settings).await?;
            if let Some(path) = &addresses_file {
                let addresses: std::collections::BTreeMap<&str, String> = mesh
                    .addrs
                    .iter()
                    .map(|(name, addr)| (*name, addr.to_string()))
                    .collect();
                let json = serde_json::to_string_pretty(&addresses)?;
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, json)?;
                std::fs::rename(&tmp, path)?;
            }
            println!("bank mesh is up:");
            if let Some(gateway) = mesh.addrs.get("gateway") {
                println!("  gateway    http://{gateway}   (gRPC, grpc-web, REST; docs at /docs, /openapi.json)");
            }
            println!("  services (mTLS only, CA {}):", certs.join("ca.crt").display());
            for (service, addr) in mesh.addrs.iter().filter(|(s, _)| **s != "gateway") {
                println!("    {service:<10} https://{addr}");
            }
            println!(
                "  admin      {admin_email} (password in {})",
                certs.join(ADMIN_PASSWORD_FILE).display()
            );
            println!("press Ctrl-C to stop");
            mesh.run_until(bank_server::shutdown_signal()).await
        }
    }
}
