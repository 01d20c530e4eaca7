//! Consuming the four streams: every event counted once, whatever the
//! streams deliver twice; a real outbox relay end to end, including a lost
//! stream published again; unknown and malformed entries acknowledged
//! without stalling anything.

use std::time::Duration;

use bank_outbox::{Outbox, create_table_sql};
use bank_proto::bank::events::v1 as ev;
use bank_proto::bank::finance::v1::ApplicationStatus;
use bank_proto::bank::transfer::v1::DeclineReason;
use bank_testkit::TestDatabase;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use prost::Message as _;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn events_from_all_four_streams_are_counted() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    let (u1, u2) = (Uuid::new_v4(), Uuid::new_v4());
    let (acct1, acct2) = (Uuid::new_v4(), Uuid::new_v4());
    let (app1, app2, option) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let t = at(2025, 3, 10, 9, 0);
    for e in [
        registered(u1, t),
        registered(u2, t),
        logged_in(u1, t),
        logged_in(u1, at(2025, 3, 10, 12, 30)),
        logged_in(u2, t),
        login_failed(Some(u1), t),
        login_failed(None, t),
        opened(acct1, u1, t),
        opened(acct2, u2, t),
        posted_kind(
            bank_proto::bank::transfer::v1::TransferKind::Transfer,
            acct1,
            acct2,
            money(2_500, "USD"),
            Some(u1),
            t,
        ),
        declined(DeclineReason::InsufficientFunds, t),
        submitted(app1, u1, t),
        decided(app1, u1, ApplicationStatus::Approved, at(2025, 3, 10, 10, 0)),
        submitted(app2, u2, t),
        selected(u1, option, t),
    ] {
        a.streams.publish(&e).await;
    }
    a.caught_up().await;

    let s = a.summary(&admin, day(2025, 3, 10), day(2025, 3, 10)).await;
    assert_eq!((s.total_users, s.new_users), (2, 2));
    assert_eq!((s.total_logins, s.failed_logins), (3, 2));
    let first = &s.logins_per_user[0];
    assert_eq!(first.user_id, u1.to_string(), "most log-ins first");
    assert_eq!((first.login_count, first.failed_login_count), (2, 1));
    assert_eq!(
        first.last_login_time.as_ref().map(|t| t.seconds),
        Some(at(2025, 3, 10, 12, 30).timestamp())
    );
    assert_eq!(s.active_users_by_day.len(), 1);
    assert_eq!(s.active_users_by_day[0].count, 2);
    assert_eq!(s.transfers_by_day.len(), 1);
    let volume = &s.transfers_by_day[0];
    assert_eq!((volume.currency.as_str(), volume.count), ("USD", 1));
    assert_eq!(volume.volume.as_ref().map(|m| m.amount_minor), Some(2_500));
    assert_eq!(s.declines_by_reason.len(), 1);
    assert_eq!(s.declines_by_reason[0].reason, DeclineReason::InsufficientFunds as i32);
    let statuses: Vec<(i32, i64)> = s
        .applications_by_status
        .iter()
        .map(|row| (row.status, row.count))
        .collect();
    assert_eq!(
        statuses,
        [
            (ApplicationStatus::Submitted as i32, 1),
            (ApplicationStatus::Approved as i32, 1)
        ]
    );
    assert_eq!(s.option_selections_per_user.len(), 1);
    assert_eq!(s.option_selections_per_user[0].option_id, option.to_string());
    assert_eq!(
        s.data_as_of.as_ref().map(|t| t.seconds),
        Some(at(2025, 3, 10, 12, 30).timestamp()),
        "the newest event consumed"
    );
}

#[tokio::test]
async fn the_same_event_delivered_twice_counts_once() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    let t = at(2025, 4, 1, 8, 0);
    let login = logged_in(Uuid::new_v4(), t);
    let transfer = posted(Uuid::new_v4(), Uuid::new_v4(), money(700, "EUR"), t);
    // The relay republishes under new entry ids after Redis lost a stream.
    a.streams.publish_at(1, &login).await;
    a.streams.publish_at(2, &login).await;
    a.streams.publish_at(1, &transfer).await;
    a.streams.publish_at(5, &transfer).await;
    a.caught_up().await;
    // And again in a later batch.
    a.streams.publish_at(9, &login).await;
    a.caught_up().await;

    let s = a.summary(&admin, day(2025, 4, 1), day(2025, 4, 1)).await;
    assert_eq!(s.total_logins, 1);
    assert_eq!(s.transfers_by_day[0].count, 1);
    assert_eq!(s.transfers_by_day[0].volume.as_ref().map(|m| m.amount_minor), Some(700));
    assert_eq!(a.count("SELECT COUNT(*) AS n FROM analytics.events").await, 2);
}

const OUTBOX: Outbox = Outbox::new("demo.outbox", "transfer");

async fn append(pool: &bank_db::Pool, events: &[ev::Event]) {
    let mut conn = pool.get().await.unwrap();
    conn.transaction::<(), diesel::result::Error, _>(async |conn| OUTBOX.append(conn, events).await)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_real_relay_end_to_end_and_a_lost_stream_republished_counts_once() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    // The producer's side: an outbox in a scratch schema and its relay.
    let outbox_db = TestDatabase::create("an_outbox").await;
    let mut conn = AsyncPgConnection::establish(outbox_db.url()).await.unwrap();
    conn.batch_execute(&format!("CREATE SCHEMA demo; {}", create_table_sql("demo")))
        .await
        .unwrap();
    let pool = bank_db::pool(outbox_db.url(), 4).unwrap();
    let relay_redis = a.streams.redis.clone();
    let _relay = OUTBOX.spawn_relay(pool.clone(), relay_redis, &a.prefix);

    let t = at(2025, 5, 2, 10, 0);
    let (from, to) = (Uuid::new_v4(), Uuid::new_v4());
    for _ in 0..2 {
        let batch: Vec<ev::Event> = (0..5).map(|_| posted(from, to, money(100, "USD"), t)).collect();
        append(&pool, &batch).await;
    }
    a.wait_for_count("SELECT COUNT(*) AS n FROM analytics.transfers", 10)
        .await;
    a.caught_up().await;

    // Redis loses the stream (and the group with it): the relay publishes
    // its retained window again and the consumer makes its group again.
    let key = a.streams.key("transfer");
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut a.streams.redis)
        .await
        .unwrap();
    for _ in 0..400 {
        let len: i64 = redis::cmd("XLEN")
            .arg(&key)
            .query_async(&mut a.streams.redis)
            .await
            .unwrap();
        if len == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.caught_up().await;
    append(&pool, &[posted(from, to, money(100, "USD"), t)]).await;
    a.wait_for_count("SELECT COUNT(*) AS n FROM analytics.transfers", 11)
        .await;
    a.caught_up().await;

    let s = a.summary(&admin, day(2025, 5, 2), day(2025, 5, 2)).await;
    assert_eq!(s.transfers_by_day[0].count, 11, "nothing counted twice");
    assert_eq!(
        s.transfers_by_day[0].volume.as_ref().map(|m| m.amount_minor),
        Some(1_100)
    );
    assert_eq!(a.count("SELECT COUNT(*) AS n FROM analytics.events").await, 11);
}

#[tokio::test]
async fn unknown_and_malformed_entries_are_acknowledged_without_stalling() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    let t = at(2025, 6, 1, 7, 0);
    // An event type from the future, with a payload this build cannot see.
    let mut future = logged_in(Uuid::new_v4(), t);
    future.r#type = 999;
    future.payload = None;
    a.streams.publish(&future).await;
    // A known event carrying a field this build does not know (field 99).
    let mut extended = logged_in(Uuid::new_v4(), t).encode_to_vec();
    extended.extend_from_slice(&[0x98, 0x06, 0x01]);
    let id = ev::Event::decode(extended.as_slice()).unwrap().event_id;
    a.streams
        .xadd("auth", 2, &[("event_id", id.as_bytes()), ("event", &extended)])
        .await;
    // Not an Event at all; no event field; no usable event id.
    a.streams
        .xadd("auth", 3, &[("event_id", b"x"), ("event", &[0xff, 0xff, 0xff])])
        .await;
    a.streams
        .xadd("auth", 4, &[("type", b"EVENT_TYPE_USER_LOGGED_IN")])
        .await;
    let mut anonymous = logged_in(Uuid::new_v4(), t);
    anonymous.event_id = "not-a-uuid".to_owned();
    a.streams.publish_at(5, &anonymous).await;
    // A known type whose payload is unusable: kept, aggregates nothing.
    let mut broken = logged_in(Uuid::new_v4(), t);
    if let Some(ev::event::Payload::UserLoggedIn(p)) = broken.payload.as_mut() {
        p.user_id = "nobody".to_owned();
    }
    a.streams.publish_at(6, &broken).await;
    // Business as usual afterwards.
    a.streams.publish_at(7, &logged_in(Uuid::new_v4(), t)).await;
    a.caught_up().await;

    let s = a.summary(&admin, day(2025, 6, 1), day(2025, 6, 1)).await;
    assert_eq!(s.total_logins, 2, "the extended event and the last one");
    assert_eq!(a.count("SELECT COUNT(*) AS n FROM analytics.rejected_entries").await, 3);
    assert_eq!(a.count("SELECT COUNT(*) AS n FROM analytics.events").await, 4);
    assert!(a.streams.pending("auth", "analytics").await.is_empty());
}

#[tokio::test]
async fn events_of_the_real_auth_service_are_counted() {
    let a = spawn_with(Options {
        auth_shares_prefix: true,
        ..Options::default()
    })
    .await;
    // The bootstrap admin registers and logs in; so does a member, who
    // also gets their password wrong once; and a stranger tries.
    let admin = a.admin().await;
    let member = a.member().await;
    a.failed_login(&member.email).await;
    a.failed_login("nobody.at.all@example.com").await;

    let today = chrono::Utc::now().date_naive();
    let range = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let summary = loop {
        let s = a.summary(&admin, range.0, range.1).await;
        if (s.total_users, s.total_logins, s.failed_logins) == (2, 2, 2) {
            break s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "auth's events not counted: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let row = summary
        .logins_per_user
        .iter()
        .find(|u| u.user_id == member.user_id)
        .unwrap();
    assert_eq!((row.login_count, row.failed_login_count), (1, 1));
    assert!(summary.active_users_by_day.iter().any(|d| d.count == 2));
}
