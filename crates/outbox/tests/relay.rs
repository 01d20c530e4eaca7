//! The relay against real PostgreSQL and Redis: order, no loss, no
//! duplicates across a restart, rolled-back changes publish nothing, and a
//! stream lost with Redis's data is published again.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::Duration;

use bank_outbox::{Outbox, create_table_sql, event};
use bank_proto::bank::events::v1::{Event, EventType, UserRegistered, event::Payload};
use bank_testkit::TestDatabase;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use prost::Message as _;
use redis::AsyncCommands as _;

const OUTBOX: Outbox = Outbox::new("demo.outbox", "demo");

fn registered(i: usize) -> Event {
    event(
        "demo",
        EventType::UserRegistered,
        "user",
        uuid::Uuid::new_v4(),
        None,
        Payload::UserRegistered(UserRegistered {
            user_id: format!("user-{i}"),
        }),
    )
}

async fn setup() -> (TestDatabase, bank_db::Pool, redis::aio::ConnectionManager, String) {
    let db = TestDatabase::create("outbox").await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute(&format!("CREATE SCHEMA demo; {}", create_table_sql("demo")))
        .await
        .unwrap();
    let pool = bank_db::pool(db.url(), 4).unwrap();
    let prefix = bank_testkit::redis_prefix();
    let redis = redis::Client::open(bank_testkit::redis_url()).unwrap();
    let manager = redis::aio::ConnectionManager::new(redis).await.unwrap();
    (db, pool, manager, prefix)
}

async fn append(pool: &bank_db::Pool, events: &[Event], commit: bool) {
    let mut conn = pool.get().await.unwrap();
    let result = conn
        .transaction::<(), diesel::result::Error, _>(async |conn| {
            OUTBOX.append(conn, events).await?;
            if commit {
                Ok(())
            } else {
                Err(diesel::result::Error::RollbackTransaction)
            }
        })
        .await;
    assert_eq!(result.is_ok(), commit);
}

async fn published(redis: &mut redis::aio::ConnectionManager, key: &str, expected: usize) -> Vec<Event> {
    for _ in 0..100 {
        let len: usize = redis.xlen(key).await.unwrap();
        if len >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let entries: redis::streams::StreamRangeReply = redis.xrange_all(key).await.unwrap();
    entries
        .ids
        .iter()
        .map(|entry| {
            let bytes: Vec<u8> = entry.get("event").unwrap();
            Event::decode(bytes.as_slice()).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn events_are_published_in_order_once_even_across_restarts() {
    let (_db, pool, mut redis, prefix) = setup().await;
    let key = OUTBOX.stream_key(&prefix);
    let first: Vec<Event> = (0..30).map(registered).collect();
    append(&pool, &first, true).await;
    // A rolled-back change leaves no event behind.
    append(&pool, &[registered(999)], false).await;

    let relay = OUTBOX.spawn_relay(pool.clone(), redis.clone(), &prefix);
    let got = published(&mut redis, &key, 30).await;
    assert_eq!(got.len(), 30);
    let ids: Vec<&str> = got.iter().map(|e| e.event_id.as_str()).collect();
    let sent: Vec<&str> = first.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, sent, "in commit order");
    assert!(got.windows(2).all(|w| w[0].sequence < w[1].sequence));
    drop(relay);

    // Simulate a crash after publishing but before marking: unmark a few.
    let mut conn = pool.get().await.unwrap();
    conn.batch_execute("UPDATE demo.outbox SET published_at = NULL WHERE sequence > 25")
        .await
        .unwrap();
    drop(conn);
    let more: Vec<Event> = (30..40).map(registered).collect();
    append(&pool, &more, true).await;
    let _relay = OUTBOX.spawn_relay(pool.clone(), redis.clone(), &prefix);
    let got = published(&mut redis, &key, 40).await;
    assert_eq!(got.len(), 40, "no duplicates, nothing lost");
    let unique: std::collections::HashSet<&str> = got.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(unique.len(), 40);
}

#[tokio::test]
async fn a_lost_stream_is_published_again() {
    let (_db, pool, mut redis, prefix) = setup().await;
    let key = OUTBOX.stream_key(&prefix);
    append(&pool, &(0..5).map(registered).collect::<Vec<_>>(), true).await;
    let _relay = OUTBOX.spawn_relay(pool.clone(), redis.clone(), &prefix);
    assert_eq!(published(&mut redis, &key, 5).await.len(), 5);
    // Redis restarted without persistence: the stream is gone.
    let _: () = redis.del(&key).await.unwrap();
    assert_eq!(
        published(&mut redis, &key, 5).await.len(),
        5,
        "republished from the outbox"
    );
}

/// Found by bank-chaos: a transaction that took its sequence before, but
/// committed after, one already published was skipped as "published" and
/// its event lost for good.
#[tokio::test]
async fn an_event_committed_after_a_higher_sequence_was_published_is_not_lost() {
    let (db, pool, mut redis, prefix) = setup().await;
    let key = OUTBOX.stream_key(&prefix);
    let _relay = OUTBOX.spawn_relay(pool.clone(), redis.clone(), &prefix);
    let slow_event = registered(1);
    let mut slow = AsyncPgConnection::establish(db.url()).await.unwrap();
    slow.batch_execute("BEGIN").await.unwrap();
    OUTBOX.append(&slow, std::slice::from_ref(&slow_event)).await.unwrap();
    // A later sequence commits first and is published.
    append(&pool, &[registered(2)], true).await;
    assert_eq!(published(&mut redis, &key, 1).await.len(), 1);
    slow.batch_execute("COMMIT").await.unwrap();
    let got = published(&mut redis, &key, 2).await;
    assert_eq!(got.len(), 2, "the late commit is published too");
    assert_eq!(got[1].event_id, slow_event.event_id);
    assert_eq!(got[1].sequence, 1, "with its own sequence");
    // Published once: nothing more after further rounds.
    append(&pool, &[registered(3)], true).await;
    assert_eq!(published(&mut redis, &key, 3).await.len(), 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let len: usize = redis.xlen(&key).await.unwrap();
    assert_eq!(len, 3);
}

#[tokio::test]
async fn redis_down_delays_but_never_fails_the_change() {
    let db = TestDatabase::create("outbox").await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute(&format!("CREATE SCHEMA demo; {}", create_table_sql("demo")))
        .await
        .unwrap();
    let pool = bank_db::pool(db.url(), 4).unwrap();
    // A Redis nobody listens on.
    let port = bank_testkit::listener().await.1.port();
    let dead = bank_server::redis_manager(&bank_config_redis(&format!("redis://127.0.0.1:{port}"))).unwrap();
    let _relay = OUTBOX.spawn_relay(pool.clone(), dead, "down");
    append(&pool, &[registered(1), registered(2)], true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut conn = pool.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let waiting: Waiting = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT COUNT(*) AS n FROM demo.outbox WHERE published_at IS NULL"),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(waiting.n, 2, "the events wait in the outbox");
}

fn bank_config_redis(url: &str) -> bank_config::RedisConfig {
    bank_config::RedisConfig {
        ca_file: None,
        url: bank_config::SecretString::from(url.to_owned()),
        key_prefix: "down".to_owned(),
    }
}
