//! [`BankChannel`]: the tower service every typed client of a [`crate::Bank`]
//! sends through. Per call it attaches `authorization: Bearer <token>` and an
//! `x-request-id` (both unless the caller set them), fills an empty
//! idempotency key, and retries what may be retried (see [`crate::methods`]).

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf as _, Bytes};
use http::{HeaderMap, HeaderValue};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt as _, Full};
use tonic::body::Body;
use tonic::{Code, Status};
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt as _};

use crate::methods::{KeyPath, Method, Methods, Safety};
use crate::wire;

/// An error of the transport below the channel.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The transport a [`BankChannel`] sends on: any cloneable HTTP/2 service.
pub type Transport = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>;

/// The request id header, set on every call (and echoed by the gateway).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest response body buffered to read a unary call's status (tonic's
/// default decoding limit, plus framing).
const UNARY_RESPONSE_MAX_BYTES: usize = 4 * 1024 * 1024 + 5;

/// How calls that may be retried are retried: up to `max_attempts` in all,
/// waiting `initial_backoff`, then twice as long each time up to
/// `max_backoff` (each wait jittered between half and all of it), on
/// UNAVAILABLE, DEADLINE_EXCEEDED and transport errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The first wait.
    pub initial_backoff: Duration,
    /// The longest wait; a server's RetryInfo asking for longer ends the
    /// retries instead.
    pub max_backoff: Duration,
}

/// Attempts of a retried call by default.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// First backoff by default, in milliseconds.
pub const DEFAULT_INITIAL_BACKOFF_MS: u64 = 100;
/// Longest backoff by default, in milliseconds.
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 2_000;

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: Duration::from_millis(DEFAULT_INITIAL_BACKOFF_MS),
            max_backoff: Duration::from_millis(DEFAULT_MAX_BACKOFF_MS),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `next` (2, 3, ...), jittered.
    fn backoff(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(20);
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::random_range(0..=jitter_ms))
    }
}

/// The bearer token, shared by every clone of a [`crate::Bank`] and every
/// client made from it.
#[derive(Default)]
pub(crate) struct Credentials {
    token: RwLock<Option<Arc<str>>>,
}

impl Credentials {
    pub fn set(&self, token: Option<&str>) {
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = token.map(Arc::from);
    }

    pub fn get(&self) -> Option<Arc<str>> {
        self.token.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Per-call settings of a channel.
#[derive(Clone, Debug)]
pub(crate) struct CallPolicy {
    pub retry: RetryPolicy,
    /// Each attempt's limit (for streams: until the response starts).
    pub attempt_timeout: Option<Duration>,
}

/// The tower service behind every typed client of a [`crate::Bank`]; see
/// the module docs. Cheap to clone.
#[derive(Clone)]
pub struct BankChannel {
    transport: Transport,
    credentials: Arc<Credentials>,
    policy: Arc<CallPolicy>,
    methods: &'static Methods,
}

impl fmt::Debug for BankChannel {
    // The token never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankChannel")
            .field("has_token", &self.credentials.get().is_some())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl BankChannel {
    pub(crate) fn new(transport: Transport, credentials: Arc<Credentials>, policy: CallPolicy) -> Self {
        Self {
            transport,
            credentials,
            policy: Arc::new(policy),
            methods: Methods::bank(),
        }
    }

    /// The same transport and policy with other credentials.
    pub(crate) fn with_credentials(&self, credentials: Arc<Credentials>) -> Self {
        Self {
            credentials,
            ..self.clone()
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

impl Service<http::Request<Body>> for BankChannel {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness is awaited per attempt on a clone of the transport.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        if !parts.headers.contains_key(http::header::AUTHORIZATION)
            && let Some(token) = self.credentials.get()
            && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {token}"))
        {
            value.set_sensitive(true);
            parts.headers.insert(http::header::AUTHORIZATION, value);
        }
        if !parts.headers.contains_key(REQUEST_ID_HEADER)
            && let Ok(value) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        {
            parts.headers.insert(REQUEST_ID_HEADER, value);
        }
        let method = self.methods.get(parts.uri.path());
        let transport = self.transport.clone();
        let policy = self.policy.clone();
        if !method.single_request {
            // A client stream cannot be replayed: sent once as it comes.
            return Box::pin(attempt(transport, http::Request::from_parts(parts, body), false));
        }
        Box::pin(async move {
            let frame = body.collect().await.map_err(BoxError::from)?.to_bytes();
            let (frame, retryable) = match method.safety {
                Safety::Read => (frame, true),
                Safety::Keyed(path) => match with_idempotency_key(&frame, path) {
                    Some(filled) => (filled, true),
                    // Not a plain message we can read: send it once.
                    None => (frame, false),
                },
                Safety::Once => (frame, false),
            };
            let attempts = if retryable { policy.retry.max_attempts.max(1) } else { 1 };
            let template = Template {
                method: parts.method,
                uri: parts.uri,
                version: parts.version,
                headers: parts.headers,
            };
            send_with_retries(transport, &template, frame, method, &policy, attempts).await
        })
    }
}

/// What every attempt of a call sends.
struct Template {
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    headers: HeaderMap,
}

impl Template {
    fn request(&self, frame: Bytes) -> http::Request<Body> {
        let mut request = http::Request::new(Body::new(Full::new(frame)));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.version_mut() = self.version;
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// `frame` (one uncompressed gRPC message) with its idempotency key(s)
/// filled with fresh UUIDs where empty; `None` when it is not one plain
/// message.
fn with_idempotency_key(frame: &[u8], path: KeyPath) -> Option<Bytes> {
    let (&compressed, rest) = frame.split_first()?;
    let (len, message) = rest.split_first_chunk::<4>()?;
    if compressed != 0 || usize::try_from(u32::from_be_bytes(*len)).ok()? != message.len() {
        return None;
    }
    let mut fresh = || uuid::Uuid::new_v4().to_string();
    let filled = match path {
        KeyPath::Field(number) => wire::fill_string(message, number, &mut fresh),
        KeyPath::Items { list, item } => wire::fill_string_in_items(message, list, item, &mut fresh),
    }
    .ok()?;
    let mut out = Vec::with_capacity(filled.len() + 5);
    out.push(0);
    out.extend_from_slice(&u32::try_from(filled.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&filled);
    Some(Bytes::from(out))
}

/// How one attempt ended.
enum Attempt {
    /// A response to hand over (success or a final error status).
    Done(http::Response<Body>),
    /// A retryable status (UNAVAILABLE, DEADLINE_EXCEEDED) and the
    /// server's RetryInfo delay, with the response to hand over if no
    /// attempt is left.
    Retryable(http::Response<Body>, Option<Duration>),
}

fn retryable_code(code: Code) -> bool {
    matches!(code, Code::Unavailable | Code::DeadlineExceeded)
}

fn status_of(headers: &HeaderMap) -> Option<Status> {
    headers
        .contains_key("grpc-status")
        .then(|| Status::from_header_map(headers))
        .flatten()
}

fn classify(response: http::Response<Body>, status: Option<Status>) -> Attempt {
    match status {
        Some(status) if retryable_code(status.code()) => {
            use tonic_types::StatusExt as _;
            let delay = status.get_error_details().retry_info().and_then(|r| r.retry_delay);
            Attempt::Retryable(response, delay)
        }
        _ => Attempt::Done(response),
    }
}

/// One attempt: the response, buffered for unary calls so the status in
/// its trailers can be read.
async fn attempt_once(
    mut transport: Transport,
    request: http::Request<Body>,
    unary: bool,
) -> Result<Attempt, BoxError> {
    let response = transport.ready().await?.call(request).await?;
    // A trailers-only response carries its status in the headers.
    if let Some(status) = status_of(response.headers()) {
        return Ok(classify(response, Some(status)));
    }
    if !unary {
        return Ok(Attempt::Done(response));
    }
    let (parts, body) = response.into_parts();
    let collected = http_body_util::Limited::new(body, UNARY_RESPONSE_MAX_BYTES)
        .collect()
        .await?;
    let trailers = collected.trailers().cloned();
    let data = collected.to_bytes();
    let status = trailers.as_ref().and_then(status_of);
    let body = Body::new(Buffered {
        data: Some(data).filter(|d| d.has_remaining()),
        trailers,
    });
    Ok(classify(http::Response::from_parts(parts, body), status))
}

/// A single attempt of a call that is never retried.
async fn attempt(
    transport: Transport,
    request: http::Request<Body>,
    unary: bool,
) -> Result<http::Response<Body>, BoxError> {
    match attempt_once(transport, request, unary).await? {
        Attempt::Done(response) | Attempt::Retryable(response, _) => Ok(response),
    }
}

async fn send_with_retries(
    transport: Transport,
    template: &Template,
    frame: Bytes,
    method: Method,
    policy: &CallPolicy,
    attempts: u32,
) -> Result<http::Response<Body>, BoxError> {
    let path = template.uri.path();
    let mut number = 1;
    loop {
        let sent = attempt_once(transport.clone(), template.request(frame.clone()), method.unary);
        let outcome = match policy.attempt_timeout {
            Some(limit) => tokio::time::timeout(limit, sent)
                .await
                .unwrap_or_else(|_| Err(Box::new(Status::deadline_exceeded("the call timed out")))),
            None => sent.await,
        };
        let last = number >= attempts;
        let (wait, why) = match outcome {
            Ok(Attempt::Done(response)) => return Ok(response),
            Ok(Attempt::Retryable(response, _)) if last => return Ok(response),
            Err(error) if last => return Err(error),
            Ok(Attempt::Retryable(response, server_delay)) => {
                let backoff = policy.retry.backoff(number + 1);
                match server_delay {
                    // The server wants a longer pause than we would wait: let the caller decide.
                    Some(delay) if delay > policy.retry.max_backoff => return Ok(response),
                    Some(delay) => (backoff.max(delay), "status"),
                    None => (backoff, "status"),
                }
            }
            Err(_) => (policy.retry.backoff(number + 1), "transport"),
        };
        tracing::debug!(
            path,
            attempt = number,
            why,
            wait_ms = wait.as_millis() as u64,
            "retrying"
        );
        tokio::time::sleep(wait).await;
        number += 1;
    }
}

/// A response body already read: its data, then its trailers.
struct Buffered {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for Buffered {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds() {
        let policy = RetryPolicy::default();
        for (next, full_ms) in [(2, 100), (3, 200), (4, 400), (9, 2_000), (40, 2_000)] {
            let wait = policy.backoff(next);
            assert!(wait >= Duration::from_millis(full_ms / 2), "{next}: {wait:?}");
            assert!(wait <= Duration::from_millis(full_ms), "{next}: {wait:?}");
        }
    }

    #[test]
    fn keys_are_filled_only_in_plain_frames() {
        use bank_proto::bank::transfer::v1::DepositRequest;
        use prost::Message as _;
        let message = DepositRequest::default().encode_to_vec();
        let mut frame = vec![0];
        frame.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
        frame.extend_from_slice(&message);
        let filled = with_idempotency_key(&frame, KeyPath::Field(1)).unwrap();
        let decoded = DepositRequest::decode(&filled[5..]).unwrap();
        assert_eq!(decoded.request_id.len(), 36);
        assert_eq!(
            usize::try_from(u32::from_be_bytes(filled[1..5].try_into().unwrap())).unwrap(),
            filled.len() - 5
        );
        frame[0] = 1;
        assert!(with_idempotency_key(&frame, KeyPath::Field(1)).is_none(), "compressed");
        assert!(
            with_idempotency_key(&[0, 0, 0], KeyPath::Field(1)).is_none(),
            "truncated"
        );
    }
}
