//! A transaction that pays no round trip of its own for `BEGIN`.
//!
//! diesel-async's `transaction()` sends `BEGIN` and waits for it before the
//! first statement. On a hot path (the ledger's postings) that wait is a
//! quarter of the round trips. [`Pipelined`] sends `BEGIN` in the same
//! flight as the first statements instead: [`Pipelined::begin`] is joined
//! with them and polled first, and a simple-protocol `BEGIN` goes out on
//! its first poll, before any of theirs (even one that must be prepared
//! first). `COMMIT` and `ROLLBACK` are sent only after every statement's
//! answer has arrived.
//!
//! Safety net: a `Pipelined` dropped before [`Pipelined::commit`] or
//! [`Pipelined::rollback`] finished (an early return, a cancelled request)
//! takes its connection out of the pool and closes it, so PostgreSQL rolls
//! the transaction back and no other request ever inherits it.

use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

use crate::PooledConnection;

/// An open (or about to be opened) transaction on a pooled connection.
pub struct Pipelined {
    conn: Option<PooledConnection>,
}

impl std::fmt::Debug for Pipelined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipelined").field("open", &self.conn.is_some()).finish()
    }
}

impl Pipelined {
    /// A transaction on `conn`; nothing is sent yet.
    pub fn new(conn: PooledConnection) -> Self {
        Self { conn: Some(conn) }
    }

    /// The connection, for statements (and pipelines) inside the
    /// transaction.
    ///
    /// # Panics
    /// Never: the connection is only taken by `commit`, `rollback` and
    /// drop, which consume `self`.
    pub fn conn(&self) -> &AsyncPgConnection {
        self.conn
            .as_deref()
            .expect("a Pipelined holds its connection until consumed")
    }

    /// `BEGIN` on `conn`. Join it with the transaction's first statements,
    /// in first position (`futures::join!` and friends poll in order).
    pub async fn begin(conn: &AsyncPgConnection) -> QueryResult<()> {
        let mut conn = conn;
        conn.batch_execute("BEGIN").await
    }

    async fn finish(mut self, sql: &str) -> QueryResult<()> {
        let result = {
            let mut conn = self.conn();
            conn.batch_execute(sql).await
        };
        if result.is_ok() {
            // Back to the pool, outside any transaction.
            drop(self.conn.take());
        }
        // On failure `self` drops here and closes the connection.
        result
    }

    /// `COMMIT`. If it fails, the connection is closed (its state is
    /// unknown) and nothing was committed unless PostgreSQL says so.
    pub async fn commit(self) -> QueryResult<()> {
        self.finish("COMMIT").await
    }

    /// `ROLLBACK` (also after a failed statement). A connection that cannot
    /// roll back is closed, which rolls back too.
    pub async fn rollback(self) {
        if let Err(error) = self.finish("ROLLBACK").await {
            tracing::debug!(%error, "rollback failed; connection closed");
        }
    }
}

impl Drop for Pipelined {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Out of the pool for good; dropping it closes the socket.
            drop(deadpool::managed::Object::take(conn));
        }
    }
}
