//! The gateway: the mesh's only public port. It speaks native gRPC
//! (forwarded as is to the owning service over mTLS), grpc-web (converted by
//! tonic-web, then forwarded the same way) and REST/JSON (transcoded from the
//! `google.api.http` annotations). It knows no RPC by hand: routes, the
//! OpenAPI document and reflection all come from the descriptor set.
//! Internal services are refused in every protocol.

mod backends;
mod body;
mod call;
mod conn;
mod console;
mod deadline;
mod edge;
mod local;
mod proxy;
mod respond;
mod rest;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bank_config::{LogFormat, PeerUrls, RedisConfig, TlsPaths};
use bank_mtls::ReloadableTls;
use http::{HeaderName, HeaderValue, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::service::TowerToHyperService;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tonic::body::Body;
use tower::{Layer as _, Service, ServiceBuilder, ServiceExt as _};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::Instrument as _;

pub use backends::{is_internal, public_services};
pub use call::RawCodec;
pub use edge::{ClientInfo, PeerAddr, REQUEST_ID_HEADER, RateLimitConfig};

use crate::backends::Backends;
use crate::body::PermitBody;
use crate::edge::{ClientInfoLayer, RateLimitLayer};
use crate::proxy::GrpcProxy;

/// The workload name: SPIFFE id `spiffe://bank.local/gateway`.
pub const WORKLOAD: &str = "gateway";
/// A TLS handshake on the public port must finish within this.
const PUBLIC_HANDSHAKE_TIMEOUT_SECS: u64 = 10;
/// How long in-flight requests may take to finish after shutdown starts.
pub const SHUTDOWN_GRACE_SECS: u64 = 10;
/// Upper bound of `max_connections` (a semaphore's permits are `u32`s
/// when drained at shutdown).
const MAX_CONNECTIONS_CEILING: usize = 1 << 20;

/// Size and time limits at the edge.
#[derive(Clone, Debug, Deserialize)]
pub struct EdgeLimits {
    /// Largest REST request body, in bytes.
    #[serde(default = "default_rest_body_max")]
    pub rest_body_max_bytes: usize,
    /// Largest gRPC / grpc-web request body, in bytes (the services' own
    /// message limit is 4 MiB).
    #[serde(default = "default_grpc_body_max")]
    pub grpc_body_max_bytes: usize,
    /// Requests in flight at once before new ones are shed with 503.
    #[serde(default = "default_concurrency_max")]
    pub concurrency_max: usize,
    /// Deadline of a unary call (REST, and gRPC with no or a longer
    /// `grpc-timeout`), in milliseconds. A client's shorter deadline wins.
    #[serde(default = "default_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Deadlines of particular routes, in milliseconds, by `pkg.Service`
    /// or `pkg.Service/Method` (the method wins over its service, both over
    /// `request_timeout_ms`). Server-streaming methods have no deadline
    /// unless one is set here. A caller's longer `grpc-timeout` is cut to
    /// its route's; a name that matches nothing stops the gateway at start.
    #[serde(default)]
    pub route_timeouts_ms: std::collections::BTreeMap<String, u64>,
    /// Open client connections at once; more are closed as they are
    /// accepted (bounds file descriptors and per-connection memory).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Open connections of one client address (TCP peer; trusted proxies
    /// are exempt); more are closed as they are accepted.
    #[serde(default = "default_max_connections_per_client")]
    pub max_connections_per_client: usize,
    /// A new connection must send its first request's headers within this,
    /// and a later HTTP/1 request's headers must arrive within this of
    /// their first byte (slow loris), in milliseconds. Keep-alive
    /// connections may wait for a next request up to `idle_timeout_ms`.
    #[serde(default = "default_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// A connection with no request in flight for this long is closed
    /// (gracefully: HTTP/2 gets a GOAWAY), in milliseconds.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// A REST request body must arrive within this, in milliseconds; it is
    /// read before the request takes a concurrency permit, so a slow sender
    /// holds none.
    #[serde(default = "default_body_read_timeout_ms")]
    pub body_read_timeout_ms: u64,
}

fn default_rest_body_max() -> usize {
    1024 * 1024
}
fn default_grpc_body_max() -> usize {
    4 * 1024 * 1024 + 1024
}
fn default_concurrency_max() -> usize {
    1024
}
fn default_timeout_ms() -> u64 {
    15_000
}
fn default_max_connections() -> usize {
    4096
}
fn default_max_connections_per_client() -> usize {
    256
}
fn default_header_read_timeout_ms() -> u64 {
    10_000
}
fn default_idle_timeout_ms() -> u64 {
    120_000
}
fn default_body_read_timeout_ms() -> u64 {
    10_000
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            rest_body_max_bytes: default_rest_body_max(),
            grpc_body_max_bytes: default_grpc_body_max(),
            concurrency_max: default_concurrency_max(),
            request_timeout_ms: default_timeout_ms(),
            route_timeouts_ms: std::collections::BTreeMap::new(),
            max_connections: default_max_connections(),
            max_connections_per_client: default_max_connections_per_client(),
            header_read_timeout_ms: default_header_read_timeout_ms(),
            idle_timeout_ms: default_idle_timeout_ms(),
            body_read_timeout_ms: default_body_read_timeout_ms(),
        }
    }
}

/// TLS for the public port (plain HTTP when absent, for development).
#[derive(Clone, Debug, Deserialize)]
pub struct PublicTls {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// The gateway's configuration.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    /// The public address.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The gateway's mesh identity, used to call the services.
    pub tls: TlsPaths,
    /// Optional TLS on the public port.
    #[serde(default)]
    pub public_tls: Option<PublicTls>,
    /// Redis (rate limits).
    pub redis: RedisConfig,
    /// Where the services are.
    #[serde(default)]
    pub peers: PeerUrls,
    /// Browser origins allowed by CORS (e.g. `https://app.example`); empty
    /// allows same-origin use only.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Proxies (e.g. the ingress) whose `x-forwarded-for` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
    /// Limits.
    #[serde(default)]
    pub limits: EdgeLimits,
    /// Per-client rate limit.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Log line format.
    #[serde(default)]
    pub log_format: LogFormat,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

/// Everything a request may need.
struct Gateway {
    proxy: GrpcProxy,
    local: tonic::service::Routes,
    rest: rest::Rest,
    limits: EdgeLimits,
    permits: Arc<Semaphore>,
    /// Each method's deadline.
    deadlines: Arc<deadline::Deadlines>,
}

fn grpc_web(content_type: &str) -> bool {
    content_type.starts_with("application/grpc-web")
}

impl Gateway {
    async fn handle(self: Arc<Self>, request: http::Request<Incoming>) -> http::Response<Body> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let is_grpc = content_type.starts_with("application/grpc");
        // A REST body is read before the request takes a permit (bounded in
        // size and time), so slow senders hold none of the mesh's capacity.
        let request = if is_grpc {
            request.map(GatewayBody::Streaming)
        } else {
            match self.rest.read_body(request).await {
                Ok(request) => request.map(GatewayBody::Read),
                Err(response) => return response,
            }
        };
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            tracing::warn!("shedding load: concurrency limit reached");
            return respond::overloaded(is_grpc, request.headers().get(header::CONTENT_TYPE).cloned());
        };
        let request_id = request
            .extensions()
            .get::<ClientInfo>()
            .map(|c| c.request_id.clone())
            .unwrap_or_default();
        let protocol = if grpc_web(&content_type) {
            "grpc-web"
        } else if is_grpc {
            "grpc"
        } else {
            "rest"
        };
        let span = tracing::info_span!(
            "gateway",
            otel.name = %format!("{} {}", request.method(), request.uri().path()),
            otel.kind = "server",
            http.request.method = %request.method(),
            url.path = %request.uri().path(),
            protocol,
            service = "gateway",
            request_id = %request_id,
            trace_id = tracing::field::Empty,
        );
        // Continue a caller's trace (REST and grpc-web callers too); the
        // mesh channels carry it on to the services.
        let trace_id = bank_telemetry::extract(&span, request.headers());
        if !trace_id.is_empty() {
            span.record("trace_id", trace_id.as_str());
        }
        let response = async {
            let (parts, body) = request.into_parts();
            match body {
                GatewayBody::Streaming(body) => {
                    self.grpc(http::Request::from_parts(parts, body), grpc_web(&content_type))
                        .await
                }
                GatewayBody::Read(body) => self.rest.handle(http::Request::from_parts(parts, body)).await,
            }
        }
        .instrument(span)
        .await;
        // The permit lives until the response body is done (streams too).
        response.map(|body| Body::new(PermitBody::new(body, permit)))
    }

    async fn grpc(&self, mut request: http::Request<Incoming>, web: bool) -> http::Response<Body> {
        let path = request.uri().path().to_owned();
        let grpc_timeout = HeaderName::from_static("grpc-timeout");
        if let Some(deadline) = self.deadlines.header_for(&path, request.headers().get(&grpc_timeout)) {
            request.headers_mut().insert(grpc_timeout, deadline);
        }
        if self.deadlines.is_timed_stream(&path) {
            request.extensions_mut().insert(deadline::TimedStream);
        }
        let limit = self.limits.grpc_body_max_bytes;
        let request = request.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
        let local = path.starts_with("/grpc.reflection.") || path.starts_with("/grpc.health.");
        let router = GrpcRouter {
            local: self.local.clone(),
            proxy: self.proxy.clone(),
            to_local: local,
        };
        let outcome = if web {
            tonic_web::GrpcWebLayer::new().layer(router).oneshot(request).await
        } else {
            router.oneshot(request).await
        };
        match outcome {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        }
    }
}

/// A request body as the handlers get it: gRPC streams through, REST was
/// read in full at the edge.
enum GatewayBody {
    Streaming(Incoming),
    Read(bytes::Bytes),
}

/// Local gRPC (reflection, health) or the pass-through.
#[derive(Clone)]
struct GrpcRouter {
    local: tonic::service::Routes,
    proxy: GrpcProxy,
    to_local: bool,
}

impl Service<http::Request<Body>> for GrpcRouter {
    type Response = http::Response<Body>;
    type Error = std::convert::Infallible;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if self.to_local {
            let local = self.local.clone();
            Box::pin(async move { local.oneshot(request).await })
        } else {
            let proxy = self.proxy.clone();
            Box::pin(async move { proxy.oneshot(request).await })
        }
    }
}

fn cors(origins: &[String]) -> anyhow::Result<CorsLayer> {
    let origins = origins
        .iter()
        .map(|o| HeaderValue::from_str(o).map_err(|_| anyhow::anyhow!("cors_origins: invalid origin {o:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let exposed = [
        "grpc-status",
        "grpc-message",
        "grpc-status-details-bin",
        "x-request-id",
        "retry-after",
    ]
    .map(HeaderName::from_static);
    let allowed = [
        "content-type",
        "authorization",
        "x-grpc-web",
        "x-user-agent",
        "grpc-timeout",
        "x-request-id",
        "idempotency-key",
        "traceparent",
        "tracestate",
    ]
    .map(HeaderName::from_static);
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            http::Method::GET,
            http::Method::POST,
            http::Method::PUT,
            http::Method::PATCH,
            http::Method::DELETE,
        ])
        .allow_headers(allowed)
        .expose_headers(exposed)
        .max_age(Duration::from_secs(600)))
}

fn public_tls_config(tls: &PublicTls) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| anyhow::anyhow!("public_tls.cert: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("public_tls.cert: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| anyhow::anyhow!("public_tls.key: {e}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Runs the gateway on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mesh_tls = ReloadableTls::load(
        &config.tls.ca,
        &config.tls.cert,
        &config.tls.key,
        config.tls.crl.as_deref(),
    )?;
    // Rotated gateway certificates apply to new backend connections.
    let _tls_watch = bank_server::BackgroundTask::new(mesh_tls.spawn_watch());
    let services = public_services(bank_proto::FILE_DESCRIPTOR_SET)?;
    let backends = Arc::new(Backends::new(&mesh_tls, &config.peers, &services)?);
    let (local, _health_probe) = local::routes(&services, backends.clone()).await?;
    let redis = bank_server::redis_manager(&config.redis)?;
    let deadlines = Arc::new(deadline::Deadlines::new(
        bank_proto::FILE_DESCRIPTOR_SET,
        Duration::from_millis(config.limits.request_timeout_ms.max(1)),
        &config.limits.route_timeouts_ms,
    )?);
    let rest = rest::Rest::new(backends.clone(), &config.limits, deadlines.clone())?;
    let gateway = Arc::new(Gateway {
        proxy: GrpcProxy::new(backends),
        local,
        rest,
        limits: config.limits.clone(),
        permits: Arc::new(Semaphore::new(config.limits.concurrency_max.max(1))),
        deadlines,
    });
    let public_tls = match &config.public_tls {
        Some(tls) => Some(tokio_rustls::TlsAcceptor::from(public_tls_config(tls)?)),
        None => None,
    };
    let secure = public_tls.is_some();

    let handler = tower::service_fn(move |request: http::Request<Incoming>| {
        let gateway = gateway.clone();
        async move { Ok::<_, std::convert::Infallible>(gateway.handle(request).await) }
    });
    let headers = ServiceBuilder::new()
        // HSTS only when the public port speaks TLS.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &http::Response<Body>| secure.then(|| HeaderValue::from_static("max-age=31536000")),
        ))
        // Security headers on every answer; the docs page and the console set their own CSP.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .into_inner();
    let service = ServiceBuilder::new()
        .layer(headers)
        // Browsers on the configured origins, with gRPC's headers exposed.
        .layer(cors(&config.cors_origins)?)
        // Request id in and out, client address for limits and throttling.
        .layer(ClientInfoLayer::new(config.trusted_proxies.clone()))
        // Per-client token bucket shared by every gateway replica.
        .layer(RateLimitLayer::new(
            redis,
            &config.redis.key_prefix,
            config.rate_limit.clone(),
        ))
        .service(handler);

    let local_addr = listener.local_addr()?;
    tracing::info!(%local_addr, tls = secure, services = backends_count(&services), "gateway listening");
    let connection_limits = conn::ConnectionLimits {
        head: Duration::from_millis(config.limits.header_read_timeout_ms.max(1)),
        idle: Duration::from_millis(config.limits.idle_timeout_ms.max(1)),
        shutdown_grace: Duration::from_secs(SHUTDOWN_GRACE_SECS),
    };
    let max_connections = config.limits.max_connections.clamp(1, MAX_CONNECTIONS_CEILING);
    let slots = Arc::new(Semaphore::new(max_connections));
    let per_client = conn::PerClient::new(
        config.limits.max_connections_per_client,
        config.trusted_proxies.clone().into(),
    );
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let mut builder = ConnectionBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // A backstop only: hyper starts this clock when the previous
        // response ends, so at `head` it would close every keep-alive
        // connection idle that long. Heads are timed from their first byte
        // by `conn::Watched`.
        .header_read_timeout(connection_limits.head.max(connection_limits.idle));
    builder.http2().timer(TokioTimer::new());
    let mut refused_logged = false;
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(client_slot) = per_client.admit(peer.ip()) else {
            tracing::debug!(%peer, "per-client connection limit reached: closing");
            drop(tcp);
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closing at once is cheaper than letting the backlog hold it.
            if !std::mem::replace(&mut refused_logged, true) {
                tracing::warn!(max_connections, "connection limit reached: refusing new connections");
            }
            drop(tcp);
            continue;
        };
        refused_logged = false;
        let _ = tcp.set_nodelay(true);
        let activity = conn::Activity::new();
        let per_connection = {
            let service = service.clone();
            let activity = activity.clone();
            tower::service_fn(move |mut request: http::Request<Incoming>| {
                request.extensions_mut().insert(PeerAddr(peer));
                let in_flight = activity.enter();
                let service = service.clone();
                async move {
                    let response = service.oneshot(request).await?;
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| Body::new(conn::ActivityBody::new(body, in_flight))),
                    )
                }
            })
        };
        let hyper_service = TowerToHyperService::new(per_connection);
        let builder = builder.clone();
        let lifecycle = conn::Lifecycle {
            limits: connection_limits,
            shutdown: closing_rx.clone(),
            slot,
            client_slot,
            peer,
        };
        match &public_tls {
            None => {
                tokio::spawn(conn::serve(builder, tcp, hyper_service, activity, lifecycle));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(PUBLIC_HANDSHAKE_TIMEOUT_SECS), acceptor.accept(tcp))
                            .await;
                    let Ok(Ok(stream)) = handshake else {
                        tracing::debug!(%peer, "public TLS handshake failed");
                        return;
                    };
                    conn::serve(builder, stream, hyper_service, activity, lifecycle).await;
                });
            }
        }
    }
    drop(listener);
    tracing::info!("gateway shutting down: draining connections");
    let _ = closing.send(true);
    // Every connection holds a slot until it is done.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(SHUTDOWN_GRACE_SECS + 1), slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("gateway shutdown grace period over");
    }
    Ok(())
}

fn backends_count(services: &[String]) -> usize {
    services.len()
}
