//! A transport between the SDK and the real gateway that records every
//! attempt and injects faults: a response lost after the server did the
//! work, or an UNAVAILABLE answer without reaching the server.

#![allow(clippy::unwrap_used, dead_code, reason = "test support")]

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bank_client::BoxError;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt as _, Full};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::{Service, ServiceExt as _};

/// What the transport does to the next call of a method.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Forward the call, wait for the whole response (the server has done
    /// the work), drop it and fail as a reset connection would.
    LoseResponse,
    /// Answer UNAVAILABLE without forwarding.
    Unavailable,
    /// Wait this long before forwarding (a stalled connection).
    Stall(std::time::Duration),
}

/// One attempt as sent by the SDK.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    /// The gRPC frame (5-byte prefix and the message).
    pub body: Bytes,
}

impl Seen {
    /// The request message.
    pub fn message<M: prost::Message + Default>(&self) -> M {
        M::decode(&self.body[5..]).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct Faulty {
    inner: Channel,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    faults: Arc<Mutex<Vec<(String, Fault)>>>,
}

#[derive(Debug)]
struct SimulatedReset;

impl std::fmt::Display for SimulatedReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by peer (simulated)")
    }
}

impl std::error::Error for SimulatedReset {}

impl Faulty {
    pub fn new(inner: Channel) -> Self {
        Self {
            inner,
            seen: Arc::default(),
            faults: Arc::default(),
        }
    }

    /// Applies `fault` to the next call whose path ends with `/method`.
    pub fn inject(&self, method: &str, fault: Fault) {
        self.faults.lock().unwrap().push((format!("/{method}"), fault));
    }

    /// The attempts of calls whose path ends with `/method`.
    pub fn attempts(&self, method: &str) -> Vec<Seen> {
        let suffix = format!("/{method}");
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path.ends_with(&suffix))
            .cloned()
            .collect()
    }
}

impl Service<http::Request<Body>> for Faulty {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await?.to_bytes();
            let path = parts.uri.path().to_owned();
            this.seen.lock().unwrap().push(Seen {
                path: path.clone(),
                headers: parts.headers.clone(),
                body: body.clone(),
            });
            let fault = {
                let mut faults = this.faults.lock().unwrap();
                let found = faults.iter().position(|(suffix, _)| path.ends_with(suffix.as_str()));
                found.map(|i| faults.remove(i).1)
            };
            if let Some(Fault::Unavailable) = fault {
                let response = http::Response::builder()
                    .header("content-type", "application/grpc")
                    .header("grpc-status", "14")
                    .header("grpc-message", "simulated outage")
                    .body(Body::empty())
                    .unwrap();
                return Ok(response);
            }
            if let Some(Fault::Stall(pause)) = fault {
                tokio::time::sleep(pause).await;
            }
            let request = http::Request::from_parts(parts, Body::new(Full::new(body)));
            let response = this.inner.clone().oneshot(request).await?;
            if let Some(Fault::LoseResponse) = fault {
                // The server answered; the answer never arrives.
                let _ = response.into_body().collect().await?;
                return Err(Box::new(SimulatedReset) as BoxError);
            }
            Ok(response)
        })
    }
}

/// Waits until every service answers through the gateway (the mesh binds
/// its ports at once but finishes starting in the background): anything
/// but UNAVAILABLE means up.
pub async fn wait_until_ready(bank: &bank_client::Bank) {
    let bank = bank.anonymous();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let codes = [
            code(bank.auth().get_jwks(bank_client::auth::GetJwksRequest {}).await),
            code(
                bank.accounts()
                    .list_accounts(bank_client::account::ListAccountsRequest::default())
                    .await,
            ),
            code(
                bank.transfers()
                    .list_transfers(bank_client::transfer::ListTransfersRequest::default())
                    .await,
            ),
            code(
                bank.finance()
                    .list_financing_options(bank_client::finance::ListFinancingOptionsRequest::default())
                    .await,
            ),
            code(
                bank.analytics()
                    .get_my_spending(bank_client::analytics::GetMySpendingRequest::default())
                    .await,
            ),
        ];
        if codes.iter().all(|c| *c != tonic::Code::Unavailable) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "mesh not ready: {codes:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn code<T>(result: Result<T, tonic::Status>) -> tonic::Code {
    result.map_or_else(|status| status.code(), |_| tonic::Code::Ok)
}
