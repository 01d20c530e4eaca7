//! The results as markdown: one table of what was measured, one comparing
//! the same RPCs direct and through the gateway, one of the targets with
//! PASS or MISSED.

use std::fmt::Write as _;

use crate::pgbench::PgbenchRun;
use crate::scenario::Route;
use crate::stats::{Latency, ScenarioResult};

/// Single transfers must reach this share of the pgbench figure.
pub const TRANSFER_SHARE_OF_PGBENCH_MIN: f64 = 0.5;
/// CreateTransfers with 1,000 items: posted transfers per second.
pub const BATCH_TRANSFERS_PER_SEC_MIN: f64 = 20_000.0;
/// GetBalance requests per second.
pub const BALANCE_PER_SEC_MIN: f64 = 5_000.0;
/// REST through the gateway must reach this share of the same RPC's
/// direct gRPC calls per second (issue 4).
pub const REST_SHARE_OF_GRPC_MIN: f64 = 0.8;
/// REST through the gateway may add at most this to the direct gRPC
/// median latency, in milliseconds (issue 4).
pub const REST_ADDED_P50_MAX_MS: f64 = 1.0;

/// The RPCs compared direct and through the gateway: (RPC, direct
/// scenario, gRPC-via-gateway scenario, REST scenario).
const GATEWAY_COMPARISONS: [(&str, &str, &str, &str); 2] = [
    ("GetBalance", "balance", "gw-grpc-balance", "rest-balance"),
    ("CreateTransfer", "transfer", "gw-grpc-transfer", "rest-transfer"),
];

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
    /// The gateway's rate limit during the run: (per second, burst).
    pub gateway_rate_limit: Option<(u32, u32, u32)>,
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

/// `later`'s p50 minus `base`'s, in milliseconds (negative when faster).
fn added_p50_ms(base: &Latency, later: &Latency) -> f64 {
    (later.p50.as_secs_f64() - base.p50.as_secs_f64()) * 1e3
}

/// The p50 latencies to compare for the added-latency target: at light
/// load when both scenarios have it (what the route itself adds), else
/// under load (mostly queueing on a saturated machine). (base, later,
/// concurrency).
fn p50_pair(base: &ScenarioResult, later: &ScenarioResult) -> (Latency, Latency, usize) {
    match (&base.light, &later.light) {
        (Some(b), Some(l)) => (b.latency, l.latency, l.concurrency),
        _ => (base.latency, later.latency, later.concurrency),
    }
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
        for (rpc, direct, _, rest) in GATEWAY_COMPARISONS {
            rows.extend(self.rest_targets(rpc, direct, rest));
        }
        rows
    }

    /// Issue 4's two targets for `rpc`: REST throughput as a share of direct
    /// gRPC, and the p50 latency REST adds.
    fn rest_targets(&self, rpc: &str, direct: &str, rest: &str) -> [(String, String, String, Option<bool>); 2] {
        let share_goal = format!(">= {:.0}% of direct gRPC", REST_SHARE_OF_GRPC_MIN * 100.0);
        let p50_goal = format!("<= {REST_ADDED_P50_MAX_MS:.0} ms");
        let share_name = format!("REST {rpc} via gateway: calls/s");
        let p50_name = format!("REST {rpc} via gateway: added p50");
        match (self.scenario(direct), self.scenario(rest)) {
            (Some(d), Some(r)) if d.ops_per_sec() > 0.0 => {
                let share = r.ops_per_sec() / d.ops_per_sec();
                let (base, later, concurrency) = p50_pair(d, r);
                let added = added_p50_ms(&base, &later);
                [
                    (
                        share_name,
                        format!(
                            "{}/s = {:.0}% of {}/s",
                            thousands(r.ops_per_sec()),
                            share * 100.0,
                            thousands(d.ops_per_sec())
                        ),
                        share_goal,
                        Some(share >= REST_SHARE_OF_GRPC_MIN),
                    ),
                    (
                        p50_name,
                        format!(
                            "{added:+.2} ms at concurrency {concurrency} ({} vs {} ms)",
                            ms(later.p50),
                            ms(base.p50)
                        ),
                        p50_goal,
                        Some(added <= REST_ADDED_P50_MAX_MS),
                    ),
                ]
            }
            (d, r) => {
                let why = match (d, r) {
                    (Some(_), Some(_)) => "no direct calls succeeded",
                    (None, Some(_)) => "direct gRPC not run",
                    _ => "not run",
                };
                [
                    (share_name, why.to_owned(), share_goal, None),
                    (p50_name, why.to_owned(), p50_goal, None),
                ]
            }
        }
    }

    /// The same RPCs direct and through the gateway, when any gateway
    /// scenario ran.
    fn gateway_table(&self, out: &mut String) {
        let ran = GATEWAY_COMPARISONS
            .iter()
            .any(|(_, _, grpc, rest)| self.scenario(grpc).is_some() || self.scenario(rest).is_some());
        if !ran {
            return;
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| RPC | Route | Conc. (conns) | Calls/s | vs direct | p50 ms | Added p50 ms | p99 ms | Errors | \
             CPU us per call: client / mesh / our PG | Light load: conc. | p50 ms | Added p50 ms | p99 ms |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (rpc, direct, grpc, rest) in GATEWAY_COMPARISONS {
            let base = self.scenario(direct);
            let routes = [
                (direct, Route::Direct),
                (grpc, Route::GatewayGrpc),
                (rest, Route::GatewayRest),
            ];
            for (name, route) in routes {
                let Some(s) = self.scenario(name) else {
                    continue;
                };
                let (share, added) = match base {
                    Some(b) if route != Route::Direct && b.ops_per_sec() > 0.0 => (
                        format!("{:.0}%", s.ops_per_sec() / b.ops_per_sec() * 100.0),
                        format!("{:+.2}", added_p50_ms(&b.latency, &s.latency)),
                    ),
                    Some(_) if route == Route::Direct => ("100%".to_owned(), "-".to_owned()),
                    _ => ("-".to_owned(), "-".to_owned()),
                };
                let light = match (&s.light, base.and_then(|b| b.light.as_ref())) {
                    (Some(l), base_light) => format!(
                        "{} | {} | {} | {}",
                        l.concurrency,
                        ms(l.latency.p50),
                        match base_light {
                            Some(b) if route != Route::Direct =>
                                format!("{:+.2}", added_p50_ms(&b.latency, &l.latency)),
                            _ => "-".to_owned(),
                        },
                        ms(l.latency.p99)
                    ),
                    (None, _) => "- | - | - | -".to_owned(),
                };
                let cpu = &s.cpu;
                let _ = writeln!(
                    out,
                    "| {rpc} | {} | {} ({}) | {} | {share} | {} | {added} | {} | {} | {:.0} / {:.0} / {:.0} | {light} |",
                    route.describe(),
                    s.concurrency,
                    s.channels,
                    thousands(s.ops_per_sec()),
                    ms(s.latency.p50),
                    ms(s.latency.p99),
                    s.errors_text(),
                    s.micros_per(cpu.client_secs, false),
                    s.micros_per(cpu.server_secs, false),
                    s.micros_per(cpu.postgres_secs, false),
                );
            }
        }
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
        self.gateway_table(&mut out);
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
            "CPU: client = the load generator's threads (pgbench for pgbench rows); mesh = the five services \
             and the gateway in this process; our PG = PostgreSQL backends of the run's databases; other = \
             everything else on the machine (WAL writer, checkpointer, other databases, Redis, other processes)."
        );
        if self.scenarios.iter().any(|s| s.slices > 1) {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "The same RPC direct and through the gateway is measured in one group, in two halves each, \
                 interleaved (direct, REST, REST, direct; with gRPC via gateway: direct, gRPC via gateway, REST, \
                 REST, gRPC via gateway, direct); a row sums both halves, so drift during the run (ledger growth, background work) weighs on every route alike. \
                 Every measured slice starts with one unmeasured call per task. Then the group runs again the same \
                 way at light load (the light-load columns): at the full concurrency the machine is saturated and \
                 a p50 is mostly queueing (about concurrency / calls per second), so the added-p50 target is \
                 judged at light load."
            );
        }
        let via_gateway = self
            .scenarios
            .iter()
            .any(|s| s.name.starts_with("rest-") || s.name.starts_with("gw-grpc-"));
        if via_gateway {
            let _ = writeln!(out);
            let limit = match self.gateway_rate_limit {
                Some((0, _, _)) => "off".to_owned(),
                Some((rate, burst, lease)) => format!(
                    "{}/s with a burst of {} per client address, still enforced (the gateway leases {lease} tokens per Redis script call at this rate; 5 at the default 100/s)",
                    thousands(f64::from(rate)),
                    thousands(f64::from(burst)),
                ),
                None => "the default".to_owned(),
            };
            let _ = writeln!(
                out,
                "Gateway: plain HTTP on loopback, in the mesh's process (its CPU is under mesh); it reaches the \
                 transfer service over mTLS HTTP/2 like the direct calls. Its rate limit for this run: {limit}. \
                 REST uses one pool of HTTP/1.1 keep-alive connections (hyper-util), at most one request in flight \
                 on each; conns = connections the pool opened."
            );
        }
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
            let reconnects = match s.new_connections {
                Some(0) => "; no new connections while measured".to_owned(),
                Some(n) => format!("; **{n} new connections while measured** (keep-alive not kept)"),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "- {}: load generator share of the run's CPU {:.0}%; machine busy {:.2} cores before, {:.2} cores \
                 of other work during{}{reconnects}",
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
        "rest-balance" => "GET /v1/accounts/{id}/balance",
        "rest-transfer" => "POST /v1/transfers",
        "gw-grpc-balance" => "GetBalance via gateway",
        "gw-grpc-transfer" => "CreateTransfer via gateway",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cpu::Usage;
    use crate::stats::LightLoad;

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
        assert!(
            !text.contains("via gateway ("),
            "no gateway table without gateway scenarios"
        );
    }

    #[test]
    fn compares_rest_with_direct_grpc() {
        let run = |name: &'static str, ok_calls: u64, p50_micros: u64| ScenarioResult {
            name,
            ok_calls,
            elapsed: Duration::from_secs(10),
            latency: Latency {
                p50: Duration::from_micros(p50_micros),
                ..Latency::default()
            },
            slices: 2,
            ..ScenarioResult::default()
        };
        let report = Report {
            scenarios: vec![
                run("balance", 60_000, 800),
                run("rest-balance", 50_000, 1_500),
                run("transfer", 5_000, 6_000),
                run("rest-transfer", 3_000, 7_500),
            ],
            gateway_rate_limit: Some((1_000_000, 1_000_000, 64)),
            ..Report::default()
        };
        let targets = report.targets();
        let verdicts: Vec<Option<bool>> = targets[3..].iter().map(|t| t.3).collect();
        assert_eq!(verdicts, [Some(true), Some(true), Some(false), Some(false)]);
        assert_eq!(targets[3].1, "5,000/s = 83% of 6,000/s");
        assert_eq!(targets[4].1, "+0.70 ms at concurrency 0 (1.50 vs 0.80 ms)");
        assert_eq!(report.missed().len(), 2);
        let text = report.markdown();
        assert!(
            text.contains(
                "| GetBalance | REST via gateway (HTTP/1.1 keep-alive) | 0 (0) | 5,000 | 83% | 1.50 | +0.70 |"
            )
        );
        assert!(text.contains("| GetBalance | direct gRPC (h2 + mTLS) | 0 (0) | 6,000 | 100% | 0.80 | - |"));
        assert!(text.contains("1,000,000/s with a burst of 1,000,000"));
        assert!(text.contains("| - | - | - | - |"), "no light-load figures");

        let alone = Report {
            scenarios: vec![run("rest-balance", 50_000, 1_500)],
            ..Report::default()
        };
        assert_eq!(alone.targets()[3].1, "direct gRPC not run");
        assert!(alone.missed().is_empty());

        // With light-load figures the added p50 is judged there, not under load.
        let light = |p50_micros: u64| {
            Some(LightLoad {
                concurrency: 1,
                ok_calls: 100,
                failed_calls: 0,
                latency: Latency {
                    p50: Duration::from_micros(p50_micros),
                    ..Latency::default()
                },
            })
        };
        let mut scenarios = report.scenarios.clone();
        for (s, p50) in scenarios.iter_mut().zip([400, 900, 3_000, 3_400]) {
            s.light = light(p50);
        }
        let light_report = Report {
            scenarios,
            ..Report::default()
        };
        let targets = light_report.targets();
        assert_eq!(targets[4].1, "+0.50 ms at concurrency 1 (0.90 vs 0.40 ms)");
        assert_eq!(targets[6].3, Some(true), "+0.40 ms at light load");
        assert!(light_report.markdown().contains("| 1 | 0.90 | +0.50 | 0.00 |"));
    }
}
