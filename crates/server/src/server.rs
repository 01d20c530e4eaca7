use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use bank_authn::{AuthLayer, Verifier};
use bank_mtls::{ReloadableTls, tls_incoming};
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tower::Service;

use crate::admin::Readiness;
use crate::mesh::BackgroundTask;
use crate::metrics::RpcMetricsLayer;
use crate::request_id::REQUEST_ID_HEADER;

/// How often readiness is re-checked for grpc.health.v1.
const HEALTH_REFRESH_SECS: u64 = 5;

/// The method paths (`/pkg.Service/Method`) of `services`, from the
/// descriptor set: the only method labels metrics use.
fn service_methods(services: &[&'static str]) -> Vec<String> {
    use prost::Message as _;
    let Ok(set) = prost_types::FileDescriptorSet::decode(bank_proto::FILE_DESCRIPTOR_SET) else {
        return Vec::new();
    };
    let mut methods = Vec::new();
    for file in &set.file {
        for service in &file.service {
            let name = format!("{}.{}", file.package(), service.name());
            if services.contains(&name.as_str()) {
                methods.extend(service.method.iter().map(|m| format!("/{name}/{}", m.name())));
            }
        }
    }
    methods
}

/// Longest a single RPC may run on a service (a caller's shorter
/// `grpc-timeout` wins). Streaming RPCs that must outlive it set their own
/// bounds.
pub const REQUEST_TIMEOUT_SECS: u64 = 30;
/// Concurrent in-flight RPCs on one HTTP/2 connection before new ones are
/// shed with RESOURCE_EXHAUSTED instead of queueing.
pub const CONCURRENCY_LIMIT_PER_CONNECTION: usize = 256;
/// Concurrent in-flight RPCs in the whole server before load is shed; sized
/// for a 2-core machine where a DB pool has 8-16 connections.
pub const CONCURRENCY_LIMIT_TOTAL: usize = 1024;
/// Largest request or response message, in bytes.
pub const MESSAGE_SIZE_MAX_BYTES: usize = 4 * 1024 * 1024;
/// How long in-flight RPCs may take to finish after shutdown starts.
pub const SHUTDOWN_GRACE_SECS: u64 = 10;
/// HTTP/2 keep-alive ping interval, to notice dead peers.
const KEEPALIVE_INTERVAL_SECS: u64 = 30;

/// One service process's gRPC server. Add the service's tonic servers with
/// [`MeshServer::add_service`], then [`MeshServer::serve`] on a listener.
pub struct MeshServer {
    workload: &'static str,
    routes: RoutesBuilder,
    service_names: Vec<&'static str>,
    readiness: Readiness,
    admin: Option<TcpListener>,
    tasks: Vec<BackgroundTask>,
    max_connection_age: Option<Duration>,
    max_connection_age_grace: Option<Duration>,
}

impl std::fmt::Debug for MeshServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshServer")
            .field("workload", &self.workload)
            .field("services", &self.service_names)
            .finish_non_exhaustive()
    }
}

impl MeshServer {
    /// A server for `workload` (the name in its SPIFFE id, e.g. `auth`).
    pub fn new(workload: &'static str) -> Self {
        Self {
            workload,
            routes: RoutesBuilder::default(),
            service_names: Vec::new(),
            readiness: Readiness::new(),
            admin: None,
            tasks: Vec::new(),
            max_connection_age: Some(Duration::from_secs(bank_config::MAX_CONNECTION_AGE_SECS_DEFAULT)),
            max_connection_age_grace: Some(Duration::from_secs(bank_config::MAX_CONNECTION_AGE_GRACE_SECS_DEFAULT)),
        }
    }

    /// Asks each client connection to close after `secs` (0: never): see
    /// [`bank_config::MeshConfig::max_connection_age_secs`]. Calls in
    /// flight, streams included, finish on the old connection; new calls
    /// go to a new one.
    pub fn max_connection_age(mut self, secs: u64) -> Self {
        self.max_connection_age = (secs > 0).then(|| Duration::from_secs(secs));
        self
    }

    /// Closes each client connection `secs` after it reached its age, with
    /// whatever calls are still open on it (0: waits for them): see
    /// [`bank_config::MeshConfig::max_connection_age_grace_secs`].
    pub fn max_connection_age_grace(mut self, secs: u64) -> Self {
        self.max_connection_age_grace = (secs > 0).then(|| Duration::from_secs(secs));
        self
    }

    /// Keeps `task` running as long as the server.
    pub fn keep(mut self, task: BackgroundTask) -> Self {
        self.tasks.push(task);
        self
    }

    /// What must answer for this server to be ready: reported by `/readyz`
    /// on the admin port and by grpc.health.v1 (NOT_SERVING while failing).
    pub fn readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }

    /// Serves `/metrics`, `/livez` and `/readyz` on `listener` too.
    pub fn admin(mut self, listener: Option<TcpListener>) -> Self {
        self.admin = listener;
        self
    }

    /// Registers a tonic service: routed, reported SERVING by health, listed
    /// by reflection.
    pub fn add_service<S, B>(mut self, service: S) -> Self
    where
        S: Service<http::Request<Body>, Response = http::Response<B>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.service_names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets
    /// in-flight RPCs finish for up to [`SHUTDOWN_GRACE_SECS`]. End-user
    /// tokens are checked with `verifier` (see [`bank_authn::caller`]).
    pub async fn serve(
        mut self,
        listener: TcpListener,
        tls: &std::sync::Arc<ReloadableTls>,
        verifier: Verifier,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        for name in &self.service_names {
            health_reporter
                .set_service_status(*name, tonic_health::ServingStatus::Serving)
                .await;
        }
        // The empty name is the whole server's health (grpc.health.v1 convention).
        health_reporter
            .set_service_status("", tonic_health::ServingStatus::Serving)
            .await;

        // Reflection lists only what this process serves, though the
        // descriptor set holds every contract (so types resolve everywhere).
        let mut listed: Vec<String> = self.service_names.iter().map(|s| (*s).to_owned()).collect();
        listed.push("grpc.health.v1.Health".to_owned());
        let reflection = |builder: tonic_reflection::server::Builder<'static>| {
            listed.iter().fold(
                builder
                    .register_encoded_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET)
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
                |b, name| b.with_service_name(name.clone()),
            )
        };
        let reflection_v1 = reflection(tonic_reflection::server::Builder::configure()).build_v1()?;
        let reflection_v1alpha = reflection(tonic_reflection::server::Builder::configure()).build_v1alpha()?;

        // Health follows readiness: a service whose database is down says
        // NOT_SERVING, so the gateway and load balancers route around it.
        let readiness = self.readiness.clone();
        let names = self.service_names.clone();
        let workload = self.workload;
        let health_watch = BackgroundTask::new(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(HEALTH_REFRESH_SECS));
            let mut serving = true;
            loop {
                ticker.tick().await;
                let ready = readiness.failures().await.is_empty();
                if ready != serving {
                    serving = ready;
                    let status = if ready {
                        tonic_health::ServingStatus::Serving
                    } else {
                        tonic_health::ServingStatus::NotServing
                    };
                    for name in names.iter().copied().chain(std::iter::once("")) {
                        health_reporter.set_service_status(name, status).await;
                    }
                    tracing::warn!(workload, ready, "readiness changed");
                }
            }
        }));
        let admin_task = self.admin.take().map(|listener| {
            let readiness = self.readiness.clone();
            BackgroundTask::new(tokio::spawn(async move {
                if let Err(error) = crate::admin::serve(listener, readiness, std::future::pending()).await {
                    tracing::error!(%error, "admin endpoints stopped");
                }
            }))
        });
        let methods = service_methods(&self.service_names);
        self.routes.add_service(health_service);
        self.routes.add_service(reflection_v1);
        self.routes.add_service(reflection_v1alpha);

        let workload = self.workload;
        let local = listener.local_addr()?;
        // Past its age plus the grace a connection is closed, streams and all.
        let hard_end = self
            .max_connection_age
            .zip(self.max_connection_age_grace)
            .map(|(a, g)| a + g);
        let incoming = futures::StreamExt::map(tls_incoming(listener, tls.server_config(false)?), move |accepted| {
            accepted.map(|stream| crate::aged::Aged::new(stream, hard_end.map(|d| tokio::time::Instant::now() + d)))
        });
        // New certificates (cert-manager renewals, CA rotation, CRLs) apply
        // to the next handshake, in both directions, without a restart.
        let tls_watch = BackgroundTask::new(tls.spawn_watch());
        tracing::info!(workload, %local, services = ?self.service_names, "serving gRPC over mTLS");

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown_signal = async move {
            shutdown.await;
            tracing::info!(workload, "shutting down: draining in-flight RPCs");
            let _ = stop_tx.send(());
        };

        let mut builder = Server::builder();
        if let Some(age) = self.max_connection_age {
            // Recycle client connections: clients reconnect, reaching new
            // replicas and handshaking with current certificates and CRLs.
            builder = builder.max_connection_age(age);
        }
        let server = builder
            // Bound every RPC so a stuck dependency cannot pin resources forever.
            .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS))
            // One greedy connection cannot take the whole server.
            .concurrency_limit_per_connection(CONCURRENCY_LIMIT_PER_CONNECTION)
            // Over the limit, answer RESOURCE_EXHAUSTED at once instead of queueing.
            .load_shed(true)
            // Detect dead peers on long-lived mesh connections.
            .http2_keepalive_interval(Some(Duration::from_secs(KEEPALIVE_INTERVAL_SECS)))
            // Every request gets a span with its method and request id for the logs.
            .trace_fn(move |req: &http::Request<()>| {
                let request_id = req
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let path = req.uri().path();
                let (rpc_service, rpc_method) = path.trim_start_matches('/').split_once('/').unwrap_or(("", ""));
                let span = tracing::info_span!(
                    "rpc",
                    otel.name = %path,
                    otel.kind = "server",
                    rpc.system = "grpc",
                    rpc.service = %rpc_service,
                    rpc.method = %rpc_method,
                    rpc.grpc.status_code = tracing::field::Empty,
                    service = workload,
                    request_id,
                    trace_id = tracing::field::Empty,
                );
                // Continue the caller's trace (W3C traceparent in the metadata).
                let trace_id = bank_telemetry::extract(&span, req.headers());
                if !trace_id.is_empty() {
                    span.record("trace_id", trace_id.as_str());
                }
                span
            })
            .layer(
                tower::ServiceBuilder::new()
                    // A global cap over all connections, shed rather than queued.
                    .load_shed()
                    .layer(tower::limit::GlobalConcurrencyLimitLayer::new(CONCURRENCY_LIMIT_TOTAL))
                    // Count and time every RPC by method and gRPC code.
                    .layer(RpcMetricsLayer::new(workload, methods))
                    // Verify the end user's bearer token, if any, before any handler runs.
                    .layer(AuthLayer::new(verifier)),
            )
            .add_routes(self.routes.routes());

        let serving = server.serve_with_incoming_shutdown(incoming, shutdown_signal);
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => result?,
            _ = stop_rx => {
                // Drain: let in-flight RPCs finish, but not forever.
                match tokio::time::timeout(Duration::from_secs(SHUTDOWN_GRACE_SECS), serving).await {
                    Ok(result) => result?,
                    Err(_) => tracing::warn!(workload, "shutdown grace period over; dropping remaining RPCs"),
                }
            }
        }
        drop(health_watch);
        drop(tls_watch);
        drop(admin_task);
        drop(self.tasks);
        tracing::info!(workload, "stopped");
        Ok(())
    }
}
