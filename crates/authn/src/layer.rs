use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::{Layer, Service};

use crate::verifier::Verifier;

/// A tower layer that verifies the `authorization` header of every request
/// that carries one and stores the outcome, `Result<Caller, AuthError>`, in
/// the request extensions for [`caller`](crate::caller). Requests without
/// the header pass untouched: public RPCs (sign-up, log-in) need no token,
/// and handlers that do need one get UNAUTHENTICATED from `caller`.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    verifier: Verifier,
}

impl AuthLayer {
    /// A layer verifying with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    verifier: Verifier,
}

impl<S, B> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            if let Some(value) = request.headers().get(http::header::AUTHORIZATION).cloned() {
                let outcome = verifier.verify_header(&value).await;
                if let Err(error) = &outcome {
                    tracing::debug!(reason = error.reason(), "request token rejected");
                }
                request.extensions_mut().insert(outcome);
            }
            inner.call(request).await
        })
    }
}
