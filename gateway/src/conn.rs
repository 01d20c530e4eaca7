//! Connection hygiene at the public port, so that clients who hold
//! connections without using them cannot exhaust the gateway:
//!
//! - at most `max_connections` connections at once, and at most
//!   `max_connections_per_client` of one client address (more are closed on
//!   accept), so file descriptors and per-connection memory are bounded and
//!   one client cannot take every slot;
//! - a connection must send its first request's headers within
//!   `header_read_timeout_ms` (this also bounds hyper's protocol sniffing,
//!   which has no timeout of its own), and HTTP/1 request headers must
//!   arrive within it (hyper's `header_read_timeout`);
//! - a connection with no request in flight for `idle_timeout_ms` is closed
//!   gracefully (GOAWAY for HTTP/2);
//! - on shutdown every connection is asked to close gracefully and the
//!   gateway waits for them (bounded by the shutdown grace).

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tonic::body::Body;

/// Connections per client address, so one client cannot take every slot
/// of the global limit. Trusted proxies (whose clients are told apart by
/// `x-forwarded-for`) are not limited here.
#[derive(Debug)]
pub(crate) struct PerClient {
    max: usize,
    exempt: Arc<[IpAddr]>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerClient {
    pub(crate) fn new(max: usize, exempt: Arc<[IpAddr]>) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            exempt,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more connection of `client`, or `None` when it has
    /// `max` open already.
    pub(crate) fn admit(self: &Arc<Self>, client: IpAddr) -> Option<ClientSlot> {
        if self.exempt.contains(&client) {
            return Some(ClientSlot { owner: None, client });
        }
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(client).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            owner: Some(self.clone()),
            client,
        })
    }
}

/// One open connection of a client (see [`PerClient::admit`]).
#[derive(Debug)]
pub(crate) struct ClientSlot {
    owner: Option<Arc<PerClient>>,
    client: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Some(owner) = &self.owner {
            let mut open = owner.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(count) = open.get_mut(&self.client) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(&self.client);
                }
            }
        }
    }
}

/// How long a connection that was asked to close (idle, or shutting down
/// with nothing in flight) may take before it is dropped.
const CLOSE_GRACE_SECS: u64 = 5;

/// Request activity of one connection: requests in flight (their response
/// bodies not yet finished) and when the count last changed.
#[derive(Debug)]
pub(crate) struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started` of the last change; `u64::MAX` while no
    /// request ever arrived.
    last_change_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_change_ms: AtomicU64::new(u64::MAX),
        })
    }

    fn stamp(&self) {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_change_ms.store(elapsed, Ordering::Relaxed);
    }

    /// Marks a request in flight until the returned guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.stamp();
        InFlight(self.clone())
    }

    /// Resolves once the connection has had nothing in flight for `idle`,
    /// or never sent a complete request within `first_request`.
    pub(crate) async fn idle(&self, first_request: Duration, idle: Duration) {
        loop {
            let last = self.last_change_ms.load(Ordering::Relaxed);
            let deadline = if last == u64::MAX {
                self.started + first_request
            } else {
                self.started + Duration::from_millis(last) + idle
            };
            if Instant::now() >= deadline
                && self.in_flight.load(Ordering::Relaxed) == 0
                && self.last_change_ms.load(Ordering::Relaxed) == last
            {
                return;
            }
            // In flight: look again after a while; otherwise at the deadline.
            let wake = if self.in_flight.load(Ordering::Relaxed) > 0 {
                Instant::now() + idle.min(Duration::from_secs(1)).max(Duration::from_millis(100))
            } else {
                deadline.max(Instant::now() + Duration::from_millis(10))
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// A request in flight on a connection (see [`Activity::enter`]).
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.stamp();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request counted as in flight until it is
/// finished (streams too).
#[derive(Debug)]
pub(crate) struct ActivityBody {
    inner: Body,
    _in_flight: InFlight,
}

impl ActivityBody {
    pub(crate) fn new(inner: Body, in_flight: InFlight) -> Self {
        Self {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl HttpBody for ActivityBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Time limits of one connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    pub(crate) first_request: Duration,
    pub(crate) idle: Duration,
    pub(crate) shutdown_grace: Duration,
}

/// What a connection's task needs besides the connection itself.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    pub(crate) limits: ConnectionLimits,
    /// Becomes `true` when the gateway shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Its place under the connection limits, given back when it ends.
    pub(crate) slot: OwnedSemaphorePermit,
    pub(crate) client_slot: ClientSlot,
    pub(crate) peer: std::net::SocketAddr,
}

/// Serves one accepted connection until it ends, is idle too long, or the
/// gateway shuts down.
pub(crate) async fn serve<I, S>(
    builder: ConnectionBuilder<TokioExecutor>,
    io: I,
    service: S,
    activity: Arc<Activity>,
    lifecycle: Lifecycle,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Lifecycle {
        limits,
        mut shutdown,
        slot: _slot,
        client_slot: _client_slot,
        peer,
    } = lifecycle;
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    let idle = activity.idle(limits.first_request, limits.idle);
    tokio::pin!(idle);
    let mut close_by: Option<Instant> = None;
    let mut shutting_down = *shutdown.borrow();
    if shutting_down {
        connection.as_mut().graceful_shutdown();
        close_by = Some(Instant::now() + limits.shutdown_grace);
    }
    loop {
        let hard_deadline = close_by.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            () = &mut idle, if close_by.is_none() => {
                tracing::debug!(%peer, "closing an idle connection");
                connection.as_mut().graceful_shutdown();
                close_by = Some(Instant::now() + Duration::from_secs(CLOSE_GRACE_SECS));
            }
            changed = shutdown.changed(), if !shutting_down => {
                shutting_down = true;
                if changed.is_err() || *shutdown.borrow() {
                    connection.as_mut().graceful_shutdown();
                    let grace = Instant::now() + limits.shutdown_grace;
                    close_by = Some(close_by.map_or(grace, |c| c.min(grace)));
                }
            }
            () = tokio::time::sleep_until(hard_deadline), if close_by.is_some() => {
                tracing::debug!(%peer, "dropping a connection that did not close in time");
                return;
            }
        }
    }
}
