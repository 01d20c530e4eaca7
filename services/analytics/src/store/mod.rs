//! The analytics schema: what the consumer writes (one transaction per
//! batch: event ids for deduplication, aggregates, fraud flags) and what
//! the handlers read.

mod apply;
mod queries;

use bank_db::{Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub use apply::{Incoming, Rejected};
pub use queries::{Cursor, FlagFilter, FlagRow, Review, ReviewError, SpendingRow, SummaryRange, saturate};

/// Starts of PostgreSQL messages that diesel does not classify but that a
/// retry can cure: two replicas' batches deadlocking on the same aggregate
/// rows, an administrator or failover ending the session.
const TRANSIENT_MESSAGES: [&str; 4] = [
    "deadlock detected",
    "terminating connection",
    "canceling statement due to",
    "the database system is",
];

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time: retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database: {0}")]
    Query(#[from] DieselError),
}

impl StoreError {
    /// Whether retrying the same work later may succeed without anything
    /// changing in the data (the database was unreachable, a connection
    /// broke, a serialization conflict). Any other failure is suspected to
    /// be caused by the data itself.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Query(DieselError::DatabaseError(kind, info)) => {
                matches!(
                    kind,
                    DatabaseErrorKind::ClosedConnection
                        | DatabaseErrorKind::UnableToSendCommand
                        | DatabaseErrorKind::SerializationFailure
                        | DatabaseErrorKind::ReadOnlyTransaction
                ) || TRANSIENT_MESSAGES.iter().any(|m| info.message().starts_with(m))
            }
            Self::Query(DieselError::BrokenTransactionManager | DieselError::AlreadyInTransaction) => true,
            Self::Query(_) => false,
        }
    }
}

/// The analytics database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// The store over `pool` (migrated with [`crate::MIGRATIONS`]).
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}
