//! The PostgreSQL ceiling, measured in the same run with `pgbench`: a
//! scratch database with ledger-like accounts (bigint columns, a
//! never-negative CHECK) and a custom script doing the ledger's two-account
//! transfer: two UPDATEs in ascending id order, each guarded by the funds
//! condition, plus one INSERT of a transfer row, with prepared statements.
//! The scratch database is dropped afterwards, also on failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use bank_testkit::TestDatabase;

use crate::cpu::{Meter, Usage, wait_for_quiet};
use crate::scenario::QUIET_BUSY_CORES_MAX;

/// Rows every scratch account starts with as credits, so the funds check
/// holds for the whole run.
const OPENING_CREDITS: i64 = 1_000_000_000_000;
/// Extra time pgbench gets beyond `-T` before it is killed.
const PGBENCH_GRACE: Duration = Duration::from_secs(60);
/// pgbench worker threads (one per core of the machine).
const PGBENCH_THREADS: usize = 2;

/// The transfer, in pgbench's script language. `:a` is debited and `:b`
/// credited; rows are updated in ascending id order (`:lo` then `:hi`) so
/// concurrent transfers cannot deadlock; the debit side only applies when
/// funds suffice, as the ledger's CHECK-guarded update does.
const SCRIPT: &str = r"\set a random(1, :accounts)
\set b random(1, :accounts - 1)
\if :b >= :a
\set b :b + 1
\endif
\set lo least(:a, :b)
\set hi greatest(:a, :b)
\set amount random(1, 100)
BEGIN;
UPDATE bench_accounts SET debits_posted = debits_posted + CASE WHEN id = :a THEN :amount ELSE 0 END, credits_posted = credits_posted + CASE WHEN id = :b THEN :amount ELSE 0 END WHERE id = :lo AND (id <> :a OR debits_posted + :amount <= credits_posted);
UPDATE bench_accounts SET debits_posted = debits_posted + CASE WHEN id = :a THEN :amount ELSE 0 END, credits_posted = credits_posted + CASE WHEN id = :b THEN :amount ELSE 0 END WHERE id = :hi AND (id <> :a OR debits_posted + :amount <= credits_posted);
INSERT INTO bench_transfers (debit_account_id, credit_account_id, amount) VALUES (:a, :b, :amount);
COMMIT;
";

/// One pgbench run.
#[derive(Debug, Clone)]
pub struct PgbenchRun {
    /// Client connections.
    pub clients: usize,
    /// Rows the transfers were spread over.
    pub accounts: u64,
    /// Transactions per second (without connection time).
    pub tps: f64,
    /// Mean latency of one transaction.
    pub latency_ms: f64,
    /// Transactions committed.
    pub transactions: u64,
    /// CPU used (pgbench itself is `children_secs`).
    pub cpu: Usage,
    /// Busy cores of the machine in the second before it ran.
    pub busy_before: f64,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct PgbenchPlan {
    /// `pgbench` binary.
    pub pgbench: PathBuf,
    /// `psql` binary.
    pub psql: PathBuf,
    /// Any database on the server to measure.
    pub database_url: String,
    /// Seconds per run (`-T`).
    pub duration: Duration,
    /// `(clients, accounts)` of each run.
    pub runs: Vec<(usize, u64)>,
    /// Longest wait for the machine to be quiet before each run.
    pub quiet_wait: Duration,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// `name` from PostgreSQL's tools: given, else in the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's `/usr/bin` entries are
/// wrappers that exist even when the tool does not), else on `PATH`.
pub fn find_tool(name: &str, given: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = given {
        return path.is_file().then(|| path.to_owned());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.flatten()
                .filter_map(|entry| {
                    let version = entry.file_name().to_str()?.parse().ok()?;
                    let path = entry.path().join("bin").join(name);
                    path.is_file().then_some((version, path))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().map(|(_, path)| path).or_else(|| on_path(name))
}

/// `url` naming database `name` instead.
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").context("database URL has no scheme")? + 3;
    let slash = base[after_scheme..].find('/').map(|i| i + after_scheme);
    let server = slash.map_or(base, |i| &base[..i]);
    Ok(match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    })
}

async fn psql(plan: &PgbenchPlan, url: &str, statements: &[&str]) -> anyhow::Result<()> {
    let mut command = tokio::process::Command::new(&plan.psql);
    command.arg(url).args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
    for statement in statements {
        command.arg("-c").arg(statement);
    }
    let output = command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {}", plan.psql.display()))?;
    if !output.status.success() {
        anyhow::bail!("psql failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// `(tps, mean latency ms, transactions)` from pgbench's report.
fn parse_report(stdout: &str) -> Option<(f64, f64, u64)> {
    let value_after = |prefix: &str| {
        stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
    };
    let tps = value_after("tps = ")?.parse().ok()?;
    let latency = value_after("latency average = ")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let transactions = value_after("number of transactions actually processed: ")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some((tps, latency, transactions))
}

async fn run_one(
    plan: &PgbenchPlan,
    (name, url): (&str, &str),
    dir: &Path,
    clients: usize,
    accounts: u64,
) -> anyhow::Result<PgbenchRun> {
    psql(
        plan,
        url,
        &[
            "DROP TABLE IF EXISTS bench_transfers, bench_accounts",
            "CREATE TABLE bench_accounts (id bigint PRIMARY KEY, \
             debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0), \
             credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0), \
             CONSTRAINT never_negative CHECK (debits_posted <= credits_posted))",
            &format!(
                "INSERT INTO bench_accounts (id, credits_posted) \
                 SELECT g, {OPENING_CREDITS} FROM generate_series(1, {accounts}) AS g"
            ),
            "CREATE TABLE bench_transfers (id bigserial PRIMARY KEY, \
             debit_account_id bigint NOT NULL, credit_account_id bigint NOT NULL, \
             amount bigint NOT NULL CHECK (amount > 0), created_at timestamptz NOT NULL DEFAULT now())",
            "VACUUM ANALYZE bench_accounts",
            "CHECKPOINT",
        ],
    )
    .await?;
    let script = dir.join("transfer.sql");
    std::fs::write(&script, SCRIPT)?;
    let busy_before = wait_for_quiet(plan.quiet_wait, QUIET_BUSY_CORES_MAX).await;
    let meter = Meter::start(vec![name.to_owned()]);
    let child = tokio::process::Command::new(&plan.pgbench)
        .args(["-n", "-M", "prepared"])
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={}", PGBENCH_THREADS.min(clients)))
        .arg(format!("--time={}", plan.duration.as_secs().max(1)))
        .arg(format!("--define=accounts={accounts}"))
        .arg(format!("--file={}", script.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", plan.pgbench.display()))?;
    let output = tokio::time::timeout(plan.duration + PGBENCH_GRACE, child.wait_with_output())
        .await
        .context("pgbench did not finish in time (killed)")??;
    let cpu = meter.finish();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        anyhow::bail!(
            "pgbench failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let (tps, latency_ms, transactions) =
        parse_report(&stdout).with_context(|| format!("no tps in pgbench's report:\n{stdout}"))?;
    Ok(PgbenchRun {
        clients,
        accounts,
        tps,
        latency_ms,
        transactions,
        cpu,
        busy_before,
    })
}

/// Creates the scratch database, runs every `(clients, accounts)` of the
/// plan, and drops the database.
pub async fn run(plan: &PgbenchPlan) -> anyhow::Result<Vec<PgbenchRun>> {
    let name = format!("bench_pg_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let url = with_database(&plan.database_url, &name)?;
    // Dropped (WITH FORCE) when this function returns, however it returns.
    let _scratch = TestDatabase::adopt(url.clone());
    psql(plan, &plan.database_url, &[&format!("CREATE DATABASE {name}")]).await?;
    let dir = tempfile::tempdir()?;
    let mut runs = Vec::with_capacity(plan.runs.len());
    for &(clients, accounts) in &plan.runs {
        runs.push(run_one(plan, (&name, &url), dir.path(), clients, accounts).await?);
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pgbench_15_output() {
        let out = "transaction type: transfer.sql\nscaling factor: 1\nnumber of clients: 16\n\
                   number of transactions actually processed: 38211\n\
                   number of failed transactions: 0 (0.000%)\nlatency average = 4.186 ms\n\
                   initial connection time = 20.713 ms\ntps = 3822.180335 (without initial connection time)\n";
        let (tps, latency, count) = parse_report(out).expect("parses");
        assert!((tps - 3822.180335).abs() < 1e-6);
        assert!((latency - 4.186).abs() < 1e-9);
        assert_eq!(count, 38211);
        assert!(parse_report("nothing").is_none());
    }

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x").expect("url"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x").expect("url"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x").expect("url"),
            "postgres://h:5432/x"
        );
    }
}
