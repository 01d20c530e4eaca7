//! Calls through the gateway with the generated tonic clients over h2c,
//! classified the way a careful client must: an answer, a definite error
//! (the request was refused or declined: it did or will do nothing more),
//! or an unknown outcome (transport error, UNAVAILABLE, DEADLINE_EXCEEDED,
//! INTERNAL, ...: the change may or may not have been made). Unknown
//! outcomes are retried with the very same request (same request ids) a
//! bounded number of times.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use bank_proto::bank::account::v1::account_service_client::AccountServiceClient;
use bank_proto::bank::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

/// Time to connect to the gateway.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A channel to the gateway; reconnects by itself after the gateway restarts.
pub fn channel(gateway: SocketAddr) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(format!("http://{gateway}"))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .connect_lazy())
}

/// The typed clients on one channel.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Auth.
    pub auth: AuthServiceClient<Channel>,
    /// Accounts.
    pub accounts: AccountServiceClient<Channel>,
    /// The ledger.
    pub transfers: TransferServiceClient<Channel>,
    /// Analytics.
    pub analytics: AnalyticsServiceClient<Channel>,
}

impl Clients {
    /// Clients over a new channel to `gateway`.
    pub fn new(gateway: SocketAddr) -> anyhow::Result<Self> {
        let channel = channel(gateway)?;
        Ok(Self {
            auth: AuthServiceClient::new(channel.clone()),
            accounts: AccountServiceClient::new(channel.clone()),
            transfers: TransferServiceClient::new(channel.clone()),
            analytics: AnalyticsServiceClient::new(channel),
        })
    }
}

/// `Bearer <token>` as a header value.
pub fn bearer(token: &str) -> anyhow::Result<MetadataValue<Ascii>> {
    Ok(format!("Bearer {token}").parse()?)
}

/// `message` with a token (when given) and a deadline.
pub fn request<T>(message: T, token: Option<&MetadataValue<Ascii>>, timeout: Duration) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", token.clone());
    }
    request.set_timeout(timeout);
    request
}

/// A definite error's essentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The gRPC code.
    pub code: Code,
    /// google.rpc.ErrorInfo reason, if any.
    pub reason: String,
    /// ErrorInfo metadata `transfer_id`: the recorded declined attempt.
    pub transfer_id: Option<String>,
    /// The message.
    pub message: String,
}

impl Refusal {
    /// The essentials of `status`.
    pub fn of(status: &Status) -> Self {
        let details = status.get_error_details();
        let info = details.error_info();
        Self {
            code: status.code(),
            reason: info.map(|i| i.reason.clone()).unwrap_or_default(),
            transfer_id: info.and_then(|i| i.metadata.get("transfer_id").cloned()),
            message: status.message().to_owned(),
        }
    }

    /// A decline the ledger recorded (FAILED_PRECONDITION with a transfer).
    pub fn is_recorded_decline(&self) -> bool {
        self.code == Code::FailedPrecondition && self.transfer_id.is_some()
    }
}

/// How one call ended after its retries.
#[derive(Clone, Debug)]
pub enum Outcome<T> {
    /// Answered.
    Ok(T),
    /// Refused or declined: definite.
    Refused(Refusal),
    /// Still unknown after the last attempt.
    Unknown(String),
}

/// Whether a failure leaves the outcome unknown (so a retry is needed).
pub fn is_indeterminate(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Unknown
            | Code::Internal
            | Code::Aborted
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::DataLoss
    )
}

/// Bounded retries.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Attempts in all.
    pub attempts: u32,
    /// Limit of one attempt (also sent as grpc-timeout).
    pub attempt_timeout: Duration,
    /// First pause between attempts; doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest pause.
    pub max_backoff: Duration,
}

impl Retry {
    /// During the run: about 25 seconds at most.
    pub const RUN: Self = Self {
        attempts: 6,
        attempt_timeout: Duration::from_secs(4),
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(1_600),
    };
    /// Set-up, and resolving outcomes after the faults healed: patient.
    pub const PATIENT: Self = Self {
        attempts: 40,
        attempt_timeout: Duration::from_secs(10),
        backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(2),
    };
}

/// gRPC codes seen on failed attempts (every attempt, retried or not).
#[derive(Debug, Default)]
pub struct CodeTally(Mutex<BTreeMap<String, u64>>);

impl CodeTally {
    /// Counts one failed attempt.
    pub fn add(&self, what: &str) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(what.to_owned())
            .or_default() += 1;
    }

    /// The counts.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Runs `attempt` until it gives a definite result or `retry` is spent.
/// `attempt` must send the same request every time. Returns the outcome
/// and the number of attempts made.
pub async fn with_retries<T, F, Fut>(retry: Retry, tally: &CodeTally, mut attempt: F) -> (Outcome<T>, u32)
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut backoff = retry.backoff;
    let mut last = String::new();
    for n in 1..=retry.attempts {
        match tokio::time::timeout(
            retry.attempt_timeout + Duration::from_millis(500),
            attempt(retry.attempt_timeout),
        )
        .await
        {
            Ok(Ok(value)) => return (Outcome::Ok(value), n),
            Ok(Err(status)) if !is_indeterminate(status.code()) => {
                return (Outcome::Refused(Refusal::of(&status)), n);
            }
            Ok(Err(status)) => {
                tally.add(&format!("{:?}", status.code()));
                last = format!("{:?}: {}", status.code(), status.message());
            }
            Err(_) => {
                tally.add("client timeout");
                last = "no answer within the attempt's deadline".to_owned();
            }
        }
        if n < retry.attempts {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(retry.max_backoff);
        }
    }
    (Outcome::Unknown(last), retry.attempts)
}
