//! `bank-load`: the ledger's load tool and benchmark harness.
//!
//! Starts the whole mesh in this process on its own tokio runtime (fresh
//! databases, loopback, mTLS), signs up members with one funded account
//! each, then drives Transfer RPCs over real gRPC from a second runtime —
//! directly, and through the gateway as REST/JSON and as native gRPC — and
//! prints throughput, latency percentiles, errors by gRPC code and who used
//! the CPU. In the same run it measures the PostgreSQL ceiling with
//! pgbench. Every loop is bounded in calls and time; the databases it
//! creates are dropped at the end. Missing a target is reported, not
//! failed: this is a benchmark, not a test.

mod bank;
mod cpu;
mod pgbench;
mod report;
mod rest;
mod scenario;
mod stats;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bank_cli::MeshSettings;
use bank_config::{LogFormat, SecretString, TlsPaths};
use bank_testkit::TestDatabase;
use clap::Parser;

use crate::bank::Bank;
use crate::pgbench::PgbenchPlan;
use crate::report::Report;
use crate::scenario::{Kind, Plan};

/// Longest wait for the mesh to drain when it stops.
const MESH_STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Email of the bootstrap admin of the benchmark's mesh.
const ADMIN_EMAIL: &str = "load-admin@bank.example";

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum What {
    /// pgbench, then every scenario.
    All,
    /// The PostgreSQL ceiling only.
    Pgbench,
    /// CreateTransfer.
    Transfer,
    /// Deposit (the hot CASH account).
    Deposit,
    /// CreateTransfers with --batch-size items.
    Batch,
    /// GetBalance.
    Balance,
    /// GetBalance as REST/JSON through the gateway (`GET /v1/accounts/{id}/balance`).
    RestBalance,
    /// CreateTransfer as REST/JSON through the gateway (`POST /v1/transfers`).
    RestTransfer,
    /// GetBalance as native gRPC through the gateway (h2c).
    GwGrpcBalance,
    /// CreateTransfer as native gRPC through the gateway (h2c).
    GwGrpcTransfer,
}

#[derive(Debug, Parser)]
#[command(
    name = "bank-load",
    version,
    about = "Load tool and benchmark harness for the ledger"
)]
struct Cli {
    /// Scenarios to run, in this order: pgbench; balance, gw-grpc-balance,
    /// rest-balance (measured together); transfer, gw-grpc-transfer,
    /// rest-transfer (together); deposit; batch.
    #[arg(value_enum, default_values_t = [What::All])]
    what: Vec<What>,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured seconds before each scenario.
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Most calls per measured scenario (the warm-up gets a tenth).
    #[arg(long, default_value_t = 1_000_000)]
    max_calls: u64,
    /// Concurrent tasks of the transfer, deposit and balance scenarios (and
    /// of their gateway twins).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Concurrent tasks of the light-load pass of the scenarios compared
    /// direct and through the gateway (latency without queueing: the added
    /// p50 target is judged on it); 0 skips it.
    #[arg(long, default_value_t = 1)]
    light_concurrency: usize,
    /// Concurrent tasks of the batch scenario.
    #[arg(long, default_value_t = 4)]
    batch_concurrency: usize,
    /// Items per CreateTransfers call (the service allows 1..1,000).
    #[arg(long, default_value_t = 1_000)]
    batch_size: usize,
    /// Tasks sharing one HTTP/2 connection.
    #[arg(long, default_value_t = 8)]
    tasks_per_channel: usize,
    /// Members the tool signs up.
    #[arg(long, default_value_t = 16)]
    members: usize,
    /// Funded USD accounts each member opens (the account service allows 10).
    #[arg(long, default_value_t = 1)]
    accounts_per_member: usize,
    /// PostgreSQL connections per service (what `bank up` uses by default).
    #[arg(long, default_value_t = bank_config::DB_POOL_SIZE_DEFAULT)]
    pool_size: usize,
    /// Worker threads of the mesh's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// PostgreSQL server (any database on it).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Redis server.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// pgbench binary (default: on PATH or /usr/lib/postgresql/<v>/bin).
    #[arg(long)]
    pgbench: Option<PathBuf>,
    /// pgbench client counts, each run over --pgbench-accounts rows.
    #[arg(long, value_delimiter = ',', default_values_t = [16, 32])]
    pgbench_clients: Vec<usize>,
    /// Rows of the pgbench accounts table.
    #[arg(long, default_value_t = 10_000)]
    pgbench_accounts: u64,
    /// Also run pgbench at 32 clients over only as many rows as the
    /// scenarios have accounts: the same row contention as the transfer
    /// scenario.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pgbench_hot: bool,
    /// Seconds per pgbench run.
    #[arg(long, default_value_t = 10)]
    pgbench_secs: u64,
    /// The gateway's per-client rate limit during the run, requests per
    /// second (also its burst): every load task comes from 127.0.0.1, one
    /// client to the limiter, so the default (100/s) would throttle the
    /// gateway scenarios. Still enforced (one Redis call per request, as in
    /// production); 0 turns the limiter off.
    #[arg(long, default_value_t = 1_000_000)]
    gateway_rate_limit: u32,
    /// Also write the markdown report to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Longest wait, in seconds, for the machine to be quiet (other builds
    /// and tests done) before each measurement; 0 measures at once.
    #[arg(long, default_value_t = 0)]
    quiet_wait_secs: u64,
    /// Log filter for the mesh and the tool (the services log one info line
    /// per transfer; `info` measures that cost too).
    #[arg(long, env = "BANK_LOAD_LOG", default_value = "warn")]
    log: String,
}

impl Cli {
    fn account_count(&self) -> usize {
        self.members.max(1) * self.accounts_per_member.max(1)
    }

    fn wants(&self, what: What) -> bool {
        self.what.contains(&What::All) || self.what.contains(&what)
    }

    fn plan(&self, kind: Kind) -> Plan {
        Plan {
            concurrency: if kind == Kind::Batch {
                self.batch_concurrency
            } else {
                self.concurrency
            }
            .max(1),
            tasks_per_channel: self.tasks_per_channel.max(1),
            duration: Duration::from_secs(self.duration_secs),
            warmup: Duration::from_secs(self.warmup_secs),
            max_calls: self.max_calls,
            batch_size: self.batch_size,
            quiet_wait: Duration::from_secs(self.quiet_wait_secs),
            light_concurrency: self.light_concurrency,
        }
    }
}

/// `a b c c b a` for a group measured in halves.
fn interleaving(group: &[Kind]) -> String {
    group
        .iter()
        .chain(group.iter().rev())
        .map(|kind| kind.name())
        .collect::<Vec<_>>()
        .join(" ")
}

fn runtime(name: &str, threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .with_context(|| format!("building the {name} runtime"))
}

/// Runs `work` unless Ctrl-C comes first.
async fn interruptible<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    }
}

fn pgbench_plan(cli: &Cli) -> Result<PgbenchPlan, String> {
    let pgbench = pgbench::find_tool("pgbench", cli.pgbench.as_deref())
        .ok_or("pgbench not found (Debian: apt-get install postgresql-client; `make bench` does it)")?;
    let psql = pgbench
        .parent()
        .map(|dir| dir.join("psql"))
        .filter(|path| path.is_file())
        .or_else(|| pgbench::find_tool("psql", None))
        .ok_or("psql not found next to pgbench")?;
    let mut runs: Vec<(usize, u64)> = cli
        .pgbench_clients
        .iter()
        .map(|&clients| (clients.max(1), cli.pgbench_accounts.max(2)))
        .collect();
    if cli.pgbench_hot && cli.wants(What::Transfer) {
        runs.push((32, u64::try_from(cli.account_count()).unwrap_or(16)));
    }
    Ok(PgbenchPlan {
        pgbench,
        psql,
        database_url: cli.database_url.clone(),
        duration: Duration::from_secs(cli.pgbench_secs),
        runs,
        quiet_wait: Duration::from_secs(cli.quiet_wait_secs),
    })
}

/// Starts the mesh, sets up the members, runs the scenarios, stops the
/// mesh and drops its databases (also when a step fails).
fn run_mesh(
    cli: &Cli,
    report: &mut Report,
    server: &tokio::runtime::Runtime,
    client: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    // Reads first and batches last: every transfer is an event that the
    // analytics service consumes in this process, so a scenario that
    // follows a write-heavy one shares the CPU with that backlog. The same
    // RPC direct and through the gateway is one group, measured interleaved.
    let groups: Vec<Vec<Kind>> = [
        vec![
            (What::Balance, Kind::Balance),
            (What::GwGrpcBalance, Kind::GwGrpcBalance),
            (What::RestBalance, Kind::RestBalance),
        ],
        vec![
            (What::Transfer, Kind::Transfer),
            (What::GwGrpcTransfer, Kind::GwGrpcTransfer),
            (What::RestTransfer, Kind::RestTransfer),
        ],
        vec![(What::Deposit, Kind::Deposit)],
        vec![(What::Batch, Kind::Batch)],
    ]
    .into_iter()
    .map(|group| {
        group
            .into_iter()
            .filter(|(what, _)| cli.wants(*what))
            .map(|(_, kind)| kind)
            .collect::<Vec<_>>()
    })
    .filter(|group| !group.is_empty())
    .collect();
    if groups.is_empty() {
        return Ok(());
    }
    let certs = tempfile::tempdir()?;
    bank_cli::write_dev_certs(certs.path(), false)?;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let database_prefix = format!("bench_{}", &tag[..10]);
    // The password policy refuses passwords that contain the email's local part.
    let admin_password = format!("bench-root-{}", &tag[10..]);
    let mut settings = MeshSettings {
        certs_dir: certs.path().to_owned(),
        host: IpAddr::from([127, 0, 0, 1]),
        fixed_ports: false,
        service_base_port: 0,
        gateway_port: 0,
        database_url: cli.database_url.clone(),
        database_prefix: database_prefix.clone(),
        pool_size: cli.pool_size,
        redis_url: cli.redis_url.clone(),
        redis_prefix: format!("bench:{}", &tag[..10]),
        admin: Some((ADMIN_EMAIL.to_owned(), SecretString::from(admin_password.clone()))),
        log_format: LogFormat::Json,
        // Set below: high enough that the gateway scenarios are never throttled.
        rate_limit: Default::default(),
        admin_base_port: None,
    };
    settings.rate_limit.per_second = cli.gateway_rate_limit;
    settings.rate_limit.burst = cli.gateway_rate_limit;
    report.gateway_rate_limit = Some((
        settings.rate_limit.per_second,
        settings.rate_limit.burst,
        settings.rate_limit.lease_size(),
    ));
    // Declared before the mesh so they are dropped after it has stopped.
    let _databases: Vec<TestDatabase> = bank_cli::SERVICES
        .iter()
        .map(|(service, _)| {
            let name = format!("{database_prefix}_{service}");
            pgbench::with_database(&cli.database_url, &name).map(TestDatabase::adopt)
        })
        .collect::<anyhow::Result<_>>()?;

    eprintln!("bank-load: starting the mesh (databases {database_prefix}_*)");
    let mesh = server.block_on(bank_cli::start(&settings))?;
    let url = |service: &str| mesh.url(service).with_context(|| format!("{service} has no address"));
    let urls = [url("auth")?, url("account")?, url("transfer")?];
    let gateway_addr = *mesh.addrs.get("gateway").context("the gateway has no address")?;
    let gateway = TlsPaths::in_dir(certs.path(), "gateway");
    let tls = bank_mtls::MeshTls::load(&gateway.ca, &gateway.cert, &gateway.key)?;

    // The mesh runs until we say stop, or until a service fails.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut running = server.spawn(mesh.run_until(async move {
        let _ = stopped.await;
    }));
    let work = async {
        let setup = std::time::Instant::now();
        eprintln!(
            "bank-load: signing up {} members with {} funded account(s) each",
            cli.members.max(1),
            cli.accounts_per_member.max(1)
        );
        let bank = Arc::new(
            Bank::set_up(
                tls,
                urls,
                gateway_addr,
                (ADMIN_EMAIL, &admin_password),
                cli.members.max(1),
                cli.accounts_per_member.max(1),
            )
            .await?,
        );
        report.accounts = bank.accounts.len();
        eprintln!(
            "bank-load: set up {} accounts in {:.1?}",
            bank.accounts.len(),
            setup.elapsed()
        );
        for group in groups {
            let plan = cli.plan(group[0]);
            for kind in &group {
                eprintln!(
                    "bank-load: {} ({}, {}) at concurrency {} for {} s",
                    kind.name(),
                    kind.rpc(),
                    kind.route().describe(),
                    plan.concurrency,
                    plan.duration.as_secs()
                );
            }
            if group.len() > 1 {
                eprintln!("bank-load: measured in halves, interleaved: {}", interleaving(&group));
            }
            for result in scenario::run(&group, &bank, &plan, &database_prefix).await? {
                eprintln!(
                    "bank-load:   {}: {:.0} calls/s, {:.0} transfers/s, p50 {:?}, p99 {:?}, {} failed calls, errors {}",
                    result.name,
                    result.ops_per_sec(),
                    result.posted_per_sec(),
                    result.latency.p50,
                    result.latency.p99,
                    result.failed_calls,
                    result.errors_text()
                );
                if let Some(light) = &result.light {
                    eprintln!(
                        "bank-load:   {} at concurrency {}: p50 {:?}, p99 {:?}, {} calls, {} failed",
                        result.name,
                        light.concurrency,
                        light.latency.p50,
                        light.latency.p99,
                        light.ok_calls,
                        light.failed_calls
                    );
                }
                report.scenarios.push(result);
            }
        }
        eprintln!("bank-load: checking ledger integrity");
        report.integrity = Some(bank.integrity().await?);
        anyhow::Ok(())
    };
    let outcome = client.block_on(interruptible(async {
        tokio::select! {
            result = work => result,
            exit = &mut running => Err(match exit {
                Ok(Ok(())) => anyhow::anyhow!("the mesh stopped during the run"),
                Ok(Err(error)) => error.context("the mesh failed during the run"),
                Err(join) => anyhow::anyhow!("the mesh panicked: {join}"),
            }),
        }
    }));
    // Our connections are closed by now (the futures above owned them), so
    // the servers drain at once.
    let _ = stop.send(());
    if !running.is_finished() || outcome.is_ok() {
        match server.block_on(async { tokio::time::timeout(MESH_STOP_TIMEOUT, &mut running).await }) {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => eprintln!("bank-load: a service failed: {error:#}"),
            Ok(Err(join)) => eprintln!("bank-load: the mesh panicked: {join}"),
            Err(_) => eprintln!("bank-load: the mesh did not stop within {MESH_STOP_TIMEOUT:?}"),
        }
    }
    outcome
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cli.log).context("--log")?)
        .init();
    let server = runtime(cpu::SERVER_THREAD_NAME, cli.server_threads)?;
    let client = runtime(cpu::CLIENT_THREAD_NAME, cli.client_threads)?;
    let mut report = Report {
        batch_size: cli.batch_size,
        accounts: cli.account_count(),
        ..Report::default()
    };

    if cli.wants(What::Pgbench) || cli.wants(What::Transfer) {
        match pgbench_plan(&cli) {
            Ok(plan) => {
                eprintln!(
                    "bank-load: pgbench {} s per run: (clients, accounts) {:?}",
                    plan.duration.as_secs(),
                    plan.runs
                );
                match client.block_on(interruptible(pgbench::run(&plan))) {
                    Ok(runs) => report.pgbench = runs,
                    Err(error) if error.to_string() == "interrupted" => return Err(error),
                    Err(error) => {
                        eprintln!("bank-load: pgbench failed: {error:#}");
                        report.pgbench_skipped = Some(format!("{error:#}"));
                    }
                }
            }
            Err(reason) => {
                eprintln!("bank-load: skipping pgbench: {reason}");
                report.pgbench_skipped = Some(reason);
            }
        }
    }
    run_mesh(&cli, &mut report, &server, &client)?;

    let markdown = report.markdown();
    println!("\n{markdown}");
    if let Some(path) = &cli.markdown {
        std::fs::write(path, &markdown).with_context(|| format!("writing {}", path.display()))?;
    }
    let missed = report.missed();
    for line in &missed {
        println!("MISSED: {line}");
    }
    if missed.is_empty() {
        println!("All measured targets met.");
    }
    Ok(())
}
