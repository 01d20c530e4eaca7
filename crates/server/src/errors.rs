use std::fmt::Display;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The `google.rpc.ErrorInfo.domain` of every error the bank returns.
pub const ERROR_DOMAIN: &str = "bank.local";

/// A machine-readable reason, UPPER_SNAKE_CASE, carried in
/// `google.rpc.ErrorInfo.reason` (for example `INSUFFICIENT_FUNDS`).
pub type Reason = &'static str;

/// Collects every problem of one request before answering, so a client sees
/// all field errors at once (google.rpc.BadRequest), not one per round trip.
#[derive(Debug, Default)]
pub struct FieldViolations(Vec<FieldViolation>);

impl FieldViolations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (the proto field path, e.g. `email`) is invalid.
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records the error of a parse result and returns its value, if any.
    pub fn check<T, E: Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Whether no violation was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded, else INVALID_ARGUMENT with a
    /// google.rpc.BadRequest listing every violation.
    pub fn into_result(self) -> Result<(), Status> {
        if self.0.is_empty() {
            return Ok(());
        }
        let summary = self
            .0
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        Err(Status::with_error_details(
            Code::InvalidArgument,
            format!("invalid request: {summary}"),
            ErrorDetails::with_bad_request(self.0),
        ))
    }
}

fn with_reason(code: Code, reason: Reason, message: impl Into<String>, metadata: Vec<(String, String)>) -> Status {
    let metadata: std::collections::HashMap<String, String> = metadata.into_iter().collect();
    Status::with_error_details(
        code,
        message,
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata),
    )
}

/// FAILED_PRECONDITION: the request is valid but the system's state refuses
/// it (insufficient funds, frozen account). Carries google.rpc.ErrorInfo.
pub fn failed_precondition(reason: Reason, message: impl Into<String>, metadata: Vec<(String, String)>) -> Status {
    with_reason(Code::FailedPrecondition, reason, message, metadata)
}

/// ALREADY_EXISTS with google.rpc.ErrorInfo.
pub fn already_exists(reason: Reason, message: impl Into<String>) -> Status {
    with_reason(Code::AlreadyExists, reason, message, Vec::new())
}

/// NOT_FOUND with google.rpc.ErrorInfo.
pub fn not_found(reason: Reason, message: impl Into<String>) -> Status {
    with_reason(Code::NotFound, reason, message, Vec::new())
}

/// UNAUTHENTICATED with google.rpc.ErrorInfo.
pub fn unauthenticated(reason: Reason, message: impl Into<String>) -> Status {
    with_reason(Code::Unauthenticated, reason, message, Vec::new())
}

/// PERMISSION_DENIED with google.rpc.ErrorInfo.
pub fn permission_denied(reason: Reason, message: impl Into<String>) -> Status {
    with_reason(Code::PermissionDenied, reason, message, Vec::new())
}

/// RESOURCE_EXHAUSTED with google.rpc.ErrorInfo and google.rpc.RetryInfo
/// saying when to try again (the gateway turns it into `Retry-After`).
pub fn resource_exhausted(reason: Reason, message: impl Into<String>, retry_after: Duration) -> Status {
    let mut details = ErrorDetails::with_retry_info(Some(retry_after));
    details.set_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new());
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

/// UNAVAILABLE: a dependency is down; the caller may retry (with the same
/// request id). The cause is logged here, once, and not sent to the caller.
pub fn unavailable(context: &str, error: impl Display) -> Status {
    tracing::warn!(context, %error, "dependency unavailable");
    Status::unavailable(format!("{context}: temporarily unavailable, retry later"))
}

/// INTERNAL: a fault the caller cannot fix. The cause is logged here, once,
/// with `context`; the caller gets only the context.
pub fn internal(context: &str, error: impl Display) -> Status {
    tracing::error!(context, %error, "internal error");
    Status::internal(format!("internal error: {context}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_become_bad_request_details() {
        let mut v = FieldViolations::new();
        assert!(v.check::<u8, &str>("email", Err("must contain @")).is_none());
        v.add("password", "too short");
        let status = v.into_result().expect_err("violations");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let fields: Vec<_> = details
            .bad_request()
            .expect("bad request")
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["email", "password"]);
    }

    #[test]
    fn exhausted_carries_retry_info_and_reason() {
        let status = resource_exhausted("LOGIN_THROTTLED", "slow down", Duration::from_secs(30));
        let details = status.get_error_details();
        assert_eq!(
            details.retry_info().and_then(|r| r.retry_delay),
            Some(Duration::from_secs(30))
        );
        assert_eq!(details.error_info().map(|i| i.reason.as_str()), Some("LOGIN_THROTTLED"));
    }
}
