//! Edge policy, each a small tower layer: who the client is and which
//! request this is (request id, client address), per-client rate limiting
//! in Redis, and load shedding. CORS and security headers come from
//! tower-http in `lib.rs`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use http::HeaderValue;
use redis::aio::ConnectionManager;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::respond;

/// Longest request id accepted from a client; longer ones are replaced.
pub const REQUEST_ID_MAX_LEN: usize = 128;
/// The request id header, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What the edge learned about a request, in its extensions.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    /// The end user's address (the TCP peer, or the first
    /// `x-forwarded-for` hop when the peer is a trusted proxy).
    pub addr: IpAddr,
    /// The request id (accepted from the client or generated).
    pub request_id: String,
}

/// The TCP peer of a connection, put in every request's extensions by the
/// accept loop.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = !text.is_empty()
        && text.len() <= REQUEST_ID_MAX_LEN
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| text.to_owned())
}

/// Assigns the request id and client address, strips client-supplied
/// forwarding headers (a client must not choose its own identity for
/// throttling), and returns the request id on the response.
#[derive(Clone, Debug)]
pub struct ClientInfoLayer {
    trusted_proxies: Arc<[IpAddr]>,
}

impl ClientInfoLayer {
    /// `trusted_proxies` may set `x-forwarded-for` (e.g. an ingress).
    pub fn new(trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            trusted_proxies: trusted_proxies.into(),
        }
    }
}

impl<S> Layer<S> for ClientInfoLayer {
    type Service = ClientInfoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientInfoService {
            inner,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

/// See [`ClientInfoLayer`].
#[derive(Clone, Debug)]
pub struct ClientInfoService<S> {
    inner: S,
    trusted_proxies: Arc<[IpAddr]>,
}

impl<S, B> Service<http::Request<B>> for ClientInfoService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let peer = request
            .extensions()
            .get::<PeerAddr>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|first| first.trim().parse::<IpAddr>().ok());
        let addr = match forwarded {
            Some(client) if self.trusted_proxies.contains(&peer) => client,
            _ => peer,
        };
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(sane_request_id)
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let headers = request.headers_mut();
        headers.remove("x-forwarded-for");
        headers.remove("forwarded");
        if let Ok(value) = HeaderValue::from_str(&addr.to_string()) {
            headers.insert("x-forwarded-for", value);
        }
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
        request.extensions_mut().insert(ClientInfo {
            addr,
            request_id: request_id.clone(),
        });
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        })
    }
}

/// A token bucket per client address, kept in Redis so every gateway
/// replica shares it. The script refills by elapsed time and takes up to
/// `ARGV[4]` whole tokens atomically (a lease, see [`RateLimitLayer`]);
/// it returns how many it granted, or 0 and the wait in milliseconds.
const TOKEN_BUCKET_LUA: &str = r"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local data = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local granted = math.min(math.floor(tokens), want)
local wait = 0
if granted >= 1 then
  tokens = tokens - granted
else
  granted = 0
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {granted, wait}
";

/// Most tokens one lease takes from the shared bucket.
const LEASE_MAX: u32 = 64;
/// A lease's unused tokens are dropped after this long (never handed
/// back, so a replica can only under-use the shared rate).
const LEASE_TTL: Duration = Duration::from_secs(1);
/// Clients with a live lease kept in memory; past this, expired leases
/// are swept, and if none expired the map starts over.
const LEASES_MAX: usize = 100_000;

/// Tokens a replica took from a client's shared bucket and not used yet.
#[derive(Clone, Copy, Debug)]
struct Lease {
    tokens: u32,
    until: Instant,
}

/// Rate limit settings.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct RateLimitConfig {
    /// Sustained requests per second per client address (0 disables).
    #[serde(default = "default_rate")]
    pub per_second: u32,
    /// Burst size: requests a quiet client may send at once.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_rate() -> u32 {
    100
}
fn default_burst() -> u32 {
    200
}

impl RateLimitConfig {
    /// Tokens a replica leases from the shared bucket per Redis call: a
    /// twentieth of the rate, a quarter of the burst, at most
    /// [`LEASE_MAX`], at least one.
    pub fn lease_size(&self) -> u32 {
        (self.per_second / 20).min(self.burst / 4).clamp(1, LEASE_MAX)
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: default_rate(),
            burst: default_burst(),
        }
    }
}

/// Refuses clients over their rate with 429 / RESOURCE_EXHAUSTED and a
/// Retry-After. Fails open (logged) when Redis is down: the gateway's
/// concurrency limit still protects the mesh.
///
/// The bucket lives in Redis, but a replica does not ask Redis for every
/// request: it leases a few tokens at a time
/// ([`RateLimitConfig::lease_size`]) and spends
/// them locally for up to [`LEASE_TTL`]. Leased tokens are gone from the
/// shared bucket, so all replicas together never exceed the rate; a busy
/// client costs one Redis call per lease instead of one per request.
#[derive(Clone)]
pub struct RateLimitLayer {
    redis: ConnectionManager,
    script: Arc<redis::Script>,
    prefix: Arc<str>,
    config: RateLimitConfig,
    leases: Arc<Mutex<HashMap<IpAddr, Lease>>>,
    failing: Arc<AtomicBool>,
}

impl std::fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RateLimitLayer {
    /// A limiter with keys under `<prefix>:gateway:rate:`.
    pub fn new(redis: ConnectionManager, prefix: &str, config: RateLimitConfig) -> Self {
        Self {
            redis,
            script: Arc::new(redis::Script::new(TOKEN_BUCKET_LUA)),
            prefix: format!("{prefix}:gateway:rate").into(),
            config,
            leases: Arc::new(Mutex::new(HashMap::new())),
            failing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Spends one token of `client`'s lease, if it has a live one.
    fn spend_leased(&self, client: IpAddr, now: Instant) -> bool {
        let mut leases = self.leases.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match leases.get_mut(&client) {
            Some(lease) if lease.tokens > 0 && lease.until > now => {
                lease.tokens -= 1;
                true
            }
            Some(_) => {
                leases.remove(&client);
                false
            }
            None => false,
        }
    }

    /// Keeps the rest of a new lease of `granted` tokens (one is spent now).
    fn keep_lease(&self, client: IpAddr, granted: u32, now: Instant) {
        if granted <= 1 {
            return;
        }
        let mut leases = self.leases.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if leases.len() >= LEASES_MAX {
            leases.retain(|_, lease| lease.until > now && lease.tokens > 0);
            if leases.len() >= LEASES_MAX {
                leases.clear();
            }
        }
        let lease = leases.entry(client).or_insert(Lease {
            tokens: 0,
            until: now + LEASE_TTL,
        });
        lease.tokens = lease.tokens.saturating_add(granted - 1);
        lease.until = now + LEASE_TTL;
    }

    /// `Ok(())` or how long to wait.
    async fn take(&self, client: IpAddr) -> Result<(), Duration> {
        if self.config.per_second == 0 {
            return Ok(());
        }
        let now = Instant::now();
        if self.spend_leased(client, now) {
            return Ok(());
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut redis = self.redis.clone();
        let result: redis::RedisResult<(i64, i64)> = self
            .script
            .key(format!("{}:{client}", self.prefix))
            .arg(self.config.per_second)
            .arg(self.config.burst.max(1))
            .arg(now_ms)
            .arg(self.config.lease_size())
            .invoke_async(&mut redis)
            .await;
        match result {
            Ok((granted, _)) if granted >= 1 => {
                self.failing.store(false, Ordering::Relaxed);
                self.keep_lease(client, u32::try_from(granted).unwrap_or(1), now);
                Ok(())
            }
            Ok((_, wait_ms)) => Err(Duration::from_millis(u64::try_from(wait_ms.max(1)).unwrap_or(1_000))),
            Err(error) => {
                bank_server::metrics::redis_error("gateway", "rate_limit");
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::error!(%error, "rate limiter unavailable: not enforcing");
                }
                Ok(())
            }
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            limiter: self.clone(),
        }
    }
}

/// See [`RateLimitLayer`].
#[derive(Clone, Debug)]
pub struct RateLimitService<S> {
    inner: S,
    limiter: RateLimitLayer,
}

impl<S, B> Service<http::Request<B>> for RateLimitService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limiter = self.limiter.clone();
        Box::pin(async move {
            // CORS preflights are cheap and must not eat the budget.
            if request.method() != http::Method::OPTIONS
                && let Some(client) = request.extensions().get::<ClientInfo>().map(|c| c.addr)
                && let Err(wait) = limiter.take(client).await
            {
                return Ok(respond::too_many_requests(&request, wait));
            }
            inner.call(request).await
        })
    }
}
