//! Native gRPC pass-through: a request to `/<package.Service>/<Method>` is
//! forwarded, headers and streaming body as they are, to the workload that
//! serves the service, over mTLS with the gateway's certificate. Internal
//! services are refused here, whatever the protocol that reached us.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::body::Body;
use tonic::{Code, Status};
use tower::{Service, ServiceExt as _};

use crate::backends::{Backends, is_internal};
use crate::body::DeadlineBody;

/// A gRPC error as an HTTP response (trailers-only).
pub fn status_response(status: Status) -> http::Response<Body> {
    status.into_http()
}

/// The service name of a gRPC path: `/bank.x.v1.S/M` -> `bank.x.v1.S`.
pub fn service_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let (service, method) = rest.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/')).then_some(service)
}

/// The pass-through service.
#[derive(Clone, Debug)]
pub struct GrpcProxy {
    backends: Arc<Backends>,
}

impl GrpcProxy {
    /// A proxy over `backends`.
    pub fn new(backends: Arc<Backends>) -> Self {
        Self { backends }
    }
}

impl Service<http::Request<Body>> for GrpcProxy {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let backends = self.backends.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let Some(service) = service_of(&path) else {
                return Ok(status_response(Status::unimplemented("not a gRPC method path")));
            };
            if is_internal(service) {
                tracing::warn!(service, "refused a call to an internal service");
                return Ok(status_response(Status::permission_denied(
                    "internal services are not reachable through the gateway",
                )));
            }
            let Some((workload, channel)) = backends.get(service) else {
                return Ok(status_response(Status::unimplemented(format!(
                    "unknown service {service}"
                ))));
            };
            let workload = workload.to_owned();
            // The deadline the backend was sent (the route's, or the
            // caller's shorter one): its expiry is DEADLINE_EXCEEDED.
            let until = request
                .headers()
                .get("grpc-timeout")
                .and_then(|v| crate::deadline::parse_grpc_timeout(v.as_bytes()))
                .map(|d| tokio::time::Instant::now() + d);
            let timed_stream = request.extensions().get::<crate::deadline::TimedStream>().is_some();
            let Some(answered) = crate::deadline::bounded(until, channel.oneshot(request)).await else {
                return Ok(status_response(crate::deadline::exceeded()));
            };
            match answered {
                Ok(response) => {
                    if let Some(until) = until
                        && let Some(status) = Status::from_header_map(response.headers())
                        && crate::deadline::cut_off(&status, until)
                    {
                        return Ok(status_response(crate::deadline::exceeded()));
                    }
                    Ok(match until {
                        Some(until) if timed_stream => {
                            response.map(|body| Body::new(DeadlineBody::new(Body::new(body), until)))
                        }
                        _ => response.map(Body::new),
                    })
                }
                // A backend resets a call whose deadline expired while its
                // request was still arriving.
                Err(error) if until.is_some_and(|until| tokio::time::Instant::now() >= until) => {
                    tracing::debug!(workload, %error, "backend call ended past its deadline");
                    Ok(status_response(crate::deadline::exceeded()))
                }
                Err(error) => {
                    tracing::warn!(workload, %error, "backend unreachable");
                    Ok(status_response(Status::new(
                        Code::Unavailable,
                        format!("{workload} is unavailable, retry later"),
                    )))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_from_paths() {
        assert_eq!(
            service_of("/bank.auth.v1.AuthService/Login"),
            Some("bank.auth.v1.AuthService")
        );
        assert_eq!(service_of("/bank.auth.v1.AuthService/"), None);
        assert_eq!(service_of("/x"), None);
        assert_eq!(service_of("/a/b/c"), None);
        assert_eq!(service_of(""), None);
    }
}
