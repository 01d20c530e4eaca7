//! PostgreSQL access for bank services: a diesel-async connection pool with
//! bounded waits, creation of a service's database when it is missing, and
//! embedded migrations applied at start-up under an advisory lock (so two
//! replicas starting together do not race).
//!
//! Each service owns one database (`bank_auth`, `bank_account`, ...) and one
//! schema inside it named after the service; no service reads another's.

mod pipelined;
mod tls;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
pub use diesel_migrations::EmbeddedMigrations;
use diesel_migrations::MigrationHarness;
pub use pipelined::Pipelined;

/// The pool type every service uses.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
/// A connection checked out of a [`Pool`].
pub type PooledConnection = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// How long a request waits for a free pooled connection before it fails
/// with UNAVAILABLE instead of queueing without bound.
pub const POOL_WAIT_TIMEOUT_MS: u64 = 2_000;
/// How long opening one PostgreSQL connection may take.
pub const CONNECT_TIMEOUT_MS: u64 = 3_000;
/// Largest pool a service may configure; PostgreSQL on two cores slows down
/// past ~32 busy connections in total.
pub const POOL_SIZE_MAX: usize = 64;

/// A database operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is not a `postgres://` URL with a database name.
    #[error("invalid database url: {0}")]
    Url(&'static str),
    /// Building the pool failed.
    #[error("database pool: {0}")]
    Pool(String),
    /// Connecting or a query failed.
    #[error("database: {0}")]
    Query(String),
    /// Applying migrations failed.
    #[error("migrations: {0}")]
    Migrations(String),
    /// The URL's TLS settings (`sslmode`, `sslrootcert`, `sslcert`,
    /// `sslkey`) are wrong or name unreadable files.
    #[error("database tls: {0}")]
    Tls(String),
}

/// Splits `postgres://.../name?params` into the server part and the
/// database name.
fn split_database(url: &str) -> Result<(&str, &str, &str), DbError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(DbError::Url("must start with postgres://"));
    }
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let slash = base.rfind('/').ok_or(DbError::Url("missing database name"))?;
    let name = &base[slash + 1..];
    if name.is_empty() || base[..slash].ends_with('/') {
        return Err(DbError::Url("missing database name"));
    }
    Ok((&base[..slash], name, query))
}

/// The database name of `url`.
pub fn database_name(url: &str) -> Result<&str, DbError> {
    split_database(url).map(|(_, name, _)| name)
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> Result<String, DbError> {
    let (server, _, query) = split_database(url)?;
    Ok(if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    })
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Opens one connection to `url`, with TLS as its `sslmode` says (see
/// the `tls` module).
pub async fn establish(url: &str) -> Result<AsyncPgConnection, DbError> {
    connect(&tls::Connector::new(url)?).await
}

async fn connect(connector: &tls::Connector) -> Result<AsyncPgConnection, DbError> {
    tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), connector.connect())
        .await
        .map_err(|_| DbError::Query("connect timed out".into()))?
        .map_err(|e| DbError::Query(e.to_string()))
}

/// Creates the database named in `url` when it does not exist, connecting
/// to the server's `postgres` maintenance database to do so. Names are
/// limited to `[a-z0-9_]` so they need no quoting.
pub async fn ensure_database(url: &str) -> Result<(), DbError> {
    let name = database_name(url)?;
    if !valid_identifier(name) {
        return Err(DbError::Url("database name must match [a-z0-9_]{1,63}"));
    }
    let mut admin = establish(&with_database(url, "postgres")?).await?;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[allow(dead_code, reason = "only the row's presence matters")]
        one: i32,
    }
    let found: Vec<Found> = diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .load(&mut admin)
        .await
        .map_err(|e| DbError::Query(e.to_string()))?;
    if found.is_empty() {
        match admin.batch_execute(&format!("CREATE DATABASE {name}")).await {
            Ok(()) => tracing::info!(database = name, "created database"),
            // Another process created it between our check and our create.
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(DbError::Query(e.to_string())),
        }
    }
    Ok(())
}

/// Drops the database named in `url` (test clean-up), disconnecting its
/// sessions first.
pub async fn drop_database(url: &str) -> Result<(), DbError> {
    let name = database_name(url)?;
    if !valid_identifier(name) {
        return Err(DbError::Url("database name must match [a-z0-9_]{1,63}"));
    }
    let mut admin = establish(&with_database(url, "postgres")?).await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .map_err(|e| DbError::Query(e.to_string()))
}

/// Applies the pending `migrations` to the database at `url` and returns how
/// many ran. Runs on a blocking thread (diesel's migration harness is
/// synchronous) and holds a PostgreSQL advisory lock meanwhile.
pub async fn run_migrations(url: &str, migrations: EmbeddedMigrations) -> Result<usize, DbError> {
    let conn = establish(url).await?;
    tokio::task::spawn_blocking(move || {
        // The wrapper runs the async connection from this blocking thread.
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        // Arbitrary constant shared by every bank service: one migrator at a time per database.
        SimpleConnection::batch_execute(&mut conn, "SELECT pg_advisory_lock(7426110901)")
            .map_err(|e| DbError::Migrations(e.to_string()))?;
        let applied = conn
            .run_pending_migrations(migrations)
            .map(|versions| versions.len())
            .map_err(|e| DbError::Migrations(e.to_string()));
        let unlocked = SimpleConnection::batch_execute(&mut conn, "SELECT pg_advisory_unlock(7426110901)");
        let applied = applied?;
        unlocked.map_err(|e| DbError::Migrations(e.to_string()))?;
        Ok(applied)
    })
    .await
    .map_err(|e| DbError::Migrations(e.to_string()))?
}

/// A pool of at most `size` connections to `url`. Connections open lazily;
/// a checkout waits at most [`POOL_WAIT_TIMEOUT_MS`].
pub fn pool(url: &str, size: usize) -> Result<Pool, DbError> {
    let size = size.clamp(1, POOL_SIZE_MAX);
    // No test query on every check-out: it costs a round trip and a
    // transaction per request (measured: a third of a balance read's
    // database work). A connection found broken is still discarded, and a
    // query on a connection that died meanwhile fails with an error that
    // [`is_connection_error`] recognises, so callers answer UNAVAILABLE and
    // clients retry.
    let connector = tls::Connector::new(url)?;
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_| {
        let connector = connector.clone();
        Box::pin(async move { connector.connect().await })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_millis(POOL_WAIT_TIMEOUT_MS)))
        .create_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)))
        .recycle_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)))
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Creates the database if needed, applies migrations and returns a pool:
/// what every service does at start-up.
pub async fn prepare(url: &str, size: usize, migrations: EmbeddedMigrations) -> Result<Pool, DbError> {
    ensure_database(url).await?;
    let applied = run_migrations(url, migrations).await?;
    if applied > 0 {
        tracing::info!(applied, database = database_name(url)?, "applied migrations");
    }
    let pool = pool(url, size)?;
    // Fail start-up now, not at the first request, when the server is unreachable.
    let mut conn = pool.get().await.map_err(|e| DbError::Pool(e.to_string()))?;
    conn.batch_execute("SELECT 1")
        .await
        .map_err(|e| DbError::Query(e.to_string()))?;
    Ok(pool)
}

/// Whether `error` means the connection (or the server) went away rather
/// than the query being wrong: safe to retry on a fresh connection.
pub fn is_connection_error(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | DieselError::BrokenTransactionManager => {
            true
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.contains("connection closed")
                || message.contains("terminating connection")
                || message.contains("the database system is")
                || message.contains("broken pipe")
        }
        other => {
            let text = other.to_string();
            text.contains("connection closed") || text.contains("Connection reset")
        }
    }
}

/// Whether `error` is a unique-constraint violation.
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_database_urls() {
        assert_eq!(
            database_name("postgres://root@127.0.0.1:5432/bank_auth").ok(),
            Some("bank_auth")
        );
        assert_eq!(
            with_database("postgres://root@127.0.0.1:5432/bank_auth?sslmode=disable", "postgres").ok(),
            Some("postgres://root@127.0.0.1:5432/postgres?sslmode=disable".to_owned())
        );
        assert!(database_name("postgres://root@127.0.0.1:5432/").is_err());
        assert!(database_name("mysql://x/y").is_err());
    }
}
