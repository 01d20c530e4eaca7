//! The REST/JSON side of the load: GetBalance and CreateTransfer sent to the
//! gateway as a REST client sends them, transcoded there from the RPCs'
//! `google.api.http` rules (proto/bank/transfer/v1/transfer.proto):
//!
//! - GetBalance: `get: "/v1/accounts/{account_id}/balance"`, no body;
//! - CreateTransfer: `post: "/v1/transfers"`, `body: "*"` (the whole
//!   CreateTransferRequest as proto3 JSON, a fresh `requestId` each call).
//!
//! Plain HTTP/1.1 to the gateway's port (the mesh's development gateway has
//! no public TLS) through hyper-util's pooled client: keep-alive connections,
//! one request in flight on each, as many connections as concurrent tasks.
//! A call succeeds only on HTTP 200 with a body that says what was asked
//! (the account's balance; the transfer, POSTED or not); any other status is
//! an error named by the HTTP status and the google.rpc.Status code of its
//! JSON body.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::{Deserialize, Serialize};
use tonic::Code;

use crate::bank::CURRENCY;
use crate::stats::code_name;

/// The `google.api.http` path of CreateTransfer.
pub const TRANSFERS_PATH: &str = "/v1/transfers";
/// `TransferStatus` of a posted transfer, as proto3 JSON names it.
const STATUS_POSTED: &str = "TRANSFER_STATUS_POSTED";
/// The JSON media type, sent and expected.
const JSON: &str = "application/json";
/// Idle pooled connections are closed after this (the gateway's own idle
/// timeout is 120 s; a scenario's pauses are shorter).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The `google.api.http` path of GetBalance for `account_id` (a UUID: no
/// character needs escaping).
pub fn balance_path(account_id: &str) -> String {
    format!("/v1/accounts/{account_id}/balance")
}

/// Counts the TCP connections the pool opens, to show that it kept them
/// alive (none should open during a measured interval).
#[derive(Clone, Debug)]
pub struct CountingConnector {
    inner: HttpConnector,
    opened: Arc<AtomicU64>,
}

type Connected = <HttpConnector as tower::Service<Uri>>::Response;
type ConnectError = <HttpConnector as tower::Service<Uri>>::Error;
type Connecting = Pin<Box<dyn Future<Output = Result<Connected, ConnectError>> + Send>>;

impl tower::Service<Uri> for CountingConnector {
    type Response = Connected;
    type Error = ConnectError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let opened = self.opened.clone();
        Box::pin(async move {
            let connection = connecting.await?;
            opened.fetch_add(1, Ordering::Relaxed);
            Ok(connection)
        })
    }
}

/// A pooled HTTP/1.1 client of the gateway's REST routes. Clones share the
/// pool.
#[derive(Clone, Debug)]
pub struct RestClient {
    client: Arc<Client<CountingConnector, Full<Bytes>>>,
    /// `http://host:port` of the gateway.
    base: Arc<str>,
    opened: Arc<AtomicU64>,
}

/// Proto3 JSON of `bank.common.v1.Money` (int64 as a string).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoneyJson {
    amount_minor: String,
    currency: String,
}

/// The CreateTransfer body (`body: "*"`): the request message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateTransferJson<'a> {
    request_id: &'a str,
    from_account_id: &'a str,
    to_account_id: &'a str,
    amount: MoneyJson,
    description: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BalanceJson {
    account_id: String,
    currency: String,
    available: Option<MoneyJson>,
}

/// GetBalanceResponse.
#[derive(Debug, Deserialize)]
struct BalanceReply {
    balance: Option<BalanceJson>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransferJson {
    transfer_id: String,
    status: String,
    amount: Option<MoneyJson>,
}

/// CreateTransferResponse.
#[derive(Debug, Deserialize)]
struct TransferReply {
    transfer: Option<TransferJson>,
}

/// The google.rpc.Status body of an error.
#[derive(Debug, Deserialize)]
struct ErrorReply {
    code: i32,
}

/// What a REST call that did not succeed is counted as.
pub type Bucket = String;

/// The error bucket of a non-200 answer: `http-<status>:<gRPC code>` from
/// its google.rpc.Status body, or `http-<status>` without one.
fn error_bucket(status: StatusCode, body: &[u8]) -> Bucket {
    match serde_json::from_slice::<ErrorReply>(body) {
        Ok(error) => format!("http-{}:{}", status.as_u16(), code_name(Code::from_i32(error.code))),
        Err(_) => format!("http-{}", status.as_u16()),
    }
}

/// Checks a GetBalance answer for `account_id`.
fn check_balance(body: &[u8], account_id: &str) -> Result<(), Bucket> {
    let reply: BalanceReply = serde_json::from_slice(body).map_err(|_| "http-200:bad-json".to_owned())?;
    let balance = reply.balance.ok_or("http-200:no-balance")?;
    let available = balance.available.ok_or("http-200:no-available")?;
    if balance.account_id != account_id
        || balance.currency != CURRENCY
        || available.amount_minor.parse::<i64>().is_err()
    {
        return Err("http-200:wrong-balance".to_owned());
    }
    Ok(())
}

/// Checks a CreateTransfer answer for `amount_minor`: `Ok(true)` when it
/// was posted, `Ok(false)` for any other status (counted apart).
fn check_transfer(body: &[u8], amount_minor: i64) -> Result<Result<(), String>, Bucket> {
    let reply: TransferReply = serde_json::from_slice(body).map_err(|_| "http-200:bad-json".to_owned())?;
    let transfer = reply.transfer.ok_or("http-200:no-transfer")?;
    let amount = transfer.amount.ok_or("http-200:no-amount")?;
    if transfer.transfer_id.is_empty() || amount.amount_minor != amount_minor.to_string() || amount.currency != CURRENCY
    {
        return Err("http-200:wrong-transfer".to_owned());
    }
    if transfer.status == STATUS_POSTED {
        Ok(Ok(()))
    } else {
        Ok(Err(format!("status:{}", transfer.status)))
    }
}

/// The CreateTransfer body.
pub fn transfer_body(request_id: &str, from: &str, to: &str, amount_minor: i64, description: &str) -> Vec<u8> {
    let body = CreateTransferJson {
        request_id,
        from_account_id: from,
        to_account_id: to,
        amount: MoneyJson {
            amount_minor: amount_minor.to_string(),
            currency: CURRENCY.to_owned(),
        },
        description,
    };
    // Serializing these field types cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

impl RestClient {
    /// A client of the gateway at `gateway`; connects on first use.
    pub fn new(gateway: SocketAddr) -> Self {
        let mut http = HttpConnector::new();
        // What HTTP client libraries do (Nagle would hold small writes).
        http.set_nodelay(true);
        let opened = Arc::new(AtomicU64::new(0));
        let connector = CountingConnector {
            inner: http,
            opened: opened.clone(),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Self {
            client: Arc::new(client),
            base: format!("http://{gateway}").into(),
            opened,
        }
    }

    /// TCP connections opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Sends one request and reads the whole answer (so the connection goes
    /// back to the pool): (status, body), or a transport error's bucket.
    async fn send(
        &self,
        method: Method,
        path: &str,
        authorization: &HeaderValue,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<(StatusCode, Bytes), Bucket> {
        let uri: Uri = format!("{}{path}", self.base)
            .parse()
            .map_err(|_| "client:bad-uri".to_owned())?;
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, authorization.clone())
            .header(header::ACCEPT, JSON);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, JSON);
        }
        let request = request
            .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
            .map_err(|_| "client:bad-request".to_owned())?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| {
                if error.is_connect() {
                    "client:connect".to_owned()
                } else {
                    "client:transport".to_owned()
                }
            })?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|_| "client:body".to_owned())?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| "client:timeout".to_owned())?
    }

    /// `GET /v1/accounts/{account_id}/balance`.
    pub async fn get_balance(
        &self,
        account_id: &str,
        authorization: &HeaderValue,
        timeout: Duration,
    ) -> Result<(), Bucket> {
        let (status, body) = self
            .send(Method::GET, &balance_path(account_id), authorization, None, timeout)
            .await?;
        if status != StatusCode::OK {
            return Err(error_bucket(status, &body));
        }
        check_balance(&body, account_id)
    }

    /// `POST /v1/transfers` with a fresh `requestId`: `Ok(Ok(()))` when
    /// posted, `Ok(Err(bucket))` when answered 200 with another status.
    pub async fn create_transfer(
        &self,
        from: &str,
        to: &str,
        amount_minor: i64,
        authorization: &HeaderValue,
        timeout: Duration,
    ) -> Result<Result<(), String>, Bucket> {
        let body = transfer_body(&crate::bank::request_id(), from, to, amount_minor, "load");
        let (status, body) = self
            .send(Method::POST, TRANSFERS_PATH, authorization, Some(body), timeout)
            .await?;
        if status != StatusCode::OK {
            return Err(error_bucket(status, &body));
        }
        check_transfer(&body, amount_minor)
    }
}

#[cfg(test)]
mod tests {
    use bank_proto::bank::transfer::v1 as transfer;
    use bank_transcode::Transcoder;
    use prost::Message as _;

    use super::*;

    const ACCOUNT: &str = "0b6f4f3e-2d6c-4c55-9d8e-6c1f1c2a9b01";
    const OTHER: &str = "5a1d9c0e-7b3f-4e2a-8c6d-1e9f0a2b3c4d";

    fn transcoder() -> Transcoder {
        Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET).expect("routes")
    }

    #[test]
    fn balance_path_routes_to_get_balance() {
        let transcoder = transcoder();
        let matched = transcoder.match_route("GET", &balance_path(ACCOUNT)).expect("route");
        assert_eq!(
            matched.route().grpc_path(),
            "/bank.transfer.v1.TransferService/GetBalance"
        );
        let message = transcoder.build_request(&matched, None, b"", None).expect("request");
        let request = transfer::GetBalanceRequest::decode(message.encode_to_vec().as_slice()).expect("decode");
        assert_eq!(request.account_id, ACCOUNT);
    }

    #[test]
    fn transfer_body_is_the_create_transfer_request() {
        let transcoder = transcoder();
        let matched = transcoder.match_route("POST", TRANSFERS_PATH).expect("route");
        assert_eq!(
            matched.route().grpc_path(),
            "/bank.transfer.v1.TransferService/CreateTransfer"
        );
        let body = transfer_body("req-1", ACCOUNT, OTHER, 42, "load");
        let message = transcoder.build_request(&matched, None, &body, None).expect("request");
        let request = transfer::CreateTransferRequest::decode(message.encode_to_vec().as_slice()).expect("decode");
        assert_eq!(request.request_id, "req-1");
        assert_eq!(request.from_account_id, ACCOUNT);
        assert_eq!(
            request.destination,
            Some(transfer::create_transfer_request::Destination::ToAccountId(
                OTHER.to_owned()
            ))
        );
        let amount = request.amount.expect("amount");
        assert_eq!((amount.amount_minor, amount.currency.as_str()), (42, CURRENCY));
        assert_eq!(request.description, "load");
    }

    #[test]
    fn reads_the_gateways_json() {
        let transcoder = transcoder();
        let matched = transcoder.match_route("GET", &balance_path(ACCOUNT)).expect("route");
        let response = transfer::GetBalanceResponse {
            balance: Some(transfer::Balance {
                account_id: ACCOUNT.to_owned(),
                currency: CURRENCY.to_owned(),
                available: crate::bank::usd(0),
                ..Default::default()
            }),
        };
        let json = transcoder
            .render_response_bytes(&matched, &response.encode_to_vec())
            .expect("render");
        assert_eq!(check_balance(&json, ACCOUNT), Ok(()));
        assert_eq!(check_balance(&json, OTHER), Err("http-200:wrong-balance".to_owned()));

        let matched = transcoder.match_route("POST", TRANSFERS_PATH).expect("route");
        let posted = |status: transfer::TransferStatus| transfer::CreateTransferResponse {
            transfer: Some(transfer::Transfer {
                transfer_id: OTHER.to_owned(),
                status: status as i32,
                amount: crate::bank::usd(42),
                ..Default::default()
            }),
        };
        let render = |response: transfer::CreateTransferResponse| {
            transcoder
                .render_response_bytes(&matched, &response.encode_to_vec())
                .expect("render")
        };
        assert_eq!(
            check_transfer(&render(posted(transfer::TransferStatus::Posted)), 42),
            Ok(Ok(()))
        );
        assert_eq!(
            check_transfer(&render(posted(transfer::TransferStatus::Declined)), 42),
            Ok(Err("status:TRANSFER_STATUS_DECLINED".to_owned()))
        );
        assert_eq!(
            check_transfer(&render(posted(transfer::TransferStatus::Posted)), 7),
            Err("http-200:wrong-transfer".to_owned())
        );
        assert_eq!(check_transfer(b"{", 42), Err("http-200:bad-json".to_owned()));
    }

    #[test]
    fn errors_are_bucketed_by_http_status_and_grpc_code() {
        let body = br#"{"code":9,"message":"declined","details":[]}"#;
        assert_eq!(
            error_bucket(StatusCode::BAD_REQUEST, body),
            "http-400:FAILED_PRECONDITION"
        );
        assert_eq!(error_bucket(StatusCode::BAD_GATEWAY, b"oops"), "http-502");
    }
}
