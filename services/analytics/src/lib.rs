//! The Analytics service: consumes the domain events of every service
//! (bank.events.v1) from Redis Streams through a consumer group,
//! deduplicates them by event id and acknowledges only after its own
//! commit; keeps aggregates in its own schema; raises fraud flags on posted
//! transfers; and serves admins summaries, flags and a live event feed, and
//! members their own spending. Its contract is `proto/bank/analytics/v1`.
//!
//! Reporting is eventually consistent: an event counts once the producer's
//! outbox relay published it and the consumer applied it; responses say
//! how fresh they are (`data_as_of`).

mod api;
mod config;
mod consumer;
mod events;
mod feed;
mod fraud;
mod schema;
mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bank_config::MeshConfig;
use bank_proto::bank::analytics::v1::analytics_service_server::AnalyticsServiceServer;
use bank_server::{MESSAGE_SIZE_MAX_BYTES, ServiceDeps};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

pub use api::{
    FLAG_FILTER_VALUES_MAX, LIST_FLAGS_PAGE_SIZE_DEFAULT, LIST_FLAGS_PAGE_SIZE_MAX, REVIEW_NOTE_MAX_CHARS,
    SPENDING_MONTHS_MAX, SUMMARY_DAYS_MAX, TOP_USERS_DEFAULT, TOP_USERS_MAX, WATCH_BUFFER_MESSAGES,
    WATCH_EVENT_TYPES_MAX, WATCH_HEARTBEAT_SECS, WATCH_REPLAY_MAX, WATCHERS_MAX,
};
pub use config::{
    CLAIM_MIN_IDLE_FLOOR_MS, CONSUMER_BATCH_MAX, CONSUMER_BLOCK_MAX_MS, ConsumerConfig, FraudConfig,
    VELOCITY_WINDOW_MAX_SECS,
};
pub use consumer::{
    APPLY_ATTEMPTS_MAX, Batch, CLAIMED_METRIC, ConsumeError, Consumer, EVENT_PAYLOAD_RETENTION_DAYS, EVENTS_METRIC,
    RETRY_MAX_MS, RETRY_MIN_MS,
};
pub use events::PRODUCERS;
pub use feed::{FEED_CAPACITY_EVENTS, Feed};
pub use fraud::NEW_ACCOUNT_AGE_HOURS;

use crate::api::{AnalyticsApi, AppState};
use crate::store::Store;

/// The analytics schema's migrations, applied at start-up.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
/// The workload name: SPIFFE id `spiffe://bank.local/analytics`.
pub const WORKLOAD: &str = "analytics";
/// How long the consumer may take to finish its batch after shutdown
/// (beyond that it is aborted; its entries stay pending and are claimed).
pub const CONSUMER_STOP_GRACE_MS: u64 = 5_000;

/// The Analytics service's configuration.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    /// What every service has. `peers.auth` (token keys) is required;
    /// `redis.key_prefix` names the event streams (`<prefix>:events:*`).
    #[serde(flatten)]
    pub mesh: MeshConfig,
    /// How the event streams are consumed.
    #[serde(default)]
    pub consumer: ConsumerConfig,
    /// Thresholds of the fraud rules.
    #[serde(default)]
    pub fraud: FraudConfig,
}

/// Runs the Analytics service on `listener` until `shutdown` resolves: the
/// RPCs, and the event consumer in the background.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.consumer.validate()?;
    config.fraud.validate()?;
    let deps = ServiceDeps::start(&config.mesh, MIGRATIONS).await?;
    let (verifier, _revocation_sync) = bank_server::remote_verifier(&config.mesh, &deps.tls, deps.redis.clone())?;
    // The admin port and readiness (database and Redis) come with it.
    let server = deps.server(WORKLOAD, &config.mesh).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    // Replicas share the work: each watcher gets every replica's events.
    let feed = Feed::shared(&config.mesh.redis, deps.redis.clone(), stop_rx.clone())?;
    let consumer = Consumer::new(
        deps.pool.clone(),
        &config.mesh.redis,
        &config.consumer,
        &config.fraud,
        feed.clone(),
    )?;
    let mut consumer_task = tokio::spawn(consumer.run(stop_rx.clone()));

    let state = Arc::new(AppState {
        store: Store::new(deps.pool.clone()),
        feed,
        stop: stop_rx,
        watchers: Arc::new(Semaphore::new(WATCHERS_MAX)),
    });
    let service = AnalyticsServiceServer::new(AnalyticsApi::new(state))
        .max_decoding_message_size(MESSAGE_SIZE_MAX_BYTES)
        .max_encoding_message_size(MESSAGE_SIZE_MAX_BYTES);
    // Live streams must end before the server can drain: tell them (and the
    // consumer) as soon as shutdown starts.
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let served = server
        .add_service(service)
        .serve(listener, &deps.tls, verifier, shutdown)
        .await;
    // When serving failed early the stop sender is gone, which stops the
    // consumer too; either way, let it finish its batch.
    match tokio::time::timeout(Duration::from_millis(CONSUMER_STOP_GRACE_MS), &mut consumer_task).await {
        Ok(_) => {}
        Err(_) => {
            tracing::warn!("event consumer did not stop in time; aborted (its entries stay pending)");
            consumer_task.abort();
        }
    }
    served
}
