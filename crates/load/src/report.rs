//! The results as markdown: one table of what was measured, one of the
//! targets with PASS or MISSED.

use std::fmt::Write as _;

use crate::pgbench::PgbenchRun;
use crate::stats::ScenarioResult;

/// Single transfers must reach this share of the pgbench figure.
pub const TRANSFER_SHARE_OF_PGBENCH_MIN: f64 = 0.5;
/// CreateTransfers with 1,000 items: posted transfers per second.
pub const BATCH_TRANSFERS_PER_SEC_MIN: f64 = 20_000.0;
/// GetBalance requests per second.
pub const BALANCE_PER_SEC_MIN: f64 = 5_000.0;

/// Everything one run measured.
#[derive(Debug, Default)]
pub struct Report {
    /// pgbench runs, in order.
    pub pgbench: Vec<PgbenchRun>,
    /// Why pgbench did not run, if it did not.
    pub pgbench_skipped: Option<String>,
    /// Scenarios, in order.
    pub scenarios: Vec<ScenarioResult>,
    /// Batch size used by the batch scenario.
    pub batch_size: usize,
    /// Accounts the scenarios used.
    pub accounts: usize,
    /// The integrity check after the scenarios: (consistent, accounts, entries).
    pub integrity: Option<(bool, i64, i64)>,
}

/// `1234567.8` as `1,234,568`.
pub fn thousands(value: f64) -> String {
    let rounded = value.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0.0 { format!("-{out}") } else { out }
}

fn ms(duration: std::time::Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1e3)
}

/// A verdict cell.
fn verdict(passed: bool) -> &'static str {
    if passed { "PASS" } else { "**MISSED**" }
}

impl Report {
    /// The best pgbench figure over `min_accounts`-row tables (the
    /// uncontended ceiling the single-transfer target compares with).
    pub fn pgbench_ceiling(&self) -> Option<&PgbenchRun> {
        self.pgbench
            .iter()
            .filter(|run| run.accounts as usize > self.accounts.max(1))
            .max_by(|a, b| a.tps.total_cmp(&b.tps))
    }

    fn scenario(&self, name: &str) -> Option<&ScenarioResult> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// The targets: (name, measured, goal, passed); `None` passed = not run.
    pub fn targets(&self) -> Vec<(String, String, String, Option<bool>)> {
        let mut rows = Vec::new();
        let ceiling = self.pgbench_ceiling();
        let transfer = self.scenario("transfer");
        rows.push(match (transfer, ceiling) {
            (Some(t), Some(p)) => {
                let share = t.ops_per_sec() / p.tps;
                (
                    "Single CreateTransfer vs pgbench".to_owned(),
                    format!(
                        "{}/s = {:.0}% of {} tps (pgbench, {} clients, {} accounts)",
                        thousands(t.ops_per_sec()),
                        share * 100.0,
                        thousands(p.tps),
                        p.clients,
                        thousands(p.accounts as f64)
                    ),
                    format!(">= {:.0}%", TRANSFER_SHARE_OF_PGBENCH_MIN * 100.0),
                    Some(share >= TRANSFER_SHARE_OF_PGBENCH_MIN),
                )
            }
            (Some(t), None) => (
                "Single CreateTransfer vs pgbench".to_owned(),
                format!("{}/s; no pgbench figure", thousands(t.ops_per_sec())),
                format!(">= {:.0}%", TRANSFER_SHARE_OF_PGBENCH_MIN * 100.0),
                None,
            ),
            _ => (
                "Single CreateTransfer vs pgbench".to_owned(),
                "not run".to_owned(),
                format!(">= {:.0}%", TRANSFER_SHARE_OF_PGBENCH_MIN * 100.0),
                None,
            ),
        });
        let batch = self.scenario("batch");
        rows.push((
            format!("CreateTransfers, {} per batch", thousands(self.batch_size as f64)),
            batch.map_or_else(
                || "not run".to_owned(),
                |b| format!("{} transfers/s", thousands(b.posted_per_sec())),
            ),
            format!(">= {} transfers/s", thousands(BATCH_TRANSFERS_PER_SEC_MIN)),
            batch.map(|b| b.posted_per_sec() >= BATCH_TRANSFERS_PER_SEC_MIN && self.batch_size >= 1_000),
        ));
        let balance = self.scenario("balance");
        rows.push((
            "GetBalance".to_owned(),
            balance.map_or_else(|| "not run".to_owned(), |b| format!("{}/s", thousands(b.ops_per_sec()))),
            format!(">= {}/s", thousands(BALANCE_PER_SEC_MIN)),
            balance.map(|b| b.ops_per_sec() >= BALANCE_PER_SEC_MIN),
        ));
        rows
    }

    /// The whole report as markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| Scenario | Conc. (conns) | OK calls | Calls/s | Transfers/s | p50 ms | p99 ms | max ms | Errors | \
             CPU cores: client / mesh / our PG / other | CPU us per op: client / mesh / our PG |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
        for run in &self.pgbench {
            let cpu = &run.cpu;
            let per_tx = |secs: f64| {
                if run.transactions == 0 {
                    0.0
                } else {
                    secs * 1e6 / run.transactions as f64
                }
            };
            let _ = writeln!(
                out,
                "| pgbench transfer, {} accounts | {} ({}) | {} | {} | {} | avg {:.2} | - | - | - | {:.2} / - / {:.2} / {:.2} | {:.0} / - / {:.0} |",
                thousands(run.accounts as f64),
                run.clients,
                run.clients,
                thousands(run.transactions as f64),
                thousands(run.tps),
                thousands(run.tps),
                run.latency_ms,
                cpu.cores(cpu.children_secs),
                cpu.cores(cpu.postgres_secs),
                cpu.cores(cpu.postgres_other_secs + cpu.foreign_secs()),
                per_tx(cpu.children_secs),
                per_tx(cpu.postgres_secs),
            );
        }
        for s in &self.scenarios {
            let per_transfer = s.name == "batch";
            let cpu = &s.cpu;
            let transfers = if s.posted > 0 {
                thousands(s.posted_per_sec())
            } else {
                "-".to_owned()
            };
            let _ = writeln!(
                out,
                "| {} ({}) | {} ({}) | {} | {} | {} | {} | {} | {} | {} | {:.2} / {:.2} / {:.2} / {:.2} | {:.0} / {:.0} / {:.0}{} |",
                s.name,
                rpc_of(s.name),
                s.concurrency,
                s.channels,
                thousands(s.ok_calls as f64),
                thousands(s.ops_per_sec()),
                transfers,
                ms(s.latency.p50),
                ms(s.latency.p99),
                ms(s.latency.max),
                s.errors_text(),
                cpu.cores(cpu.client_secs),
                cpu.cores(cpu.server_secs),
                cpu.cores(cpu.postgres_secs),
                cpu.cores(cpu.postgres_other_secs + cpu.foreign_secs()),
                s.micros_per(cpu.client_secs, per_transfer),
                s.micros_per(cpu.server_secs, per_transfer),
                s.micros_per(cpu.postgres_secs, per_transfer),
                if per_transfer { " per transfer" } else { "" },
            );
        }
        if let Some(reason) = &self.pgbench_skipped {
            let _ = writeln!(out, "\npgbench did not run: {reason}");
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "| Target | Measured | Goal | Result |");
        let _ = writeln!(out, "|---|---|---|---|");
        for (name, measured, goal, passed) in self.targets() {
            let result = passed.map_or("not measured", verdict);
            let _ = writeln!(out, "| {name} | {measured} | {goal} | {result} |");
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "CPU: client = the load generator's threads (pgbench for pgbench rows); mesh = the five services in \
             this process; our PG = PostgreSQL backends of the run's databases; other = everything else on the \
             machine (WAL writer, checkpointer, other databases, other processes)."
        );
        let _ = writeln!(out);
        for run in &self.pgbench {
            let other = run.cpu.cores(run.cpu.postgres_other_secs + run.cpu.foreign_secs());
            let _ = writeln!(
                out,
                "- pgbench {} clients / {} accounts: machine busy {:.2} cores before, {:.2} cores of other work during{}",
                run.clients,
                thousands(run.accounts as f64),
                run.busy_before,
                other,
                noisy(other),
            );
        }
        for s in &self.scenarios {
            let other = s.cpu.cores(s.cpu.postgres_other_secs + s.cpu.foreign_secs());
            let _ = writeln!(
                out,
                "- {}: load generator share of the run's CPU {:.0}%; machine busy {:.2} cores before, {:.2} cores \
                 of other work during{}",
                s.name,
                s.cpu.client_share() * 100.0,
                s.busy_before,
                other,
                noisy(other),
            );
        }
        if let Some((consistent, accounts, entries)) = self.integrity {
            let _ = writeln!(
                out,
                "- ledger integrity after the run: {} ({accounts} accounts, {entries} entries checked)",
                if consistent { "consistent" } else { "**INCONSISTENT**" }
            );
        }
        out
    }

    /// Targets that were measured and missed.
    pub fn missed(&self) -> Vec<String> {
        self.targets()
            .into_iter()
            .filter(|(_, _, _, passed)| *passed == Some(false))
            .map(|(name, measured, goal, _)| format!("{name}: {measured} (goal {goal})"))
            .collect()
    }
}

/// Other work above this many cores (WAL writer and friends stay well
/// below) makes a figure untrustworthy.
const OTHER_CORES_NOISY: f64 = 0.3;

fn noisy(other_cores: f64) -> &'static str {
    if other_cores > OTHER_CORES_NOISY {
        " (**NOISY**: something else was running; rerun on a quiet machine)"
    } else {
        ""
    }
}

fn rpc_of(name: &str) -> &'static str {
    match name {
        "transfer" => "CreateTransfer",
        "deposit" => "Deposit",
        "batch" => "CreateTransfers",
        "balance" => "GetBalance",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cpu::Usage;

    fn pg(tps: f64, accounts: u64) -> PgbenchRun {
        PgbenchRun {
            clients: 16,
            accounts,
            tps,
            latency_ms: 4.0,
            transactions: 40_000,
            cpu: Usage::default(),
            busy_before: 0.0,
        }
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(12.0), "12");
    }

    #[test]
    fn judges_the_targets() {
        let report = Report {
            pgbench: vec![pg(4_000.0, 10_000), pg(1_000.0, 16)],
            accounts: 16,
            batch_size: 1_000,
            scenarios: vec![
                ScenarioResult {
                    name: "transfer",
                    ok_calls: 19_000,
                    posted: 19_000,
                    elapsed: Duration::from_secs(10),
                    ..ScenarioResult::default()
                },
                ScenarioResult {
                    name: "balance",
                    ok_calls: 60_000,
                    elapsed: Duration::from_secs(10),
                    ..ScenarioResult::default()
                },
            ],
            ..Report::default()
        };
        assert_eq!(report.pgbench_ceiling().map(|p| p.tps), Some(4_000.0));
        let targets = report.targets();
        assert_eq!(targets[0].3, Some(false), "1,900/s is 47.5% of 4,000");
        assert_eq!(targets[1].3, None, "batch not run");
        assert_eq!(targets[2].3, Some(true));
        assert_eq!(report.missed().len(), 1);
        let text = report.markdown();
        assert!(text.contains("**MISSED**"));
        assert!(text.contains("| GetBalance | 6,000/s | >= 5,000/s | PASS |"));
    }
}
