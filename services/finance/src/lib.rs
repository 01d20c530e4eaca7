//! The Finance service: the financing options catalogue, loan applications
//! and their decisions (a state machine), loans with amortization schedules
//! in integer minor units, and repayments. Money moves only through the
//! ledger's internal API, idempotently; approvals and repayments are
//! recorded as in flight before the ledger is asked, so a crash anywhere
//! heals on retry or by the background healer without paying twice. Domain
//! events go to `finance.outbox` in the transaction of each change.

mod api;
mod domain;
/// The domain parsers, for the fuzz targets in tests/fuzz only (the
/// `fuzzing` feature); not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::domain::*;
}
mod errors;
mod events;
mod idempotency;
mod peers;
mod rows;
mod schedule;
mod schema;
mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bank_config::MeshConfig;
use bank_proto::bank::finance::v1::finance_service_server::FinanceServiceServer;
use bank_server::{BackgroundTask, MESSAGE_SIZE_MAX_BYTES, ServiceDeps};
use chrono::Utc;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use serde::Deserialize;
use tokio::net::TcpListener;

pub use api::{
    LIST_ALL_APPLICATIONS_PAGE_SIZE_MAX, LIST_LOANS_PAGE_SIZE_MAX, LIST_MY_APPLICATIONS_PAGE_SIZE_MAX,
    LIST_OPTIONS_PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT,
};
pub use events::OUTBOX;
pub use peers::{DISBURSEMENT_DESCRIPTION, INTEREST_DESCRIPTION, REPAYMENT_DESCRIPTION};
pub use schedule::{RATE_DENOMINATOR, Schedule, ScheduleError, level_payment, schedule};
pub use store::OPEN_APPLICATIONS_MAX;

use crate::api::{AppState, FinanceApi};
use crate::peers::{Accounts, Ledger};
use crate::store::Store;

/// The finance schema's migrations, applied at start-up.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
/// The workload name: SPIFFE id `spiffe://bank.local/finance`.
pub const WORKLOAD: &str = "finance";
/// Approvals and repayments finished per healer round, each.
const HEAL_BATCH_MAX: i64 = 100;

/// Settings of the finance service.
#[derive(Clone, Debug, Deserialize)]
pub struct FinanceConfig {
    /// How often the healer looks for approvals and repayments left in
    /// flight (a crash, or a ledger outage with no retry), in milliseconds.
    #[serde(default = "default_heal_interval_ms")]
    pub heal_interval_ms: u64,
    /// How long one must have been in flight before the healer finishes it
    /// (younger ones are still being finished by their request), in
    /// milliseconds.
    #[serde(default = "default_heal_min_age_ms")]
    pub heal_min_age_ms: u64,
}

fn default_heal_interval_ms() -> u64 {
    10_000
}

fn default_heal_min_age_ms() -> u64 {
    30_000
}

impl Default for FinanceConfig {
    fn default() -> Self {
        Self {
            heal_interval_ms: default_heal_interval_ms(),
            heal_min_age_ms: default_heal_min_age_ms(),
        }
    }
}

/// The Finance service's configuration.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    /// What every service has. `peers.auth` (token keys), `peers.account`
    /// (account owners) and `peers.transfer` (the ledger) are required.
    #[serde(flatten)]
    pub mesh: MeshConfig,
    /// Finance settings.
    #[serde(default)]
    pub finance: FinanceConfig,
}

/// Finishes approvals and repayments left in flight.
async fn heal(state: &AppState, min_age: Duration) {
    let before = Utc::now() - chrono::Duration::from_std(min_age).unwrap_or_else(|_| chrono::Duration::seconds(30));
    match state.store.stale_approvals(before, HEAL_BATCH_MAX).await {
        Ok(ids) => {
            for id in ids {
                match state.finish_approval(id, None).await {
                    Ok(end) => tracing::info!(application_id = %id, ?end, "healer: approval finished"),
                    Err(status) => {
                        tracing::warn!(application_id = %id, code = ?status.code(), "healer: approval still in flight");
                    }
                }
            }
        }
        Err(error) => tracing::warn!(%error, "healer: cannot list approvals in flight"),
    }
    match state.store.stale_repayments(before, HEAL_BATCH_MAX).await {
        Ok(rows) => {
            for row in rows {
                match state.finish_repayment(&row, None).await {
                    Ok(()) => tracing::info!(repayment_id = %row.id, "healer: repayment finished"),
                    Err(status) => {
                        tracing::warn!(repayment_id = %row.id, code = ?status.code(), "healer: repayment still in flight");
                    }
                }
            }
        }
        Err(error) => tracing::warn!(%error, "healer: cannot list repayments in flight"),
    }
}

fn peer(url: Option<&String>, name: &str) -> anyhow::Result<String> {
    url.cloned()
        .ok_or_else(|| anyhow::anyhow!("peers.{name} (the {name} service URL) is required"))
}

/// Runs the Finance service on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let transfer_url = peer(config.mesh.peers.transfer.as_ref(), "transfer")?;
    let account_url = peer(config.mesh.peers.account.as_ref(), "account")?;
    let deps = ServiceDeps::start(&config.mesh, MIGRATIONS).await?;
    // Readiness (database, Redis) and the admin port, before the fields move.
    let server = deps.server(WORKLOAD, &config.mesh).await?;
    let ServiceDeps { tls, pool, redis } = deps;
    let (verifier, _revocation_sync) = bank_server::remote_verifier(&config.mesh, &tls, redis.clone())?;
    // Publishes finance's events; a Redis outage only delays them.
    let _relay = OUTBOX.spawn_relay(pool.clone(), redis, &config.mesh.redis.key_prefix);
    let state = Arc::new(AppState {
        store: Store::new(pool),
        ledger: Ledger::new(tls.endpoint(&transfer_url)?.connect_lazy()),
        accounts: Accounts::new(tls.endpoint(&account_url)?.connect_lazy()),
    });
    let healer = state.clone();
    let interval = Duration::from_millis(config.finance.heal_interval_ms.max(10));
    let min_age = Duration::from_millis(config.finance.heal_min_age_ms);
    let _healer = BackgroundTask::new(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            heal(&healer, min_age).await;
        }
    }));

    let public = FinanceServiceServer::new(FinanceApi::new(state))
        .max_decoding_message_size(MESSAGE_SIZE_MAX_BYTES)
        .max_encoding_message_size(MESSAGE_SIZE_MAX_BYTES);
    server
        .add_service(public)
        .serve(listener, &tls, verifier, shutdown)
        .await
}
