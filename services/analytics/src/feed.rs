//! The live feed: the consumer publishes each event it applied for the
//! first time, after its transaction committed and in consumption order;
//! every WatchEvents stream subscribes. A watcher that falls more than
//! [`FEED_CAPACITY_EVENTS`] behind is told so and must reconnect.
//!
//! Replicas share the stream's work (one consumer group), so each applies
//! only some of the events. A shared feed ([`Feed::shared`]) therefore also
//! fans what it applied out over a Redis pub/sub channel,
//! `<prefix>:analytics:feed`, to the replicas that have watchers: a replica
//! subscribes while it has watchers, and a replica publishes only while
//! someone is subscribed (checked every [`LISTENERS_POLL_MS`]), so a mesh
//! nobody watches pays nothing. A replica's first watcher starts once
//! every publisher had ten polls to notice it (about 1 s). Redis being
//! down stops the fan-out, not the replica's own events.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bank_config::RedisConfig;
use bank_proto::bank::events::v1::Event;
use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use futures::StreamExt as _;
use prost::Message as _;
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio::time::Instant;

/// Events kept for the slowest watcher before it is cut off.
pub const FEED_CAPACITY_EVENTS: usize = 4_096;
/// How often a replica asks Redis whether anyone listens to the channel.
pub const LISTENERS_POLL_MS: u64 = 100;
/// Batches waiting to be published before new ones are dropped (watchers
/// elsewhere then miss them; the replica's own watchers do not).
const OUTGOING_BATCHES_MAX: usize = 256;
/// A replica with no watcher for this long leaves the channel.
const IDLE_UNSUBSCRIBE_SECS: u64 = 5;
/// Back-off after a failed Redis connection.
const RETRY_MS: u64 = 1_000;
/// How long a first watcher waits for the subscription before it starts
/// with the replica's own events only.
const JOIN_TIMEOUT_MS: u64 = 2_000;
/// Polls a first watcher waits for after its replica subscribed.
const JOIN_POLLS: u64 = 10;
/// Bound of connecting and subscribing to the channel.
const SUBSCRIBE_TIMEOUT_MS: u64 = 2_000;

/// One applied event.
#[derive(Debug)]
pub struct FeedEvent {
    /// Its position in consumption order (`analytics.events.position`).
    pub position: i64,
    /// The event.
    pub event: Event,
}

/// The sending side, shared by the consumer and the handlers.
#[derive(Clone, Debug)]
pub struct Feed {
    sender: broadcast::Sender<Arc<FeedEvent>>,
    shared: Option<Arc<Shared>>,
}

/// The Redis side of a shared feed.
#[derive(Debug)]
struct Shared {
    /// Tells this replica's messages from the others'.
    origin: [u8; 16],
    /// Whether anyone (this replica included) listens to the channel.
    listened: AtomicBool,
    /// Whether batches are being dropped (logged once per episode).
    dropping: AtomicBool,
    /// Whether publishing fails (logged once per episode).
    publish_failing: AtomicBool,
    outgoing: mpsc::Sender<Bytes>,
    /// Since when this replica's subscription is live, if it is.
    subscribed: watch::Receiver<Option<Instant>>,
    /// Wakes the subscriber when a first watcher arrives.
    wanted: Notify,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    /// A feed of this process's own events only (a single replica, tests).
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(FEED_CAPACITY_EVENTS);
        Self { sender, shared: None }
    }

    /// A feed shared with the other replicas through Redis under
    /// `redis.key_prefix`. Its two tasks run until `stop` turns true.
    /// Publishing goes through `connection` (the service's shared one).
    pub fn shared(
        redis: &RedisConfig,
        connection: redis::aio::ConnectionManager,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        // Subscribing needs a connection of its own.
        let client = bank_server::redis_client(redis)?;
        let channel = format!("{}:analytics:feed", redis.key_prefix);
        let (sender, _) = broadcast::channel(FEED_CAPACITY_EVENTS);
        let (outgoing, outgoing_rx) = mpsc::channel(OUTGOING_BATCHES_MAX);
        let (subscribed_tx, subscribed) = watch::channel(None);
        let shared = Arc::new(Shared {
            origin: *uuid::Uuid::new_v4().as_bytes(),
            listened: AtomicBool::new(false),
            dropping: AtomicBool::new(false),
            publish_failing: AtomicBool::new(false),
            outgoing,
            subscribed,
            wanted: Notify::new(),
        });
        tokio::spawn(publisher(
            connection,
            channel.clone(),
            shared.clone(),
            outgoing_rx,
            stop.clone(),
        ));
        tokio::spawn(subscriber(
            client,
            channel,
            shared.clone(),
            sender.clone(),
            subscribed_tx,
            stop,
        ));
        Ok(Self {
            sender,
            shared: Some(shared),
        })
    }

    /// Sends `events` to every current watcher here and, for a shared feed
    /// that someone listens to, to the other replicas (none is fine).
    pub fn publish(&self, events: impl IntoIterator<Item = FeedEvent>) {
        let remote = self.shared.as_ref().filter(|s| s.listened.load(Ordering::Relaxed));
        let local = self.sender.receiver_count() > 0;
        if !local && remote.is_none() {
            return;
        }
        let mut batch = BytesMut::new();
        if let Some(shared) = remote {
            batch.put_slice(&shared.origin);
        }
        for event in events {
            if remote.is_some() {
                prost::encoding::encode_varint(event.position as u64, &mut batch);
                event.event.encode_length_delimited(&mut batch).unwrap_or_default();
            }
            if local {
                // Err only means nobody is watching right now.
                let _ = self.sender.send(Arc::new(event));
            }
        }
        if let Some(shared) = remote {
            let dropped = shared.outgoing.try_send(batch.freeze()).is_err();
            if shared.dropping.swap(dropped, Ordering::Relaxed) != dropped {
                if dropped {
                    tracing::warn!("live feed: the Redis fan-out is behind; other replicas' watchers miss events");
                } else {
                    tracing::info!("live feed: the Redis fan-out caught up");
                }
            }
        }
    }

    /// A receiver of the events published from now on (call
    /// [`Feed::joined`] next for the other replicas' events).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        if let Some(shared) = &self.shared {
            shared.wanted.notify_one();
        }
        self.sender.subscribe()
    }

    /// Waits until this replica receives the other replicas' events too:
    /// its subscription is live and old enough for every publisher to have
    /// noticed it. A watcher that reads its replay after this misses no
    /// event in between. Gives up after a while (Redis down): the watcher
    /// then sees this replica's events only.
    pub async fn joined(&self) {
        let Some(shared) = &self.shared else {
            return;
        };
        let mut subscribed = shared.subscribed.clone();
        let since = match tokio::time::timeout(
            Duration::from_millis(JOIN_TIMEOUT_MS),
            subscribed.wait_for(Option::is_some),
        )
        .await
        {
            Ok(Ok(since)) => *since,
            _ => {
                tracing::warn!("live feed: not subscribed to the other replicas' events; this replica's only");
                return;
            }
        };
        if let Some(since) = since {
            // Ten polls: every publisher has asked Redis since, unless its
            // replica is starved for that long (then it may drop what it
            // applies meanwhile; a reconnect's replay has those events).
            tokio::time::sleep_until(since + Duration::from_millis(JOIN_POLLS * LISTENERS_POLL_MS)).await;
        }
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Publishes this replica's batches while anyone listens; asks Redis who
/// listens every [`LISTENERS_POLL_MS`]. The connection's own timeouts keep
/// a stalled Redis from stalling this loop.
async fn publisher(
    mut connection: redis::aio::ConnectionManager,
    channel: String,
    shared: Arc<Shared>,
    mut outgoing: mpsc::Receiver<Bytes>,
    mut stop: watch::Receiver<bool>,
) {
    let mut poll = tokio::time::interval(Duration::from_millis(LISTENERS_POLL_MS));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stopped(&mut stop) => return,
            _ = poll.tick() => {
                let listeners = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(&channel)
                    .query_async::<(String, i64)>(&mut connection)
                    .await;
                match listeners {
                    Ok((_, n)) => shared.listened.store(n > 0, Ordering::Relaxed),
                    // Not knowing is not "nobody listens": a slow answer
                    // under load must not drop the batches of the next
                    // poll interval. The last answer stands until the next.
                    Err(error) => tracing::debug!(%error, "live feed: asking Redis for listeners failed"),
                }
            }
            batch = outgoing.recv() => {
                let Some(batch) = batch else { return };
                let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(batch.as_ref())
                    .query_async(&mut connection)
                    .await;
                // Logged once per episode: other replicas' watchers miss
                // this batch (a retry could deliver it twice).
                let failed = sent.is_err();
                if shared.publish_failing.swap(failed, Ordering::Relaxed) != failed {
                    match sent {
                        Err(error) => tracing::warn!(%error, "live feed: publishing failed; other replicas' watchers miss events"),
                        Ok(_) => tracing::info!("live feed: publishing works again"),
                    }
                }
            }
        }
    }
}

/// Keeps this replica subscribed to the channel while it has watchers and
/// hands the other replicas' events to them.
async fn subscriber(
    client: redis::Client,
    channel: String,
    shared: Arc<Shared>,
    sender: broadcast::Sender<Arc<FeedEvent>>,
    subscribed: watch::Sender<Option<Instant>>,
    mut stop: watch::Receiver<bool>,
) {
    let idle = Duration::from_secs(IDLE_UNSUBSCRIBE_SECS);
    loop {
        while sender.receiver_count() == 0 {
            tokio::select! {
                () = stopped(&mut stop) => return,
                () = shared.wanted.notified() => {}
            }
        }
        let subscribing = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            redis::RedisResult::Ok(pubsub)
        };
        let pubsub = match tokio::time::timeout(Duration::from_millis(SUBSCRIBE_TIMEOUT_MS), subscribing).await {
            Ok(Ok(pubsub)) => Some(pubsub),
            Ok(Err(error)) => {
                tracing::warn!(%error, "live feed: subscribing failed");
                None
            }
            Err(_) => {
                tracing::warn!("live feed: Redis did not answer the subscription");
                None
            }
        };
        let Some(mut pubsub) = pubsub else {
            tokio::select! {
                () = stopped(&mut stop) => return,
                () = tokio::time::sleep(Duration::from_millis(RETRY_MS)) => continue,
            }
        };
        subscribed.send_replace(Some(Instant::now()));
        let mut last_watched = Instant::now();
        let mut check = tokio::time::interval(idle);
        let mut messages = pubsub.on_message();
        loop {
            tokio::select! {
                () = stopped(&mut stop) => {
                    subscribed.send_replace(None);
                    return;
                }
                _ = check.tick() => {
                    if sender.receiver_count() > 0 {
                        last_watched = Instant::now();
                    } else if last_watched.elapsed() >= idle {
                        break;
                    }
                }
                message = messages.next() => match message {
                    Some(message) => forward(&shared.origin, message.get_payload_bytes(), &sender),
                    None => {
                        tracing::warn!("live feed: the Redis subscription was lost; resubscribing");
                        break;
                    }
                },
            }
        }
        subscribed.send_replace(None);
    }
}

/// Hands the events of another replica's batch to the watchers here.
fn forward(origin: &[u8; 16], mut payload: &[u8], sender: &broadcast::Sender<Arc<FeedEvent>>) {
    if payload.len() < origin.len() || &payload[..origin.len()] == origin {
        return;
    }
    payload.advance(origin.len());
    while payload.has_remaining() {
        let Ok(position) = prost::encoding::decode_varint(&mut payload) else {
            return;
        };
        let Ok(event) = Event::decode_length_delimited(&mut payload) else {
            return;
        };
        let _ = sender.send(Arc::new(FeedEvent {
            position: i64::try_from(position).unwrap_or(i64::MAX),
            event,
        }));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn batch(origin: &[u8; 16], events: &[(i64, &str)]) -> Vec<u8> {
        let mut out = BytesMut::new();
        out.put_slice(origin);
        for (position, id) in events {
            prost::encoding::encode_varint(*position as u64, &mut out);
            Event {
                event_id: (*id).to_owned(),
                ..Event::default()
            }
            .encode_length_delimited(&mut out)
            .unwrap();
        }
        out.to_vec()
    }

    #[test]
    fn another_replicas_batch_is_forwarded_and_our_own_is_not() {
        let (sender, mut watcher) = broadcast::channel(16);
        let ours = [1u8; 16];
        let theirs = [2u8; 16];
        forward(&ours, &batch(&ours, &[(1, "mine")]), &sender);
        forward(&ours, &batch(&theirs, &[(7, "a"), (9, "b")]), &sender);
        forward(&ours, b"short", &sender);
        let first = watcher.try_recv().unwrap();
        assert_eq!((first.position, first.event.event_id.as_str()), (7, "a"));
        let second = watcher.try_recv().unwrap();
        assert_eq!((second.position, second.event.event_id.as_str()), (9, "b"));
        assert!(watcher.try_recv().is_err());
    }
}
