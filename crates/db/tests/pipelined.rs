//! `Pipelined` transactions against a real PostgreSQL: what commits is
//! kept, what rolls back or is abandoned is not, and a connection never
//! goes back to the pool inside a transaction.
#![allow(clippy::unwrap_used, reason = "a test: a failure is a panic")]

use bank_db::Pipelined;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures::future::join;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn insert(conn: &AsyncPgConnection, value: i64) -> diesel::QueryResult<()> {
    diesel::sql_query("INSERT INTO t (v) VALUES ($1)")
        .bind::<BigInt, _>(value)
        .execute(&mut &*conn)
        .await
        .map(drop)
}

async fn rows(pool: &bank_db::Pool) -> i64 {
    let mut conn = pool.get().await.unwrap();
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM t")
        .get_result(&mut conn)
        .await
        .unwrap();
    count.n
}

/// Whether the pool hands out a connection that is inside a transaction
/// block (`SAVEPOINT` is refused outside one).
async fn pooled_connection_in_transaction(pool: &bank_db::Pool) -> bool {
    let mut conn = pool.get().await.unwrap();
    conn.batch_execute("SAVEPOINT probe").await.is_ok()
}

#[tokio::test]
async fn commit_keeps_rollback_and_abandon_discard_and_the_pool_stays_clean() {
    let db = bank_testkit::TestDatabase::create("pipelined").await;
    // One connection: whatever a transaction leaves behind, the next
    // checkout gets it.
    let pool = bank_db::pool(db.url(), 1).unwrap();
    {
        let mut conn = pool.get().await.unwrap();
        conn.batch_execute("CREATE TABLE t (v bigint PRIMARY KEY)")
            .await
            .unwrap();
    }

    // BEGIN pipelined with the first statement, then COMMIT.
    let tx = Pipelined::new(pool.get().await.unwrap());
    let (begun, inserted) = join(Pipelined::begin(tx.conn()), insert(tx.conn(), 1)).await;
    begun.unwrap();
    inserted.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rows(&pool).await, 1);
    assert!(!pooled_connection_in_transaction(&pool).await);

    // The first statement was inside the transaction: a rollback undoes it.
    let tx = Pipelined::new(pool.get().await.unwrap());
    let (begun, inserted) = join(Pipelined::begin(tx.conn()), insert(tx.conn(), 2)).await;
    begun.unwrap();
    inserted.unwrap();
    insert(tx.conn(), 3).await.unwrap();
    tx.rollback().await;
    assert_eq!(rows(&pool).await, 1);
    assert!(!pooled_connection_in_transaction(&pool).await);

    // A failed statement, then rollback: the connection is usable again.
    let tx = Pipelined::new(pool.get().await.unwrap());
    let (begun, duplicate) = join(Pipelined::begin(tx.conn()), insert(tx.conn(), 1)).await;
    begun.unwrap();
    assert!(bank_db::is_unique_violation(&duplicate.unwrap_err()));
    tx.rollback().await;
    assert_eq!(rows(&pool).await, 1);

    // Abandoned (dropped) mid-transaction, as a cancelled request would:
    // the connection is closed, not pooled, and nothing is kept.
    let tx = Pipelined::new(pool.get().await.unwrap());
    let (begun, inserted) = join(Pipelined::begin(tx.conn()), insert(tx.conn(), 4)).await;
    begun.unwrap();
    inserted.unwrap();
    drop(tx);
    assert_eq!(rows(&pool).await, 1);
    assert!(!pooled_connection_in_transaction(&pool).await);

    // Cancelled while a statement is in flight.
    let tx = Pipelined::new(pool.get().await.unwrap());
    let slow = async {
        let (begun, inserted) = join(Pipelined::begin(tx.conn()), insert(tx.conn(), 5)).await;
        begun.unwrap();
        inserted.unwrap();
        diesel::sql_query("SELECT pg_sleep(5)")
            .execute(&mut tx.conn())
            .await
            .map(drop)
    };
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), slow)
            .await
            .is_err()
    );
    drop(tx);
    assert_eq!(rows(&pool).await, 1);
    assert!(!pooled_connection_in_transaction(&pool).await);
    drop(pool);
    drop(db);
}
