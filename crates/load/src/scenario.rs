//! The load scenarios: many tasks over a few HTTP/2 connections calling one
//! Transfer RPC in a loop, each loop bounded by a deadline and by a shared
//! cap on calls.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bank_proto::bank::transfer::v1 as transfer;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use rand::Rng as _;
use rand::seq::IndexedRandom as _;
use tokio::task::JoinSet;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::bank::{Bank, authorized, connect, request_id, usd};
use crate::cpu::{Meter, wait_for_quiet};
use crate::stats::{Latency, ScenarioResult, code_name};

/// Deadline of one call under load (a batch of 1,000 is the slowest).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest amount moved by one load transfer, in minor units: small, so
/// funded accounts never run short.
const AMOUNT_MAX_MINOR: i64 = 100;

/// Which RPC a scenario drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// CreateTransfer between two random accounts.
    Transfer,
    /// Deposit into a random account (debits the hot CASH system account).
    Deposit,
    /// CreateTransfers with `batch_size` items from one account.
    Batch,
    /// GetBalance of a random account.
    Balance,
}

impl Kind {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Deposit => "deposit",
            Kind::Batch => "batch",
            Kind::Balance => "balance",
        }
    }

    /// The RPC it calls.
    pub fn rpc(self) -> &'static str {
        match self {
            Kind::Transfer => "CreateTransfer",
            Kind::Deposit => "Deposit",
            Kind::Batch => "CreateTransfers",
            Kind::Balance => "GetBalance",
        }
    }
}

/// How hard and how long to drive one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent tasks.
    pub concurrency: usize,
    /// Tasks sharing one HTTP/2 connection.
    pub tasks_per_channel: usize,
    /// Measured interval.
    pub duration: Duration,
    /// Unmeasured run before it (caches, connections, pools).
    pub warmup: Duration,
    /// Most calls in the measured interval (the warm-up gets a tenth).
    pub max_calls: u64,
    /// Items per CreateTransfers call.
    pub batch_size: usize,
    /// Longest wait for the machine to be quiet before measuring.
    pub quiet_wait: Duration,
}

/// Busy cores below which the machine counts as quiet (the idle mesh
/// polls Redis and sweeps expiries).
pub const QUIET_BUSY_CORES_MAX: f64 = 0.2;
/// Cores the mesh and its databases may still use for a scenario to start:
/// the previous scenario's work (analytics consuming its events, the
/// outbox relay) must be done first.
const SETTLED_CORES_MAX: f64 = 0.15;
/// Longest wait for that.
const SETTLE_WAIT_MAX: Duration = Duration::from_secs(60);

/// Waits (bounded) until the mesh and our databases are nearly idle;
/// returns the cores they used in the last second.
async fn settle(db_tag: &str) -> f64 {
    let started = Instant::now();
    loop {
        let meter = Meter::start(vec![db_tag.to_owned()]);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let usage = meter.finish();
        let busy = usage.cores(usage.server_secs + usage.postgres_secs);
        if busy <= SETTLED_CORES_MAX || started.elapsed() >= SETTLE_WAIT_MAX {
            return busy;
        }
    }
}

/// What one task saw.
#[derive(Debug, Default)]
struct TaskStats {
    latencies_micros: Vec<u32>,
    ok_calls: u64,
    failed_calls: u64,
    posted: u64,
    errors: BTreeMap<String, u64>,
}

/// What one task does: its client and the accounts it may use.
struct Worker {
    kind: Kind,
    client: TransferServiceClient<Channel>,
    bank: Arc<Bank>,
    /// Indexes into `bank.accounts` this task draws accounts from.
    accounts: Arc<[usize]>,
    batch_size: usize,
}

/// OK: (transfers posted, per-item error codes).
type CallResult = Result<(u64, Vec<Code>), Status>;

impl Worker {
    /// Two distinct accounts of this task's set, and an amount.
    fn pick_pair(&self) -> (usize, usize, i64) {
        let from = self.accounts.choose(&mut rand::rng()).copied().unwrap_or(0);
        self.pick_pair_from(from)
    }

    /// A destination other than `from` and an amount.
    fn pick_pair_from(&self, from: usize) -> (usize, usize, i64) {
        let mut rng = rand::rng();
        let mut to = from;
        while to == from && self.accounts.len() > 1 {
            to = self.accounts.choose(&mut rng).copied().unwrap_or(0);
        }
        (from, to, rng.random_range(1..=AMOUNT_MAX_MINOR))
    }

    async fn call(&mut self) -> CallResult {
        let accounts = &self.bank.accounts;
        match self.kind {
            Kind::Transfer => {
                let (from, to, amount) = self.pick_pair();
                let request = authorized(
                    transfer::CreateTransferRequest {
                        request_id: request_id(),
                        from_account_id: accounts[from].account_id.clone(),
                        destination: Some(transfer::create_transfer_request::Destination::ToAccountId(
                            accounts[to].account_id.clone(),
                        )),
                        amount: usd(amount),
                        description: "load".to_owned(),
                        reference: String::new(),
                    },
                    &accounts[from].authorization,
                    CALL_TIMEOUT,
                );
                self.client.create_transfer(request).await.map(|_| (1, Vec::new()))
            }
            Kind::Deposit => {
                let (to, _, amount) = self.pick_pair();
                let request = authorized(
                    transfer::DepositRequest {
                        request_id: request_id(),
                        account_id: accounts[to].account_id.clone(),
                        amount: usd(amount),
                        description: "load".to_owned(),
                    },
                    &accounts[to].authorization,
                    CALL_TIMEOUT,
                );
                self.client.deposit(request).await.map(|_| (1, Vec::new()))
            }
            Kind::Batch => {
                let (from, _, _) = self.pick_pair();
                let items = (0..self.batch_size)
                    .map(|_| {
                        let (_, to, amount) = self.pick_pair_from(from);
                        transfer::TransferItem {
                            request_id: request_id(),
                            from_account_id: accounts[from].account_id.clone(),
                            destination: Some(transfer::transfer_item::Destination::ToAccountId(
                                accounts[to].account_id.clone(),
                            )),
                            amount: usd(amount),
                            description: "load batch".to_owned(),
                            reference: String::new(),
                            linked: false,
                        }
                    })
                    .collect();
                let request = authorized(
                    transfer::CreateTransfersRequest { transfers: items },
                    &accounts[from].authorization,
                    CALL_TIMEOUT,
                );
                let response = self.client.create_transfers(request).await?.into_inner();
                let item_errors = response
                    .results
                    .iter()
                    .filter_map(|r| r.error.as_ref())
                    .map(|e| Code::from_i32(e.code))
                    .collect();
                Ok((u64::try_from(response.posted_count).unwrap_or(0), item_errors))
            }
            Kind::Balance => {
                let (of, _, _) = self.pick_pair();
                let request = authorized(
                    transfer::GetBalanceRequest {
                        account_id: accounts[of].account_id.clone(),
                    },
                    &accounts[of].authorization,
                    CALL_TIMEOUT,
                );
                self.client.get_balance(request).await.map(|_| (0, Vec::new()))
            }
        }
    }

    /// Calls until `deadline` or until `issued` reaches `max_calls`.
    async fn run(mut self, deadline: Instant, issued: Arc<AtomicU64>, max_calls: u64) -> TaskStats {
        let mut stats = TaskStats::default();
        while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max_calls {
            let started = Instant::now();
            let result = self.call().await;
            let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
            stats.latencies_micros.push(micros);
            match result {
                Ok((posted, item_errors)) => {
                    stats.ok_calls += 1;
                    stats.posted += posted;
                    for code in item_errors {
                        *stats.errors.entry(format!("item:{}", code_name(code))).or_default() += 1;
                    }
                }
                Err(status) => {
                    stats.failed_calls += 1;
                    *stats.errors.entry(code_name(status.code()).to_owned()).or_default() += 1;
                }
            }
        }
        stats
    }
}

/// The account sets of `concurrency` batch tasks: disjoint when there are
/// enough accounts (at least two per task), so concurrent batches never wait
/// on each other's row locks; otherwise every task uses every account.
fn batch_partitions(accounts: usize, concurrency: usize) -> Vec<Arc<[usize]>> {
    let all: Arc<[usize]> = (0..accounts).collect();
    (0..concurrency)
        .map(|task| {
            if accounts >= 2 * concurrency {
                (0..accounts).filter(|i| i % concurrency == task).collect()
            } else {
                all.clone()
            }
        })
        .collect()
}

/// Everything the tasks of one phase saw, merged.
struct Phase {
    stats: TaskStats,
    elapsed: Duration,
}

async fn phase(
    kind: Kind,
    bank: &Arc<Bank>,
    channels: &[Channel],
    plan: &Plan,
    duration: Duration,
    max_calls: u64,
) -> anyhow::Result<Phase> {
    let partitions = match kind {
        Kind::Batch => batch_partitions(bank.accounts.len(), plan.concurrency),
        _ => vec![(0..bank.accounts.len()).collect(); plan.concurrency],
    };
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for (task, accounts) in partitions.into_iter().enumerate() {
        let worker = Worker {
            kind,
            client: TransferServiceClient::new(channels[task / plan.tasks_per_channel.max(1)].clone()),
            bank: bank.clone(),
            accounts,
            batch_size: plan.batch_size,
        };
        tasks.spawn(worker.run(deadline, issued.clone(), max_calls));
    }
    let mut merged = TaskStats::default();
    while let Some(joined) = tasks.join_next().await {
        let stats = joined.context("load task panicked")?;
        merged.latencies_micros.extend(stats.latencies_micros);
        merged.ok_calls += stats.ok_calls;
        merged.failed_calls += stats.failed_calls;
        merged.posted += stats.posted;
        for (code, n) in stats.errors {
            *merged.errors.entry(code).or_default() += n;
        }
    }
    Ok(Phase {
        stats: merged,
        elapsed: started.elapsed(),
    })
}

/// Runs scenario `kind`: a warm-up, a wait for a quiet machine, then the
/// measured interval, metered. `db_tag` names our databases (their prefix).
pub async fn run(kind: Kind, bank: &Arc<Bank>, plan: &Plan, db_tag: &str) -> anyhow::Result<ScenarioResult> {
    if bank.accounts.len() < 2 {
        anyhow::bail!("at least two accounts are needed");
    }
    let channel_count = plan.concurrency.div_ceil(plan.tasks_per_channel.max(1));
    let mut channels = Vec::with_capacity(channel_count);
    for _ in 0..channel_count {
        channels.push(connect(&bank.tls, &bank.transfer_url).await?);
    }
    if !plan.warmup.is_zero() {
        phase(kind, bank, &channels, plan, plan.warmup, (plan.max_calls / 10).max(1)).await?;
    }
    let settled = settle(db_tag).await;
    if settled > SETTLED_CORES_MAX {
        eprintln!("bank-load:   the mesh still used {settled:.2} cores after {SETTLE_WAIT_MAX:?}; measuring anyway");
    }
    let busy_before = wait_for_quiet(plan.quiet_wait, QUIET_BUSY_CORES_MAX).await;
    let meter = Meter::start(vec![db_tag.to_owned()]);
    let mut measured = phase(kind, bank, &channels, plan, plan.duration, plan.max_calls).await?;
    let cpu = meter.finish();
    Ok(ScenarioResult {
        name: kind.name(),
        concurrency: plan.concurrency,
        channels: channel_count,
        ok_calls: measured.stats.ok_calls,
        failed_calls: measured.stats.failed_calls,
        posted: measured.stats.posted,
        elapsed: measured.elapsed,
        latency: Latency::of(&mut measured.stats.latencies_micros),
        errors: measured.stats.errors,
        cpu,
        busy_before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_tasks_get_disjoint_accounts_when_there_are_enough() {
        let parts = batch_partitions(16, 4);
        assert_eq!(parts.len(), 4);
        assert_eq!(&*parts[1], &[1, 5, 9, 13]);
        let mut seen: Vec<usize> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..16).collect::<Vec<_>>());
        let shared = batch_partitions(6, 4);
        assert!(shared.iter().all(|p| p.len() == 6));
    }
}
