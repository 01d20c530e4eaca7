//! The live feed: the consumer publishes each event it applied for the
//! first time, after its transaction committed and in consumption order;
//! every WatchEvents stream subscribes. A watcher that falls more than
//! [`FEED_CAPACITY_EVENTS`] behind is told so and must reconnect.

use std::sync::Arc;

use bank_proto::bank::events::v1::Event;
use tokio::sync::broadcast;

/// Events kept for the slowest watcher before it is cut off.
pub const FEED_CAPACITY_EVENTS: usize = 4_096;

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
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    /// A feed nobody watches yet.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(FEED_CAPACITY_EVENTS);
        Self { sender }
    }

    /// Sends `events` to every current watcher (none is fine).
    pub fn publish(&self, events: impl IntoIterator<Item = FeedEvent>) {
        if self.sender.receiver_count() == 0 {
            return;
        }
        for event in events {
            // Err only means nobody is watching right now.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    /// A receiver of the events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        self.sender.subscribe()
    }
}
