//! WatchEvents: live events as the consumer applies them, filtered by
//! type, after an optional replay; the stream ends with UNAVAILABLE when
//! the server shuts down (and does not hold the shutdown up).

use std::time::{Duration, Instant};

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::analytics::v1::watch_events_response::Item;
use bank_proto::bank::events::v1 as ev;
use bank_proto::bank::events::v1::EventType;
use chrono::Utc;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

/// The next event of `stream`, skipping heartbeats.
async fn next_event(stream: &mut tonic::Streaming<pb::WatchEventsResponse>) -> ev::Event {
    // One deadline for the event, whatever heartbeats arrive meanwhile.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let message = tokio::time::timeout_at(deadline, stream.message())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream is open");
        match message.item {
            Some(Item::Event(event)) => return event,
            Some(Item::Heartbeat(_)) => continue,
            None => panic!("empty message"),
        }
    }
}

#[tokio::test]
async fn live_events_reach_watchers_filtered_by_type_after_a_replay() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    let mut transfers_only = a.watch(&admin, &[EventType::TransferPosted], 0).await.unwrap();
    let mut everything = a.watch(&admin, &[], 0).await.unwrap();

    let now = Utc::now();
    let user = Uuid::new_v4();
    let login = logged_in(user, now);
    let transfer = posted(Uuid::new_v4(), Uuid::new_v4(), money(42, "USD"), now);
    a.streams.publish(&login).await;
    a.streams.publish(&transfer).await;

    let first = next_event(&mut transfers_only).await;
    assert_eq!(first.event_id, transfer.event_id);
    assert!(first.sequence >= 1, "as published, with its sequence");
    let both = [next_event(&mut everything).await, next_event(&mut everything).await];
    assert_eq!(
        both.iter().map(|e| e.event_id.clone()).collect::<Vec<_>>(),
        [login.event_id.clone(), transfer.event_id.clone()],
        "in consumption order (accounts and log-ins before transfers)"
    );

    // A duplicate is not shown again; the filter keeps skipping log-ins.
    a.streams.publish(&transfer).await;
    let second_login = logged_in(user, now);
    a.streams.publish(&second_login).await;
    let transfer2 = posted(Uuid::new_v4(), Uuid::new_v4(), money(43, "USD"), now);
    a.streams.publish(&transfer2).await;
    assert_eq!(next_event(&mut transfers_only).await.event_id, transfer2.event_id);
    assert_eq!(next_event(&mut everything).await.event_id, second_login.event_id);
    assert_eq!(next_event(&mut everything).await.event_id, transfer2.event_id);
    a.caught_up().await;

    // A late watcher asks for the two latest log-ins first, then goes live.
    let mut late = a.watch(&admin, &[EventType::UserLoggedIn], 2).await.unwrap();
    assert_eq!(next_event(&mut late).await.event_id, login.event_id);
    assert_eq!(next_event(&mut late).await.event_id, second_login.event_id);
    let third_login = logged_in(user, now);
    a.streams.publish(&transfer2).await;
    a.streams.publish(&third_login).await;
    assert_eq!(next_event(&mut late).await.event_id, third_login.event_id);
}

#[tokio::test]
async fn watchers_end_with_unavailable_when_the_server_stops() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    let mut stream = a.watch(&admin, &[], 0).await.unwrap();
    let reader = tokio::spawn(async move {
        loop {
            match stream.message().await {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(status) => return Some(status.code()),
            }
        }
    });
    let started = Instant::now();
    a.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "an open stream must not hold the shutdown up: {:?}",
        started.elapsed()
    );
    let ended = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended, Some(Code::Unavailable));
}

#[tokio::test]
async fn an_idle_stream_gets_heartbeats() {
    let a = spawn().await;
    let admin = a.admin().await;
    let mut stream = a.watch(&admin, &[], 0).await.unwrap();
    let opened = Utc::now();
    let wait = Duration::from_secs(analytics_service::WATCH_HEARTBEAT_SECS + 5);
    let message = tokio::time::timeout(wait, stream.message())
        .await
        .expect("a heartbeat in time")
        .unwrap()
        .unwrap();
    let Some(Item::Heartbeat(beat)) = message.item else {
        panic!("expected a heartbeat, got {message:?}");
    };
    let sent = beat.server_time.unwrap().seconds;
    let waited = sent - opened.timestamp();
    assert!(
        (i64::try_from(analytics_service::WATCH_HEARTBEAT_SECS).unwrap() - 1
            ..=i64::try_from(analytics_service::WATCH_HEARTBEAT_SECS).unwrap() + 2)
            .contains(&waited),
        "heartbeat after {waited} s"
    );
}

#[tokio::test]
async fn a_watcher_sees_the_events_that_every_replica_applies() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    // A second replica: the same database, streams and consumer group, so
    // the two share the events between them.
    let mut config = a.config.clone();
    config.consumer.name = "replica-b".to_owned();
    let b = bank_testkit::spawn(move |listener, shutdown| analytics_service::serve(config, listener, shutdown)).await;
    let mut watcher = a.watch(&admin, &[EventType::UserLoggedIn], 0).await.unwrap();
    // Replica A subscribes to the feed channel for its watcher; then
    // replica B notices the listener at its next poll (100 ms; on a loaded
    // test machine that may come later).
    let channel = format!("{}:analytics:feed", a.prefix);
    let subscribing = Instant::now();
    loop {
        let (_, listeners): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query_async(&mut a.streams.redis)
            .await
            .unwrap();
        if listeners > 0 {
            break;
        }
        assert!(
            subscribing.elapsed() < Duration::from_secs(15),
            "replica A never subscribed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let now = Utc::now();
    let mut published = Vec::new();
    for _ in 0..30 {
        let login = logged_in(Uuid::new_v4(), now);
        a.streams.publish(&login).await;
        published.push(login.event_id);
        // One at a time: both consumers wait on the stream, and Redis
        // hands each entry to the one that has waited longer.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < published.len() {
        match tokio::time::timeout_at(deadline, watcher.message()).await {
            Ok(message) => match message.unwrap().expect("the stream is open").item {
                Some(Item::Event(event)) => seen.push(event.event_id),
                Some(Item::Heartbeat(_)) => {}
                None => panic!("empty message"),
            },
            // The comparison below names what is missing.
            Err(_) => break,
        }
    }
    seen.sort();
    published.sort();
    assert_eq!(seen, published, "every replica's events, each once");
    b.stop().await.unwrap();
    a.stop().await;
}
