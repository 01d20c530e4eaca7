//! `bank-chaos`: the bank invariant under faults, in the style of Jepsen's
//! bank workload.
//!
//! It starts the whole mesh as separate processes (the five service
//! binaries and the gateway, built by cargo next to this one) on a private
//! PostgreSQL cluster and a private Redis, signs members up and funds their
//! accounts through the gateway, and then runs concurrent clients doing
//! transfers, batches, pending/post/void, deposits, withdrawals and balance
//! reads while a fault injector kills and restarts Transfer, Account and
//! the gateway, restarts PostgreSQL, stops and starts Redis, pauses
//! processes and slows Transfer down. Clients retry unknown outcomes with
//! the same request ids. After healing it resolves every unknown outcome,
//! checks the money invariants against the ledger, the balances, the
//! ledger's integrity check and analytics, prints the results as tables
//! and exits non-zero if any check fails.

mod check;
mod client;
mod history;
mod infra;
mod mesh;
mod nemesis;
mod procs;
mod proxy;
mod report;
mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser as _;

use crate::check::{Check, Verify};
use crate::client::{Clients, CodeTally};
use crate::history::History;
use crate::mesh::{Mesh, MeshOptions, ORDER};
use crate::nemesis::{FaultLog, Schedule};
use crate::report::Table;
use crate::workload::Workers;

/// Time for every process to be ready again after the faults end.
const HEAL_TIMEOUT: Duration = Duration::from_secs(120);
/// Time for the clients to finish their last operations (bounded retries).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);
/// On top of the workload's duration: start-up, set-up, checks.
const OVERHEAD_LIMIT: Duration = Duration::from_secs(900);

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Profile {
    /// 75 seconds, a fixed schedule with every kind of fault (`make test`).
    Short,
    /// 5 minutes, a random schedule from the seed, faults overlapping (`make chaos`).
    Long,
}

/// The bank invariant under faults: the mesh as processes, concurrent
/// clients through the gateway, a fault injector, and a checker.
#[derive(Debug, clap::Parser)]
#[command(name = "bank-chaos", version)]
struct Args {
    /// Length and fault schedule.
    #[arg(long, value_enum, default_value = "short")]
    profile: Profile,
    /// Seconds of workload under faults (default: 75 short, 300 long).
    #[arg(long)]
    duration_secs: Option<u64>,
    /// Concurrent clients (default: 12 short, 16 long).
    #[arg(long)]
    clients: Option<usize>,
    /// Members, three accounts each (default: 8 short, 12 long).
    #[arg(long)]
    members: Option<usize>,
    /// Seed of the clients and of the long schedule (default: random, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Directory of the mesh's binaries (default: this executable's).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Directory of PostgreSQL's server binaries (default: the newest
    /// /usr/lib/postgresql/<v>/bin, else `pg_config --bindir`).
    #[arg(long)]
    pg_bin: Option<PathBuf>,
    /// Where to copy the processes' logs and the report (replaced each run).
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// Run the workload without injecting any fault (a baseline).
    #[arg(long)]
    no_faults: bool,
    /// `BANK_LOG` of the mesh's processes.
    #[arg(long, default_value = "info")]
    log_level: String,
}

impl Args {
    fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs.unwrap_or(match self.profile {
            Profile::Short => 75,
            Profile::Long => 300,
        }))
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bank-chaos: no runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(entry(args));
    // Tasks still holding the mesh end here, which removes the temp dir.
    drop(runtime);
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("bank-chaos: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn interrupted() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

/// Sets up, runs, and always stops every process it started (by PID) and
/// copies the logs, whatever happened.
async fn entry(args: Args) -> anyhow::Result<bool> {
    let options = MeshOptions {
        bin_dir: mesh::bin_dir(args.bin_dir.as_deref())?,
        pg_bin: infra::PgBin::find(args.pg_bin.as_deref())?,
        log_level: args.log_level.clone(),
    };
    let began = Instant::now();
    eprintln!(
        "bank-chaos: creating the mesh (binaries in {})",
        options.bin_dir.display()
    );
    let mesh = Arc::new(Mesh::create(&options).await?);
    eprintln!("bank-chaos: run directory {}", mesh.dir().display());
    let monitor = tokio::spawn({
        let supervisor = mesh.supervisor.clone();
        async move { supervisor.monitor().await }
    });
    let limit = args.duration() + OVERHEAD_LIMIT;
    let outcome = tokio::select! {
        outcome = drive(&args, mesh.clone()) => outcome,
        signal = interrupted() => Err(anyhow::anyhow!("interrupted by {signal}")),
        () = tokio::time::sleep(limit) => Err(anyhow::anyhow!("the run took longer than {limit:?}")),
    };
    monitor.abort();
    eprintln!("bank-chaos: stopping every process");
    mesh.supervisor.shutdown(&ORDER).await;
    let report = match &outcome {
        Ok((_, report)) => report.clone(),
        Err(error) => format!("bank-chaos failed: {error:#}\n"),
    };
    if let Some(dir) = &args.artifacts
        && let Err(error) = save_artifacts(dir, &mesh.logs, &report)
    {
        eprintln!("bank-chaos: saving artifacts in {}: {error:#}", dir.display());
    }
    eprintln!("bank-chaos: done in {:.0}s", began.elapsed().as_secs_f64());
    outcome.map(|(pass, _)| pass)
}

fn save_artifacts(dir: &Path, logs: &Path, report: &str) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let target = dir.join("logs");
    std::fs::create_dir_all(&target)?;
    for entry in std::fs::read_dir(logs)? {
        let entry = entry?;
        std::fs::copy(entry.path(), target.join(entry.file_name()))?;
    }
    std::fs::write(dir.join("report.txt"), report)?;
    eprintln!("bank-chaos: logs and report in {}", dir.display());
    Ok(())
}

fn phase(began: Instant, what: &str) {
    eprintln!("bank-chaos: +{:5.1}s {what}", began.elapsed().as_secs_f64());
}

fn panics_in(logs: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(logs) else {
        return found;
    };
    for entry in entries.filter_map(Result::ok) {
        let text = std::fs::read(entry.path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("panicked at")) {
            found.push(format!("{}: {line}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

/// The run proper: returns whether every check passed, and the report.
async fn drive(args: &Args, mesh: Arc<Mesh>) -> anyhow::Result<(bool, String)> {
    let began = Instant::now();
    let seed = args.seed.unwrap_or_else(rand::random);
    let duration = args.duration();
    let (clients_n, members) = match args.profile {
        Profile::Short => (args.clients.unwrap_or(12), args.members.unwrap_or(8)),
        Profile::Long => (args.clients.unwrap_or(16), args.members.unwrap_or(12)),
    };
    let run_started = chrono::Utc::now();
    mesh.start().await?;
    phase(began, "mesh ready (8 processes)");

    let clients = Clients::new(mesh.gateway)?;
    let tally = Arc::new(CodeTally::default());
    let history = Arc::new(History::default());
    let world = Arc::new(
        workload::bootstrap(
            &clients,
            tally.clone(),
            history.clone(),
            members,
            (&mesh.admin_email, &mesh.admin_password),
        )
        .await
        .context("set-up")?,
    );
    phase(
        began,
        &format!(
            "{} members with {} funded accounts",
            world.members.len(),
            world.accounts.len()
        ),
    );

    let schedule = match args.profile {
        _ if args.no_faults => Schedule::default(),
        Profile::Short => Schedule::short(duration),
        Profile::Long => Schedule::random(duration, seed),
    };
    let started = Instant::now();
    let deadline = started + duration;
    phase(
        began,
        &format!(
            "workload: {clients_n} clients for {}s, {} faults scheduled, seed {seed}",
            duration.as_secs(),
            schedule.steps().count()
        ),
    );
    let mut workers = tokio::task::JoinSet::new();
    for i in 0..clients_n {
        let worker = Workers {
            world: world.clone(),
            history: history.clone(),
            tally: tally.clone(),
            deadline,
        };
        let clients = Clients::new(mesh.gateway)?;
        workers.spawn(worker.run(clients, seed.wrapping_add(i as u64)));
    }
    let fault_log = Arc::new(Mutex::new(FaultLog::default()));
    nemesis::run(mesh.clone(), schedule, started, fault_log.clone()).await;
    tokio::time::sleep_until(deadline.into()).await;

    phase(began, "healing: every process up, Redis and PostgreSQL up, no delay");
    mesh.proxy.set_delay(Duration::ZERO);
    mesh.supervisor.heal().await?;
    mesh.supervisor.wait_ready(&ORDER, HEAL_TIMEOUT).await?;
    phase(began, "healed; waiting for the clients' last operations");
    tokio::time::timeout(DRAIN_TIMEOUT, async { while workers.join_next().await.is_some() {} })
        .await
        .context("clients did not finish their bounded retries in time")?;
    // A process may have died while the clients drained; bring it back.
    mesh.supervisor.heal().await?;
    mesh.supervisor.wait_ready(&ORDER, HEAL_TIMEOUT).await?;

    phase(began, "resolving unknown outcomes by replaying the same requests");
    let replay = check::replay(&clients, &world, &history, &tally).await;
    phase(began, "verifying");
    let verdict = check::verify(Verify {
        clients: &clients,
        world: &world,
        history: &history,
        tally: &tally,
        replay: &replay,
        run_started,
    })
    .await?;
    phase(began, "verified");

    let mut checks = verdict.checks;
    let exits = mesh.supervisor.exits();
    let crashes: Vec<String> = exits
        .iter()
        .filter(|e| e.was_ready)
        .map(|e| format!("{} at +{:.0}s: {}\n{}", e.name, e.at_secs, e.status, e.log_tail))
        .collect();
    checks.push(Check {
        name: "no process exited on its own after it was ready".to_owned(),
        pass: crashes.is_empty(),
        detail: if crashes.is_empty() {
            format!(
                "{} failed starts (retried) while a dependency was down",
                exits.iter().filter(|e| !e.was_ready).count()
            )
        } else {
            crashes.join("\n")
        },
    });
    let panics = panics_in(&mesh.logs);
    checks.push(Check {
        name: "no panic in any process's log".to_owned(),
        pass: panics.is_empty(),
        detail: if panics.is_empty() {
            "0".to_owned()
        } else {
            panics.into_iter().take(5).collect::<Vec<_>>().join("\n")
        },
    });
    let fault_log = std::mem::take(&mut *fault_log.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    checks.push(Check {
        name: "every scheduled fault injected and undone".to_owned(),
        pass: fault_log.errors.is_empty(),
        detail: if fault_log.errors.is_empty() {
            format!("{} faults", fault_log.counts.values().sum::<u32>())
        } else {
            fault_log.errors.join("\n")
        },
    });

    let pass = checks.iter().all(|c| c.pass);
    let mut out = String::new();
    let mut table = Table::new("Bank invariant under faults", &["check", "result", "detail"]);
    for c in &checks {
        table.row(vec![
            c.name.clone(),
            if c.pass { "PASS" } else { "FAIL" }.to_owned(),
            c.detail.clone(),
        ]);
    }
    out.push_str(&table.render());

    let mut table = Table::new("Faults injected", &["fault", "count"]);
    for (label, count) in &fault_log.counts {
        table.row(vec![label.clone(), count.to_string()]);
    }
    table.row(vec![
        "total".to_owned(),
        fault_log.counts.values().sum::<u32>().to_string(),
    ]);
    out.push_str(&table.render());

    let mut table = Table::new(
        "Operations (after set-up)",
        &[
            "operation",
            "sent",
            "acknowledged",
            "declined",
            "refused",
            "unknown",
            "unknown, had executed",
            "still unknown",
        ],
    );
    let mut total = [0_u64; 7];
    for (kind, counts) in &verdict.ops {
        let mut row = vec![(*kind).to_owned()];
        for (i, n) in counts.iter().enumerate() {
            total[i] += n;
            row.push(n.to_string());
        }
        table.row(row);
    }
    let mut row = vec!["total".to_owned()];
    row.extend(total.iter().map(u64::to_string));
    table.row(row);
    out.push_str(&table.render());
    let ops = history.ops();
    let retried = ops.iter().filter(|o| !o.setup && o.attempts > 1).count();
    let most = ops.iter().map(|o| o.attempts).max().unwrap_or(0);
    out.push_str(&format!(
        "balance reads: {}; ledger rows: {}; operations retried: {retried} (most attempts: {most}); \
         unknown outcomes replayed: {}; definite outcomes replayed: {}\n",
        history.reads.load(std::sync::atomic::Ordering::Relaxed),
        verdict.ledger_rows,
        replay.unknown,
        replay.compared
    ));

    let mut table = Table::new("Processes", &["process", "starts", "exits on their own"]);
    for (name, starts) in mesh.supervisor.starts() {
        let own = exits.iter().filter(|e| e.name == name).count();
        table.row(vec![name.to_owned(), starts.to_string(), own.to_string()]);
    }
    out.push_str(&table.render());

    let mut table = Table::new("Failed attempts (retried) by code", &["code", "attempts"]);
    for (code, n) in tally.snapshot() {
        table.row(vec![code, n.to_string()]);
    }
    out.push_str(&table.render());
    out.push_str(&format!(
        "profile {:?}, {}s under faults, {clients_n} clients, seed {seed}; whole run {:.0}s\n{}\n",
        args.profile,
        duration.as_secs(),
        began.elapsed().as_secs_f64(),
        if pass { "RESULT: PASS" } else { "RESULT: FAIL" }
    ));
    println!("{out}");
    Ok((pass, out))
}
