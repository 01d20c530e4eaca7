//! One error type for everything the SDK does: configuration, connecting,
//! and every RPC's gRPC status with the bank's google.rpc details read out.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use crate::REQUEST_ID_HEADER;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The client was set up wrongly (a bad URL, a certificate that does not
    /// parse); nothing was sent.
    Config,
    /// The server could not be reached.
    Connect,
    /// A call ended with a gRPC status other than OK.
    Rpc,
}

/// One problem with one field of a request (google.rpc.BadRequest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The request field's path, e.g. `amount.currency`.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

/// An error of the SDK: a gRPC code and message, and the bank's
/// google.rpc details when the server sent them (ErrorInfo reason,
/// BadRequest field violations, RetryInfo delay).
///
/// Displayed as `message (REASON)`, e.g. `declined: insufficient funds
/// (INSUFFICIENT_FUNDS)`, or `message (CODE)` without a reason.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    code: Code,
    message: String,
    reason: Option<String>,
    domain: Option<String>,
    metadata: HashMap<String, String>,
    violations: Vec<Violation>,
    retry_delay: Option<Duration>,
    request_id: Option<String>,
    status: Option<Status>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, code: Code, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            code,
            message: message.into(),
            reason: None,
            domain: None,
            metadata: HashMap::new(),
            violations: Vec::new(),
            retry_delay: None,
            request_id: None,
            status: None,
        }))
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, Code::InvalidArgument, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The gRPC code (`Unavailable` when the server could not be reached,
    /// `InvalidArgument` for a bad configuration).
    pub fn code(&self) -> Code {
        self.0.code
    }

    /// The gRPC code's canonical name, e.g. `FAILED_PRECONDITION`.
    pub fn code_name(&self) -> &'static str {
        code_name(self.0.code)
    }

    /// The server's (or the SDK's) message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// google.rpc.ErrorInfo's reason, e.g. `INSUFFICIENT_FUNDS`.
    pub fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// google.rpc.ErrorInfo's domain (`bank.local` for the bank's errors).
    pub fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }

    /// google.rpc.ErrorInfo's metadata (e.g. `account_id`, `field`).
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.0.metadata
    }

    /// google.rpc.BadRequest's field violations, all of them at once.
    pub fn violations(&self) -> &[Violation] {
        &self.0.violations
    }

    /// google.rpc.RetryInfo's delay: when the server says to try again.
    pub fn retry_delay(&self) -> Option<Duration> {
        self.0.retry_delay
    }

    /// The `x-request-id` the gateway answered with, to find the call in
    /// the server's logs.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The underlying status, for an RPC error.
    pub fn status(&self) -> Option<&Status> {
        self.0.status.as_ref()
    }

    /// Whether trying again later can help (the server is unreachable,
    /// overloaded or asked for a retry).
    pub fn is_transient(&self) -> bool {
        matches!(self.0.code, Code::Unavailable | Code::DeadlineExceeded) || self.0.retry_delay.is_some()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = if self.0.message.is_empty() {
            self.0.code.description()
        } else {
            self.0.message.as_str()
        };
        match &self.0.reason {
            Some(reason) => write!(f, "{message} ({reason})"),
            None if self.0.kind == ErrorKind::Rpc => write!(f, "{message} ({})", self.code_name()),
            None => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.status.as_ref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<Status> for Error {
    fn from(status: Status) -> Self {
        let details = status.get_error_details();
        let mut error = Self::new(ErrorKind::Rpc, status.code(), status.message());
        if let Some(info) = details.error_info() {
            error.0.reason = Some(info.reason.clone()).filter(|r| !r.is_empty());
            error.0.domain = Some(info.domain.clone()).filter(|d| !d.is_empty());
            error.0.metadata = info.metadata.clone();
        }
        if let Some(bad) = details.bad_request() {
            error.0.violations = bad
                .field_violations
                .iter()
                .map(|v| Violation {
                    field: v.field.clone(),
                    description: v.description.clone(),
                })
                .collect();
        }
        error.0.retry_delay = details.retry_info().and_then(|r| r.retry_delay);
        error.0.request_id = status
            .metadata()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        error.0.status = Some(status);
        error
    }
}

/// The canonical upper-snake name of a gRPC code.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    #[test]
    fn reads_reason_violations_and_retry_delay() {
        let mut details = ErrorDetails::with_error_info(
            "INSUFFICIENT_FUNDS",
            "bank.local",
            HashMap::from([("account_id".to_owned(), "a1".to_owned())]),
        );
        details.set_retry_info(Some(Duration::from_secs(3)));
        let error = Error::from(Status::with_error_details(
            Code::FailedPrecondition,
            "declined: insufficient funds",
            details,
        ));
        assert_eq!(error.to_string(), "declined: insufficient funds (INSUFFICIENT_FUNDS)");
        assert_eq!(error.code_name(), "FAILED_PRECONDITION");
        assert_eq!(error.reason(), Some("INSUFFICIENT_FUNDS"));
        assert_eq!(error.domain(), Some("bank.local"));
        assert_eq!(error.metadata()["account_id"], "a1");
        assert_eq!(error.retry_delay(), Some(Duration::from_secs(3)));
        assert!(error.is_transient());

        let bad = Error::from(Status::with_error_details(
            Code::InvalidArgument,
            "invalid request",
            ErrorDetails::with_bad_request(vec![
                FieldViolation::new("email", "must contain @"),
                FieldViolation::new("password", "too short"),
            ]),
        ));
        assert_eq!(bad.to_string(), "invalid request (INVALID_ARGUMENT)");
        let fields: Vec<_> = bad.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["email", "password"]);
        assert!(!bad.is_transient());
    }
}
