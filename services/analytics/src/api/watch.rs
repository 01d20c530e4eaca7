//! WatchEvents: a live feed of events as the consumer applies them, after
//! an optional replay of recent ones from the database. Each stream is a
//! task with a bounded buffer; a client too slow for the feed is cut off
//! (UNAVAILABLE, WATCH_LAGGED) rather than buffered without bound, and
//! every stream ends with UNAVAILABLE when the server shuts down.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::analytics::v1::watch_events_response::Item;
use bank_proto::bank::events::v1::{Event, EventType};
use bank_server::{ERROR_DOMAIN, FieldViolations, resource_exhausted};
use chrono::Utc;
use prost::Message as _;
use tokio::sync::{broadcast, mpsc, watch as stop_signal};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::{AppState, store_error};
use crate::events::timestamp;
use crate::feed::FeedEvent;

/// Most events a stream may ask to be replayed first.
pub const WATCH_REPLAY_MAX: i32 = 1_000;
/// Most event types in one filter.
pub const WATCH_EVENT_TYPES_MAX: usize = 32;
/// A heartbeat is sent after this long without an event.
pub const WATCH_HEARTBEAT_SECS: u64 = 15;
/// Messages buffered ahead of a slow client (back-pressure).
pub const WATCH_BUFFER_MESSAGES: usize = 64;
/// Open WatchEvents streams per process; more are refused.
pub const WATCHERS_MAX: usize = 100;
/// Retry hint when every watcher slot is taken.
const WATCHERS_RETRY_SECS: u64 = 5;

/// The stream WatchEvents answers with.
pub type WatchStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send + 'static>>;

type Sender = mpsc::Sender<Result<pb::WatchEventsResponse, Status>>;

fn stopping(stop: &stop_signal::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

fn shutting_down() -> Status {
    Status::unavailable("the server is shutting down; reconnect")
}

fn lagged(missed: u64) -> Status {
    Status::with_error_details(
        Code::Unavailable,
        format!("this watcher fell {missed} events behind the feed; reconnect (replay_last fills the gap)"),
        ErrorDetails::with_error_info("WATCH_LAGGED", ERROR_DOMAIN, HashMap::new()),
    )
}

fn event_item(event: Event) -> pb::WatchEventsResponse {
    pb::WatchEventsResponse {
        item: Some(Item::Event(event)),
    }
}

fn heartbeat() -> pb::WatchEventsResponse {
    pb::WatchEventsResponse {
        item: Some(Item::Heartbeat(pb::Heartbeat {
            server_time: Some(timestamp(Utc::now())),
        })),
    }
}

/// Sends `item`, waiting for buffer space unless the server stops first.
/// `false` when the stream is over (client gone or shutdown).
async fn send(tx: &Sender, stop: &mut stop_signal::Receiver<bool>, item: pb::WatchEventsResponse) -> bool {
    if stopping(stop) {
        return false;
    }
    tokio::select! {
        sent = tx.send(Ok(item)) => sent.is_ok(),
        _ = stop.changed() => false,
    }
}

/// Feeds one stream until the client leaves, the server stops or the
/// client falls too far behind.
async fn pump(
    replay: Vec<(i64, Vec<u8>)>,
    mut live: broadcast::Receiver<std::sync::Arc<FeedEvent>>,
    types: Vec<i32>,
    tx: Sender,
    mut stop: stop_signal::Receiver<bool>,
) {
    let mut last_position = 0_i64;
    for (position, payload) in replay {
        last_position = position;
        let Ok(event) = Event::decode(payload.as_slice()) else {
            continue;
        };
        if !send(&tx, &mut stop, event_item(event)).await {
            let _ = tx.try_send(Err(shutting_down()));
            return;
        }
    }
    let idle = Duration::from_secs(WATCH_HEARTBEAT_SECS);
    let mut heartbeat_at = Instant::now() + idle;
    loop {
        if stopping(&stop) {
            let _ = tx.try_send(Err(shutting_down()));
            return;
        }
        tokio::select! {
            _ = stop.changed() => {}
            () = tx.closed() => return,
            () = tokio::time::sleep_until(heartbeat_at) => {
                if !send(&tx, &mut stop, heartbeat()).await {
                    continue;
                }
                heartbeat_at = Instant::now() + idle;
            }
            received = live.recv() => match received {
                Ok(fed) => {
                    // Replayed already, or not asked for.
                    if fed.position <= last_position || !(types.is_empty() || types.contains(&fed.event.r#type)) {
                        continue;
                    }
                    last_position = fed.position;
                    if !send(&tx, &mut stop, event_item(fed.event.clone())).await {
                        continue;
                    }
                    heartbeat_at = Instant::now() + idle;
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "event watcher too slow; ended");
                    let _ = tx.try_send(Err(lagged(missed)));
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    let _ = tx.try_send(Err(shutting_down()));
                    return;
                }
            },
        }
    }
}

impl AppState {
    pub(super) async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> Result<WatchStream, Status> {
        let admin = bank_authn::require_admin(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        if !(0..=WATCH_REPLAY_MAX).contains(&req.replay_last) {
            violations.add("replay_last", format!("must be between 0 and {WATCH_REPLAY_MAX}"));
        }
        if req.event_types.len() > WATCH_EVENT_TYPES_MAX {
            violations.add(
                "event_types",
                format!("must have at most {WATCH_EVENT_TYPES_MAX} values"),
            );
        }
        // Numbers this build does not know are allowed: newer producers may
        // emit them, and the filter simply passes them through.
        if req
            .event_types
            .iter()
            .any(|&t| t <= 0 || EventType::try_from(t) == Ok(EventType::Unspecified))
        {
            violations.add("event_types", "must not contain EVENT_TYPE_UNSPECIFIED");
        }
        violations.into_result()?;
        let mut types = req.event_types.clone();
        types.sort_unstable();
        types.dedup();
        let permit = self.watchers.clone().try_acquire_owned().map_err(|_| {
            resource_exhausted(
                "WATCHERS_EXHAUSTED",
                "too many open event streams; retry later",
                Duration::from_secs(WATCHERS_RETRY_SECS),
            )
        })?;
        // Subscribe before reading the replay, so that nothing applied in
        // between is missed (positions drop what both deliver).
        let live = self.feed.subscribe();
        let (tx, rx) = mpsc::channel(WATCH_BUFFER_MESSAGES);
        let stop = self.stop.clone();
        let (feed, store) = (self.feed.clone(), self.store.clone());
        tracing::info!(admin_user_id = %admin, types = ?types, replay = req.replay_last, "event watcher opened");
        // The stream opens at once; its first message may wait until this
        // replica also gets the other replicas' events (about 1 s for a
        // replica's first watcher), which must precede the replay read.
        tokio::spawn(async move {
            let _permit = permit;
            feed.joined().await;
            match store.recent_events(&types, i64::from(req.replay_last)).await {
                Ok(replay) => pump(replay, live, types, tx, stop).await,
                Err(e) => {
                    let _ = tx.send(Err(store_error("reading recent events", e))).await;
                }
            }
            tracing::debug!("event watcher closed");
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}
