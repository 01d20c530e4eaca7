//! Connection hygiene at the public port, so that clients who hold
//! connections without using them cannot exhaust the gateway:
//!
//! - at most `max_connections` connections at once, and at most
//!   `max_connections_per_client` of one client address (more are closed on
//!   accept), so file descriptors and per-connection memory are bounded and
//!   one client cannot take every slot;
//! - a connection must send its first request's headers within
//!   `header_read_timeout_ms` (this also bounds hyper's protocol sniffing,
//!   which has no timeout of its own);
//! - on an HTTP/1 keep-alive connection, a later request's headers must
//!   arrive within `header_read_timeout_ms` of their first byte (slow
//!   loris; checked every quarter of it), while the connection itself may
//!   wait for that first byte as long as any idle connection
//!   ([`Watched`]: hyper's own `header_read_timeout` would start at the end
//!   of the previous response, so every keep-alive connection idle for
//!   that long would be closed under clients that still count on it);
//! - a connection with no request in flight for `idle_timeout_ms` is closed
//!   gracefully (GOAWAY for HTTP/2);
//! - on shutdown every connection is asked to close gracefully and the
//!   gateway waits for them (bounded by the shutdown grace).

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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

/// `Activity`'s "no time recorded".
const NEVER: u64 = u64::MAX;

/// Request activity of one connection: requests in flight (their response
/// bodies not yet finished), when the count last changed, and whether the
/// head of a next request has begun to arrive.
#[derive(Debug)]
pub(crate) struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started` of the last change; [`NEVER`] while no
    /// request ever arrived.
    last_change_ms: AtomicU64,
    /// Milliseconds after `started` when bytes arrived while no request
    /// was in flight (a request head under way, HTTP/1 only); [`NEVER`]
    /// when none is.
    head_since_ms: AtomicU64,
    /// An HTTP/2 connection: no heads to time.
    untimed: AtomicBool,
}

/// Why a connection should be closed (see [`Activity::idle`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Close {
    /// No request in flight for the idle time, or no first request in
    /// time: closed gracefully.
    Idle,
    /// A request head began to arrive and did not complete in time:
    /// dropped at once.
    StalledHead,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_change_ms: AtomicU64::new(NEVER),
            head_since_ms: AtomicU64::new(NEVER),
            untimed: AtomicBool::new(false),
        })
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(NEVER - 1)
    }

    fn stamp(&self) {
        self.last_change_ms.store(self.elapsed_ms(), Ordering::Relaxed);
    }

    /// Marks a request in flight until the returned guard is dropped. Its
    /// head is complete, so no head is pending any more.
    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_since_ms.store(NEVER, Ordering::Relaxed);
        self.stamp();
        InFlight(self.clone())
    }

    /// Bytes arrived: with no request in flight they begin a request head
    /// (HTTP/1 only), whose clock starts now unless it is running already.
    fn head_bytes(&self) {
        if !self.untimed.load(Ordering::Relaxed)
            && self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_since_ms.load(Ordering::Relaxed) == NEVER
        {
            self.head_since_ms.store(self.elapsed_ms(), Ordering::Relaxed);
        }
    }

    /// Stops timing heads (an HTTP/2 connection: its frames between
    /// requests are no request head).
    fn untimed_heads(&self) {
        self.untimed.store(true, Ordering::Relaxed);
        self.head_since_ms.store(NEVER, Ordering::Relaxed);
    }

    /// Resolves once the connection has had nothing in flight for `idle`,
    /// never sent a complete request within `head`, or began a later
    /// request's head more than `head` ago without completing it.
    pub(crate) async fn idle(&self, head: Duration, idle: Duration) -> Close {
        loop {
            let last = self.last_change_ms.load(Ordering::Relaxed);
            let head_since = self.head_since_ms.load(Ordering::Relaxed);
            let (deadline, why) = if last == NEVER {
                (self.started + head, Close::Idle)
            } else {
                let idle_at = self.started + Duration::from_millis(last) + idle;
                let head_at = (head_since != NEVER).then(|| self.started + Duration::from_millis(head_since) + head);
                match head_at {
                    Some(head_at) if head_at < idle_at => (head_at, Close::StalledHead),
                    _ => (idle_at, Close::Idle),
                }
            };
            if Instant::now() >= deadline
                && self.in_flight.load(Ordering::Relaxed) == 0
                && self.last_change_ms.load(Ordering::Relaxed) == last
                && self.head_since_ms.load(Ordering::Relaxed) == head_since
            {
                return why;
            }
            // In flight: look again after a while; otherwise at the deadline,
            // or after a quarter of `head` for a head that starts meanwhile
            // (so a stalled head is dropped within 1.25 `head` of its first
            // byte, with no wake-up per request); HTTP/2 has no heads.
            let wake = if self.in_flight.load(Ordering::Relaxed) > 0 {
                Instant::now() + idle.min(Duration::from_secs(1)).max(Duration::from_millis(100))
            } else if self.untimed.load(Ordering::Relaxed) && last != NEVER {
                deadline.max(Instant::now() + Duration::from_millis(10))
            } else {
                deadline
                    .min(Instant::now() + (head / 4).max(Duration::from_millis(10)))
                    .max(Instant::now() + Duration::from_millis(10))
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// The HTTP/2 connection preface's first bytes (`PRI * HTTP/2.0`); no
/// HTTP/1 method starts so.
const H2_PREFACE_START: &[u8; 3] = b"PRI";

/// A connection's byte stream, watched for request heads: bytes that
/// arrive while no request is in flight start the head's clock (see
/// [`Activity::idle`]). A connection that opens with the HTTP/2 preface is
/// not timed this way.
#[derive(Debug)]
pub(crate) struct Watched<I> {
    inner: I,
    activity: Arc<Activity>,
    /// The connection's first bytes, up to the preface check.
    start: [u8; 3],
    start_len: usize,
}

impl<I> Watched<I> {
    pub(crate) fn new(inner: I, activity: Arc<Activity>) -> Self {
        Self {
            inner,
            activity,
            start: [0; 3],
            start_len: 0,
        }
    }

    fn arrived(&mut self, bytes: &[u8]) {
        if self.start_len < self.start.len() {
            let take = bytes.len().min(self.start.len() - self.start_len);
            self.start[self.start_len..self.start_len + take].copy_from_slice(&bytes[..take]);
            self.start_len += take;
            if self.start_len == self.start.len() && &self.start == H2_PREFACE_START {
                self.activity.untimed_heads();
            }
        }
        self.activity.head_bytes();
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.arrived(&buf.filled()[before..]);
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
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
    /// A request's head must arrive within this: the first one from the
    /// connection's start, later ones from their first byte.
    pub(crate) head: Duration,
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
    let io = Watched::new(io, activity.clone());
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    let idle = activity.idle(limits.head, limits.idle);
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
            why = &mut idle, if close_by.is_none() => {
                if why == Close::StalledHead {
                    tracing::debug!(%peer, "dropping a connection whose request head stalled");
                    return;
                }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// Reads what the peer wrote through `watched`.
    async fn pass<I: AsyncRead + Unpin>(watched: &mut Watched<I>, len: usize) {
        let mut buf = vec![0u8; len];
        watched.read_exact(&mut buf).await.unwrap();
    }

    #[tokio::test]
    async fn a_later_http1_head_is_timed_from_its_first_byte() {
        let activity = Activity::new();
        let (mut peer, io) = tokio::io::duplex(1024);
        let mut watched = Watched::new(io, activity.clone());
        let first = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        peer.write_all(first).await.unwrap();
        pass(&mut watched, first.len()).await;
        drop(activity.enter());
        assert_eq!(
            activity.head_since_ms.load(Ordering::Relaxed),
            NEVER,
            "a complete head is not pending"
        );

        // Idle between requests: no head clock.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(activity.head_since_ms.load(Ordering::Relaxed), NEVER);
        let started = Instant::now();
        peer.write_all(b"GET / HT").await.unwrap();
        pass(&mut watched, 8).await;
        let why = tokio::time::timeout(
            Duration::from_secs(5),
            activity.idle(Duration::from_millis(100), Duration::from_secs(10)),
        )
        .await
        .unwrap();
        assert_eq!(why, Close::StalledHead);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(90) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn http2_frames_between_requests_are_not_a_head() {
        let activity = Activity::new();
        let (mut peer, io) = tokio::io::duplex(1024);
        let mut watched = Watched::new(io, activity.clone());
        let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        // The preface in two pieces, split inside its first three bytes.
        peer.write_all(&preface[..2]).await.unwrap();
        pass(&mut watched, 2).await;
        peer.write_all(&preface[2..]).await.unwrap();
        pass(&mut watched, preface.len() - 2).await;
        drop(activity.enter());
        // A PING frame while nothing is in flight.
        peer.write_all(&[0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
            .await
            .unwrap();
        pass(&mut watched, 17).await;
        assert_eq!(activity.head_since_ms.load(Ordering::Relaxed), NEVER);
        let why = tokio::time::timeout(
            Duration::from_secs(5),
            activity.idle(Duration::from_millis(50), Duration::from_millis(300)),
        )
        .await
        .unwrap();
        assert_eq!(why, Close::Idle);
    }
}
