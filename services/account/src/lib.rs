//! The Account service: who owns what. Accounts with check-digit numbers
//! (their balances live in the ledger, which this service asks to create a
//! ledger account for each), account holder profiles, debit cards (PAN
//! encrypted at rest, CVV derived and never stored), card purchases through
//! the ledger, and monthly statements read from the ledger.

mod api;
mod directory;
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
mod ledger;
mod lookup_limit;
mod schema;
mod store;
mod vault;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bank_config::MeshConfig;
use bank_mtls::AllowList;
use bank_proto::bank::account::v1::account_internal_service_server::AccountInternalServiceServer;
use bank_proto::bank::account::v1::account_service_server::AccountServiceServer;
use bank_server::{BackgroundTask, MESSAGE_SIZE_MAX_BYTES, ServiceDeps};
use chrono::Utc;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use serde::Deserialize;
use tokio::net::TcpListener;

pub use api::{
    CARD_INVALID_ATTEMPTS_MAX, CARD_INVALID_WINDOW_SECS, EXPORT_PAGE_SIZE, LIST_ACCOUNTS_PAGE_SIZE_MAX,
    LIST_ALL_ACCOUNTS_PAGE_SIZE_MAX, LIST_CARDS_PAGE_SIZE_MAX, STATEMENT_ENTRIES_MAX,
};
pub use domain::{AccountNumber, Currency, SystemKind};
pub use lookup_limit::LookupLimitConfig;
pub use store::ACCOUNTS_PER_MEMBER_MAX;
pub use vault::CardsConfig;

use crate::api::{AccountApi, AccountInternalApi, AppState};
use crate::directory::Directory;
use crate::ledger::Ledger;
use crate::lookup_limit::LookupLimiter;
use crate::store::Store;
use crate::vault::CardVault;

/// The account schema's migrations, applied at start-up.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
/// The workload name: SPIFFE id `spiffe://bank.local/account`.
pub const WORKLOAD: &str = "account";
/// Workloads allowed to call `AccountInternalService` (per-method rules
/// narrow it further: only transfer checks access and resolves numbers).
pub const INTERNAL_CALLERS: [&str; 3] = ["transfer", "finance", "analytics"];
/// How often accounts whose ledger account was never confirmed are retried.
const HEAL_INTERVAL_SECS: u64 = 30;
/// How old such an account must be before the healer touches it (younger
/// ones are still being opened by their request).
const HEAL_MIN_AGE_SECS: i64 = 30;
/// Accounts healed per round.
const HEAL_BATCH_MAX: i64 = 100;

/// The Account service's configuration.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    /// What every service has. `peers.auth` (token keys and emails) and
    /// `peers.transfer` (the ledger) are required.
    #[serde(flatten)]
    pub mesh: MeshConfig,
    /// Card keys and issuer settings.
    pub cards: CardsConfig,
    /// Currencies members may open accounts in; a system account of every
    /// kind is kept for each. The ledger must be configured for them too.
    #[serde(default = "default_currencies")]
    pub currencies: Vec<String>,
    /// LookupAccount's rate limit.
    #[serde(default)]
    pub lookup_limit: LookupLimitConfig,
}

/// The currencies of a default configuration.
pub fn default_currencies() -> Vec<String> {
    vec!["USD".to_owned(), "EUR".to_owned()]
}

fn currencies(config: &Config) -> anyhow::Result<Vec<Currency>> {
    anyhow::ensure!(!config.currencies.is_empty(), "currencies must not be empty");
    let mut parsed: Vec<Currency> = Vec::new();
    for code in &config.currencies {
        let currency = Currency::parse(code).map_err(|e| anyhow::anyhow!("currencies: {code:?} {e}"))?;
        if !parsed.contains(&currency) {
            parsed.push(currency);
        }
    }
    Ok(parsed)
}

/// Finishes accounts whose ledger account was never confirmed (a crash or
/// a ledger outage between the two steps of OpenAccount, with no retry).
async fn heal(state: &AppState) {
    let before = Utc::now() - chrono::Duration::seconds(HEAL_MIN_AGE_SECS);
    let accounts = match state.store.unready_accounts(before, HEAL_BATCH_MAX).await {
        Ok(accounts) => accounts,
        Err(error) => {
            tracing::warn!(%error, "healer: cannot list unfinished accounts");
            return;
        }
    };
    for account in accounts {
        match state
            .ledger
            .create_customer_account(account.id, &account.currency, None)
            .await
        {
            Ok(_) => match state.store.mark_ready(account.id, None).await {
                Ok(_) => tracing::info!(account_id = %account.id, "healer: ledger account confirmed"),
                Err(error) => tracing::warn!(account_id = %account.id, %error, "healer: cannot mark account ready"),
            },
            Err(status) => {
                tracing::warn!(account_id = %account.id, code = ?status.code(), "healer: ledger account not created yet");
            }
        }
    }
}

/// Runs the Account service on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let vault = CardVault::from_config(&config.cards)?;
    let currencies = currencies(&config)?;
    let transfer_url = config
        .mesh
        .peers
        .transfer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("peers.transfer (the Transfer service URL) is required"))?;
    let auth_url = config
        .mesh
        .peers
        .auth
        .clone()
        .ok_or_else(|| anyhow::anyhow!("peers.auth (the Auth service URL) is required"))?;

    let deps = ServiceDeps::start(&config.mesh, MIGRATIONS).await?;
    // Readiness (database, Redis) and the admin port, before the fields move.
    let server = deps.server(WORKLOAD, &config.mesh).await?;
    let ServiceDeps { tls, pool, redis } = deps;
    // Publishes the outbox to Redis for as long as the server runs.
    let _relay = events::OUTBOX.spawn_relay(pool.clone(), redis.clone(), &config.mesh.redis.key_prefix);
    let (verifier, _revocation_sync) = bank_server::remote_verifier(&config.mesh, &tls, redis.clone())?;
    let store = Store::new(pool);
    for currency in &currencies {
        for kind in SystemKind::ALL {
            store
                .ensure_system_account(kind.account_id(currency), kind.code(), currency)
                .await?;
        }
    }
    let state = Arc::new(AppState {
        store,
        vault,
        ledger: Ledger::new(tls.endpoint(&transfer_url)?.connect_lazy()),
        directory: Directory::new(tls.endpoint(&auth_url)?.connect_lazy()),
        lookups: LookupLimiter::new(redis, &config.mesh.redis.key_prefix, config.lookup_limit.clone()),
        currencies,
    });
    let healer = state.clone();
    let _healer = BackgroundTask::new(tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(HEAL_INTERVAL_SECS));
        loop {
            interval.tick().await;
            heal(&healer).await;
        }
    }));

    let public = AccountServiceServer::new(AccountApi::new(state.clone()))
        .max_decoding_message_size(MESSAGE_SIZE_MAX_BYTES)
        .max_encoding_message_size(MESSAGE_SIZE_MAX_BYTES);
    let internal = AccountInternalServiceServer::with_interceptor(
        AccountInternalApi::new(state),
        AllowList::new("bank.account.v1.AccountInternalService", &INTERNAL_CALLERS),
    );
    server
        .add_service(public)
        .add_service(internal)
        .serve(listener, &tls, verifier, shutdown)
        .await
}
