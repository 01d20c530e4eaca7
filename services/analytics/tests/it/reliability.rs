//! The consumer's guarantees under faults: acknowledgement only after the
//! commit (a crash in between is claimed by the next consumer and applied
//! once), entries a dead consumer left pending claimed after the minimum
//! idle time and not before, and a Redis that goes down and comes back
//! empty: nothing lost, nothing counted twice.

use std::time::Duration;

use analytics_service::{Consumer, ConsumerConfig, Feed, FraudConfig, MIGRATIONS};
use bank_config::{RedisConfig, SecretString};
use bank_outbox::{Outbox, create_table_sql};
use bank_proto::bank::events::v1 as ev;
use bank_testkit::TestDatabase;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use uuid::Uuid;

use crate::helpers::*;

const GROUP: &str = "analytics";
/// Long enough that a healthy consumer never loses its entries to a claim
/// while the test works, short enough to wait for.
const CLAIM_MIN_IDLE_MS: u64 = 1_500;

struct Rig {
    db: TestDatabase,
    pool: bank_db::Pool,
    redis: RedisConfig,
    streams: Streams,
}

async fn rig() -> Rig {
    let db = TestDatabase::create("an_consumer").await;
    let pool = bank_db::prepare(db.url(), 4, MIGRATIONS).await.unwrap();
    let prefix = bank_testkit::redis_prefix();
    let streams = Streams::connect(&bank_testkit::redis_url(), &prefix).await;
    Rig {
        db,
        pool,
        redis: RedisConfig {
            ca_file: None,
            url: SecretString::from(bank_testkit::redis_url()),
            key_prefix: prefix,
        },
        streams,
    }
}

impl Rig {
    fn consumer(&self) -> Consumer {
        let config = ConsumerConfig {
            block_ms: 100,
            claim_min_idle_ms: CLAIM_MIN_IDLE_MS,
            ..ConsumerConfig::default()
        };
        Consumer::new(
            self.pool.clone(),
            &self.redis,
            &config,
            &FraudConfig::default(),
            Feed::new(),
        )
        .unwrap()
    }

    async fn transfers_counted(&self) -> i64 {
        count(
            self.db.url(),
            "SELECT COALESCE(SUM(count), 0)::bigint AS n FROM analytics.transfers_daily",
        )
        .await
    }

    async fn publish_transfers(&mut self, n: usize) {
        let (from, to) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..n {
            self.streams
                .publish(&posted(from, to, money(100, "USD"), at(2025, 7, 1, 9, 0)))
                .await;
        }
    }
}

#[tokio::test]
async fn a_crash_between_commit_and_ack_is_claimed_and_applied_once() {
    let mut rig = rig().await;
    rig.publish_transfers(3).await;

    let mut first = rig.consumer();
    let batch = first.poll().await.unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(first.commit(&batch).await.unwrap(), 3);
    // The process dies here: committed, never acknowledged.
    let first_name = first.name().to_owned();
    drop(first);
    assert_eq!(rig.streams.pending("transfer", GROUP).await.get(&first_name), Some(&3));
    assert_eq!(rig.transfers_counted().await, 3);

    let mut second = rig.consumer();
    assert!(
        second.poll().await.unwrap().is_empty(),
        "not idle long enough to be claimed yet, and nothing new"
    );
    tokio::time::sleep(Duration::from_millis(CLAIM_MIN_IDLE_MS + 200)).await;
    let claimed = second.poll().await.unwrap();
    assert_eq!(claimed.len(), 3, "claimed after the minimum idle time");
    assert_eq!(second.commit(&claimed).await.unwrap(), 0, "already applied: skipped");
    second.ack(&claimed).await.unwrap();
    assert!(rig.streams.pending("transfer", GROUP).await.is_empty());
    assert_eq!(rig.transfers_counted().await, 3, "applied once");
}

#[tokio::test]
async fn entries_of_a_consumer_that_died_before_committing_are_claimed_after_min_idle() {
    let mut rig = rig().await;
    rig.publish_transfers(4).await;

    let mut first = rig.consumer();
    assert_eq!(first.poll().await.unwrap().len(), 4);
    // Dies before applying anything: the entries are pending with it.
    drop(first);
    assert_eq!(rig.transfers_counted().await, 0);

    let mut second = rig.consumer();
    assert!(second.poll().await.unwrap().is_empty(), "too early to claim");
    assert_eq!(rig.streams.pending("transfer", GROUP).await.values().sum::<usize>(), 4);
    tokio::time::sleep(Duration::from_millis(CLAIM_MIN_IDLE_MS + 200)).await;
    let claimed = second.poll().await.unwrap();
    assert_eq!(claimed.len(), 4);
    assert_eq!(second.commit(&claimed).await.unwrap(), 4);
    second.ack(&claimed).await.unwrap();
    assert!(rig.streams.pending("transfer", GROUP).await.is_empty());
    assert_eq!(rig.transfers_counted().await, 4);

    // A running consumer picks up what arrives next, new entries only.
    rig.publish_transfers(2).await;
    let next = second.poll().await.unwrap();
    assert_eq!(next.len(), 2);
    assert_eq!(second.commit(&next).await.unwrap(), 2);
    second.ack(&next).await.unwrap();
    assert_eq!(rig.transfers_counted().await, 6);
}

const OUTBOX: Outbox = Outbox::new("demo.outbox", "transfer");

async fn append(pool: &bank_db::Pool, events: &[ev::Event]) {
    let mut conn = pool.get().await.unwrap();
    conn.transaction::<(), diesel::result::Error, _>(async |conn| OUTBOX.append(conn, events).await)
        .await
        .unwrap();
}

#[tokio::test]
async fn redis_down_then_back_empty_loses_nothing_and_counts_nothing_twice() {
    let mut redis = PrivateRedis::start().await;
    let mut a = spawn_with(Options {
        redis_url: Some(redis.url()),
        ..Options::default()
    })
    .await;
    let admin = a.admin().await;
    let outbox_db = TestDatabase::create("an_outbox").await;
    let mut conn = AsyncPgConnection::establish(outbox_db.url()).await.unwrap();
    conn.batch_execute(&format!("CREATE SCHEMA demo; {}", create_table_sql("demo")))
        .await
        .unwrap();
    let pool = bank_db::pool(outbox_db.url(), 4).unwrap();
    let relay_redis = bank_server::redis_manager(&RedisConfig {
        ca_file: None,
        url: SecretString::from(redis.url()),
        key_prefix: a.prefix.clone(),
    })
    .unwrap();
    let _relay = OUTBOX.spawn_relay(pool.clone(), relay_redis, &a.prefix);

    let t = at(2025, 8, 3, 15, 0);
    let (from, to) = (Uuid::new_v4(), Uuid::new_v4());
    let five = || {
        (0..5)
            .map(|_| posted(from, to, money(250, "USD"), t))
            .collect::<Vec<_>>()
    };
    append(&pool, &five()).await;
    a.wait_for_count("SELECT COUNT(*) AS n FROM analytics.transfers", 5)
        .await;

    // Redis dies; money keeps moving (the events wait in the outbox).
    redis.kill().await;
    append(&pool, &five()).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(a.count("SELECT COUNT(*) AS n FROM analytics.transfers").await, 5);

    // It comes back with nothing: no streams, no consumer group. The relay
    // republishes its retained window (all ten), the consumer makes its
    // group again and skips the five it had.
    redis.restart().await;
    a.wait_for_count("SELECT COUNT(*) AS n FROM analytics.transfers", 10)
        .await;
    a.caught_up().await;
    let s = a.summary(&admin, day(2025, 8, 3), day(2025, 8, 3)).await;
    assert_eq!(s.transfers_by_day[0].count, 10);
    assert_eq!(
        s.transfers_by_day[0].volume.as_ref().map(|m| m.amount_minor),
        Some(2_500)
    );
    assert_eq!(a.count("SELECT COUNT(*) AS n FROM analytics.events").await, 10);
}
