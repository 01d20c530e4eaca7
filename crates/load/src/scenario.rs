//! The load scenarios: many tasks over a few HTTP/2 connections (or a pool
//! of HTTP/1.1 ones for REST) calling one Transfer RPC in a loop, each loop
//! bounded by a deadline and by a shared cap on calls. Scenarios that are
//! compared with each other (the same RPC direct, and through the gateway)
//! run as one group, measured in halves in the order A B C C B A, so that
//! drift over the run (ledger history, autovacuum, other work on the
//! machine) weighs on each of them alike.

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
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

use crate::bank::{Bank, authorized, connect, request_id, usd};
use crate::cpu::{Meter, Usage, wait_for_quiet};
use crate::rest::RestClient;
use crate::stats::{Latency, LightLoad, ScenarioResult, code_name};

/// Deadline of one call under load (a batch of 1,000 is the slowest).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest amount moved by one load transfer, in minor units: small, so
/// funded accounts never run short.
const AMOUNT_MAX_MINOR: i64 = 100;

/// Which RPC a scenario drives, and which way.
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
    /// GetBalance as REST/JSON through the gateway.
    RestBalance,
    /// CreateTransfer as REST/JSON through the gateway.
    RestTransfer,
    /// GetBalance as native gRPC through the gateway.
    GwGrpcBalance,
    /// CreateTransfer as native gRPC through the gateway.
    GwGrpcTransfer,
}

/// Which way a scenario's calls reach the transfer service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// gRPC over HTTP/2 with mTLS straight to the service.
    Direct,
    /// gRPC over plaintext HTTP/2 (h2c) to the gateway, which forwards it.
    GatewayGrpc,
    /// REST/JSON over HTTP/1.1 keep-alive to the gateway, which transcodes.
    GatewayRest,
}

impl Route {
    /// How the report describes it.
    pub fn describe(self) -> &'static str {
        match self {
            Route::Direct => "direct gRPC (h2 + mTLS)",
            Route::GatewayGrpc => "gRPC via gateway (h2c)",
            Route::GatewayRest => "REST via gateway (HTTP/1.1 keep-alive)",
        }
    }
}

impl Kind {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Deposit => "deposit",
            Kind::Batch => "batch",
            Kind::Balance => "balance",
            Kind::RestBalance => "rest-balance",
            Kind::RestTransfer => "rest-transfer",
            Kind::GwGrpcBalance => "gw-grpc-balance",
            Kind::GwGrpcTransfer => "gw-grpc-transfer",
        }
    }

    /// The RPC it calls.
    pub fn rpc(self) -> &'static str {
        self.base().rpc_direct()
    }

    fn rpc_direct(self) -> &'static str {
        match self {
            Kind::Transfer => "CreateTransfer",
            Kind::Deposit => "Deposit",
            Kind::Batch => "CreateTransfers",
            _ => "GetBalance",
        }
    }

    /// The direct gRPC scenario that makes the same calls.
    pub fn base(self) -> Kind {
        match self {
            Kind::RestBalance | Kind::GwGrpcBalance => Kind::Balance,
            Kind::RestTransfer | Kind::GwGrpcTransfer => Kind::Transfer,
            other => other,
        }
    }

    /// Which way its calls go.
    pub fn route(self) -> Route {
        match self {
            Kind::RestBalance | Kind::RestTransfer => Route::GatewayRest,
            Kind::GwGrpcBalance | Kind::GwGrpcTransfer => Route::GatewayGrpc,
            _ => Route::Direct,
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
    /// Concurrent tasks of the light-load pass that groups add after the
    /// loaded one, for latency without queueing; 0 skips it.
    pub light_concurrency: usize,
}

/// Longest priming before a measured slice: one unmeasured call per task.
const PRIME_TIMEOUT: Duration = Duration::from_secs(5);

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

impl TaskStats {
    fn merge(&mut self, other: TaskStats) {
        self.latencies_micros.extend(other.latencies_micros);
        self.ok_calls += other.ok_calls;
        self.failed_calls += other.failed_calls;
        self.posted += other.posted;
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
    }
}

/// The connections of one scenario, shared by its tasks.
enum Connections {
    /// HTTP/2 channels, `tasks_per_channel` tasks on each.
    Grpc(Vec<Channel>),
    /// One pool of HTTP/1.1 keep-alive connections for every task.
    Rest(RestClient),
}

impl Connections {
    async fn open(kind: Kind, bank: &Bank, plan: &Plan) -> anyhow::Result<Self> {
        let channel_count = plan.concurrency.div_ceil(plan.tasks_per_channel.max(1));
        let mut channels = Vec::with_capacity(channel_count);
        match kind.route() {
            Route::GatewayRest => return Ok(Connections::Rest(RestClient::new(bank.gateway))),
            Route::Direct => {
                for _ in 0..channel_count {
                    channels.push(connect(&bank.tls, &bank.transfer_url).await?);
                }
            }
            Route::GatewayGrpc => {
                let url = format!("http://{}", bank.gateway);
                for _ in 0..channel_count {
                    let channel = Endpoint::from_shared(url.clone())?
                        .tcp_nodelay(true)
                        .connect()
                        .await
                        .with_context(|| format!("connecting to the gateway at {url}"))?;
                    channels.push(channel);
                }
            }
        }
        Ok(Connections::Grpc(channels))
    }

    fn client(&self, task: usize, plan: &Plan) -> Client {
        match self {
            Connections::Grpc(channels) => Client::Grpc(TransferServiceClient::new(
                channels[(task / plan.tasks_per_channel.max(1)).min(channels.len() - 1)].clone(),
            )),
            Connections::Rest(rest) => Client::Rest(rest.clone()),
        }
    }

    /// TCP connections opened by the REST pool so far.
    fn opened(&self) -> Option<u64> {
        match self {
            Connections::Grpc(_) => None,
            Connections::Rest(rest) => Some(rest.connections_opened()),
        }
    }

    /// Connections in use: channels, or what the pool opened.
    fn count(&self) -> usize {
        match self {
            Connections::Grpc(channels) => channels.len(),
            Connections::Rest(rest) => usize::try_from(rest.connections_opened()).unwrap_or(usize::MAX),
        }
    }
}

/// One task's way to the transfer service.
enum Client {
    Grpc(TransferServiceClient<Channel>),
    Rest(RestClient),
}

/// What one task does: its client and the accounts it may use.
struct Worker {
    kind: Kind,
    client: Client,
    bank: Arc<Bank>,
    /// Indexes into `bank.accounts` this task draws accounts from.
    accounts: Arc<[usize]>,
    batch_size: usize,
}

/// OK: (transfers posted, per-item error buckets); or the call's error
/// bucket (a gRPC code name, `http-<status>:<code>`, `client:<what>`).
type CallResult = Result<(u64, Vec<String>), String>;

/// Two distinct accounts of `accounts`, and an amount.
fn pick_pair(accounts: &[usize]) -> (usize, usize, i64) {
    let from = accounts.choose(&mut rand::rng()).copied().unwrap_or(0);
    pick_pair_from(accounts, from)
}

/// A destination of `accounts` other than `from`, and an amount.
fn pick_pair_from(accounts: &[usize], from: usize) -> (usize, usize, i64) {
    let mut rng = rand::rng();
    let mut to = from;
    while to == from && accounts.len() > 1 {
        to = accounts.choose(&mut rng).copied().unwrap_or(0);
    }
    (from, to, rng.random_range(1..=AMOUNT_MAX_MINOR))
}

fn grpc_error(status: &tonic::Status) -> String {
    code_name(status.code()).to_owned()
}

impl Worker {
    async fn call(&mut self) -> CallResult {
        let accounts = &self.bank.accounts;
        let client = match &mut self.client {
            Client::Grpc(client) => client,
            Client::Rest(rest) => {
                return match self.kind.base() {
                    Kind::Transfer => {
                        let (from, to, amount) = pick_pair(&self.accounts);
                        let answer = rest
                            .create_transfer(
                                &accounts[from].account_id,
                                &accounts[to].account_id,
                                amount,
                                &accounts[from].authorization_header,
                                CALL_TIMEOUT,
                            )
                            .await?;
                        Ok(match answer {
                            Ok(()) => (1, Vec::new()),
                            Err(status) => (0, vec![status]),
                        })
                    }
                    _ => {
                        let (of, _, _) = pick_pair(&self.accounts);
                        rest.get_balance(
                            &accounts[of].account_id,
                            &accounts[of].authorization_header,
                            CALL_TIMEOUT,
                        )
                        .await
                        .map(|()| (0, Vec::new()))
                    }
                };
            }
        };
        match self.kind.base() {
            Kind::Transfer => {
                let (from, to, amount) = pick_pair(&self.accounts);
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
                client
                    .create_transfer(request)
                    .await
                    .map(|_| (1, Vec::new()))
                    .map_err(|s| grpc_error(&s))
            }
            Kind::Deposit => {
                let (to, _, amount) = pick_pair(&self.accounts);
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
                client
                    .deposit(request)
                    .await
                    .map(|_| (1, Vec::new()))
                    .map_err(|s| grpc_error(&s))
            }
            Kind::Batch => {
                let (from, _, _) = pick_pair(&self.accounts);
                let items = (0..self.batch_size)
                    .map(|_| {
                        let (_, to, amount) = pick_pair_from(&self.accounts, from);
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
                let response = client
                    .create_transfers(request)
                    .await
                    .map_err(|s| grpc_error(&s))?
                    .into_inner();
                let item_errors = response
                    .results
                    .iter()
                    .filter_map(|r| r.error.as_ref())
                    .map(|e| format!("item:{}", code_name(Code::from_i32(e.code))))
                    .collect();
                Ok((u64::try_from(response.posted_count).unwrap_or(0), item_errors))
            }
            _ => {
                let (of, _, _) = pick_pair(&self.accounts);
                let request = authorized(
                    transfer::GetBalanceRequest {
                        account_id: accounts[of].account_id.clone(),
                    },
                    &accounts[of].authorization,
                    CALL_TIMEOUT,
                );
                client
                    .get_balance(request)
                    .await
                    .map(|_| (0, Vec::new()))
                    .map_err(|s| grpc_error(&s))
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
                    for bucket in item_errors {
                        *stats.errors.entry(bucket).or_default() += 1;
                    }
                }
                Err(bucket) => {
                    stats.failed_calls += 1;
                    *stats.errors.entry(bucket).or_default() += 1;
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
    connections: &Connections,
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
            client: connections.client(task, plan),
            bank: bank.clone(),
            accounts,
            batch_size: plan.batch_size,
        };
        tasks.spawn(worker.run(deadline, issued.clone(), max_calls));
    }
    let mut merged = TaskStats::default();
    while let Some(joined) = tasks.join_next().await {
        merged.merge(joined.context("load task panicked")?);
    }
    Ok(Phase {
        stats: merged,
        elapsed: started.elapsed(),
    })
}

/// The order in which a group of `n` scenarios is measured: each once when
/// alone, else twice (half the duration each) as 0 1 .. n-1 n-1 .. 1 0, so
/// every scenario's mean position in the run is the same.
fn slice_order(n: usize) -> Vec<usize> {
    if n <= 1 {
        (0..n).collect()
    } else {
        (0..n).chain((0..n).rev()).collect()
    }
}

/// The measured slices of one scenario, summed.
#[derive(Default)]
struct Measured {
    stats: TaskStats,
    elapsed: Duration,
    cpu: Usage,
    busy_before: f64,
    new_connections: Option<u64>,
}

/// Measures `kinds` (with their `connections`) in [`slice_order`], each
/// slice `slice` long after a wait for an idle mesh and a quiet machine and
/// one unmeasured call per task (a REST pool reopens what the gateway closed
/// while it sat idle), metered.
async fn measure(
    kinds: &[Kind],
    connections: &[Connections],
    bank: &Arc<Bank>,
    plan: &Plan,
    slice: Duration,
    slice_calls: u64,
    db_tag: &str,
) -> anyhow::Result<Vec<Measured>> {
    let mut measured: Vec<Measured> = kinds.iter().map(|_| Measured::default()).collect();
    for index in slice_order(kinds.len()) {
        let kind = kinds[index];
        let settled = settle(db_tag).await;
        if settled > SETTLED_CORES_MAX {
            eprintln!(
                "bank-load:   the mesh still used {settled:.2} cores after {SETTLE_WAIT_MAX:?}; measuring anyway"
            );
        }
        let busy_before = wait_for_quiet(plan.quiet_wait, QUIET_BUSY_CORES_MAX).await;
        if kinds.len() > 1 {
            eprintln!(
                "bank-load:   {} at concurrency {} for {:.1} s",
                kind.name(),
                plan.concurrency,
                slice.as_secs_f64()
            );
        }
        let tasks = u64::try_from(plan.concurrency).unwrap_or(u64::MAX);
        phase(kind, bank, &connections[index], plan, PRIME_TIMEOUT, tasks).await?;
        let opened_before = connections[index].opened();
        let meter = Meter::start(vec![db_tag.to_owned()]);
        let done = phase(kind, bank, &connections[index], plan, slice, slice_calls).await?;
        let cpu = meter.finish();
        let sum = &mut measured[index];
        sum.stats.merge(done.stats);
        sum.elapsed += done.elapsed;
        sum.cpu.add(&cpu);
        sum.busy_before = sum.busy_before.max(busy_before);
        if let (Some(before), Some(after)) = (opened_before, connections[index].opened()) {
            *sum.new_connections.get_or_insert(0) += after.saturating_sub(before);
        }
    }
    Ok(measured)
}

/// Runs the group `kinds` (the same RPC by different routes, or one
/// scenario): connects, warms each up, then measures them in
/// [`slice_order`] at the plan's concurrency, and, for a group, once more
/// at `light_concurrency` for latency without queueing. `db_tag` names our
/// databases (their prefix). One result per kind, in the order of `kinds`.
pub async fn run(kinds: &[Kind], bank: &Arc<Bank>, plan: &Plan, db_tag: &str) -> anyhow::Result<Vec<ScenarioResult>> {
    if bank.accounts.len() < 2 {
        anyhow::bail!("at least two accounts are needed");
    }
    let mut connections = Vec::with_capacity(kinds.len());
    for &kind in kinds {
        connections.push(Connections::open(kind, bank, plan).await?);
    }
    if !plan.warmup.is_zero() {
        for (&kind, connections) in kinds.iter().zip(&connections) {
            phase(kind, bank, connections, plan, plan.warmup, (plan.max_calls / 10).max(1)).await?;
        }
    }
    let halves: u32 = if kinds.len() > 1 { 2 } else { 1 };
    let slice = plan.duration / halves;
    let slice_calls = (plan.max_calls / u64::from(halves)).max(1);
    let loaded = measure(kinds, &connections, bank, plan, slice, slice_calls, db_tag).await?;
    let light_plan = Plan {
        concurrency: plan.light_concurrency,
        ..*plan
    };
    let mut light = if kinds.len() > 1 && light_plan.concurrency > 0 {
        measure(kinds, &connections, bank, &light_plan, slice, slice_calls, db_tag)
            .await?
            .into_iter()
            .map(|mut sum| {
                Some(LightLoad {
                    concurrency: light_plan.concurrency,
                    ok_calls: sum.stats.ok_calls,
                    failed_calls: sum.stats.failed_calls,
                    latency: Latency::of(&mut sum.stats.latencies_micros),
                })
            })
            .collect()
    } else {
        vec![None; kinds.len()]
    };
    Ok(kinds
        .iter()
        .zip(connections)
        .zip(loaded)
        .zip(light.drain(..))
        .map(|(((&kind, connections), mut sum), light)| ScenarioResult {
            name: kind.name(),
            concurrency: plan.concurrency,
            channels: connections.count(),
            ok_calls: sum.stats.ok_calls,
            failed_calls: sum.stats.failed_calls,
            posted: sum.stats.posted,
            elapsed: sum.elapsed,
            latency: Latency::of(&mut sum.stats.latencies_micros),
            errors: sum.stats.errors,
            cpu: sum.cpu,
            busy_before: sum.busy_before,
            slices: if halves > 1 { 2 } else { 1 },
            new_connections: sum.new_connections,
            light,
        })
        .collect())
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

    #[test]
    fn groups_are_measured_symmetrically() {
        assert_eq!(slice_order(1), vec![0]);
        assert_eq!(slice_order(2), vec![0, 1, 1, 0]);
        assert_eq!(slice_order(3), vec![0, 1, 2, 2, 1, 0]);
    }

    #[test]
    fn gateway_scenarios_make_the_direct_calls() {
        for kind in [Kind::RestBalance, Kind::GwGrpcBalance] {
            assert_eq!((kind.base(), kind.rpc()), (Kind::Balance, "GetBalance"));
        }
        for kind in [Kind::RestTransfer, Kind::GwGrpcTransfer] {
            assert_eq!((kind.base(), kind.rpc()), (Kind::Transfer, "CreateTransfer"));
        }
        assert_eq!(Kind::RestTransfer.route(), Route::GatewayRest);
        assert_eq!(Kind::Transfer.route(), Route::Direct);
    }
}
