//! The event consumer: reads `<prefix>:events:<producer>` for the four
//! producers through one consumer group, applies each batch in one
//! PostgreSQL transaction (event ids deduplicate), and acknowledges only
//! after that commit.
//!
//! - **At least once in, exactly once applied.** An entry is acknowledged
//!   after its transaction committed. A crash before the acknowledgement
//!   leaves it pending; after `claim_min_idle_ms` another consumer (or this
//!   one, restarted under a new name) claims it with XAUTOCLAIM and applies
//!   it again, which the event id turns into a no-op.
//! - **Redis restarts.** Redis keeps nothing on disk here, so the streams
//!   and the group vanish; reads answer NOGROUP and the group is created
//!   again, from the start of the stream, once the producer's relay has
//!   republished its retained window (duplicates are skipped by id). The
//!   group is created without MKSTREAM on purpose: an empty stream created
//!   by us would make the relay believe nothing was lost and skip the
//!   republication.
//! - **Outages wait.** Redis or PostgreSQL down: the round is retried with
//!   backoff (logged once, and once more on recovery); a batch that failed
//!   to commit is retried as it is, never skipped.
//! - **One bad entry cannot stall a stream.** An entry that is not an
//!   Event, or that fails to apply on its own [`APPLY_ATTEMPTS_MAX`] times,
//!   is set aside in `analytics.rejected_entries` (kept, not lost) and
//!   acknowledged.
//! - **Bounded.** At most `batch_size` new and `batch_size` claimed entries
//!   per stream per round.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bank_config::RedisConfig;
use bank_proto::bank::events::v1::Event;
use chrono::Utc;
use prost::Message as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamInfoConsumersReply, StreamReadReply};
use tokio::sync::watch;

use crate::config::{ConsumerConfig, FraudConfig};
use crate::events::{self, PRODUCERS};
use crate::feed::{Feed, FeedEvent};
use crate::fraud::FraudRules;
use crate::store::{Incoming, Rejected, Store, StoreError};

/// First pause after a failed round; it doubles up to [`RETRY_MAX_MS`].
pub const RETRY_MIN_MS: u64 = 100;
/// Longest pause between retries while Redis or PostgreSQL is down.
pub const RETRY_MAX_MS: u64 = 5_000;
/// Times one entry is applied alone before it is set aside.
pub const APPLY_ATTEMPTS_MAX: u32 = 3;
/// Pause between those attempts.
const APPLY_RETRY_MS: u64 = 200;
/// Connect timeout of the consumer's Redis connection; its response
/// timeout is the read's BLOCK plus this.
const REDIS_TIMEOUT_MS: u64 = bank_server::REDIS_TIMEOUT_MS;
/// Longest pause between two scans for entries to claim.
const CLAIM_INTERVAL_MAX_MS: u64 = 10_000;
/// How often housekeeping runs (payload pruning, dead consumer names).
const MAINTENANCE_INTERVAL_SECS: u64 = 60;
/// Pruning statements per housekeeping round (each drops up to a batch).
const PRUNE_ROUNDS_MAX: usize = 20;
/// Encoded events are kept this long for WatchEvents' replay.
pub const EVENT_PAYLOAD_RETENTION_DAYS: i64 = 30;
/// A consumer name with nothing pending, idle this long, is removed from
/// the group (each process joins under a new name).
const IDLE_CONSUMER_DELETE_MS: usize = 3_600_000;
/// Last id of a full XAUTOCLAIM scan.
const SCAN_DONE: &str = "0-0";
/// Counter of consumed stream entries by producer and outcome (`applied`,
/// `duplicate`, `rejected`).
pub const EVENTS_METRIC: &str = "bank_analytics_events_total";
/// Counter of entries claimed from silent consumers, by producer.
pub const CLAIMED_METRIC: &str = "bank_analytics_claimed_total";

fn count_events(producer: &'static str, outcome: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!(EVENTS_METRIC, "producer" => producer, "outcome" => outcome)
            .increment(u64::try_from(n).unwrap_or(u64::MAX));
    }
}

/// Why a round failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Redis failed or is unreachable.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// PostgreSQL failed or is unreachable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConsumeError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Redis(_) => true,
            Self::Store(e) => e.is_transient(),
        }
    }
}

#[derive(Debug)]
struct Stream {
    key: String,
    producer: &'static str,
    /// The group exists on this stream (as far as we know).
    ready: bool,
    /// Where the next XAUTOCLAIM scan continues.
    claim_from: String,
}

#[derive(Clone, Debug)]
enum Content {
    Event { incoming: Box<Incoming>, event: Box<Event> },
    Rejected(Rejected),
}

/// One stream entry of a batch.
#[derive(Clone, Debug)]
struct Entry {
    stream: usize,
    key: String,
    id: String,
    content: Content,
}

impl Entry {
    fn into_rejected(self, reason: String) -> Rejected {
        match self.content {
            Content::Rejected(rejected) => rejected,
            Content::Event { incoming, .. } => Rejected {
                stream: self.key,
                entry_id: self.id,
                reason,
                payload: incoming.payload,
            },
        }
    }
}

/// The entries of one round, claimed ones first, grouped by stream in
/// [`PRODUCERS`] order.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    entries: Vec<Entry>,
}

impl Batch {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the round read nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The stream entry ids, as `<stream key> <entry id>`.
    pub fn entry_ids(&self) -> Vec<String> {
        self.entries.iter().map(|e| format!("{} {}", e.key, e.id)).collect()
    }
}

/// Logs a failing dependency once, its recovery once, and paces retries.
#[derive(Debug)]
struct Health {
    failing: bool,
    backoff_ms: u64,
}

impl Health {
    fn new() -> Self {
        Self {
            failing: false,
            backoff_ms: RETRY_MIN_MS,
        }
    }

    fn ok(&mut self) {
        if self.failing {
            tracing::info!("event consumer recovered");
        }
        self.failing = false;
        self.backoff_ms = RETRY_MIN_MS;
    }

    fn failed(&mut self, doing: &str, error: &ConsumeError) -> Duration {
        if matches!(error, ConsumeError::Redis(_)) {
            bank_server::metrics::redis_error("analytics", "event consumer");
        }
        if self.failing {
            tracing::debug!(doing, %error, "event consumer still failing");
        } else {
            tracing::warn!(doing, %error, "event consumer failing; events wait in the streams, retrying");
            self.failing = true;
        }
        let pause = Duration::from_millis(self.backoff_ms);
        self.backoff_ms = (self.backoff_ms * 2).min(RETRY_MAX_MS);
        pause
    }
}

fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Sleeps `pause` unless asked to stop first; `false` when stopping.
async fn pause(stop: &mut watch::Receiver<bool>, pause: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => !stopping(stop),
        _ = stop.changed() => !stopping(stop),
    }
}

fn is_nogroup(error: &redis::RedisError) -> bool {
    error.code() == Some("NOGROUP")
}

/// The consumer of one process. [`Consumer::run`] is the loop; `poll`,
/// `commit` and `ack` are its steps, public so that tests can stop between
/// them (a crash between commit and acknowledgement).
pub struct Consumer {
    store: Store,
    redis: ConnectionManager,
    group: String,
    name: String,
    batch_size: usize,
    block_ms: u64,
    claim_min_idle_ms: u64,
    streams: Vec<Stream>,
    next_claim: Instant,
    rules: FraudRules,
    feed: Feed,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("group", &self.group)
            .field("name", &self.name)
            .field("streams", &self.streams)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// A consumer of the streams under `redis.key_prefix`, applying to the
    /// database of `pool` and publishing what it applied to `feed`. Redis
    /// is connected lazily: the consumer starts while Redis is down.
    pub fn new(
        pool: bank_db::Pool,
        redis: &RedisConfig,
        config: &ConsumerConfig,
        fraud: &FraudConfig,
        feed: Feed,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let rules = FraudRules::from_config(fraud)?;
        let client = bank_server::redis_client(redis)?;
        // A blocking read holds its connection for up to `block_ms`: this
        // connection is the consumer's alone, with a timeout to match.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(REDIS_TIMEOUT_MS)))
            .set_response_timeout(Some(Duration::from_millis(config.block_ms + REDIS_TIMEOUT_MS)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(RETRY_MAX_MS));
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config)?;
        let name = if config.name.is_empty() {
            format!("analytics-{}", uuid::Uuid::new_v4().simple())
        } else {
            config.name.clone()
        };
        let streams = PRODUCERS
            .iter()
            .map(|producer| Stream {
                key: format!("{}:events:{producer}", redis.key_prefix),
                producer,
                ready: false,
                claim_from: SCAN_DONE.to_owned(),
            })
            .collect();
        Ok(Self {
            store: Store::new(pool),
            redis: connection,
            group: config.group.clone(),
            name,
            batch_size: config.batch_size,
            block_ms: config.block_ms,
            claim_min_idle_ms: config.claim_min_idle_ms,
            streams,
            next_claim: Instant::now(),
            rules,
            feed,
        })
    }

    /// This consumer's name in the group.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn claim_interval(&self) -> Duration {
        Duration::from_millis((self.claim_min_idle_ms / 2).clamp(1, CLAIM_INTERVAL_MAX_MS))
    }

    /// Creates the group on every stream that exists and lacks it. A
    /// stream that does not exist yet waits for its producer's first event.
    async fn ensure_groups(&mut self) -> Result<(), ConsumeError> {
        for stream in self.streams.iter_mut().filter(|s| !s.ready) {
            let exists: bool = redis::cmd("EXISTS")
                .arg(&stream.key)
                .query_async(&mut self.redis)
                .await?;
            if !exists {
                continue;
            }
            let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&stream.key)
                .arg(&self.group)
                .arg("0")
                .query_async(&mut self.redis)
                .await;
            match created {
                Ok(()) => {
                    tracing::info!(stream = %stream.key, group = %self.group, "consumer group created");
                }
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(e.into()),
            }
            stream.ready = true;
            stream.claim_from = SCAN_DONE.to_owned();
        }
        Ok(())
    }

    fn entry(&self, stream: usize, raw: &StreamId) -> Entry {
        let key = self.streams.get(stream).map(|s| s.key.clone()).unwrap_or_default();
        let producer = self.streams.get(stream).map_or("", |s| s.producer);
        let rejected = |reason: String, payload: Vec<u8>| {
            Content::Rejected(Rejected {
                stream: key.clone(),
                entry_id: raw.id.clone(),
                reason,
                payload,
            })
        };
        let content = match raw.get::<Vec<u8>>("event") {
            None => rejected("the entry has no `event` field".to_owned(), Vec::new()),
            Some(bytes) => match Event::decode(bytes.as_slice()) {
                Err(e) => rejected(format!("not a bank.events.v1.Event: {e}"), bytes),
                Ok(event) => match events::envelope(&event, Utc::now()) {
                    Err(problem) => rejected(problem, bytes),
                    Ok(mut envelope) => {
                        // The relay sets both; fill them for hand-made entries.
                        if envelope.sequence <= 0 {
                            envelope.sequence = raw.id.split('-').next().and_then(|s| s.parse().ok()).unwrap_or(0);
                        }
                        if envelope.producer.is_empty() {
                            producer.clone_into(&mut envelope.producer);
                        }
                        let fact = events::fact(&event);
                        Content::Event {
                            incoming: Box::new(Incoming {
                                envelope,
                                fact,
                                payload: bytes,
                            }),
                            event: Box::new(event),
                        }
                    }
                },
            },
        };
        Entry {
            stream,
            key,
            id: raw.id.clone(),
            content,
        }
    }

    /// Claims entries pending with a silent consumer for at least
    /// `claim_min_idle_ms`.
    async fn claim(&mut self, batch: &mut Batch) -> Result<(), ConsumeError> {
        let mut more = false;
        for index in 0..self.streams.len() {
            let Some(stream) = self.streams.get(index).filter(|s| s.ready) else {
                continue;
            };
            let reply: redis::RedisResult<StreamAutoClaimReply> = redis::cmd("XAUTOCLAIM")
                .arg(&stream.key)
                .arg(&self.group)
                .arg(&self.name)
                .arg(self.claim_min_idle_ms)
                .arg(&stream.claim_from)
                .arg("COUNT")
                .arg(self.batch_size)
                .query_async(&mut self.redis)
                .await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) if is_nogroup(&e) => {
                    if let Some(stream) = self.streams.get_mut(index) {
                        stream.ready = false;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if !reply.claimed.is_empty() {
                metrics::counter!(CLAIMED_METRIC, "producer" => stream.producer)
                    .increment(u64::try_from(reply.claimed.len()).unwrap_or(u64::MAX));
                tracing::info!(
                    stream = %stream.key,
                    entries = reply.claimed.len(),
                    "claimed entries another consumer left pending"
                );
            }
            for raw in &reply.claimed {
                batch.entries.push(self.entry(index, raw));
            }
            more |= reply.next_stream_id != SCAN_DONE;
            if let Some(stream) = self.streams.get_mut(index) {
                stream.claim_from = reply.next_stream_id;
            }
        }
        self.next_claim = if more {
            Instant::now()
        } else {
            Instant::now() + self.claim_interval()
        };
        Ok(())
    }

    /// One round's entries: pending ones claimed from silent consumers
    /// (when a scan is due), then new ones, waiting up to `block_ms` for
    /// them when there is nothing else to do.
    pub async fn poll(&mut self) -> Result<Batch, ConsumeError> {
        self.ensure_groups().await?;
        let mut batch = Batch::default();
        if Instant::now() >= self.next_claim {
            self.claim(&mut batch).await?;
        }
        let ready: Vec<usize> = (0..self.streams.len())
            .filter(|&i| self.streams.get(i).is_some_and(|s| s.ready))
            .collect();
        if ready.is_empty() {
            if batch.is_empty() {
                // Nothing published yet: look again after a read's worth of time.
                tokio::time::sleep(Duration::from_millis(self.block_ms)).await;
            }
            return Ok(batch);
        }
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(&self.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(self.batch_size);
        if batch.is_empty() {
            read.arg("BLOCK").arg(self.block_ms);
        }
        read.arg("STREAMS");
        for &i in &ready {
            if let Some(stream) = self.streams.get(i) {
                read.arg(&stream.key);
            }
        }
        for _ in &ready {
            read.arg(">");
        }
        let reply: Option<StreamReadReply> = match read.query_async(&mut self.redis).await {
            Ok(reply) => reply,
            Err(e) if is_nogroup(&e) => {
                // Redis lost its data (or someone deleted a stream): make
                // the groups again before the next read.
                tracing::warn!("consumer group missing; recreating it once the streams exist again");
                for stream in &mut self.streams {
                    stream.ready = false;
                }
                return Ok(batch);
            }
            Err(e) => return Err(e.into()),
        };
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            let Some(index) = self.streams.iter().position(|s| s.key == key.key) else {
                continue;
            };
            for raw in &key.ids {
                batch.entries.push(self.entry(index, raw));
            }
        }
        // Claimed entries are older than new ones of the same stream; a
        // stable sort keeps that and applies accounts before transfers.
        batch.entries.sort_by_key(|e| e.stream);
        Ok(batch)
    }

    /// Applies `batch` in one transaction and publishes the events seen for
    /// the first time to the feed. Returns how many those were.
    pub async fn commit(&mut self, batch: &Batch) -> Result<usize, ConsumeError> {
        let mut seen = HashSet::new();
        let mut incoming: Vec<Incoming> = Vec::with_capacity(batch.len());
        let mut decoded: Vec<(&Event, usize)> = Vec::with_capacity(batch.len());
        let mut rejected: Vec<(Rejected, usize)> = Vec::new();
        let mut entries_per_stream = vec![0_usize; self.streams.len()];
        for entry in &batch.entries {
            match &entry.content {
                Content::Event { incoming: one, event } => {
                    if let Some(n) = entries_per_stream.get_mut(entry.stream) {
                        *n += 1;
                    }
                    if seen.insert(one.envelope.event_id) {
                        incoming.push((**one).clone());
                        decoded.push((event, entry.stream));
                    }
                }
                Content::Rejected(r) => {
                    tracing::error!(stream = %r.stream, entry_id = %r.entry_id, reason = %r.reason, "stream entry rejected; kept in analytics.rejected_entries");
                    rejected.push((r.clone(), entry.stream));
                }
            }
        }
        let set_aside: Vec<Rejected> = rejected.iter().map(|(r, _)| r.clone()).collect();
        let applied = self.store.apply_batch(&incoming, &set_aside, &self.rules).await?;
        let mut applied_per_stream = vec![0_usize; self.streams.len()];
        for a in &applied {
            if let Some(n) = decoded.get(a.index).and_then(|(_, s)| applied_per_stream.get_mut(*s)) {
                *n += 1;
            }
        }
        for (index, stream) in self.streams.iter().enumerate() {
            let total = entries_per_stream.get(index).copied().unwrap_or(0);
            let new = applied_per_stream.get(index).copied().unwrap_or(0);
            count_events(stream.producer, "applied", new);
            count_events(stream.producer, "duplicate", total.saturating_sub(new));
            count_events(
                stream.producer,
                "rejected",
                rejected.iter().filter(|(_, s)| *s == index).count(),
            );
        }
        self.feed.publish(applied.iter().filter_map(|a| {
            decoded.get(a.index).map(|(event, _)| FeedEvent {
                position: a.position,
                event: (*event).clone(),
            })
        }));
        Ok(applied.len())
    }

    /// Acknowledges every entry of `batch` (after [`Consumer::commit`]).
    pub async fn ack(&mut self, batch: &Batch) -> Result<(), ConsumeError> {
        for index in 0..self.streams.len() {
            let ids: Vec<&str> = batch
                .entries
                .iter()
                .filter(|e| e.stream == index)
                .map(|e| e.id.as_str())
                .collect();
            let Some(stream) = self.streams.get(index).filter(|_| !ids.is_empty()) else {
                continue;
            };
            let acked: redis::RedisResult<i64> = redis::cmd("XACK")
                .arg(&stream.key)
                .arg(&self.group)
                .arg(&ids)
                .query_async(&mut self.redis)
                .await;
            match acked {
                Ok(_) => {}
                // The group vanished with Redis's data; so did the entries.
                Err(e) if is_nogroup(&e) => {
                    if let Some(stream) = self.streams.get_mut(index) {
                        stream.ready = false;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Commits `batch`; when that fails for a reason other than an outage,
    /// commits its entries one by one and sets aside those that keep
    /// failing, so that one bad entry cannot stall its stream.
    async fn commit_isolating(&mut self, batch: &Batch) -> Result<(), ConsumeError> {
        match self.commit(batch).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, entries = batch.len(), "a batch failed to apply; applying its entries one by one");
            }
        }
        for entry in &batch.entries {
            let single = Batch {
                entries: vec![entry.clone()],
            };
            let mut attempts = 0;
            loop {
                match self.commit(&single).await {
                    Ok(_) => break,
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        attempts += 1;
                        if attempts < APPLY_ATTEMPTS_MAX {
                            tokio::time::sleep(Duration::from_millis(APPLY_RETRY_MS)).await;
                            continue;
                        }
                        tracing::error!(stream = %entry.key, entry_id = %entry.id, error = %e, "entry cannot be applied; set aside in analytics.rejected_entries");
                        let rejected = entry.clone().into_rejected(format!("cannot be applied: {e}"));
                        self.store.apply_batch(&[], &[rejected], &self.rules).await?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Housekeeping: drop old payloads, forget consumer names long gone.
    async fn maintain(&mut self) {
        let mut pruned = 0;
        for _ in 0..PRUNE_ROUNDS_MAX {
            match self
                .store
                .prune_payloads(chrono::Duration::days(EVENT_PAYLOAD_RETENTION_DAYS))
                .await
            {
                Ok(0) => break,
                Ok(n) => pruned += n,
                Err(error) => {
                    tracing::debug!(%error, "pruning event payloads failed");
                    break;
                }
            }
        }
        if pruned > 0 {
            tracing::info!(pruned, "dropped payloads of old events");
        }
        for index in 0..self.streams.len() {
            let Some(stream) = self.streams.get(index).filter(|s| s.ready) else {
                continue;
            };
            let key = stream.key.clone();
            let info: redis::RedisResult<StreamInfoConsumersReply> = redis::cmd("XINFO")
                .arg("CONSUMERS")
                .arg(&key)
                .arg(&self.group)
                .query_async(&mut self.redis)
                .await;
            let Ok(info) = info else { continue };
            for gone in info
                .consumers
                .iter()
                .filter(|c| c.name != self.name && c.pending == 0 && c.idle > IDLE_CONSUMER_DELETE_MS)
            {
                let deleted: redis::RedisResult<i64> = redis::cmd("XGROUP")
                    .arg("DELCONSUMER")
                    .arg(&key)
                    .arg(&self.group)
                    .arg(&gone.name)
                    .query_async(&mut self.redis)
                    .await;
                if deleted.is_ok() {
                    tracing::info!(stream = %key, consumer = %gone.name, "removed an idle consumer name");
                }
            }
        }
    }

    /// Consumes until `stop` turns true (or its sender is dropped): the
    /// current batch is finished (or left pending, to be claimed) first.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        tracing::info!(consumer = %self.name, group = %self.group, "event consumer started");
        let mut health = Health::new();
        let maintenance_every = Duration::from_secs(MAINTENANCE_INTERVAL_SECS);
        let mut next_maintenance = Instant::now() + maintenance_every;
        'rounds: while !stopping(&stop) {
            let batch = match self.poll().await {
                Ok(batch) => batch,
                Err(error) => {
                    let wait = health.failed("reading the event streams", &error);
                    if !pause(&mut stop, wait).await {
                        break;
                    }
                    continue;
                }
            };
            if !batch.is_empty() {
                loop {
                    match self.commit_isolating(&batch).await {
                        Ok(()) => break,
                        Err(error) => {
                            let wait = health.failed("applying events", &error);
                            if !pause(&mut stop, wait).await {
                                // Not committed: the entries stay pending and are claimed later.
                                break 'rounds;
                            }
                        }
                    }
                }
                if let Err(error) = self.ack(&batch).await {
                    tracing::warn!(%error, "acknowledging failed; the entries will be claimed again and skipped as duplicates");
                }
            }
            health.ok();
            if Instant::now() >= next_maintenance {
                self.maintain().await;
                next_maintenance = Instant::now() + maintenance_every;
            }
        }
        tracing::info!(consumer = %self.name, "event consumer stopped");
    }
}
