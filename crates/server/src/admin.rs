//! The admin port of a bank process: `/metrics` (Prometheus text),
//! `/livez` (the process serves; never depends on PostgreSQL or Redis, so
//! an outage does not get healthy pods killed) and `/readyz` (every
//! registered dependency answers: database reachable with migrations
//! applied, Redis for services that need it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// A readiness probe must answer within this.
pub const READINESS_CHECK_TIMEOUT_MS: u64 = 1_000;

type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Named readiness checks.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(String, Check)>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.checks.iter().map(|(n, _)| n)).finish()
    }
}

impl Readiness {
    /// No checks yet (always ready).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check named `name`.
    pub fn check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name.into(), Arc::new(move || Box::pin(check()))));
        self
    }

    /// Merges `other`'s checks into this one (for `bank up`).
    pub fn merge(mut self, other: Readiness) -> Self {
        self.checks.extend(other.checks);
        self
    }

    /// The failing checks, with their errors (empty when ready).
    pub async fn failures(&self) -> Vec<(String, String)> {
        let runs = self.checks.iter().map(|(name, check)| {
            let name = name.clone();
            let check = check.clone();
            async move {
                let outcome = tokio::time::timeout(Duration::from_millis(READINESS_CHECK_TIMEOUT_MS), check()).await;
                match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(error)) => Some((name, error)),
                    Err(_) => Some((name, "timed out".to_owned())),
                }
            }
        });
        futures::future::join_all(runs).await.into_iter().flatten().collect()
    }
}

/// Readiness checks of a service's own database and Redis.
pub fn dependency_checks(
    service: &'static str,
    pool: bank_db::Pool,
    redis: Option<redis::aio::ConnectionManager>,
) -> Readiness {
    let mut readiness = Readiness::new().check(format!("{service}:database"), move || {
        let pool = pool.clone();
        async move {
            use diesel_async::SimpleAsyncConnection as _;
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            conn.batch_execute("SELECT 1").await.map_err(|e| e.to_string())
        }
    });
    if let Some(redis) = redis {
        readiness = readiness.check(format!("{service}:redis"), move || {
            let mut redis = redis.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut redis)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        });
    }
    readiness
}

fn text(status: u16, body: String) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Serves the admin endpoints on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    readiness: Readiness,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = crate::metrics::install();
    let readiness = Arc::new(readiness);
    tracing::info!(addr = %listener.local_addr()?, "admin endpoints: /metrics /livez /readyz");
    tokio::pin!(shutdown);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let metrics = metrics.clone();
        let readiness = readiness.clone();
        let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
            let metrics = metrics.clone();
            let readiness = readiness.clone();
            async move {
                let response = match request.uri().path() {
                    "/metrics" => text(200, metrics.as_ref().map(|m| m.render()).unwrap_or_default()),
                    "/livez" => text(200, "ok\n".to_owned()),
                    "/readyz" => {
                        let failures = readiness.failures().await;
                        if failures.is_empty() {
                            text(200, "ready\n".to_owned())
                        } else {
                            let lines: Vec<String> = failures.iter().map(|(n, e)| format!("{n}: {e}")).collect();
                            text(503, format!("not ready\n{}\n", lines.join("\n")))
                        }
                    }
                    _ => text(404, "not found\n".to_owned()),
                };
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        tokio::spawn(async move {
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
