//! Prometheus metrics shared by every bank process: one recorder per
//! process (so `bank up` renders all its services together, labelled by
//! service), and a tower layer counting RPCs by service, method and gRPC
//! code with a latency histogram and an in-flight gauge.

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower::{Layer, Service};

/// RPCs handled, by service, method and gRPC status code.
pub const RPC_REQUESTS: &str = "bank_rpc_requests_total";
/// RPC latency in seconds until the response ended, by service and method.
pub const RPC_DURATION: &str = "bank_rpc_duration_seconds";
/// RPCs in flight, by service.
pub const RPC_IN_FLIGHT: &str = "bank_rpc_in_flight";
/// Failed Redis operations, by service and what they were for.
pub const REDIS_ERRORS: &str = "bank_redis_errors_total";
/// Pooled PostgreSQL connections, by service and state (`idle`, `in_use`).
pub const DB_POOL_CONNECTIONS: &str = "bank_db_pool_connections";

/// Histogram buckets for RPC latency: 0.5 ms .. 10 s.
const LATENCY_BUCKETS_SECS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (first call) and returns the handle
/// that renders the Prometheus text format. `None` if another recorder was
/// installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS_SECS)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}

/// Counts a failed Redis operation of `service` for `purpose`.
pub fn redis_error(service: &'static str, purpose: &'static str) {
    metrics::counter!(REDIS_ERRORS, "service" => service, "purpose" => purpose).increment(1);
}

/// Records pool occupancy of `service` (call periodically).
pub fn record_pool(service: &'static str, pool: &bank_db::Pool) {
    let status = pool.status();
    let idle = status.available;
    let in_use = status.size.saturating_sub(idle);
    #[allow(clippy::cast_precision_loss, reason = "pool sizes are tiny")]
    {
        metrics::gauge!(DB_POOL_CONNECTIONS, "service" => service, "state" => "idle").set(idle as f64);
        metrics::gauge!(DB_POOL_CONNECTIONS, "service" => service, "state" => "in_use").set(in_use as f64);
    }
}

/// The layer; `methods` are the paths this server serves (anything else is
/// labelled `other`, so junk paths cannot blow up label cardinality).
#[derive(Clone, Debug)]
pub struct RpcMetricsLayer {
    service: &'static str,
    methods: std::sync::Arc<std::collections::HashSet<String>>,
}

impl RpcMetricsLayer {
    /// Metrics for `service` serving `methods` (full paths).
    pub fn new(service: &'static str, methods: impl IntoIterator<Item = String>) -> Self {
        Self {
            service,
            methods: std::sync::Arc::new(methods.into_iter().collect()),
        }
    }
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`RpcMetricsLayer`].
#[derive(Clone, Debug)]
pub struct RpcMetrics<S> {
    inner: S,
    layer: RpcMetricsLayer,
}

struct Recording {
    service: &'static str,
    method: String,
    started: Instant,
    code: Option<String>,
    span: tracing::Span,
}

impl Recording {
    fn finish(&mut self, code: Option<String>) {
        let code = code.or_else(|| self.code.take()).unwrap_or_else(|| "0".to_owned());
        self.span.record("rpc.grpc.status_code", code.as_str());
        let service = self.service;
        let method = std::mem::take(&mut self.method);
        metrics::counter!(RPC_REQUESTS, "service" => service, "method" => method.clone(), "code" => code).increment(1);
        metrics::histogram!(RPC_DURATION, "service" => service, "method" => method)
            .record(self.started.elapsed().as_secs_f64());
        metrics::gauge!(RPC_IN_FLIGHT, "service" => service).decrement(1.0);
    }
}

pin_project_lite::pin_project! {
    /// A response body that records the RPC when it ends (the gRPC status
    /// is in its trailers) or is dropped.
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        recording: Option<Recording>,
    }

    impl<B> PinnedDrop for MeteredBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(mut recording) = this.recording.take() {
                // Dropped before the end: the client went away.
                recording.finish(Some(recording.code.clone().unwrap_or_else(|| "1".to_owned())));
            }
        }
    }
}

impl<B> HttpBody for MeteredBody<B>
where
    B: HttpBody,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(mut recording) = this.recording.take()
                {
                    let code = trailers
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    recording.finish(code);
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => {
                if let Some(mut recording) = this.recording.take() {
                    recording.finish(None);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for RpcMetrics<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = http::Response<MeteredBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        let method = if self.layer.methods.contains(path) {
            path.to_owned()
        } else {
            "other".to_owned()
        };
        let service = self.layer.service;
        metrics::gauge!(RPC_IN_FLIGHT, "service" => service).increment(1.0);
        let started = Instant::now();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            // Polled inside the RPC's span (tonic enters it around the
            // future, not around `call`): the span is current here.
            let recording = Recording {
                service,
                method,
                started,
                code: None,
                span: tracing::Span::current(),
            };
            let response = inner.call(request).await;
            match response {
                Ok(response) => {
                    // A trailers-only answer carries its status in the headers.
                    let mut recording = recording;
                    recording.code = response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    Ok(response.map(|body| MeteredBody {
                        inner: body,
                        recording: Some(recording),
                    }))
                }
                Err(error) => {
                    let mut recording = recording;
                    recording.finish(Some("2".to_owned()));
                    Err(error)
                }
            }
        })
    }
}
