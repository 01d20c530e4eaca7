//! The Transfer service: the bank's double-entry ledger. Ledger accounts
//! with posted and pending columns, immutable transfers, two-phase
//! transfers with expiry, batches with linked chains, idempotency by
//! request id, declined attempts kept for audit, and an integrity check
//! that recomputes every balance from the transfers.

mod api;
mod convert;
mod domain;
/// The domain parsers, for the fuzz targets in tests/fuzz only (the
/// `fuzzing` feature); not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::domain::*;
}
mod events;
mod facts;
mod integrity;
mod internal;
mod ledger;
mod schema;
mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bank_config::MeshConfig;
use bank_mtls::AllowList;
use bank_proto::bank::transfer::v1::transfer_internal_service_server::TransferInternalServiceServer;
use bank_proto::bank::transfer::v1::transfer_service_server::TransferServiceServer;
use bank_server::{BackgroundTask, MESSAGE_SIZE_MAX_BYTES, ServiceDeps};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use serde::Deserialize;
use tokio::net::TcpListener;

pub use api::{LIST_TRANSFERS_PAGE_SIZE_MAX, PENDING_TIMEOUT_MAX_SECS, TRANSFER_BATCH_MAX};
pub use domain::AMOUNT_MAX_MINOR;
pub use internal::INTERNAL_LEGS_MAX;
pub use store::SYSTEM_SLOTS;

use crate::api::{LedgerState, TransferApi};
use crate::domain::Currency;
use crate::facts::Directory;
use crate::internal::TransferInternalApi;
use crate::store::Store;

/// The ledger schema's migrations, applied at start-up.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
/// The workload name: SPIFFE id `spiffe://bank.local/transfer`.
pub const WORKLOAD: &str = "transfer";
/// Workloads allowed on `TransferInternalService` (each RPC narrows it).
pub const INTERNAL_CALLERS: [&str; 2] = ["account", "finance"];
/// Reservations released per expiry-sweep transaction.
const EXPIRY_BATCH_MAX: i64 = 500;

/// Ledger settings.
#[derive(Clone, Debug, Deserialize)]
pub struct LedgerConfig {
    /// ISO-4217 codes the bank keeps accounts in; each gets its system
    /// accounts at start-up.
    #[serde(default = "default_currencies")]
    pub currencies: Vec<String>,
    /// How often expired reservations are released, in milliseconds.
    #[serde(default = "default_expiry_sweep_ms")]
    pub expiry_sweep_interval_ms: u64,
}

fn default_currencies() -> Vec<String> {
    vec!["USD".to_owned(), "EUR".to_owned(), "GBP".to_owned()]
}

fn default_expiry_sweep_ms() -> u64 {
    1_000
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            currencies: default_currencies(),
            expiry_sweep_interval_ms: default_expiry_sweep_ms(),
        }
    }
}

/// The Transfer service's configuration.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    /// What every service has (`peers.account` is required).
    #[serde(flatten)]
    pub mesh: MeshConfig,
    /// Ledger settings.
    #[serde(default)]
    pub ledger: LedgerConfig,
}

/// Runs the Transfer service on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let currencies: Arc<[Currency]> = config
        .ledger
        .currencies
        .iter()
        .map(|c| Currency::parse(c).map_err(|e| anyhow::anyhow!("ledger.currencies: {c}: {e}")))
        .collect::<Result<Vec<_>, _>>()?
        .into();
    let account_url = config
        .mesh
        .peers
        .account
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("peers.account (the Account service URL) is required"))?;
    let deps = ServiceDeps::start(&config.mesh, MIGRATIONS).await?;
    let (verifier, _revocation_sync) = bank_server::remote_verifier(&config.mesh, &deps.tls, deps.redis.clone())?;
    let store = Store::new(deps.pool.clone());
    store.ensure_system_accounts(&currencies).await?;
    let directory = Directory::new(deps.tls.endpoint(account_url)?.connect_lazy());
    let state = Arc::new(LedgerState { store, directory });
    // Publishes the ledger's events; a Redis outage only delays them.
    let _relay = events::OUTBOX.spawn_relay(deps.pool.clone(), deps.redis.clone(), &config.mesh.redis.key_prefix);

    let sweeper = state.clone();
    let interval = Duration::from_millis(config.ledger.expiry_sweep_interval_ms.max(10));
    let _expiry = BackgroundTask::new(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            loop {
                match sweeper.store.expire_overdue(EXPIRY_BATCH_MAX).await {
                    Ok(0) => break,
                    Ok(n) => {
                        tracing::info!(expired = n, "released expired reservations");
                        if n < usize::try_from(EXPIRY_BATCH_MAX).unwrap_or(usize::MAX) {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "expiry sweep failed; will retry");
                        break;
                    }
                }
            }
        }
    }));

    let public = TransferServiceServer::new(TransferApi::new(state.clone()))
        .max_decoding_message_size(MESSAGE_SIZE_MAX_BYTES)
        .max_encoding_message_size(MESSAGE_SIZE_MAX_BYTES);
    let internal = TransferInternalServiceServer::with_interceptor(
        TransferInternalApi::new(state, currencies),
        AllowList::new("bank.transfer.v1.TransferInternalService", &INTERNAL_CALLERS),
    );
    deps.server(WORKLOAD, &config.mesh)
        .await?
        .add_service(public)
        .add_service(internal)
        .serve(listener, &deps.tls, verifier, shutdown)
        .await
}
